"""The home network of an OpenSEG gateway: which client addresses it may answer (LBNL OpenSEG: only
requests from the same home network are served)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable


class HomeNetworkError(ValueError):
    """A home network or client address that is not an IP network / address."""


class HomeNetwork:
    def __init__(self, networks: Iterable[str]) -> None:
        try:
            self.networks = tuple(ipaddress.ip_network(n, strict=False) for n in networks)
        except ValueError as exc:
            raise HomeNetworkError(f"home network: {exc}") from None
        if not self.networks:
            raise HomeNetworkError("home network: at least one network is needed")

    def contains(self, address: str | None) -> bool:
        """True when *address* is inside a home network; unknown or unparseable addresses are outside."""
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address.split("%")[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self.networks)

    def __repr__(self) -> str:
        return f"HomeNetwork({', '.join(str(n) for n in self.networks)})"

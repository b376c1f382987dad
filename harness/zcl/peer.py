"""The other end of a ZCL conversation: an address and endpoint, as the ZCL engine's send path takes them.

The golden ESI's services and the reference devices' SE clients both remember whom to answer later (a
report, a Message Confirmation) by the sender of a packet they received.
"""

from __future__ import annotations

import dataclasses

import zigpy.types as t

Address = t.AddrModeAddress | t.NWK | t.EUI64 | int


@dataclasses.dataclass(frozen=True)
class Peer:
    """An endpoint to send to (the address as the ZCL engine's send path understands it)."""

    address: Address
    endpoint: int = 1


def peer_of(packet: t.ZigbeePacket) -> Peer:
    """The sender of a received packet, as a Peer to answer later."""
    # zigpy leaves src unset only on packets we send; a received one always names its sender.
    if packet.src is None or packet.src_ep is None:
        raise ValueError("received packet names no source address or endpoint")
    return Peer(packet.src, int(packet.src_ep))


def same_address(a: Address | None, b: Address | None) -> bool:
    """True when two addresses name the same node (AddrModeAddress vs a bare NWK/IEEE compare by value)."""
    def bare(x: Address | None) -> object:
        return x.address if isinstance(x, t.AddrModeAddress) else x

    return bare(a) == bare(b)

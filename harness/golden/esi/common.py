"""What every golden ESI service shares: the peer it talks to, its findings, and an observation log that
steps can wait on with a deadline on the bench clock.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Generic, TypeVar

import zigpy.types as t

from harness.clock import ZCL_EPOCH, Clock, DeadlineExceeded

T = TypeVar("T")

Address = t.AddrModeAddress | t.NWK | t.EUI64 | int


@dataclasses.dataclass(frozen=True)
class Peer:
    """A DUT endpoint the golden sends to (the address as the ZCL engine's send path understands it)."""

    address: Address
    endpoint: int = 1


def peer_of(packet: t.ZigbeePacket) -> Peer:
    """The sender of a received packet, as a Peer to answer later."""
    return Peer(packet.src, int(packet.src_ep))


def same_address(a: Address | None, b: Address | None) -> bool:
    """True when two addresses name the same node (AddrModeAddress vs a bare NWK/IEEE compare by value)."""
    def bare(x: Address | None) -> object:
        return x.address if isinstance(x, t.AddrModeAddress) else x

    return bare(a) == bare(b)


def utc_seconds(clock: Clock) -> float:
    """The clock's time as fractional ZCL UTC seconds (arrival times keep sub-second precision)."""
    return (clock.now() - ZCL_EPOCH).total_seconds()


@dataclasses.dataclass(frozen=True)
class EsiFinding:
    """Something a DUT sent to a golden service that breaks a rule the service checks; kept with its bytes."""

    service: str
    reason: str
    raw: bytes = b""
    source: str = ""

    def __str__(self) -> str:
        return f"{self.service}: {self.reason} from {self.source or '?'} (raw {self.raw.hex()})"


class ObservationLog(Generic[T]):
    """An append-only list of observations; `wait` resolves when a matching one arrives (or already has)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.items: list[T] = []
        self._waiters: list[tuple[Callable[[T], bool], asyncio.Future[T]]] = []

    def append(self, item: T) -> None:
        self.items.append(item)
        for predicate, future in list(self._waiters):
            if not future.done() and predicate(item):
                future.set_result(item)

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    async def wait(self, predicate: Callable[[T], bool], timeout: float, what: str) -> T:
        """The first observation matching `predicate`; DeadlineExceeded naming `what` after `timeout` s."""
        for item in self.items:
            if predicate(item):
                return item
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        entry = (predicate, future)
        self._waiters.append(entry)
        try:
            return await self._clock.wait_for(future, timeout, what)
        finally:
            self._waiters.remove(entry)


__all__ = ["DeadlineExceeded", "EsiFinding", "ObservationLog", "Peer", "peer_of", "same_address", "utc_seconds"]

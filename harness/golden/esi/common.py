"""What every golden ESI service shares: the peer it talks to, its findings, and an observation log that
steps can wait on with a deadline on the bench clock.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Generic, TypeVar

from harness.clock import ZCL_EPOCH, Clock, DeadlineExceeded
from harness.zcl.peer import Peer, peer_of, same_address

T = TypeVar("T")

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

"""DUT-side Time client: reads Time and TimeStatus from the ESI and keeps a network-time offset.

SE-FACTS "Time": the ESI's Time server carries 0x0000 Time and 0x0001 TimeStatus (bit0 master, bit1
synchronized); SE devices take network time from the ESI. The offset is taken only from a server that
says it is a master or synchronized; every other client of the device reads time through `utc()`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from zigpy.zcl.foundation import Status

from harness.clock import ZCL_EPOCH, Clock
from harness.devices.clients.common import Peer
from harness.se.clusters import Time
from harness.se.types import TimeStatus
from harness.zcl import ZclEngine


class TimeSyncError(RuntimeError):
    """The ESI did not give a usable time (attribute missing or TimeStatus neither master nor synchronized)."""


@dataclasses.dataclass
class TimeClientFaults:
    """Seeded non-conformances (all off = conformant)."""

    #: Reads the ESI's time but keeps running on the device's own clock.
    ignore_esi_time: bool = False


class TimeClient:
    """The device's network time: its own `clock` plus the offset learnt from the ESI."""

    def __init__(self, engine: ZclEngine, clock: Clock, *, endpoint: int = 1,
                 faults: TimeClientFaults | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.endpoint = endpoint
        self.faults = faults or TimeClientFaults()
        self.offset = 0.0
        self.synchronized = False
        self._listeners: list[Callable[[], None]] = []

    def utc_seconds(self) -> float:
        """Network time as fractional ZCL UTC seconds."""
        return (self.clock.now() - ZCL_EPOCH).total_seconds() + self.offset

    def utc(self) -> int:
        """Network time as ZCL UTCTime."""
        return int(self.utc_seconds())

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` whenever the network time jumps (timers that wait for a UTC moment re-arm)."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def synchronize(self, esi: Peer, *, timeout: float = 5.0) -> float:
        """Read Time and TimeStatus from the ESI and adopt its time; returns the offset now in use."""
        records = await self.engine.read_attributes(
            esi.address, esi.endpoint, Time.cluster_id, [Time.AttributeDefs.time.id, Time.AttributeDefs.time_status.id],
            src_ep=self.endpoint, timeout=timeout,
        )
        values = {int(r.attrid): r.value.value for r in records if r.status == Status.SUCCESS}
        if Time.AttributeDefs.time.id not in values:
            raise TimeSyncError("the ESI's Time server did not return the Time attribute")
        status = int(values.get(Time.AttributeDefs.time_status.id, 0))
        if not status & (TimeStatus.Master | TimeStatus.Synchronized):
            raise TimeSyncError(f"the ESI's TimeStatus 0x{status:02X} is neither master nor synchronized")
        if not self.faults.ignore_esi_time:
            local = (self.clock.now() - ZCL_EPOCH).total_seconds()
            self.offset = int(values[Time.AttributeDefs.time.id]) - int(local)
            self.synchronized = True
        for listener in list(self._listeners):
            listener()
        return self.offset

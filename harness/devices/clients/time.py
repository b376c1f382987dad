"""DUT-side Time client: reads Time and TimeStatus from the ESI and keeps a network-time offset.

SE-FACTS "Time": the ESI's Time server carries 0x0000 Time and 0x0001 TimeStatus (bit0 master, bit1
synchronized); SE devices take network time from the ESI. The offset is taken only from a server that
says it is a master or synchronized; every other client of the device reads time through `utc()`.

Rules (checked against DSR ZBOSS zcl_time.c, zb_zcl_time_sync_get_auth_level: a server with the Master bit,
or else the Synchronized bit, is chosen, one with Master and Superseding first; a server with neither is not
chosen):
- a TimeStatus with neither Master nor Synchronized is not taken, whatever its other bits;
- the device takes the time again every `resync_period` seconds (`start_resync`), in either direction (a
  backward step of the ESI's clock is taken like a forward one: the ESI is the network's clock);
- a device that shows local time (`local_time`) also reads TimeZone, DstStart, DstEnd and DstShift
  (0x0002-0x0005) and derives local time from them (ZCL Time cluster: LocalTime = Time + TimeZone, + DstShift
  between DstStart and DstEnd).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable

from zigpy.zcl.foundation import Status

from harness.clock import ZCL_EPOCH, Clock
from harness.devices.clients.common import Peer
from harness.se.clusters import Time
from harness.se.types import TimeStatus
from harness.zcl import ZclEngine

_TIME, _STATUS = Time.AttributeDefs.time.id, Time.AttributeDefs.time_status.id
_ZONE, _DST_START, _DST_END, _DST_SHIFT = (Time.AttributeDefs.time_zone.id, Time.AttributeDefs.dst_start.id,
                                           Time.AttributeDefs.dst_end.id, Time.AttributeDefs.dst_shift.id)
#: TimeZone, DstStart, DstEnd, DstShift: what a device that shows local time reads besides Time.
LOCAL_TIME_READS = (_ZONE, _DST_START, _DST_END, _DST_SHIFT)


class TimeSyncError(RuntimeError):
    """The ESI did not give a usable time (attribute missing or TimeStatus neither master nor synchronized)."""


@dataclasses.dataclass
class TimeClientFaults:
    """Seeded non-conformances (all off = conformant)."""

    #: Reads the ESI's time but keeps running on the device's own clock.
    ignore_esi_time: bool = False
    #: Takes the time whatever TimeStatus says.
    ignore_time_status: bool = False
    #: Takes the time only when TimeStatus has both Master and Synchronized.
    require_master_and_synchronized: bool = False
    #: Takes the time once, after joining, and never again.
    no_resync: bool = False
    #: At a resynchronisation, takes a time ahead of its own only (keeps its clock when the ESI's went back).
    forward_only: bool = False
    #: At a resynchronisation, reads Time alone and trusts the TimeStatus it read when it joined.
    resync_without_status: bool = False
    #: Shows local time from TimeZone alone: never reads DstStart, DstEnd, DstShift.
    local_time_without_dst: bool = False
    #: Takes a Time server that does not carry TimeStatus for a master one.
    missing_status_is_master: bool = False
    #: Shows local time with TimeZone subtracted instead of added (UTC-5 h shown as UTC+5 h).
    zone_sign_inverted: bool = False


class TimeClient:
    """The device's network time: its own `clock` plus the offset learnt from the ESI."""

    def __init__(self, engine: ZclEngine, clock: Clock, *, endpoint: int = 1, local_time: bool = False,
                 faults: TimeClientFaults | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.endpoint = endpoint
        self.faults = faults or TimeClientFaults()
        self.offset = 0.0
        self.synchronized = False
        #: Whether the device shows local time (reads the ESI's time zone and DST attributes).
        self.local_time = local_time
        self.zone: dict[int, int] = {}
        self._listeners: list[Callable[[], None]] = []
        self._resync: asyncio.Task[None] | None = None
        self._status: int | None = None  # the TimeStatus last read

    def utc_seconds(self) -> float:
        """Network time as fractional ZCL UTC seconds."""
        return (self.clock.now() - ZCL_EPOCH).total_seconds() + self.offset

    def utc(self) -> int:
        """Network time as ZCL UTCTime."""
        return int(self.utc_seconds())

    def local(self) -> int | None:
        """Local time as the device shows it (None before it learnt the ESI's time zone)."""
        if _ZONE not in self.zone:
            return None
        now = self.utc()
        shift = 0
        start, end = self.zone.get(_DST_START), self.zone.get(_DST_END)
        if start is not None and end is not None and start <= now < end:
            shift = self.zone.get(_DST_SHIFT, 0)
        zone = -self.zone[_ZONE] if self.faults.zone_sign_inverted else self.zone[_ZONE]
        return now + zone + shift

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` whenever the network time jumps (timers that wait for a UTC moment re-arm)."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _usable(self, status: int) -> bool:
        if self.faults.ignore_time_status:
            return True
        wanted = TimeStatus.Master | TimeStatus.Synchronized
        if self.faults.require_master_and_synchronized:
            return status & wanted == wanted
        return bool(status & wanted)

    async def synchronize(self, esi: Peer, *, timeout: float = 5.0, resync: bool = False) -> float:
        """Read Time and TimeStatus from the ESI and adopt its time; returns the offset now in use."""
        with_status = not (resync and self.faults.resync_without_status and self._status is not None)
        attributes = [_TIME, _STATUS] if with_status else [_TIME]
        records = await self.engine.read_attributes(
            esi.address, esi.endpoint, Time.cluster_id, attributes, src_ep=self.endpoint, timeout=timeout,
        )
        values = {int(r.attrid): r.value.value for r in records if r.status == Status.SUCCESS}
        if _TIME not in values:
            raise TimeSyncError("the ESI's Time server did not return the Time attribute")
        if with_status:
            absent = TimeStatus.Master if self.faults.missing_status_is_master else 0
            self._status = int(values.get(_STATUS, absent))
        status = self._status or 0
        if not self._usable(status):
            raise TimeSyncError(f"the ESI's TimeStatus 0x{status:02X} is neither master nor synchronized")
        if not self.faults.ignore_esi_time:
            local = (self.clock.now() - ZCL_EPOCH).total_seconds()
            offset = int(values[_TIME]) - int(local)
            if not (self.faults.forward_only and self.synchronized and offset < self.offset):
                self.offset = offset
            self.synchronized = True
        if self.local_time:
            await self._read_zone(esi, timeout)
        for listener in list(self._listeners):
            listener()
        return self.offset

    async def _read_zone(self, esi: Peer, timeout: float) -> None:
        wanted = LOCAL_TIME_READS[:1] if self.faults.local_time_without_dst else LOCAL_TIME_READS
        records = await self.engine.read_attributes(esi.address, esi.endpoint, Time.cluster_id, list(wanted),
                                                    src_ep=self.endpoint, timeout=timeout)
        self.zone = {int(r.attrid): int(r.value.value) for r in records if r.status == Status.SUCCESS}

    def start_resync(self, esi: Peer, period: float, *, timeout: float = 5.0,
                     on_error: Callable[[Exception], None] | None = None) -> None:
        """Take the ESI's time again every `period` seconds (until `close`)."""
        self.close()
        if self.faults.no_resync:
            return

        async def resync() -> None:
            while True:
                await self.clock.sleep(period)
                try:
                    await self.synchronize(esi, timeout=timeout, resync=True)
                except Exception as exc:  # the ESI may be away for a while: try again next period
                    if on_error is not None:
                        on_error(exc)

        self._resync = self.clock.loop.create_task(resync())

    def close(self) -> None:
        if self._resync is not None:
            self._resync.cancel()
            self._resync = None

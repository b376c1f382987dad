"""Golden Time server (cluster 0x000A): the network clock every SE device takes its time from.

SE-FACTS "Time": attribute 0x0000 Time (UTCTime, mandatory) and 0x0001 TimeStatus (map8: bit0 master,
bit1 synchronized, bit2 master zone/DST, bit3 superseding); SE devices take network time from the ESI.

The Time attribute is read from the bench clock at the moment a Read Attributes arrives, so it is exact in
virtual time without a once-a-second refresh timer (24 simulated hours would otherwise cost 86 400 wakeups).
`offset` shifts the served time from the bench clock, which lets a scenario prove that a DUT takes its
time from the ESI rather than from its own clock.
"""

from __future__ import annotations

import zigpy.types as t

from harness.clock import Clock
from harness.se.clusters import Time
from harness.se.datamodel import Side
from harness.se.types import TimeStatus
from harness.zcl import AttributeKey, ZclEngine
from harness.zcl.store import AttributeEntry

#: TimeZone (int32 s), DstStart (u32 UTC), DstEnd (u32 UTC), DstShift (int32 s): what a device that shows local time
#: reads (ZCL Time cluster; SE-FACTS "Time"). The golden serves them with `set_zone`.
ZONE_ATTRIBUTES = tuple(a.id for a in (Time.AttributeDefs.time_zone, Time.AttributeDefs.dst_start,
                                       Time.AttributeDefs.dst_end, Time.AttributeDefs.dst_shift))


class _ClockedTimeEntry(AttributeEntry):
    """The Time attribute entry, whose value is the bench clock (+ offset) whenever it is read.

    An AttributeStore entry is a plain dataclass holding a value; re-classing the one Time entry to this
    subclass makes `value` a property, so the engine's normal Read Attributes path serves the live clock.
    Writing the value (AttributeStore.set) moves the offset instead, as setting a real clock would.
    """

    clock: Clock
    offset: int

    @property  # type: ignore[override]
    def value(self) -> t.UTCTime:
        return t.UTCTime(self.clock.zcl_utc() + self.offset)

    @value.setter
    def value(self, new: int) -> None:
        if hasattr(self, "clock"):
            self.offset = int(new) - self.clock.zcl_utc()


class TimeServer:
    """The ESI's Time server on `endpoint` of `engine`, serving `clock`."""

    def __init__(
        self,
        engine: ZclEngine,
        clock: Clock,
        *,
        endpoint: int = 1,
        status: TimeStatus = TimeStatus.Master | TimeStatus.Synchronized,
        offset: int = 0,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.endpoint = endpoint
        store = engine.store
        # Carried afresh even where the golden's store has the cluster: its time zone and DST attributes too.
        store.add_cluster(endpoint, Time.cluster_id, Side.SERVER,
                          attributes=[Time.AttributeDefs.time_status.id, *ZONE_ATTRIBUTES])
        self._time_key = AttributeKey(endpoint, Time.cluster_id, Side.SERVER, Time.AttributeDefs.time.id)
        self._status_key = AttributeKey(endpoint, Time.cluster_id, Side.SERVER,
                                        Time.AttributeDefs.time_status.id)
        entry = store.entry(self._time_key)
        assert entry is not None  # Time is mandatory in the data model, so add_cluster created it
        entry.__class__ = _ClockedTimeEntry
        clocked: _ClockedTimeEntry = entry  # type: ignore[assignment]
        clocked.clock = clock
        clocked.offset = offset
        self._entry = clocked
        store.set(self._status_key, status)

    @property
    def offset(self) -> int:
        """Seconds the served time is ahead of the bench clock."""
        return self._entry.offset

    @offset.setter
    def offset(self, seconds: int) -> None:
        self._entry.offset = int(seconds)

    def time(self) -> int:
        """The ZCL UTC time this server serves now."""
        return int(self._entry.value)

    @property
    def status(self) -> TimeStatus:
        return TimeStatus(self.engine.store.get(self._status_key))

    @status.setter
    def status(self, value: TimeStatus) -> None:
        self.engine.store.set(self._status_key, value)

    def drop_status(self) -> None:
        """Carry no TimeStatus attribute (a test hook: a read of it is answered UNSUPPORTED_ATTRIBUTE)."""
        self.engine.store.remove_attribute(self._status_key)

    def zone(self) -> tuple[int, int, int, int]:
        """TimeZone, DstStart, DstEnd and DstShift as this server serves them now."""
        store = self.engine.store
        zone, start, end, shift = (int(store.get(AttributeKey(self.endpoint, Time.cluster_id, Side.SERVER, attr_id)))
                                   for attr_id in ZONE_ATTRIBUTES)
        return zone, start, end, shift

    def set_zone(self, time_zone: int, dst_start: int, dst_end: int, dst_shift: int) -> None:
        """Serve a time zone (seconds east of UTC) and a daylight saving period (UTC) with its shift (seconds)."""
        for attr_id, value in zip(ZONE_ATTRIBUTES, (time_zone, dst_start, dst_end, dst_shift), strict=True):
            self.engine.store.set(AttributeKey(self.endpoint, Time.cluster_id, Side.SERVER, attr_id), value)

"""The reference Time server (cluster 0x000A), device side: the ESI's clock.

Time is the device's clock (plus the offset a write of Time sets) at each read; TimeStatus says what the profile
claims (Master, Synchronized, MasterZoneDst: PICS options SE.TIME.S.MASTER, .SYNCHRONIZED, .MASTERZONEDST). The
reference ESI keeps New Zealand time (TimeZone +12 h, DST +1 h from the last Sunday of September 02:00 to the
first Sunday of April 03:00 local), so its daylight saving is in force in a southern summer and StandardTime and
LocalTime show whether DST is applied.

Rules (ZCL 07-5123 3.12.2.2, SE-FACTS "Time"; DSR ZBOSS zcl_time.c): StandardTime = Time + TimeZone; LocalTime =
StandardTime + DstShift while DstStart <= Time < DstEnd; Synchronized is 0 when Master is 1.

Written apart from the golden's Time server (harness/golden/esi/time.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from harness.clock import ZCL_EPOCH
from harness.se.clusters import Time
from harness.se.types import TimeStatus

from ..faults import FaultSet
from ..server_faults import (
    CLOCK_BEHIND,
    DST_SEASON_SPANS_YEARS,
    LOCAL_TIME_IGNORES_DST,
    TIME_STATUS_MISSING,
    TIME_STATUS_SYNCHRONIZED_WITH_MASTER,
)
from .base import LiveStore, ServerCluster, ServerHost

ATTRS = Time.AttributeDefs
#: A year of 365 days (s): how late the dst-season-spans-years fault serves DstEnd.
YEAR = 365 * 86_400
#: New Zealand: UTC+12, DST +1 h.
TIME_ZONE, DST_SHIFT = 12 * 3600, 3600
#: How far behind a clock with CLOCK_BEHIND runs (s).
BEHIND = 300


def _zcl(moment: datetime) -> int:
    return int((moment - ZCL_EPOCH).total_seconds())


def _last_sunday(year: int, month: int) -> datetime:
    day = datetime(year, month + 1, 1, tzinfo=UTC) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def _first_sunday(year: int, month: int) -> datetime:
    day = datetime(year, month, 1, tzinfo=UTC)
    return day + timedelta(days=(6 - day.weekday()) % 7)


def dst_season(utc: int) -> tuple[int, int]:
    """(DstStart, DstEnd) in ZCL UTC of the New Zealand daylight saving season in force at *utc* or next."""
    year = (ZCL_EPOCH + timedelta(seconds=utc)).year
    for start_year in (year - 1, year):
        start = _last_sunday(start_year, 9) + timedelta(hours=2) - timedelta(seconds=TIME_ZONE)
        end = _first_sunday(start_year + 1, 4) + timedelta(hours=3) - timedelta(seconds=TIME_ZONE + DST_SHIFT)
        if _zcl(end) > utc:
            return _zcl(start), _zcl(end)
    raise AssertionError("a season ends after any moment")  # the loop's second year always does


class TimeServer(ServerCluster):
    """The ESI's Time server."""

    cluster = Time

    def __init__(self, faults: FaultSet, endpoint: int, *, seed: int = 0, status: int = TimeStatus.Master) -> None:
        super().__init__(faults, endpoint, seed=seed)
        self.status = status
        self.offset = 0

    def attribute_values(self) -> dict[int, object]:
        return {ATTRS.time.id: 0, ATTRS.time_status.id: self.status, ATTRS.time_zone.id: TIME_ZONE,
                ATTRS.dst_start.id: 0, ATTRS.dst_end.id: 0, ATTRS.dst_shift.id: DST_SHIFT,
                ATTRS.standard_time.id: 0, ATTRS.local_time.id: 0}

    def seed_attribute_faults(self, store) -> None:
        status = self.key(ATTRS.time_status.id)
        notes: list = []
        if self.faults.acts(TIME_STATUS_MISSING, notes.append):
            store.remove_attribute(status)
        for note in notes:
            store.watch(status, note)

    def attach(self, host: ServerHost) -> None:
        super().attach(host)
        store = host.store
        if not isinstance(store, LiveStore):
            raise TypeError("the Time server needs a LiveStore (servers/base.py) to serve its clock")
        # Every value is made when it is read, so a fault is consulted only where a case reads what it alters.
        store.live(self.key(ATTRS.time.id), self.now)
        store.live(self.key(ATTRS.time_status.id), self.time_status)
        store.live(self.key(ATTRS.dst_start.id), lambda: dst_season(self.now())[0])
        store.live(self.key(ATTRS.dst_end.id), self.dst_end)
        store.live(self.key(ATTRS.standard_time.id), lambda: self.now() + TIME_ZONE)
        store.live(self.key(ATTRS.local_time.id), self.local_time)

    def now(self) -> int:
        """The ESI's UTC (ZCL UTCTime)."""
        behind = BEHIND if self.faults.has(CLOCK_BEHIND) else 0
        return self.attached.clock.zcl_utc() + self.offset - behind

    def dst_end(self) -> int:
        end = dst_season(self.now())[1]
        return end + YEAR if self.faults.has(DST_SEASON_SPANS_YEARS) else end

    def time_status(self) -> int:
        status = self.status
        if status & TimeStatus.Master and self.faults.has(TIME_STATUS_SYNCHRONIZED_WITH_MASTER):
            status |= TimeStatus.Synchronized
        return status

    def local_time(self) -> int:
        now = self.now()
        start, end = dst_season(now)
        in_dst = start <= now < end and not self.faults.has(LOCAL_TIME_IGNORES_DST)
        return now + TIME_ZONE + (DST_SHIFT if in_dst else 0)

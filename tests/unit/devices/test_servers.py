"""Pieces of the reference servers (harness/devices/servers) a suite run exercises only on a few dates."""

from __future__ import annotations

from datetime import UTC, datetime

from harness.clock import zcl_utc_from_datetime
from harness.devices.servers.time import dst_season


def _zcl(*args: int) -> int:
    return zcl_utc_from_datetime(datetime(*args, tzinfo=UTC))


def test_the_new_zealand_season_in_force_in_january_and_the_next_one_in_june():
    start, end = dst_season(_zcl(2026, 1, 1))
    # Last Sunday of September 2025, 02:00 NZST (14:00 UTC the day before); first Sunday of April 2026, 03:00 NZDT.
    assert (start, end) == (_zcl(2025, 9, 27, 14), _zcl(2026, 4, 4, 14))
    start, end = dst_season(_zcl(2026, 6, 1))
    assert start > _zcl(2026, 6, 1) and end == _zcl(2027, 4, 3, 14)

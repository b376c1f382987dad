"""The gateway's circular cache of meter readings: it holds the last *window* seconds, evicting older ones
as new readings arrive (LBNL OpenSEG: a secure 48-hour circular data cache)."""

from __future__ import annotations

import bisect
import dataclasses
import struct
import zlib
from collections import deque


@dataclasses.dataclass(frozen=True, slots=True)
class Reading:
    time: float  # Unix seconds when the meter answered
    summation: int  # CurrentSummationDelivered, raw
    demand: int  # InstantaneousDemand, raw


class ReadingCache:
    def __init__(self, window_seconds: float) -> None:
        if window_seconds <= 0:
            raise ValueError(f"cache window must be positive, got {window_seconds}")
        self.window = float(window_seconds)
        self._readings: deque[Reading] = deque()

    def append(self, reading: Reading) -> None:
        if self._readings and reading.time < self._readings[-1].time:
            raise ValueError(f"reading at {reading.time} is older than the newest cached {self._readings[-1].time}")
        self._readings.append(reading)
        self.evict(reading.time)

    def evict(self, now: float) -> None:
        horizon = now - self.window
        while self._readings and self._readings[0].time < horizon:
            self._readings.popleft()

    def latest(self) -> Reading | None:
        return self._readings[-1] if self._readings else None

    def snapshot(self) -> tuple[list[float], list[Reading]]:
        """(times, readings), oldest first: one copy to bisect in many times."""
        readings = list(self._readings)
        return [r.time for r in readings], readings

    def between(self, start: float, end: float) -> list[Reading]:
        """Readings with start <= time <= end, oldest first."""
        times, readings = self.snapshot()
        return readings[bisect.bisect_left(times, start):bisect.bisect_right(times, end)]

    def __len__(self) -> int:
        return len(self._readings)


# -- The cache's non-volatile copy (a gateway's flash) ---------------------------------------------------------
#
# A record per reading: time (float64), summation (uint64), demand (int32), then the CRC-32 of those 20 bytes.
# A power cut may tear the record being written: the bench models the worst case, every cut tears the newest
# record (its bytes after the time read as erased flash, 0xFF). A gateway that checks each record's CRC when it
# restores its cache drops the torn one; one that does not serves a reading the meter never measured.

_RECORD = struct.Struct("<dQi")
_CRC = struct.Struct("<I")
RECORD_SIZE = _RECORD.size + _CRC.size


def to_records(cache: ReadingCache, *, torn_last: bool = True) -> list[bytes]:
    """The cache as flash records, oldest first, the newest one torn by the power cut when *torn_last*."""
    records = []
    for reading in cache.snapshot()[1]:
        body = _RECORD.pack(reading.time, reading.summation, reading.demand)
        records.append(body + _CRC.pack(zlib.crc32(body)))
    if torn_last and records:
        records[-1] = records[-1][:8] + b"\xff" * (RECORD_SIZE - 8)
    return records


def from_records(records: list[bytes], window_seconds: float, *, checked: bool = True) -> ReadingCache:
    """A cache rebuilt from flash records; *checked* drops every record whose CRC does not match."""
    cache = ReadingCache(window_seconds)
    for record in records:
        body, (crc,) = record[:_RECORD.size], _CRC.unpack(record[_RECORD.size:RECORD_SIZE])
        if checked and zlib.crc32(body) != crc:
            continue
        time, summation, demand = _RECORD.unpack(body)
        cache.append(Reading(time, summation, demand))
    return cache

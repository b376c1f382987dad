"""The gateway's circular cache of meter readings: it holds the last *window* seconds, evicting older ones
as new readings arrive (LBNL OpenSEG: a secure 48-hour circular data cache)."""

from __future__ import annotations

import bisect
import dataclasses
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

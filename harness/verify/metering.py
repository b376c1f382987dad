"""Judges of a Simple Metering server's behaviour over time: its reports against the configuration, and the
intervals of its load profile against the register's progress as the golden read it.

Times are fractional ZCL UTC seconds on the bench clock. A register updated every *update* seconds shows, at any
moment t, the energy measured up to some moment in [t - update, t]; the DUT's clock may differ from the bench's
by *tolerance*. From readings taken before and after a span the judges derive bounds that any honest interval or
report schedule stays inside, so they can fail only a meter that breaks the rule (SE-FACTS "Metering"; ZCL
07-5123 2.5.7-2.5.11).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class Reading(Protocol):
    @property
    def sent(self) -> float: ...
    @property
    def arrived(self) -> float: ...
    @property
    def value(self) -> int: ...


class Report(Protocol):
    @property
    def at(self) -> float: ...
    @property
    def value(self) -> int: ...


#: The register counts whole raw units: an interval computed from two of them may be one unit off either way.
ROUNDING = 1


@dataclass(frozen=True)
class Bounds:
    low: int
    high: int

    def __contains__(self, value: int) -> bool:
        return self.low - ROUNDING <= value <= self.high + ROUNDING


def interval_bounds(readings: Sequence[Reading], start: float, end: float, update: float,
                    tolerance: float) -> Bounds | None:
    """What the register's readings allow the consumption in [start, end] to be; None when the readings do not
    reach before the span's start and after its end."""
    # energy(end) >= a reading that arrived by end; energy(start) <= a reading sent once the register could show it.
    by_end = [r for r in readings if r.arrived <= end - tolerance]
    after_start = [r for r in readings if r.sent >= start + update + tolerance]
    # energy(end) <= a reading sent once the register could show it; energy(start) >= a reading that arrived by start.
    after_end = [r for r in readings if r.sent >= end + update + tolerance]
    by_start = [r for r in readings if r.arrived <= start - tolerance]
    if not (by_end and after_start and after_end and by_start):
        return None
    return Bounds(by_end[-1].value - after_start[0].value, after_end[0].value - by_start[-1].value)


def decreases(readings: Sequence[Reading]) -> list[str]:
    """Each reading lower than the one before it, described."""
    return [f"{later.value} at {later.arrived:.0f} after {earlier.value} at {earlier.arrived:.0f}"
            for earlier, later in zip(readings, readings[1:], strict=False) if later.value < earlier.value]


@dataclass(frozen=True)
class ReportingRule:
    """A reporting configuration as the golden sent it, and how exactly its schedule can be judged."""

    min_interval: int
    max_interval: int
    change: int
    tolerance: float
    update: float

    @property
    def periodic(self) -> bool:
        return self.max_interval not in (0, 0xFFFF)


def reporting_problems(rule: ReportingRule, reports: Sequence[Report], readings: Sequence[Reading],
                       configured_at: float, watched_until: float) -> dict[str, list[str]]:
    """What breaks each reporting rule, by rule ("min", "max", "change", "late"), over a watch that ended at
    *watched_until*."""
    problems: dict[str, list[str]] = {"min": [], "max": [], "change": [], "late": []}
    tol = rule.tolerance
    times = [configured_at, *(r.at for r in reports), watched_until]
    if rule.periodic:
        for earlier, later in zip(times, times[1:], strict=False):
            if later - earlier > rule.max_interval + tol:
                problems["max"].append(f"nothing from {earlier - configured_at:.1f} s to {later - configured_at:.1f} s "
                                       f"after the configuration")
    for first, second in zip(reports, reports[1:], strict=False):
        gap = second.at - first.at
        if rule.min_interval and gap < rule.min_interval - tol:
            problems["min"].append(f"reports {gap:.1f} s apart at {first.at - configured_at:.1f} s and "
                                   f"{second.at - configured_at:.1f} s")
        early = not rule.periodic or gap < rule.max_interval - tol
        if early and abs(second.value - first.value) < rule.change:
            problems["change"].append(f"report at {second.at - configured_at:.1f} s ({gap:.1f} s after the last) "
                                      f"changes the value by {second.value - first.value}")
    for index, report in enumerate(reports):
        changed = next((r for r in readings if r.sent >= report.at and abs(r.value - report.value) >= rule.change),
                       None)
        if changed is None:
            continue
        due = max(changed.arrived, report.at + rule.min_interval) + tol
        following = reports[index + 1] if index + 1 < len(reports) else None
        if (following is None and due < watched_until) or (following is not None and following.at > due):
            problems["late"].append(
                f"the register read {changed.value} at {changed.arrived - configured_at:.1f} s (reported "
                f"{report.value} at {report.at - configured_at:.1f} s); the next report "
                + (f"at {following.at - configured_at:.1f} s" if following is not None else "never came"))
    return problems


__all__ = ["ROUNDING", "Bounds", "ReportingRule", "decreases", "interval_bounds", "reporting_problems"]

"""Judges of a Simple Metering server's behaviour over time: its reports against the configuration, the
intervals of its load profile against the register's progress as the golden read it, and the register's progress
against the demand it served.

Times are fractional ZCL UTC seconds on the bench clock. A register updated every *update* seconds shows, at any
moment t, the energy measured up to some moment in [t - update, t]; the DUT's clock may differ from the bench's
by *tolerance*. From readings taken before and after a span the judges derive bounds that any honest interval or
report schedule stays inside, so they can fail only a meter that breaks the rule (SE-FACTS "Metering"; ZCL
07-5123 2.5.7-2.5.11).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol


class Reading(Protocol):
    @property
    def sent(self) -> float: ...
    @property
    def arrived(self) -> float: ...
    @property
    def value(self) -> int: ...


class DemandReading(Reading, Protocol):
    @property
    def demand(self) -> int: ...


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


# -- the summation against the demand served ----------------------------------------------------------------------

@dataclass(frozen=True)
class EnergyMismatch:
    """A span of readings over which the summation's rise is outside what the demand served allows; energies in raw
    summation units."""

    first: DemandReading
    last: DemandReading
    rise: int
    low: float
    high: float

    @property
    def excess(self) -> float:
        """How far outside the allowed range the rise is, in raw summation units."""
        return self.low - self.rise if self.rise < self.low else self.rise - self.high


@dataclass(frozen=True)
class EnergyJudgement:
    """How many spans of readings were judged, and those whose rise is outside what the demand allows (the shortest,
    the most local evidence, first; at each length the most outside first)."""

    spans: int
    mismatches: list[EnergyMismatch]


def judge_energy(readings: Sequence[DemandReading], period: Callable[[float], float],
                      within: tuple[float, float] | None = None) -> EnergyJudgement:
    """Judge each span between two readings (both arrived *within* [start, end) when given): the rise of
    CurrentSummationDelivered must be the energy the InstantaneousDemand served delivers.

    One Multiplier and Divisor scale both registers (raw x Multiplier / Divisor kWh and kW), so a demand of d raw
    units delivers d x seconds / 3600 raw summation units and the judge works in raw units. *period(t)* is the
    longest time between the meter's updates in force at t (DefaultUpdatePeriod, or the applied fast poll period):
    a reading shows the registers as the meter last updated them, at most that period before its request left.
    The rules, for readings i and j:
    - the load between two readings lies between the demands served from the first of them until a reading that
      certainly shows the load at the second (asked a period after it arrived): the load changes at most once, or
      steadily, in that time (a load that comes and goes unseen is beyond the readings);
    - the rise is the energy from the update reading i shows to the one reading j shows: the energy between the
      readings' arrivals, plus what the load delivered in the age of reading i's registers, less what it delivered
      in the age of reading j's (each at most a period of the highest demand served around it);
    - each register counts whole raw units: one summation unit either way, and one demand unit over the span.
    """
    n = len(readings)
    t = [r.arrived for r in readings]
    load = [max(0, r.demand) for r in readings]  # a demand received (negative) delivers nothing
    # The earliest moment each reading's registers can show: its request left, less the period then in force.
    shown_from = [r.sent - period(r.sent) for r in readings]

    def load_range(start: float, end: float) -> tuple[int, int] | None:
        """The lowest and highest demand served around [start, end]: from the last reading that arrived by start
        to the first that certainly shows the load at end (a millisecond's grace for the clocks' arithmetic);
        None where the readings do not reach that far."""
        first = bisect_right(t, start) - 1
        last = bisect_left(t, end)
        while last < n and shown_from[last] < end - 0.001:
            last += 1
        if first < 0 or last >= n:
            return None
        around = load[first:last + 1]
        return min(around), max(around)

    # Energy between consecutive readings, lowest and highest, summed from the first reading (None: not judged).
    low_sum: list[float | None] = [0.0]
    high_sum: list[float | None] = [0.0]
    for k in range(n - 1):
        bounds = load_range(t[k], t[k + 1])
        previous_low, previous_high = low_sum[-1], high_sum[-1]
        if bounds is None or previous_low is None or previous_high is None:
            low_sum.append(None)
            high_sum.append(None)
            continue
        seconds = t[k + 1] - t[k]
        low_sum.append(previous_low + bounds[0] * seconds / 3600)
        high_sum.append(previous_high + bounds[1] * seconds / 3600)
    # What the load delivered at most in the age of each reading's registers (from shown_from to its arrival).
    in_age: list[float | None] = []
    for k in range(n):
        age = t[k] - shown_from[k]
        bounds = load_range(shown_from[k], t[k])
        in_age.append(None if bounds is None else bounds[1] * age / 3600)
    start, end = within if within is not None else (float("-inf"), float("inf"))
    spans, mismatches = 0, []
    for i in range(n):
        low_i, high_i, age_i = low_sum[i], high_sum[i], in_age[i]
        if low_i is None or high_i is None or age_i is None or not start <= t[i] < end:
            continue
        for j in range(i + 1, n):
            low_j, high_j, age_j = low_sum[j], high_sum[j], in_age[j]
            if low_j is None or high_j is None or age_j is None or t[j] >= end:
                break  # the readings beyond reach no further, or the span leaves the stretch judged
            spans += 1
            slack = 1 + (t[j] - t[i]) / 3600  # one summation unit, one demand unit over the span
            low = low_j - low_i - age_j - slack
            high = high_j - high_i + age_i + slack
            rise = readings[j].value - readings[i].value
            if not low <= rise <= high:
                mismatches.append(EnergyMismatch(readings[i], readings[j], rise, low, high))
    return EnergyJudgement(spans, sorted(mismatches, key=lambda m: (round(m.last.arrived - m.first.arrived, 3),
                                                                    -m.excess)))


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


__all__ = ["ROUNDING", "Bounds", "EnergyJudgement", "EnergyMismatch", "ReportingRule", "decreases", "interval_bounds",
           "judge_energy", "reporting_problems"]

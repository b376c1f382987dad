"""The Metering judges (harness/verify/metering.py) on hand-made readings and reports: each rule passes an honest
meter and fails the one that breaks it."""

from __future__ import annotations

from dataclasses import dataclass

from harness.verify.metering import (
    EnergyJudgement,
    ReportingRule,
    decreases,
    interval_bounds,
    judge_energy,
    reporting_problems,
)


@dataclass(frozen=True)
class R:
    sent: float
    arrived: float
    value: int


@dataclass(frozen=True)
class D:
    sent: float
    arrived: float
    value: int
    demand: int


@dataclass(frozen=True)
class Rep:
    at: float
    value: int


def _register(watts: float, every: float, until: float, update: float = 5.0) -> list[R]:
    """Readings of a register (0.1 Wh units) updated every *update* s under a constant load."""
    out = []
    t = 0.0
    while t <= until:
        shown = (t // update) * update * watts / 360
        out.append(R(t, t + 0.01, int(shown)))
        t += every
    return out


def test_an_honest_interval_lies_within_the_bounds_and_a_wrong_one_does_not():
    readings = _register(1000.0, 30.0, 3600.0)
    bounds = interval_bounds(readings, 900.0, 1800.0, 5.0, 2.0)
    assert bounds is not None
    honest = int(900 * 1000 / 360)  # 2500 units in 15 minutes at 1 kW
    assert honest in bounds and 0 not in bounds and 2 * honest not in bounds


def test_no_bounds_without_readings_on_both_sides():
    assert interval_bounds(_register(1000.0, 30.0, 1000.0), 900.0, 1800.0, 5.0, 2.0) is None


def test_a_register_that_steps_back_is_found():
    readings = [R(0, 0, 10), R(1, 1, 12), R(2, 2, 11), R(3, 3, 11)]
    assert decreases(readings) == ["11 at 2 after 12 at 1"]


def test_reports_as_configured_pass_and_each_broken_rule_is_named():
    rule = ReportingRule(min_interval=10, max_interval=60, change=100, tolerance=2.0, update=5.0)
    readings = [R(t, t + 0.01, t * 3) for t in range(0, 181, 5)]  # 3 units a second
    honest = [Rep(t, t * 3) for t in range(0, 181, 35)]  # a change of 105 every 35 s: reportable, min respected
    assert not any(reporting_problems(rule, honest, readings, 0.0, 180.0).values())
    too_close = [Rep(0, 0), Rep(5, 150), Rep(40, 120)]
    assert reporting_problems(rule, too_close, readings, 0.0, 40.0)["min"]
    silent = [Rep(0, 0), Rep(100, 300)]
    problems = reporting_problems(rule, silent, readings, 0.0, 100.0)
    assert problems["max"] and problems["late"]
    small = [Rep(0, 0), Rep(20, 30)]  # before the max interval with a change of 30 < 100
    assert reporting_problems(rule, small, readings, 0.0, 20.0)["change"]


# -- the summation against the demand served ------------------------------------------------------------------

def _watts_stepping(t: float) -> float:
    """A household: 400 W, 1.2 kW from 60 s to 120 s, 3.4 kW from 150 s to 156 s."""
    return 3400.0 if 150 <= t < 156 else 1200.0 if 60 <= t < 120 else 400.0


def _meter(until: float, every: float, update: float, phase: float = 0.3, watts=_watts_stepping,
           demand_of=None, summation_scale: float = 1.0) -> list[D]:
    """Readings (0.1 Wh and 0.1 W units, Multiplier 1, Divisor 10 000) of a meter that integrates *watts* second by
    second and updates both registers every *update* s; *demand_of* maps an update's time to the time whose load
    it serves as demand (a wrong meter's)."""
    updates = [phase + k * update for k in range(int(until / update) + 2)]
    readings, t = [], 0.5
    while t <= until:
        last = max(u for u in updates if u <= t) if updates[0] <= t else 0.0
        energy = sum(watts(s / 10) * 0.1 for s in range(int(last * 10)))  # watt-seconds up to the update
        shown_at = demand_of(last) if demand_of else last
        readings.append(D(t - 0.01, t, int(energy * summation_scale // 360), int(watts(shown_at) * 10)))
        t += every
    return readings


def test_an_honest_meter_passes_however_often_it_updates_and_is_read():
    for update, every in ((5.0, 5.0), (5.0, 1.0), (1.0, 5.0), (2.0, 1.0)):
        readings = _meter(240.0, every, update)
        # The judge is told the period the meter serves (5 s); one updating more often is younger than that.
        judgement = judge_energy(readings, lambda _t: 5.0)
        assert judgement.spans > 100 and judgement.mismatches == [], (update, every)


def test_a_demand_of_another_moment_is_found():
    readings = _meter(240.0, 5.0, 5.0, demand_of=lambda u: u + 60.0)  # a minute ahead of the summation
    mismatches = judge_energy(readings, lambda _t: 5.0).mismatches
    assert mismatches and all(not m.low <= m.rise <= m.high for m in mismatches)
    assert mismatches[0].last.arrived - mismatches[0].first.arrived <= 15  # the shortest, most local, first


def test_a_summation_that_grows_by_almost_nothing_is_found():
    readings = _meter(240.0, 5.0, 5.0, summation_scale=0.01)
    assert any(m.rise < m.low for m in judge_energy(readings, lambda _t: 5.0).mismatches)


def test_registers_older_than_the_period_in_force_are_found_and_judged_by_the_period():
    readings = _meter(240.0, 1.0, 15.0)  # updated every 15 s
    assert judge_energy(readings, lambda _t: 5.0).mismatches  # while it serves 5 s
    assert judge_energy(readings, lambda _t: 15.0).mismatches == []  # what it would have to serve
    # Judged where the period in force is 15 s (before 100 s) and where it is 5 s.
    period = lambda t: 15.0 if t < 100 else 5.0  # noqa: E731
    assert judge_energy(readings, period, (0.0, 100.0)).mismatches == []
    late = judge_energy(readings, period, (100.0, 300.0)).mismatches
    assert late and all(m.first.arrived >= 100.0 for m in late)


def test_no_span_is_judged_without_readings_around_it():
    assert judge_energy(_meter(8.0, 5.0, 5.0), lambda _t: 5.0) == EnergyJudgement(0, [])

"""The Metering judges (harness/verify/metering.py) on hand-made readings and reports: each rule passes an honest
meter and fails the one that breaks it."""

from __future__ import annotations

from dataclasses import dataclass

from harness.verify.metering import ReportingRule, decreases, interval_bounds, reporting_problems


@dataclass(frozen=True)
class R:
    sent: float
    arrived: float
    value: int


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

"""Assertions that read like a test report: the expectation, the observation and the rule that decides.

A failed check raises :class:`NonConformance`: a harness.errors.DutFailure (the verdict ``failed``) and an
AssertionError (so pytest reports a failure); the message has the three parts on their own lines, and the
report builder shows them side by side. A bare ``assert`` in a step is not a DUT verdict: it is a harness
defect, an ``error``.
"""

from __future__ import annotations

from harness.errors import DutFailure


class NonConformance(DutFailure, AssertionError):
    def __init__(self, expectation: str, observation: str, rule: str) -> None:
        super().__init__(f"expected: {expectation}\nobserved: {observation}\nrule: {rule}",
                         expectation=expectation, observation=observation, rule=rule)
        # The three parts as given, even when empty (DutFailure would fill in defaults).
        self.expectation = expectation
        self.observation = observation
        self.rule = rule


def check(condition: bool, *, expected: str, observed: str, rule: str) -> None:
    """Fail the case with a three-part message unless *condition* holds."""
    if not condition:
        raise NonConformance(expected, observed, rule)

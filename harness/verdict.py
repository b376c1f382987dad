"""Assertions that read like a test report: the expectation, the observation and the rule that decides.

A failed check raises :class:`NonConformance` (an AssertionError, so pytest reports a failure); the message
has the three parts on their own lines, and the report builder shows them side by side.
"""

from __future__ import annotations


class NonConformance(AssertionError):
    def __init__(self, expectation: str, observation: str, rule: str) -> None:
        self.expectation = expectation
        self.observation = observation
        self.rule = rule
        super().__init__(f"expected: {expectation}\nobserved: {observation}\nrule: {rule}")


def check(condition: bool, *, expected: str, observed: str, rule: str) -> None:
    """Fail the case with a three-part message unless *condition* holds."""
    if not condition:
        raise NonConformance(expected, observed, rule)

"""Cases that stay slow in virtual time, which self-tests run only where a fault they seed targets them.

TC-OSEG-4.1 lets 50 hours pass (about half of an OpenSEG run). The fault matrix runs it in the conformant run,
which must pass it, and in the runs of the faults aimed at it; a run whose faults are aimed elsewhere leaves it
out, since a case those faults do not touch has nothing to tell about them.
"""

from __future__ import annotations

from collections.abc import Iterable

LONG_CASES = ("TC-OSEG-4.1",)


def long_cases_left_out(targets: Iterable[str]) -> set[str]:
    """The long cases a run whose faults target *targets* leaves out."""
    return set(LONG_CASES) - set(targets)


def deselect(cases: Iterable[str]) -> list[str]:
    """pytest arguments that leave *cases* out (-k on the case id each item carries as a keyword)."""
    cases = sorted(cases)
    return ["-k", " and ".join(f"not {case}" for case in cases)] if cases else []

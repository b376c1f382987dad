"""Seeded non-conformances of reference devices.

A fault names the rule it breaks and the certification cases it must make fail (its targets): the fault
matrix self-test runs the suite once per fault and checks that exactly those cases fail.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


class UnknownFaultError(ValueError):
    """--fault named a fault the reference device does not have."""


@dataclass(frozen=True)
class Fault:
    name: str
    breaks: str  # the rule, in a reader's words
    targets: tuple[str, ...]  # case keys that must fail: "TC-JOIN-1.4", or "TC-ATTR-1.2[Basic]" for an example


def check_faults(model: str, names: tuple[str, ...] | list[str], catalogue: Mapping[str, Fault]) -> frozenset[str]:
    unknown = [n for n in names if n not in catalogue]
    if unknown:
        raise UnknownFaultError(
            f"--fault {unknown[0]!r} is not a fault of sim:{model}; --list-faults prints the catalogue "
            f"({', '.join(sorted(catalogue))})"
        )
    return frozenset(names)

"""The certification case catalogue: every case the feature files define, read without pytest.

A run's scope is judged against this catalogue, not against what pytest happened to collect: a run of one
feature file, a ``-k`` expression or a ``--case`` pattern collects fewer cases, and the overall verdict must
say so (PARTIAL) instead of calling a complete subset of a subset CONFORMANT.

Case keys are the ones the journal records: the ``@id:`` tag, with the Scenario Outline example in brackets
as pytest-bdd names it (``TC-ATTR-1.2[Basic]``).
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pytest_bdd.feature import get_features

FEATURES = Path(__file__).resolve().parent.parent / "features"


@dataclass(frozen=True)
class CaseSpec:
    """One certification case (one Scenario, or one row of a Scenario Outline)."""

    key: str  # TC-ATTR-1.2[Basic]
    case_id: str  # TC-ATTR-1.2
    title: str  # the Gherkin scenario name
    area: str  # the feature's @area: tag
    pics: tuple[str, ...]  # PICS expressions of the scenario (and of its Examples block), all must hold

    def applicable(self, claims: Mapping[str, bool]) -> bool:
        from harness.pics import evaluate

        return all(evaluate(expression, claims) for expression in self.pics)


def _tag(tags: Iterable[str], prefix: str) -> list[str]:
    return sorted(tag.partition(":")[2] for tag in tags if tag.startswith(prefix + ":"))


@functools.cache
def catalogue(features: Path = FEATURES) -> tuple[CaseSpec, ...]:
    """Every case of every feature file under *features*, sorted by key (read once per process: the plugin's
    applicability and the run's scope both come from it)."""
    cases: list[CaseSpec] = []
    for feature in get_features(sorted(str(p) for p in features.rglob("*.feature"))):
        area = next(iter(_tag(feature.tags, "area")), "")
        for scenario in feature.scenarios.values():
            ids = _tag(scenario.tags, "id")
            if not ids:
                continue  # not a certification case (a scenario without an id is never judged)
            pics = tuple(_tag(scenario.tags | feature.tags, "pics"))
            rows = [(examples, context) for examples in scenario.examples for context in examples.as_contexts()]
            if not rows:
                cases.append(CaseSpec(ids[0], ids[0], scenario.name, area, pics + _step_claims(scenario, {})))
                continue
            for examples, context in rows:
                example_pics = tuple(_tag(examples.tags or (), "pics")) + _step_claims(scenario, context)
                key = f"{ids[0]}[{'-'.join(context.values())}]"
                cases.append(CaseSpec(key, ids[0], scenario.name, area, pics + example_pics))
    return tuple(sorted(cases, key=lambda c: _natural(c.key)))


def _step_claims(scenario, context: Mapping[str, str]) -> tuple[str, ...]:
    # "Given the DUT claims the <cluster> server": the same applicability the plugin gives the collected item.
    from harness.pics import claimed_by_steps

    return tuple(claimed_by_steps(step.name for step in scenario.render(dict(context)).steps))


def _natural(key: str) -> tuple:
    # TC-DRLC-1.2 before TC-DRLC-1.10, as a test plan lists them.
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", key))


def matches(patterns: Iterable[str], case_id: str, key: str) -> bool:
    """Whether a case is selected by ``--case`` patterns: an id (TC-JOIN-1.5), a key with its example
    (TC-ATTR-1.2[Basic]) or a shell pattern (TC-DRLC-*), compared without regard to case."""
    for pattern in patterns:
        pattern = pattern.strip().upper()
        for candidate in (case_id.upper(), key.upper()):
            if candidate == pattern or fnmatch.fnmatchcase(candidate, pattern.replace("[", "[[]")):
                return True
    return False

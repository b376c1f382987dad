"""Binding feature files to test functions named by case id (pytest-bdd's ``scenarios()``, id first).

pytest-bdd names a scenario's test function from its title only, so ``--collect-only -q``, ``reports diff``
and a lab's CI history show ``test_the_dut_joins_with_...`` and lose the certification id. Here each
certification case becomes ``test_TC_JOIN_1_1_the_dut_joins_with_...``: the id a utility engineer looks
for, then the title, both visible in every node id.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from pytest_bdd import scenario
from pytest_bdd.feature import get_features
from pytest_bdd.scenario import make_python_name


def _python_name(case_id: str, title: str) -> str:
    # The title part is pytest-bdd's own name for the scenario, so `-k` words that matched before still match.
    prefix = re.sub(r"[^A-Za-z0-9]+", "_", case_id).strip("_")
    return f"test_{prefix}_{make_python_name(title)}" if prefix else f"test_{make_python_name(title)}"


def certification_cases(*feature_paths: str) -> None:
    """Put one test function per scenario of *feature_paths* (relative to the calling module) into the
    calling module, named ``test_<case id>_<title>``. A scenario without an ``@id:`` tag keeps pytest-bdd's
    name: it is not a certification case, and the suite never judges it."""
    # The caller's frame only: inspect.stack() would read the source of every frame on the stack, a third of
    # a second per step module in each suite run.
    here = inspect.currentframe()
    assert here is not None and here.f_back is not None, "certification_cases() needs Python frames (CPython)"
    module_globals = here.f_back.f_globals
    base = Path(here.f_back.f_code.co_filename).resolve().parent
    paths = [str((base / path).resolve()) for path in feature_paths]
    files = sorted(str(p) for path in paths for p in (Path(path).rglob("*.feature") if Path(path).is_dir()
                                                      else [Path(path)]))
    for feature in get_features(files):
        for name, template in feature.scenarios.items():
            ids = sorted(tag.partition(":")[2] for tag in template.tags if tag.startswith("id:"))
            test_name = _python_name(ids[0] if ids else "", name)
            if test_name in module_globals:
                raise ValueError(f"{feature.filename}: two scenarios bind to {test_name}; give each its own @id:")

            @scenario(feature.filename, name, features_base_dir=str(base))
            def _case() -> None:
                pass

            _case.__name__ = test_name
            module_globals[test_name] = _case

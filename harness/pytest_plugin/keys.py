"""Shared names of the pytest layer: the suite's folders and the stash keys its modules pass state through.

Per-run state lives in ``config.stash`` and per-case state in ``item.stash`` (pytest's supported places), never
as attributes hung on pytest's objects.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # named in the StashKey[...] strings below, which ruff does not read as annotations
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: F401

    from harness.bench.target import BenchTarget  # noqa: F401
    from harness.options import RunOptions  # noqa: F401
    from harness.profiles import BenchProfile, DutProfile  # noqa: F401
    from harness.results import Journal  # noqa: F401
    from reports.build import BuiltReport  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]  # the suite checkout: steps/, features/, profiles/
SUITE_DIRS = (ROOT / "steps", ROOT / "features")
DEFAULT_DUT = "sim:ihd"
DEFAULT_BENCH = ROOT / "profiles" / "bench" / "sim.yaml"

#: Per-run state, in ``config.stash``.
RUN_OPTIONS = pytest.StashKey["RunOptions"]()
JOURNAL = pytest.StashKey["Journal"]()  # only on the controller of a suite run (xdist workers have none)
PHASES = pytest.StashKey[dict[str, dict[str, Any]]]()  # nodeid -> phase -> what the phase recorded
SUITE_RUN = pytest.StashKey[bool]()
ARTIFACTS = pytest.StashKey[Path]()
PROFILES = pytest.StashKey[tuple["DutProfile", "BenchProfile"]]()
BENCH_TARGET = pytest.StashKey["BenchTarget"]()  # the bench a suite run has (harness/bench/target.py)
REPORT = pytest.StashKey["BuiltReport"]()
LAB_KEY = pytest.StashKey["Ed25519PrivateKey"]()  # the lab's private key, in memory only, when the lab signs
ALLURE = pytest.StashKey[object]()  # the registered Allure hooks (reports/allure.py), when Allure writes
PROGRESS_HANDLER = pytest.StashKey[logging.Handler]()

#: Per-case state, in ``item.stash``: the call phase's report (the testbed keeps the capture of a failed case)
#: and the artifacts the testbed wrote (the journal links them).
CALL_REPORT = pytest.StashKey["pytest.TestReport"]()
ATTACHMENTS = pytest.StashKey[list[str]]()

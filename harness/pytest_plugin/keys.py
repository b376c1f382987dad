"""Shared names of the pytest layer: the suite's folders and the stash keys its modules pass state through.

Per-run state lives in ``config.stash`` and per-case state in ``item.stash`` (pytest's supported places), never
as attributes hung on pytest's objects.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]  # the suite checkout: steps/, features/, profiles/


SUITE_DIRS = (ROOT / "steps", ROOT / "features")


DEFAULT_DUT = "sim:ihd"


DEFAULT_BENCH = ROOT / "profiles" / "bench" / "sim.yaml"


RUN_OPTIONS = pytest.StashKey["RunOptions"]()


JOURNAL = pytest.StashKey[object]()


PHASES = pytest.StashKey[dict]()


SUITE_RUN = pytest.StashKey[bool]()


ARTIFACTS = pytest.StashKey[Path]()


PROFILES = pytest.StashKey[tuple]()


REPORT = pytest.StashKey[object]()


LAB_KEY = pytest.StashKey[object]()  # the lab's Ed25519 private key, in memory only, when the lab signs


ALLURE = pytest.StashKey[object]()


_PROGRESS_HANDLER = pytest.StashKey[logging.Handler]()

#: Per-case state, in ``item.stash``: the call phase's report (the testbed keeps the capture of a failed case)
#: and the artifacts the testbed wrote (the journal links them).
CALL_REPORT = pytest.StashKey["pytest.TestReport"]()
ATTACHMENTS = pytest.StashKey[list[str]]()

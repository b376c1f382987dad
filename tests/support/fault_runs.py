"""Suite runs against reference devices with seeded faults, for the fault matrix and the failure-path tests.

Each run is the real suite (`pytest steps --dut sim:<model> --fault X`) in a process of its own, forked from a
pre-imported interpreter of this worker (tests/support/suite_process.py), judged from its JUnit file.

Where a fault can act is measured (harness/devices/faults.py): the conformant run of a model records, case by
case, what its device consulted of the fault catalogue (--record-fault-touches). A run with faults then needs
only the cases that consulted what they seed; every other case runs as in the conformant run. All runs of one
session share a seed, so a case makes the same random choices in each.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import subprocess
from collections.abc import Iterable
from pathlib import Path
from xml.etree import ElementTree

import pytest

from harness.devices.catalogue import MODELS
from harness.devices.faults import reached_cases
from tests.support.long_cases import deselect, long_cases_left_out
from tests.support.suite_process import run_module

RUN_TIMEOUT = 600.0  # seconds; a run takes about 6 s (12 s for OpenSEG's conformant run)
#: Every run of one session draws its randomness from one seed, so a fault's run and the conformant run it is
#: compared with make the same random choices case by case. The xdist workers of a session share its run id.
MATRIX_SEED = int(os.environ.get("SE_MATRIX_SEED") or
                  random.Random(os.environ.get("PYTEST_XDIST_TESTRUNUID") or os.urandom(8)).getrandbits(32))
FULL_MATRIX = os.environ.get("SE_FULL_FAULT_MATRIX", "") not in ("", "0")

Results = dict[str, tuple[str, str]]


def targets(model: str, fault: str) -> set[str]:
    return set(MODELS[model].faults_catalogue[fault].targets)


def left_out(model: str, fault: str | None) -> set[str]:
    """The long cases a run leaves out: none for the conformant device, else those its fault does not
    target."""
    return set() if fault is None else long_cases_left_out(targets(model, fault))


def step_modules(cases: Iterable[str]) -> tuple[str, ...]:
    """The step modules that bind *cases* (steps/test_<area>.py binds features/<area>/): a run of a few cases
    collects only those, as a user who names a feature's module does, instead of all twelve (about 0.2 s of a
    run's CPU, which the fault matrix would pay some 300 times)."""
    from harness.cases import catalogue

    area = {spec.key: spec.area for spec in catalogue()}
    unknown = sorted(set(cases) - area.keys())
    assert not unknown, f"cases the catalogue does not hold: {unknown}"
    return tuple(sorted({f"steps/test_{area[case]}.py" for case in cases}))


def suite_args(tmp: Path, model: str, fault: str | None, paths: tuple[str, ...] = ("steps",),
               options: tuple[str, ...] = ()) -> list[str]:
    # -p no:benchmark: pytest-benchmark's git and hg queries as it configures (run_pytest says why).
    args = [*paths, "-q", "-p", "no:cacheprovider", "-p", "no:benchmark", f"--dut=sim:{model}", f"--junitxml={tmp / 'junit.xml'}",
            f"--artifacts={tmp / 'artifacts'}", f"--seed={MATRIX_SEED}", *options]
    if fault:
        args.append(f"--fault={fault}")
    return args + deselect(left_out(model, fault))


# -- Running the suite ---------------------------------------------------------------------------------------
# Each run forks from a pre-imported interpreter of this worker (tests/support/suite_process.py).

def run_suite(tmp: Path, model: str, fault: str | None = None, *, paths: tuple[str, ...] = ("steps",),
              options: tuple[str, ...] = ()) -> Results:
    """Run the suite (or the step files *paths*, with more *options*); return {case key: (outcome, message)}
    from its JUnit file."""
    junit = tmp / "junit.xml"
    args = suite_args(tmp, model, fault, paths, options)
    try:
        done = run_module("pytest", *args, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"the suite did not end within {RUN_TIMEOUT:.0f} s: {args}\n{exc.stdout}") from None
    code, output = done.returncode, (done.stdout + done.stderr)[-6000:]
    assert junit.exists(), f"the suite wrote no JUnit file (exit {code}): {args}\n{output}"
    results = {}
    for case in ElementTree.parse(junit).getroot().iter("testcase"):
        key = next((p.get("value") for p in case.iter("property") if p.get("name") == "case_id"), None)
        assert key, f"{case.get('classname')}::{case.get('name')} carries no case_id property"
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            element = case.find(tag)
            if element is not None:
                outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[tag]
                message = element.get("message") or ""
        results[key] = (outcome, message)
    return results



Touches = dict[str, object]


def _shared_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every xdist worker of this session sees (the parent of the workers' own base folders)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def conformant_run(model: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Results, Touches]:
    """The conformant device's run of *model*, with what each case consulted of its fault catalogue: run once
    per session, by the first worker that needs it, while the others wait on its lock."""
    folder = _shared_folder(tmp_path_factory) / f"conformant-{model}-{MATRIX_SEED}"
    record = folder / "record.json"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.exists():
            touches = folder / "touches.json"
            results = run_suite(folder / "run", model, options=(f"--record-fault-touches={touches}",))
            assert touches.exists(), f"the conformant run of {model} recorded no fault touches"
            record.write_text(json.dumps({"results": results, "touches": json.loads(touches.read_text())}))
    data = json.loads(record.read_text())
    return {key: (outcome, message) for key, (outcome, message) in data["results"].items()}, data["touches"]




def reach_of(model: str, faults: Iterable[str], touches: Touches) -> set[str] | None:
    """The cases a run with *faults* takes: those whose conformant run consulted what any of them seeds, and
    their targets; None for every case (a consultation outside any case, or SE_FULL_FAULT_MATRIX=1)."""
    if FULL_MATRIX:
        return None
    reach: set[str] = set()
    for fault in faults:
        reached = reached_cases(MODELS[model].faults_catalogue[fault], touches)
        if reached is None:
            return None
        reach |= reached | targets(model, fault)
    return reach

"""The fault matrix: the suite passes the conformant reference device, and each seeded fault fails exactly the
cases it is aimed at — the proof that every conformance scenario can fail, and fails only for its own reason.

Each run is the real suite in a subprocess (`pytest steps --dut sim:<model> --fault X`), judged from its JUnit
file, the way CI judges a DUT.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from xml.etree import ElementTree

import pytest

from harness.devices.catalogue import MODELS

ROOT = Path(__file__).resolve().parents[2]
# (model, fault) for every reference device; fault None is the conformant device.
RUNS = [(model, None) for model in sorted(MODELS)] + [
    (model, fault) for model in sorted(MODELS) for fault in sorted(MODELS[model].faults_catalogue)
]


def run_suite(tmp: Path, model: str, faults: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """Run the suite; return {case key: (outcome, message)} from its JUnit file."""
    junit = tmp / "junit.xml"
    args = [sys.executable, "-m", "pytest", "steps", "-q", "-p", "no:cacheprovider", f"--dut=sim:{model}",
            f"--junitxml={junit}", f"--artifacts={tmp / 'artifacts'}"]
    args += [f"--fault={f}" for f in faults]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SE_")}
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert junit.exists(), f"the suite wrote no JUnit file (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
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


@pytest.fixture(scope="module")
def matrix(tmp_path_factory) -> dict[tuple[str, str | None], dict[str, tuple[str, str]]]:
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        futures = {
            (model, fault): pool.submit(run_suite, tmp_path_factory.mktemp(f"{model}-{fault or 'conformant'}"), model,
                                        (fault,) if fault else ())
            for model, fault in RUNS
        }
        return {key: future.result() for key, future in futures.items()}


@pytest.mark.parametrize("model", sorted(MODELS))
def test_conformant_device_passes_every_applicable_case(matrix, model):
    results = matrix[(model, None)]
    assert results, "the suite ran no case"
    bad = {k: v for k, v in results.items() if v[0] not in ("passed", "skipped")}
    assert not bad, f"the conformant reference {model} did not pass: {bad}"
    not_applicable = {k: v for k, v in results.items() if v[0] == "skipped"}
    assert all("not applicable" in message for _, message in not_applicable.values()), not_applicable
    assert any(v[0] == "passed" for v in results.values())


@pytest.mark.parametrize(("model", "fault"), [run for run in RUNS if run[1] is not None])
def test_fault_fails_exactly_its_targets(matrix, model, fault):
    targets = set(MODELS[model].faults_catalogue[fault].targets)
    results = matrix[(model, fault)]
    failed = {k for k, (outcome, _) in results.items() if outcome == "failed"}
    errors = {k: v for k, v in results.items() if v[0] == "error"}
    assert not errors, f"fault {fault} produced bench errors, which must never stand for a DUT failure: {errors}"
    assert failed == targets, (
        f"fault {fault}: expected exactly {sorted(targets)} to fail; failed {sorted(failed)}; "
        f"missed {sorted(targets - failed)}; collateral {sorted(failed - targets)}"
    )


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_applicable_case_is_targeted_by_some_fault(matrix, model):
    """Every case the model runs is shown able to fail by a seeded fault: in this model's catalogue, or, for a case
    shared by several device types (joining, attributes, key establishment), in another model's."""
    applicable = {k for k, (outcome, _) in matrix[(model, None)].items() if outcome == "passed"}
    targeted = {t for cls in MODELS.values() for fault in cls.faults_catalogue.values() for t in fault.targets}
    assert applicable - targeted == set(), f"cases no seeded fault can fail: {sorted(applicable - targeted)}"

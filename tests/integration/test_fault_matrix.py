"""The fault matrix: the suite passes the conformant reference device, and each seeded fault fails exactly the
cases it is aimed at — the proof that every conformance scenario can fail, and fails only for its own reason.

Each run is the real suite (`pytest steps --dut sim:<model> --fault X`) in a process of its own, judged from
its JUnit file, the way CI judges a DUT. One test item is one run, so pytest-xdist spreads the runs over the
cores (`pytest tests -n auto`).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from xml.etree import ElementTree

import pytest

from harness.devices.catalogue import MODELS
from tests.support.suite_process import run_module

# (model, fault) for every reference device; fault None is the conformant device.
RUNS = [(model, None) for model in sorted(MODELS)] + [
    (model, fault) for model in sorted(MODELS) for fault in sorted(MODELS[model].faults_catalogue)
]
#: Cases that stay slow in virtual time: TC-OSEG-4.1 lets 50 hours pass, half of an OpenSEG run. They run in
#: the conformant run (which must pass them) and in the runs of the faults that target them; a fault aimed
#: elsewhere skips them, since a case it does not touch has nothing to tell about it.
LONG_CASES = ("TC-OSEG-4.1",)
RUN_TIMEOUT = 600.0  # seconds; a run takes about 6 s (12 s for OpenSEG's conformant run)

Results = dict[str, tuple[str, str]]


def targets(model: str, fault: str) -> set[str]:
    return set(MODELS[model].faults_catalogue[fault].targets)


def left_out(model: str, fault: str | None) -> set[str]:
    """The long cases a run leaves out: none for the conformant device, else those its fault does not
    target."""
    return set() if fault is None else set(LONG_CASES) - targets(model, fault)


def suite_args(tmp: Path, model: str, fault: str | None, paths: tuple[str, ...] = ("steps",),
               options: tuple[str, ...] = ()) -> list[str]:
    args = [*paths, "-q", "-p", "no:cacheprovider", f"--dut=sim:{model}", f"--junitxml={tmp / 'junit.xml'}",
            f"--artifacts={tmp / 'artifacts'}", *options]
    if fault:
        args.append(f"--fault={fault}")
    skipped = left_out(model, fault)
    if skipped:
        # -k matches the case id the plugin adds to each item's keywords.
        args += ["-k", " and ".join(f"not {case}" for case in sorted(skipped))]
    return args


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


# -- The matrix ----------------------------------------------------------------------------------------------

_CONFORMANT: dict[str, Results] = {}


@pytest.fixture
def conformant(model: str, tmp_path_factory: pytest.TempPathFactory) -> Results:
    """The conformant device's run of *model*: run once per process and read by two tests, which an
    xdist_group keeps on one worker."""
    if model not in _CONFORMANT:
        _CONFORMANT[model] = run_suite(tmp_path_factory.mktemp(f"{model}-conformant"), model)
    return _CONFORMANT[model]


def _per_model(model: str):
    return pytest.param(model, marks=pytest.mark.xdist_group(f"conformant-{model}"), id=model)


@pytest.mark.parametrize("model", [_per_model(model) for model in sorted(MODELS)])
def test_conformant_device_passes_every_applicable_case(conformant, model):
    results = conformant
    assert results, "the suite ran no case"
    bad = {k: v for k, v in results.items() if v[0] not in ("passed", "skipped")}
    assert not bad, f"the conformant reference {model} did not pass: {bad}"
    not_applicable = {k: v for k, v in results.items() if v[0] == "skipped"}
    assert all("not applicable" in message for _, message in not_applicable.values()), not_applicable
    assert any(v[0] == "passed" for v in results.values())
    # The long cases the fault runs leave out are run, and judged, here.
    assert set(LONG_CASES) <= results.keys(), sorted(results)


@pytest.mark.parametrize(("model", "fault"), [run for run in RUNS if run[1] is not None])
def test_fault_fails_exactly_its_targets(tmp_path, model, fault):
    expected = targets(model, fault)
    results = run_suite(tmp_path, model, fault)
    failed = {k for k, (outcome, _) in results.items() if outcome == "failed"}
    errors = {k: v for k, v in results.items() if v[0] == "error"}
    assert not errors, f"fault {fault} produced bench errors, which must never stand for a DUT failure: {errors}"
    assert failed == expected, (
        f"fault {fault}: expected exactly {sorted(expected)} to fail; failed {sorted(failed)}; "
        f"missed {sorted(expected - failed)}; collateral {sorted(failed - expected)}"
    )
    assert not left_out(model, fault) & results.keys(), "a long case this fault does not target was run"


@pytest.mark.parametrize("model", [_per_model(model) for model in sorted(MODELS)])
def test_every_applicable_case_is_targeted_by_some_fault(conformant, model):
    """Every case the model runs is shown able to fail by a seeded fault: in this model's catalogue, or, for a case
    shared by several device types (joining, attributes, key establishment), in another model's."""
    applicable = {k for k, (outcome, _) in conformant.items() if outcome == "passed"}
    targeted = {t for cls in MODELS.values() for fault in cls.faults_catalogue.values() for t in fault.targets}
    assert applicable - targeted == set(), f"cases no seeded fault can fail: {sorted(applicable - targeted)}"

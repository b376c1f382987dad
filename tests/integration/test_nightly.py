"""`python -m reports nightly run` end to end against the simulated reference IHD with a seeded fault."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from junitparser import JUnitXml

from harness.cases import catalogue
from harness.devices.application_faults import NO_DEVICE_ANNCE
from harness.results import Verdict, read_journal
from reports import nightly
from tests.support.suite_process import run_module


def run_nightly(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return run_module("reports", "nightly", "run", *args, timeout=timeout)


@pytest.mark.slow  # two suite runs (the shard and its rerun), about 20 s
def test_a_night_with_a_seeded_fault_reruns_the_failure_and_reports_it(tmp_path: Path) -> None:
    root = tmp_path / "nightly"
    done = run_nightly("--bench=profiles/bench/sim.yaml", "--dut=sim:ihd", f"--root={root}",
                       "--", "--case=TC-JOIN-*", "--fault=no-device-annce")
    output = f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    # A first night: the failure is NOT CONFORMANT, but nothing to call it a regression against.
    assert done.returncode == nightly.EXIT_KNOWN_FAILURES, output
    [night] = nightly.nights(root)
    assert (root / "LATEST").read_text() == f"{night.name}\n"
    shard = night / "sim"
    contents = read_journal(shard)
    verdicts = {c.case_id: c.verdict for c in contents.cases}
    joining = {case.key for case in catalogue() if case.area == "joining"}
    failing = set(NO_DEVICE_ANNCE.targets)  # TC-JOIN-1.5 and TC-JOIN-1.10: no Device_annce to judge
    assert set(verdicts) == joining and all(verdicts[k] is Verdict.FAILED for k in failing), verdicts
    assert all(v is Verdict.PASSED for k, v in verdicts.items() if k not in failing), verdicts
    # The immediate rerun ran only the failed cases, in its own folder, on the shard's seed.
    rerun = read_journal(night / "rerun" / "sim")
    assert sorted((c.case_id, c.verdict) for c in rerun.cases) == sorted((k, Verdict.FAILED) for k in failing)
    assert rerun.run.seed == contents.run.seed and rerun.complete
    assert (night / "logs" / "sim.log").is_file() and (night / "logs" / "rerun-sim.log").is_file()
    report = json.loads((night / "night.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "NOT CONFORMANT" and report["exit_code"] == nightly.EXIT_KNOWN_FAILURES
    assert report["flaky"] == [] and report["previous"] is None
    failed = [c for c in report["cases"] if c["verdict"] == "failed"]
    assert sorted((c["key"], c["rerun"]) for c in failed) == sorted((k, "failed") for k in failing)
    assert report["shards"][0]["rerun_folder"] == "rerun/sim" and report["shards"][0]["exit_status"] == 1
    merged = JUnitXml.fromfile(str(night / "junit.xml"))
    assert sum(1 for suite in merged for _ in suite) == len(joining) + len(failing)  # the shard's cases and the rerun's
    markdown = (night / "night.md").read_text(encoding="utf-8")
    assert markdown.startswith(f"# Night {night.name}: NOT CONFORMANT (exit 3)")
    assert all(f"FAILED {k} (sim) rerun: failed" in markdown for k in failing), markdown
    assert f"report: {night / 'night.md'}" in done.stdout


def test_options_pytest_refuses_are_one_line_and_leave_no_night(tmp_path: Path) -> None:
    root = tmp_path / "nightly"
    root.mkdir()
    (root / "LATEST").write_text("2025-06-01\n")  # an earlier night's: CI must not collect it as tonight's
    done = run_nightly(f"--root={root}", "--dut=sim:nosuch")
    assert done.returncode == nightly.EXIT_USAGE, done.stderr
    assert done.stderr.count("\n") == 1 and "sim:nosuch" in done.stderr, done.stderr
    assert nightly.nights(root) == [] and not (root / "LATEST").exists()

"""Same seed, same capture bytes: a case alone or inside the whole suite (issue 15, "Reproducible").

The auditor found 34-36 of 43 captures changing when a different subset ran before them (virtual time and the
key-establishment random state ran across the session) and TC-JOIN-1.2 drawing from os.urandom.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support.suite_process import run_pytest

SEED = 4242
#: One case of joining (it draws an install code), one of key establishment (ephemeral keys), one application.
CASES = ("TC-JOIN-1.2", "TC-KE-1.2", "TC-PRICE-1.1")


def _pytest(*args: str) -> subprocess.CompletedProcess:
    return run_pytest("-q", *args, timeout=600)


def _cases(run: Path) -> dict[str, dict]:
    lines = [json.loads(line) for line in (run / "journal.jsonl").read_text().splitlines()]
    return {rec["case"]["case_id"]: rec["case"] for rec in lines if rec.get("type") == "case"}


def _capture(run: Path, case_id: str) -> bytes:
    data = (run / case_id / "capture.pcap").read_bytes()
    assert len(data) > 24 + 10 * 16, f"{case_id}: a capture of almost nothing proves nothing"
    return data


# Under xdist the tests that share the suite run (a module fixture) stay on one worker, which runs it once.
pytestmark = pytest.mark.xdist_group("reproducible-suite")


@pytest.fixture(scope="module")
def suite_run(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("suite") / "run"
    done = _pytest(f"--seed={SEED}", "--artifacts-always", f"--artifacts={run}")
    assert done.returncode == 0, done.stdout[-3000:]
    assert f"seed {SEED} (given" in done.stdout  # the terminal says how to replay the run
    return run


def _alone(tmp_path: Path, nodeid: str, seed: int) -> Path:
    run = tmp_path / f"alone-{seed}-{abs(hash(nodeid))}"
    done = _pytest(nodeid, f"--seed={seed}", "--artifacts-always", f"--artifacts={run}")
    assert done.returncode in (0, 7), done.stdout[-3000:]  # 7: PARTIAL, one case of the suite ran
    return run


@pytest.mark.slow
def test_a_case_captures_the_same_bytes_alone_and_in_the_suite(suite_run, tmp_path):
    cases = _cases(suite_run)
    for case_id in CASES:
        assert cases[case_id]["verdict"] == "passed", case_id
        alone = _alone(tmp_path, cases[case_id]["nodeid"], SEED)
        assert list(_cases(alone)) == [case_id]
        assert _capture(alone, case_id) == _capture(suite_run, case_id), \
            f"{case_id}: the capture alone differs from the one inside the suite with the same seed"


@pytest.mark.slow
def test_the_seed_drives_the_key_establishment(suite_run, tmp_path):
    nodeid = _cases(suite_run)["TC-KE-1.2"]["nodeid"]
    other = _alone(tmp_path, nodeid, SEED + 1)
    assert _cases(other)["TC-KE-1.2"]["verdict"] == "passed"
    assert _capture(other, "TC-KE-1.2") != _capture(suite_run, "TC-KE-1.2")


@pytest.mark.slow
def test_the_seed_is_recorded_and_outputs_are_sorted(suite_run):
    run = json.loads((suite_run / "journal.jsonl").read_text().splitlines()[0])["run"]
    assert run["seed"] == SEED
    assert list(run["pics"]) == sorted(run["pics"]) and list(run["pixit"]) == sorted(run["pixit"])
    assert run["options"]["faults"] == sorted(run["options"]["faults"])
    for case in _cases(suite_run).values():
        assert case["pics"] == sorted(case["pics"])
    summary = json.loads((suite_run / "summary.json").read_text())
    assert summary["seed"] == SEED
    assert f"<th>Seed</th><td>{SEED} (--seed {SEED}" in (suite_run / "report.html").read_text()


def test_an_empty_or_bad_seed_is_one_line(tmp_path):
    for arg, words in (("--seed=", ["--seed is empty", "leave --seed out"]),
                       ("--seed=soon", ["--seed", "not an integer", "--seed 12345"])):
        done = _pytest("steps", arg, f"--artifacts={tmp_path / 'never'}")
        assert done.returncode == 4, done.stdout[-2000:]
        errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR:")]
        assert len(errors) == 1 and all(word in errors[0] for word in words), done.stderr
        assert "Traceback" not in done.stderr

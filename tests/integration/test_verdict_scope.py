"""The overall verdict claims no more than the run showed (issue 14): a selection or an override is PARTIAL,
the complete default run is CONFORMANT, the terminal ends with the verdict, and the exit status follows it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from harness.cases import catalogue, matches
from harness.results import read_journal
from tests.support.suite_process import run_pytest


def suite(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    artifacts = tmp_path / "run"
    done = run_pytest("-q", f"--artifacts={artifacts}", *args, timeout=300)
    summary_path = artifacts / "summary.json"
    assert summary_path.exists(), f"no summary (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}"
    return done, json.loads(summary_path.read_text())


def last_lines(done: subprocess.CompletedProcess, n: int = 2) -> list[str]:
    return [line for line in done.stdout.splitlines() if line.strip()][-n:]


def test_the_complete_default_run_is_conformant_exits_0_and_says_so_last(tmp_path):
    done, summary = suite(tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    assert summary["overall"]["verdict"] == "CONFORMANT" and summary["scope"]["complete"] is True
    assert summary["scope"]["not_run"] == [] and summary["scope"]["selection"] == []
    verdict_line, reasons = last_lines(done)
    assert "Overall verdict: CONFORMANT (exit 0)" in verdict_line and "applicable mandatory case(s) passed" in reasons


@pytest.mark.parametrize(("args", "selection_words"), [
    (["-k", "announces"], ["-k 'announces'"]),
    (["steps/test_key_establishment.py"], ["test paths steps/test_key_establishment.py"]),
    (["--case=TC-JOIN-1.5"], ["--case TC-JOIN-1.5"]),
])
def test_a_selection_is_partial_with_a_non_zero_exit(tmp_path, args, selection_words):
    done, summary = suite(tmp_path, *args)
    assert done.returncode == 7, done.stdout[-3000:]
    assert summary["overall"]["verdict"] == "PARTIAL"
    reasons = " | ".join(summary["overall"]["reasons"])
    for word in selection_words:
        assert word in reasons, reasons
    assert summary["scope"]["not_run"], "a selection leaves applicable cases unrun, and the summary lists them"
    assert "did not run" in reasons
    assert "Overall verdict: PARTIAL (exit 7)" in last_lines(done)[0]
    junit = (tmp_path / "run" / "junit.xml").read_text()
    assert 'name="selection"' in junit or "PARTIAL" in junit, "the JUnit properties state the verdict's scope"


def test_a_pixit_override_is_partial_and_named(tmp_path):
    done, summary = suite(tmp_path, "--case=TC-TIME-*", "--pixit=response_time=4s")
    assert done.returncode == 7
    assert "--pixit response_time=4s" in summary["scope"]["overrides"]


def test_a_failed_case_is_listed_by_id_and_title_before_the_verdict(tmp_path):
    done, summary = suite(tmp_path, "steps/test_joining.py", "--fault=no-device-annce")
    assert done.returncode == 1 and summary["overall"]["verdict"] == "NOT CONFORMANT"
    lines = done.stdout.splitlines()
    row = next(line for line in lines if "TC-JOIN-1.5" in line and line.strip().startswith("FAILED"))
    assert "announces itself" in row, row
    assert "Overall verdict: NOT CONFORMANT (exit 1)" in last_lines(done)[0]


def test_nothing_applicable_is_inconclusive_with_its_own_exit(tmp_path):
    # The reference IHD claims no DRLC: selecting only DRLC cases leaves nothing applicable to judge.
    done, summary = suite(tmp_path, "--case=TC-DRLC-*")
    assert summary["overall"]["verdict"] == "INCONCLUSIVE" and done.returncode == 6, summary["overall"]
    assert any("no applicable mandatory case ran" in r for r in summary["overall"]["reasons"])
    assert summary["totals"]["not_applicable"] == summary["totals"]["total"] > 0


def test_case_ids_select_and_collect():
    done = run_pytest("--collect-only", "-q", "-k", "TC-JOIN-1.5", timeout=120)
    collected = [line for line in done.stdout.splitlines() if "::" in line]
    assert collected == ["steps/test_joining.py::test_TC_JOIN_1_5_the_dut_announces_itself_after_joining"], collected
    done = run_pytest("--collect-only", "-q", "--case=TC-DRLC-*", timeout=120)
    collected = [line for line in done.stdout.splitlines() if "::" in line]
    drlc = {c.key for c in catalogue() if c.case_id.startswith("TC-DRLC-")}
    assert len(collected) == len(drlc) and all("::test_TC_DRLC_" in line for line in collected), collected


def test_the_catalogue_knows_every_case_and_its_pics():
    cases = {c.key: c for c in catalogue()}
    assert "TC-JOIN-1.1" in cases and "TC-ATTR-1.2[Basic]" in cases
    assert len(cases) == len(catalogue()), "case keys are unique"
    ke = cases["TC-KE-1.2"]
    assert ke.area == "key_establishment" and "SE.KE.C" in ke.pics and "SE.NWK.JOIN" in ke.pics
    # The DUT as initiator with the golden's Trust Center: a DUT that joins (network.role joins mirrors SE.NWK.JOIN).
    assert ke.applicable({"SE.KE.C": True, "SE.NWK.JOIN": True}) and not ke.applicable({"SE.KE.C": False,
                                                                                         "SE.NWK.JOIN": True})
    assert not ke.applicable({"SE.KE.C": True, "SE.NWK.TC": True})
    assert matches(["tc-drlc-*"], "TC-DRLC-1.3", "TC-DRLC-1.3")
    assert matches(["TC-ATTR-1.2[Basic]"], "TC-ATTR-1.2", "TC-ATTR-1.2[Basic]")
    assert not matches(["TC-ATTR-1.2[Basic]"], "TC-ATTR-1.2", "TC-ATTR-1.2[Time]")
    assert not matches(["TC-JOIN-1.1"], "TC-JOIN-1.10", "TC-JOIN-1.10")


def test_the_journal_records_the_scope_a_killed_run_set_out_to_judge(tmp_path):
    done, summary = suite(tmp_path, "--case=TC-JOIN-1.1")
    run, cases, complete = read_journal(tmp_path / "run")
    assert run.scope is not None and run.scope.selection == ["--case TC-JOIN-1.1"]
    assert "TC-JOIN-1.1" in run.scope.applicable and len(run.scope.applicable) > 40
    assert [c.case_id for c in cases] == ["TC-JOIN-1.1"]

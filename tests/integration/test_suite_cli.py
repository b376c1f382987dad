"""The suite as a user meets it: `pytest` with options, one-line errors, results that survive a killed run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from harness.results import read_journal
from tests.support.suite_process import ROOT, run_module, run_pytest, suite_env


def pytest_run(*args: str, fresh: bool = False) -> subprocess.CompletedProcess:
    return run_pytest(*args, env=suite_env(), timeout=300, fresh=fresh)


def error_line(done: subprocess.CompletedProcess) -> str:
    lines = [line for line in done.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(lines) == 1, f"expected one ERROR line, got stderr:\n{done.stderr}\nstdout:\n{done.stdout[-2000:]}"
    return lines[0]


@pytest.mark.parametrize(("args", "words"), [
    (["--dut=sim:nosuch"], ["sim:nosuch", "--list-faults"]),
    (["--dut=bogus"], ["--dut", "not understood", "sim:<model>"]),
    (["--dut=/dev/ttyUSB0", "--radio=sim"], ["physical device", "--radio=ezsp"]),
    (["--dut=/dev/ttyUSB0", "--profile=profiles/dut/ref-ihd-cli.yaml"], ["physical device", "--radio=ezsp"]),
    (["--radio=ezsp:/dev/ttyNOSUCH0"], ["--radio=ezsp:/dev/ttyNOSUCH0", "no such port"]),
    (["--dut=/dev/ttyNOSUCH1", "--radio=ezsp:/dev/null", "--profile=profiles/dut/ref-ihd-cli.yaml"],
     ["--dut=/dev/ttyNOSUCH1", "no such port"]),
    (["--profile=profiles/dut/sim-pct.yaml"], ["sim:pct", "not sim:ihd", "sim-ihd.yaml"]),
    (["--dut=/dev/ttyUSB0", "--radio=ezsp:/dev/ttyACM0"], ["--profile"]),
    (["--fault=not-a-fault"], ["not-a-fault", "sim:ihd", "--list-faults"]),
    (["--pics=SE.DRLC.C"], ["--pics", "KEY=VALUE"]),
    (["--pics=SE.DRLC.C=perhaps"], ["true or false"]),
    (["--radio=zigate:/dev/x"], ["--radio", "ezsp:<port>"]),
    (["--bench=/nonexistent/bench.yaml"], ["--bench", "no such file"]),
])
def test_bad_option_stops_the_run_with_one_line(args, words):
    done = pytest_run("steps", *args)
    assert done.returncode == 4, done.stdout[-2000:]
    line = error_line(done)
    for word in words:
        assert word in line, f"{word!r} missing from {line!r}"
    assert "Traceback" not in done.stderr


def test_bad_profile_names_the_file_and_field(tmp_path):
    profile = (ROOT / "profiles" / "dut" / "sim-ihd.yaml").read_text().replace("SE.DRLC.C: true", "SE.DRLC.C: yes please")
    path = tmp_path / "bad.yaml"
    path.write_text(profile)
    done = pytest_run("steps", f"--profile={path}", fresh=True)  # the real CLI's start-up, its exit status
    assert done.returncode == 4, done.stdout[-2000:]
    line = error_line(done)
    assert "bad.yaml" in line and "pics.SE.DRLC.C" in line and "true/false" in line


def test_list_faults_prints_one_fault_per_line():
    done = pytest_run("--list-faults", fresh=True)  # the real CLI, exit 0
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("sim:")]
    assert any(line.startswith("sim:ihd no-device-annce:") and "TC-JOIN-1.5" in line for line in lines), lines
    assert len(lines) == len(set(lines)) >= 10


def test_a_suite_run_writes_journal_junit_and_report(tmp_path):
    artifacts = tmp_path / "run"
    done = pytest_run("steps/test_joining.py", f"--artifacts={artifacts}", "--fault=no-device-annce")
    assert done.returncode == 1, done.stdout[-3000:]
    assert str(artifacts) in done.stdout  # the run says where its results are
    run, cases, complete = read_journal(artifacts)
    assert complete and run.options["faults"] == ["no-device-annce"]
    verdicts = {c.case_id: c.verdict for c in cases}
    assert verdicts["TC-JOIN-1.5"] == "failed" and verdicts["TC-JOIN-1.1"] == "passed"
    failed = next(c for c in cases if c.case_id == "TC-JOIN-1.5")
    assert "Device_annce" in failed.message.expectation and failed.attachments
    assert (artifacts / failed.attachments[0]).exists()
    summary = json.loads((artifacts / "summary.json").read_text())
    assert summary["overall"]["verdict"] == "NOT CONFORMANT"
    assert "property name=\"dut.model\"" in (artifacts / "junit.xml").read_text()
    install_code = "83FED3407A939723A5C639B26916D505"
    for path in artifacts.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".jsonl", ".xml", ".html"):
            assert install_code.lower() not in path.read_text().lower(), f"install code leaked into {path}"


def test_a_killed_run_keeps_every_finished_case(tmp_path):
    artifacts = tmp_path / "killed"
    # A real interpreter of the suite, killed by a signal.
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "steps", f"--artifacts={artifacts}", "-q"],
        cwd=ROOT, env=suite_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    journal = artifacts / "journal.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait (real time: a subprocess) until a few cases are recorded
        if journal.exists() and len(journal.read_text().splitlines()) >= 4:
            break
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    run, cases, complete = read_journal(artifacts)
    assert cases, "no case survived the kill"
    recorded = len(journal.read_text().splitlines())
    assert len(cases) >= recorded - 2  # only a torn last line may be lost
    if not complete:
        built = run_module("reports", "build", str(artifacts), timeout=120)
        assert built.returncode == 0, built.stderr
        assert "INCOMPLETE" in (artifacts / "report.html").read_text()


def _run_with_radio_failures(tmp_path, failures: int, *extra: str):
    artifacts = tmp_path / f"radio-{failures}"
    done = run_pytest("steps/test_joining.py", "-q", f"--artifacts={artifacts}", *extra,
                      env=suite_env({"SE_SIM_RADIO_FAILURES": str(failures)}), timeout=300)
    return done, read_journal(artifacts)


def test_a_bench_fault_is_retried_and_recorded(tmp_path):
    done, (run, cases, complete) = _run_with_radio_failures(tmp_path, 1)
    assert done.returncode == 7, done.stdout[-3000:]  # PARTIAL: one feature of the suite
    retried = [c for c in cases if c.bench_errors]
    assert len(retried) == 1 and retried[0].verdict == "passed", [(c.case_id, c.verdict) for c in cases]
    assert "radio stopped answering" in retried[0].bench_errors[0].error


def test_a_lasting_bench_fault_is_an_error_never_a_dut_failure(tmp_path):
    done, (run, cases, complete) = _run_with_radio_failures(tmp_path, 10_000)
    verdicts = {c.verdict for c in cases}
    assert "failed" not in verdicts, [(c.case_id, c.verdict, c.message) for c in cases if c.verdict == "failed"]
    assert "error" in verdicts
    assert all(len(c.bench_errors) == 2 for c in cases if c.verdict == "error")  # bounded: 3 attempts
    summary = json.loads((tmp_path / "radio-10000" / "summary.json").read_text())
    assert summary["overall"]["verdict"] == "INCONCLUSIVE"


def test_retries_never_hide_a_dut_failure(tmp_path):
    done, (run, cases, complete) = _run_with_radio_failures(tmp_path, 1, "--fault=no-device-annce")
    verdicts = {c.case_id: c.verdict for c in cases}
    assert verdicts["TC-JOIN-1.5"] == "failed"

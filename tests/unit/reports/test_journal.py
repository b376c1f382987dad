"""The journal: round trip, durability per case, torn lines of a killed run, and malformed journals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

from harness.redact import Redactor
from harness.results import (
    CaseMessage,
    CaseResult,
    Journal,
    JournalError,
    OverallVerdict,
    RunInfo,
    Verdict,
    read_journal,
    suite_version,
)
from reports.build import build_report

from .samples import INSTALL_CODE, LINK_KEY, case, mixed_cases, run_info, write_journal

REPO = Path(__file__).resolve().parents[3]


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    cases = mixed_cases()
    write_journal(tmp_path, cases)
    contents = read_journal(tmp_path)
    run, read_cases, complete = contents
    assert run == run_info()
    assert read_cases == cases
    assert complete is True
    assert contents.summary == {"exitstatus": 0}
    assert contents.finished is not None and contents.torn_tail is False


def test_each_case_is_on_disk_before_close(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path, run_info())
    journal.record(case("TC-JOIN-1.1", Verdict.PASSED))
    # Another reader sees the case while the journal is still open: it was flushed, not buffered.
    run, cases, complete = read_journal(tmp_path)
    assert [c.case_id for c in cases] == ["TC-JOIN-1.1"] and complete is False
    journal.close()
    assert read_journal(tmp_path).complete is True


def test_record_after_close_and_reused_directory_are_refused(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path, run_info())
    journal.close()
    with pytest.raises(JournalError, match="closed"):
        journal.record(case("TC-JOIN-1.1", Verdict.PASSED))
    with pytest.raises(JournalError, match="already exists"):
        Journal.open(tmp_path, run_info())


def test_leaving_the_block_by_an_exception_does_not_complete_the_run(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), Journal.open(tmp_path, run_info()) as journal:
        journal.record(case("TC-JOIN-1.1", Verdict.PASSED))
        raise RuntimeError("the session crashed")
    assert read_journal(tmp_path).complete is False


def _cut_last_line(path: Path, keep: int) -> None:
    data = path.read_bytes()
    last_start = data.rstrip(b"\n").rfind(b"\n") + 1
    path.write_bytes(data[: last_start + keep])


def test_torn_last_case_line_is_ignored_and_report_says_incomplete(tmp_path: Path) -> None:
    path = write_journal(tmp_path, mixed_cases(), complete=False)
    _cut_last_line(path, keep=40)  # the kill came while the fifth case was being written
    contents = read_journal(tmp_path)
    assert [c.case_id for c in contents.cases] == ["TC-JOIN-1.1", "TC-JOIN-1.2", "TC-JOIN-1.3", "TC-DRLC-1.1"]
    assert contents.complete is False and contents.torn_tail is True

    built = build_report(tmp_path)
    summary = json.loads(built.summary.read_text())
    assert summary["complete"] is False and summary["torn_tail"] is True
    # A mandatory failure was observed before the kill: that verdict stands.
    assert summary["overall"]["verdict"] == "NOT CONFORMANT"
    assert 'id="incomplete"' in built.html.read_text() and "INCOMPLETE" in built.html.read_text()


def test_torn_completion_line_reads_as_incomplete(tmp_path: Path) -> None:
    path = write_journal(tmp_path, [case("TC-JOIN-1.1", Verdict.PASSED)])
    _cut_last_line(path, keep=10)
    contents = read_journal(tmp_path)
    assert contents.complete is False and len(contents.cases) == 1
    assert build_report(tmp_path).verdict is OverallVerdict.INCONCLUSIVE


def test_sigkilled_writer_keeps_every_recorded_case(tmp_path: Path) -> None:
    # A real process records three cases, says so, and waits; SIGKILL gives it no chance to close anything.
    child = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from harness.results import Journal, Verdict
        from tests.unit.reports.samples import case, run_info
        journal = Journal.open(Path(sys.argv[1]), run_info())
        for number in range(1, 4):
            journal.record(case(f"TC-JOIN-1.{number}", Verdict.PASSED))
        print("recorded", flush=True)
        sys.stdin.read()  # blocks until killed: no sleep
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", child, str(tmp_path)], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert process.stdout.readline().strip() == "recorded"
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        process.stdin.close()
        process.stdout.close()
    run, cases, complete = read_journal(tmp_path)
    assert [c.case_id for c in cases] == ["TC-JOIN-1.1", "TC-JOIN-1.2", "TC-JOIN-1.3"]
    assert complete is False
    built = build_report(tmp_path)
    assert built.complete is False and built.verdict is OverallVerdict.INCONCLUSIVE
    assert "INCOMPLETE" in built.html.read_text()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "empty journal"),
        (b'{"type":"case","case":{}}\n', "line 1: the first line must describe the run"),
        (b'{"type":"run","format":99,"run":{}}\n', "format 99"),
        (b'{"type":"run","format":1,"run":{}}\n', "journal format 1 is not 2"),  # before records were sealed
        (b'{"type":"run","format":2,"run":{}}\nnot json\n{"type":"end"}\n', "line 2: not a JSON line"),
        (b'{"type":"run","format":2,"run":{}}\n[1, 2]\n', "line 2: expected a JSON object"),
        (b'{"type":"run","format":2,"run":{}}\n{"type":"case","case":{"nodeid":"x"}}\n',
         "line 2: CaseResult.verdict: Field required"),
        (b'{"type":"run","format":2,"run":{}}\n{"type":"case","case":{"nodeid":"x","verdict":"maybe"}}\n',
         "line 2: CaseResult.verdict"),
        (b'{"type":"run","format":2,"run":{}}\n{"type":"party"}\n', "line 2: unknown entry type 'party'"),
        (b'{"type":"run","format":2,"run":{"pics":7}}\n', "line 1: RunInfo.pics"),
        (b'\xff\xfe\n', "line 1: not a JSON line"),
    ],
)
def test_malformed_journal_names_line_and_problem(tmp_path: Path, content: bytes, problem: str) -> None:
    (tmp_path / "journal.jsonl").write_bytes(content)
    with pytest.raises(JournalError) as caught:
        read_journal(tmp_path)
    assert problem in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_journal(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="no journal here"):
        read_journal(tmp_path)


def test_case_result_validation() -> None:
    assert case("TC-1", "failed", message="free text").message == CaseMessage(text="free text")
    for bad in ("../outside.pcap", "/etc/passwd", "C:/x.pcap", "a\\b.pcap", ""):
        with pytest.raises(ValueError, match="relative to the run directory"):
            case("TC-1", "passed", attachments=[bad])
    with pytest.raises(ValueError, match="no UTC offset"):
        case("TC-1", "passed", started=datetime(2025, 1, 1))
    with pytest.raises(ValueError):
        case("TC-1", "passed", duration_s=-1)
    with pytest.raises(ValueError):
        CaseResult(nodeid="x", verdict="passed", unknown_field=1)


def test_journal_with_redactor_never_writes_the_secrets(tmp_path: Path) -> None:
    redactor = Redactor()
    redactor.add_install_code(INSTALL_CODE)
    leaky = case("TC-JOIN-1.2", Verdict.FAILED, message=CaseMessage(
        observation=f"joined with link key {LINK_KEY.lower()} derived from {INSTALL_CODE}"))
    write_journal(tmp_path / "redacted", [leaky], redactor=redactor)
    write_journal(tmp_path / "revealed", [leaky])
    redacted = (tmp_path / "redacted" / "journal.jsonl").read_text()
    assert LINK_KEY.lower() not in redacted.lower() and INSTALL_CODE[:32] not in redacted.upper()
    assert "joined with link key [redacted] derived from [redacted]" in redacted
    assert LINK_KEY.lower() in (tmp_path / "revealed" / "journal.jsonl").read_text()


def test_suite_version_is_git_describe_or_the_package_version(tmp_path: Path) -> None:
    described = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True,
                               text=True, check=False)
    if described.returncode == 0:
        assert suite_version(REPO) == described.stdout.strip()
    # Outside a checkout the installed package's version stands in (or "unknown" when not installed).
    try:
        expected = version("se-conformance")
    except PackageNotFoundError:
        expected = "unknown"
    assert suite_version(tmp_path) == expected


def test_run_info_defaults_are_utc_and_name_the_host() -> None:
    info = RunInfo()
    assert info.started.utcoffset() is not None and info.started.utcoffset().total_seconds() == 0
    assert info.host and info.secrets_revealed is False

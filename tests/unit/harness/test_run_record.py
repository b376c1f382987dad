"""Verdict classes: what counts against the DUT, what is a bench error, what is blocked or not applicable."""

from __future__ import annotations

import pytest

from harness.clock import DeadlineExceeded
from harness.dut.base import DutControlError
from harness.dut.manual import ManualStepBlocked
from harness.golden.golden import NoResponse
from harness.results import Verdict
from harness.run_record import case_result, classify, message_of, retryable, steps_of
from harness.testbed import BenchError
from harness.verdict import NonConformance
from harness.zcl.errors import ZclTimeout


@pytest.mark.parametrize(("exception", "verdict"), [
    (None, Verdict.PASSED),
    (NonConformance("x", "y", "z"), Verdict.FAILED),
    (AssertionError("plain"), Verdict.ERROR),  # a bare assert is the harness's, not a DUT verdict
    (TimeoutError("builtin"), Verdict.ERROR),  # a library's timeout is not the DUT's by itself
    (ZclTimeout("no answer"), Verdict.FAILED),
    (NoResponse("no ack"), Verdict.FAILED),
    (DeadlineExceeded("late"), Verdict.FAILED),
    (BenchError("radio gone"), Verdict.ERROR),
    (DutControlError("serial timeout"), Verdict.ERROR),
    (KeyError("harness defect"), Verdict.ERROR),
    (ManualStepBlocked("nobody pressed the button"), Verdict.BLOCKED),
])
def test_classify(exception, verdict):
    assert classify(exception) == verdict


def test_skips_are_not_applicable_or_blocked():
    assert classify(None, "not applicable: PICS SE.DRLC.C") == Verdict.NOT_APPLICABLE
    assert classify(None, "blocked: no operator") == Verdict.BLOCKED


def test_only_bench_faults_are_retried():
    assert retryable(BenchError("radio gone")) and retryable(DutControlError("serial"))
    assert not retryable(NonConformance("x", "y", "z"))
    assert not retryable(KeyError("defect"))  # an error, but retrying a defect repeats it
    assert not retryable(None)


def test_message_keeps_the_three_parts():
    assert message_of(NonConformance("annce", "none", "Zigbee 2.4.3.1.11"), "...") == {
        "expectation": "annce", "observation": "none", "rule": "Zigbee 2.4.3.1.11"}
    assert message_of(KeyError("k"), "long traceback") == {"text": "long traceback"}


def test_steps_after_the_failing_one_did_not_run():
    scenario = {"steps": [{"keyword": "Given", "name": "a", "failed": False},
                          {"keyword": "Then", "name": "b", "failed": True},
                          {"keyword": "And", "name": "c", "failed": True}]}
    assert [s["outcome"] for s in steps_of(scenario)] == ["passed", "failed", "not_run"]


def test_case_result_combines_the_phases():
    phases = {
        "setup": {"verdict": "passed", "duration": 0.1, "case_id": "TC-JOIN-1.5", "title": "t", "area": "joining"},
        "call": {"verdict": "failed", "duration": 0.2, "case_id": "TC-JOIN-1.5",
                 "message": {"expectation": "e", "observation": "o", "rule": "r"}},
        "teardown": {"verdict": "passed", "duration": 0.05, "attachments": ["TC-JOIN-1.5/capture.pcap"],
                     "bench_errors": [{"attempt": 1, "error": "BenchError: radio gone"}]},
    }
    result = case_result("steps/test_joining.py::x", phases)
    assert result.verdict == Verdict.FAILED and result.case_id == "TC-JOIN-1.5"
    assert result.message.expectation == "e" and result.attachments == ["TC-JOIN-1.5/capture.pcap"]
    assert result.bench_errors[0].attempt == 1 and abs(result.duration_s - 0.35) < 1e-9


def test_a_setup_error_is_an_error():
    result = case_result("n", {"setup": {"verdict": "error", "message": {"text": "radio gone"}},
                               "teardown": {"verdict": "passed"}})
    assert result.verdict == Verdict.ERROR


def test_the_dut_identity_read_on_the_air_is_kept_beside_the_declared_one(tmp_path):
    from harness.results import DutIdentity, Journal, RunInfo, read_journal

    journal = Journal.open(tmp_path, RunInfo(dut=DutIdentity(manufacturer="Profile Co", model="P1")))
    journal.update_dut(DutIdentity(manufacturer="Other Co", model="P1", firmware="1.2.3", date_code="20261122"))
    journal.close({})
    run, _cases, complete = read_journal(tmp_path)
    assert complete and run.dut.manufacturer == "Profile Co" and run.dut.firmware == ""
    assert run.observed_dut.manufacturer == "Other Co" and run.observed_dut.firmware == "1.2.3"

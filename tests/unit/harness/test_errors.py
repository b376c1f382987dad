"""Cause by type and phase: which exceptions count against the DUT, which are bench faults, which are retried."""

from __future__ import annotations

import pytest
import zigpy.exceptions
from zigpy.zcl.foundation import Status

from harness import errors
from harness.backends.hardware import HookError
from harness.capture.keys import KeyFileError, read_key_file
from harness.capture.pcap import CaptureError
from harness.clock import DeadlineExceeded
from harness.dut.base import DutControlError
from harness.dut.manual import ManualStepBlocked
from harness.golden.golden import GoldenError, NoResponse, UndecodableFrame
from harness.golden.ke import GoldenKeError
from harness.golden.trust_center import TrustCenterError
from harness.radio.ezsp import CbkeUnavailable, EzspRadioError
from harness.radio.sim import SimRadioError
from harness.results import Verdict
from harness.run_record import case_result, classify, message_of, retryable
from harness.testbed import BenchError
from harness.verdict import NonConformance
from harness.zcl.errors import MalformedFrame, ZclStatusError, ZclTimeout

RAW = bytes.fromhex("18010100")


@pytest.mark.parametrize(("exception", "phase", "verdict"), [
    # before the DUT is asked to act, whatever the type
    (BenchError("radio gone"), "setup", Verdict.ERROR),
    (TimeoutError("forming the simulated network did not complete"), "setup", Verdict.ERROR),
    (DeadlineExceeded("forming the simulated network did not complete within 60 s"), "setup", Verdict.ERROR),
    (NonConformance("e", "o", "r"), "setup", Verdict.ERROR),
    (MalformedFrame("short", RAW), "setup", Verdict.ERROR),
    # the DUT's doing
    (NonConformance("e", "o", "r"), "call", Verdict.FAILED),
    (MalformedFrame("Read_Attributes_rsp payload: 1 trailing bytes", RAW), "call", Verdict.FAILED),
    (errors.ApsNotAcknowledged("no APS ack from 0x1234"), "call", Verdict.FAILED),
    (errors.DutUnreachable("no MAC ack from 0x1234"), "call", Verdict.FAILED),
    (ZclTimeout("no response"), "call", Verdict.FAILED),
    (ZclStatusError("Read Attributes", Status.FAILURE), "call", Verdict.FAILED),
    (NoResponse("no Active_EP_rsp"), "call", Verdict.FAILED),
    (DeadlineExceeded("the DUT's rejoin did not complete within 30 s"), "call", Verdict.FAILED),
    (errors.MalformedDutFrame("not well-formed XML", b"<a"), "teardown", Verdict.FAILED),
    # the bench's doing, or the harness's own defect
    (BenchError("radio gone"), "call", Verdict.ERROR),
    (BenchError("radio gone"), "teardown", Verdict.ERROR),
    (zigpy.exceptions.DeliveryError("no MAC ack on a real bench"), "call", Verdict.ERROR),
    (errors.DeliveryFault("undelivered"), "call", Verdict.ERROR),
    (TimeoutError("bellows: no EZSP answer"), "call", Verdict.ERROR),
    (IndexError("list index out of range"), "call", Verdict.ERROR),
    (KeyError("descriptors"), "call", Verdict.ERROR),
    (AssertionError("a bare assert in a step"), "call", Verdict.ERROR),
    (CaptureError("sniffer capture: bad magic"), "call", Verdict.ERROR),
    # nobody performed a manual step: blocked in any phase
    (ManualStepBlocked("no terminal"), "call", Verdict.BLOCKED),
    (ManualStepBlocked("no terminal"), "setup", Verdict.BLOCKED),
])
def test_classify_by_type_and_phase(exception, phase, verdict):
    assert classify(exception, phase=phase) == verdict


@pytest.mark.parametrize(("cls", "base"), [
    (NonConformance, errors.DutFailure), (NonConformance, AssertionError),
    (MalformedFrame, errors.MalformedDutFrame), (MalformedFrame, ValueError),
    (ZclTimeout, errors.DutSilent), (NoResponse, errors.DutSilent), (DeadlineExceeded, errors.DutSilent),
    (errors.DutSilent, TimeoutError), (ZclStatusError, errors.DutRefused),
    (errors.ApsNotAcknowledged, zigpy.exceptions.DeliveryError),
    (BenchError, errors.BenchFault), (DutControlError, errors.BenchFault), (GoldenError, errors.BenchFault),
    (GoldenKeError, errors.BenchFault), (TrustCenterError, errors.BenchFault), (HookError, errors.BenchFault),
    (SimRadioError, errors.BenchFault), (EzspRadioError, errors.BenchFault), (CbkeUnavailable, errors.BenchFault),
    (CaptureError, errors.BenchFault), (errors.DeliveryFault, errors.BenchFault),
    (ManualStepBlocked, errors.StepBlocked),
])
def test_each_error_class_derives_from_its_family(cls, base):
    assert issubclass(cls, base)


def test_retries_are_marked_by_class_not_name():
    for fault in (BenchError("x"), DutControlError("x"), GoldenError("x"), HookError("x"), SimRadioError("x"),
                  EzspRadioError("x"), errors.DeliveryFault("x"), ConnectionError("serial link lost")):
        assert retryable(fault), fault
    for not_retried in (CaptureError("x"), GoldenKeError("x"), IndexError("x"), NonConformance("e", "o", "r"),
                        ZclTimeout("x"), errors.ApsNotAcknowledged("x"), None):
        assert not retryable(not_retried), not_retried

    class RenamedBenchError(RuntimeError):  # same name as a bench fault, another family: not retried
        pass

    RenamedBenchError.__name__ = "BenchError"
    assert not retryable(RenamedBenchError("x")) and classify(RenamedBenchError("x")) == Verdict.ERROR


def test_a_timeout_in_setup_is_retried_as_a_bench_fault():
    assert retryable(DeadlineExceeded("forming the simulated network did not complete"), "setup")
    assert not retryable(DeadlineExceeded("the DUT's answer did not come"), "call")  # the DUT's, never retried


def test_a_malformed_frame_fails_with_its_bytes_in_three_parts():
    message = message_of(MalformedFrame("Read_Attributes_rsp payload: 1 trailing bytes", RAW), "traceback")
    assert message is not None and set(message) >= {"expectation", "observation", "rule"}
    assert "18010100" in message["observation"] and "well-formed" in message["expectation"] and message["rule"]


def test_an_undecodable_dut_frame_becomes_a_failure_with_its_bytes():
    finding = UndecodableFrame(1.5, "0x1BD6", "ZDO Device_annce", "payload does not decode", b"\x01\x02")
    failure = finding.failure(more=2)
    assert classify(failure) == Verdict.FAILED
    assert "0102" in failure.observation and "0x1BD6" in failure.observation and "2 more" in failure.observation


def test_every_dut_failure_has_expected_observed_and_rule():
    for failure in (ZclTimeout("no response to Read Attributes within 10 s"), NoResponse("no Active_EP_rsp"),
                    errors.ApsNotAcknowledged("no APS ack"), ZclStatusError("Read Attributes", Status.FAILURE),
                    DeadlineExceeded("the DUT's rejoin did not complete within 30 s")):
        message = message_of(failure, "traceback")
        assert message and all(message.get(k) for k in ("expectation", "observation", "rule")), failure


def test_a_finding_raised_at_teardown_fails_a_case_whose_steps_passed():
    phases = {"setup": {"verdict": "passed"}, "call": {"verdict": "passed"},
              "teardown": {"verdict": "failed", "message": {"expectation": "a well-formed frame", "observation": "o",
                                                            "rule": "r"}}}
    result = case_result("n", phases)
    assert result.verdict == Verdict.FAILED and result.message.expectation == "a well-formed frame"


@pytest.mark.parametrize("content", [
    b"\xff\xfe\x00garbage", b'"0011","Normal","short"\n', b'"ABC","Normal","odd digits"\n', b"not a record\n",
    b'"00112233445566778899AABBCCDDEEFF","Sideways","order"\n',
])
def test_read_key_file_raises_only_key_file_error(tmp_path, content):
    path = tmp_path / "capture.keys"
    path.write_bytes(content)
    with pytest.raises(KeyFileError):
        read_key_file(path)

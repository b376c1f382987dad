"""The EmberZNet-like refusal of an SE command without APS security (SecurityPolicy REFUSE): a Default Response
with the policy's status, itself without APS security, and nothing processed."""

from __future__ import annotations

import zigpy.types as t
from zigpy.zcl.foundation import Status

from harness.zcl import FindingKind, InsecureFrameAction, SecurityPolicy

from .conftest import packet

EMBER = SecurityPolicy(on_missing=InsecureFrameAction.REFUSE, refusal_status=Status.NOT_AUTHORIZED)


def run(loop, dut, *packets):
    for p in packets:
        loop.run_until_complete(dut.engine.handle(p))
    return dut.sent_hex()


def test_a_read_without_aps_security_is_refused_not_answered(loop, dut):
    dut.engine.security = EMBER
    # Read Attributes (tsn 0x43, server to client) of the DRLC client's attribute 0x0000, without APS security.
    out = run(loop, dut, packet("084300" "0000", 0x0701, aps=False))
    assert out == ["10430b" "00" "7e"]  # Default Response to command 0x00: NOT_AUTHORIZED, no Read response
    assert t.TransmitOptions.APS_Encryption not in dut.sent[0].tx_options
    assert dut.engine.findings[0].kind is FindingKind.MISSING_APS_SECURITY


def test_the_refusal_status_is_the_policys_and_the_disable_default_response_bit_does_not_hide_it(loop, dut):
    dut.engine.security = SecurityPolicy(on_missing=InsecureFrameAction.REFUSE, refusal_status=Status.FAILURE)
    out = run(loop, dut, packet("184400" "0000", 0x0701, aps=False))  # DDR set: an error is still answered
    assert out == ["10440b" "00" "01"]


def test_a_cluster_command_without_aps_security_is_refused_before_its_handler(loop, dut):
    dut.engine.security = EMBER
    handled = []
    dut.engine.register_handler(0x0701, 1, 0x00, handled.append)  # Side.CLIENT receives Load Control Event
    run(loop, dut, packet("094500" + "00" * 23, 0x0701, aps=False))
    assert handled == [] and dut.sent_hex() == ["10450b" "00" "7e"]


def test_no_refusal_to_a_response_a_broadcast_or_a_malformed_frame(loop, dut):
    dut.engine.security = EMBER
    out = run(loop, dut,
              packet("18460b" "0000", 0x0701, aps=False),  # a Default Response
              packet("084700" "0000", 0x0701, aps=False, dst=0xFFFD, dst_ep=0xFF),  # a broadcast
              packet("08", 0x0701, aps=False))  # not a ZCL frame
    assert out == []


def test_with_aps_security_the_refusing_engine_answers_as_usual(loop, dut):
    dut.engine.security = EMBER
    out = run(loop, dut, packet("084800" "0000", 0x0701))
    assert out == ["104801" "0000" "00" "20" "00"]  # Read Attributes Response: UtilityEnrollmentGroup uint8 0
    assert t.TransmitOptions.APS_Encryption in dut.sent[0].tx_options


def test_the_default_policy_still_drops_silently(loop, dut):
    assert run(loop, dut, packet("084900" "0000", 0x0701, aps=False)) == []

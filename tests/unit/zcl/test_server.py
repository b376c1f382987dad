"""Server dispatch answers as ZCL 07-5123 says; every frame below is built by hand."""

from __future__ import annotations

import zigpy.types as t
from zigpy.zcl.foundation import Status, TypeValue

from harness.se.datamodel import Side
from harness.zcl import AttributeKey, FindingKind

from .conftest import packet


def run(loop, dut, *packets):
    for p in packets:
        loop.run_until_complete(dut.engine.handle(p))
    return dut.sent_hex()


# --- Read Attributes ---------------------------------------------------------------------------------

def test_read_attributes_reports_each_record(loop, dut):
    # fc 0x00 (general, client->server), tsn 0x01, Read Attributes: 0x0000, 0x0007, 0xFF00
    out = run(loop, dut, packet("000100" "0000" "0700" "00ff", 0x0000, aps=False))
    # fc 0x18 (server->client, DDR), Read Attributes Response: ZCL version INT8U 3, power source ENUM8 0,
    # 0xFF00 UNSUPPORTED_ATTRIBUTE (0x86)
    assert out == ["180101" "00000020" "03" "07000030" "00" "00ff86"]
    assert dut.sent[0].dst_ep == 1 and dut.sent[0].src_ep == 1 and dut.sent[0].tsn == 1
    assert t.TransmitOptions.APS_Encryption not in dut.sent[0].tx_options  # Basic: NWK security only


def test_read_of_a_string_attribute(loop, dut):
    out = run(loop, dut, packet("000200" "0400", 0x0000, aps=False))
    assert out == ["180201" "0400" "00" "42" "0441636d65"]


def test_read_of_client_attributes_uses_the_server_to_client_direction(loop, dut):
    # fc 0x08: general, server->client: reads the DRLC *client* attributes of the DUT
    out = run(loop, dut, packet("080300" "0100", 0x0701))
    assert out == ["100301" "0100" "00" "20" "1e"]  # StartRandomizationMinutes default 0x1E
    assert t.TransmitOptions.APS_Encryption in dut.sent[0].tx_options


def test_read_of_a_cluster_the_endpoint_lacks(loop, dut):
    out = run(loop, dut, packet("000400" "0000", 0x0703))
    assert out == ["18040b" "00" "c3"]  # Default Response UNSUPPORTED_CLUSTER


# --- Write Attributes --------------------------------------------------------------------------------

def test_write_to_read_only_attribute(loop, dut):
    out = run(loop, dut, packet("000502" "000020" "05", 0x0000, aps=False))
    assert out == ["180504" "88" "0000"]  # READ_ONLY, attribute 0x0000


def test_write_out_of_range_wrong_type_and_unsupported(loop, dut):
    out = run(
        loop,
        dut,
        packet("080602" "010020" "3d", 0x0701),  # StartRandomizationMinutes 0x3D > max 0x3C
        packet("080702" "010021" "1000", 0x0701),  # uint16 for an INT8U attribute
        packet("080802" "090020" "01", 0x0701),  # no attribute 0x0009
    )
    assert out == ["100604" "87" "0100", "100704" "8d" "0100", "100804" "86" "0900"]
    assert dut.engine.store.get(AttributeKey(1, 0x0701, Side.CLIENT, 1)) == 0x1E


def test_successful_write_answers_a_single_success_record(loop, dut):
    out = run(loop, dut, packet("080902" "010020" "10" "020020" "05", 0x0701))
    assert out == ["100904" "00"]
    store = dut.engine.store
    assert store.get(AttributeKey(1, 0x0701, Side.CLIENT, 1)) == 0x10
    assert store.get(AttributeKey(1, 0x0701, Side.CLIENT, 2)) == 0x05


def test_plain_write_keeps_the_good_records_undivided_keeps_none(loop, dut):
    key1, key2 = AttributeKey(1, 0x0701, Side.CLIENT, 1), AttributeKey(1, 0x0701, Side.CLIENT, 2)
    out = run(loop, dut, packet("080a03" "010020" "10" "020020" "ff", 0x0701))  # undivided
    assert out == ["100a04" "87" "0200"]
    assert dut.engine.store.get(key1) == 0x1E  # nothing written
    out = run(loop, dut, packet("080b02" "010020" "10" "020020" "ff", 0x0701))  # plain
    assert out[-1] == "100b04" "87" "0200"
    assert dut.engine.store.get(key1) == 0x10 and dut.engine.store.get(key2) == 0


def test_write_no_response(loop, dut):
    key = AttributeKey(1, 0x0701, Side.CLIENT, 0)
    out = run(loop, dut, packet("180c05" "000020" "07", 0x0701))  # DDR set: silence
    assert out == []
    assert dut.engine.store.get(key) == 7
    out = run(loop, dut, packet("080d05" "000020" "08", 0x0701))  # DDR clear: Default Response only
    assert out == ["100d0b" "05" "00"]


# --- Discover Attributes -----------------------------------------------------------------------------

def test_discover_attributes_lists_ids_and_types(loop, dut):
    out = run(loop, dut, packet("080e0c" "0000" "ff", 0x0701))
    assert out == ["100e0d" "01" "000020" "010020" "020020" "030021"]


def test_discover_attributes_with_a_limit_is_not_complete(loop, dut):
    out = run(loop, dut, packet("080f0c" "0100" "02", 0x0701))
    assert out == ["100f0d" "00" "010020" "020020"]


# --- Command and Default Response rules ---------------------------------------------------------------

def test_unsupported_cluster_command(loop, dut):
    out = run(loop, dut, packet("011000", 0x0000, aps=False))  # Basic ResetToFactoryDefaults, no handler
    assert out == ["18100b" "00" "81"]


def test_unsupported_general_command(loop, dut):
    out = run(loop, dut, packet("001111" "00ff", 0x0000, aps=False))  # Discover Commands Received
    assert out == ["18110b" "11" "82"]


def test_manufacturer_specific_frames(loop, dut):
    out = run(
        loop,
        dut,
        packet("043412" "12" "00" "0000", 0x0000, aps=False),  # general, manufacturer 0x1234
        packet("053412" "13" "00", 0x0000, aps=False),  # cluster, manufacturer 0x1234
    )
    assert out == ["1c3412" "120b" "00" "84", "1c3412" "130b" "00" "83"]


def test_default_response_rules_for_handled_commands(loop, dut):
    statuses = iter([None, Status.SUCCESS, Status.INVALID_FIELD])
    dut.engine.register_handler(0x0000, Side.SERVER, 0x00, lambda request: next(statuses))
    out = run(
        loop,
        dut,
        packet("012000", 0x0000, aps=False),  # DDR clear, success -> Default Response SUCCESS
        packet("112100", 0x0000, aps=False),  # DDR set, success -> nothing
        packet("112200", 0x0000, aps=False),  # DDR set, error -> Default Response anyway
    )
    assert out == ["18200b" "00" "00", "18220b" "00" "85"]


def test_no_default_response_to_broadcasts_or_default_responses(loop, dut):
    out = run(
        loop,
        dut,
        packet("013000", 0x0000, aps=False, dst=0xFFFF),  # broadcast, unsupported command
        packet("013100", 0x0000, aps=False, dst=0x0005, dst_mode=t.AddrMode.Group),
        packet("08320b" "0000", 0x0701),  # an unsolicited Default Response
        packet("083301" "0000" "86", 0x0701),  # an unsolicited Read Attributes Response
    )
    assert out == []


def test_broadcast_read_is_still_answered(loop, dut):
    out = run(loop, dut, packet("003400" "0000", 0x0000, aps=False, dst=0xFFFD, dst_ep=0xFF))
    assert out == ["183401" "00000020" "03"]


def test_cluster_command_reaches_its_handler_decoded(loop, dut):
    seen = []

    async def on_lce(request):
        seen.append(request.command)
        await request.respond(0x00, bytes.fromhex("78563412" "01") + bytes(55))

    dut.engine.register_handler(0x0701, Side.CLIENT, 0x00, on_lce)
    lce = "78563412" "0400" "00" "00000000" "3c00" "05" "ff" "ff" "0080" "0080" "80" "ff" "00"
    out = run(loop, dut, packet("094000" + lce, 0x0701))  # fc 0x09: cluster, server->client
    assert seen[0].issuer_event_id == 0x12345678 and seen[0].duration_in_minutes == 60
    assert out == ["114000" "78563412" "01" + "00" * 55]  # client->server, DDR; the handler's answer, no Default Response


# --- Findings -----------------------------------------------------------------------------------------

def test_malformed_frames_become_findings(loop, dut):
    out = run(
        loop,
        dut,
        packet("0001", 0x0000, aps=False),  # too short
        packet("020100", 0x0000, aps=False),  # reserved frame type
        packet("0434", 0x0000, aps=False),  # manufacturer bit set, header cut
    )
    assert out == []
    kinds = [(f.kind, f.raw.hex()) for f in dut.engine.findings]
    assert kinds == [
        (FindingKind.MALFORMED_FRAME, "0001"),
        (FindingKind.MALFORMED_FRAME, "020100"),
        (FindingKind.MALFORMED_FRAME, "0434"),
    ]
    assert "shorter than the 3-byte ZCL header" in dut.engine.findings[0].reason


def test_malformed_payload_gets_malformed_command(loop, dut):
    out = run(loop, dut, packet("004100" "000007", 0x0000, aps=False))  # 3-byte attribute list
    assert out == ["18410b" "00" "80"]
    assert dut.engine.findings[0].kind is FindingKind.MALFORMED_PAYLOAD


def test_short_load_control_event_is_malformed(loop, dut):
    dut.engine.register_handler(0x0701, Side.CLIENT, 0x00, lambda request: None)
    out = run(loop, dut, packet("094200" "785634120400", 0x0701))
    assert out == ["10420b" "00" "80"]
    assert dut.engine.findings[0].kind is FindingKind.MALFORMED_PAYLOAD


def test_application_cluster_without_aps_encryption_is_dropped(loop, dut):
    out = run(loop, dut, packet("084300" "0000", 0x0701, aps=False))
    assert out == []
    assert dut.engine.findings[0].kind is FindingKind.MISSING_APS_SECURITY


def test_key_establishment_needs_only_network_security(loop, dut):
    out = run(loop, dut, packet("004400" "0000", 0x0800, aps=False))
    assert out == ["184401" "0000" "00" "31" "0100"]  # suite attribute ENUM16 = 1
    assert t.TransmitOptions.APS_Encryption not in dut.sent[0].tx_options
    assert dut.engine.findings == []


def test_a_failing_handler_is_a_finding_not_a_crash(loop, dut):
    def broken(request):
        raise RuntimeError("boom")

    dut.engine.register_handler(0x0000, Side.SERVER, 0x00, broken)
    run(loop, dut, packet("014500", 0x0000, aps=False))
    assert dut.engine.findings[0].kind is FindingKind.HANDLER_ERROR
    assert "boom" in dut.engine.findings[0].reason


def test_local_write_helper_types_values(loop, dut):
    key = AttributeKey(1, 0x0702, Side.SERVER, 0x0000)
    dut.engine.store.set(key, 123456)
    assert dut.engine.store.check_write(key, TypeValue(type=0x25, value=t.uint48_t(1))) == Status.READ_ONLY
    out = run(loop, dut, packet("004600" "0000", 0x0702))
    assert out == ["184601" "0000" "00" "25" "40e201000000"]

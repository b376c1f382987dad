"""SE command payloads decode and encode byte for byte in the field order of Wireshark's SE dissector.

Field orders checked against epan/dissectors/packet-zbee-zcl-se.c (dissect_zcl_drlc_load_control_event,
dissect_zcl_drlc_report_event_status, ...) and SE-FACTS; the byte strings below are built by hand.
"""

from __future__ import annotations

import pytest

from harness.se.clusters import Drlc, KeyEstablishment, Messaging, Price
from harness.se.types import (
    CancelControl,
    DeviceClass,
    EventControl,
    EventStatus,
    KeyEstablishmentStatus,
    KeyEstablishmentSuite,
    SeTypeError,
    SignatureType,
)

LCE = bytes.fromhex(
    "78563412"  # issuer event id 0x12345678
    "0400"  # device class: water heater
    "00"  # utility enrollment group
    "00000000"  # start time: now
    "3c00"  # duration 60 min
    "05"  # criticality
    "ff" "ff"  # cooling / heating temperature offset unused
    "0080" "0080"  # cooling / heating set point unused (0x8000)
    "80"  # average load adjustment unused
    "ff"  # duty cycle unused
    "03"  # event control: randomize start and end
)


def test_load_control_event_is_23_bytes_in_dissector_order():
    assert len(LCE) == 23
    schema = Drlc.ClientCommandDefs.load_control_event.schema
    cmd, rest = schema.deserialize(LCE)
    assert rest == b""
    assert cmd.issuer_event_id == 0x12345678
    assert cmd.device_class == DeviceClass.Water_Heater
    assert cmd.utility_enrollment_group == 0
    assert cmd.start_time == 0
    assert cmd.duration_in_minutes == 60
    assert cmd.criticality_level == 5
    assert (cmd.cooling_temperature_offset, cmd.heating_temperature_offset) == (0xFF, 0xFF)
    assert (cmd.cooling_temperature_set_point, cmd.heating_temperature_set_point) == (-0x8000, -0x8000)
    assert cmd.average_load_adjustment_percentage == -128
    assert cmd.duty_cycle == 0xFF
    assert cmd.event_control == EventControl.Randomize_Start_Time | EventControl.Randomize_End_Time
    assert cmd.serialize() == LCE


def test_short_load_control_event_is_rejected():
    with pytest.raises(ValueError):
        Drlc.ClientCommandDefs.load_control_event.schema.deserialize(LCE[:22])


def test_cancel_load_control_event():
    data = bytes.fromhex("78563412" "0400" "00" "01" "10203040")
    cmd, _ = Drlc.ClientCommandDefs.cancel_load_control_event.schema.deserialize(data)
    assert cmd.cancel_control == CancelControl.Use_Randomized_End
    assert cmd.effective_time == 0x40302010
    assert cmd.serialize() == data


def test_report_event_status_with_unsigned_signature():
    data = bytes.fromhex(
        "78563412" "01" "403f2e1e" "05" "0080" "0080" "80" "ff" "00" "00"
    ) + b"\xff" * 42
    assert len(data) == 60
    cmd, rest = Drlc.ServerCommandDefs.report_event_status.schema.deserialize(data)
    assert rest == b""
    assert cmd.event_status == EventStatus.Load_Control_Event_Command_Received
    assert cmd.event_status_time == 0x1E2E3F40
    assert cmd.criticality_level_applied == 5
    assert cmd.signature_type == SignatureType.No_Signature
    assert bytes(cmd.signature) == b"\xff" * 42
    assert cmd.serialize() == data


def test_report_event_status_with_short_signature_is_rejected():
    data = bytes.fromhex("78563412" "01" "403f2e1e" "05" "0080" "0080" "80" "ff" "00" "00") + b"\xff" * 41
    with pytest.raises(SeTypeError, match="Signature: expected 42 bytes, got 41"):
        Drlc.ServerCommandDefs.report_event_status.schema.deserialize(data)


PUBLISH_PRICE_SE10 = bytes.fromhex(
    "01000000"  # provider id
    "0442415345"  # rate label "BASE"
    "02000000"  # issuer event id
    "00000020"  # current time
    "00"  # unit of measure kWh
    "4803"  # currency 840 (USD)
    "21"  # trailing digit 2 | tier 1
    "31"  # 3 tiers | register tier 1
    "00000000"  # start time now
    "ffff"  # duration until changed
    "0f000000"  # price 15
)


def test_publish_price_without_optional_fields():
    cmd, rest = Price.ClientCommandDefs.publish_price.schema.deserialize(PUBLISH_PRICE_SE10)
    assert rest == b""
    assert cmd.rate_label == b"BASE"
    assert cmd.currency == 840
    assert (cmd.price_trailing_digit_and_price_tier.trailing_digit, cmd.price_trailing_digit_and_price_tier.price_tier) == (2, 1)
    assert cmd.number_of_price_tiers_and_register_tier.number_of_price_tiers == 3
    assert cmd.duration_in_minutes == 0xFFFF
    assert cmd.price == 15
    assert cmd.price_ratio is None and cmd.price_control is None
    assert cmd.serialize() == PUBLISH_PRICE_SE10


def test_publish_price_with_se11_tail():
    tail = bytes.fromhex("ff" "ffffffff" "ff" "ffffffff" "01" "00" "00" "01")
    cmd, rest = Price.ClientCommandDefs.publish_price.schema.deserialize(PUBLISH_PRICE_SE10 + tail)
    assert rest == b""
    assert cmd.price_ratio == 0xFF
    assert cmd.alternate_cost_unit == 1
    assert cmd.number_of_block_thresholds == 0
    assert cmd.price_control == 1
    assert cmd.serialize() == PUBLISH_PRICE_SE10 + tail


def test_display_message():
    data = bytes.fromhex("01000000" "85" "00000000" "3c00" "0548656c6c6f")
    cmd, _ = Messaging.ClientCommandDefs.display_message.schema.deserialize(data)
    assert cmd.message_id == 1
    assert cmd.message_control.confirmation_required == 1
    assert cmd.message_control.transmission == 1 and cmd.message_control.importance == 1
    assert cmd.message == "Hello"
    assert cmd.optional_extended_message_control is None
    assert cmd.serialize() == data


def test_message_confirmation_se10_form():
    data = bytes.fromhex("01000000" "10203040")
    cmd, _ = Messaging.ServerCommandDefs.message_confirmation.schema.deserialize(data)
    assert (cmd.message_id, cmd.confirmation_time) == (1, 0x40302010)


CERT = bytes(range(48))


def test_initiate_key_establishment_request_suite1():
    data = bytes.fromhex("0100" "10" "10") + CERT
    cmd, rest = KeyEstablishment.ServerCommandDefs.initiate_key_establishment_request.schema.deserialize(data)
    assert rest == b""
    assert cmd.key_establishment_suite == KeyEstablishmentSuite.Suite_1
    assert (cmd.ephemeral_data_generate_time, cmd.confirm_key_generate_time) == (0x10, 0x10)
    assert bytes(cmd.identity) == CERT
    assert cmd.serialize() == data


def test_initiate_key_establishment_with_bad_certificate_length():
    data = bytes.fromhex("0100" "10" "10") + CERT[:40]
    with pytest.raises(SeTypeError, match="Certificate: expected 48 or 74 bytes, got 40"):
        KeyEstablishment.ServerCommandDefs.initiate_key_establishment_request.schema.deserialize(data)


def test_ephemeral_and_confirm_key_data():
    qe = bytes([0x03]) + bytes(21)
    cmd, _ = KeyEstablishment.ClientCommandDefs.ephemeral_data_response.schema.deserialize(qe)
    assert bytes(cmd.ephemeral_data) == qe
    mac = bytes(range(16))
    cmd, rest = KeyEstablishment.ServerCommandDefs.confirm_key_data_request.schema.deserialize(mac + b"\x99")
    assert bytes(cmd.secure_message_authentication_code) == mac and rest == b"\x99"


def test_terminate_key_establishment_both_directions():
    data = bytes.fromhex("01" "0a" "0100")
    for defs in (KeyEstablishment.ServerCommandDefs, KeyEstablishment.ClientCommandDefs):
        cmd, _ = defs.terminate_key_establishment.schema.deserialize(data)
        assert cmd.status_code == KeyEstablishmentStatus.Unknown_Issuer
        assert cmd.wait_time == 10
        assert cmd.key_establishment_suite == KeyEstablishmentSuite.Suite_1

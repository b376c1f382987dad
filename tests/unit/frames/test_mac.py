"""IEEE 802.15.4 MAC codec: FCS, round trips, real frames (kristian/zbtk test data), malformed input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.wire.frames import (
    AddrMode,
    AssociationRequest,
    AssociationResponse,
    AssociationStatus,
    Beacon,
    BeaconRequest,
    CapabilityInformation,
    DataRequest,
    DisassociationNotification,
    FrameError,
    MacFrame,
    MacFrameType,
    ZigbeeBeaconPayload,
    beacon_request_frame,
    fcs,
    parse_mac_command,
)

from .vectors import psdu, with_fcs


def test_fcs_check_value_is_crc16_kermit():
    # CRC-16/KERMIT check value (reveng catalogue): CRC of "123456789" is 0x2189.
    assert fcs(b"123456789") == 0x2189


def _bitwise_kermit(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc


@given(st.binary(max_size=127))
def test_fcs_equals_bitwise_reference(data):
    assert fcs(data) == _bitwise_kermit(data)


def test_ack_frame_carries_its_fcs_little_endian():
    frame = MacFrame.ack(0x56).serialize()
    assert frame[:3] == bytes([0x02, 0x00, 0x56])
    assert int.from_bytes(frame[3:], "little") == _bitwise_kermit(frame[:3])


def test_data_frame_layout_with_pan_id_compression():
    frame = MacFrame.data(0x33, 0x1A62, 0x0000, 0x1234, b"\xAA\xBB")
    raw = frame.serialize()
    # fc 0x8861: data, ack request, PAN-id compression, short dst, short src; then seq, PAN, dst, src.
    assert raw[:-2] == bytes.fromhex("6188" "33" "621a" "0000" "3412" "aabb")
    assert MacFrame.deserialize(raw) == MacFrame(
        MacFrameType.DATA, 0x33, AddrMode.SHORT, 0x1A62, 0, AddrMode.SHORT, 0x1A62, 0x1234, b"\xAA\xBB", True, False,
        True, 0,
    )


def test_broadcast_data_frame_requests_no_ack():
    raw = MacFrame.data(1, 0x1A62, 0xFFFF, 0x0000, b"x").serialize()
    assert raw[0] & 0x20 == 0


def test_extended_addresses_and_separate_pans_round_trip():
    frame = MacFrame(
        MacFrameType.COMMAND, 200, AddrMode.EXTENDED, 0x1111, 0x00124B0001020304, AddrMode.EXTENDED, 0x2222,
        0x00124B00AABBCCDD, DataRequest().serialize(), pan_id_compression=False, frame_version=1,
    )
    raw = frame.serialize()
    assert len(raw) == 3 + 2 + 8 + 2 + 8 + 1 + 2
    decoded = MacFrame.deserialize(raw)
    assert (decoded.dst_addr, decoded.src_addr, decoded.src_pan, decoded.frame_version) == (
        0x00124B0001020304, 0x00124B00AABBCCDD, 0x2222, 1,
    )
    assert raw[5:13] == bytes.fromhex("04030201004b1200")  # IEEE addresses go little-endian


def test_ack_round_trip():
    raw = MacFrame.ack(7, frame_pending=True).serialize()
    assert len(raw) == 5 and raw[0] == 0x12
    decoded = MacFrame.deserialize(raw)
    assert decoded.frame_type == MacFrameType.ACK and decoded.seq == 7 and decoded.frame_pending


def test_beacon_request_layout():
    raw = beacon_request_frame(0x42).serialize()
    # 802.15.4-2006 7.3.7: fc 0x0803, dst PAN 0xFFFF, dst 0xFFFF, no source, command 0x07.
    assert raw[:-2] == bytes.fromhex("0308" "42" "ffff" "ffff" "07")
    assert isinstance(parse_mac_command(MacFrame.deserialize(raw).payload), BeaconRequest)


@pytest.mark.parametrize(
    "command",
    [
        AssociationRequest(CapabilityInformation(full_function_device=True, mains_powered=True, rx_on_when_idle=True)),
        AssociationResponse(0x1234, AssociationStatus.SUCCESS),
        AssociationResponse(0xFFFF, AssociationStatus.PAN_ACCESS_DENIED),
        DataRequest(),
        BeaconRequest(),
        DisassociationNotification(2),
    ],
)
def test_mac_commands_round_trip(command):
    assert parse_mac_command(command.serialize()) == command


def test_association_request_capability_byte():
    # SE meter joining as a router: FFD, mains, rx on, allocate address = 0x8E (802.15.4-2006 7.3.1.2).
    cap = CapabilityInformation(full_function_device=True, mains_powered=True, rx_on_when_idle=True)
    assert AssociationRequest(cap).serialize() == b"\x01\x8e"


def test_beacon_round_trip_with_zigbee_payload():
    payload = ZigbeeBeaconPayload(0x00124B0000ABCDEF, device_depth=2, router_capacity=False, update_id=3)
    beacon = Beacon(True, payload=payload.serialize())
    frame = MacFrame(MacFrameType.BEACON, 9, src_mode=AddrMode.SHORT, src_pan=0x1A62, src_addr=0, payload=beacon.serialize())
    decoded = Beacon.deserialize(MacFrame.deserialize(frame.serialize()).payload)
    assert decoded == beacon
    assert decoded.zigbee == payload
    assert len(payload.serialize()) == 15


def test_real_beacon():
    # Values as Wireshark 4.0 dissects this frame (zbtk test/parse/wpan_beacon.hex).
    frame = MacFrame.deserialize(with_fcs("beacon"))
    assert frame.frame_type == MacFrameType.BEACON and frame.seq == 46
    assert (frame.src_pan, frame.src_addr, frame.dst_mode) == (0x8CDE, 0x3ED6, AddrMode.NONE)
    beacon = Beacon.deserialize(frame.payload)
    assert beacon.association_permit and not beacon.pan_coordinator
    assert (beacon.beacon_order, beacon.superframe_order, beacon.final_cap_slot) == (15, 15, 15)
    zigbee = beacon.zigbee
    assert (zigbee.stack_profile, zigbee.protocol_version, zigbee.device_depth) == (2, 2, 1)
    assert zigbee.router_capacity and zigbee.end_device_capacity
    assert zigbee.extended_pan_id == 0x110D8344133DAAD5 and zigbee.tx_offset == 0xFFFFFF
    # re-encoding gives the captured bytes back
    assert frame.serialize() == with_fcs("beacon")


def test_real_association_response():
    frame = MacFrame.deserialize(with_fcs("association_response"))
    assert frame.frame_type == MacFrameType.COMMAND and frame.ack_request and frame.pan_id_compression
    assert frame.dst_addr == 0x28DBA7FFFE23B07D and frame.src_addr == 0x001FEE000000B15D
    command = parse_mac_command(frame.payload)
    assert command == AssociationResponse(0xBADE, AssociationStatus.SUCCESS)
    assert frame.serialize() == with_fcs("association_response")


def test_real_data_request():
    frame = MacFrame.deserialize(with_fcs("data_request"))
    assert (frame.seq, frame.dst_pan, frame.dst_addr, frame.src_addr) == (124, 0x8CDE, 0x3215, 0xFE92)
    assert isinstance(parse_mac_command(frame.payload), DataRequest)
    assert frame.serialize() == with_fcs("data_request")


def test_sniffer_trailer_is_not_a_valid_fcs():
    # The ZEP vectors end in RSSI/LQI bytes: the FCS check must catch that.
    with pytest.raises(FrameError, match="FCS"):
        MacFrame.deserialize(psdu("data_request"))
    assert MacFrame.deserialize(psdu("data_request"), check_fcs=False).seq == 124


def test_truncations_raise_frame_error_with_offset():
    raw = with_fcs("association_response")
    body = raw[:-2]
    for cut in range(len(body)):
        short = body[:cut]
        short += fcs(short).to_bytes(2, "little")
        try:
            frame = MacFrame.deserialize(short)
        except FrameError as exc:
            assert exc.layer == "MAC" and exc.offset is not None
            continue
        with pytest.raises(FrameError):
            parse_mac_command(frame.payload)


def test_reserved_addressing_mode_and_mac_security_rejected():
    body = bytes.fromhex("0104" "01" "621a" "3412")  # dst addressing mode 1 (reserved)
    with pytest.raises(FrameError, match="reserved addressing mode"):
        MacFrame.deserialize(body + fcs(body).to_bytes(2, "little"))
    body = bytes.fromhex("6988" "01" "621a" "0000" "3412")  # security enabled
    with pytest.raises(FrameError, match="MAC security"):
        MacFrame.deserialize(body + fcs(body).to_bytes(2, "little"))


def test_unknown_command_and_bad_status():
    with pytest.raises(FrameError, match="unsupported MAC command 0x0A"):
        parse_mac_command(b"\x0a")
    with pytest.raises(FrameError, match="reserved association status 0x7F"):
        parse_mac_command(b"\x02\x34\x12\x7f")


@given(st.binary(max_size=140))
def test_random_bytes_never_crash(data):
    try:
        frame = MacFrame.deserialize(data, check_fcs=False)
    except FrameError:
        return
    for parse in (parse_mac_command, Beacon.deserialize):
        try:
            parse(frame.payload)
        except FrameError:
            pass

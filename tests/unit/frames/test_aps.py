"""Zigbee APS codec: data/command/ack frames, APS commands, bad input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.wire.frames import (
    ApsFrame,
    ApsFrameType,
    ConfirmKey,
    DeliveryMode,
    FrameError,
    KeyType,
    RemoveDevice,
    RequestKey,
    SwitchKey,
    TransportKey,
    UpdateDevice,
    UpdateDeviceStatus,
    VerifyKey,
    parse_aps_command,
)

KEY = bytes(range(16))


def test_unicast_data_layout():
    frame = ApsFrame.data(0x2A, 0x0109, 0x0702, 1, 9, b"\x18\x01\x0a", ack_request=True)
    # fc 0x40: data, unicast, ack request; dst ep, cluster, profile, src ep, counter.
    assert frame.serialize() == bytes.fromhex("40" "09" "0207" "0901" "01" "2a" "18010a")
    assert ApsFrame.deserialize(frame.serialize()) == frame


def test_group_and_broadcast_data_round_trip():
    group = ApsFrame(ApsFrameType.DATA, 1, b"z", DeliveryMode.GROUP, group=0x1234, cluster=6, profile=0x0104,
                     src_endpoint=1)
    assert group.serialize()[:3] == bytes.fromhex("0c3412")
    assert ApsFrame.deserialize(group.serialize()) == group
    bcast = ApsFrame.data(2, 0x0109, 0x0703, 1, 0xFF, b"", delivery_mode=DeliveryMode.BROADCAST)
    assert bcast.serialize()[0] == 0x08
    assert ApsFrame.deserialize(bcast.serialize()) == bcast


def test_acks():
    data = ApsFrame.data(0x10, 0x0109, 0x0702, 1, 9, b"", ack_request=True)
    ack = data.ack_for()
    # data ack: fc 0x02, dst ep (the data frame's source), cluster, profile, src ep, counter.
    assert ack.serialize() == bytes.fromhex("02" "01" "0207" "0901" "09" "10")
    assert ApsFrame.deserialize(ack.serialize()) == ack
    command_ack = ApsFrame.command(0x11, SwitchKey(1), ack_request=True).ack_for()
    assert command_ack.serialize() == bytes.fromhex("12" "11")  # ack format bit set, counter only
    assert ApsFrame.deserialize(command_ack.serialize()) == command_ack


def test_real_aps_ack():
    # zbtk test/parse/aps_ack: decrypted NWK payload 02 01 0102 0401 02 d0 (dst ep 1, cluster 0x0201,
    # profile 0x0104, src ep 2, counter 0xd0).
    ack = ApsFrame.deserialize(bytes.fromhex("02" "01" "0102" "0401" "02" "d0"))
    assert ack.frame_type == ApsFrameType.ACK and not ack.ack_format
    assert (ack.dst_endpoint, ack.cluster, ack.profile, ack.src_endpoint, ack.counter) == (1, 0x0201, 0x0104, 2, 0xD0)


def test_extended_header_kept_raw():
    frame = ApsFrame.data(1, 0x0104, 6, 1, 1, b"x")
    frame.extended_header = b"\x01\x03"  # first fragment, 3 blocks
    raw = frame.serialize()
    assert raw[0] & 0x80
    assert ApsFrame.deserialize(raw) == frame


@pytest.mark.parametrize(
    "command",
    [
        TransportKey(KeyType.STANDARD_NETWORK_KEY, KEY, key_seq=3, dst_ieee=0x00124B0000000002, src_ieee=0x1),
        TransportKey(KeyType.TRUST_CENTER_LINK_KEY, KEY, dst_ieee=0x2, src_ieee=0x1),
        TransportKey(KeyType.APPLICATION_LINK_KEY, KEY, partner_ieee=0x00124B0000000003, initiator=True),
        UpdateDevice(0x00124B0000000002, 0x1234, UpdateDeviceStatus.STANDARD_UNSECURED_JOIN),
        RemoveDevice(0x00124B0000000002),
        RequestKey(RequestKey.TRUST_CENTER_LINK_KEY),
        RequestKey(RequestKey.APPLICATION_LINK_KEY, 0x00124B0000000003),
        SwitchKey(4),
        VerifyKey(4, 0x00124B0000000002, bytes(range(16, 32))),
        ConfirmKey(0, 4, 0x00124B0000000002),
    ],
)
def test_commands_round_trip(command):
    frame = ApsFrame.command(7, command)
    decoded = ApsFrame.deserialize(frame.serialize())
    assert decoded.frame_type == ApsFrameType.COMMAND and decoded.counter == 7
    assert parse_aps_command(decoded.payload) == command


def test_transport_key_network_key_layout():
    command = TransportKey(KeyType.STANDARD_NETWORK_KEY, KEY, key_seq=0, dst_ieee=0x28DBA7FFFE23B07D,
                           src_ieee=0x3C2EF5FFFE48596C)
    # zbtk test/parse/zep/aps_cmd_transport_key.json field order: id 05, key type 01, key, seqno, dst, src.
    assert command.serialize() == (
        bytes([0x05, 0x01]) + KEY + b"\x00" + bytes.fromhex("7db023feffa7db28") + bytes.fromhex("6c5948fefff52e3c")
    )
    assert len(command.serialize()) == 35


def test_update_device_and_switch_key_layout():
    assert UpdateDevice(0x00124B0000000002, 0x1234, UpdateDeviceStatus.STANDARD_UNSECURED_JOIN).serialize() == (
        bytes.fromhex("06" "02000000004b1200" "3412" "01")
    )
    assert SwitchKey(1).serialize() == b"\x09\x01"
    assert RequestKey(RequestKey.TRUST_CENTER_LINK_KEY).serialize() == b"\x08\x04"


def test_transport_key_repr_hides_the_key():
    text = repr(TransportKey(KeyType.STANDARD_NETWORK_KEY, b"ZigBeeAlliance09", key_seq=0))
    assert "ZigBeeAlliance09" not in text and KEY.hex() not in text and "redacted" in text


def test_malformed_commands():
    with pytest.raises(FrameError, match="unsupported key type 0x07"):
        parse_aps_command(bytes([0x05, 0x07]) + KEY)
    full = TransportKey(KeyType.STANDARD_NETWORK_KEY, KEY, 0, 1, 2).serialize()
    for cut in range(len(full)):
        with pytest.raises(FrameError):
            parse_aps_command(full[:cut])
    with pytest.raises(FrameError, match="unsupported APS command 0x42"):
        parse_aps_command(b"\x42")
    with pytest.raises(FrameError, match="reserved delivery mode"):
        ApsFrame.deserialize(b"\x04\x01\x00\x00\x00\x00\x01\x00")
    with pytest.raises(FrameError, match="APS counter"):
        ApsFrame.deserialize(b"\x01")


@given(st.binary(max_size=64))
def test_random_bytes_never_crash(data):
    try:
        frame = ApsFrame.deserialize(data)
        parse_aps_command(frame.payload)
    except FrameError:
        pass

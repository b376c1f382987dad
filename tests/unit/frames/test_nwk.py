"""Zigbee NWK codec: header flags and optional fields, commands, real frames (kristian/zbtk), bad input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.wire.frames import (
    CapabilityInformation,
    DiscoverRoute,
    FrameError,
    Leave,
    MacFrame,
    NetworkStatus,
    NwkFrame,
    NwkFrameType,
    RejoinRequest,
    RejoinResponse,
    RejoinStatus,
    RouteReply,
    RouteRequest,
    parse_nwk_command,
)

from .vectors import with_fcs


def test_minimal_data_header_layout():
    frame = NwkFrame(NwkFrameType.DATA, 0x0000, 0x1234, 0x56, b"APS", radius=30, discover_route=DiscoverRoute.ENABLE)
    # fc 0x0048: data, protocol version 2, discover route enable.
    assert frame.serialize() == bytes.fromhex("4800" "0000" "3412" "1e" "56") + b"APS"
    assert NwkFrame.deserialize(frame.serialize()) == frame


def test_all_optional_fields_round_trip():
    frame = NwkFrame(
        NwkFrameType.COMMAND, 0xFFFD, 0x0001, 200, b"\x04\x00", radius=5, security=True,
        dst_ieee=0x00124B0000000002, src_ieee=0x00124B0000000001, multicast_control=0x07,
        source_route=(0x1111, 0x2222), relay_index=1, end_device_initiator=True,
    )
    raw = frame.serialize()
    fc = int.from_bytes(raw[:2], "little")
    assert fc == 0x0001 | (2 << 2) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 13)
    assert len(raw) == 8 + 8 + 8 + 1 + 2 + 4 + 2
    assert NwkFrame.deserialize(raw) == frame


@pytest.mark.parametrize(
    ("command", "encoded"),
    [
        (Leave(rejoin=True), "0420"),
        (Leave(request=True, remove_children=True), "04c0"),
        (RejoinRequest(CapabilityInformation(allocate_address=True)), "0680"),
        (RejoinResponse(0x2027, RejoinStatus.SUCCESS), "07272000"),
        (NetworkStatus(0x0B, 0x1234), "030b3412"),
        (RouteRequest(7, 0xFFFC, 0, many_to_one=1), "0108" "07" "fcff" "00"),
        (RouteRequest(8, 0x1234, 3, destination_ieee=0x00124B0000000002), "0120" "08" "3412" "03" "0200000000" "4b1200"),
        (RouteReply(9, 0x0000, 0x1234, 1, responder_ieee=0x00124B0000000002), "0220" "09" "0000" "3412" "01"
         "02000000004b1200"),
    ],
)
def test_commands_encode_and_round_trip(command, encoded):
    assert command.serialize().hex() == encoded
    assert parse_nwk_command(command.serialize()) == command


def test_real_rejoin_response_header():
    # zbtk test/parse/nwk_cmd_rejoin_rsp.json: fc 0x1a09 (command, security, ext dst and src), dst 0x2027,
    # src 0x3ed6, radius 1, seq 0xde, both IEEE addresses present.
    frame = NwkFrame.deserialize(MacFrame.deserialize(with_fcs("rejoin_response")).payload)
    assert frame.frame_type == NwkFrameType.COMMAND and frame.security
    assert (frame.dst, frame.src, frame.radius, frame.seq) == (0x2027, 0x3ED6, 1, 0xDE)
    assert frame.dst_ieee == 0x28DBA7FFFE23B07D and frame.src_ieee == 0x001FEE000000B15D


def test_real_source_routed_header():
    frame = NwkFrame.deserialize(MacFrame.deserialize(with_fcs("aps_ack")).payload)
    assert frame.frame_type == NwkFrameType.DATA and frame.discover_route == DiscoverRoute.ENABLE
    assert frame.source_route == (0x3ED6,) and frame.relay_index == 0
    assert frame.serialize() == MacFrame.deserialize(with_fcs("aps_ack")).payload


def test_truncated_headers_raise_frame_error():
    raw = NwkFrame(
        NwkFrameType.DATA, 1, 2, 3, b"", dst_ieee=1, src_ieee=2, multicast_control=0, source_route=(5, 6)
    ).serialize()
    for cut in range(len(raw)):
        with pytest.raises(FrameError) as info:
            NwkFrame.deserialize(raw[:cut])
        assert info.value.layer == "NWK" and info.value.offset is not None


def test_reserved_values_rejected():
    with pytest.raises(FrameError, match="reserved frame type 2"):
        NwkFrame.deserialize(bytes.fromhex("0a00000000001e01"))
    with pytest.raises(FrameError, match="reserved discover route"):
        NwkFrame.deserialize(bytes.fromhex("8800000000001e01"))
    with pytest.raises(FrameError, match="unsupported NWK command 0x7F"):
        parse_nwk_command(b"\x7f")
    with pytest.raises(FrameError, match="reserved rejoin status"):
        parse_nwk_command(b"\x07\x00\x00\x09")


@given(st.binary(max_size=64))
def test_random_bytes_never_crash(data):
    try:
        frame = NwkFrame.deserialize(data)
        parse_nwk_command(frame.payload)
    except FrameError:
        pass

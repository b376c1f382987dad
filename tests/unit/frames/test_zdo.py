"""ZDO helper on zigpy's schemas: known encodings and malformed input."""

from __future__ import annotations

import pytest
import zigpy.types as t
from zigpy.zdo.types import LogicalType, NodeDescriptor, ZDOCmd

from harness.wire.frames import FrameError, deserialize_zdo, eui64_to_ieee, ieee_to_eui64, serialize_zdo


def test_match_desc_req_encoding():
    raw = serialize_zdo(ZDOCmd.Match_Desc_req, 0x05, [0xFFFD, 0x0109, [0x0702], []])
    # tsn, NWKAddrOfInterest, profile, in-cluster count + list, out-cluster count.
    assert raw == bytes.fromhex("05" "fdff" "0901" "01" "0207" "00")
    message = deserialize_zdo(ZDOCmd.Match_Desc_req, raw)
    assert message.tsn == 5
    assert message.as_dict() == {"NWKAddrOfInterest": 0xFFFD, "ProfileID": 0x0109, "InClusterList": [0x0702],
                                 "OutClusterList": []}
    assert message.serialize() == raw


def test_device_annce_round_trip():
    ieee = ieee_to_eui64(0x00124B0000000002)
    assert str(ieee) == "00:12:4b:00:00:00:00:02"
    raw = serialize_zdo(ZDOCmd.Device_annce, 0x81, [0x1234, ieee, 0x8E])
    assert raw == bytes.fromhex("81" "3412" "02000000004b1200" "8e")
    message = deserialize_zdo(0x0013, raw)
    assert eui64_to_ieee(message.fields[1]) == 0x00124B0000000002


def test_node_desc_rsp_round_trip():
    descriptor = NodeDescriptor(
        logical_type=LogicalType.Router, complex_descriptor_available=0, user_descriptor_available=0,
        reserved=0, aps_flags=0, frequency_band=NodeDescriptor.FrequencyBand.Freq2400MHz, mac_capability_flags=0x8E,
        manufacturer_code=0x1234, maximum_buffer_size=82, maximum_incoming_transfer_size=82, server_mask=0x2C00,
        maximum_outgoing_transfer_size=82, descriptor_capability_field=0,
    )
    raw = serialize_zdo(ZDOCmd.Node_Desc_rsp, 3, [0, t.NWK(0x1234), descriptor])
    message = deserialize_zdo(ZDOCmd.Node_Desc_rsp, raw)
    assert message.fields[2].manufacturer_code == 0x1234 and message.fields[2].is_router
    assert message.serialize() == raw


def test_malformed_zdo():
    with pytest.raises(FrameError, match="transaction sequence number"):
        deserialize_zdo(ZDOCmd.NWK_addr_req, b"")
    with pytest.raises(FrameError, match="NWK_addr_req payload does not decode"):
        deserialize_zdo(ZDOCmd.NWK_addr_req, b"\x01\x02\x03")
    with pytest.raises(FrameError, match="ZDO cluster 0x7777"):
        deserialize_zdo(0x7777, b"\x01")
    with pytest.raises(FrameError, match="takes 3 fields"):
        serialize_zdo(ZDOCmd.NWK_addr_req, 1, [1])

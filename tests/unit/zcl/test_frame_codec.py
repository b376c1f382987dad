"""The ZCL frame codec: build_frame writes the header zigpy's ZCLHeader would, byte for byte, for every kind of
frame; parse_frame reads it back, and shares one decoded frame among the parties that read the same bytes."""

from __future__ import annotations

import itertools

import pytest
import zigpy.types as t
from zigpy.zcl.foundation import Direction, FrameControl, FrameType, ZCLHeader

from harness.zcl.errors import MalformedFrame
from harness.zcl.frame import build_frame, parse_frame


@pytest.mark.parametrize(("general", "direction", "ddr", "manufacturer"), list(itertools.product(
    [True, False], list(Direction), [False, True], [None, 0x0000, 0x1234])))
def test_build_frame_writes_zigpys_header(general, direction, ddr, manufacturer):
    for tsn, command_id in ((0, 0), (0x5A, 0x0B), (0xFF, 0xFF)):
        fc = FrameControl(frame_type=FrameType.GLOBAL_COMMAND if general else FrameType.CLUSTER_COMMAND,
                          is_manufacturer_specific=manufacturer is not None, direction=direction,
                          disable_default_response=int(ddr), reserved=0)
        header = ZCLHeader(frame_control=fc, tsn=tsn, command_id=command_id,
                           manufacturer=None if manufacturer is None else t.uint16_t(manufacturer))
        raw = build_frame(tsn=tsn, command_id=command_id, payload=b"\x01\x02", general=general, direction=direction,
                          disable_default_response=ddr, manufacturer=manufacturer)
        assert raw == header.serialize() + b"\x01\x02"
        frame = parse_frame(raw)
        assert (frame.tsn, frame.command_id, frame.is_general, frame.direction, frame.disable_default_response,
                frame.manufacturer, frame.payload) == (tsn, command_id, general, direction, ddr, manufacturer,
                                                       b"\x01\x02")


@pytest.mark.parametrize(("tsn", "command_id"), [(256, 0), (-1, 0), (0, 256)])
def test_a_sequence_number_or_command_id_outside_8_bits_is_refused(tsn, command_id):
    with pytest.raises(ValueError, match="8-bit"):
        build_frame(tsn=tsn, command_id=command_id, payload=b"", general=True, direction=Direction.Client_to_Server)


def test_a_frame_read_twice_is_decoded_once_and_a_malformed_one_refused_every_time():
    raw = bytearray(b"\x18\x07\x0b\x00\x00")
    assert parse_frame(raw) is parse_frame(bytes(raw))  # the bytes, not the object, are the key
    for _ in range(2):
        with pytest.raises(MalformedFrame):
            parse_frame(b"\x18\x07")

"""The garbage faults of the reference devices (harness/devices/garbage.py): each rewrites exactly the frames it
names, into bytes the golden's decoders refuse; the fault matrix runs them against the suite."""

from __future__ import annotations

import pytest
from zigpy.zcl.foundation import Direction

from harness.devices.application_faults import NO_DEVICE_ANNCE
from harness.devices.catalogue import MODELS
from harness.devices.faults import FaultSet
from harness.devices.garbage import (
    GARBAGE_FAULTS,
    GREEN_BUTTON_FAULTS,
    Garble,
    GarbleGreenButton,
    Layer,
    garbler_for,
    green_button_rewrite,
)
from harness.devices.openseg import CACHE_47_HOURS
from harness.ke.frames import KeFrameError, parse_payload
from harness.openseg import greenbutton as gb
from harness.wire.frames import ApsFrame, FrameError, NwkFrame, NwkFrameType
from harness.wire.frames.zdo import deserialize_zdo
from harness.zcl.errors import MalformedFrame
from harness.zcl.frame import build_frame, decode_general, parse_frame

BY_NAME = {fault.name: fault for fault in (*GARBAGE_FAULTS, *GREEN_BUTTON_FAULTS)}


def chosen(*names: str) -> FaultSet:
    return FaultSet(BY_NAME[name] for name in names)


def _zcl(cluster: int, command: int, payload: bytes, *, general: bool = True,
         direction: Direction = Direction.Server_to_Client) -> ApsFrame:
    data = build_frame(tsn=7, command_id=command, payload=payload, general=general, direction=direction,
                       disable_default_response=True)
    return ApsFrame.data(1, 0x0109, cluster, 1, 1, data)


def _garbled(fault: str, frame: ApsFrame) -> bytes:
    garbler = garbler_for(chosen(fault))
    assert garbler is not None
    return garbler.payload(frame)


def test_every_garbage_fault_seeds_garbage_has_targets_and_the_prefix():
    assert all(isinstance(fault.seeds, Garble) for fault in GARBAGE_FAULTS)
    assert all(isinstance(fault.seeds, GarbleGreenButton) for fault in GREEN_BUTTON_FAULTS)
    for name, fault in BY_NAME.items():
        assert name.startswith("garbage-") and fault.targets and fault.breaks
    assert {f.name for f in GARBAGE_FAULTS} <= set(MODELS["ihd"].faults_catalogue)
    assert {f.name for f in GREEN_BUTTON_FAULTS} <= set(MODELS["openseg"].faults_catalogue)
    # Every garbage-* fault of any model is one of these (a garbage fault seeds garbage, nothing else).
    garbage = {name for cls in MODELS.values() for name in cls.faults_catalogue if name.startswith("garbage-")}
    assert garbage == set(BY_NAME)


def test_a_conformant_device_has_no_garbler():
    assert garbler_for(FaultSet()) is None
    assert garbler_for(FaultSet([NO_DEVICE_ANNCE])) is None
    assert green_button_rewrite(FaultSet([CACHE_47_HOURS])) is None


def test_truncated_read_response_no_longer_decodes_and_other_clusters_are_untouched():
    identify = _zcl(0x0003, 0x01, bytes.fromhex("0000002100") + b"\x00")
    assert decode_general(parse_frame(identify.payload))
    with pytest.raises(MalformedFrame):
        decode_general(parse_frame(_garbled("garbage-truncated-read-response", identify)))
    basic = _zcl(0x0000, 0x01, bytes.fromhex("0000002003"))
    assert _garbled("garbage-truncated-read-response", basic) == basic.payload


def test_reserved_frame_type_and_wrong_direction():
    discover = _zcl(0x0003, 0x0D, bytes.fromhex("01000021"))
    with pytest.raises(MalformedFrame, match="reserved frame type"):
        parse_frame(_garbled("garbage-reserved-zcl-frame-type", discover))
    # The DRLC client answers a write client to server; the garbage claims server to client.
    write = _zcl(0x0701, 0x04, b"\x00", direction=Direction.Client_to_Server)
    assert parse_frame(_garbled("garbage-wrong-zcl-direction", write)).direction == Direction.Server_to_Client
    # The same response from a server side is not the fault's frame.
    server_write = _zcl(0x0701, 0x04, b"\x00")
    assert _garbled("garbage-wrong-zcl-direction", server_write) == server_write.payload


def test_oversized_read_response_is_padded_past_its_records_and_refused():
    read = _zcl(0x0800, 0x01, bytes.fromhex("0000001901") + b"\x00")
    garbled = _garbled("garbage-oversized-read-response", read)
    assert len(garbled) == 80
    with pytest.raises(MalformedFrame):
        decode_general(parse_frame(garbled))


def test_nonsense_ke_frames():
    ephemeral = _zcl(0x0800, 0x01, bytes(22), general=False)
    garbled = parse_frame(_garbled("garbage-short-ke-ephemeral-data", ephemeral))
    with pytest.raises(KeFrameError, match="21 bytes"):
        parse_payload(garbled.command_id, garbled.payload)
    terminate = _zcl(0x0800, 0x03, bytes.fromhex("01000100"), general=False)
    garbled = parse_frame(_garbled("garbage-unknown-ke-command", terminate))
    with pytest.raises(KeFrameError, match="no command 0x0F"):
        parse_payload(garbled.command_id, garbled.payload)


def test_stack_garbage_on_mgmt_leave_rsp_at_each_layer():
    leave_rsp = ApsFrame.data(3, 0x0000, 0x8034, 0, 0, bytes([0x42, 0x00]))
    with pytest.raises(FrameError, match="Mgmt_Leave_rsp"):
        deserialize_zdo(0x8034, _garbled("garbage-short-mgmt-leave-rsp", leave_rsp))
    aps = garbler_for(chosen("garbage-aps-reserved-delivery-mode")).aps(leave_rsp, leave_rsp.serialize())
    with pytest.raises(FrameError, match="reserved delivery mode"):
        ApsFrame.deserialize(aps)
    nwk_bytes = NwkFrame(NwkFrameType.DATA, 0x0000, 0x1234, 1, leave_rsp.serialize()).serialize()
    garbled = garbler_for(chosen("garbage-truncated-nwk-header")).nwk(leave_rsp, nwk_bytes)
    with pytest.raises(FrameError, match="NWK header"):
        NwkFrame.deserialize(garbled)
    # Other ZDO frames pass untouched through every layer.
    annce = ApsFrame.data(4, 0x0000, 0x0013, 0, 0, bytes(12))
    for name in ("garbage-short-mgmt-leave-rsp", "garbage-aps-reserved-delivery-mode", "garbage-truncated-nwk-header"):
        garbler = garbler_for(chosen(name))
        assert garbler.payload(annce) == annce.payload
        assert garbler.aps(annce, annce.serialize()) == annce.serialize()
        assert garbler.nwk(annce, nwk_bytes) == nwk_bytes
    assert {fault.seeds.layer for fault in GARBAGE_FAULTS} == set(Layer)


@pytest.mark.parametrize("fault", sorted(f.name for f in GREEN_BUTTON_FAULTS))
def test_green_button_garbage_makes_a_feed_no_parser_accepts(fault):
    reading_type = gb.ReadingType(uom=gb.UOM_WH, power_of_ten=0, accumulation=gb.ACCUMULATION_DELTA,
                                  kind=gb.KIND_ENERGY, interval_length=3600)
    feed = gb.build_feed([gb.IntervalReading(1_700_000_000, 3600, 5)], reading_type, updated=1_700_003_600)
    assert gb.parse_feed(feed).readings and not gb.schema_problems(feed)
    garbled = green_button_rewrite(chosen(fault))(feed)
    with pytest.raises(gb.GreenButtonError):
        gb.parse_feed(garbled)
    assert gb.schema_problems(garbled)

"""scapy's dot15d4/zigbee layers (an independent implementation) parse our frames field by field, and we
parse frames that scapy builds."""

from __future__ import annotations

import pytest
from scapy.config import conf
from scapy.layers.dot15d4 import (
    Dot15d4Beacon,
    Dot15d4Cmd,
    Dot15d4CmdAssocReq,
    Dot15d4CmdAssocResp,
    Dot15d4Data,
    Dot15d4FCS,
)
from scapy.layers.zigbee import (
    ZigbeeAppCommandPayload,
    ZigbeeAppDataPayload,
    ZigBeeBeacon,
    ZigbeeNWK,
    ZigbeeNWKCommandPayload,
    ZigbeeSecurityHeader,
)

from harness.wire.frames import (
    AddrMode,
    ApsFrame,
    AssociationRequest,
    AssociationResponse,
    Beacon,
    CapabilityInformation,
    KeyType,
    Leave,
    MacFrame,
    MacFrameType,
    NwkFrame,
    NwkFrameType,
    TransportKey,
    ZigbeeBeaconPayload,
    parse_nwk_command,
)
from harness.wire.security import KeyId, secure_aps, secure_nwk

TC = 0x00124B0000000001
DEVICE = 0x00124B0000000002
NWK_KEY = bytes.fromhex("01030507090B0D0F00020406080A0C0D")
LINK_KEY = bytes.fromhex("66B6900981E1EE3CA4206B6B861C02BB")


@pytest.fixture(autouse=True)
def _zigbee_dissection():
    previous = conf.dot15d4_protocol
    conf.dot15d4_protocol = "zigbee"
    yield
    conf.dot15d4_protocol = previous


# scapy keeps IEEE addresses as 64-bit ints, as this codec does, so they compare directly.


def test_secured_data_frame_fields():
    aps = secure_aps(ApsFrame.data(0x21, 0x0109, 0x0702, 1, 9, b"\x00\x05\x00\x00\x00", ack_request=True),
                     LINK_KEY, 0x0A0B0C0D, DEVICE)
    nwk = NwkFrame(NwkFrameType.DATA, 0x0000, 0x3F46, 0x77, aps, radius=29, src_ieee=DEVICE)
    raw = MacFrame.data(0x42, 0x1A62, 0x0000, 0x3F46, secure_nwk(nwk, NWK_KEY, 0x01020304, DEVICE, 2)).serialize()
    packet = Dot15d4FCS(raw)
    assert packet.fcf_frametype == 1 and packet.fcf_panidcompress == 1 and packet.fcf_ackreq == 1
    assert packet.seqnum == 0x42 and packet.fcs == int.from_bytes(raw[-2:], "little")
    data = packet[Dot15d4Data]
    assert (data.dest_panid, data.dest_addr, data.src_addr) == (0x1A62, 0x0000, 0x3F46)
    net = packet[ZigbeeNWK]
    assert (net.frametype, net.proto_version, net.destination, net.source) == (0, 2, 0x0000, 0x3F46)
    assert (net.radius, net.seqnum) == (29, 0x77)
    assert "security" in net.flags and "extended_src" in net.flags and net.ext_src == DEVICE
    security = packet[ZigbeeSecurityHeader]
    assert security.key_type == 1 and security.extended_nonce == 1 and security.nwk_seclevel == 0
    assert security.fc == 0x01020304 and security.source == DEVICE and security.key_seqnum == 2


def test_aps_header_and_aps_security_header_fields():
    aps = secure_aps(ApsFrame.data(0x21, 0x0109, 0x0702, 1, 9, b"\x00\x05\x00\x00\x00", ack_request=True),
                     LINK_KEY, 0x0A0B0C0D, DEVICE)
    nwk = NwkFrame(NwkFrameType.DATA, 0x0000, 0x3F46, 0x77, aps)  # NWK in the clear so scapy sees the APS
    packet = Dot15d4FCS(MacFrame.data(1, 0x1A62, 0, 0x3F46, nwk.serialize()).serialize())
    app = packet[ZigbeeAppDataPayload]
    assert app.aps_frametype == 0 and app.delivery_mode == 0 and "security" in app.frame_control
    assert "ack_req" in app.frame_control
    assert (app.dst_endpoint, app.cluster, app.profile, app.src_endpoint, app.counter) == (9, 0x0702, 0x0109, 1, 0x21)
    security = app[ZigbeeSecurityHeader]
    assert security.key_type == 0 and security.extended_nonce == 0 and security.fc == 0x0A0B0C0D


def test_transport_key_fields():
    command = TransportKey(KeyType.STANDARD_NETWORK_KEY, NWK_KEY, 3, DEVICE, TC)
    aps = secure_aps(ApsFrame.command(0x55, command), LINK_KEY, 9, TC, KeyId.KEY_TRANSPORT)
    nwk = NwkFrame(NwkFrameType.DATA, 0x3F46, 0, 1, aps, radius=1)
    packet = Dot15d4FCS(MacFrame.data(2, 0x1A62, 0x3F46, 0, nwk.serialize()).serialize())
    app = packet[ZigbeeAppDataPayload]
    assert app.aps_frametype == 1 and app.counter == 0x55
    security = app[ZigbeeSecurityHeader]
    assert security.key_type == 2 and security.extended_nonce == 1 and security.source == TC
    assert security.fc == 9
    # scapy does not decrypt; the clear command layout is checked by building it unsecured.
    clear = ApsFrame.command(0x56, command).serialize()
    payload = ZigbeeAppDataPayload(clear)[ZigbeeAppCommandPayload]
    assert payload.cmd_identifier == 5 and payload.key_type == 1 and bytes(payload.key) == NWK_KEY
    assert payload.key_seqnum == 3 and payload.dest_addr == DEVICE and payload.src_addr == TC


def test_nwk_leave_command_fields():
    nwk = NwkFrame(NwkFrameType.COMMAND, 0xFFFD, 0x3F46, 5, Leave(rejoin=True).serialize(), radius=1)
    packet = ZigbeeNWK(nwk.serialize())
    command = packet[ZigbeeNWKCommandPayload]
    assert packet.frametype == 1 and command.cmd_identifier == 4
    assert command.rejoin == 1 and command.request == 0 and command.remove_children == 0


def test_beacon_and_association_fields():
    payload = ZigbeeBeaconPayload(0x00124B0000ABCDEF, device_depth=1, router_capacity=True, update_id=4)
    beacon = MacFrame(MacFrameType.BEACON, 9, src_mode=AddrMode.SHORT, src_pan=0x1A62, src_addr=0,
                      payload=Beacon(True, payload=payload.serialize()).serialize()).serialize()
    packet = Dot15d4FCS(beacon)
    header = packet[Dot15d4Beacon]
    assert header.src_panid == 0x1A62 and header.sf_assocpermit == 1 and header.sf_pancoord == 1
    assert header.sf_beaconorder == 15 and header.sf_sforder == 15
    zigbee = packet[ZigBeeBeacon]
    assert zigbee.stack_profile == 2 and zigbee.nwkc_protocol_version == 2 and zigbee.device_depth == 1
    assert zigbee.router_capacity == 1 and zigbee.extended_pan_id == 0x00124B0000ABCDEF
    assert zigbee.update_id == 4

    cap = CapabilityInformation(full_function_device=True, mains_powered=True, rx_on_when_idle=True)
    request = MacFrame(MacFrameType.COMMAND, 3, AddrMode.SHORT, 0x1A62, 0, AddrMode.EXTENDED, 0xFFFF, DEVICE,
                       AssociationRequest(cap).serialize(), ack_request=True, pan_id_compression=False).serialize()
    packet = Dot15d4FCS(request)
    assert packet[Dot15d4Cmd].cmd_id == 1 and packet[Dot15d4Cmd].src_addr == DEVICE
    req = packet[Dot15d4CmdAssocReq]
    assert req.device_type == 1 and req.power_source == 1 and req.receiver_on_when_idle == 1
    assert req.allocate_address == 1 and req.security_capability == 0

    response = MacFrame(MacFrameType.COMMAND, 4, AddrMode.EXTENDED, 0x1A62, DEVICE, AddrMode.EXTENDED, 0x1A62, TC,
                        AssociationResponse(0x3F46).serialize(), ack_request=True).serialize()
    resp = Dot15d4FCS(response)[Dot15d4CmdAssocResp]
    assert resp.short_address == 0x3F46 and resp.association_status == 0


def test_we_parse_what_scapy_builds():
    built = bytes(
        Dot15d4FCS(fcf_frametype=1, fcf_panidcompress=1, fcf_destaddrmode=2, fcf_srcaddrmode=2, seqnum=7)
        / Dot15d4Data(dest_panid=0x1A62, dest_addr=0x1234, src_addr=0x0000)
        / ZigbeeNWK(frametype=1, discover_route=0, destination=0x1234, source=0x0000, radius=1, seqnum=9)
        / ZigbeeNWKCommandPayload(cmd_identifier=4, rejoin=1, request=1)
    )
    frame = MacFrame.deserialize(built)  # also checks scapy's FCS against ours
    assert (frame.seq, frame.dst_pan, frame.dst_addr, frame.src_addr) == (7, 0x1A62, 0x1234, 0)
    nwk = NwkFrame.deserialize(frame.payload)
    assert (nwk.frame_type, nwk.dst, nwk.src, nwk.radius, nwk.seq) == (NwkFrameType.COMMAND, 0x1234, 0, 1, 9)
    assert parse_nwk_command(nwk.payload) == Leave(rejoin=True, request=True)

"""Independent dissectors read our frames: tshark (Wireshark) decodes and decrypts a capture of a join and
Smart Energy traffic with the exported keys; scapy's dot15d4/zigbee layers parse the same frames field by field.

tshark is a system package (apt-get install -y tshark). CI installs it: there the test fails when it is
missing; elsewhere it is skipped with the install command as the reason.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from harness.capture import PcapWriter, read_pcap, tshark_key_options, write_key_file
from harness.crypto import InstallCode
from harness.wire.frames import (
    AddrMode,
    ApsFrame,
    AssociationRequest,
    AssociationResponse,
    Beacon,
    CapabilityInformation,
    DiscoverRoute,
    KeyType,
    MacFrame,
    MacFrameType,
    NwkFrame,
    NwkFrameType,
    TransportKey,
    ZigbeeBeaconPayload,
    beacon_request_frame,
    serialize_zdo,
)
from harness.wire.security import KeyId, secure_aps, secure_nwk

PAN = 0x1A62
EXTENDED_PAN = 0x00124B0000ABCDEF
TC = 0x00124B0000000001
METER = 0x00124B0000000002
METER_SHORT = 0x3F46
NETWORK_KEY = bytes.fromhex("01030507090B0D0F00020406080A0C0D")
INSTALL_CODE = "83FED3407A939723A5C639B26916D505C3B5"
LINK_KEY = InstallCode.parse(INSTALL_CODE).link_key
SE_PROFILE = 0x0109
METERING = 0x0702
KEY_ESTABLISHMENT = 0x0800


@dataclass
class Sent:
    """What we put on the air, to compare with what tshark reads back."""

    description: str
    psdu: bytes
    cluster: int | None = None
    profile: int | None = None
    zcl_tsn: int | None = None


def _secured_data(seq: int, src: int, dst: int, src_ieee: int, counter: int, aps: ApsFrame) -> bytes:
    aps_bytes = secure_aps(aps, LINK_KEY, counter, src_ieee)
    nwk = NwkFrame(NwkFrameType.DATA, dst, src, seq, aps_bytes, discover_route=DiscoverRoute.ENABLE)
    return MacFrame.data(seq, PAN, dst, src, secure_nwk(nwk, NETWORK_KEY, counter, src_ieee, 0)).serialize()


def join_and_metering_sequence() -> list[Sent]:
    """A meter joins with its install code, announces itself, then SE traffic flows APS-encrypted."""
    cap = CapabilityInformation(full_function_device=True, mains_powered=True, rx_on_when_idle=True)
    beacon = Beacon(True, payload=ZigbeeBeaconPayload(EXTENDED_PAN).serialize())
    frames = [
        Sent("beacon request", beacon_request_frame(1).serialize()),
        Sent("beacon", MacFrame(MacFrameType.BEACON, 10, src_mode=AddrMode.SHORT, src_pan=PAN, src_addr=0,
                                payload=beacon.serialize()).serialize()),
        Sent("association request", MacFrame(MacFrameType.COMMAND, 2, AddrMode.SHORT, PAN, 0, AddrMode.EXTENDED,
                                             0xFFFF, METER, AssociationRequest(cap).serialize(),
                                             ack_request=True).serialize()),
        Sent("ack", MacFrame.ack(2).serialize()),
        Sent("association response", MacFrame(MacFrameType.COMMAND, 11, AddrMode.EXTENDED, PAN, METER,
                                              AddrMode.EXTENDED, PAN, TC, AssociationResponse(METER_SHORT).serialize(),
                                              ack_request=True).serialize()),
    ]
    transport_key = TransportKey(KeyType.STANDARD_NETWORK_KEY, NETWORK_KEY, 0, METER, TC)
    aps = secure_aps(ApsFrame.command(1, transport_key), LINK_KEY, 0, TC, KeyId.KEY_TRANSPORT)
    nwk = NwkFrame(NwkFrameType.DATA, METER_SHORT, 0x0000, 1, aps, radius=1)
    frames.append(Sent("transport key", MacFrame.data(12, PAN, METER_SHORT, 0, nwk.serialize()).serialize()))
    annce = serialize_zdo(0x0013, 0x80, [METER_SHORT, METER.to_bytes(8, "little"), 0x8E])
    nwk = NwkFrame(NwkFrameType.DATA, 0xFFFD, METER_SHORT, 1, ApsFrame.data(1, 0x0000, 0x0013, 0, 0, annce).serialize(),
                   radius=30, src_ieee=METER)
    frames.append(Sent("device announce", MacFrame.data(3, PAN, 0xFFFF, METER_SHORT,
                                                        secure_nwk(nwk, NETWORK_KEY, 0, METER, 0)).serialize(),
                       cluster=0x0013, profile=0x0000))
    # ZCL Read Attributes (tsn 5) of CurrentSummationDelivered (0x0000) and its response (uint48 = 10000).
    read = bytes([0x00, 0x05, 0x00, 0x00, 0x00])
    frames.append(Sent("read metering", _secured_data(2, 0x0000, METER_SHORT, TC, 1,
                                                      ApsFrame.data(2, SE_PROFILE, METERING, 1, 1, read,
                                                                    ack_request=True)),
                       METERING, SE_PROFILE, 5))
    response = bytes([0x18, 0x05, 0x01, 0x00, 0x00, 0x00, 0x25]) + (10000).to_bytes(6, "little")
    frames.append(Sent("metering response", _secured_data(2, METER_SHORT, 0x0000, METER, 1,
                                                          ApsFrame.data(3, SE_PROFILE, METERING, 1, 1, response)),
                       METERING, SE_PROFILE, 5))
    # Key Establishment: Initiate Key Establishment Request (suite 1, times 10 s, a 48-byte identity).
    initiate = bytes([0x01, 0x06, 0x00]) + (1).to_bytes(2, "little") + bytes([10, 10]) + bytes(range(48))
    frames.append(Sent("initiate key establishment", _secured_data(3, METER_SHORT, 0x0000, METER, 2,
                                                                   ApsFrame.data(4, SE_PROFILE, KEY_ESTABLISHMENT, 1,
                                                                                 1, initiate)),
                       KEY_ESTABLISHMENT, SE_PROFILE, 6))
    return frames


def write_capture(directory, frames: list[Sent]):
    pcap, keys = directory / "join.pcap", directory / "zigbee_pc_keys"
    with PcapWriter(pcap) as writer:
        for index, sent in enumerate(frames):
            writer.write(100.0 + index * 0.015625, sent.psdu)
    write_key_file(keys, [(NETWORK_KEY, "network key 0"), (LINK_KEY, "meter install code key")])
    return pcap, keys


FIELDS = [
    "frame.number", "wpan.frame_type", "wpan.fcs_ok", "wpan.seq_no", "zbee_nwk.src", "zbee_aps.cmd.id",
    "zbee_aps.cmd.key", "zbee_aps.cmd.key_type", "zbee_aps.cluster", "zbee_aps.profile", "zbee_zcl.cmd.tsn",
    "zbee_sec.encrypted_payload", "_ws.malformed", "zbee_zdp.ext_addr", "zbee_beacon.ext_panid",
    "wpan.cmd", "wpan.asoc.addr", "zbee.sec.key_id", "zbee_aps.zdp_cluster", "zbee_zcl.attr.uint48",
    "zbee_zcl_se.met.attr_id", "zbee_zcl_se.ke.cmd.srv_rx.id", "zbee_zcl_se.ke.init.ephemeral.time",
]


def run_tshark(tshark: str, pcap, keys) -> list[dict[str, str]]:
    command = [tshark, "-n", "-r", str(pcap), *tshark_key_options(keys), "-T", "fields", "-E", "separator=\t",
               "-E", "occurrence=a", "-E", "aggregator=,"]
    for name in FIELDS:
        command += ["-e", name]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = []
    for line in result.stdout.splitlines():
        values = line.split("\t")
        rows.append(dict(zip(FIELDS, values, strict=True)))
    return rows


def test_tshark_decodes_and_decrypts_the_capture(tshark, tmp_path):
    frames = join_and_metering_sequence()
    pcap, keys = write_capture(tmp_path, frames)
    assert [r.data for r in read_pcap(pcap).records] == [f.psdu for f in frames]
    rows = run_tshark(tshark, pcap, keys)
    assert len(rows) == len(frames)
    for sent, row in zip(frames, rows, strict=True):
        assert row["_ws.malformed"] == "", f"{sent.description}: tshark reports a malformed frame"
        assert row["wpan.fcs_ok"] in ("1", "True"), f"{sent.description}: FCS rejected by tshark"
        assert row["zbee_sec.encrypted_payload"] == "", f"{sent.description}: tshark could not decrypt it"
        if sent.cluster is not None:
            cluster = row["zbee_aps.zdp_cluster"] if sent.profile == 0 else row["zbee_aps.cluster"]
            assert int(cluster, 16) == sent.cluster, sent.description
            assert int(row["zbee_aps.profile"], 16) == sent.profile, sent.description
        if sent.zcl_tsn is not None:
            assert int(row["zbee_zcl.cmd.tsn"]) == sent.zcl_tsn, sent.description
    by_name = {sent.description: row for sent, row in zip(frames, rows, strict=True)}
    assert int(by_name["beacon"]["wpan.frame_type"], 16) == 0
    assert by_name["beacon"]["zbee_beacon.ext_panid"] == "00:12:4b:00:00:ab:cd:ef"
    assert int(by_name["association response"]["wpan.asoc.addr"], 16) == METER_SHORT
    key_transport = by_name["transport key"]
    assert int(key_transport["zbee_aps.cmd.id"], 16) == 0x05
    assert int(key_transport["zbee_aps.cmd.key_type"], 16) == 0x01
    assert key_transport["zbee_aps.cmd.key"].replace(":", "").lower() == NETWORK_KEY.hex()
    assert key_transport["zbee.sec.key_id"] == "0x02"  # key-transport key
    assert by_name["device announce"]["zbee_zdp.ext_addr"] == "00:12:4b:00:00:00:00:02"
    metering = by_name["metering response"]
    assert metering["zbee.sec.key_id"] == "0x01,0x00"  # network key, then link (data) key
    assert int(metering["zbee_zcl_se.met.attr_id"], 16) == 0x0000 and metering["zbee_zcl.attr.uint48"] == "10000"
    initiate = by_name["initiate key establishment"]
    assert int(initiate["zbee_zcl_se.ke.cmd.srv_rx.id"], 16) == 0x00 and initiate["zbee_zcl_se.ke.init.ephemeral.time"] == "10"


def test_tshark_cannot_decrypt_without_the_keys(tshark, tmp_path):
    # The same capture with a wrong link key: APS payloads stay encrypted, so the assertions above can fail.
    frames = join_and_metering_sequence()
    pcap, _ = write_capture(tmp_path, frames)
    wrong = write_key_file(tmp_path / "wrong", [(NETWORK_KEY, "network key 0"), (b"ZigBeeAlliance09", "default")])
    rows = run_tshark(tshark, pcap, wrong)
    by_name = {sent.description: row for sent, row in zip(frames, rows, strict=True)}
    assert by_name["metering response"]["zbee_aps.cluster"] == "0x0702"  # APS header is clear text
    assert by_name["metering response"]["zbee_zcl.cmd.tsn"] == ""  # but ZCL stays encrypted
    assert by_name["metering response"]["zbee_sec.encrypted_payload"] != ""
    assert by_name["transport key"]["zbee_aps.cmd.key"] == ""

"""Fuzz self-test of every decoder of bytes a DUT (or a file) hands the harness (issue 15).

Each decoder must turn arbitrary bytes into a value or into its own module's decode error, which the judging
path reports as a finding with the raw bytes: never IndexError, struct.error, UnicodeDecodeError, LookupError
or any other exception that would make a garbage frame a bench error instead of a DUT failure.

Reproducible and fast: hypothesis derandomized (the same examples on every machine and in CI), a few hundred
examples per decoder, no deadline (a loaded CI machine is no finding).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from zigpy.zcl.foundation import GENERAL_COMMANDS, Direction, GeneralCommand
from zigpy.zdo.types import CLUSTERS, ZDOCmd

from harness.capture.keys import KeyFileError, read_key_file
from harness.capture.pcap import MAGIC_USEC, CaptureError, read_pcap
from harness.crypto.ecqv import parse_certificate
from harness.crypto.errors import InvalidCertificateError
from harness.emulator.ncp.ash import AshError, AshNcp, decode_ash_frame
from harness.emulator.ncp.ezsp import EzspFrameError, EzspNcp
from harness.ke.frames import KeCommand, KeFrameError, parse_payload
from harness.openseg import greenbutton as gb
from harness.se.clusters import SE_CLUSTERS
from harness.se.datamodel import Side
from harness.se.types import Certificate, EphemeralData, SeTypeError, Signature, Smac
from harness.verify.capture import Keyring, decode_frames
from harness.wire.frames import (
    ApsFrame,
    Beacon,
    FrameError,
    MacFrame,
    NwkFrame,
    NwkFrameType,
    parse_aps_command,
    parse_mac_command,
    parse_nwk_command,
)
from harness.wire.frames.mac import fcs
from harness.wire.frames.zdo import deserialize_zdo
from harness.zcl.errors import MalformedFrame
from harness.zcl.frame import build_frame, decode_cluster_command, decode_general, parse_frame

#: A few hundred examples per decoder, the same ones on every run.
FUZZ = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
FEW = settings(FUZZ, max_examples=100)  # decoders that do real work per example (XML schema, EZSP tables)

raw = st.binary(max_size=160)


def decodes_or_raises(decode, data, error: type[Exception] | tuple[type[Exception], ...]) -> None:
    """*decode(data)* returns, or raises *error*; anything else fails with the bytes that caused it."""
    try:
        decode(data)
    except error:
        pass
    except Exception as exc:  # the leak the test is for: report it with the bytes
        pytest.fail(f"{decode.__qualname__} leaked {type(exc).__name__}: {exc} on {bytes(data).hex()}")


def with_fcs(body: bytes) -> bytes:
    """An 802.15.4 PSDU: *body* and its valid FCS, so the fuzzer gets past the checksum."""
    return body + fcs(body).to_bytes(2, "little")


# -- Zigbee frames: MAC, NWK, APS, ZDO (harness/wire/frames) -------------------------------------------------

@FUZZ
@given(raw)
def test_mac_frames_decode_or_raise_frame_error(data):
    decodes_or_raises(MacFrame.deserialize, data, FrameError)
    decodes_or_raises(MacFrame.deserialize, with_fcs(data), FrameError)
    decodes_or_raises(lambda d: MacFrame.deserialize(d, check_fcs=False), data, FrameError)


@FUZZ
@given(raw)
def test_mac_commands_and_beacons_decode_or_raise_frame_error(data):
    decodes_or_raises(parse_mac_command, data, FrameError)
    decodes_or_raises(Beacon.deserialize, data, FrameError)


@FUZZ
@given(raw)
def test_nwk_frames_and_commands_decode_or_raise_frame_error(data):
    decodes_or_raises(NwkFrame.deserialize, data, FrameError)
    decodes_or_raises(parse_nwk_command, data, FrameError)


@FUZZ
@given(raw)
def test_aps_frames_and_commands_decode_or_raise_frame_error(data):
    decodes_or_raises(ApsFrame.deserialize, data, FrameError)
    decodes_or_raises(parse_aps_command, data, FrameError)


ZDO_CLUSTERS = sorted(int(c) for c in CLUSTERS)


@FUZZ
@given(st.sampled_from(ZDO_CLUSTERS), raw)
def test_zdo_payloads_decode_or_raise_frame_error(cluster, data):
    decodes_or_raises(lambda d: deserialize_zdo(cluster, d), data, FrameError)


def test_a_zdo_descriptor_cut_short_is_malformed_not_absent():
    """zigpy's Optional reads a Simple_Desc_rsp cut inside its descriptor as SUCCESS with no descriptor."""
    ok = bytes.fromhex("0700341214010901020500030000030000080300080a000007")
    assert deserialize_zdo(ZDOCmd.Simple_Desc_rsp, ok).fields[2].output_clusters == [0x0800, 0x000A, 0x0700]
    assert deserialize_zdo(ZDOCmd.Simple_Desc_rsp, ok[:4]).fields[2] is None  # no descriptor: well-formed
    with pytest.raises(FrameError, match="SimpleDescriptor does not decode"):
        deserialize_zdo(ZDOCmd.Simple_Desc_rsp, ok[:-3])


def _psdu(nwk_payload: bytes) -> bytes:
    return MacFrame.data(1, 0x1A62, 0x0000, 0x1234, nwk_payload).serialize()


def _unsecured_nwk(aps_bytes: bytes) -> bytes:
    return NwkFrame(NwkFrameType.DATA, 0x0000, 0x1234, 1, aps_bytes).serialize()


CAPTURED = st.one_of(raw, raw.map(with_fcs), raw.map(_psdu), raw.map(lambda aps: _psdu(_unsecured_nwk(aps))))


@FUZZ
@given(st.lists(CAPTURED, min_size=1, max_size=3))
def test_the_capture_verifier_keeps_any_frame_with_its_error(psdus):
    """harness.verify decodes captured DUT frames offline: a frame that does not decode is kept with its error."""
    keyring = Keyring(network_keys={0: bytes(range(16))})
    observed = decode_frames([(float(i), psdu) for i, psdu in enumerate(psdus)], keyring)
    assert [o.raw for o in observed] == psdus


# -- ZCL frames and payloads (harness/zcl/frame.py, harness/se) ---------------------------------------------

@FUZZ
@given(raw)
def test_zcl_frames_parse_or_raise_malformed_frame(data):
    decodes_or_raises(parse_frame, data, MalformedFrame)


def _general_frame(command: int, payload: bytes):
    return parse_frame(build_frame(tsn=1, command_id=command, payload=payload, general=True,
                                   direction=Direction.Server_to_Client))


@FUZZ
@given(st.sampled_from(sorted(int(c) for c in GENERAL_COMMANDS)), raw)
def test_general_command_payloads_decode_or_raise_malformed_frame(command, payload):
    decodes_or_raises(lambda p: decode_general(_general_frame(command, p)), payload, MalformedFrame)


SE_COMMANDS = sorted(
    (cluster_id, side.value, command_id)
    for cluster_id, cluster in SE_CLUSTERS.items()
    for side, commands in ((Side.SERVER, cluster.server_commands), (Side.CLIENT, cluster.client_commands))
    for command_id in commands
)


@FUZZ
@given(st.sampled_from(SE_COMMANDS), raw)
def test_se_cluster_command_payloads_decode_or_raise_malformed_frame(command, payload):
    cluster_id, side, command_id = command
    cluster = SE_CLUSTERS[cluster_id]
    definition = (cluster.server_commands if side == Side.SERVER.value else cluster.client_commands)[command_id]
    frame = parse_frame(build_frame(tsn=1, command_id=command_id, payload=payload, general=False,
                                    direction=Direction.Client_to_Server))
    decodes_or_raises(lambda _p: decode_cluster_command(frame, definition), payload, MalformedFrame)


@FUZZ
@given(st.sampled_from([Certificate, EphemeralData, Smac, Signature]), raw)
def test_se_byte_string_types_decode_or_raise_se_type_error(kind, data):
    decodes_or_raises(kind.deserialize, data, SeTypeError)


# -- Key Establishment frames and certificates ----------------------------------------------------------------

@FUZZ
@given(st.sampled_from([*(int(c) for c in KeCommand), 0x04, 0xFF]), raw)
def test_ke_payloads_decode_or_raise_ke_frame_error(command, payload):
    decodes_or_raises(lambda p: parse_payload(command, p), payload, KeFrameError)


@FUZZ
@given(st.one_of(st.binary(min_size=48, max_size=48), st.binary(min_size=74, max_size=74), raw),
       st.sampled_from([None, 1, 2, 3]))
def test_certificates_parse_or_raise_invalid_certificate(data, suite):
    decodes_or_raises(lambda d: parse_certificate(d, suite), data, InvalidCertificateError)


# -- Captures and key files -------------------------------------------------------------------------------------

PCAP_HEADER = MAGIC_USEC.to_bytes(4, "little") + bytes.fromhex("02000400") + bytes(8) + (65535).to_bytes(4, "little")


@FUZZ
@given(st.one_of(raw, raw.map(lambda tail: PCAP_HEADER + (195).to_bytes(4, "little") + tail)))
def test_pcap_files_read_or_raise_capture_error(data):
    decodes_or_raises(read_pcap, data, CaptureError)


KEY_LINE = st.one_of(
    st.text(max_size=80),
    st.builds(lambda key, order, label: f'"{key}","{order}","{label}"',
              st.text(alphabet="0123456789abcdefABCDEF:- xg", max_size=60),
              st.sampled_from(["Normal", "Reverse"]), st.text(max_size=20)),
)


@pytest.fixture(scope="module")
def key_file(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("keys") / "zigbee_pc_keys"


@FUZZ
@given(data=st.one_of(st.lists(KEY_LINE, max_size=4).map(lambda lines: "\n".join(lines).encode("utf-8", "surrogatepass")),
                      st.binary(max_size=120)))
def test_key_files_read_or_raise_key_file_error(key_file, data):
    def read(content: bytes):
        key_file.write_bytes(content)
        return read_key_file(key_file)

    decodes_or_raises(read, data, KeyFileError)


# -- Green Button feeds -----------------------------------------------------------------------------------------

ENCODINGS = ["utf-8", "utf-16", "x-se-undefined", "hex", "rot13", "utf-7", "latin-1", "", "ebcdic"]


def _genuine_feed() -> bytes:
    reading_type = gb.ReadingType(uom=gb.UOM_WH, power_of_ten=0, accumulation=gb.ACCUMULATION_DELTA,
                                  kind=gb.KIND_ENERGY, interval_length=3600,
                                  commodity=gb.COMMODITY_ELECTRICITY_SECONDARY, flow_direction=gb.FLOW_FORWARD)
    intervals = [gb.IntervalReading(1_700_000_000 + 3600 * i, 3600, 100 + i) for i in range(2)]
    return gb.build_feed(intervals, reading_type, updated=1_700_010_000, base_url="http://gateway/api/v1/greenbutton")


GENUINE = None


def genuine() -> bytes:
    global GENUINE
    if GENUINE is None:
        GENUINE = _genuine_feed()
    return GENUINE


def _mutated(cut: int, insert: bytes, encoding: str) -> bytes:
    document = genuine()
    body = document.split(b"?>", 1)[1] if document.startswith(b"<?xml") else document
    at = cut % (len(body) + 1)
    return f'<?xml version="1.0" encoding="{encoding}"?>'.encode() + body[:at] + insert + body[at:]


GB_DOCUMENTS = st.one_of(
    raw,
    st.builds(_mutated, st.integers(min_value=0), st.binary(max_size=12), st.sampled_from(ENCODINGS)),
    st.builds(lambda tag: f'<feed xmlns="http://www.w3.org/2005/Atom"><entry><content>{tag}</content></entry></feed>'
              .encode(), st.sampled_from(["<x/>", "", "<a xmlns='http://naesb.org/espi'/>", "&amp;", "&e;"])),
)


@FEW
@given(GB_DOCUMENTS)
def test_green_button_feeds_parse_or_raise_green_button_error(document):
    decodes_or_raises(gb.parse_feed, document, gb.GreenButtonError)
    decodes_or_raises(gb.schema_problems, document, ())  # schema_problems reports, it never raises


def test_a_feed_under_an_unknown_encoding_is_a_green_button_error():
    """The auditor's probe: a LookupError escaped the parser and the case became an error."""
    with pytest.raises(gb.GreenButtonError, match="x-se-undefined"):
        gb.parse_feed(_mutated(0, b"", "x-se-undefined"))
    assert gb.schema_problems(_mutated(0, b"", "x-se-undefined"))


# -- The NCP emulator's host link: ASH and EZSP (harness/emulator/ncp) -------------------------------------------------

@FUZZ
@given(raw)
def test_ash_frames_decode_or_raise_ash_error(data):
    decodes_or_raises(decode_ash_frame, data, AshError)


@FUZZ
@given(st.lists(raw, max_size=4))
def test_ash_link_takes_any_bytes(chunks):
    written: list[bytes] = []
    ncp = AshNcp(written.append, on_ezsp=lambda _frame: None, on_reset=lambda: None)
    ncp.data_received(b"\x1a\xc0\x38\xbc\x7e")  # RST: later DATA frames reach the EZSP layer
    for chunk in chunks:
        ncp.data_received(chunk)  # must never raise: the host side is the bench's own, but a pty can garble


class _Stack:
    """An emulated stack that implements nothing: every decodable command is answered invalidCommand."""

    def attach(self, ncp) -> None:
        self.ncp = ncp


EZSP_IDS = sorted({cmd_id for _name, (cmd_id, _tx, _rx) in __import__("bellows.ezsp.v8.commands",
                                                                        fromlist=["COMMANDS"]).COMMANDS.items()})


@FEW
@given(st.sampled_from(EZSP_IDS), raw)
def test_ezsp_parameters_decode_or_raise_ezsp_frame_error(frame_id, params):
    from bellows.ezsp.v8.commands import COMMANDS

    name = next(n for n, (cmd_id, _tx, _rx) in COMMANDS.items() if cmd_id == frame_id)
    decodes_or_raises(lambda p: EzspNcp.decode_parameters(name, p), params, EzspFrameError)


@FEW
@given(st.one_of(raw, st.builds(lambda seq, frame_id, params: bytes([seq, 0x00, 0x01]) + frame_id.to_bytes(2, "little")
                                + params, st.integers(0, 255), st.sampled_from(EZSP_IDS), raw)))
def test_ezsp_host_frames_never_raise(frame):
    sent: list[bytes] = []
    ncp = EzspNcp(sent.append, _Stack())
    ncp.frame_received(frame)  # a frame that does not decode is logged and answered, never raised
    assert len(sent) <= 1


def test_the_fuzz_strategies_reach_the_decoders():
    """The generators are not vacuous: a genuine frame of each kind decodes to a value."""
    assert MacFrame.deserialize(with_fcs(bytes.fromhex("4188010000ffff0000"))).frame_type is not None
    assert gb.parse_feed(genuine()).reading_type.uom == gb.UOM_WH
    assert decode_general(_general_frame(GeneralCommand.Read_Attributes_rsp, bytes.fromhex("000000210100"))
                          ).status_records[0].attrid == 0

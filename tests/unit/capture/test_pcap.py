"""pcap writer/reader: exact header bytes, timestamps, determinism, malformed files."""

from __future__ import annotations

import io

import pytest

from harness.capture import (
    LINKTYPE_IEEE802_15_4_WITHFCS,
    CaptureError,
    PcapWriter,
    pcap_bytes,
    read_pcap,
)

FRAME = bytes.fromhex("0308" "42" "ffff" "ffff" "07") + b"\x00\x00"


def test_global_and_record_header_bytes():
    data = pcap_bytes([(1.5, FRAME)])
    # magic a1b2c3d4 (LE), version 2.4, zone 0, sigfigs 0, snaplen 65535, link type 195.
    assert data[:24] == bytes.fromhex("d4c3b2a1" "0200" "0400" "00000000" "00000000" "ffff0000" "c3000000")
    assert data[24:40] == bytes.fromhex("01000000" "20a10700" "0a000000" "0a000000")  # 1 s + 500000 us
    assert data[40:] == FRAME
    assert LINKTYPE_IEEE802_15_4_WITHFCS == 195


def test_timestamps_round_to_microseconds():
    data = pcap_bytes([(86400.0000004, FRAME), (0.0000006, FRAME), (3.9999999, FRAME)])
    records = read_pcap(data).records
    assert [r.timestamp_us for r in records] == [86_400_000_000, 1, 4_000_000]


def test_same_input_same_bytes(tmp_path):
    frames = [(i * 0.25, FRAME + bytes([i])) for i in range(20)]
    with PcapWriter(tmp_path / "a.pcap") as writer:
        for t, f in frames:
            writer.write(t, f)
    assert (tmp_path / "a.pcap").read_bytes() == pcap_bytes(frames)
    assert writer.count == 20
    capture = read_pcap(tmp_path / "a.pcap")
    assert capture.linktype == 195 and [r.data for r in capture.records] == [f for _, f in frames]


def test_writer_on_a_caller_stream_leaves_it_open():
    stream = io.BytesIO()
    with PcapWriter(stream) as writer:
        writer.write(0, FRAME)
    assert not stream.closed and len(stream.getvalue()) == 24 + 16 + len(FRAME)


def test_reader_accepts_big_endian_and_nanosecond_files():
    big = bytes.fromhex("a1b23c4d" "0002" "0004" "00000000" "00000000" "0000ffff" "000000c3")
    big += bytes.fromhex("00000002" "1dcd6500" "00000003" "00000003") + b"abc"
    capture = read_pcap(big)
    assert capture.linktype == 195 and capture.records[0].timestamp == pytest.approx(2.5)
    assert capture.records[0].data == b"abc"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00" * 10, "shorter than its 24-byte global header"),
        (b"\x0a\x0d\x0d\x0a" + b"\x00" * 20, "not a pcap file"),
        (pcap_bytes([(0, FRAME)])[:-1], "file ends first"),
        (pcap_bytes([(0, FRAME)])[:30], "truncated record header"),
    ],
)
def test_malformed_files(data, message):
    with pytest.raises(CaptureError, match=message):
        read_pcap(data)


def test_negative_timestamp_and_oversized_frame_rejected():
    writer = PcapWriter(io.BytesIO(), snaplen=8)
    with pytest.raises(CaptureError, match="negative"):
        writer.write(-1, b"x")
    with pytest.raises(CaptureError, match="snap length"):
        writer.write(0, b"123456789")

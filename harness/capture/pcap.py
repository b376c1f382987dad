"""pcap files of 802.15.4 frames: a deterministic writer and a strict reader.

Classic libpcap format (not pcapng): 24-byte global header, then per frame a 16-byte record header
(seconds, microseconds, captured length, original length) and the bytes. Link type 195
(LINKTYPE_IEEE802_15_4_WITHFCS): each frame is the PSDU with its 2-byte FCS, as MacFrame.serialize()
produces it. Timestamps are the caller's (virtual) seconds rounded to the microsecond, so the same frames
at the same times always give the same file bytes.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from struct import Struct
from typing import BinaryIO

from harness.errors import BenchFault

LINKTYPE_IEEE802_15_4_WITHFCS = 195
LINKTYPE_IEEE802_15_4_NOFCS = 230
SNAPLEN = 65535  # an 802.15.4 PSDU is at most 127 bytes; this is the customary default

MAGIC_USEC = 0xA1B2C3D4
MAGIC_NSEC = 0xA1B23C4D
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"  # a pcapng Section Header Block: not read here
_GLOBAL = Struct("<IHHiIII")
_RECORD = Struct("<IIII")
GLOBAL_HEADER_SIZE = _GLOBAL.size  # 24 bytes

#: The format table: each classic pcap magic as the file stores it -> (struct byte order, units of a record's
#: fraction field per second). The file reader (read_pcap) and the live sniffer reader (capture/live.py) both
#: read a header through it (pcap_format).
MAGICS: dict[bytes, tuple[str, int]] = {
    MAGIC_USEC.to_bytes(4, "little"): ("<", 1_000_000), MAGIC_USEC.to_bytes(4, "big"): (">", 1_000_000),
    MAGIC_NSEC.to_bytes(4, "little"): ("<", 1_000_000_000), MAGIC_NSEC.to_bytes(4, "big"): (">", 1_000_000_000),
}


class CaptureError(BenchFault, ValueError):
    """A pcap file that cannot be read (bad magic, truncated header or record). Captures are the bench's own
    evidence (its sniffer's or the simulated air's): one it cannot read is a bench fault."""


@dataclass(frozen=True, slots=True)
class PcapRecord:
    timestamp: float  # seconds
    data: bytes
    original_length: int | None = None

    @property
    def timestamp_us(self) -> int:
        return round(self.timestamp * 1_000_000)


@dataclass(frozen=True, slots=True)
class PcapCapture:
    linktype: int
    records: tuple[PcapRecord, ...]
    snaplen: int = SNAPLEN


@dataclass(frozen=True, slots=True)
class PcapFormat:
    """What a classic pcap global header says: byte order, timestamp resolution, snap length, link type."""

    order: str  # struct byte order, "<" or ">"
    per_second: int  # units of a record's fraction field per second (micro- or nanoseconds)
    snaplen: int
    linktype: int

    @property
    def record(self) -> Struct:
        """A record header in this file's byte order: seconds, fraction, included length, original length."""
        return Struct(self.order + "IIII")

    def timestamp(self, seconds: int, fraction: int) -> float:
        return seconds + fraction / self.per_second


def magic_name(magic: bytes) -> str:
    """How an error names a file's first four bytes: "pcapng" or the magic in hex."""
    return "pcapng" if magic == PCAPNG_MAGIC else f"magic {magic.hex()}"


def pcap_format(header: bytes) -> PcapFormat | None:
    """The format of a classic pcap file from its global header (at least 24 bytes); None when the magic is
    not in the format table (pcapng, another format)."""
    entry = MAGICS.get(bytes(header[:4]))
    if entry is None:
        return None
    order, per_second = entry
    _magic, _major, _minor, _zone, _sigfigs, snaplen, linktype = Struct(order + "IHHiIII").unpack_from(header, 0)
    # The top bits of the link type field carry FCS length flags (pcap-linktype(7)); the type is the rest.
    return PcapFormat(order, per_second, snaplen, linktype & 0x0FFFFFFF)


def _timestamp_parts(timestamp: float) -> tuple[int, int]:
    if timestamp < 0:
        raise CaptureError(f"pcap timestamps cannot be negative, got {timestamp}")
    return divmod(round(timestamp * 1_000_000), 1_000_000)


def global_header(linktype: int = LINKTYPE_IEEE802_15_4_WITHFCS, snaplen: int = SNAPLEN) -> bytes:
    return _GLOBAL.pack(MAGIC_USEC, 2, 4, 0, 0, snaplen, linktype)


def record_bytes(timestamp: float, data: bytes) -> bytes:
    seconds, micros = _timestamp_parts(timestamp)
    return _RECORD.pack(seconds, micros, len(data), len(data)) + bytes(data)


class PcapWriter:
    """Append frames to a pcap stream. Use as a context manager, or call ``close()``.

    ``PcapWriter(path)`` owns the file; ``PcapWriter(stream)`` writes to a binary stream the caller owns.
    Each ``write`` is flushed so a capture is complete up to the last frame even if a test dies.
    """

    def __init__(
        self, target: str | os.PathLike[str] | BinaryIO, linktype: int = LINKTYPE_IEEE802_15_4_WITHFCS,
        snaplen: int = SNAPLEN,
    ) -> None:
        if isinstance(target, str | os.PathLike):
            self._stream: BinaryIO = open(target, "wb")  # noqa: SIM115 - closed in close()
            self._owned = True
        else:
            self._stream = target
            self._owned = False
        self.linktype = linktype
        self.snaplen = snaplen
        self.count = 0
        self._stream.write(global_header(linktype, snaplen))

    def write(self, timestamp: float, data: bytes) -> None:
        if len(data) > self.snaplen:
            raise CaptureError(f"frame of {len(data)} bytes exceeds the snap length {self.snaplen}")
        self._stream.write(record_bytes(timestamp, data))
        self._stream.flush()
        self.count += 1

    def close(self) -> None:
        if self._owned and not self._stream.closed:
            self._stream.close()

    def __enter__(self) -> PcapWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def pcap_bytes(
    frames: Iterable[tuple[float, bytes]], linktype: int = LINKTYPE_IEEE802_15_4_WITHFCS
) -> bytes:
    """A whole pcap file in memory from (timestamp, frame) pairs."""
    buffer = io.BytesIO()
    writer = PcapWriter(buffer, linktype)
    for timestamp, data in frames:
        writer.write(timestamp, data)
    return buffer.getvalue()


def read_pcap(source: str | os.PathLike[str] | bytes) -> PcapCapture:
    """Parse a classic pcap file (either byte order, micro- or nanosecond timestamps)."""
    data = bytes(source) if isinstance(source, bytes | bytearray) else Path(source).read_bytes()
    if len(data) < _GLOBAL.size:
        raise CaptureError(f"pcap file of {len(data)} bytes is shorter than its 24-byte global header")
    found = pcap_format(data)
    if found is None:
        raise CaptureError(f"not a pcap file: magic {data[:4].hex()} (pcapng is not supported)")
    record = found.record
    offset = _GLOBAL.size
    records = []
    while offset < len(data):
        if offset + record.size > len(data):
            raise CaptureError(f"truncated record header at offset {offset}")
        seconds, fraction, included, original = record.unpack_from(data, offset)
        offset += record.size
        if offset + included > len(data):
            raise CaptureError(f"record at offset {offset - record.size} claims {included} bytes, file ends first")
        records.append(PcapRecord(found.timestamp(seconds, fraction), data[offset : offset + included], original))
        offset += included
    return PcapCapture(found.linktype, tuple(records), found.snaplen)

"""A live sniffer capture: frames another process appends to a growing pcap file, read as they arrive.

A real bench observes the air through a sniffer writing classic pcap (e.g. ``tshark -F pcap`` or
``python -m harness.emulator ncp --pcap``); its header is read through the pcap module's format table
(:func:`~harness.capture.pcap.pcap_format`), so the file reader and this reader accept the same files.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from struct import Struct
from typing import BinaryIO

from harness.capture.pcap import (
    GLOBAL_HEADER_SIZE,
    LINKTYPE_IEEE802_15_4_WITHFCS,
    CaptureError,
    PcapFormat,
    magic_name,
    pcap_format,
)
from harness.errors import BenchFault

MAX_RECORD = 65535  # no 802.15.4 PSDU comes near; a larger length means a corrupt or foreign file


class SnifferFault(BenchFault, RuntimeError):
    """The sniffer capture is not the live one (it does not grow while frames are on the air, or it shrank):
    judging the DUT on it would judge old frames or none. Another attempt reads the same file: not retried."""


class LivePcap:
    """Reads frames appended to a growing pcap file since the last call (timestamp, PSDU).

    Classic pcap of either byte order, micro- or nanosecond stamps, link type 195 (802.15.4 with FCS); the
    header is checked once it is complete, and anything else is a :class:`~harness.capture.CaptureError`
    naming the file (a sniffer set up wrong is a bench error, never a DUT failure).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = GLOBAL_HEADER_SIZE  # where the next unread record starts
        self._format: PcapFormat | None = None  # known once the global header was read
        self._record: Struct | None = None

    def _read_header(self, fh: BinaryIO) -> bool:
        header = fh.read(GLOBAL_HEADER_SIZE)
        if len(header) < GLOBAL_HEADER_SIZE:
            return False  # the sniffer has not written its header yet
        found = pcap_format(header)
        if found is None:
            raise CaptureError(f"sniffer capture {self.path}: {magic_name(header[:4])} is not a classic pcap; have "
                               "the sniffer write pcap (e.g. tshark -F pcap)")
        if found.linktype != LINKTYPE_IEEE802_15_4_WITHFCS:
            raise CaptureError(f"sniffer capture {self.path}: link type {found.linktype}, expected "
                               f"{LINKTYPE_IEEE802_15_4_WITHFCS} (IEEE 802.15.4 with FCS)")
        self._format, self._record = found, found.record
        return True

    def skip_to_end(self) -> None:
        self.offset = max(GLOBAL_HEADER_SIZE, self.path.stat().st_size) if self.path.exists() else GLOBAL_HEADER_SIZE

    def size(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def read_new(self) -> list[tuple[float, bytes]]:
        if not self.path.exists():
            return []
        with open(self.path, "rb") as fh:
            if self._format is None and not self._read_header(fh):
                return []
            size = os.fstat(fh.fileno()).st_size
            if size < self.offset:
                # Another file now stands at the path (the sniffer restarted): the frames between are lost.
                raise SnifferFault(f"sniffer capture {self.path} shrank from {self.offset} to {size} bytes while "
                                   "the scenario read it: the sniffer restarted or another file replaced it")
            fh.seek(self.offset)
            data = fh.read()
        assert self._format is not None and self._record is not None  # _read_header set them, or we returned
        fmt, record = self._format, self._record
        frames = []
        pos = 0
        while pos + record.size <= len(data):
            seconds, fraction, length, _orig = record.unpack_from(data, pos)
            if length > MAX_RECORD:
                raise CaptureError(f"sniffer capture {self.path}: record at byte {self.offset + pos} claims "
                                   f"{length} bytes (an 802.15.4 frame has at most 127): the file is corrupt")
            if pos + record.size + length > len(data):
                break  # a record still being written
            frames.append((fmt.timestamp(seconds, fraction), data[pos + record.size: pos + record.size + length]))
            pos += record.size + length
        self.offset += pos
        return frames

    def import_into(self, folder: Path, name: str = "sniffer.pcap") -> Path:
        """Copy the external sniffer's capture into the scenario's artifacts."""
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        shutil.copyfile(self.path, target)
        return target

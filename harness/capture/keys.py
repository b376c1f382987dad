"""Wireshark key export: the ``zigbee_pc_keys`` UAT table, as a file and as tshark options.

Wireshark's ZigBee dissector (Preferences > Protocols > ZigBee > Pre-configured Keys) keeps a UAT table
whose records are ``"key","byte order","label"``: the key as 16 hex bytes, "Normal" (as written) or
"Reverse" byte order, and a free-text label. The same record text works in the UAT file
(``zigbee_pc_keys`` in a Wireshark profile) and on the command line as ``-o uat:zigbee_pc_keys:<record>``.
Wireshark derives the key-transport and key-load keys from link keys itself, so export the network key(s)
and the link keys (e.g. install-code keys); never the derived ones.

The export writes secrets on purpose (a capture is useless without them); reprs stay redacted.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

UAT_TABLE = "zigbee_pc_keys"
_RECORD = re.compile(r'^"([0-9A-Fa-f:\- ]+)","(Normal|Reverse)","([^"]*)"$')


class KeyFileError(ValueError):
    """A key or key-file record that Wireshark would not accept."""


@dataclass(frozen=True, slots=True)
class CaptureKey:
    """A key for Wireshark: 16 bytes in the order the stack uses them, and a label."""

    key: bytes
    label: str = ""

    def __post_init__(self) -> None:
        if len(self.key) != 16:
            raise KeyFileError(f"a Zigbee key is 16 bytes, got {len(self.key)}")
        if '"' in self.label or "\n" in self.label:
            raise KeyFileError("a key label cannot contain quotes or newlines")

    def __repr__(self) -> str:
        return f"CaptureKey(key=<redacted>, label={self.label!r})"

    @property
    def record(self) -> str:
        """The UAT record: "AA:BB:...","Normal","label"."""
        return f'"{self.key.hex(":").upper()}","Normal","{self.label}"'


def _keys(keys: Iterable[CaptureKey | tuple[bytes, str]]) -> list[CaptureKey]:
    return [k if isinstance(k, CaptureKey) else CaptureKey(bytes(k[0]), k[1]) for k in keys]


def key_file_text(keys: Iterable[CaptureKey | tuple[bytes, str]]) -> str:
    """The UAT file: a comment line, then one record per key (duplicates dropped, order kept)."""
    lines = ["# Wireshark ZigBee pre-configured keys (uat:zigbee_pc_keys): key, byte order, label"]
    seen: set[bytes] = set()
    for key in _keys(keys):
        if key.key not in seen:
            seen.add(key.key)
            lines.append(key.record)
    return "\n".join(lines) + "\n"


def write_key_file(path: str | os.PathLike[str], keys: Iterable[CaptureKey | tuple[bytes, str]]) -> Path:
    path = Path(path)
    path.write_text(key_file_text(keys), encoding="utf-8")
    return path


def read_key_file(path: str | os.PathLike[str]) -> list[CaptureKey]:
    """Parse a file written by :func:`write_key_file` (or Wireshark); comments and blank lines skipped."""
    keys = []
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise KeyFileError(f"{path}: not UTF-8 text (byte {exc.start}): not a zigbee_pc_keys file") from None
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _RECORD.match(line)
        if match is None:
            raise KeyFileError(f"line {number} is not a zigbee_pc_keys record")
        digits = re.sub(r"[:\- ]", "", match.group(1))
        try:
            raw = bytes.fromhex(digits)
        except ValueError:
            raise KeyFileError(f"line {number}: the key is not whole hex bytes ({len(digits)} hex digits)") from None
        if match.group(2) == "Reverse":
            raw = raw[::-1]
        keys.append(CaptureKey(raw, match.group(3)))
    return keys


def tshark_key_options(keys: Iterable[CaptureKey | tuple[bytes, str]] | str | os.PathLike[str]) -> list[str]:
    """tshark arguments that load *keys* (or a key file's records): ``-o uat:zigbee_pc_keys:<record>`` each."""
    if isinstance(keys, str | os.PathLike):
        keys = read_key_file(keys)
    options: list[str] = []
    for key in _keys(keys):
        options += ["-o", f"uat:{UAT_TABLE}:{key.record}"]
    return options

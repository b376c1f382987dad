"""Redaction of a run's secrets (install codes, link and network keys, private keys) from text and JSON data.

A Redactor is built from the secret values of the run. It replaces each value wherever it appears as hex —
upper or lower case, with or without separators between bytes (``:``, ``-``, ``.``, ``_``, spaces, ``, ``),
with ``0x`` prefixes, in either byte order, or as a Python bytes literal — and, in JSON-like data, the value
of any field whose name says it holds a secret, and any PEM private key block whatever its value.
``--reveal-secrets`` bypasses redaction: the plugin then passes no Redactor at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from harness.crypto.install_code import InstallCode

REDACTED = "[redacted]"
# Shorter values would match ordinary data (a 4-byte value is a counter, a timestamp ...); the shortest
# Smart Energy secret is a 6-byte install code.
MIN_SECRET_BYTES = 6

_SEPARATOR = r"(?:[ \t:._-]|,[ \t]*)?"
_PEM_PRIVATE_KEY = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?-----END \1PRIVATE KEY-----", re.DOTALL
)
# Field names (normalised to lower case with '_') whose string values are secrets whatever they hold.
_SECRET_FIELD = re.compile(
    r"(install_?code|link_?key|network_?key|nwk_?key|private_?key|tc_?key|secret(?!s_revealed)|passw(or)?d)"
)


class RedactionError(ValueError):
    """A value that cannot serve as a secret to redact (too short, not hex)."""


def _secret_bytes(value: bytes | bytearray | str) -> bytes:
    if isinstance(value, bytes | bytearray):
        raw = bytes(value)
    else:
        text = re.sub(r"[\s:._-]", "", value)
        if text[:2].lower() == "0x":
            text = text[2:]
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise RedactionError("a secret given as text must be hex (separators allowed)") from None
    if len(raw) < MIN_SECRET_BYTES:
        # Never echo the value: it is a secret even when it is a useless one.
        raise RedactionError(
            f"a secret of {len(raw)} byte(s) is too short to redact safely (at least {MIN_SECRET_BYTES})"
        )
    return raw


def _hex_pattern(raw: bytes) -> str:
    return _SEPARATOR.join(f"(?:0x)?{byte:02x}" for byte in raw)


class Redactor:
    """Replaces the secret values of a run, given as bytes or hex text, by ``[redacted]``."""

    def __init__(self, secrets: Iterable[bytes | bytearray | str] = ()) -> None:
        self._secrets: set[bytes] = set()
        self._pattern: re.Pattern[str] | None = None
        for secret in secrets:
            self.add(secret)

    def __repr__(self) -> str:  # the whole point is never to show them
        return f"Redactor(<{len(self._secrets)} secret(s)>)"

    def __len__(self) -> int:
        return len(self._secrets)

    def add(self, secret: bytes | bytearray | str) -> None:
        raw = _secret_bytes(secret)
        self._secrets.update((raw, raw[::-1]))  # keys are often shown byte-reversed (zigpy EUI64 style)
        self._pattern = None

    def add_install_code(self, code: InstallCode | bytes | str) -> None:
        """An install code with and without its CRC, and the link key derived from it."""
        if not isinstance(code, InstallCode):
            code = InstallCode.parse(code)
        self.add(code.with_crc)
        self.add(code.code)
        self.add(code.link_key)

    @classmethod
    def from_profiles(cls, dut: Any = None, bench: Any = None) -> Redactor:
        """The secrets a DUT profile and a bench profile hold (harness.profiles models)."""
        redactor = cls()
        if dut is not None:
            redactor.add_install_code(dut.install_code_value)
        if bench is not None:
            redactor.add(bench.network_key.get_secret_value())
            test_ca = getattr(bench, "test_ca", None)
            if test_ca is not None and test_ca.private_key is not None:
                redactor.add(test_ca.private_key.get_secret_value())
        return redactor

    def _compiled(self) -> re.Pattern[str] | None:
        if self._pattern is None and self._secrets:
            # Longest first, so a code with its CRC is replaced whole rather than leaving the CRC behind.
            ordered = sorted(self._secrets, key=len, reverse=True)
            alternatives = [_hex_pattern(raw) for raw in ordered]
            alternatives += [re.escape(repr(raw)[2:-1]) for raw in ordered]  # b'...' in a log line
            self._pattern = re.compile("|".join(alternatives), re.IGNORECASE)
        return self._pattern

    def redact_text(self, text: str) -> str:
        text = _PEM_PRIVATE_KEY.sub(REDACTED, text)
        pattern = self._compiled()
        return pattern.sub(REDACTED, text) if pattern is not None else text

    def redact(self, value: Any) -> Any:
        """A copy of JSON-like data (dicts, lists, tuples, strings, bytes) with every secret replaced."""
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, bytes | bytearray):
            return self.redact_text(bytes(value).hex())
        if isinstance(value, Mapping):
            return {
                self.redact_text(str(key)): (
                    self._redact_field(item) if _is_secret_field(str(key)) else self.redact(item)
                )
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.redact(item) for item in value]
        return value

    def _redact_field(self, value: Any) -> Any:
        if isinstance(value, str | bytes | bytearray):
            return REDACTED if value else value
        if isinstance(value, list | tuple | Mapping):
            return self.redact(value)
        return value  # a flag or a number (secrets_revealed: true) is not itself a secret

    def redact_file(self, path: Path | str) -> bool:
        """Rewrite a UTF-8 text file (a log, a JUnit file) with its secrets replaced; True when it changed."""
        path = Path(path)
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        redacted = self.redact_text(text)
        if redacted == text:
            return False
        path.write_text(redacted, encoding="utf-8", errors="surrogateescape")
        return True


def _is_secret_field(name: str) -> bool:
    return _SECRET_FIELD.search(re.sub(r"[\s.-]", "_", name).lower()) is not None

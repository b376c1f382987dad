"""Smart Energy install codes: 6, 8, 12 or 16 bytes plus a CRC-16/X-25 appended little-endian.

The preconfigured Trust Center link key of a joining SE device is AES-MMO(code || CRC).
"""

from __future__ import annotations

from dataclasses import dataclass

from .crc import crc16_x25
from .errors import InstallCodeError
from .mmo import aes_mmo

CODE_LENGTHS = (6, 8, 12, 16)


@dataclass(frozen=True)
class InstallCode:
    """An install code without its CRC; ``with_crc`` and ``link_key`` derive the rest."""

    code: bytes

    def __post_init__(self) -> None:
        if len(self.code) not in CODE_LENGTHS:
            raise InstallCodeError(
                f"install code is {len(self.code)} bytes; it must be 6, 8, 12 or 16 bytes "
                f"(8, 10, 14 or 18 with its CRC)"
            )

    @property
    def crc(self) -> int:
        return crc16_x25(self.code)

    @property
    def with_crc(self) -> bytes:
        return self.code + self.crc.to_bytes(2, "little")

    @property
    def link_key(self) -> bytes:
        """The preconfigured link key: AES-MMO(code || CRC)."""
        return aes_mmo(self.with_crc)

    @classmethod
    def parse(cls, value: str | bytes, *, has_crc: bool | None = None) -> InstallCode:
        """Accept hex (spaces, colons and dashes ignored) or bytes, with or without the CRC.

        With ``has_crc=None`` the length decides: 10, 14 and 18 bytes carry a CRC, 6, 12 and 16 do not,
        and an 8-byte value is a 6-byte code with CRC when its last two bytes are that CRC.
        A CRC that does not match raises InstallCodeError naming both values.
        """
        raw = _to_bytes(value)
        if has_crc is None:
            if len(raw) in (10, 14, 18):
                has_crc = True
            elif len(raw) == 8:
                has_crc = crc16_x25(raw[:6]).to_bytes(2, "little") == raw[6:]
            else:
                has_crc = False
        if not has_crc:
            return cls(raw)
        if len(raw) - 2 not in CODE_LENGTHS:
            raise InstallCodeError(
                f"install code with CRC is {len(raw)} bytes; it must be 8, 10, 14 or 18 bytes"
            )
        code, given = raw[:-2], int.from_bytes(raw[-2:], "little")
        expected = crc16_x25(code)
        if given != expected:
            raise InstallCodeError(
                f"install code CRC mismatch: the code ends in {raw[-2:].hex().upper()} "
                f"but its CRC-16/X-25 is {expected.to_bytes(2, 'little').hex().upper()} (little-endian)"
            )
        return cls(code)

    def __repr__(self) -> str:  # never print a secret by accident
        return f"InstallCode(<{len(self.code)} bytes, redacted>)"


def _to_bytes(value: str | bytes) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    text = "".join(ch for ch in value.strip() if ch not in " :-")
    if text.lower().startswith("0x"):
        text = text[2:]
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise InstallCodeError(f"install code {value!r} is not hexadecimal") from None

"""CRC-16/X-25 of Zigbee install codes: reflected polynomial 0x1021, init 0xFFFF, xorout 0xFFFF."""

from __future__ import annotations


def _table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _table()


def crc16_x25(data: bytes) -> int:
    """CRC-16/X-25 of *data* (check value of b"123456789" is 0x906E)."""
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ _TABLE[(crc ^ byte) & 0xFF]
    return crc ^ 0xFFFF

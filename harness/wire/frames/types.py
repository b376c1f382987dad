"""Address conventions shared by every layer.

IEEE (extended) addresses are plain ints holding the 64-bit value as people write it
(0x00124B0001020304 prints as 00:12:4b:00:01:02:03:04); on the air they are little-endian, which is also
zigpy's EUI64 byte order. Short (NWK) addresses and PAN ids are ints 0..0xFFFF.
"""

from __future__ import annotations

from zigpy.types import EUI64

BROADCAST_ADDR = 0xFFFF  # MAC broadcast short address / PAN id; also NWK "all devices"
BROADCAST_RX_ON_WHEN_IDLE = 0xFFFD
BROADCAST_ROUTERS = 0xFFFC
NO_SHORT_ADDRESS = 0xFFFE  # MAC: "use the extended address"; association response of a failed join


def ieee_to_bytes(ieee: int) -> bytes:
    """The 8 over-the-air bytes (little-endian) of an IEEE address."""
    return ieee.to_bytes(8, "little")


def ieee_from_bytes(data: bytes) -> int:
    return int.from_bytes(data, "little")


def ieee_to_eui64(ieee: int) -> EUI64:
    """zigpy's EUI64 for an IEEE int (EUI64 keeps over-the-air byte order)."""
    return EUI64(ieee.to_bytes(8, "little"))


def eui64_to_ieee(eui64: EUI64 | bytes) -> int:
    return int.from_bytes(bytes(eui64), "little")


def format_ieee(ieee: int) -> str:
    """00:12:4b:... as zigpy and Wireshark print it."""
    return ":".join(f"{b:02x}" for b in ieee.to_bytes(8, "big"))

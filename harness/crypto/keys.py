"""Zigbee key derivations and well-known keys (Zigbee spec 4.5.3, B.1.4)."""

from __future__ import annotations

from .mmo import hmac_mmo

# The well-known default Trust Center link key "ZigBeeAlliance09". An SE Trust Center must never admit a
# device with it; the suite offers it on purpose to check that the DUT refuses it.
WELL_KNOWN_TC_LINK_KEY = b"ZigBeeAlliance09"


def key_transport_key(link_key: bytes) -> bytes:
    """Key-transport key: HMAC-MMO(link key, 0x00); protects APS Transport Key commands."""
    return hmac_mmo(link_key, b"\x00")


def key_load_key(link_key: bytes) -> bytes:
    """Key-load key: HMAC-MMO(link key, 0x02); protects transported link keys."""
    return hmac_mmo(link_key, b"\x02")

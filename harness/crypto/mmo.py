"""AES-MMO hash and HMAC-MMO (Zigbee spec B.6 and C.6.1), on cryptography's AES-128 in ECB mode.

H0 = 0; Hj = E(Hj-1, Mj) xor Mj. Padding: a 1 bit, zeros, then the message length in bits: 16 bits after
zeros to 14 mod 16 for messages shorter than 2^13 bytes; otherwise 32 bits followed by 16 zero bits after
zeros to 10 mod 16 (the spec's long form, for messages up to 2^32 bits).
"""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 16
_SHORT_LIMIT = 1 << 13  # bytes: 2^16 bits


def _pad(message: bytes) -> bytes:
    bits = len(message) * 8
    padded = bytearray(message) + b"\x80"
    if len(message) < _SHORT_LIMIT:
        padded += b"\x00" * ((14 - len(padded)) % BLOCK)
        padded += bits.to_bytes(2, "big")
    else:
        padded += b"\x00" * ((10 - len(padded)) % BLOCK)
        padded += bits.to_bytes(4, "big") + b"\x00\x00"
    return bytes(padded)


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(BLOCK, "big")


def aes_mmo(message: bytes) -> bytes:
    """The 16-byte AES-MMO digest of *message*."""
    padded = _pad(bytes(message))
    digest = bytes(BLOCK)
    for i in range(0, len(padded), BLOCK):
        block = padded[i : i + BLOCK]
        encryptor = Cipher(algorithms.AES(digest), modes.ECB()).encryptor()
        digest = _xor(encryptor.update(block) + encryptor.finalize(), block)
    return digest


def hmac_mmo(key: bytes, message: bytes) -> bytes:
    """HMAC with AES-MMO as the hash: MMO((K xor opad) || MMO((K xor ipad) || M)), 16-byte pads."""
    key = bytes(key)
    if len(key) > BLOCK:
        key = aes_mmo(key)
    key = key.ljust(BLOCK, b"\x00")
    inner = aes_mmo(bytes(k ^ 0x36 for k in key) + bytes(message))
    return aes_mmo(bytes(k ^ 0x5C for k in key) + inner)

"""ECDSA on sect163k1: RFC 6979 A.2.4 (K-163, SHA-256) as an independent check, AES-MMO signing, rejections."""

from __future__ import annotations

import hashlib

import pytest

from harness.crypto.curves import SECT163K1, Point
from harness.crypto.ecdsa import SIGNATURE_LENGTH, sign, sign_digest, verify, verify_digest
from harness.crypto.errors import AuthenticationError, InvalidKeyError, InvalidPointError

# RFC 6979 appendix A.2.4, curve K-163 (= sect163k1), message "sample", SHA-256.
RFC6979_PRIVATE = 0x09A4D6792295A7F730FC3F2B49CBC0F62E862272F
RFC6979_PUBLIC = Point(0x79AEE090DB05EC252D5CB4452F356BE198A4FF96F, 0x782E29634DDC9A31EF40386E896BAA18B53AFA5A3)
RFC6979_R = 0x113A63990598A3828C407C0F4D2438D990DF99A7F
RFC6979_S = 0x1313A2E03F5412DDB296A22E2C455335545672D9F


def rfc6979_digest() -> int:
    # bits2int: the leftmost 163 bits of SHA-256("sample")
    return int.from_bytes(hashlib.sha256(b"sample").digest(), "big") >> (256 - 163)


def test_rfc6979_k163_vector() -> None:
    assert SECT163K1.base_multiply(RFC6979_PRIVATE) == RFC6979_PUBLIC
    signature = sign_digest(RFC6979_PRIVATE, rfc6979_digest(), deterministic=True)
    assert signature == RFC6979_R.to_bytes(21, "big") + RFC6979_S.to_bytes(21, "big")
    verify_digest(RFC6979_PUBLIC, rfc6979_digest(), signature)


def test_sign_verify_with_aes_mmo_digest() -> None:
    d = 0x1234567890ABCDEF
    q = SECT163K1.encode_point(SECT163K1.base_multiply(d))
    message = bytes.fromhex("00000001" "03" "0000")
    signature = sign(d, message)
    assert len(signature) == SIGNATURE_LENGTH
    verify(q, message, signature)
    assert sign(d, message, deterministic=True) == sign(d, message, deterministic=True)
    with pytest.raises(AuthenticationError, match="does not verify"):
        verify(q, message + b"\x00", signature)
    with pytest.raises(AuthenticationError, match="does not verify"):
        verify(q, message, signature[:-1] + bytes([signature[-1] ^ 1]))


def test_malformed_signatures_and_keys() -> None:
    d = 77
    q = SECT163K1.base_multiply(d)
    with pytest.raises(AuthenticationError, match="41 bytes, expected 42"):
        verify(q, b"m", bytes(41))
    with pytest.raises(AuthenticationError, match="out of range"):
        verify(q, b"m", bytes(42))
    with pytest.raises(AuthenticationError, match="out of range"):
        verify(q, b"m", SECT163K1.n.to_bytes(21, "big") + (1).to_bytes(21, "big"))
    with pytest.raises(InvalidPointError, match="signer public key"):
        verify(b"\x04" + bytes(21), b"m", bytes(42))
    with pytest.raises(InvalidPointError, match="signer public key"):
        verify(Point(q.x, q.y ^ 1), b"m", bytes(42))
    with pytest.raises(InvalidKeyError, match="signing key"):
        sign(0, b"m")

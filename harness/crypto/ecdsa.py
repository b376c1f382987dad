"""ECDSA on sect163k1 with the AES-MMO digest, as signed DRLC Report Event Status uses it (SE spec C.7; SEC 1 4.1).

The digest e is AES-MMO(message) read as a 128-bit big-endian integer (shorter than n, so never truncated).
The signature is r || s, each 21 bytes big-endian: 42 bytes. Signing uses a random k by default, or a
deterministic k derived from the key and digest as in RFC 6979 3.2 (HMAC-SHA-256), for reproducible runs.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from random import Random

from .curves import SECT163K1, KoblitzCurve, Point
from .errors import AuthenticationError
from .mmo import aes_mmo

SIGNATURE_LENGTH = 42


def message_digest(message: bytes) -> int:
    return int.from_bytes(aes_mmo(bytes(message)), "big")


def _rfc6979_nonces(curve: KoblitzCurve, private_key: int, digest: int) -> Iterator[int]:
    """Candidate nonces k in [1, n-1] (RFC 6979 3.2 with HMAC-SHA-256), generated until one is used."""
    size = curve.scalar_bytes
    qlen = curve.n.bit_length()
    x = private_key.to_bytes(size, "big")
    h1 = (digest % curve.n).to_bytes(size, "big")
    v, k = b"\x01" * 32, b"\x00" * 32
    k = hmac.new(k, v + b"\x00" + x + h1, hashlib.sha256).digest()
    v = hmac.new(k, v, hashlib.sha256).digest()
    k = hmac.new(k, v + b"\x01" + x + h1, hashlib.sha256).digest()
    v = hmac.new(k, v, hashlib.sha256).digest()
    while True:
        t = b""
        while len(t) * 8 < qlen:
            v = hmac.new(k, v, hashlib.sha256).digest()
            t += v
        candidate = int.from_bytes(t, "big") >> (len(t) * 8 - qlen)
        if 1 <= candidate < curve.n:
            yield candidate
        k = hmac.new(k, v + b"\x00", hashlib.sha256).digest()
        v = hmac.new(k, v, hashlib.sha256).digest()


def sign(
    private_key: int,
    message: bytes,
    *,
    deterministic: bool = False,
    rng: Random | None = None,
    curve: KoblitzCurve = SECT163K1,
) -> bytes:
    """The 42-byte r || s signature of *message*."""
    return sign_digest(private_key, message_digest(message), deterministic=deterministic, rng=rng, curve=curve)


def sign_digest(
    private_key: int,
    digest: int,
    *,
    deterministic: bool = False,
    rng: Random | None = None,
    curve: KoblitzCurve = SECT163K1,
) -> bytes:
    """r || s for an integer digest already shortened to n's bit length (SEC 1 4.1.3 step 5)."""
    d = curve.check_private_key(private_key, "signing key")
    e = digest
    nonces = _rfc6979_nonces(curve, d, e) if deterministic else iter(lambda: curve.random_scalar(rng), None)
    for k in nonces:
        point = curve.base_multiply(k)
        r = point.x % curve.n
        if r == 0:
            continue
        s = pow(k, -1, curve.n) * (e + d * r) % curve.n
        if s:
            return curve.encode_scalar(r) + curve.encode_scalar(s)
    raise AssertionError("unreachable: the nonce generators never end")


def verify(
    public_key: Point | bytes, message: bytes, signature: bytes, *, curve: KoblitzCurve = SECT163K1
) -> None:
    """Return quietly for a valid signature; AuthenticationError (bad signature) or InvalidPointError (bad key)."""
    verify_digest(public_key, message_digest(message), signature, curve=curve)


def verify_digest(
    public_key: Point | bytes, digest: int, signature: bytes, *, curve: KoblitzCurve = SECT163K1
) -> None:
    """:func:`verify` for an integer digest already shortened to n's bit length."""
    if isinstance(public_key, Point):
        q = curve.validate_point(public_key, "signer public key")
    else:
        q = curve.decode_point(public_key, "signer public key")
    signature = bytes(signature)
    size = curve.scalar_bytes
    if len(signature) != 2 * size:
        raise AuthenticationError(f"signature is {len(signature)} bytes, expected {2 * size} (r || s)")
    r = int.from_bytes(signature[:size], "big")
    s = int.from_bytes(signature[size:], "big")
    if not (1 <= r < curve.n and 1 <= s < curve.n):
        raise AuthenticationError("signature r or s is out of range [1, n-1]")
    w = pow(s, -1, curve.n)
    e = digest
    point = curve.linear_combination(e * w % curve.n, curve.g, r * w % curve.n, q)
    if point is None or point.x % curve.n != r:
        raise AuthenticationError("signature does not verify for this message and key")

"""ECQV implicit certificates of Smart Energy CBKE (SE spec 5.4.2, C.4; SEC 4) and a test CA.

Suite 1 (sect163k1, 48 bytes): public reconstruction data (22, compressed point) | subject (8) | issuer (8) |
profile attribute data (10).
Suite 2 (sect283k1, 74 bytes): type (1) = 00 | serial (8) | curve (1) = 0D | hash (1) = 08 | issuer (8) |
valid-from (5, u40 seconds) | valid-to (4, seconds after valid-from, FFFFFFFF = no expiry) | subject (8) |
key usage (1) | public reconstruction data (37).
Subject and issuer are EUI-64s written most significant byte first (the reverse of their over-the-air order).

The public key is implicit: Q = e*P + Q_CA, with P the reconstruction point and e = AES-MMO(certificate)
read as a big-endian integer. The CA's contribution makes the subject's private key d = e*k + d_CA (mod n)
when P = k*G, which is how :class:`TestCA` mints certificates for simulated devices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from random import Random

import zigpy.types as t

from .curves import KoblitzCurve, Point, curve_for_suite
from .errors import InvalidCertificateError, InvalidKeyError, InvalidPointError
from .mmo import aes_mmo

SUITE1_CERTIFICATE_LENGTH = 48
SUITE2_CERTIFICATE_LENGTH = 74
CERTIFICATE_LENGTHS = {1: SUITE1_CERTIFICATE_LENGTH, 2: SUITE2_CERTIFICATE_LENGTH}

SUITE2_TYPE = 0x00
SUITE2_CURVE_SECT283K1 = 0x0D
SUITE2_HASH_AES_MMO = 0x08
SUITE2_NO_EXPIRY = 0xFFFFFFFF
# Key usage of the Annex C.6 certificates: key agreement (0x08) and digital signature (0x80).
SUITE2_KEY_USAGE_DEFAULT = 0x88

# "TESTSECA", the issuer of the Annex C.5 suite-1 test certificates.
TEST_ISSUER = bytes.fromhex("5445535453454341")
#: Reconstructed public keys by (curve, whole certificate, CA key): the same certificate and CA always give the
#: same key, and a run reconstructs the DUT's and the golden's keys at every exchange.
_RECONSTRUCTED: dict[tuple[str, bytes, Point], Point] = {}
# Profile attribute data of the Annex C.5 certificates; SE treats these 10 bytes as opaque.
SUITE1_PROFILE_DATA_DEFAULT = bytes.fromhex("01090006000000000000")


def ieee_msb_first(value: int | bytes | t.EUI64, what: str = "IEEE address") -> bytes:
    """An EUI-64 as the 8 bytes a certificate carries (most significant first).

    Accepts an int, 8 bytes already MSB first, or a zigpy EUI64 (which stores the over-the-air order).
    """
    if isinstance(value, t.EUI64):
        return bytes(reversed(value.serialize()))
    if isinstance(value, int):
        if not 0 <= value < 1 << 64:
            raise InvalidCertificateError(f"{what} {value:#x} does not fit in 64 bits")
        return value.to_bytes(8, "big")
    raw = bytes(value)
    if len(raw) != 8:
        raise InvalidCertificateError(f"{what} is 8 bytes, got {len(raw)}")
    return raw


def eui64_from_msb_first(raw: bytes) -> t.EUI64:
    return t.EUI64(bytes(reversed(raw)))


@dataclass(frozen=True)
class ImplicitCertificate:
    """Fields common to both suites; ``raw`` is the certificate exactly as received."""

    raw: bytes
    subject: bytes  # 8 bytes, MSB first
    issuer: bytes  # 8 bytes, MSB first
    public_reconstruction: bytes  # compressed point

    suite: int = field(init=False, default=0)

    @property
    def curve(self) -> KoblitzCurve:
        return curve_for_suite(self.suite)

    @property
    def subject_ieee(self) -> t.EUI64:
        return eui64_from_msb_first(self.subject)

    @property
    def issuer_ieee(self) -> t.EUI64:
        return eui64_from_msb_first(self.issuer)

    def digest(self) -> int:
        """e = AES-MMO(whole certificate) as a big-endian integer."""
        return int.from_bytes(aes_mmo(self.raw), "big")

    def reconstruction_point(self) -> Point:
        return self.curve.decode_point(self.public_reconstruction, "certificate public reconstruction data")

    def public_key(self, ca_public: Point | bytes) -> Point:
        """Reconstruct the subject's public key Q = e*P + Q_CA, validating both points."""
        curve = self.curve
        if isinstance(ca_public, Point):
            q_ca = curve.validate_point(ca_public, "CA public key")
        else:
            q_ca = curve.decode_point(ca_public, "CA public key")
        key = (curve.name, self.raw, q_ca)
        q = _RECONSTRUCTED.get(key)
        if q is None:
            q = curve.add(curve.multiply_public(self.digest(), self.reconstruction_point()), q_ca)
            if q is None:
                raise InvalidPointError("reconstructed public key is the point at infinity")
            if len(_RECONSTRUCTED) >= 4096:
                _RECONSTRUCTED.clear()
            _RECONSTRUCTED[key] = q
        return q

    def to_dict(self) -> dict[str, str | int]:
        """Named fields as JSON-friendly values (hex strings MSB first, integers for times)."""
        return {
            "suite": self.suite,
            "subject": self.subject.hex().upper(),
            "issuer": self.issuer.hex().upper(),
            "public_reconstruction": self.public_reconstruction.hex().upper(),
            "digest_e": aes_mmo(self.raw).hex().upper(),
        }


@dataclass(frozen=True)
class Suite1Certificate(ImplicitCertificate):
    profile_data: bytes = b""

    suite: int = field(init=False, default=1)

    @classmethod
    def parse(cls, data: bytes) -> Suite1Certificate:
        raw = _check_length(data, 1)
        return cls(raw=raw, public_reconstruction=raw[0:22], subject=raw[22:30], issuer=raw[30:38],
                   profile_data=raw[38:48])

    def to_dict(self) -> dict[str, str | int]:
        return {**super().to_dict(), "profile_data": self.profile_data.hex().upper()}


@dataclass(frozen=True)
class Suite2Certificate(ImplicitCertificate):
    type: int = SUITE2_TYPE
    serial: bytes = bytes(8)
    curve_id: int = SUITE2_CURVE_SECT283K1
    hash_id: int = SUITE2_HASH_AES_MMO
    valid_from: int = 0
    valid_to: int = SUITE2_NO_EXPIRY
    key_usage: int = SUITE2_KEY_USAGE_DEFAULT

    suite: int = field(init=False, default=2)

    @classmethod
    def parse(cls, data: bytes) -> Suite2Certificate:
        raw = _check_length(data, 2)
        if raw[0] != SUITE2_TYPE:
            raise InvalidCertificateError(f"suite 2 certificate type is 0x{raw[0]:02X}, expected 0x00")
        if raw[9] != SUITE2_CURVE_SECT283K1:
            raise InvalidCertificateError(
                f"suite 2 certificate curve is 0x{raw[9]:02X}, expected 0x0D (sect283k1)"
            )
        if raw[10] != SUITE2_HASH_AES_MMO:
            raise InvalidCertificateError(f"suite 2 certificate hash is 0x{raw[10]:02X}, expected 0x08 (AES-MMO)")
        return cls(
            raw=raw,
            type=raw[0],
            serial=raw[1:9],
            curve_id=raw[9],
            hash_id=raw[10],
            issuer=raw[11:19],
            valid_from=int.from_bytes(raw[19:24], "big"),
            valid_to=int.from_bytes(raw[24:28], "big"),
            subject=raw[28:36],
            key_usage=raw[36],
            public_reconstruction=raw[37:74],
        )

    @property
    def expires(self) -> int | None:
        """Absolute expiry (seconds, same epoch as valid_from), or None for FFFFFFFF."""
        return None if self.valid_to == SUITE2_NO_EXPIRY else self.valid_from + self.valid_to

    def to_dict(self) -> dict[str, str | int]:
        return {
            **super().to_dict(),
            "type": self.type,
            "serial": self.serial.hex().upper(),
            "curve": self.curve_id,
            "hash": self.hash_id,
            "valid_from": self.valid_from,
            "valid_to": self.valid_to,
            "key_usage": self.key_usage,
        }


def _check_length(data: bytes, suite: int) -> bytes:
    raw = bytes(data)
    expected = CERTIFICATE_LENGTHS[suite]
    if len(raw) != expected:
        raise InvalidCertificateError(f"a suite {suite} certificate is {expected} bytes, got {len(raw)}")
    return raw


def parse_certificate(data: bytes, suite: int | None = None) -> Suite1Certificate | Suite2Certificate:
    """Parse a certificate of *suite*, or of the suite its length implies when suite is None."""
    raw = bytes(data)
    if suite is None:
        by_length = {length: s for s, length in CERTIFICATE_LENGTHS.items()}
        if len(raw) not in by_length:
            raise InvalidCertificateError(
                f"certificate is {len(raw)} bytes; expected 48 (suite 1) or 74 (suite 2)"
            )
        suite = by_length[len(raw)]
    if suite == 1:
        return Suite1Certificate.parse(raw)
    if suite == 2:
        return Suite2Certificate.parse(raw)
    raise InvalidCertificateError(f"unknown key establishment suite {suite!r}: expected 1 or 2")


@dataclass(frozen=True)
class IssuedCertificate:
    """What a CA hands a device: its certificate and the matching static private key."""

    certificate: bytes
    private_key: int = field(repr=False)
    suite: int = 1

    @property
    def private_key_bytes(self) -> bytes:
        return curve_for_suite(self.suite).encode_scalar(self.private_key)

    def parsed(self) -> Suite1Certificate | Suite2Certificate:
        return parse_certificate(self.certificate, self.suite)


class TestCA:
    """A certificate authority for simulated benches; one private scalar serves both suites.

    The key must be in [1, n-1] of the curve in use (any key valid on sect163k1 is valid on sect283k1).
    """

    __test__ = False  # not a pytest test class despite its name

    def __init__(self, private_key: int) -> None:
        if not 1 <= private_key < max(c.n for c in (curve_for_suite(1), curve_for_suite(2))):
            raise InvalidKeyError("CA private key is out of range: it must be in [1, n-1]")
        self._private_key = private_key
        self._public: dict[int, Point] = {}

    def __repr__(self) -> str:
        return "TestCA(<private key redacted>)"

    @classmethod
    def generate(cls, rng: Random | None = None) -> TestCA:
        """A fresh CA whose key works for both suites (drawn below sect163k1's n)."""
        return cls(curve_for_suite(1).random_scalar(rng))

    @classmethod
    def from_bytes(cls, data: bytes) -> TestCA:
        return cls(int.from_bytes(bytes(data), "big"))

    def _key_for(self, suite: int) -> int:
        return curve_for_suite(suite).check_private_key(self._private_key, f"CA private key (suite {suite})")

    def public_key(self, suite: int = 1) -> Point:
        if suite not in self._public:
            curve = curve_for_suite(suite)
            self._public[suite] = curve.base_multiply(self._key_for(suite))
        return self._public[suite]

    def public_key_bytes(self, suite: int = 1) -> bytes:
        return curve_for_suite(suite).encode_point(self.public_key(suite))

    def issue(
        self,
        subject: int | bytes | t.EUI64,
        suite: int = 1,
        issuer: int | bytes | t.EUI64 = TEST_ISSUER,
        *,
        profile_data: bytes = SUITE1_PROFILE_DATA_DEFAULT,
        serial: bytes = bytes(8),
        valid_from: int = 0,
        valid_to: int = SUITE2_NO_EXPIRY,
        key_usage: int = SUITE2_KEY_USAGE_DEFAULT,
        rng: Random | None = None,
    ) -> IssuedCertificate:
        """Mint a certificate and private key for *subject* (ECQV with the requester's and CA's
        contributions folded into one random k, since the test CA plays both roles)."""
        curve = curve_for_suite(suite)
        d_ca = self._key_for(suite)
        subject_raw = ieee_msb_first(subject, "subject")
        issuer_raw = ieee_msb_first(issuer, "issuer")
        if suite == 1 and len(profile_data) != 10:
            raise InvalidCertificateError(f"suite 1 profile attribute data is 10 bytes, got {len(profile_data)}")
        if suite == 2:
            if len(serial) != 8:
                raise InvalidCertificateError(f"suite 2 serial number is 8 bytes, got {len(serial)}")
            if not 0 <= valid_from < 1 << 40 or not 0 <= valid_to < 1 << 32 or not 0 <= key_usage < 256:
                raise InvalidCertificateError("suite 2 validity or key usage is out of range (u40, u32, u8)")
        while True:
            k = curve.random_scalar(rng)
            reconstruction = curve.encode_point(curve.base_multiply(k))
            if suite == 1:
                raw = reconstruction + subject_raw + issuer_raw + bytes(profile_data)
            else:
                raw = (
                    bytes([SUITE2_TYPE]) + bytes(serial) + bytes([SUITE2_CURVE_SECT283K1, SUITE2_HASH_AES_MMO])
                    + issuer_raw + valid_from.to_bytes(5, "big") + valid_to.to_bytes(4, "big") + subject_raw
                    + bytes([key_usage]) + reconstruction
                )
            e = int.from_bytes(aes_mmo(raw), "big")
            private_key = (e * k + d_ca) % curve.n
            if private_key:  # a zero key is astronomically unlikely; draw again rather than mint it
                return IssuedCertificate(certificate=raw, private_key=private_key, suite=suite)

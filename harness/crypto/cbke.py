"""The mathematics of Certificate-Based Key Establishment (SE spec 5.4, C.4.2), for both roles.

U is the initiator, V the responder. Each side has a static key pair (its implicit certificate and private
key) and an ephemeral key pair for this exchange. ECMQV with cofactor (SEC 1 3.4):
    s = (d_eph + avf(Q_eph) * d_static) mod n,   Z = x( h*s * (Q'_eph + avf(Q'_eph) * Q'_static) )
where primes mark the peer's keys, Q'_static is reconstructed from the peer's certificate, and
avf(Q) = (x mod 2^ceil(f/2)) + 2^ceil(f/2) with f the bit length of n (82 for suite 1, 141 for suite 2).
KDF: MacKey = AES-MMO(Z || 00000001), KeyData = AES-MMO(Z || 00000002); KeyData is the new APS link key.
Key confirmation: MACU = HMAC-MMO(MacKey, 02 || IDU || IDV || QEU || QEV),
                  MACV = HMAC-MMO(MacKey, 03 || IDV || IDU || QEV || QEU), IDs being certificate subjects.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from enum import Enum
from random import Random

from .curves import KoblitzCurve, Point, curve_for_suite
from .ecqv import ImplicitCertificate, parse_certificate
from .errors import AuthenticationError, InvalidCertificateError, InvalidPointError
from .mmo import aes_mmo, hmac_mmo

MACU_PREFIX = b"\x02"
MACV_PREFIX = b"\x03"


class Role(Enum):
    INITIATOR = "initiator"  # U, the Key Establishment client
    RESPONDER = "responder"  # V, the server

    @property
    def peer(self) -> Role:
        return Role.RESPONDER if self is Role.INITIATOR else Role.INITIATOR


@dataclass(frozen=True)
class CbkeKeys:
    """Everything one side derives; MACU is sent by the initiator, MACV by the responder."""

    z: bytes = field(repr=False)
    mac_key: bytes = field(repr=False)
    key_data: bytes = field(repr=False)
    mac_u: bytes = field(repr=False)
    mac_v: bytes = field(repr=False)

    def mac_sent_by(self, role: Role) -> bytes:
        return self.mac_u if role is Role.INITIATOR else self.mac_v

    def verify_mac(self, received: bytes, sender: Role) -> None:
        """Check the Confirm Key MAC received from *sender*; raises AuthenticationError."""
        verify_mac(self.mac_sent_by(sender), received, "MACU" if sender is Role.INITIATOR else "MACV")


def verify_mac(expected: bytes, received: bytes, what: str = "MAC") -> None:
    """Constant-time comparison of a received key-confirmation MAC; AuthenticationError on mismatch."""
    received = bytes(received)
    if len(received) != len(expected):
        raise AuthenticationError(f"{what} is {len(received)} bytes, expected {len(expected)}")
    if not hmac.compare_digest(expected, received):
        raise AuthenticationError(f"{what} does not match: the peer derived different keys")


def avf(curve: KoblitzCurve, point: Point) -> int:
    """ECMQV associate value function: the low ceil(f/2) bits of x, plus 2^ceil(f/2)."""
    half = (curve.n.bit_length() + 1) // 2
    return (point.x & ((1 << half) - 1)) | (1 << half)


def ecmqv(
    curve: KoblitzCurve,
    static_private: int,
    ephemeral_private: int,
    ephemeral_public: Point,
    peer_static: Point,
    peer_ephemeral: Point,
) -> bytes:
    """The shared secret Z (a field element, big-endian) of ECMQV with cofactor multiplication."""
    s = (ephemeral_private + avf(curve, ephemeral_public) * static_private) % curve.n
    t = curve.add(peer_ephemeral, curve.multiply_public(avf(curve, peer_ephemeral), peer_static))
    if t is None:
        raise InvalidPointError("peer ephemeral and static keys combine to the point at infinity")
    x = curve.multiply_x(curve.h * s, t)
    if x is None:
        raise InvalidPointError("ECMQV shared secret is the point at infinity")
    return x.to_bytes(curve.field_bytes, "big")


def kdf(z: bytes) -> tuple[bytes, bytes]:
    """(MacKey, KeyData) from the shared secret Z."""
    return aes_mmo(z + (1).to_bytes(4, "big")), aes_mmo(z + (2).to_bytes(4, "big"))


def confirmation_macs(mac_key: bytes, id_u: bytes, id_v: bytes, qe_u: bytes, qe_v: bytes) -> tuple[bytes, bytes]:
    """(MACU, MACV) over the subjects (MSB first) and compressed ephemeral public keys."""
    mac_u = hmac_mmo(mac_key, MACU_PREFIX + id_u + id_v + qe_u + qe_v)
    mac_v = hmac_mmo(mac_key, MACV_PREFIX + id_v + id_u + qe_v + qe_u)
    return mac_u, mac_v


class CbkeParty:
    """One side of a key establishment: its certificate, static key and (per exchange) ephemeral key.

    >>> party = CbkeParty(1, ca_public, certificate, private_key)     # doctest: +SKIP
    >>> qe = party.ephemeral()                                         # send in Ephemeral Data
    >>> keys = party.derive(peer_certificate, peer_qe, Role.INITIATOR)  # then send keys.mac_u
    >>> keys.verify_mac(received_mac_v, Role.RESPONDER)                # AuthenticationError if wrong
    """

    def __init__(
        self,
        suite: int,
        ca_public: Point | bytes,
        certificate: bytes,
        private_key: int | bytes,
        *,
        rng: Random | None = None,
    ) -> None:
        self.curve: KoblitzCurve = curve_for_suite(suite)
        self.suite = suite
        if isinstance(ca_public, Point):
            self.ca_public = self.curve.validate_point(ca_public, "CA public key")
        else:
            self.ca_public = self.curve.decode_point(ca_public, "CA public key")
        self.certificate: ImplicitCertificate = parse_certificate(certificate, suite)
        if isinstance(private_key, bytes | bytearray):
            private_key = int.from_bytes(private_key, "big")
        self._static_private = self.curve.check_private_key(private_key, "static private key")
        self._rng = rng
        self._ephemeral_private: int | None = None
        self._ephemeral_public: Point | None = None
        self.ephemeral_public_bytes: bytes | None = None

    def __repr__(self) -> str:
        return f"CbkeParty(suite={self.suite}, subject={self.certificate.subject.hex().upper()})"

    def verify_key_pair(self) -> None:
        """Check that the static private key belongs to our certificate under our CA."""
        if self.curve.base_multiply(self._static_private) != self.certificate.public_key(self.ca_public):
            raise InvalidCertificateError("static private key does not match the certificate's public key")

    def ephemeral(self, private_key: int | None = None) -> bytes:
        """Start an exchange: draw (or set) the ephemeral key pair; returns the compressed public key."""
        if private_key is None:
            private_key = self.curve.random_scalar(self._rng)
        self._ephemeral_private = self.curve.check_private_key(private_key, "ephemeral private key")
        self._ephemeral_public = self.curve.base_multiply(private_key)
        self.ephemeral_public_bytes = self.curve.encode_point(self._ephemeral_public)
        return self.ephemeral_public_bytes

    @property
    def ephemeral_private_key(self) -> int | None:
        """The ephemeral private key ephemeral() drew or was given (None before): a device that (wrongly) keeps
        one ephemeral key pair for several exchanges starts the next party with it."""
        return self._ephemeral_private

    def derive(self, peer_certificate: bytes, peer_ephemeral: bytes, role: Role) -> CbkeKeys:
        """Validate the peer's certificate and ephemeral key, then derive Z, the keys and both MACs."""
        own_qe = self.ephemeral_public_bytes
        if self._ephemeral_private is None or self._ephemeral_public is None or own_qe is None:
            raise RuntimeError("call ephemeral() before derive()")
        peer_cert = parse_certificate(peer_certificate, self.suite)
        peer_static = peer_cert.public_key(self.ca_public)
        peer_qe = bytes(peer_ephemeral)
        peer_ephemeral_point = self.curve.decode_point(peer_qe, "peer ephemeral public key")
        z = ecmqv(
            self.curve,
            self._static_private,
            self._ephemeral_private,
            self._ephemeral_public,
            peer_static,
            peer_ephemeral_point,
        )
        mac_key, key_data = kdf(z)
        own_id, peer_id = self.certificate.subject, peer_cert.subject
        if role is Role.INITIATOR:
            mac_u, mac_v = confirmation_macs(mac_key, own_id, peer_id, own_qe, peer_qe)
        else:
            mac_u, mac_v = confirmation_macs(mac_key, peer_id, own_id, peer_qe, own_qe)
        return CbkeKeys(z=z, mac_key=mac_key, key_data=key_data, mac_u=mac_u, mac_v=mac_v)

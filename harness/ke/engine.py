"""The key-establishment crypto engine: what the KE cluster state machine asks of whoever holds the keys.

The state machine never touches private keys. It asks an engine for the local certificate, an ephemeral
key pair per exchange, and the confirmation MACs (MACU, MACV) computed from the partner's certificate and
ephemeral public key; at the end it asks for the new link key (or tells the engine to drop it). That is
the split an EZSP NCP imposes (generateCbkeKeys, calculateSmacs, clearTemporaryDataMaybeStoreLinkKey), so
every method is async and an NCP backend can implement the same interface; the software engine here runs
on harness.crypto (SE spec 5.4 / Annex C) with the bench's test-CA material.
"""

from __future__ import annotations

import copy
import hmac
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from random import Random

from harness.crypto import CbkeKeys, CbkeParty, IssuedCertificate, Point, Role, TestCA, parse_certificate
from harness.crypto.ecqv import TEST_ISSUER
from harness.se.types import KeyEstablishmentSuite

#: Suite numbers and their bits in the KeyEstablishmentSuite bitmap (SE spec 10.7.2.2.1): suite 1 is
#: sect163k1 (bit 0), suite 2 is sect283k1 (bit 1).
SUITE_BITS = {1: int(KeyEstablishmentSuite.Suite_1), 2: int(KeyEstablishmentSuite.Suite_2)}


def suite_bitmap(suites: Iterable[int]) -> int:
    """The KeyEstablishmentSuite bitmap of a set of suite numbers."""
    value = 0
    for suite in suites:
        if suite not in SUITE_BITS:
            raise ValueError(f"unknown key establishment suite {suite!r}: expected 1 or 2")
        value |= SUITE_BITS[suite]
    return value


def suite_from_bitmap(value: int) -> int | None:
    """The suite number a single-bit KeyEstablishmentSuite value names, or None (zero or several bits)."""
    for suite, bit in SUITE_BITS.items():
        if value == bit:
            return suite
    return None


@dataclass(frozen=True)
class ConfirmationMacs:
    """MACU (sent by the initiator) and MACV (sent by the responder) of one exchange."""

    mac_u: bytes = field(repr=False)
    mac_v: bytes = field(repr=False)

    def sent_by(self, role: Role) -> bytes:
        return self.mac_u if role is Role.INITIATOR else self.mac_v


class KeSession(ABC):
    """One exchange inside an engine: the ephemeral key pair, then the derived keys."""

    suite: int
    ephemeral_public: bytes

    @abstractmethod
    async def compute(self, role: Role, peer_certificate: bytes, peer_ephemeral: bytes) -> ConfirmationMacs:
        """Derive the shared secret; raises a harness.crypto CryptoError for a bad certificate or point."""

    async def verify_peer_mac(self, received: bytes) -> bool:
        """True when *received* is the MAC the partner must send (constant-time comparison)."""
        macs = self._macs()
        expected = macs.sent_by(self._role().peer)
        return len(received) == len(expected) and hmac.compare_digest(expected, bytes(received))

    def preview_key(self) -> bytes | None:
        """The link key compute() derived, before any MAC is confirmed (None where the engine keeps it to
        itself, as an NCP does): the golden's wrong-MAC test hook probes the DUT with it."""
        return None

    @abstractmethod
    async def conclude(self, keep: bool) -> bytes | None:
        """End the exchange. keep=True: hand over the new link key (software engine) or store it in the
        engine itself and return None (an NCP). keep=False: the key is discarded and None returned."""

    @abstractmethod
    def _macs(self) -> ConfirmationMacs: ...

    @abstractmethod
    def _role(self) -> Role: ...


class KeEngine(ABC):
    """Crypto for Certificate-Based Key Establishment, for one device identity."""

    @property
    @abstractmethod
    def suites(self) -> frozenset[int]:
        """Suite numbers this engine can run (1 and/or 2)."""

    @abstractmethod
    async def certificate(self, suite: int) -> bytes:
        """The local implicit certificate for *suite*."""

    @abstractmethod
    async def start(self, suite: int) -> KeSession:
        """Generate an ephemeral key pair for a new exchange."""

    async def start_reusing(self, suite: int, previous: KeSession) -> KeSession:
        """A new exchange that keeps *previous*'s ephemeral key pair (a seeded device fault: an ephemeral key
        must be fresh for every exchange). Engines that cannot (an NCP draws its own) start afresh."""
        return await self.start(suite)

    async def known_issuers(self, suite: int) -> frozenset[bytes]:
        """Issuers (8 bytes, MSB first) whose certificates are accepted: by default our own certificate's
        issuer, which is how the Silicon Labs plugin checks (checkIssuer against the local certificate)."""
        return frozenset({parse_certificate(await self.certificate(suite), suite).issuer})

    @property
    def suite_bitmap(self) -> int:
        return suite_bitmap(self.suites)


class _SoftwareSession(KeSession):
    def __init__(self, party: CbkeParty, ephemeral_private: int | None = None) -> None:
        self._party = party
        self.suite = party.suite
        self.ephemeral_public = party.ephemeral(ephemeral_private)
        self._ephemeral_private = party.ephemeral_private_key
        self._keys: CbkeKeys | None = None
        self._role_value: Role | None = None

    def __repr__(self) -> str:
        return f"SoftwareKeSession(suite={self.suite}, derived={self._keys is not None})"

    async def compute(self, role: Role, peer_certificate: bytes, peer_ephemeral: bytes) -> ConfirmationMacs:
        self._keys = self._party.derive(peer_certificate, peer_ephemeral, role)
        self._role_value = role
        return ConfirmationMacs(self._keys.mac_u, self._keys.mac_v)

    def preview_key(self) -> bytes | None:
        return self._keys.key_data if self._keys is not None else None

    def _macs(self) -> ConfirmationMacs:
        if self._keys is None:
            raise RuntimeError("compute() must run before the MACs are known")
        return ConfirmationMacs(self._keys.mac_u, self._keys.mac_v)

    def _role(self) -> Role:
        if self._role_value is None:
            raise RuntimeError("compute() must run before the role is known")
        return self._role_value

    async def conclude(self, keep: bool) -> bytes | None:
        keys, self._keys = self._keys, None
        if not keep or keys is None:
            return None
        return keys.key_data


class SoftwareKeEngine(KeEngine):
    """The engine on harness.crypto: CA public key plus, per suite, a certificate and its private key."""

    def __init__(
        self,
        ca_public: Mapping[int, Point | bytes],
        identities: Mapping[int, IssuedCertificate],
        *,
        rng: Random | None = None,
        extra_issuers: Iterable[bytes] = (),
    ) -> None:
        if not identities:
            raise ValueError("a key establishment engine needs at least one certificate (suite 1 or 2)")
        self._parties: dict[int, tuple[Point | bytes, IssuedCertificate]] = {}
        for suite, issued in identities.items():
            if suite not in ca_public:
                raise ValueError(f"no CA public key for suite {suite}")
            if issued.suite != suite:
                raise ValueError(f"the certificate given for suite {suite} is a suite {issued.suite} certificate")
            party = CbkeParty(suite, ca_public[suite], issued.certificate, issued.private_key)
            party.verify_key_pair()  # a certificate that does not match its key would fail every exchange
            self._parties[suite] = (ca_public[suite], issued)
        self._rng = rng
        self._extra_issuers = frozenset(bytes(i) for i in extra_issuers)

    def __repr__(self) -> str:
        return f"SoftwareKeEngine(suites={sorted(self.suites)}, private keys redacted)"

    @classmethod
    def issue(
        cls,
        ca: TestCA,
        subject: int,
        suites: Iterable[int] = (1,),
        *,
        rng: Random | None = None,
        issuer: bytes = TEST_ISSUER,
    ) -> SoftwareKeEngine:
        """An engine with certificates for *subject* minted by a test CA (one per suite)."""
        suites = tuple(suites)
        identities = {s: ca.issue(subject, s, issuer=issuer, rng=rng) for s in suites}
        return cls({s: ca.public_key_bytes(s) for s in suites}, identities, rng=rng)

    def with_rng(self, rng: Random) -> SoftwareKeEngine:
        """The same certificates with ephemeral keys drawn from *rng* (a case's own stream): certificates are
        costly to mint and identify a device across cases, ephemeral keys belong to one case."""
        engine = copy.copy(self)
        engine._rng = rng
        return engine

    @property
    def suites(self) -> frozenset[int]:
        return frozenset(self._parties)

    def _identity(self, suite: int) -> tuple[Point | bytes, IssuedCertificate]:
        if suite not in self._parties:
            raise ValueError(f"this engine has no suite {suite} certificate")
        return self._parties[suite]

    async def certificate(self, suite: int) -> bytes:
        return self._identity(suite)[1].certificate

    async def known_issuers(self, suite: int) -> frozenset[bytes]:
        return (await super().known_issuers(suite)) | self._extra_issuers

    def sign(self, message: bytes) -> bytes:
        """ECDSA (sect163k1, AES-MMO digest) over *message* with the suite-1 certificate's private key, r || s
        (21 + 21 bytes): how a device signs its DRLC Report Event Status (emberDsaSign). Deterministic, so a
        run is reproducible."""
        from harness.crypto import sign

        _ca_public, issued = self._identity(1)
        return sign(issued.private_key, message, deterministic=True)

    async def start(self, suite: int) -> KeSession:
        ca_public, issued = self._identity(suite)
        return _SoftwareSession(CbkeParty(suite, ca_public, issued.certificate, issued.private_key, rng=self._rng))

    async def start_reusing(self, suite: int, previous: KeSession) -> KeSession:
        if not isinstance(previous, _SoftwareSession) or previous.suite != suite:
            return await self.start(suite)
        ca_public, issued = self._identity(suite)
        party = CbkeParty(suite, ca_public, issued.certificate, issued.private_key, rng=self._rng)
        return _SoftwareSession(party, previous._ephemeral_private)

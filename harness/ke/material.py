"""The bench's CBKE test material: one test certificate authority that mints every run's certificates.

A bench profile may name its CA (``test_ca``: issuer, public key and the secret private key, as a Certicom
test CA's material is handed to a test house); without one, the bench uses a CA drawn from a fixed seed so
simulated runs are reproducible. Certificates are minted per run for the golden ESI (the coordinator's IEEE)
and for a reference DUT (its profile IEEE): a real DUT brings its own certificate from the same test CA.
"""

from __future__ import annotations

from collections.abc import Iterable
from random import Random

from harness.crypto import TestCA
from harness.crypto.ecqv import TEST_ISSUER

from .engine import SoftwareKeEngine
from .faults import NO_DEVICE_FAULTS, DeviceKeFaults, device_engine

#: Seed of the CA a bench uses when its profile names none (simulation only; not a secret).
DEFAULT_CA_SEED = 0x5EC0CA


class KeMaterialError(ValueError):
    """The bench profile's test CA is unusable (bad hex, out-of-range key, public key not matching)."""


class KeMaterial:
    """A test CA with its issuer id; mints (and caches) software engines per identity."""

    def __init__(self, ca: TestCA, issuer: bytes = TEST_ISSUER, *, seed: int = DEFAULT_CA_SEED) -> None:
        if len(issuer) != 8:
            raise KeMaterialError(f"a CBKE issuer id is 8 bytes, got {len(issuer)}")
        self.ca = ca
        self.issuer = bytes(issuer)
        self._seed = seed
        self._engines: dict[tuple, SoftwareKeEngine] = {}

    def __repr__(self) -> str:
        return f"KeMaterial(issuer={self.issuer.hex().upper()}, CA private key redacted)"

    @classmethod
    def seeded(cls, seed: int = DEFAULT_CA_SEED) -> KeMaterial:
        return cls(TestCA.generate(Random(seed)), TEST_ISSUER, seed=seed)

    @classmethod
    def from_profile(cls, issuer: str, public_key: str, private_key: str) -> KeMaterial:
        """The CA of a bench profile's ``test_ca`` section (hex strings, ':' separators allowed)."""
        try:
            issuer_raw = bytes.fromhex(issuer.replace(":", ""))
            public = bytes.fromhex(public_key.replace(":", ""))
            private = bytes.fromhex(private_key.replace(":", ""))
        except ValueError:
            raise KeMaterialError("bench profile test_ca: issuer, public_key and private_key must be hex") from None
        try:
            ca = TestCA.from_bytes(private)
            matches = {suite: ca.public_key_bytes(suite) for suite in (1, 2)}
        except ValueError as exc:
            raise KeMaterialError(f"bench profile test_ca.private_key: {exc}") from None
        if public not in matches.values():
            raise KeMaterialError("bench profile test_ca.public_key is not the public key of test_ca.private_key "
                                  "(for suite 1 or suite 2)")
        return cls(ca, issuer_raw)

    def ca_public_key(self, suite: int) -> bytes:
        return self.ca.public_key_bytes(suite)

    def engine(self, ieee: int, suites: Iterable[int] = (1,),
               faults: DeviceKeFaults = NO_DEVICE_FAULTS, rng: Random | None = None) -> SoftwareKeEngine:
        """An engine holding certificates for *ieee* (minting is the costly part, so certificates are minted
        once per identity, from a generator seeded by the CA seed and the identity: they are the bench's test
        material, like a lab's test certificates). Ephemeral keys come from *rng*, the case's own stream
        (harness/rng.py), so they do not depend on the exchanges earlier cases ran; without one, from a
        generator shared by every use of this identity (self-tests)."""
        suites = tuple(sorted(set(suites)))
        key = (ieee, suites, faults.foreign_subject)
        if key not in self._engines:
            minting = Random(self._seed ^ ieee ^ (len(suites) << 60))
            self._engines[key] = device_engine(self.ca, ieee, suites, faults, rng=minting, issuer=self.issuer)
        engine = self._engines[key]
        return engine if rng is None else engine.with_rng(rng)

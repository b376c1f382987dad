"""Hypothesis properties: certificates, ECMQV agreement, signatures, tampering and point validation."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.crypto.cbke import CbkeParty, Role
from harness.crypto.curves import SECT163K1, curve_for_suite
from harness.crypto.ecdsa import sign, verify
from harness.crypto.ecqv import TestCA, parse_certificate
from harness.crypto.errors import AuthenticationError, CryptoError, InvalidPointError

# Few examples: each one runs several pure-Python scalar multiplications (suite 2 ones cost ~15 ms each).
FAST = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])

suites = st.sampled_from([1, 2])
eui64s = st.integers(min_value=0, max_value=(1 << 64) - 1)
seeds = st.integers(min_value=0, max_value=(1 << 32) - 1)


@FAST
@given(suite=suites, subject=eui64s, seed=seeds)
def test_issue_then_reconstruct(suite: int, subject: int, seed: int) -> None:
    rng = random.Random(seed)
    ca = TestCA.generate(rng)
    issued = ca.issue(subject, suite, rng=rng)
    cert = parse_certificate(issued.certificate)
    assert cert.subject == subject.to_bytes(8, "big")
    assert curve_for_suite(suite).base_multiply(issued.private_key) == cert.public_key(ca.public_key_bytes(suite))


def make_pair(suite: int, seed: int) -> tuple[CbkeParty, CbkeParty, TestCA]:
    rng = random.Random(seed)
    ca = TestCA.generate(rng)
    ca_public = ca.public_key_bytes(suite)
    parties = []
    for subject in (rng.getrandbits(64), rng.getrandbits(64)):
        issued = ca.issue(subject, suite, rng=rng)
        parties.append(CbkeParty(suite, ca_public, issued.certificate, issued.private_key, rng=rng))
    return parties[0], parties[1], ca


def exchange(initiator: CbkeParty, responder: CbkeParty):
    qe_u, qe_v = initiator.ephemeral(), responder.ephemeral()
    keys_u = initiator.derive(responder.certificate.raw, qe_v, Role.INITIATOR)
    keys_v = responder.derive(initiator.certificate.raw, qe_u, Role.RESPONDER)
    return keys_u, keys_v


@pytest.mark.parametrize("suite", [1, 2])
def test_ecmqv_agreement_between_random_parties(suite: int) -> None:
    @(FAST if suite == 1 else SLOW)
    @given(seed=seeds)
    def check(seed: int) -> None:
        initiator, responder, _ = make_pair(suite, seed)
        keys_u, keys_v = exchange(initiator, responder)
        assert keys_u == keys_v
        assert len(keys_u.z) == curve_for_suite(suite).field_bytes
        keys_v.verify_mac(keys_u.mac_u, Role.INITIATOR)
        keys_u.verify_mac(keys_v.mac_v, Role.RESPONDER)
        assert keys_u.mac_u != keys_u.mac_v

    check()


@FAST
@given(seed=seeds, index=st.integers(0, 15), bit=st.integers(0, 7))
def test_tampered_mac_rejected(seed: int, index: int, bit: int) -> None:
    initiator, responder, _ = make_pair(1, seed)
    keys_u, keys_v = exchange(initiator, responder)
    tampered = bytearray(keys_u.mac_u)
    tampered[index] ^= 1 << bit
    with pytest.raises(AuthenticationError):
        keys_v.verify_mac(bytes(tampered), Role.INITIATOR)


@FAST
@given(seed=seeds, index=st.integers(0, 47), bit=st.integers(0, 7))
def test_tampered_certificate_rejected(seed: int, index: int, bit: int) -> None:
    """A changed certificate byte either fails validation or yields keys the honest peer does not share."""
    initiator, responder, _ = make_pair(1, seed)
    qe_u, qe_v = initiator.ephemeral(), responder.ephemeral()
    tampered = bytearray(responder.certificate.raw)
    tampered[index] ^= 1 << bit
    keys_v = responder.derive(initiator.certificate.raw, qe_u, Role.RESPONDER)
    try:
        keys_u = initiator.derive(bytes(tampered), qe_v, Role.INITIATOR)
    except CryptoError:
        return  # the reconstruction point no longer decodes to a valid point
    with pytest.raises(AuthenticationError):
        keys_u.verify_mac(keys_v.mac_v, Role.RESPONDER)


@FAST
@given(message=st.binary(max_size=64), seed=seeds, deterministic=st.booleans())
def test_sign_verify_round_trip(message: bytes, seed: int, deterministic: bool) -> None:
    rng = random.Random(seed)
    d = SECT163K1.random_scalar(rng)
    q = SECT163K1.encode_point(SECT163K1.base_multiply(d))
    signature = sign(d, message, deterministic=deterministic, rng=rng)
    verify(q, message, signature)


@FAST
@given(message=st.binary(max_size=64), seed=seeds, index=st.integers(0, 41), bit=st.integers(0, 7))
def test_tampered_signature_or_message_rejected(message: bytes, seed: int, index: int, bit: int) -> None:
    rng = random.Random(seed)
    d = SECT163K1.random_scalar(rng)
    q = SECT163K1.base_multiply(d)
    signature = bytearray(sign(d, message, rng=rng))
    signature[index] ^= 1 << bit
    with pytest.raises(AuthenticationError):
        verify(q, message, bytes(signature))
    with pytest.raises(AuthenticationError):
        verify(q, message + b"\x01", sign(d, message, rng=rng))


@settings(max_examples=40, deadline=None)
@given(suite=suites, data=st.data())
def test_decoded_points_are_valid_or_rejected(suite: int, data: st.DataObject) -> None:
    """Arbitrary bytes either raise InvalidPointError or decode to a point of order n that re-encodes."""
    curve = curve_for_suite(suite)
    prefix = data.draw(st.sampled_from([0, 2, 3, 4, 5]))
    x = data.draw(st.integers(0, (1 << (8 * curve.field_bytes)) - 1))
    length = data.draw(st.sampled_from([curve.point_bytes] * 4 + [curve.point_bytes - 1, curve.point_bytes + 1]))
    raw = (bytes([prefix]) + x.to_bytes(curve.field_bytes, "big") + b"\x00")[:length]
    try:
        point = curve.decode_point(raw)
    except InvalidPointError:
        return
    assert curve.encode_point(point) == raw
    assert curve.is_on_curve(point)
    assert curve.multiply_public(curve.n, point) is None

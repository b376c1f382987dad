"""Benchmarks of the Smart Energy security library (run: python3 -m pytest tests/benchmarks).

Targets from issue 2: full CBKE for both parties <= 100 ms (suite 1) and <= 300 ms (suite 2) median;
ECDSA verify on sect163k1 <= 40 ms. The figures are reported, not asserted.
"""

from __future__ import annotations

import random

import pytest

from harness.crypto.cbke import CbkeParty, Role
from harness.crypto.curves import KoblitzCurve, curve_for_suite
from harness.crypto.ecdsa import sign, verify
from harness.crypto.ecqv import TestCA
from harness.crypto.gf2m import SPREAD_INTEGER, BinaryField
from harness.crypto.mmo import aes_mmo

ROUNDS = 20


@pytest.mark.parametrize("integers", ["gmp", "python"])
@pytest.mark.parametrize("suite", [1, 2], ids=["sect163k1", "sect283k1"])
def test_scalar_multiplication(benchmark, suite: int, integers: str) -> None:
    """The ladder on GMP's integers (gmpy2, the default where installed) and on Python's (the fallback)."""
    curve = curve_for_suite(suite)
    if integers == "python":
        field = BinaryField(curve.field.m, curve.field.taps, integer=int)
        curve = KoblitzCurve(curve.name, curve.suite, field, curve.a, curve.g.x, curve.g.y, curve.n, curve.h)
    elif SPREAD_INTEGER is int:
        pytest.skip("gmpy2 is not installed: the default is Python's integers")
    rng = random.Random(1)
    k = curve.random_scalar(rng)
    point = curve.base_multiply(curve.random_scalar(rng))
    result = benchmark.pedantic(curve.multiply, args=(k, point), rounds=ROUNDS, warmup_rounds=1)
    assert curve.validate_point(result) == result


@pytest.mark.parametrize("method", ["table", "ladder"])
@pytest.mark.parametrize("suite", [1, 2], ids=["sect163k1", "sect283k1"])
def test_base_point_multiplication(benchmark, suite: int, method: str) -> None:
    """k*G from the table of G's multiples (every ephemeral key, nonce and signature check) against the ladder."""
    curve = curve_for_suite(suite)
    curve.base_table()
    k = curve.random_scalar(random.Random(2))
    multiply = curve.base_multiple if method == "table" else (lambda k: curve.multiply(k, curve.g))
    result = benchmark.pedantic(multiply, args=(k,), rounds=ROUNDS, warmup_rounds=1)
    assert result == curve.multiply(k, curve.g)


def test_base_point_table_build(benchmark) -> None:
    """What a curve's table costs to build (once per process, after 40 multiples of G)."""
    curve = curve_for_suite(1)

    def build() -> object:
        fresh = KoblitzCurve(curve.name, curve.suite, curve.field, curve.a, curve.g.x, curve.g.y, curve.n, curve.h)
        return fresh.base_table()

    table = benchmark.pedantic(build, rounds=5, warmup_rounds=1)
    assert len(table) == -(-curve.n.bit_length() // 4) and all(len(window) == 15 for window in table)


def _parties(suite: int) -> tuple[CbkeParty, CbkeParty]:
    rng = random.Random(suite)
    ca = TestCA.generate(rng)
    ca_public = ca.public_key_bytes(suite)
    pair = []
    for subject in (0x000D6F0000000001, 0x000D6F0000000002):
        issued = ca.issue(subject, suite, rng=rng)
        pair.append(CbkeParty(suite, ca_public, issued.certificate, issued.private_key, rng=rng))
    return pair[0], pair[1]


@pytest.mark.parametrize("suite", [1, 2])
def test_full_cbke_both_parties(benchmark, suite: int) -> None:
    """Everything both sides compute: ephemeral keys, peer key reconstruction, ECMQV, KDF, MACs, checks."""
    initiator, responder = _parties(suite)

    def cbke() -> bytes:
        qe_u = initiator.ephemeral()
        qe_v = responder.ephemeral()
        keys_v = responder.derive(initiator.certificate.raw, qe_u, Role.RESPONDER)
        keys_u = initiator.derive(responder.certificate.raw, qe_v, Role.INITIATOR)
        keys_v.verify_mac(keys_u.mac_u, Role.INITIATOR)
        keys_u.verify_mac(keys_v.mac_v, Role.RESPONDER)
        assert keys_u.key_data == keys_v.key_data
        return keys_u.key_data

    key = benchmark.pedantic(cbke, rounds=ROUNDS, warmup_rounds=1)
    assert len(key) == 16


def test_ecdsa_sign(benchmark) -> None:
    curve = curve_for_suite(1)
    d = curve.random_scalar(random.Random(5))
    signature = benchmark.pedantic(sign, args=(d, b"report event status"), rounds=ROUNDS, warmup_rounds=1)
    verify(curve.base_multiply(d), b"report event status", signature)


def test_ecdsa_verify(benchmark) -> None:
    curve = curve_for_suite(1)
    d = curve.random_scalar(random.Random(6))
    public = curve.encode_point(curve.base_multiply(d))  # compressed: decoding is part of a real verification
    signature = sign(d, b"report event status")
    benchmark.pedantic(verify, args=(public, b"report event status", signature), rounds=ROUNDS, warmup_rounds=1)


@pytest.mark.parametrize("size", [16, 1024])
def test_aes_mmo_throughput(benchmark, size: int) -> None:
    message = bytes(range(256)) * (size // 256) or bytes(size)
    digest = benchmark(aes_mmo, message)
    benchmark.extra_info["bytes_per_call"] = size
    assert len(digest) == 16

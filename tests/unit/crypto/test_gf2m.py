"""GF(2^m) arithmetic checked against a schoolbook reference and the field's defining identities."""

from __future__ import annotations

import random

import pytest

from harness.crypto.curves import SECT163K1, SECT283K1, KoblitzCurve
from harness.crypto.gf2m import BinaryField

FIELDS = [SECT163K1.field, SECT283K1.field]


def schoolbook_mul(field: BinaryField, a: int, b: int) -> int:
    product = 0
    while b:
        if b & 1:
            product ^= a
        a <<= 1
        b >>= 1
    for bit in range(product.bit_length() - 1, field.m - 1, -1):
        if product >> bit & 1:
            product ^= field.modulus << (bit - field.m)
    return product


def trace_by_definition(field: BinaryField, a: int) -> int:
    total, z = a, a
    for _ in range(field.m - 1):
        z = field.sqr(z)
        total ^= z
    assert total in (0, 1)
    return total


@pytest.fixture
def rng() -> random.Random:
    return random.Random(0x5EC0)


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f"m{f.m}")
def test_multiplication_matches_schoolbook(field: BinaryField, rng: random.Random) -> None:
    all_ones = (1 << field.m) - 1  # worst case for slot counts in the spread form
    pairs = [(all_ones, all_ones), (1, all_ones), (0, 5)] + [
        (rng.getrandbits(field.m), rng.getrandbits(field.m)) for _ in range(40)
    ]
    for a, b in pairs:
        assert field.mul(a, b) == schoolbook_mul(field, a, b)
        assert field.sqr(a) == schoolbook_mul(field, a, a)
        assert field.from_spread(field.to_spread(a)) == a


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f"m{f.m}")
def test_inverse_sqrt_trace_and_quadratic(field: BinaryField, rng: random.Random) -> None:
    for _ in range(20):
        a = rng.getrandbits(field.m) | 1
        assert field.mul(a, field.inv(a)) == 1
        assert field.sqr(field.sqrt(a)) == a
        assert field.trace(a) == trace_by_definition(field, a)
        z = field.solve_quadratic(a)
        if field.trace(a):
            assert z is None
        else:
            assert field.sqr(z) ^ z == a
    with pytest.raises(ZeroDivisionError):
        field.inv(0)


def test_trace_masks_match_the_literature() -> None:
    # Tr(c) = c0 + c157 on sect163k1's field and c0 + c271 on sect283k1's (Hankerson, Menezes, Vanstone, 3.6.2)
    assert SECT163K1.field.trace(1 << 157) == 1 and SECT163K1.field.trace(1 << 156) == 0
    assert SECT283K1.field.trace(1 << 271) == 1 and SECT283K1.field.trace(1 << 100) == 0


def test_unsupported_polynomial_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported field polynomial"):
        BinaryField(162, (7, 6, 3))


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f"m={f.m}")
def test_python_integers_give_the_same_products_as_gmps(field: BinaryField, rng: random.Random) -> None:
    """The spread form runs on GMP's integers where gmpy2 is installed and on Python's elsewhere: both agree
    with the schoolbook product, and the ladder of a curve on Python's integers finds the same points."""
    python_field = BinaryField(field.m, field.taps, integer=int)
    mul, sqr = python_field.spread_ops()
    for _ in range(50):
        a, b = rng.getrandbits(field.m), rng.getrandbits(field.m)
        expected = schoolbook_mul(field, a, b)
        assert field.mul(a, b) == expected
        assert python_field.from_spread(mul(python_field.to_spread(a), python_field.to_spread(b))) == expected
        assert python_field.from_spread(sqr(python_field.to_spread(a))) == schoolbook_mul(field, a, a)
    curve = next(c for c in (SECT163K1, SECT283K1) if c.field == field)
    python_curve = KoblitzCurve(curve.name, curve.suite, python_field, curve.a, curve.g.x, curve.g.y, curve.n, curve.h)
    k = rng.randrange(1, curve.n)
    assert python_curve.base_multiply(k) == curve.base_multiply(k)

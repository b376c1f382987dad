"""sect163k1 / sect283k1: domain parameters, Annex C static keys, encoding and validated decoding."""

from __future__ import annotations

import random

import pytest

from harness.crypto.curves import SECT163K1, SECT283K1, KoblitzCurve, Point, curve_for_suite
from harness.crypto.errors import InvalidKeyError, InvalidPointError

from .vectors import SUITES

CURVES = [SECT163K1, SECT283K1]
ids = [c.name for c in CURVES]


@pytest.mark.parametrize("curve", CURVES, ids=ids)
def test_base_point_has_prime_order_n(curve: KoblitzCurve) -> None:
    assert curve.is_on_curve(curve.g)
    assert curve.multiply_public(curve.n, curve.g) is None
    assert curve.multiply_public(curve.n - 1, curve.g) == curve.negate(curve.g)
    assert curve.in_subgroup(curve.g)


@pytest.mark.parametrize("suite", [1, 2])
@pytest.mark.parametrize("role", ["initiator", "responder"])
def test_annex_c_static_and_ephemeral_public_keys_from_private(suite: int, role: str) -> None:
    curve = curve_for_suite(suite)
    party = SUITES[suite][role]
    static = curve.decode_private_key(bytes.fromhex(party["static_private"]))
    assert curve.encode_point(curve.base_multiply(static)).hex().upper() == party["static_public"]
    ephemeral = curve.decode_private_key(bytes.fromhex(party["ephemeral_private"]), reduce=True)
    assert curve.encode_point(curve.base_multiply(ephemeral)).hex().upper() == party["ephemeral_public"]


@pytest.mark.parametrize("curve", CURVES, ids=ids)
def test_ladder_agrees_with_double_and_add(curve: KoblitzCurve) -> None:
    rng = random.Random(7)
    p = curve.base_multiply(rng.randrange(1, curve.n))
    for k in [1, 2, 3, 4, 5, 17, rng.getrandbits(40)]:
        expected = None
        for _ in range(k if k < 20 else 0):
            expected = curve.add(expected, p)
        if k >= 20:  # binary double-and-add reference
            expected, addend = None, p
            for bit in bin(k)[:1:-1]:
                if bit == "1":
                    expected = curve.add(expected, addend)
                addend = curve.double(addend)
        assert curve.multiply(k, p) == expected
        assert curve.multiply_public(k, p) == expected
        assert curve.multiply_x(k, p) == expected.x


@pytest.mark.parametrize("curve", CURVES, ids=ids)
def test_encode_decode_round_trip(curve: KoblitzCurve) -> None:
    rng = random.Random(11)
    for _ in range(10):
        p = curve.base_multiply(rng.randrange(1, curve.n))
        data = curve.encode_point(p)
        assert len(data) == curve.point_bytes and data[0] in (2, 3)
        assert curve.decode_point(data) == p
        # the other prefix is the negated point
        assert curve.decode_point(bytes([data[0] ^ 1]) + data[1:]) == curve.negate(p)


def _x_outside_subgroup(curve: KoblitzCurve) -> bytes:
    """A compressed point that is on the curve but not in the prime-order subgroup."""
    f = curve.field
    x = 2
    while True:
        beta = x ^ curve.a ^ f.inv(f.sqr(x))
        z = f.solve_quadratic(beta)
        if z is not None:
            p = Point(x, f.mul(x, z))
            if not curve.in_subgroup(p):
                # independent check: n*P is not the identity, so P really lies outside the subgroup
                assert curve.multiply_public(curve.n, p) is not None
                return curve.encode_point(p)
        x += 1


@pytest.mark.parametrize("curve", CURVES, ids=ids)
def test_subgroup_test_agrees_with_order_multiplication(curve: KoblitzCurve) -> None:
    f = curve.field
    rng = random.Random(3)
    inside = outside = 0
    while inside < 3 or outside < 3:
        x = rng.getrandbits(f.m) or 1
        z = f.solve_quadratic(x ^ curve.a ^ f.inv(f.sqr(x)))
        if z is None:
            continue
        p = Point(x, f.mul(x, z))
        assert curve.is_on_curve(p)
        in_subgroup = curve.multiply_public(curve.n, p) is None
        assert curve.in_subgroup(p) == in_subgroup
        inside += in_subgroup
        outside += not in_subgroup


@pytest.mark.parametrize("curve", CURVES, ids=ids)
def test_decode_rejects_bad_points(curve: KoblitzCurve) -> None:
    good = curve.encode_point(curve.g)
    size = curve.point_bytes
    cases = {
        f"is {size} bytes, got {size + 1}": good + b"\x00",
        f"is {size} bytes, got {size - 1}": good[:-1],
        "point at infinity": bytes(size),
        "uncompressed": b"\x04" + good[1:],
        "bad prefix 0x05": b"\x05" + good[1:],
        "not in GF": b"\x02" + b"\xff" * (size - 1),
        "point of order 2": b"\x02" + bytes(size - 1),
        "prime order": _x_outside_subgroup(curve),
    }
    for message, data in cases.items():
        with pytest.raises(InvalidPointError, match=message):
            curve.decode_point(data, "peer key")
    # an x with no point on the curve at all
    f = curve.field
    x = next(x for x in range(2, 1000) if f.trace(x ^ curve.a ^ f.inv(f.sqr(x))))
    with pytest.raises(InvalidPointError, match="no point of"):
        curve.decode_point(b"\x02" + x.to_bytes(size - 1, "big"))


def test_bad_lengths_name_the_curve_size() -> None:
    with pytest.raises(InvalidPointError, match="point is 22 bytes, got 23"):
        SECT163K1.decode_point(bytes(23))


@pytest.mark.parametrize("curve", CURVES, ids=ids)
def test_validate_point_and_private_key_ranges(curve: KoblitzCurve) -> None:
    with pytest.raises(InvalidPointError, match="infinity"):
        curve.validate_point(None)
    with pytest.raises(InvalidPointError, match="not on"):
        curve.validate_point(Point(curve.g.x, curve.g.y ^ 1))
    assert curve.validate_point(curve.g) == curve.g
    for bad in (0, curve.n):
        with pytest.raises(InvalidKeyError, match="out of range"):
            curve.check_private_key(bad)


def test_unknown_suite() -> None:
    with pytest.raises(ValueError, match="unknown key establishment suite 3"):
        curve_for_suite(3)


@pytest.mark.parametrize("curve", CURVES, ids=ids)
def test_secret_scalars_run_a_fixed_number_of_field_operations(curve: KoblitzCurve, monkeypatch) -> None:
    """The ladder's shape does not depend on the secret: same multiply/square count for any k < h*n."""
    mul, sqr = curve.field.spread_ops()
    counts = {"mul": 0, "sqr": 0}

    def counting_mul(a: int, b: int) -> int:
        counts["mul"] += 1
        return mul(a, b)

    def counting_sqr(a: int) -> int:
        counts["sqr"] += 1
        return sqr(a)

    monkeypatch.setitem(curve.field._consts, "ops", (counting_mul, counting_sqr))
    seen = set()
    for k in (1, 2, 0x5A5A, curve.n - 1, curve.h * curve.n - 1):
        counts.update(mul=0, sqr=0)
        curve.multiply_x(k, curve.g)
        seen.add((counts["mul"], counts["sqr"]))
    # 5 multiplications and 4 squarings per ladder step, plus one multiplication for the final X/Z
    assert seen == {(5 * curve.scalar_bits + 1, 4 * curve.scalar_bits)}


@pytest.mark.parametrize("curve", CURVES, ids=ids)
def test_point_of_order_2n_is_rejected(curve: KoblitzCurve) -> None:
    """G + (0, 1) has order 2n. On sect283k1 it passes the trace test (it lies in 2E), so only the halving
    step of the subgroup check can catch it."""
    order_two = Point(0, 1)  # (0, sqrt(b)), the only point of order 2
    assert curve.is_on_curve(order_two) and curve.double(order_two) is None
    p = curve.add(curve.g, order_two)
    assert curve.multiply_public(curve.n, p) is not None and curve.multiply_public(2 * curve.n, p) is None
    if curve is SECT283K1:
        assert curve.field.trace(p.x) == curve.field.trace(curve.a)
    assert not curve.in_subgroup(p)
    with pytest.raises(InvalidPointError, match="subgroup of prime order"):
        curve.decode_point(curve.encode_point(p))


@pytest.mark.parametrize("curve", CURVES, ids=ids)
def test_multiples_of_the_base_point_from_its_table_match_the_ladder(curve: KoblitzCurve) -> None:
    """base_multiple (the fixed-base table) and the ladder agree on every digit pattern: single digits, digits
    at a window's edge, all ones, n - 1, and scalars past n (reduced: G has order n)."""
    curve.base_table()  # the table from the first multiple on (a curve builds it after a few ladder multiples)
    rng = random.Random(163)
    edge = [1, 2, 15, 16, 17, 0xF0, 0x100, 0xFFFF, curve.n - 1, curve.n - 16, curve.n + 1, 3 * curve.n + 7,
            (1 << curve.n.bit_length()) - 1, 1 << (curve.n.bit_length() - 1)]
    for k in edge + [rng.randrange(1, curve.n) for _ in range(40)]:
        assert curve.base_multiple(k) == curve.multiply(k, curve.g), f"{curve.name}: {k:#x}*G"
    assert curve.base_multiple(0) is None and curve.base_multiple(curve.n) is None
    assert curve.base_multiple(5 * curve.n) is None
    with pytest.raises(ValueError):
        curve.base_multiple(-1)
    with pytest.raises(ValueError):
        curve.base_multiply(curve.n)  # a private key of n is no key: k*G would be infinity


@pytest.mark.parametrize("curve", CURVES, ids=ids)
def test_a_signature_check_with_the_table_matches_two_ladders(curve: KoblitzCurve) -> None:
    rng = random.Random(283)
    q = curve.base_multiply(rng.randrange(1, curve.n))
    for _ in range(10):
        k1, k2 = rng.randrange(1, curve.n), rng.randrange(1, curve.n)
        assert curve.linear_combination(k1, curve.g, k2, q) == curve.add(curve.multiply_public(k1, curve.g),
                                                                         curve.multiply_public(k2, q))


def test_a_curve_multiplies_g_by_the_ladder_until_the_table_is_worth_building() -> None:
    from harness.crypto import curves

    fresh = KoblitzCurve(SECT163K1.name, 1, SECT163K1.field, SECT163K1.a, SECT163K1.g.x, SECT163K1.g.y,
                         SECT163K1.n, SECT163K1.h)
    ks = [random.Random(7).randrange(1, fresh.n) for _ in range(curves._TABLE_AFTER + 3)]
    assert [fresh.base_multiple(k) for k in ks] == [SECT163K1.multiply(k, SECT163K1.g) for k in ks]
    assert fresh._base_table is not None, "a curve that keeps multiplying G never built its table"

"""The Smart Energy Koblitz curves sect163k1 (CBKE suite 1) and sect283k1 (suite 2), E: y^2 + xy = x^3 + ax^2 + 1.

Points are affine (:class:`Point`); ``None`` stands for the point at infinity inside the arithmetic and is
never accepted from the air. Scalar multiplication is a Montgomery ladder on López–Dahab x-only projective
coordinates (same field operations for a 0 bit and a 1 bit), followed by López–Dahab y-recovery; multiples
of the base point G come from a table of G's multiples built once per curve (fixed-base windows).

Received points arrive compressed (SEC 1 2.3.3: 02/03 prefix, the prefix's low bit is the low bit of y/x)
and :meth:`KoblitzCurve.decode_point` validates them fully: length, prefix, x in the field, a solution of
the curve equation, not the point of order 2, and membership of the prime-order subgroup (cheap on binary
curves: P is in 2E iff Tr(x) = Tr(a), and a half of P can be tested the same way).

Domain parameters: SEC 2 v2, sections 3.1.1 (sect163k1) and 3.2.1 (sect283k1).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from random import Random

from .errors import InvalidKeyError, InvalidPointError
from .gf2m import BinaryField


@dataclass(frozen=True)
class Point:
    """An affine point; coordinates are dense field elements."""

    x: int
    y: int


#: Decoded points a curve keeps (each about 100 bytes).
_DECODED_KEPT = 4096
#: The fixed-base table's digit width: 15 entries per 4 bits of a scalar (615 points for sect163k1).
_WINDOW_BITS = 4
_DIGIT_MASK = (1 << _WINDOW_BITS) - 1
#: Multiples of G a curve computes with the ladder before it builds its table, which costs about 40 of them
#: (a run that issues its test certificates on sect283k1 and never signs on it should not pay for the table).
_TABLE_AFTER = 40


class KoblitzCurve:
    """A Koblitz curve (b = 1) with its base point G of prime order n and cofactor h."""

    def __init__(
        self, name: str, suite: int, field: BinaryField, a: int, gx: int, gy: int, n: int, h: int
    ) -> None:
        self.name = name
        self.suite = suite
        self.field = field
        self.a = a
        self.b = 1
        self.g = Point(gx, gy)
        self.n = n
        self.h = h
        # A secret scalar runs this many ladder steps whatever its value (h*n bounds every scalar we use).
        self.scalar_bits = (h * n).bit_length()
        self._trace_a = field.trace(a)
        # Points received again and again (a certificate's reconstruction data, the CA's key) are decoded and
        # validated once: a valid encoding always decodes to the same point. Failures are never kept.
        self._decoded: dict[bytes, Point] = {}
        self._base_table: tuple[tuple[tuple[int, int], ...], ...] | None = None
        self._base_uses = 0  # multiples of G computed before the table was built
        if not self.is_on_curve(self.g):
            raise ValueError(f"{name}: base point is not on the curve")

    def __repr__(self) -> str:
        return f"KoblitzCurve({self.name})"

    # -- sizes --------------------------------------------------------------------------------------

    @property
    def field_bytes(self) -> int:
        """Octets of a coordinate (21 or 36); also the size of the shared secret Z."""
        return self.field.byte_length

    @property
    def point_bytes(self) -> int:
        """Octets of a compressed point (22 or 37)."""
        return self.field.byte_length + 1

    @property
    def scalar_bytes(self) -> int:
        """Octets of a private key or signature half (21 or 36)."""
        return (self.n.bit_length() + 7) // 8

    # -- affine group law ---------------------------------------------------------------------------

    def is_on_curve(self, p: Point) -> bool:
        f = self.field
        if not (f.contains(p.x) and f.contains(p.y)):
            return False
        x2 = f.sqr(p.x)
        lhs = f.sqr(p.y) ^ f.mul(p.x, p.y)
        rhs = f.mul(x2, p.x) ^ (x2 if self.a else 0) ^ self.b
        return lhs == rhs

    def negate(self, p: Point | None) -> Point | None:
        return None if p is None else Point(p.x, p.x ^ p.y)

    def add(self, p: Point | None, q: Point | None) -> Point | None:
        if p is None:
            return q
        if q is None:
            return p
        f = self.field
        if p.x == q.x:
            if p.y != q.y or p.x == 0:  # q = -p, or the point of order 2 doubled
                return None
            return self.double(p)
        lam = f.mul(p.y ^ q.y, f.inv(p.x ^ q.x))
        x3 = f.sqr(lam) ^ lam ^ p.x ^ q.x ^ self.a
        y3 = f.mul(lam, p.x ^ x3) ^ x3 ^ p.y
        return Point(x3, y3)

    def double(self, p: Point | None) -> Point | None:
        if p is None or p.x == 0:
            return None
        f = self.field
        lam = p.x ^ f.mul(p.y, f.inv(p.x))
        x3 = f.sqr(lam) ^ lam ^ self.a
        y3 = f.sqr(p.x) ^ f.mul(lam, x3) ^ x3
        return Point(x3, y3)

    # -- scalar multiplication ----------------------------------------------------------------------

    def multiply(self, k: int, p: Point | None) -> Point | None:
        """k*P for a secret k: the ladder always runs :attr:`scalar_bits` steps."""
        return self._multiply(k, p, max(self.scalar_bits, k.bit_length()))

    def multiply_public(self, k: int, p: Point | None) -> Point | None:
        """k*P for a public k (certificate digest, avf, signature check): as many steps as k has bits."""
        return self._multiply(k, p, k.bit_length())

    def multiply_x(self, k: int, p: Point) -> int | None:
        """The x-coordinate of k*P for a secret k (what ECMQV needs), or None for infinity."""
        if k < 0:
            raise ValueError("negative scalar")
        if p.x == 0:
            return None if k % 2 == 0 else 0
        x1, z1, _, _ = self._ladder(k, p.x, max(self.scalar_bits, k.bit_length()))
        f = self.field
        z1 = f.from_spread(z1)
        if z1 == 0:
            return None
        return f.mul(f.from_spread(x1), f.inv(z1))

    def base_multiply(self, k: int) -> Point:
        """k*G for a secret k in [1, n-1] (a private key or nonce): never the point at infinity."""
        point = self.base_multiple(k)
        if point is None:
            raise ValueError("scalar is a multiple of the group order: k*G is the point at infinity")
        return point

    def linear_combination(self, k1: int, p1: Point | None, k2: int, p2: Point | None) -> Point | None:
        """k1*P1 + k2*P2 for public scalars (ECDSA verification)."""
        first = self.base_multiple(k1) if p1 == self.g else self.multiply_public(k1, p1)
        return self.add(first, self.multiply_public(k2, p2))

    # -- fixed-base multiplication ------------------------------------------------------------------
    # Every ephemeral key, signature nonce and signature check multiplies the base point G: a table of its
    # multiples, built once per curve, replaces a ladder of 163 (283) steps by 41 (71) additions, each one table
    # entry per 4-bit digit of k (a fixed-base windowed method, Hankerson, Menezes and Vanstone, Guide to
    # Elliptic Curve Cryptography, 3.3.2). Unlike the ladder, the work depends on how many digits are zero:
    # the harness's keys are test keys, and Python's integers are not constant-time anyway.

    def base_multiple(self, k: int) -> Point | None:
        """k*G for any k >= 0 (None for a multiple of n), from the table of G's multiples."""
        if k < 0:
            raise ValueError("negative scalar")
        k %= self.n  # G has order n
        if k == 0:
            return None
        if self._base_table is None and self._base_uses < _TABLE_AFTER:
            self._base_uses += 1  # a run that multiplies G a few times only is quicker without the table
            return self.multiply(k, self.g)
        mul, sqr = self.field.spread_ops()
        table = self.base_table()
        a = self.a
        x1 = y1 = z1 = 0  # the sum so far, López–Dahab projective (x = X/Z, y = Y/Z^2); z1 == 0: infinity
        window = 0
        while k:
            digit = k & _DIGIT_MASK
            k >>= _WINDOW_BITS
            if digit:
                x2, y2 = table[window][digit - 1]
                if z1 == 0:
                    x1, y1, z1 = x2, y2, 1
                else:
                    # Mixed addition, López–Dahab + affine (Guide to ECC, Algorithm 3.25), 8M + 5S.
                    zz = sqr(z1)
                    big_a = mul(y2, zz) ^ y1
                    big_b = mul(x2, z1) ^ x1
                    # The formula fails for P = +-Q (the same x), which cannot happen here: the sum so far is
                    # m*G with 0 < m < 2^(4i), the entry d*2^(4i)*G, and m + d*2^(4i) <= k < n.
                    if big_b == 0:  # unreachable for k < n (above); said as an error, not an assert -O drops
                        raise ArithmeticError("fixed-base sum met its next entry")
                    c = mul(z1, big_b)
                    d = mul(sqr(big_b), c ^ zz if a else c)
                    z3 = sqr(c)
                    e = mul(big_a, c)
                    x3 = sqr(big_a) ^ d ^ e
                    f = x3 ^ mul(x2, z3)
                    g = mul(x2 ^ y2, sqr(z3))
                    x1, y1, z1 = x3, mul(e ^ z3, f) ^ g, z3
            window += 1
        return self._affine(x1, y1, z1)

    def base_table(self) -> tuple[tuple[tuple[int, int], ...], ...]:
        """table[i][j - 1] = j * 2^(4i) * G for j in 1..15, spread (x, y) pairs; built on first use."""
        if self._base_table is None:
            f = self.field
            windows = []
            base: Point | None = self.g
            for _ in range(-(-self.n.bit_length() // _WINDOW_BITS)):
                entries: list[Point] = []
                entry = base
                for _j in range(1, 1 << _WINDOW_BITS):
                    assert entry is not None  # a multiple of G below n is never infinity
                    entries.append(entry)
                    entry = self.add(entry, base)
                windows.append(tuple((f.to_spread(e.x), f.to_spread(e.y)) for e in entries))
                base = entry  # 2^4 * base
            self._base_table = tuple(windows)
        return self._base_table

    def _affine(self, xs: int, ys: int, zs: int) -> Point | None:
        f = self.field
        z = f.from_spread(zs)
        if z == 0:
            return None
        z_inv = f.inv(z)
        return Point(f.mul(f.from_spread(xs), z_inv), f.mul(f.from_spread(ys), f.sqr(z_inv)))

    def _multiply(self, k: int, p: Point | None, bits: int) -> Point | None:
        if k < 0:
            raise ValueError("negative scalar")
        if p is None or k == 0:
            return None
        if p.x == 0:  # the point of order 2: the x-only ladder cannot run on it
            return None if k % 2 == 0 else p
        x1, z1, x2, z2 = self._ladder(k, p.x, bits)
        return self._recover(p, x1, z1, x2, z2)

    def _ladder(self, k: int, x: int, bits: int) -> tuple[int, int, int, int]:
        """(X1, Z1, X2, Z2) of k*P and (k+1)*P, in spread form, for P with x-coordinate *x* != 0.

        Starts from (O, P) so leading zero bits are harmless steps; invariant R1 - R0 = P.
        Madd: Z = (X1 Z2 + X2 Z1)^2, X = x Z + X1 Z2 X2 Z1.  Mdouble (b = 1): X = (X^2 + Z^2)^2, Z = X^2 Z^2.
        """
        mul, sqr = self.field.spread_ops()
        xs = self.field.to_spread(x)
        x1, z1 = 1, 0  # the spread form of 1 is 1
        x2, z2 = xs, 1
        for i in range(bits - 1, -1, -1):
            if (k >> i) & 1:
                t = mul(x1, z2)
                u = mul(x2, z1)
                z1 = sqr(t ^ u)
                x1 = mul(xs, z1) ^ mul(t, u)
                xx = sqr(x2)
                zz = sqr(z2)
                z2 = mul(xx, zz)
                x2 = sqr(xx ^ zz)
            else:
                t = mul(x2, z1)
                u = mul(x1, z2)
                z2 = sqr(t ^ u)
                x2 = mul(xs, z2) ^ mul(t, u)
                xx = sqr(x1)
                zz = sqr(z1)
                z1 = mul(xx, zz)
                x1 = sqr(xx ^ zz)
        return x1, z1, x2, z2

    def _recover(self, p: Point, x1: int, z1: int, x2: int, z2: int) -> Point | None:
        """Affine k*P from the ladder's k*P and (k+1)*P (López–Dahab; Hankerson et al. Alg. 3.40)."""
        f = self.field
        x1, z1, x2, z2 = (f.from_spread(v) for v in (x1, z1, x2, z2))
        if z1 == 0:
            return None
        if z2 == 0:  # (k+1)P = O, so kP = -P
            return self.negate(p)
        x, y = p.x, p.y
        z1z2 = f.mul(z1, z2)
        inv = f.inv(f.mul(x, z1z2))
        # x3 = X1/Z1 = X1 * Z2 * x * inv
        x3 = f.mul(f.mul(x1, z2), f.mul(x, inv))
        t = f.mul(x1 ^ f.mul(x, z1), x2 ^ f.mul(x, z2)) ^ f.mul(f.sqr(x) ^ y, z1z2)
        y3 = f.mul(f.mul(x ^ x3, t), inv) ^ y
        return Point(x3, y3)

    # -- validation and encoding --------------------------------------------------------------------

    def in_subgroup(self, p: Point) -> bool:
        """Whether P lies in the subgroup of prime order n, without an n*P multiplication.

        The group is cyclic of order h*n with h = 2 or 4, so that subgroup is hE; P is in 2E iff
        Tr(x) = Tr(a), and for h = 4 a half of P must pass the same test (both halves of P differ by the
        point of order 2, which itself lies in 2E, so either half decides).
        """
        f = self.field
        x = p.x
        if x == 0 or f.trace(x) != self._trace_a:
            return False
        halvings = self.h.bit_length() - 2  # 0 for h = 2, 1 for h = 4
        for _ in range(halvings):
            # x = u^2 + b/u^2 for a half (u, v): with w = u^2 = x z, z^2 + z = b / x^2.
            z = f.solve_quadratic(f.mul(self.b, f.inv(f.sqr(x))))
            if z is None:
                return False
            x = f.sqrt(f.mul(x, z))
            if x == 0 or f.trace(x) != self._trace_a:
                return False
        return True

    def encode_point(self, p: Point) -> bytes:
        """SEC 1 compressed encoding: 02/03 || x."""
        ybit = 0 if p.x == 0 else self.field.mul(p.y, self.field.inv(p.x)) & 1
        return bytes([2 | ybit]) + p.x.to_bytes(self.field_bytes, "big")

    def decode_point(self, data: bytes, what: str = "point") -> Point:
        """Decompress and fully validate a received point; raises InvalidPointError naming *what*."""
        data = bytes(data)
        known = self._decoded.get(data)
        if known is not None:
            return known
        size = self.point_bytes
        if len(data) != size:
            raise InvalidPointError(
                f"{what}: a compressed {self.name} point is {size} bytes, got {len(data)}"
            )
        prefix = data[0]
        if prefix == 0x00:
            raise InvalidPointError(f"{what}: prefix 00 encodes the point at infinity")
        if prefix == 0x04:
            raise InvalidPointError(f"{what}: prefix 04 (uncompressed) where a compressed point is expected")
        if prefix not in (0x02, 0x03):
            raise InvalidPointError(f"{what}: bad prefix 0x{prefix:02X}, expected 02 or 03")
        f = self.field
        x = int.from_bytes(data[1:], "big")
        if not f.contains(x):
            raise InvalidPointError(f"{what}: x-coordinate has bits above x^{f.m - 1}, not in GF(2^{f.m})")
        if x == 0:
            raise InvalidPointError(f"{what}: x = 0 is the point of order 2, not a valid key")
        # y = x z with z^2 + z = x + a + b/x^2 (SEC 1 2.3.4)
        beta = x ^ self.a ^ f.mul(self.b, f.inv(f.sqr(x)))
        z = f.solve_quadratic(beta)
        if z is None:
            raise InvalidPointError(f"{what}: no point of {self.name} has this x-coordinate")
        if (z & 1) != (prefix & 1):
            z ^= 1
        point = Point(x, f.mul(x, z))
        if not self.in_subgroup(point):
            raise InvalidPointError(f"{what}: point is not in the subgroup of prime order n (cofactor {self.h})")
        if len(self._decoded) >= _DECODED_KEPT:
            self._decoded.clear()
        self._decoded[data] = point
        return point

    def validate_point(self, p: Point | None, what: str = "point") -> Point:
        """Checks a point built locally or passed as an object, with the same rules as decode_point."""
        if p is None:
            raise InvalidPointError(f"{what}: the point at infinity is not a valid key")
        if not self.is_on_curve(p):
            raise InvalidPointError(f"{what}: ({p.x:x}, {p.y:x}) is not on {self.name}")
        if not self.in_subgroup(p):
            raise InvalidPointError(f"{what}: point is not in the subgroup of prime order n (cofactor {self.h})")
        return p

    # -- keys ---------------------------------------------------------------------------------------

    def check_private_key(self, d: int, what: str = "private key") -> int:
        if not 1 <= d < self.n:
            raise InvalidKeyError(f"{what} is out of range for {self.name}: it must be in [1, n-1]")
        return d

    def random_scalar(self, rng: Random | None = None) -> int:
        """A uniform scalar in [1, n-1]; *rng* makes it reproducible (simulated bench), else secrets."""
        if rng is not None:
            return rng.randrange(1, self.n)
        return secrets.randbelow(self.n - 1) + 1

    def decode_private_key(self, data: bytes, what: str = "private key", reduce: bool = False) -> int:
        """A big-endian private key; *reduce* takes it mod n (Annex C gives one ephemeral key above n)."""
        value = int.from_bytes(bytes(data), "big")
        if reduce:
            value %= self.n
        return self.check_private_key(value, what)

    def encode_scalar(self, d: int) -> bytes:
        return d.to_bytes(self.scalar_bytes, "big")


SECT163K1 = KoblitzCurve(
    "sect163k1",
    suite=1,
    field=BinaryField(163, (7, 6, 3)),
    a=1,
    gx=0x02FE13C0537BBC11ACAA07D793DE4E6D5E5C94EEE8,
    gy=0x0289070FB05D38FF58321F2E800536D538CCDAA3D9,
    n=0x04000000000000000000020108A2E0CC0D99F8A5EF,
    h=2,
)

SECT283K1 = KoblitzCurve(
    "sect283k1",
    suite=2,
    field=BinaryField(283, (12, 7, 5)),
    a=0,
    gx=0x0503213F78CA44883F1A3B8162F188E553CD265F23C1567A16876913B0C2AC2458492836,
    gy=0x01CCDA380F1C9E318D90F95D07E5426FE87E45C0E8184698E45962364E34116177DD2259,
    n=0x01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFE9AE2ED07577265DFF7F94451E061E163C61,
    h=4,
)

CURVES = {1: SECT163K1, 2: SECT283K1}


def curve_for_suite(suite: int) -> KoblitzCurve:
    """The curve of a Key Establishment suite (1 or 2); ValueError names an unknown suite."""
    try:
        return CURVES[suite]
    except KeyError:
        raise ValueError(f"unknown key establishment suite {suite!r}: expected 1 (sect163k1) or 2 (sect283k1)") from None

"""Arithmetic in the binary fields GF(2^m) of the Smart Energy Koblitz curves, in pure Python.

An element is a Python int whose bit i is the coefficient of x^i (the "dense" form, as in SEC 1).

Why a second, "spread" form: CPython has no carry-less multiply, but its integer multiply is fast C. If
every bit of an element sits in its own slot of w bits (w chosen so that 2^w > m), an ordinary integer
product leaves in each slot the number of coefficient products that land there, which cannot overflow
into the next slot; the low bit of every slot is then the GF(2) coefficient. One C multiply and one mask
replace a Python loop over the bits, which makes the scalar-multiplication ladder several times faster.
Reduction by the sparse field polynomial is a couple of shifts and xors in either form.

Spread elements are GMP's integers (gmpy2's mpz) where gmpy2 is installed, else Python ints: the same
operations, but GMP multiplies the ~1300- and ~2500-bit spread integers in its C with 64-bit limbs, which
makes the ladder (a third of a suite run's time, in key establishment and signatures) about 2.5 times faster.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypedDict

try:
    from gmpy2 import mpz as _gmp_integer
except ImportError:  # a platform with no gmpy2 wheel: Python's own integers, slower
    _gmp_integer = None

#: The integer type of spread elements: GMP's where available (a library edge: untyped, used as an int).
SPREAD_INTEGER: Callable[[int], int] = _gmp_integer if _gmp_integer is not None else int

SpreadOps = tuple[Callable[[int, int], int], Callable[[int], int]]


class _FieldConstants(TypedDict, total=False):
    """Per-field constants, computed once in __post_init__ (a dict so the frozen dataclass can fill it)."""

    width: int
    ones: int
    low: int
    shift: int
    spread_byte: tuple[int, ...]
    nbytes: int
    trace_mask: int
    ops: SpreadOps
    sqrt_x: int


@dataclass(frozen=True)
class BinaryField:
    """GF(2^m) modulo the pentanomial x^m + x^t1 + x^t2 + x^t3 + 1; *taps* are (t1, t2, t3)."""

    m: int
    taps: tuple[int, ...]
    #: How spread elements are held (SPREAD_INTEGER; int forces Python's integers, as the self-tests do).
    integer: Callable[[int], int] = field(default=SPREAD_INTEGER, repr=False, compare=False, hash=False)
    _consts: _FieldConstants = field(default_factory=_FieldConstants, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.m % 2 == 0 or len(self.taps) != 3 or max(self.taps) * 2 >= self.m:
            # Odd m keeps the half-trace solver valid; small taps make two reduction folds enough.
            raise ValueError(f"unsupported field polynomial: m={self.m}, taps={self.taps}")
        m = self.m
        width = m.bit_length()  # slot width: 2^width > m, the largest possible slot count
        ones = 0
        for i in range(2 * m):
            ones |= 1 << (width * i)
        spread_byte = []
        for byte in range(256):
            value = 0
            for bit in range(8):
                if byte >> bit & 1:
                    value |= 1 << (width * bit)
            spread_byte.append(value)
        self._consts.update(
            {
                "width": width,
                "ones": ones,
                "low": (1 << (m * width)) - 1,
                "shift": m * width,
                "spread_byte": tuple(spread_byte),
                "nbytes": (m + 7) // 8,
                "trace_mask": self._trace_mask(),
            }
        )
        self._consts["ops"] = self._build_spread_ops()
        self._consts["sqrt_x"] = self._sqrt_x()

    # -- dense form ----------------------------------------------------------------------------------

    @property
    def byte_length(self) -> int:
        """Octets of a field element in SEC 1 encodings (21 for m=163, 36 for m=283)."""
        return self._consts["nbytes"]

    @property
    def modulus(self) -> int:
        poly = (1 << self.m) | 1
        for tap in self.taps:
            poly |= 1 << tap
        return poly

    def contains(self, a: int) -> bool:
        return 0 <= a < (1 << self.m)

    def reduce(self, a: int) -> int:
        """Reduce a dense polynomial of degree < 2m - 1."""
        m, taps = self.m, self.taps
        mask = (1 << m) - 1
        for _ in range(2):
            hi = a >> m
            a &= mask
            a ^= hi
            for tap in taps:
                a ^= hi << tap
        return a

    def mul(self, a: int, b: int) -> int:
        return self.from_spread(self.smul(self.to_spread(a), self.to_spread(b)))

    def sqr(self, a: int) -> int:
        # Squaring is linear in GF(2): bit i moves to bit 2i, which reading the binary digits in base 4 does.
        return self.reduce(int(format(a, "b"), 4))

    def inv(self, a: int) -> int:
        """Inverse by the extended Euclidean algorithm on polynomials; raises ZeroDivisionError for 0."""
        if a == 0:
            raise ZeroDivisionError("0 has no inverse in GF(2^m)")
        u, v = a, self.modulus
        g1, g2 = 1, 0
        while u != 1:
            j = u.bit_length() - v.bit_length()
            if j < 0:
                u, v, g1, g2, j = v, u, g2, g1, -j
            u ^= v << j
            g1 ^= g2 << j
        return self.reduce(g1) if g1 >> self.m else g1

    def sqrt(self, a: int) -> int:
        """The unique square root: even-index bits halve in place, odd ones are multiplied by sqrt(x)."""
        m = self.m
        bits = format(a, f"0{m + 1}b")  # m odd: length m+1 is even, so bit k sits at index m - k
        even = int(bits[1::2], 2)
        odd = int(bits[0::2], 2)
        return even ^ self.mul(self._consts["sqrt_x"], odd) if odd else even

    def trace(self, a: int) -> int:
        """Tr(a) = a + a^2 + ... + a^(2^(m-1)), which is linear: the parity of a under a fixed mask."""
        return (a & self._consts["trace_mask"]).bit_count() & 1

    def half_trace(self, a: int) -> int:
        """H(a) = sum of a^(4^i), i = 0..(m-1)/2; for Tr(a) = 0 it solves z^2 + z = a (m odd)."""
        h = a
        z = a
        for _ in range((self.m - 1) // 2):
            z = self.sqr(self.sqr(z))
            h ^= z
        return h

    def solve_quadratic(self, beta: int) -> int | None:
        """A root z of z^2 + z = beta, or None when Tr(beta) = 1 (no root exists)."""
        if self.trace(beta):
            return None
        return self.half_trace(beta)

    # -- spread form (hot path of the ladder) --------------------------------------------------------

    def to_spread(self, a: int) -> int:
        spread_byte = self._consts["spread_byte"]
        stride = 8 * self._consts["width"]
        result = 0
        for i, byte in enumerate(a.to_bytes(self._consts["nbytes"], "little")):
            if byte:
                result |= spread_byte[byte] << (stride * i)
        return self.integer(result)

    def from_spread(self, a: int) -> int:
        width = self._consts["width"]
        return int(format(a, f"0{self.m * width}b")[width - 1 :: width], 2)  # an int, whatever *a* is

    def spread_ops(self) -> SpreadOps:
        """(mul, sqr) closures on spread elements, with every constant bound locally for the ladder."""
        return self._consts["ops"]

    def _build_spread_ops(self) -> SpreadOps:
        ones = self.integer(self._consts["ones"])
        low = self.integer(self._consts["low"])
        shift = self._consts["shift"]
        width = self._consts["width"]
        tap_shifts = tuple(t * width for t in self.taps)

        # The reduction is written out inside mul and sqr: the ladder calls them ~10 times per scalar bit,
        # and a nested call would cost as much as a fold.
        s1, s2, s3 = tap_shifts

        def mul(a: int, b: int) -> int:
            p = (a * b) & ones
            hi = p >> shift
            p = (p & low) ^ hi ^ (hi << s1) ^ (hi << s2) ^ (hi << s3)
            hi = p >> shift
            return (p & low) ^ hi ^ (hi << s1) ^ (hi << s2) ^ (hi << s3)

        def sqr(a: int) -> int:
            p = (a * a) & ones
            hi = p >> shift
            p = (p & low) ^ hi ^ (hi << s1) ^ (hi << s2) ^ (hi << s3)
            hi = p >> shift
            return (p & low) ^ hi ^ (hi << s1) ^ (hi << s2) ^ (hi << s3)

        return mul, sqr

    def smul(self, a: int, b: int) -> int:
        return self._consts["ops"][0](a, b)

    # -- constants -----------------------------------------------------------------------------------

    def _trace_mask(self) -> int:
        """Bits i with Tr(x^i) = 1, from Newton's identities on the field polynomial's power sums."""
        m = self.m
        # f(x) = x^m + c1 x^(m-1) + ... + cm; power sums s_k = Tr(x^k) = c1 s_(k-1) + ... + c_(k-1) s_1 + k c_k
        coeff = [0] * (m + 1)
        for exponent in (0, *self.taps):
            coeff[m - exponent] = 1
        sums = [m & 1]  # s_0 = Tr(1) = m mod 2
        for k in range(1, m):
            s = (k & 1) & coeff[k]
            for j in range(1, k):
                if coeff[j]:
                    s ^= sums[k - j]
            sums.append(s)
        return sum(1 << i for i, s in enumerate(sums) if s)

    def _sqrt_x(self) -> int:
        # sqrt(x) = x^(2^(m-1)), by repeated squaring once per field.
        z = 2
        for _ in range(self.m - 1):
            z = self.sqr(z)
        return z

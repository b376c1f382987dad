"""The run's seed and every case's random state: one place where the harness and the reference devices get
their randomness.

A run has one seed (``--seed``, ``SE_SEED``, ini ``se_seed``; drawn and printed when none is given). Each case
derives its own :class:`CaseRandom` from the seed and its case id with SHA-256, so what a case draws does not
depend on which cases ran before it: a case's capture is the same alone or inside the whole suite. Within a
case every consumer asks for a stream by purpose ("air", "ke:golden", "install-codes", ...), so adding a
consumer never shifts what the others draw. Nothing here touches the global ``random`` state.

The only non-reproducible draw is :func:`draw_seed` itself, and the seed it draws is recorded in the journal
and printed, so any run can be replayed with ``--seed``.
"""

from __future__ import annotations

import hashlib
import random
import secrets

#: Seeds are unsigned 64-bit integers; a drawn seed uses 32 bits so it is short enough to type back in.
MAX_SEED = 2**64 - 1
DRAWN_SEED_BITS = 32
#: A case's virtual clock starts within this many seconds after the bench's virtual epoch (whole seconds):
#: the seed moves the time of day a case runs at, so a run exercises the DUT at other times of the day too.
CLOCK_START_SPAN = 24 * 3600


class SeedError(ValueError):
    """A seed that is not an unsigned 64-bit integer."""


def parse_seed(text: str) -> int:
    """A seed from its text: decimal, or hexadecimal with 0x."""
    value = text.strip()
    try:
        seed = int(value, 16) if value.lower().startswith("0x") else int(value, 10)
    except ValueError:
        raise SeedError(f"{text!r} is not an integer; give a decimal or 0x-hex number, e.g. --seed 12345") from None
    if not 0 <= seed <= MAX_SEED:
        raise SeedError(f"{text!r} is outside 0..2**64-1; give a smaller non-negative number, e.g. --seed 12345")
    return seed


def draw_seed() -> int:
    """A fresh seed for a run that was given none (the run records and prints it)."""
    return secrets.randbits(DRAWN_SEED_BITS)


def derive(seed: int, *labels: str) -> int:
    """A 64-bit integer derived from *seed* and *labels* (SHA-256; labels are length-prefixed, so no two
    different label lists can collide by concatenation)."""
    digest = hashlib.sha256(str(int(seed)).encode())
    for label in labels:
        raw = label.encode()
        digest.update(len(raw).to_bytes(4, "big") + raw)
    return int.from_bytes(digest.digest()[:8], "big")


class CaseRandom:
    """The random state of one case: independent, named streams derived from the run's seed and the case id."""

    def __init__(self, seed: int, case: str) -> None:
        self.seed = int(seed)
        self.case = case
        self._streams: dict[str, random.Random] = {}

    def __repr__(self) -> str:
        return f"CaseRandom(seed={self.seed}, case={self.case!r})"

    def seed_for(self, purpose: str) -> int:
        """A 64-bit seed for a component that takes an integer seed (the air, the DRLC client, the meter)."""
        return derive(self.seed, self.case, purpose)

    def stream(self, purpose: str) -> random.Random:
        """The generator for *purpose*; the same object for the whole case, so successive draws differ."""
        stream = self._streams.get(purpose)
        if stream is None:
            stream = self._streams[purpose] = random.Random(self.seed_for(purpose))
        return stream

    def token_bytes(self, count: int, purpose: str) -> bytes:
        """*count* bytes from the stream for *purpose* (instead of os.urandom or secrets.token_bytes)."""
        return self.stream(purpose).randbytes(count)

    def clock_start(self) -> int:
        """Whole seconds after the virtual epoch at which this case's virtual clock starts."""
        return derive(self.seed, self.case, "clock") % CLOCK_START_SPAN


__all__ = ["CLOCK_START_SPAN", "MAX_SEED", "CaseRandom", "SeedError", "derive", "draw_seed", "parse_seed"]

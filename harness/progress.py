"""Progress lines on a real bench's long waits: an operator (or a CI log) never sits through minutes of silence.

While the bench waits on real time (a wall clock: an EZSP radio, a DUT on its CLI), a line goes out at least
every PROGRESS_INTERVAL seconds without one, naming the case, what it waits for and the time left:

    TC-JOIN-1.7: 420 s of 600 s of leave silence left

What it waits for is the outermost wait the wall clock knows (``clock.sleep(seconds, what)``,
``clock.wait_for(awaitable, deadline, what)``, which ``Bench.run`` uses for every deadline), else the step
being run. The lines are WARNING records of the ``harness.progress`` logger, which the pytest plugin writes to
the terminal. Simulation never reports progress: a virtual wait takes no real time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

LOGGER = logging.getLogger("harness.progress")

#: Seconds of silence after which a progress line goes out. SE_PROGRESS_INTERVAL shortens it (self-tests).
PROGRESS_INTERVAL = float(os.environ.get("SE_PROGRESS_INTERVAL", "") or 30.0)


@dataclass
class Wait:
    """One real-time wait: what for, from when (time.monotonic()), how long."""

    what: str
    start: float
    seconds: float

    def left(self, now: float) -> float:
        return max(0.0, self.start + self.seconds - now)


class Waits:
    """The real-time waits in progress, outermost first (a wall clock keeps one)."""

    def __init__(self) -> None:
        self.active: list[Wait] = []

    @contextmanager
    def waiting(self, what: str, seconds: float):
        wait = Wait(what, time.monotonic(), float(seconds))
        self.active.append(wait)
        try:
            yield wait
        finally:
            self.active.remove(wait)


def describe(case: str, wait: Wait | None, step: str, now: float) -> str:
    """The progress line: the case, then the time left of what it waits for (or the step it runs)."""
    if wait is not None:
        doing = wait.what or (f"the step '{step}'" if step else "the scenario")
        return f"{case}: {wait.left(now):.0f} s of {wait.seconds:.0f} s of {doing} left"
    return f"{case}: still running the step '{step}'" if step else f"{case}: still running"


class Stepping(Protocol):
    """What progress reads of a testbed (harness/testbed.py): the step being run."""

    step: str


class Progress:
    """Watches one scenario at a time; its heartbeat runs on the bench loop (so only while the bench waits)."""

    def __init__(self, clock: Any, interval: float | None = None,
                 emit: Callable[[str], None] | None = None) -> None:
        self.clock = clock
        self.interval = PROGRESS_INTERVAL if interval is None else interval
        self.emit = emit or (lambda line: LOGGER.warning("%s", line))
        self.case = ""
        self.testbed: Stepping | None = None  # its step names the step being run (pytest_plugin/fixtures.py)
        self._last = time.monotonic()
        self._task: asyncio.Task | None = None

    @property
    def waits(self) -> Waits | None:
        return getattr(self.clock, "waits", None)  # only a wall clock keeps them

    def start(self, case: str) -> None:
        """A new scenario: its silence counts from now; the heartbeat starts with the first real wait."""
        self.case = case
        self.testbed = None
        self._last = time.monotonic()
        if self.waits is None or self.interval <= 0:
            return
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._beat(), name="se-progress")

    def stop(self) -> None:
        self.case = ""
        self.testbed = None
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def tick(self, now: float | None = None) -> str | None:
        """Emit a line when the scenario has been silent for the interval; returns the line emitted."""
        now = time.monotonic() if now is None else now
        waits = self.waits
        if not self.case or waits is None or now - self._last < self.interval:
            return None
        active = waits.active
        # The outermost wait with a label says most (a step's deadline rather than its 0.5-s polls).
        wait = next((w for w in active if w.what), active[0] if active else None)
        step = self.testbed.step if self.testbed is not None else ""
        line = describe(self.case, wait, step, now)
        self._last = now
        self.emit(line)
        return line

    async def _beat(self) -> None:
        period = max(0.05, min(self.interval / 6, 5.0))
        while True:
            await asyncio.sleep(period)
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - a progress line must never break a scenario
                LOGGER.debug("progress line failed", exc_info=True)

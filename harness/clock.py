"""Time for the whole harness: a virtual-time asyncio loop, the Clock interface, ZCL UTC helpers.

In simulation every coroutine runs on :class:`VirtualTimeLoop`. Its ``time()`` is virtual: whenever no
callback is ready and no real file descriptor has an event, the loop jumps straight to its next timer, so
24 hours of network time pass in the wall time the work itself costs. Real I/O (an aiohttp server, a
pseudo-terminal, the loop's own self-pipe) is still serviced: before every jump the selector is polled
with timeout 0 (or a configurable real grace period), and with no timer at all the loop blocks on the
selector like any asyncio loop.

:class:`Clock` is what the rest of the harness sees: ``now()``, ``zcl_utc()``, ``monotonic()``,
``sleep()`` and ``wait_for()`` with a deadline. :class:`VirtualClock` maps a loop's virtual time onto a
configurable UTC epoch; :class:`WallClock` is the real time for hardware benches.

ZCL UTCTime is uint32 seconds since 2000-01-01T00:00:00Z (ZCL spec 2.5.2.21, Time cluster 3.12), so
Unix time = ZCL UTC + 946684800.
"""

from __future__ import annotations

import asyncio
import heapq
import selectors
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from harness.errors import DutSilent
from harness.progress import Waits

if TYPE_CHECKING:
    from collections import deque
    from contextvars import Context

    from _typeshed import FileDescriptorLike

T = TypeVar("T")

ZCL_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# Seconds from the Unix epoch to the ZCL epoch 2000-01-01T00:00:00Z.
ZCL_UNIX_OFFSET = 946_684_800
ZCL_UTC_MAX = 0xFFFFFFFE  # 0xFFFFFFFF is the ZCL "invalid UTCTime" value
# While nothing real is awaited, the virtual loop polls real file descriptors at most this often (wall seconds).
REAL_IO_POLL_INTERVAL = 0.001
# BaseEventLoop's thresholds for purging cancelled timers from the heap (asyncio.base_events).
_MIN_SCHEDULED_TIMER_HANDLES = 100
_MIN_CANCELLED_FRACTION = 0.5


class ClockError(ValueError):
    """A time value that cannot be represented (e.g. outside the ZCL UTCTime range)."""


class DeadlineExceeded(DutSilent):
    """An awaited event did not happen before its deadline. Once the DUT was asked to act, what steps await is
    the DUT; a deadline of the bench's own work (forming, opening the radio) is judged by its phase or turned
    into a BenchError where it is awaited (harness/bench.py)."""


def zcl_utc_from_datetime(moment: datetime) -> int:
    """Seconds since 2000-01-01T00:00:00Z for an aware datetime (fractions are truncated)."""
    if moment.tzinfo is None:
        raise ClockError(f"naive datetime {moment.isoformat()} has no time zone; ZCL UTC needs an aware one")
    seconds = int((moment - ZCL_EPOCH) // timedelta(seconds=1))
    if not 0 <= seconds <= ZCL_UTC_MAX:
        raise ClockError(f"{moment.isoformat()} is outside the ZCL UTCTime range (2000-01-01 .. 2136-02-07)")
    return seconds


def datetime_from_zcl_utc(zcl_utc: int) -> datetime:
    """The aware UTC datetime of a ZCL UTCTime value."""
    if not 0 <= zcl_utc <= ZCL_UTC_MAX:
        raise ClockError(f"ZCL UTCTime {zcl_utc:#x} is outside 0 .. 0xFFFFFFFE")
    return ZCL_EPOCH + timedelta(seconds=zcl_utc)


class _VirtualSelector(selectors.BaseSelector):
    """Wraps the real selector: real events first, otherwise the loop's virtual time jumps ahead."""

    def __init__(self, loop: VirtualTimeLoop, real: selectors.BaseSelector) -> None:
        self._loop = loop
        self._real = real

    @property
    def real(self) -> selectors.BaseSelector:
        return self._real

    def register(self, fileobj: FileDescriptorLike, events: int, data: object = None) -> selectors.SelectorKey:
        return self._real.register(fileobj, events, data)

    def unregister(self, fileobj: FileDescriptorLike) -> selectors.SelectorKey:
        return self._real.unregister(fileobj)

    def modify(self, fileobj: FileDescriptorLike, events: int, data: object = None) -> selectors.SelectorKey:
        return self._real.modify(fileobj, events, data)

    def get_map(self) -> Mapping[FileDescriptorLike, selectors.SelectorKey]:
        return self._real.get_map()

    def close(self) -> None:
        self._real.close()

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None:
            # Nothing scheduled: only real I/O (or a thread's call_soon_threadsafe) can wake the loop.
            return self._real.select(None)
        events = self._real.select(0 if timeout <= 0 else min(timeout, self._loop.real_io_grace))
        if events or timeout <= 0:
            return events
        self._loop._advance(timeout)
        return []


class _OrderedTimerHandle(asyncio.TimerHandle):
    """A timer that breaks deadline ties by scheduling order.

    With virtual time many timers share the exact same deadline; asyncio's heap compares deadlines only,
    which is deterministic but not first-in-first-out. Simulated nodes expect FIFO, like a real clock.
    """

    __slots__ = ("_seq",)
    if TYPE_CHECKING:  # asyncio's private TimerHandle slots, which typeshed lists without types
        _when: float
        _scheduled: bool

    def __init__(
        self,
        when: float,
        callback: Callable[..., object],
        args: tuple[object, ...],
        loop: asyncio.AbstractEventLoop,
        context: Context | None,
        seq: int,
    ) -> None:
        super().__init__(when, callback, args, loop, context)
        self._seq = seq

    # Only ordered handles share this loop's heap, so `other` is one (asyncio types it as any TimerHandle).
    def __lt__(self, other: _OrderedTimerHandle) -> bool:  # type: ignore[override]
        # heapq compares with < only; no tuples built (this runs a dozen times per timer).
        try:
            when, other_when = self._when, other._when
            return when < other_when or (when == other_when and self._seq < other._seq)
        except AttributeError:
            return super().__lt__(other)

    def __gt__(self, other: _OrderedTimerHandle) -> bool:  # type: ignore[override]
        try:
            when, other_when = self._when, other._when
            return when > other_when or (when == other_when and self._seq > other._seq)
        except AttributeError:
            return super().__gt__(other)


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An asyncio loop whose clock jumps to the next timer when nothing is ready.

    *start* is the initial value of ``time()``. *real_io_grace* is how many wall seconds the selector may
    wait for real I/O before virtual time jumps (0 = poll only; raise it when a real peer such as an HTTP
    client in another thread must get its answer in before a virtual deadline passes).
    """

    if TYPE_CHECKING:  # asyncio's private loop state driven below (CPython base_events), untyped in typeshed
        _scheduled: list[_OrderedTimerHandle]
        _ready: deque[asyncio.Handle]
        _selector: _VirtualSelector
        _stopping: bool
        _debug: bool
        _timer_cancelled_count: int

        def _check_closed(self) -> None: ...
        def _process_events(self, event_list: list[tuple[selectors.SelectorKey, int]]) -> None: ...

    def __init__(self, start: float = 0.0, real_io_grace: float = 0.0) -> None:
        self._virtual_now = float(start)
        self._timer_seq = 0
        self.real_io_grace = float(real_io_grace)
        self._last_real_poll = 0.0
        super().__init__(_VirtualSelector(self, selectors.DefaultSelector()))
        # Timers are compared exactly against the jumped-to time; no wall clock granularity applies.
        self._clock_resolution = 1e-9

    def time(self) -> float:
        return self._virtual_now

    def call_at(
        self, when: float, callback: Callable[..., object], *args: object, context: Context | None = None
    ) -> _OrderedTimerHandle:
        # Same as BaseEventLoop.call_at, with FIFO order among equal deadlines.
        if when is None:
            raise TypeError("when cannot be None")
        self._check_closed()
        self._timer_seq += 1
        timer = _OrderedTimerHandle(when, callback, args, self, context, self._timer_seq)
        heapq.heappush(self._scheduled, timer)
        timer._scheduled = True
        return timer

    def _run_once(self) -> None:
        """One loop iteration, as BaseEventLoop._run_once, minus a system call per virtual jump.

        The base loop polls the selector on every iteration. Here, while nothing real is awaited
        (real_io_grace is 0) and no other thread runs, the real selector is polled at most every
        REAL_IO_POLL_INTERVAL of wall time: a simulated frame is a timer, so most iterations are virtual
        jumps, and an epoll call per jump was a large share of a simulated exchange. A real peer that must be
        answered before virtual time moves on raises real_io_grace, which restores polling on every jump.
        With another thread alive (an executor, a timer thread, an emulator) the base iteration runs: its
        system call per iteration releases the GIL, and without it a thread waiting to call
        call_soon_threadsafe was measured to starve for seconds.
        """
        if self.real_io_grace > 0 or self._debug or threading.active_count() > 1:
            super()._run_once()  # type: ignore[misc]  # asyncio's private loop step, absent from typeshed
            return
        handle: asyncio.Handle | None  # a timer from the heap, then any ready callback
        scheduled = self._scheduled
        count = len(scheduled)
        if count > _MIN_SCHEDULED_TIMER_HANDLES and self._timer_cancelled_count / count > _MIN_CANCELLED_FRACTION:
            kept: list[_OrderedTimerHandle] = []
            for handle in scheduled:
                if handle._cancelled:
                    handle._scheduled = False
                else:
                    kept.append(handle)
            heapq.heapify(kept)
            self._scheduled = scheduled = kept
            self._timer_cancelled_count = 0
        else:
            while scheduled and scheduled[0]._cancelled:
                self._timer_cancelled_count -= 1
                heapq.heappop(scheduled)._scheduled = False
        ready = self._ready
        if not (ready or self._stopping) and not scheduled:
            # Nothing to do until real I/O (or a thread) wakes the loop.
            self._process_events(self._selector.select(None))
            self._last_real_poll = time.perf_counter()
        else:
            wall = time.perf_counter()
            events = None
            if wall - self._last_real_poll >= REAL_IO_POLL_INTERVAL:
                self._last_real_poll = wall
                events = self._selector.real.select(0)
                if events:
                    self._process_events(events)
            if not (events or ready or self._stopping):
                # Jump exactly onto the next timer.
                when = scheduled[0]._when
                if when > self._virtual_now:
                    self._virtual_now = when
        end_time = self._virtual_now + self._clock_resolution
        while scheduled and scheduled[0]._when < end_time:
            handle = heapq.heappop(scheduled)
            handle._scheduled = False
            ready.append(handle)
        for _ in range(len(ready)):
            handle = ready.popleft()
            if not handle._cancelled:
                handle._run()
        handle = None  # break reference cycles when a callback raised, as the base loop does

    def rebase(self, now: float) -> None:
        """Set ``time()`` to *now* (the loop must not be running), moving every pending timer by the same
        amount so each keeps its remaining delay. The bench starts every scenario at the same loop time, so
        a case's timings and capture do not depend on how much virtual time the cases before it used."""
        if self.is_running():
            raise ClockError("the virtual loop's time can only be rebased while the loop is not running")
        delta = float(now) - self._virtual_now
        for handle in self._scheduled:  # a uniform shift keeps the heap ordered
            handle._when += delta
        self._virtual_now = float(now)

    def _advance(self, timeout: float) -> None:
        target = self._virtual_now + timeout
        scheduled = self._scheduled  # the loop's timer heap; its head is what select() was asked to wait for
        if scheduled and scheduled[0]._when <= target + 1e-6:
            # Land exactly on the timer so float rounding can never leave it a hair in the future.
            target = max(self._virtual_now, scheduled[0]._when)
        self._virtual_now = target


def new_virtual_loop(start: float = 0.0, real_io_grace: float = 0.0) -> VirtualTimeLoop:
    return VirtualTimeLoop(start=start, real_io_grace=real_io_grace)


class Clock(ABC):
    """The harness's notion of time; every wait in the harness goes through one of these."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop if self._loop is not None else asyncio.get_running_loop()

    @abstractmethod
    def now(self) -> datetime:
        """The current aware UTC datetime."""

    def zcl_utc(self) -> int:
        """The current time as ZCL UTCTime (seconds since 2000-01-01T00:00:00Z)."""
        return zcl_utc_from_datetime(self.now())

    def now_at(self, monotonic: float) -> datetime:
        """The aware UTC datetime it was (or will be) when :meth:`monotonic` read *monotonic*."""
        return self.now() - timedelta(seconds=self.monotonic() - monotonic)

    def zcl_utc_at(self, monotonic: float) -> int:
        """ZCL UTCTime when :meth:`monotonic` read *monotonic*: what :meth:`zcl_utc` returned (or will return)
        then."""
        return zcl_utc_from_datetime(self.now_at(monotonic))

    def monotonic(self) -> float:
        """Seconds on the loop's monotonic clock (virtual in simulation)."""
        return self.loop.time()

    async def sleep(self, seconds: float, what: str = "") -> None:
        """Wait *seconds*; *what* names the wait for a real bench's progress lines (harness/progress.py)."""
        await asyncio.sleep(seconds)

    async def wait_for(self, awaitable: Awaitable[T], deadline: float, what: str = "") -> T:
        """Await *awaitable* for at most *deadline* seconds; raise :class:`DeadlineExceeded` after that."""
        return await wait_for(awaitable, deadline, what)


class VirtualClock(Clock):
    """Virtual time: *epoch* (aware UTC) is the wall-clock reading when the loop's time() was *origin*."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop | None = None,
        epoch: datetime = datetime(2024, 1, 1, tzinfo=UTC),
        origin: float | None = None,
    ) -> None:
        super().__init__(loop)
        if epoch.tzinfo is None:
            raise ClockError(f"the virtual epoch {epoch.isoformat()} must be an aware datetime")
        self._epoch = epoch.astimezone(UTC)
        self._origin = origin if origin is not None else (loop.time() if loop is not None else 0.0)

    def now(self) -> datetime:
        return self._epoch + timedelta(seconds=self.loop.time() - self._origin)

    def now_at(self, monotonic: float) -> datetime:
        return self._epoch + timedelta(seconds=monotonic - self._origin)  # exactly what now() read then


class WallClock(Clock):
    """Real time, for hardware benches. It keeps the waits in progress (``waits``) so a long one can be
    announced while it runs (harness/progress.py); a virtual clock has nothing to announce."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(loop)
        self.waits = Waits()

    async def sleep(self, seconds: float, what: str = "") -> None:
        with self.waits.waiting(what, seconds):
            await super().sleep(seconds, what)

    async def wait_for(self, awaitable: Awaitable[T], deadline: float, what: str = "") -> T:
        with self.waits.waiting(what, deadline):
            return await super().wait_for(awaitable, deadline, what)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return self.loop.time() if self._loop is not None else time.monotonic()


async def wait_for(awaitable: Awaitable[T], deadline: float, what: str = "") -> T:
    """Await *awaitable* for at most *deadline* loop seconds; raise :class:`DeadlineExceeded` after that."""
    try:
        async with asyncio.timeout(deadline):
            return await awaitable
    except TimeoutError:
        label = what or getattr(awaitable, "__qualname__", type(awaitable).__name__)
        raise DeadlineExceeded(f"{label} did not complete within {deadline:g} s") from None


def run(loop: asyncio.AbstractEventLoop, awaitable: Awaitable[T], deadline: float | None = None, what: str = "") -> T:
    """Run *awaitable* to completion on *loop* (not running), with an optional deadline in loop seconds."""
    if deadline is None:
        return loop.run_until_complete(awaitable)
    return loop.run_until_complete(wait_for(awaitable, deadline, what))

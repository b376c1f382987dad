"""The virtual-time loop and the Clock interface."""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from harness.clock import (
    ZCL_UNIX_OFFSET,
    ClockError,
    DeadlineExceeded,
    VirtualClock,
    WallClock,
    datetime_from_zcl_utc,
    new_virtual_loop,
    run,
    zcl_utc_from_datetime,
)


@pytest.fixture
def loop():
    loop = new_virtual_loop()
    yield loop
    loop.close()


def test_48_hours_of_sleeps_take_little_wall_time(loop):
    async def main() -> int:
        ticks = 0
        for _ in range(48 * 60):  # one sleep per virtual minute
            await asyncio.sleep(60)
            ticks += 1
        return ticks

    wall = time.perf_counter()
    assert run(loop, main()) == 48 * 60
    assert loop.time() == pytest.approx(48 * 3600)
    # Not a speed assertion: a real-time loop would need 48 h; anything under a minute proves the jump.
    assert time.perf_counter() - wall < 60


def test_timers_fire_in_deadline_then_fifo_order(loop):
    fired: list[str] = []

    async def main() -> None:
        loop.call_later(5, fired.append, "c5")
        loop.call_later(1, fired.append, "a1")
        loop.call_later(5, fired.append, "d5")
        loop.call_later(2.5, fired.append, "b2.5")
        await asyncio.sleep(10)

    run(loop, main())
    assert fired == ["a1", "b2.5", "c5", "d5"]
    assert loop.time() == 10


def test_sleep_lands_exactly_on_the_timer(loop):
    async def main() -> list[float]:
        seen = []
        for _ in range(1000):
            await asyncio.sleep(0.1)
            seen.append(loop.time())
        return seen

    seen = run(loop, main())
    # Each wake-up lands on its own timer, never before it.
    assert all(b > a for a, b in zip(seen, seen[1:], strict=False))
    assert seen[-1] == pytest.approx(100.0)


def test_real_io_is_serviced_while_virtual_time_runs(loop):
    left, right = socket.socketpair()
    left.setblocking(False)
    right.setblocking(False)
    received: list[bytes] = []

    async def ticker() -> None:
        for _ in range(3600):
            await asyncio.sleep(1)

    async def main() -> None:
        reader, writer = await asyncio.open_connection(sock=left)
        tick = asyncio.ensure_future(ticker())
        for i in range(5):
            right.send(b"ping%d\n" % i)
            received.append(await reader.readline())
        writer.write(b"pong\n")
        await writer.drain()
        await tick
        writer.close()

    run(loop, main())
    assert received == [b"ping%d\n" % i for i in range(5)]
    assert right.recv(16) == b"pong\n"
    assert loop.time() == pytest.approx(3600)
    right.close()


def test_thread_wakeup_without_timers(loop):
    import threading

    async def main() -> str:
        fut = loop.create_future()
        threading.Timer(0.01, lambda: loop.call_soon_threadsafe(fut.set_result, "woken")).start()
        return await fut

    assert run(loop, main()) == "woken"
    assert loop.time() == 0


def test_wait_for_raises_a_clear_deadline(loop):
    clock = VirtualClock(loop)

    async def main() -> None:
        await clock.wait_for(asyncio.sleep(100), 30, what="the join")

    with pytest.raises(DeadlineExceeded, match="the join did not complete within 30 s"):
        run(loop, main())
    assert loop.time() == 30


def test_wait_for_returns_the_result(loop):
    clock = VirtualClock(loop)

    async def answer() -> int:
        await clock.sleep(3)
        return 42

    assert run(loop, clock.wait_for(answer(), 5)) == 42


def test_virtual_clock_follows_the_loop(loop):
    epoch = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    clock = VirtualClock(loop, epoch=epoch)
    assert clock.now() == epoch
    run(loop, clock.sleep(86400 + 0.5))
    assert clock.now() == epoch + timedelta(days=1, seconds=0.5)
    assert clock.monotonic() == pytest.approx(86400.5)
    assert clock.zcl_utc() == zcl_utc_from_datetime(epoch) + 86400


def test_virtual_clock_epoch_in_other_zone_is_utc(loop):
    epoch = datetime(2024, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    assert VirtualClock(loop, epoch=epoch).now() == datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    assert VirtualClock(loop, epoch=epoch).now().tzinfo == UTC


def test_virtual_clock_rejects_naive_epoch(loop):
    with pytest.raises(ClockError, match="aware"):
        VirtualClock(loop, epoch=datetime(2024, 1, 1))


def test_wall_clock_is_real_time():
    clock = WallClock()
    before = datetime.now(UTC)
    now = clock.now()
    assert now.tzinfo is not None
    assert abs((now - before).total_seconds()) < 5


def test_zcl_utc_values():
    # ZCL spec: UTCTime counts seconds from 2000-01-01 00:00:00 UTC.
    assert zcl_utc_from_datetime(datetime(2000, 1, 1, tzinfo=UTC)) == 0
    assert zcl_utc_from_datetime(datetime(2000, 1, 2, tzinfo=UTC)) == 86400
    # 2024-01-01T00:00:00Z = Unix 1704067200.
    assert zcl_utc_from_datetime(datetime(2024, 1, 1, tzinfo=UTC)) == 1704067200 - 946684800
    assert ZCL_UNIX_OFFSET == 946684800
    assert datetime_from_zcl_utc(757382400) == datetime(2024, 1, 1, tzinfo=UTC)


def test_zcl_utc_round_trip():
    for value in (0, 1, 757382400, 0xFFFFFFFE):
        assert zcl_utc_from_datetime(datetime_from_zcl_utc(value)) == value


@pytest.mark.parametrize(
    "bad",
    [datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(2136, 2, 8, tzinfo=UTC), datetime(2024, 1, 1)],
)
def test_zcl_utc_out_of_range_or_naive(bad):
    with pytest.raises(ClockError):
        zcl_utc_from_datetime(bad)


def test_zcl_utc_invalid_value():
    with pytest.raises(ClockError, match="0xffffffff"):
        datetime_from_zcl_utc(0xFFFFFFFF)


def test_rebase_starts_again_at_a_given_time_and_keeps_pending_delays(loop):
    """The bench starts every scenario at the same loop time; a timer left pending keeps its remaining delay."""
    fired = []
    run(loop, asyncio.sleep(1234.5))
    loop.call_later(10, lambda: fired.append(loop.time()))
    loop.rebase(0.0)
    assert loop.time() == 0.0
    run(loop, asyncio.sleep(20))
    assert fired == [10.0]


def test_rebase_refuses_a_running_loop(loop):
    async def main() -> None:
        loop.rebase(0.0)

    with pytest.raises(ClockError, match="not running"):
        run(loop, main())

"""The virtual loop's own iteration (VirtualTimeLoop._run_once): same order and times as asyncio's, real file
descriptors still serviced, cancelled timers skipped, thread wake-ups delivered."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest

from harness.clock import VirtualTimeLoop


@pytest.fixture
def loop():
    loop = VirtualTimeLoop()
    yield loop
    loop.close()


def test_equal_deadlines_run_in_scheduling_order_and_time_lands_on_the_timer(loop):
    seen = []
    for name in "abc":
        loop.call_later(2.5, lambda n=name: seen.append((n, loop.time())))
    loop.call_later(1.0, lambda: seen.append(("first", loop.time())))
    loop.run_until_complete(asyncio.sleep(3))
    assert seen == [("first", 1.0), ("a", 2.5), ("b", 2.5), ("c", 2.5)]
    assert loop.time() == 3.0


def test_cancelled_timers_never_run_even_when_many_are_cancelled(loop):
    ran = []
    handles = [loop.call_later(10 + i, ran.append, i) for i in range(300)]
    for handle in handles[:250]:
        handle.cancel()
    loop.run_until_complete(asyncio.sleep(400))
    assert ran == list(range(250, 300))


def test_a_real_socket_is_serviced_while_virtual_time_runs(loop):
    a, b = socket.socketpair()
    a.setblocking(False)
    got = []
    loop.add_reader(a, lambda: got.append((a.recv(16), loop.time())))
    b.send(b"ping")
    try:
        # A virtual day of 1 s ticks: the reader must be called early, not after the day.
        async def ticks():
            for _ in range(86_400):
                await asyncio.sleep(1)

        loop.run_until_complete(ticks())
    finally:
        loop.remove_reader(a)
        a.close()
        b.close()
    assert got and got[0][0] == b"ping"
    assert got[0][1] < 86_400


def test_a_thread_wakes_the_loop_while_timers_are_pending(loop):
    done = loop.create_future()
    threading.Timer(0.01, lambda: loop.call_soon_threadsafe(done.set_result, "woken")).start()

    async def wait_real():
        # Keep virtual timers pending (1 ms apart) while waiting for the thread; the bound is wall time (this
        # test is about real time), generous so that a loaded machine cannot make it flaky.
        give_up = time.monotonic() + 30
        while time.monotonic() < give_up:
            if done.done():
                return done.result()
            await asyncio.sleep(0.001)
        return None

    assert loop.run_until_complete(wait_real()) == "woken"

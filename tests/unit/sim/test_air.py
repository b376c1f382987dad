"""Virtual air: delivery, link table, seeded faults, sniffers."""

from __future__ import annotations

import asyncio

import pytest

from harness.clock import new_virtual_loop
from harness.sim.air import OCTET_DURATION, Air, AirError, AirFrame, Impairment, LinkQuality

A, B, C = 0xA, 0xB, 0xC


@pytest.fixture
def loop():
    loop = new_virtual_loop()
    yield loop
    loop.close()


def _setup(loop, seed=0):
    air = Air(channel=15, seed=seed, loop=loop)
    inbox: dict[int, list[tuple[bytes, int, int, float]]] = {}
    radios = {}
    for address in (A, B, C):
        radio = air.attach(address)
        inbox[address] = []
        radio.on_receive = lambda psdu, lqi, rssi, address=address: inbox[address].append(
            (psdu, lqi, rssi, loop.time())
        )
        radios[address] = radio
    return air, radios, inbox


def _run(loop, seconds=1.0):
    loop.run_until_complete(asyncio.sleep(seconds))


def test_everyone_in_range_hears_a_frame_after_its_airtime(loop):
    air, radios, inbox = _setup(loop)
    radios[A].transmit(b"\x01\x02\x03")
    _run(loop)
    assert inbox[A] == []
    for address in (B, C):
        [(psdu, lqi, rssi, when)] = inbox[address]
        assert psdu == b"\x01\x02\x03" and lqi == 255 and rssi == -40
        assert when == pytest.approx((3 + 6) * OCTET_DURATION)


def test_cut_link_is_one_way_when_asked(loop):
    air, radios, inbox = _setup(loop)
    air.cut(A, B, both_ways=False)
    radios[A].transmit(b"x")
    radios[B].transmit(b"y")
    _run(loop)
    assert [f[0] for f in inbox[B]] == []
    assert [f[0] for f in inbox[A]] == [b"y"]
    assert [f[0] for f in inbox[C]] == [b"x", b"y"]
    air.restore(A, B)
    radios[A].transmit(b"z")
    _run(loop)
    assert [f[0] for f in inbox[B]] == [b"z"]


def test_degraded_link_reports_its_quality_and_latency(loop):
    air, radios, inbox = _setup(loop)
    air.degrade(A, B, Impairment(latency=0.5), LinkQuality(lqi=80, rssi=-90))
    radios[A].transmit(b"q")
    _run(loop)
    [(_, lqi, rssi, when)] = inbox[B]
    assert (lqi, rssi) == (80, -90)
    assert when == pytest.approx(0.5 + 7 * OCTET_DURATION)
    assert inbox[C][0][1] == 255


def test_drop_probability_is_seeded_and_roughly_right(loop):
    def losses(seed):
        air, radios, inbox = _setup(loop, seed)
        air.degrade(A, B, Impairment(drop=0.3))
        for i in range(1000):
            radios[A].transmit(i.to_bytes(2, "little"))
        _run(loop)
        return [int.from_bytes(f[0], "little") for f in inbox[B]], len(inbox[C])

    got1, to_c = losses(7)
    got2, _ = losses(7)
    got3, _ = losses(8)
    assert got1 == got2
    assert got1 != got3
    assert to_c == 1000
    assert 600 < len(got1) < 800


def test_node_impairment_applies_to_both_directions(loop):
    air, radios, inbox = _setup(loop)
    air.impair_node(C, Impairment(drop=1.0))
    radios[A].transmit(b"a")
    radios[C].transmit(b"c")
    _run(loop)
    assert inbox[C] == []
    assert [f[0] for f in inbox[B]] == [b"a"]


def test_duplication_and_corruption(loop):
    air, radios, inbox = _setup(loop, seed=3)
    air.degrade(A, B, Impairment(duplicate=1.0), both_ways=False)
    air.degrade(A, C, Impairment(corrupt=1.0), both_ways=False)
    radios[A].transmit(b"\x00" * 10)
    _run(loop)
    assert [f[0] for f in inbox[B]] == [b"\x00" * 10] * 2
    [(psdu, *_)] = inbox[C]
    assert len(psdu) == 10 and sum(bin(b).count("1") for b in psdu) == 1


def test_drop_next_matching_frames(loop):
    air, radios, inbox = _setup(loop)
    dropped = air.drop_next(2, lambda frame: frame.psdu.startswith(b"D"))
    for payload in (b"D1", b"x1", b"D2", b"D3", b"x2"):
        radios[A].transmit(payload)
    _run(loop)
    assert [f[0] for f in inbox[B]] == [b"x1", b"D3", b"x2"]
    assert [f.psdu for f in dropped] == [b"D1", b"D2"]


def test_sniffer_sees_every_frame_with_its_timestamp(loop):
    air, radios, inbox = _setup(loop)
    seen: list[AirFrame] = []
    remove = air.add_sniffer(seen.append)
    air.cut(A, B)
    air.drop_next(1)

    async def talk():
        radios[A].transmit(b"1")
        await asyncio.sleep(2)
        radios[B].transmit(b"2")

    loop.run_until_complete(talk())
    assert [(f.sender, f.psdu, f.timestamp, f.channel) for f in seen] == [(A, b"1", 0.0, 15), (B, b"2", 2.0, 15)]
    remove()
    radios[A].transmit(b"3")
    assert len(seen) == 2


def test_receiver_off_and_detached_hear_nothing(loop):
    air, radios, inbox = _setup(loop)
    radios[B].receiver_on = False
    radios[C].detach()
    radios[A].transmit(b"z")
    _run(loop)
    assert inbox[B] == [] and inbox[C] == []


@pytest.mark.parametrize("kwargs", [{"drop": 1.5}, {"duplicate": -0.1}, {"latency": -1}])
def test_bad_impairments_are_refused(kwargs):
    with pytest.raises(AirError):
        Impairment(**kwargs)


def test_bad_channel_and_double_attach(loop):
    with pytest.raises(AirError, match="channel 27"):
        Air(channel=27)
    air = Air(loop=loop)
    air.attach(1)
    with pytest.raises(AirError, match="already"):
        air.attach(1)

"""A day of demand response in virtual time: 24 hourly load control events with randomized starts and ends,
a price change every hour with acknowledgements, time taken from the ESI, all between the golden ESI and the
DUT-side clients. Every event must go through 01 -> 02 -> 03 with its offsets inside their windows."""

from __future__ import annotations

import pytest

from harness.clock import new_virtual_loop
from harness.golden.esi import PriceEvent, load_control_event
from tests.unit.esi.esi_link import T0, EsiLink

START_WINDOW_S, END_WINDOW_S = 10 * 60, 5 * 60


@pytest.fixture
def link():
    loop = new_virtual_loop()
    link = EsiLink(loop, dut_skew=-37, seed=2024, start_randomization_minutes=10, duration_randomization_minutes=5)
    yield link
    link.close()
    loop.close()


def test_a_day_of_events_prices_and_time(link):
    link.run(link.time_client.synchronize(link.esi_peer))
    for hour in range(24):
        start = T0 + 300 + hour * 3600
        link.run(link.drlc.issue_event(
            link.dut_peer, load_control_event(hour + 1, start_time=start, duration_minutes=30, event_control=0x03)))
        link.run(link.price.publish(link.dut_peer, PriceEvent(
            issuer_event_id=1000 + hour, price=100 + hour, start_time=start, duration_minutes=60, price_control=1)))
        link.advance(3600)
    link.advance(3600)
    assert link.loop.time() >= 25 * 3600
    for hour in range(24):
        times = {int(s): (t, a) for s, t, a in link.drlc.statuses(hour + 1)}
        assert sorted(times) == [0x01, 0x02, 0x03], (hour, times)
        start = T0 + 300 + hour * 3600
        started, completed = times[0x02][1], times[0x03][1]
        assert 0 <= started - start < START_WINDOW_S
        assert 0 <= completed - started - 1800 < END_WINDOW_S
        assert all(status_time == int(arrival) for status_time, arrival in times.values())
    assert sorted(a.issuer_event_id for a in link.price.acknowledgements) == list(range(1000, 1024))
    assert link.drlc.findings == [] and link.price.findings == [] and link.esi.findings == []
    assert link.drlc_client.entries == []

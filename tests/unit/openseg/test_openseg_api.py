"""The OpenSEG pieces on their own: cache window, home network, Green Button, read-response decoding, and
the reference server through the bench client on a virtual-time loop (real loopback sockets)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from harness.openseg import greenbutton as gb
from harness.openseg.api import ApiProfileError, is_error_body, resolve_paths
from harness.openseg.cache import Reading, ReadingCache
from harness.openseg.client import ApiClientError, OpenSegClient
from harness.openseg.network import HomeNetwork, HomeNetworkError
from harness.openseg.server import ServerFaults
from tests.unit.openseg.conftest import T0


def test_cache_keeps_exactly_the_window():
    cache = ReadingCache(48 * 3600)
    for i in range(50 * 900):  # 50 h of 4 s reads
        cache.append(Reading(T0 + 4 * i, i, 1))
    now = T0 + 4 * (50 * 900 - 1)
    assert cache.between(0, now)[0].time >= now - 48 * 3600
    assert len(cache) == 48 * 900 + 1
    with pytest.raises(ValueError, match="older than"):
        cache.append(Reading(T0, 0, 0))


def test_home_network_filter():
    home = HomeNetwork(["127.0.0.1/32", "192.168.1.0/24"])
    assert home.contains("127.0.0.1") and home.contains("192.168.1.77") and home.contains("::ffff:127.0.0.1")
    assert not home.contains("127.0.0.2") and not home.contains("garbage") and not home.contains(None)
    with pytest.raises(HomeNetworkError, match="home network"):
        HomeNetwork(["300.1.1.1/8"])


def test_paths_mapping_rejects_unknown_names():
    assert resolve_paths({"summation": "/x/sum"})["summation"] == "/x/sum"
    with pytest.raises(ApiProfileError, match="not a resource"):
        resolve_paths({"tariff": "/t"})


def test_green_button_zcl_epoch_and_units_are_caught():
    rt = gb.ReadingType(uom=38, power_of_ten=-1, accumulation=4, kind=12, interval_length=900)
    feed = gb.parse_feed(gb.build_feed([gb.IntervalReading(T0 - 946_684_800, 900, 5)], rt, updated=T0))
    assert any("before 2000" in p for p in gb.time_problems(feed, T0, T0 + 900))
    assert any("uom 38" in p for p in gb.unit_problems(feed))
    with pytest.raises(gb.GreenButtonError, match="not well-formed"):
        gb.parse_feed(b"<feed")
    assert gb.power_of_ten_for(1, 1000) == 0 and gb.power_of_ten_for(5, 10_000) == -1


@pytest.fixture
def served(gateway):
    for i in range(3600):
        gateway.data.cache.append(Reading(T0 - 4 * 3600 + 4 * i, 1000 + 3 * i, 600))

    def serve(faults: ServerFaults | None = None):
        api, url = gateway.start(faults)
        return api, OpenSegClient(url), OpenSegClient(url, source="127.0.0.2")

    return gateway.loop, serve


def test_server_answers_the_profile(served):
    loop, serve = served
    api, home, foreign = serve()
    summation = loop.run_until_complete(home.request("summation")).json()["summation"]
    assert summation["raw"] == 1000 + 3 * 3599 and str(summation["value"]) == "5.8985"  # 11797 x 5 / 10000
    assert loop.run_until_complete(foreign.request("summation")).status == 403
    bad = loop.run_until_complete(home.request("readings", {"start": "x", "end": "1"}))
    assert bad.status == 400 and is_error_body(bad.json(), 400)
    assert loop.run_until_complete(home.request("drlc")).status == 404
    assert loop.run_until_complete(home.request("meter", method="POST")).status == 405
    assert loop.run_until_complete(home.raw(b"NOT HTTP\r\n\r\n")).status == 400
    export = loop.run_until_complete(home.request("greenbutton", {"start": T0 - 3600, "end": T0}))
    feed = gb.parse_feed(export.body)
    assert gb.schema_problems(export.body) == [] and len(feed.readings) == 4
    # readings at or before T0-3600 (i=2700) and T0 (i=3599, 4 s earlier): 899 x 3 raw x 0.5 Wh
    assert feed.energy_wh() == Decimal("1348.5")
    loop.run_until_complete(api.close())


def test_server_faults_show(served):
    loop, serve = served
    api, home, foreign = serve(ServerFaults(answer_foreign=True, ignore_multiplier=True))
    assert loop.run_until_complete(foreign.request("summation")).status == 200
    value = loop.run_until_complete(home.request("summation")).json()["summation"]["value"]
    assert str(value) == "1.1797"
    loop.run_until_complete(api.close())


def test_dies_on_malformed_answers_400_then_stops_serving(served):
    """The fault seeds only 'keeps serving': its answer to the malformed request itself is conformant."""
    loop, serve = served
    api, home, _foreign = serve(ServerFaults(die_on_malformed=True))
    bad = loop.run_until_complete(home.request("readings", {"start": "x", "end": "1"}))
    assert bad.status == 400 and is_error_body(bad.json(), 400)
    with pytest.raises(ApiClientError, match="GET /api/v1/summation"):
        loop.run_until_complete(home.request("summation"))
    loop.run_until_complete(api.close())

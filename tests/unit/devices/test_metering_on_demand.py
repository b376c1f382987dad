"""The reference meter's metrology while nothing listens (harness/devices/servers/metering.py, ``catch_up``): it
makes the update its schedule has due when the registers are looked at, instead of waking every DefaultUpdatePeriod.
A read must see what it would have seen from a meter woken every period: the same registers, the same recorded
intervals, the same seeded step back; and between two updates, the last update, not the load of the moment."""

from __future__ import annotations

import pytest

from harness.devices.meter import ElectricMeter
from harness.devices.servers.metering import ATTRS, TIER_ATTRS, MeteringServer
from harness.zcl.reporting import ReportingConfig

REGISTERS = (ATTRS.current_summation_delivered, ATTRS.instantaneous_demand, ATTRS.active_register_tier_delivered,
             *TIER_ATTRS.values())


def _server(meter: ElectricMeter) -> MeteringServer:
    return next(s for s in meter.server_clusters if isinstance(s, MeteringServer))


def _registers(meter: ElectricMeter) -> dict[str, int]:
    server = _server(meter)
    return {attr.name: int(meter.store.get(server.key(attr.id))) for attr in REGISTERS}


def _pass(meter: ElectricMeter, seconds: float) -> None:
    meter.node.loop.run_until_complete(meter.clock.sleep(seconds))


def _woken_every_period(meter: ElectricMeter) -> ElectricMeter:
    """The oracle: a meter whose metrology believes something always listens, so it wakes every period."""
    _server(meter)._listened = lambda: True  # type: ignore[method-assign]
    return meter


@pytest.mark.parametrize("faults", [(), ("summation-steps-back",)], ids=["conformant", "summation-steps-back"])
def test_a_read_after_hours_unheard_sees_what_a_meter_woken_every_period_shows(build, faults):
    lazy, oracle = build(ElectricMeter, faults), _woken_every_period(build(ElectricMeter, faults))
    for seconds in (2.5, 7_200.0, 4 * 3_600 + 1.25, 12.0):  # past the step back at 2 h uptime, hours, a few periods
        _pass(lazy, seconds)  # one loop: the oracle's time passes alike
        assert _registers(lazy) == _registers(oracle)
        assert _server(lazy).intervals == _server(oracle).intervals


def test_unheard_it_does_not_wake_every_period(build):
    meter = build(ElectricMeter)
    server = _server(meter)
    updates = []
    original = server.update
    server.update = lambda at=None: (updates.append(at), original(at))[1]  # type: ignore[method-assign]
    _pass(meter, 30 * 86_400)
    assert updates == [], "nothing looked at the registers: no update was made"
    _registers(meter)
    assert len(updates) == 1, "one read: the one update its schedule had due by then"


def test_between_two_updates_a_read_serves_the_last_one(build):
    meter = build(ElectricMeter)
    server = _server(meter)
    _pass(meter, 3_600.0 + 1.0)  # a second after an update instant (every 5 s from power up)
    first = _registers(meter)
    _pass(meter, 3.0)  # still before the next one
    assert _registers(meter) == first
    _pass(meter, 2.0)  # the next update instant has passed
    assert _registers(meter)["current_summation_delivered"] > first["current_summation_delivered"]
    assert server.default_update_period == 5


def test_reporting_configured_wakes_it_for_every_update_again(build):
    meter = build(ElectricMeter)
    server = _server(meter)
    _pass(meter, 600.5)
    key = server.key(ATTRS.current_summation_delivered.id)
    reports: list[int] = []
    meter.engine.reports._send_report = lambda config: reports.append(int(meter.store.get(config.key)))
    config = ReportingConfig(key=key, type_id=0x25, min_interval=0, max_interval=3_600, reportable_change=1,
                             destination=None, destination_endpoint=1)  # type: ignore[arg-type]

    async def configure() -> None:  # as the engine does, on the running loop
        meter.engine.reports.configure(config, meter.store.get(key))

    meter.node.loop.run_until_complete(configure())
    _pass(meter, 60.0)
    assert server._listened() and not server._on_demand
    # A report now follows each update (every 5 s), after the one a new configuration sends at once.
    assert len(reports) >= 12 and reports == sorted(reports)
    meter.engine.reports.remove(key)
    _pass(meter, 10.0)
    assert server._on_demand, "with nothing listening again, it updates on demand"

"""The application reference devices' fault catalogues: every fault names a rule, case keys and what it seeds,
and a device builds with each fault on (tests/integration/test_fault_matrix.py shows each one changes what
the suite sees); user actions reach the clients through DUT control."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from harness.devices.appliance import SmartAppliance
from harness.devices.esi import ReferenceEsi
from harness.devices.faults import Seed
from harness.devices.ihd import InHomeDisplay
from harness.devices.lcd import LoadControlDevice
from harness.devices.meter import ElectricMeter
from harness.devices.pct import ProgrammableThermostat
from harness.dut.base import DutControl, DutControlError
from harness.dut.sim import SimDutControl
from harness.profiles import load_dut_profile

ROOT = Path(__file__).resolve().parents[3]
MODELS = [ProgrammableThermostat, LoadControlDevice, SmartAppliance, ElectricMeter, ReferenceEsi]
CASE_KEY = re.compile(r"^TC-[A-Z]+-\d+\.\d+(\[[^\]]+\])?$")


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.model)
def test_every_fault_names_its_rule_targets_and_seed(cls):
    for name, fault in cls.faults_catalogue.items():
        assert fault.name == name and fault.breaks and fault.targets, fault
        assert isinstance(fault.seeds, Seed), fault
        assert all(CASE_KEY.match(t) for t in fault.targets), fault


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.model)
def test_profile_names_the_model_and_its_device_type(cls):
    profile = load_dut_profile(ROOT / "profiles" / "dut" / f"sim-{cls.model}.yaml")
    assert profile.control.model == cls.model
    assert profile.identity.device.device_id == cls.device_id


@pytest.mark.parametrize(("cls", "fault"), [(c, f) for c in MODELS for f in sorted(c.faults_catalogue)],
                         ids=lambda v: getattr(v, "model", v))
def test_device_builds_with_each_fault(build, cls, fault):
    device = build(cls, (fault,))
    assert device.faults.names == {fault}


def test_clients_follow_the_device_type(build):
    pct, appliance = build(ProgrammableThermostat), build(SmartAppliance)
    assert pct.drlc is not None and pct.price is None and pct.messaging is None
    assert appliance.price is not None and appliance.drlc is None
    assert pct.store.get(pct.drlc._key(0x0003)) == 0x0001  # HVAC compressor or furnace
    assert build(LoadControlDevice).store.get(pct.drlc._key(0x0003)) == 0x0004  # water heater
    ihd = build(InHomeDisplay)
    assert ihd.drlc is None and ihd.price is not None and ihd.messaging is not None


def test_user_actions_reach_the_clients(build):
    pct_control = SimDutControl(build(ProgrammableThermostat))
    loop = asyncio.get_event_loop()
    loop.run_until_complete(pct_control.opt_out(1))  # no such event: the device shows nothing, not a bench error
    with pytest.raises(DutControlError, match="no Messaging client"):
        loop.run_until_complete(pct_control.confirm_message(1))
    with pytest.raises(DutControlError, match="no DRLC client"):
        loop.run_until_complete(SimDutControl(build(SmartAppliance)).opt_in(1))


def test_a_control_driver_without_user_actions_says_so():
    class Minimal(DutControl):
        async def factory_reset(self) -> None: ...
        async def start_joining(self) -> None: ...
        async def start_rejoin(self) -> None: ...

    with pytest.raises(DutControlError, match="cannot ask the user to opt out"):
        asyncio.run(Minimal().opt_out(7))


def test_a_factory_reset_forgets_what_the_applications_held(build):
    """A device that lives on across scenarios (behind the NCP emulator, or a real DUT) starts each one from
    factory state: no network time, price, message or load control event kept from the last, and every
    attribute back to its factory value."""
    from harness.se.datamodel import Side

    ihd, pct = build(InHomeDisplay), build(ProgrammableThermostat)
    old_price, old_drlc = ihd.price, pct.drlc
    from harness.zcl.store import AttributeKey

    identify_time = AttributeKey(ihd.endpoint, 0x0003, Side.SERVER, 0x0000)  # writable (Identify, ZCL 3.5.2)
    factory_identify_time = ihd.store.get(identify_time)
    ihd.store.set(identify_time, factory_identify_time + 30)
    ihd.time.synchronized, ihd.time.offset = True, 3600.0
    ihd.price.prices.append(object())
    ihd.messaging.message = object()
    pct.drlc.entries.append(object())
    ihd.factory_reset()
    pct.factory_reset()
    assert not ihd.time.synchronized and ihd.time.offset == 0.0
    assert ihd.store.get(identify_time) == factory_identify_time  # attributes back to their factory values
    assert ihd.price is not old_price and ihd.price.prices == [] and ihd.messaging.message is None
    assert pct.drlc is not old_drlc and pct.drlc.entries == []
    # The engine hands Publish Price and Load Control Event to the new clients, not the forgotten ones.
    assert ihd.engine._handlers[(ihd.endpoint, 0x0700, Side.CLIENT, 0x00)].__self__ is ihd.price
    assert pct.engine._handlers[(pct.endpoint, 0x0701, Side.CLIENT, 0x00)].__self__ is pct.drlc


def test_a_factory_reset_keeps_the_suites_the_device_was_provisioned_with(build):
    """Certificates and the suites they give (KeyEstablishmentSuite) come with the device: a reset keeps them."""
    from harness.ke.material import KeMaterial
    from harness.se.datamodel import Side
    from harness.zcl.store import AttributeKey

    ihd = build(InHomeDisplay)
    ihd.provision_key_establishment(KeMaterial.seeded(), (1, 2))
    suites = [AttributeKey(ihd.endpoint, 0x0800, side, 0x0000) for side in (Side.SERVER, Side.CLIENT)]
    assert [ihd.store.get(key) for key in suites] == [0x0003, 0x0003]
    ihd.factory_reset()
    assert [ihd.store.get(key) for key in suites] == [0x0003, 0x0003]



def test_operator_actions_reach_the_esi_servers(build):
    """An ESI's head end (DUT control publish_price, issue_event, display_message) adds what its servers hold."""
    from harness.devices.servers.drlc import DrlcServer
    from harness.devices.servers.messaging import MessagingServer
    from harness.devices.servers.price import PriceServer

    esi = build(ReferenceEsi)
    control = SimDutControl(esi)
    loop = asyncio.new_event_loop()
    try:
        for action in (control.publish_price, control.issue_event, control.issue_event, control.display_message):
            loop.run_until_complete(action())
    finally:
        loop.close()
    assert len(esi.server(PriceServer).prices) == 2  # the current price and the one published
    events = esi.server(DrlcServer).events
    assert len(events) == 2 and events[1].start >= events[0].ends()  # the second after the first: no overlap
    assert [m.message_id for m in esi.server(MessagingServer).messages] == [3001]


def test_a_device_without_an_esi_head_end_refuses_operator_actions(build):
    control = SimDutControl(build(ElectricMeter))
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(DutControlError, match="no ESI head end"):
            loop.run_until_complete(control.publish_price())
    finally:
        loop.close()

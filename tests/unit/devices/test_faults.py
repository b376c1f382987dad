"""Typed faults (harness/devices/faults.py): a fault declares what it seeds, a setting that names no field
fails where it is declared, in one line, and a device derives its settings from the faults chosen."""

from __future__ import annotations

import dataclasses

import pytest

from harness.devices import application_faults as shared
from harness.devices.catalogue import MODELS
from harness.devices.faults import (
    CLIENT_SETTINGS,
    Behaviour,
    ClientSetting,
    Fault,
    FaultDeclarationError,
    FaultSet,
    KeSetting,
    Setting,
    StackSetting,
    UnknownFaultError,
    check_faults,
)
from harness.devices.openseg import ServerSetting
from harness.ke.faults import DeviceKeFaults
from harness.openseg.server import ServerFaults
from harness.sim.behaviour import CONFORMANT, StackBehaviour

SETTING_FAULTS = [(model, fault) for model, cls in sorted(MODELS.items()) for fault in cls.faults_catalogue.values()
                  if isinstance(fault.seeds, Setting)]


@pytest.mark.parametrize(("setting", "words"), [
    (lambda: StackSetting("annonces_itself"), ["StackBehaviour", "'annonces_itself'"]),
    (lambda: KeSetting("wrong_macc"), ["DeviceKeFaults", "'wrong_macc'"]),
    (lambda: ClientSetting(client="drlc", field="no_acknowledgement"), ["DrlcClientFaults", "'no_acknowledgement'"]),
    (lambda: ClientSetting(client="metering", field="x"), ["no client 'metering'", "drlc, price"]),
    (lambda: ServerSetting("answer_foreign_networks"), ["ServerFaults", "'answer_foreign_networks'"]),
], ids=["stack", "ke", "client-field", "client", "server"])
def test_a_setting_that_names_no_field_fails_where_it_is_declared_in_one_line(setting, words):
    with pytest.raises(FaultDeclarationError) as raised:
        setting()
    message = str(raised.value)
    assert "\n" not in message and all(word in message for word in words), message


def test_a_fault_must_declare_a_seed():
    with pytest.raises(FaultDeclarationError, match="'no-device-annce' seeds 'send_device_annce'"):
        Fault("no-device-annce", "no Device_annce", ("TC-JOIN-1.5",), "send_device_annce")  # type: ignore[arg-type]


def test_an_unknown_fault_name_fails_with_one_line_naming_the_catalogue():
    catalogue = MODELS["lcd"].faults_catalogue
    with pytest.raises(UnknownFaultError) as raised:
        check_faults("lcd", ["no-report-event-status", "no-devce-annce"], catalogue)
    message = str(raised.value)
    assert "\n" not in message and "'no-devce-annce'" in message and "sim:lcd" in message
    assert "no-report-event-status" in message  # the catalogue, to pick from
    assert check_faults("lcd", ["no-report-event-status"], catalogue) == {"no-report-event-status"}


def test_device_code_asks_for_behaviours_by_constant_only():
    faults = FaultSet([shared.NEVER_READS_TIME])
    assert faults.has(shared.NEVER_READS_TIME) and not faults.has(shared.NO_GET_CURRENT_PRICE)
    # The same fault aimed at another model's cases is the same fault.
    assert faults.has(shared.NEVER_READS_TIME.aimed_at("TC-TIME-1.1", "TC-TIME-1.3"))
    with pytest.raises(TypeError):
        faults.has("never-reads-time")  # type: ignore[arg-type]
    with pytest.raises(TypeError):  # a setting is derived into the device's settings, not branched on
        faults.has(shared.NO_DEVICE_ANNCE)


def test_no_fault_leaves_every_setting_conformant():
    none = FaultSet()
    assert none.settings(StackBehaviour) == CONFORMANT
    assert none.settings(DeviceKeFaults) == DeviceKeFaults() and none.settings(ServerFaults) == ServerFaults()
    assert all(none.settings(cls) == cls() for cls in CLIENT_SETTINGS.values())


@pytest.mark.parametrize(("model", "fault"), SETTING_FAULTS, ids=[f"{m}-{f.name}" for m, f in SETTING_FAULTS])
def test_a_setting_fault_flips_its_field_and_nothing_else(model, fault):
    cls = fault.seeds.settings_class()
    derived, conformant = FaultSet([fault]).settings(cls), cls()
    changed = {f.name for f in dataclasses.fields(cls) if getattr(derived, f.name) != getattr(conformant, f.name)}
    assert changed == {fault.seeds.field}


def test_every_behaviour_and_setting_is_declared_once_per_model():
    """Two faults of one model seeding the same setting would be one fault under two names."""
    for model, cls in MODELS.items():
        seeds = [f.seeds for f in cls.faults_catalogue.values() if not isinstance(f.seeds, Behaviour)]
        assert len(seeds) == len(set(seeds)), model


def test_the_device_derives_its_settings_from_the_faults_chosen(build):
    ihd = build(MODELS["ihd"], ("ignores-leave", "ke-wrong-mac", "ignores-esi-time", "garbage-short-mgmt-leave-rsp"))
    assert ihd.node.behaviour == dataclasses.replace(CONFORMANT, obey_leave=False)
    assert ihd.ke_device_faults() == DeviceKeFaults(wrong_mac=True)
    assert ihd.time.faults.ignore_esi_time and ihd.node.garbler is not None
    pct = build(MODELS["pct"], ("ignores-cancel",))
    assert pct.drlc.faults.ignore_cancel and pct.node.behaviour == CONFORMANT and pct.node.garbler is None
    gateway = build(MODELS["openseg"], ("dies-on-malformed",))
    assert gateway.api.faults == ServerFaults(die_on_malformed=True)
    gateway._serving.cancel()  # its API server is not needed here: never started, nothing to stop
    with pytest.raises(UnknownFaultError):
        build(MODELS["appliance"], ("ignores-cancel",))

"""Where a fault can act is recorded (harness/devices/faults.py, FaultTouches): each consultation of a device's
fault set lands on the case running, the tokens of a fault name every consultation through which it can act,
and a recording run behaves as a run that does not record."""

from __future__ import annotations

import pytest

from harness.devices import faults as faults_module
from harness.devices.application_faults import IGNORES_OPT_OUT
from harness.devices.catalogue import MODELS
from harness.devices.clients import DrlcClientFaults
from harness.devices.faults import (
    ANY,
    IDENTIFICATION,
    AttributeBehaviour,
    FaultSet,
    FaultTouches,
    identification,
    reached_cases,
    seed_tokens,
)
from harness.devices.garbage import GARBAGE_FAULTS, garbler_for
from harness.sim.behaviour import StackBehaviour
from harness.wire.frames.aps import ApsFrame
from harness.zcl.store import AttributeKey


@pytest.fixture
def recorder(monkeypatch):
    touches = FaultTouches()
    monkeypatch.setattr(faults_module, "RECORDER", touches)
    return touches


def test_nothing_is_recorded_unless_a_run_records():
    assert faults_module.RECORDER is None
    faults = FaultSet()
    assert not faults.has(IGNORES_OPT_OUT)
    assert type(faults.settings(DrlcClientFaults)) is DrlcClientFaults  # the plain dataclass, no recording


def test_each_consultation_lands_on_the_case_running(recorder):
    faults = FaultSet()
    recorder.case = "TC-DRLC-1.14"
    faults.has(IGNORES_OPT_OUT)
    settings = faults.settings(DrlcClientFaults)
    assert not settings.ignore_cancel  # a field read
    recorder.case = "TC-DRLC-1.1"
    bool(faults)
    recorder.case = None
    assert faults.settings(StackBehaviour).send_device_annce
    assert recorder.by_case["TC-DRLC-1.14"] >= {"has:ignores-opt-out",
                                               "setting:harness.devices.clients.drlc.DrlcClientFaults.ignore_cancel"}
    assert recorder.by_case["TC-DRLC-1.1"] == {ANY}
    assert recorder.everywhere == {"setting:harness.sim.behaviour.StackBehaviour.send_device_annce"}


def test_a_recorded_settings_object_reads_as_the_plain_one(recorder):
    recorder.case = "TC-X"
    flipped = FaultSet([MODELS["pct"].faults_catalogue["ignores-cancel"]]).settings(DrlcClientFaults)
    assert flipped.ignore_cancel is True and isinstance(flipped, DrlcClientFaults)
    assert {f: getattr(flipped, f) for f in vars(DrlcClientFaults())} == (
        {f: getattr(DrlcClientFaults(ignore_cancel=True), f) for f in vars(DrlcClientFaults())})


def test_identification_is_apart_from_every_case(recorder):
    recorder.case = "TC-ATTR-1.1"
    with identification():
        FaultSet().has(IGNORES_OPT_OUT)
    assert recorder.case == "TC-ATTR-1.1"
    touches = recorder.as_json()
    assert touches["cases"] == {IDENTIFICATION: ["has:ignores-opt-out"]}
    assert reached_cases(MODELS["pct"].faults_catalogue["ignores-opt-out"], touches) == set()


def test_a_consultation_outside_cases_reaches_every_case():
    fault = MODELS["pct"].faults_catalogue["ignores-opt-out"]
    touches = {"everywhere": ["has:ignores-opt-out"], "cases": {"TC-DRLC-1.14": []}}
    assert reached_cases(fault, touches) is None
    touches = {"everywhere": [], "cases": {"TC-DRLC-1.14": [ANY], "TC-DRLC-1.1": ["has:other"]}}
    assert reached_cases(fault, touches) == {"TC-DRLC-1.14"}


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_fault_has_the_tokens_of_its_seed(model):
    for fault in MODELS[model].faults_catalogue.values():
        tokens = seed_tokens(fault)
        assert ANY in tokens and len(tokens) >= 2, (fault.name, tokens)


def test_garbage_is_watched_frame_by_frame(recorder):
    """A recording device notes the frames each garbage fault of its catalogue selects, and sends them as
    they are."""
    catalogue = {fault.name: fault for fault in GARBAGE_FAULTS}
    garbler = garbler_for(FaultSet((), catalogue))
    assert garbler is not None
    assert not any(token.startswith("seeds:") for token in recorder.everywhere)  # no blanket consultation
    recorder.case = "TC-JOIN-1.7"
    frame = ApsFrame.data(3, 0x0000, 0x8034, 0, 0, bytes([0x42, 0x00]))  # a Mgmt_Leave_rsp
    assert garbler.payload(frame) == frame.payload
    assert garbler.aps(frame, b"\x00\x01") == b"\x00\x01"
    assert garbler.nwk(frame, b"\x08\x00" * 5) == b"\x08\x00" * 5
    assert recorder.by_case["TC-JOIN-1.7"] == {"acts:garbage-short-mgmt-leave-rsp",
                                              "acts:garbage-aps-reserved-delivery-mode",
                                              "acts:garbage-truncated-nwk-header"}
    recorder.case = "TC-JOIN-1.5"
    annce = ApsFrame.data(4, 0x0000, 0x0013, 0, 0, bytes(12))  # a Device_annce: no garbage fault selects it
    garbler.payload(annce)
    garbler.aps(annce, annce.serialize())
    assert "TC-JOIN-1.5" not in recorder.by_case


ATTRIBUTE_FAULTS = [(model, fault.name) for model, cls in sorted(MODELS.items())
                    for fault in cls.faults_catalogue.values() if isinstance(fault.seeds, AttributeBehaviour)]


def _table(store) -> dict:
    return {(ep, cluster, side, attr_id): (entry.model, entry.writable, entry.value)
            for ep in store.endpoints() for cluster, side in store.clusters(ep)
            for attr_id, entry in store._clusters[(ep, cluster, side)].items()}


def test_some_faults_alter_the_attribute_table():
    assert len(ATTRIBUTE_FAULTS) >= 9, ATTRIBUTE_FAULTS


@pytest.mark.parametrize(("model", "fault"), ATTRIBUTE_FAULTS)
def test_an_attribute_fault_is_watched_on_the_attributes_it_alters(build, recorder, model, fault):
    """The attributes a recording device watches for an attribute-table fault are those the fault alters (or,
    for a fault of how the table answers, the reads where it answers otherwise)."""
    cls = MODELS[model]
    conformant = build(cls).store
    with_fault = build(cls, (fault,)).store
    watched = {(ep, cluster, side, attr_id) for (ep, cluster, side), notes in conformant._watches.items()
               for attr_id, note in notes if note.args == (f"acts:{fault}",)}
    before, after = _table(conformant), _table(with_fault)
    altered = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    if altered:
        assert altered <= watched, f"{fault} alters {altered}; watched {watched}"
        assert watched <= altered, f"{fault} is watched on {watched - altered}, which it does not alter"
    else:  # it changes how the table answers: the notes come where it answers otherwise
        recorder.case = "TC-ATTR-1.5"
        key = next(iter(before))
        conformant.read_record(AttributeKey(key[0], key[1], key[2], 0xFFF0))  # an attribute the cluster lacks
        for ep in conformant.endpoints():
            for cluster, side in conformant.clusters(ep):
                conformant.entries(ep, cluster, side)
        assert f"acts:{fault}" in recorder.by_case["TC-ATTR-1.5"], fault

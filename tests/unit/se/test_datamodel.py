"""The SE data model loads into typed objects and agrees with the SE-FACTS device-type list."""

from __future__ import annotations

import pytest

from harness.se.datamodel import DataModelError, Side, load_datamodel, parse_datamodel, snake_name

# SE-FACTS "Basics": device ids (copied here as literals; source: public implementations citing 07-5356).
FACT_DEVICE_IDS = {
    "SE-ESP": 0x0500,
    "SE-Meter": 0x0501,
    "SE-IPD": 0x0502,
    "SE-PCT": 0x0503,
    "SE-LC": 0x0504,
    "SE-SA": 0x0505,
    "SE-pt": 0x0506,
    "SE-rangeextender": 0x0008,
}
# SE-FACTS: mandatory clusters by type besides Basic server and Key Establishment client+server.
FACT_EXTRA_SERVER = {
    "SE-ESP": {0x0703, 0x0700, 0x0701, 0x000A},
    "SE-Meter": {0x0702},
    "SE-IPD": set(),
    "SE-PCT": set(),
    "SE-LC": set(),
    "SE-SA": set(),
}
FACT_EXTRA_CLIENT = {
    "SE-ESP": set(),
    "SE-Meter": set(),
    "SE-IPD": set(),
    "SE-PCT": {0x0701, 0x000A},
    "SE-LC": {0x0701, 0x000A},
    "SE-SA": {0x0700, 0x000A},
}


def test_model_has_the_eight_suite_clusters():
    model = load_datamodel()
    for cid in (0x0000, 0x0003, 0x000A, 0x0700, 0x0701, 0x0702, 0x0703, 0x0800):
        assert cid in model.clusters


@pytest.mark.parametrize("name", sorted(FACT_DEVICE_IDS))
def test_device_type_ids_match_se_facts(name):
    assert load_datamodel().device_type(name).device_id == FACT_DEVICE_IDS[name]


@pytest.mark.parametrize("name", sorted(FACT_EXTRA_SERVER))
def test_device_type_mandatory_clusters_match_se_facts(name):
    dev = load_datamodel().device_type(name)
    assert set(dev.mandatory_server) == {0x0000, 0x0800} | FACT_EXTRA_SERVER[name]
    assert set(dev.mandatory_client) == {0x0800} | FACT_EXTRA_CLIENT[name]


def test_prepayment_is_named_but_not_defined():
    # The prepayment terminal needs Prepayment, which the SE 1.x model copy does not define.
    assert "Prepayment" in load_datamodel().undefined_cluster_names


def test_drlc_client_attributes_follow_se_facts():
    drlc = load_datamodel().cluster(0x0701)
    start = drlc.attribute(Side.CLIENT, 0x0001)
    assert (start.type, start.default, start.max, start.writable) == ("INT8U", "0x1E", 0x3C, True)
    assert drlc.attribute(Side.SERVER, 0x0001) is None
    assert [a.id for a in drlc.attributes_of(Side.CLIENT)] == [0, 1, 2, 3]


def test_signed_bounds_written_in_twos_complement_become_negative():
    tz = load_datamodel().cluster(0x000A).attribute(Side.SERVER, 0x0002)
    assert (tz.min, tz.max) == (-86400, 86400)
    assert tz.in_range(-3600) and not tz.in_range(-86401)


def test_commands_know_who_receives_them():
    ke = load_datamodel().cluster(0x0800)
    terminate = [c for c in ke.commands if c.name == "TerminateKeyEstablishment"][0]
    assert terminate.received_by() == (Side.SERVER, Side.CLIENT)
    lce = [c for c in load_datamodel().cluster(0x0701).commands if c.name == "LoadControlEvent"][0]
    assert lce.received_by() == (Side.CLIENT,)


def test_bad_model_entry_names_the_place():
    doc = {"clusters": [{"id": "0x0001", "name": "X", "attributes": [
        {"id": "0x0000", "side": "server", "name": "a", "type": "FLOAT9", "mandatory": True, "writable": False}
    ], "commands": []}]}
    with pytest.raises(DataModelError, match=r"cluster X \(0x0001\) attribute 0x0000: unknown or missing type"):
        parse_datamodel(doc)


def test_snake_names():
    assert snake_name("key establishment suite (server)") == "key_establishment_suite"
    assert snake_name("LoadControlEvent") == "load_control_event"
    assert snake_name("tier 1 price label") == "tier_1_price_label"

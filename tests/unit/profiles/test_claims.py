"""Mandatory PICS items: the data model says what each device type must claim and why; a profile or a --pics
override that sets one false is refused naming the item, the device type and the rule."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.options import OptionError, RunOptions, parse_dut
from harness.pics import ClaimError, check_claims, main, mandatory_items, resolve_device_type, with_mandatory
from harness.profiles import ProfileError, load_dut_profile
from harness.se.datamodel import DataModelError, load_datamodel, parse_datamodel

ROOT = Path(__file__).resolve().parents[3]
PCT = ROOT / "profiles" / "dut" / "sim-pct.yaml"
EVERY_DEVICE = {"SE.BASIC.S", "SE.BASIC.S.A0000", "SE.KE.S", "SE.KE.C", "SE.KE.S.A0000", "SE.KE.C.A0000",
                "SE.KE.C.C00.Tx", "SE.KE.S.C00.Rx"}
#: The items issue 14 found a PCT could turn off and still be called CONFORMANT.
PCT_ITEMS = ("SE.DRLC.C.C00.Rx", "SE.DRLC.C.C01.Rx", "SE.DRLC.C.C02.Rx", "SE.DRLC.C.C01.Tx", "SE.TIME.C")


def test_every_device_type_has_a_rule_and_the_clusters_of_every_se_device():
    model = load_datamodel()
    assert model.every_device is not None and "Key Establishment" in model.every_device.source
    for device in model.device_types:
        assert device.source, f"{device.name} has no claim source"
        mandatory = mandatory_items(device)
        assert EVERY_DEVICE <= set(mandatory), device.name
        assert mandatory["SE.KE.C"].rule == model.every_device.source


@pytest.mark.parametrize(("alias", "must", "need_not"), [
    ("pct", {*PCT_ITEMS, "SE.DRLC.C", "SE.DRLC.C.C00.Tx", "SE.DRLC.C.A0001"}, {"SE.PRICE.C", "SE.MSG.C"}),
    ("lcd", {*PCT_ITEMS, "SE.DRLC.C"}, {"SE.PRICE.C"}),
    ("sa", {"SE.PRICE.C", "SE.TIME.C"}, {"SE.DRLC.C", "SE.MTR.C"}),
    ("ihd", set(), {"SE.PRICE.C", "SE.DRLC.C", "SE.TIME.C", "SE.MTR.C", "SE.MSG.C"}),
    ("esi", {"SE.PRICE.S", "SE.DRLC.S", "SE.MSG.S", "SE.TIME.S", "SE.TIME.S.A0000"}, {"SE.MTR.S"}),
    ("meter", {"SE.MTR.S", "SE.MTR.S.A0000"}, {"SE.PRICE.S"}),
])
def test_mandatory_items_per_device_type(alias, must, need_not):
    device = resolve_device_type(alias)
    mandatory = mandatory_items(device)
    assert must <= set(mandatory), must - set(mandatory)
    assert not need_not & set(mandatory)
    for key in must - EVERY_DEVICE:
        assert device.source.split(":")[0] in mandatory[key].rule  # the type's own rule, not every device's


def test_an_openseg_gateway_must_claim_the_simple_metering_client():
    ihd = resolve_device_type("ihd")
    assert "SE.MTR.C" not in mandatory_items(ihd)
    item = mandatory_items(ihd, ("openseg",))["SE.MTR.C"]
    assert "LBNL-182358" in item.rule
    with pytest.raises(ClaimError, match=r"Simple Metering client is mandatory for SE-IPD \(0x0502\) as an OpenSEG"):
        check_claims({"SE.MTR.C": False}, ihd, ("openseg",))


@pytest.mark.parametrize("key", [*PCT_ITEMS, "SE.KE.C", "SE.KE.S"])
def test_a_mandatory_item_set_false_is_refused_naming_item_type_and_rule(key):
    pct = resolve_device_type("pct")
    with pytest.raises(ClaimError) as caught:
        check_claims({key: False}, pct)
    assert caught.value.key == key
    text = str(caught.value)
    assert "mandatory for SE-PCT (0x0503)" in text and "rule: SE 1.x (07-5356)" in text and "\n" not in text


def test_optional_items_may_be_false_and_absent_mandatory_items_are_claimed():
    pct = resolve_device_type("pct")
    check_claims({"SE.PRICE.C": False, "SE.DRLC.C.SIGN": False, "SE.KE.SUITE2": False}, pct)
    claimed = with_mandatory({"SE.PRICE.C": False}, pct)
    assert claimed["SE.PRICE.C"] is False
    assert all(claimed[key] for key in PCT_ITEMS)


def test_key_establishment_offers_at_least_one_suite():
    ihd = resolve_device_type("ihd")
    check_claims({"SE.KE.SUITE1": False, "SE.KE.SUITE2": True}, ihd)
    with pytest.raises(ClaimError, match="at least one CBKE suite"):
        check_claims({"SE.KE.SUITE1": False}, ihd)


def _write(tmp_path: Path, doc: dict) -> Path:
    path = tmp_path / "x.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_a_profile_that_turns_off_a_mandatory_item_is_refused_in_one_line(tmp_path):
    doc = yaml.safe_load(PCT.read_text())
    doc["pics"]["SE.DRLC.C.C01.Rx"] = False
    path = _write(tmp_path, doc)
    with pytest.raises(ProfileError) as caught:
        load_dut_profile(path)
    text = str(caught.value)
    assert text.startswith(f"{path}: pics.SE.DRLC.C.C01.Rx: CancelLoadControlEvent (command) is mandatory for "
                           "SE-PCT (0x0503)")
    assert text.endswith("set it true or remove the line") and "\n" not in text


def test_a_profile_that_leaves_a_mandatory_item_out_claims_it(tmp_path):
    doc = yaml.safe_load(PCT.read_text())
    del doc["pics"]["SE.TIME.C"]
    profile = load_dut_profile(_write(tmp_path, doc))
    assert profile.pics["SE.TIME.C"] is True and profile.pics["SE.KE.S.C00.Rx"] is True
    assert "SE.PRICE.C" not in profile.pics  # optional items stay as the profile says


def test_a_pics_override_of_a_mandatory_item_is_refused_naming_the_option():
    profile = load_dut_profile(PCT)
    options = RunOptions(dut=parse_dut("sim:pct"), radio=None, profile=PCT, bench=None, pics={"SE.TIME.C": "0"})
    with pytest.raises(OptionError, match=r"^--pics SE\.TIME\.C=0: the Time client is mandatory for SE-PCT "
                                          r"\(0x0503\) .*; drop the override$"):
        options.check_profile(profile)
    options = RunOptions(dut=parse_dut("sim:pct"), radio=None, profile=PCT, bench=None,
                         pics={"SE.KE.SUITE2": "true", "SE.PRICE.C": "true"})
    options.check_profile(profile)  # optional items may be overridden either way


def test_the_template_marks_mandatory_items_and_names_their_rules(capsys):
    assert main(["template", "--device-type", "ihd", "--openseg"]) == 0
    out = capsys.readouterr().out
    assert "  SE.MTR.C: true   # mandatory: Simple Metering client\n" in out
    assert "LBNL-182358" in out.split("pics:")[0] and "every SE device" in out.split("pics:")[0]
    for key in yaml.safe_load(out)["pics"]:
        assert isinstance(key, str)


def test_a_claim_set_naming_an_unknown_cluster_or_without_source_is_a_data_model_error():
    base = {"clusters": [{"id": "0x0000", "name": "Basic", "attributes": [], "commands": []}]}
    with pytest.raises(DataModelError, match="names cluster 'Price'"):
        parse_datamodel({**base, "application_profiles": [
            {"name": "x", "mandatory_client": ["Price"], "source": "s"}]})
    with pytest.raises(DataModelError, match="a source"):
        parse_datamodel({**base, "application_profiles": [{"name": "x", "mandatory_client": ["Basic"]}]})
    with pytest.raises(DataModelError, match="lacks a cluster of claim_sources.every_device"):
        parse_datamodel({**base, "claim_sources": {"every_device": {"mandatory_server": ["Basic"], "source": "s"}},
                         "device_types": [{"name": "T", "device_id": "0x0001", "mandatory_server": []}]})

"""The DUT's network role: a profile declares it (network.role), names the golden's HAN devices when the DUT forms
the network, and the role is mirrored into the PICS items that gate cases (SE.NWK.JOIN, SE.NWK.TC)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.pics import PicsError, check_key, role_claims
from harness.profiles import ProfileError, load_dut_profile
from harness.redact import Redactor

ROOT = Path(__file__).resolve().parents[3]
ESI = ROOT / "profiles" / "dut" / "sim-esi.yaml"
IHD = ROOT / "profiles" / "dut" / "sim-ihd.yaml"


def _write(tmp_path: Path, source: Path, **changes) -> Path:
    document = yaml.safe_load(source.read_text())
    for key, value in changes.items():
        if value is None:
            document.pop(key, None)
        else:
            document[key] = value
    path = tmp_path / "dut.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_the_role_is_mirrored_into_the_pics_items():
    esi, ihd = load_dut_profile(ESI), load_dut_profile(IHD)
    assert esi.network.forms and esi.pics["SE.NWK.TC"] and not esi.pics["SE.NWK.JOIN"]
    assert not ihd.network.forms and ihd.pics["SE.NWK.JOIN"] and not ihd.pics["SE.NWK.TC"]
    assert role_claims("forms") == {"SE.NWK.JOIN": False, "SE.NWK.TC": True}
    assert check_key("SE.NWK.TC") == "SE.NWK.TC"
    with pytest.raises(PicsError):
        role_claims("floats")


def test_a_forming_dut_names_at_least_one_han_device(tmp_path):
    path = _write(tmp_path, ESI, network={"role": "forms"})
    with pytest.raises(ProfileError, match="network.role forms needs network.han_devices"):
        load_dut_profile(path)


def test_han_devices_belong_to_the_forming_role_and_have_their_own_ieee(tmp_path):
    device = {"ieee": "00:12:4B:00:00:00:0A:01", "install_code": "0011223344556677FC05"}
    with pytest.raises(ProfileError, match="is for network.role forms"):
        load_dut_profile(_write(tmp_path, IHD, network={"role": "joins", "han_devices": [device]}))
    with pytest.raises(ProfileError, match="its own IEEE"):
        load_dut_profile(_write(tmp_path, ESI, network={"role": "forms", "han_devices": [device, device]}))


def test_a_han_device_install_code_is_checked_and_never_shown(tmp_path):
    bad = {"ieee": "00:12:4B:00:00:00:0A:01", "install_code": "0011223344556677FC06"}  # CRC off by one
    with pytest.raises(ProfileError) as refused:
        load_dut_profile(_write(tmp_path, ESI, network={"role": "forms", "han_devices": [bad]}))
    assert "CRC" in str(refused.value) and "0011223344556677" not in str(refused.value)


def test_pics_that_contradict_the_role_are_refused(tmp_path):
    document = yaml.safe_load(ESI.read_text())
    document["pics"]["SE.NWK.JOIN"] = True
    path = tmp_path / "dut.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ProfileError, match="network.role"):
        load_dut_profile(path)


def test_han_device_install_codes_are_redacted():
    profile = load_dut_profile(ESI)
    redactor = Redactor.from_profiles(profile)
    code = profile.network.han_devices[1].install_code.get_secret_value()
    assert code not in redactor.redact_text(f"the code is {code}")

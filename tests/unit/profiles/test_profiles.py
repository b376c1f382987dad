"""DUT and bench profiles validate, redact secrets and fail with one line naming file, field and fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.profiles import ProfileError, load_bench_profile, load_dut_profile

ROOT = Path(__file__).resolve().parents[3]
IHD = ROOT / "profiles/dut/sim-ihd.yaml"
SIM = ROOT / "profiles/bench/sim.yaml"


def write(tmp_path: Path, doc: dict, name: str = "x.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc))
    return path


def ihd_doc() -> dict:
    return yaml.safe_load(IHD.read_text())


def test_shipped_profiles_validate():
    dut = load_dut_profile(IHD)
    assert dut.identity.device.device_id == 0x0502
    assert dut.pics["SE.PRICE.C"] is True
    assert dut.pixit["join_timeout"].seconds == 30
    assert dut.install_code_value.link_key.hex()  # a usable install code
    bench = load_bench_profile(SIM)
    assert (bench.radio, bench.channel, bench.pan_id) == ("sim", 15, 0x1A62)


def test_secrets_are_redacted():
    dut = load_dut_profile(IHD)
    bench = load_bench_profile(SIM)
    assert "83FED340" not in repr(dut) and "83FED340" not in str(dut)
    assert "0103050709" not in repr(bench).replace(":", "").lower()


def test_pics_value_must_be_boolean(tmp_path):
    doc = ihd_doc()
    doc["pics"]["SE.DRLC.C"] = "yes please"
    path = write(tmp_path, doc)
    with pytest.raises(ProfileError) as err:
        load_dut_profile(path)
    assert str(err.value) == f"{path}: pics.SE.DRLC.C: expected true/false, got 'yes please'"


def test_pics_key_outside_the_scheme(tmp_path):
    doc = ihd_doc()
    doc["pics"]["SE.FOO.S"] = True
    with pytest.raises(ProfileError, match=r"x.yaml: pics: PICS key 'SE.FOO.S' does not follow SE.<AREA>"):
        load_dut_profile(write(tmp_path, doc))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("30 parsecs", "pixit.join_timeout: unknown unit 'parsecs'"),
        ("soon", "pixit.join_timeout: expected a number with a unit such as '30 s', got 'soon'"),
    ],
)
def test_pixit_needs_a_number_and_known_unit(tmp_path, value, message):
    doc = ihd_doc()
    doc["pixit"]["join_timeout"] = value
    with pytest.raises(ProfileError, match=message):
        load_dut_profile(write(tmp_path, doc))


def test_pixit_units_convert():
    from harness.profiles import Pixit

    assert Pixit.model_validate({"value": 500, "unit": "ms"}).seconds == 0.5
    with pytest.raises(ValueError, match="not a duration"):
        _ = Pixit.model_validate({"value": 3, "unit": "count"}).seconds


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30.0), ("2 min", 120.0), ("1.5h", 5400.0), ("250 ms", 0.25),
                                             ("45", 45.0)])
def test_a_pixit_option_takes_the_profiles_units(text, seconds):
    """--pixit VALUE reads like a profile's PIXIT (a bare number is seconds)."""
    from harness.profiles import parse_pixit

    assert parse_pixit(text).seconds == seconds
    assert parse_pixit("3 count").value == 3


def test_a_bad_pixit_option_is_one_line_naming_it():
    from harness.options import OptionError, RunOptions, parse_dut

    options = RunOptions(dut=parse_dut("sim:ihd"), radio=None, profile=None, bench=None,
                         pixit={"drlc_start_lead": "2 minutes"})
    with pytest.raises(OptionError, match=r"^--pixit drlc_start_lead='2 minutes': unknown unit 'minutes'.*"
                                          r"e\.g\. --pixit drlc_start_lead=30s$"):
        options.check()


def test_bad_install_code_crc(tmp_path):
    doc = ihd_doc()
    doc["install_code"] = "83FED3407A939723A5C639B26916D505C3B6"
    with pytest.raises(ProfileError, match=r"x.yaml: install_code: its last 2 bytes are not the CRC-16/X-25") as err:
        load_dut_profile(write(tmp_path, doc))
    assert "C3B" not in str(err.value).upper()  # neither the given nor the expected CRC: both derive from the secret


SECRET = "5A17C0DE5A17C0DE"  # an 8-byte marker no error message may echo, in any case


@pytest.mark.parametrize(("kind", "field", "value", "words"), [
    ("dut", "install_code", SECRET[:8], ["install_code:", "4 bytes", "6, 8, 12 or 16 bytes"]),
    ("dut", "install_code", SECRET + "ZZ", ["install_code:", "expected hex digits", "value not shown"]),
    ("bench", "network_key", SECRET, ["network_key:", "16 hex bytes, got 8 bytes"]),
    ("bench", "network_key", SECRET + "ZZ", ["network_key:", "not hex digits", "value not shown"]),
    ("bench", "test_ca", {"issuer": "11:22:33:44:55:66:77:88", "public_key": "02" + "11" * 21,
                          "private_key": SECRET[:4]}, ["test_ca.private_key:", "21 hex bytes, got 2 bytes"]),
    ("bench", "test_ca", {"issuer": "11:22:33:44:55:66:77:88", "public_key": "02" + "11" * 21,
                          "private_key": SECRET * 3}, ["test_ca.private_key:", "21 hex bytes, got 24 bytes"]),
    ("bench", "test_ca", {"issuer": "11:22:33:44:55:66:77:88", "public_key": "0203",
                          "private_key": "01" * 21}, ["test_ca.public_key:", "22 or 37 hex bytes, got 2 bytes"]),
])
def test_a_secret_of_the_wrong_length_names_field_and_length_never_the_value(tmp_path, kind, field, value, words):
    doc = ihd_doc() if kind == "dut" else yaml.safe_load(SIM.read_text())
    doc[field] = value
    with pytest.raises(ProfileError) as err:
        (load_dut_profile if kind == "dut" else load_bench_profile)(write(tmp_path, doc))
    text = str(err.value)
    assert "\n" not in text and all(word in text for word in words), text
    for part in (SECRET, SECRET[:8], SECRET[:4], SECRET[4:8]):
        assert part.lower() not in text.lower(), f"{part} echoed in {text!r}"


def test_a_test_ca_of_the_right_lengths_loads(tmp_path):
    doc = yaml.safe_load(SIM.read_text())
    doc["test_ca"] = {"issuer": "11:22:33:44:55:66:77:88", "public_key": "03" + "22" * 36, "private_key": "01" * 21}
    bench = load_bench_profile(write(tmp_path, doc))
    assert bench.test_ca.private_key.get_secret_value() == "01" * 21


def test_a_utf8_bom_is_accepted_and_other_encodings_are_one_line(tmp_path):
    import codecs

    text = IHD.read_text()
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(codecs.BOM_UTF8 + text.encode())
    assert load_dut_profile(bom).identity.model == "Reference IHD"
    for name, raw, words in (
        ("utf16.yaml", codecs.BOM_UTF16_LE + text.encode("utf-16-le"), ["saved as UTF-16", "save the profile as UTF-8"]),
        ("utf32.yaml", codecs.BOM_UTF32_LE + text.encode("utf-32-le"), ["saved as UTF-32"]),
        ("latin1.yaml", text.replace("Suite", "Suit\u00e9").encode("latin-1"),
         ["line 3: not UTF-8 (byte 0xE9", "save the profile as UTF-8"]),
    ):
        path = tmp_path / name
        path.write_bytes(raw)
        with pytest.raises(ProfileError) as err:
            load_dut_profile(path)
        assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)
        assert all(word in str(err.value) for word in words), err.value


def test_a_folder_given_as_profile_is_one_line(tmp_path):
    with pytest.raises(ProfileError, match="is a folder, not a profile file"):
        load_dut_profile(tmp_path)


def test_a_duration_pixit_written_as_a_bare_number_is_seconds(tmp_path):
    doc = ihd_doc()
    doc["pixit"]["join_timeout"] = 45
    assert load_dut_profile(write(tmp_path, doc)).pixit["join_timeout"].seconds == 45


@pytest.mark.parametrize(("value", "words"), [
    ("0 s", ["pixit.join_timeout: 0 s is below its minimum 1 s"]),
    ("-5 s", ["pixit.join_timeout: -5 s is below its minimum 1 s", "a wait is positive"]),
    ("300 s", ["pixit.join_timeout: 300 s is above its maximum 254 s", "Mgmt_Permit_Joining_req"]),
])
def test_a_profile_pixit_outside_its_bound_is_one_line(tmp_path, value, words):
    doc = ihd_doc()
    doc["pixit"]["join_timeout"] = value
    path = write(tmp_path, doc)
    with pytest.raises(ProfileError) as err:
        load_dut_profile(path)
    assert str(err.value).startswith(f"{path}: pixit.join_timeout: ")
    assert all(word in str(err.value) for word in words), err.value


def test_unknown_device_type_and_missing_field(tmp_path):
    doc = ihd_doc()
    doc["identity"]["device_type"] = "toaster"
    with pytest.raises(ProfileError, match=r"identity.device_type: unknown device type 'toaster'"):
        load_dut_profile(write(tmp_path, doc))
    doc = ihd_doc()
    del doc["control"]
    with pytest.raises(ProfileError, match=r"x.yaml: control: required field missing; add it"):
        load_dut_profile(write(tmp_path, doc))


def test_sim_control_needs_a_model(tmp_path):
    doc = ihd_doc()
    doc["control"] = {"kind": "sim"}
    with pytest.raises(ProfileError, match=r"control: control.kind sim needs control.model"):
        load_dut_profile(write(tmp_path, doc))


@pytest.mark.parametrize(
    ("control", "message"),
    [
        ({"kind": "cli", "port": "/dev/x", "commands": {"reboot": "reboot"}},
         r"control: commands.reboot: not a harness action; use one of factory_reset, .*read_log"),
        ({"kind": "cli", "port": "/dev/x", "commands": {"opt_out": "drlc optout {event} -> ^OK"}},
         r"control: commands.opt_out: placeholder \{event\} is unknown; this action has \{event_id\}$"),
        ({"kind": "cli", "port": "/dev/x", "commands": {"start_joining": "join {ch}"}},
         r"commands.start_joining: placeholder \{ch\} is unknown; this action has none$"),
        ({"kind": "manual", "prompts": {"confirm_message": "Confirm {msg}"}},
         r"control: prompts.confirm_message: placeholder \{msg\} is unknown; this action has \{message_id\}"),
        ({"kind": "cli", "port": "/dev/x", "commands": {"opt_in": "optin {event_id"}},
         r"commands.opt_in: .* \(write a literal brace as \{\{ or \}\}\)"),
    ],
)
def test_control_actions_and_their_placeholders_are_checked(tmp_path, control, message):
    doc = ihd_doc()
    doc["control"] = control
    with pytest.raises(ProfileError, match=message) as caught:
        load_dut_profile(write(tmp_path, doc))
    assert "\n" not in str(caught.value)


def test_a_reply_pattern_may_use_regex_braces(tmp_path):
    doc = ihd_doc()
    doc["control"] = {"kind": "cli", "port": "/dev/x", "commands": {"opt_out": "optout {event_id} -> ^OK{1}"}}
    assert load_dut_profile(write(tmp_path, doc)).control.commands["opt_out"].endswith("^OK{1}")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("channel", 27, "channel: expected at most 26, got 27"),
        ("radio", "zigate:/dev/x", "radio: expected 'sim' or 'ezsp:PORT'"),
        ("pan_id", "0xFFFF", "pan_id: expected a PAN id 0x0001-0xfffe, got 0xffff"),
        ("network_key", "0102", "network_key: expected the network key as 16 hex bytes, got 2 bytes"),
        ("colour", "blue", "colour: unknown field; remove it or check its spelling"),
    ],
)
def test_bench_errors_are_one_line(tmp_path, field, value, message):
    doc = yaml.safe_load(SIM.read_text())
    doc[field] = value
    with pytest.raises(ProfileError) as err:
        load_bench_profile(write(tmp_path, doc))
    text = str(err.value)
    assert "\n" not in text and message in text and text.startswith(str(tmp_path))


def test_ezsp_radio_is_accepted(tmp_path):
    doc = yaml.safe_load(SIM.read_text())
    doc["radio"] = "ezsp:/dev/ttyACM0"
    assert load_bench_profile(write(tmp_path, doc)).radio == "ezsp:/dev/ttyACM0"


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ProfileError, match="no such profile file"):
        load_dut_profile(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("identity: [unclosed\n")
    with pytest.raises(ProfileError, match=r"bad.yaml: line \d+: not valid YAML"):
        load_dut_profile(bad)


@pytest.mark.parametrize("model", ["ihd", "pct"])
def test_a_reference_devices_cli_profile_claims_what_its_sim_profile_claims(model):
    """ref-<model>-cli.yaml is the same reference device behind the NCP emulator: only its control differs, so
    the real-bench self-tests judge the same cases the simulated suite does."""
    sim = load_dut_profile(ROOT / "profiles" / "dut" / f"sim-{model}.yaml")
    cli = load_dut_profile(ROOT / "profiles" / "dut" / f"ref-{model}-cli.yaml")
    assert cli.control.kind == "cli" and sim.control.kind == "sim"
    assert cli.identity == sim.identity
    assert cli.pics == sim.pics
    assert cli.pixit == sim.pixit

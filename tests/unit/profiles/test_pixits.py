"""PIXIT bounds (harness/pixits.py): the table is complete and consistent with the code, values outside a bound
are refused naming the bound and its source, and values that make a check more lenient are listed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness import pixits
from harness.ke.state_machine import KeTiming
from harness.options import OptionError, RunOptions, parse_dut
from harness.pixits import BOUNDS, PixitBoundError
from harness.profiles import load_dut_profile

ROOT = Path(__file__).resolve().parents[3]
CODE = [*ROOT.glob("steps/*.py"), *ROOT.glob("harness/**/*.py")]


def _code_defaults() -> dict[str, set[float]]:
    """Every PIXIT the suite's code reads, with the default it falls back to."""
    found: dict[str, set[float]] = {}
    for path in CODE:
        text = path.read_text()
        for name, default in re.findall(r'pixit_seconds\(\s*"(\w+)",\s*([0-9.* ]+)\)', text):
            found.setdefault(name, set()).add(float(eval(default)))  # noqa: S307 - literals such as 30 * 60
        for name, default in re.findall(r'pixit_count\(\s*bench,\s*"(\w+)",\s*(\d+)\)', text):
            found.setdefault(name, set()).add(float(default))
        for name in re.findall(r'pixit(?:\.get\(|\[)"(\w+)"', text):
            found.setdefault(name, set())
    return found


def test_every_pixit_the_code_reads_has_a_bound_and_the_same_default():
    found = _code_defaults()
    assert len(found) >= 18, found  # the scan itself works
    for name, defaults in found.items():
        assert name in BOUNDS, f"{name} is read by the code but has no bound in harness/pixits.py"
        for default in defaults:
            assert BOUNDS[name].default_value == default, f"{name}: code falls back to {default}, table says " \
                                                          f"{BOUNDS[name].default}"
    # The reference device's advertised CBKE times fall back to KeTiming's.
    assert BOUNDS["ephemeral_data_generate_time"].default_value == KeTiming.ephemeral_data_generate_time
    assert BOUNDS["confirm_key_generate_time"].default_value == KeTiming.confirm_key_generate_time


@pytest.mark.parametrize("bound", BOUNDS.values(), ids=list(BOUNDS))
def test_each_bound_is_positive_holds_its_default_and_names_its_sources(bound):
    assert 0 < bound.min.value <= bound.default_value <= bound.max.value
    assert bound.min.source and bound.max.source and bound.meaning
    unit = pixits.split(bound.default)[1]
    assert (unit in pixits.DURATION_UNITS) == (bound.kind == "duration")
    assert bound.widens in ("longer", "shorter", "fewer", None)


def test_docs_list_every_pixit_with_its_bounds():
    text = (ROOT / "docs" / "profiles.md").read_text()
    section = text[text.index("### PIXIT bounds"):]
    for bound in BOUNDS.values():
        row = next((line for line in section.splitlines() if line.startswith(f"| `{bound.name}` |")), None)
        assert row is not None, f"{bound.name} is missing from docs/profiles.md's PIXIT bounds"
        assert bound.min.text in row and bound.max.text in row and bound.default in row, row


@pytest.mark.parametrize(("name", "text", "words"), [
    ("join_timeout", "-5s", ["-5 s is below its minimum 1 s", "a wait is positive"]),
    ("join_timeout", "0", ["0 s is below its minimum 1 s"]),
    ("join_timeout", "300 s", ["above its maximum 254 s", "Mgmt_Permit_Joining_req"]),
    ("timing_tolerance", "3700s", ["above its maximum 30 s", "whole minutes"]),
    # The OpenSEG profile's requirements (docs/openseg-api.md): a PIXIT may only tighten them.
    ("meter_read_interval", "900s", ["above its maximum 4 s", "LBNL-182358", "may only tighten"]),
    ("meter_read_interval", "4.5s", ["above its maximum 4 s"]),
    ("meter_read_interval", "0.5s", ["below its minimum 1 s", "whole seconds"]),
    ("meter_read_tolerance", "3600s", ["above its maximum 2 s", "at most 2 s late"]),
    ("meter_read_tolerance", "2.5s", ["above its maximum 2 s"]),
    ("api_latency", "1.1s", ["above its maximum 1 s", "the API answers within 1 s"]),
    ("drlc_event_duration", "25 h", ["above its maximum 1440 min", "at most 1440"]),
    ("drlc_randomization", "2 h", ["above its maximum 60 min", "0x3C"]),
    ("ke_timeout", "10 min", ["above its maximum 540 s", "u8 number of seconds"]),
    ("drlc_randomized_events", "0 count", ["below its minimum 1 count"]),
    ("drlc_randomized_events", "2.5 count", ["not a whole count"]),
    ("drlc_randomized_events", "2 s", ["not a count"]),
    ("join_timeout", "6 count", ["not a duration"]),
    ("join_timout", "30 s", ["unknown PIXIT", "did you mean join_timeout?"]),
])
def test_a_value_outside_its_bound_is_refused_naming_bound_and_source(name, text, words):
    with pytest.raises(PixitBoundError) as caught:
        pixits.check_text(name, text)
    for word in words:
        assert word in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("name", "text", "amount"), [
    ("join_timeout", "254 s", 254.0), ("join_timeout", "1", 1.0), ("drlc_event_duration", "1min", 60.0),
    ("drlc_randomized_events", "2", 2.0), ("drlc_randomized_events", "2count", 2.0), ("response_time", "250 ms", 0.25),
    ("meter_read_interval", "4 s", 4.0), ("meter_read_interval", "1 s", 1.0), ("meter_read_tolerance", "2 s", 2.0),
    ("api_latency", "1 s", 1.0), ("api_latency", "100 ms", 0.1),
])
def test_values_inside_are_accepted_in_base_units(name, text, amount):
    assert pixits.check_text(name, text) == amount


def test_bounds_between_pixits():
    pixits.check_relations({"meter_read_interval": 4.0, "meter_read_tolerance": 4.0})
    with pytest.raises(PixitBoundError, match=r"^meter_read_tolerance: .* 5 s with meter_read_interval 4 s: "
                                              r"the tolerance is at most the read interval") as caught:
        pixits.check_relations({"meter_read_tolerance": 5.0})  # against the default interval
    assert caught.value.names == ("meter_read_tolerance", "meter_read_interval")
    pixits.check_relations({"drlc_schedule_span": 360.0, "drlc_schedule_events": 3.0})  # docs/bench.md's preset
    with pytest.raises(PixitBoundError, match="2 min per event"):
        pixits.check_relations({"drlc_schedule_span": 360.0, "drlc_schedule_events": 4.0})


def test_widened_lists_only_values_more_lenient_than_the_default():
    widened = pixits.widened({
        "timing_tolerance": (10, "s"),  # longer tolerance: widened
        "join_timeout": (10, "s"),  # shorter timeout: stricter
        "leave_silence_time": (30, "s"),  # shorter silence watched: widened
        "drlc_randomized_events": (2, "count"),  # fewer samples: widened
        "drlc_event_duration": (1, "min"),  # shapes the stimulus: never listed
        "response_time": (5, "s"),  # the default itself
    })
    assert set(widened) == {"timing_tolerance", "leave_silence_time", "drlc_randomized_events"}
    assert widened["timing_tolerance"].startswith("10 s (longer than the default 2 s")


def test_shipped_profiles_and_documented_presets_keep_the_bounds():
    for path in sorted((ROOT / "profiles" / "dut").glob("*.yaml")):
        load_dut_profile(path)  # would raise ProfileError on a PIXIT outside its bound
    bench = (ROOT / "docs" / "bench.md").read_text()
    start = bench.index("The self-tests use")
    paragraph = bench[start:bench.index("\n\n", start)]
    presets = re.findall(r"\b([a-z_]+)=([0-9]+(?:\.[0-9]+)? ?[a-z]*)", paragraph)
    readme = (ROOT / "README.md").read_text()
    presets += re.findall(r"--pixit ([a-z_]+)=([0-9]+(?:\.[0-9]+)? ?[a-z]*)", readme)
    assert len(presets) >= 10, presets
    for name, text in presets:
        pixits.check_text(name, text)
    pixits.check_relations({name: pixits.magnitude(text) for name, text in presets})


def test_a_pixit_option_outside_its_bound_is_one_option_error():
    for text, words in (("join_timeout=-5s", ["--pixit join_timeout=-5s", "below its minimum 1 s"]),
                        ("timing_tolerance=3700s", ["--pixit timing_tolerance=3700s", "maximum 30 s"])):
        key, _, value = text.partition("=")
        options = RunOptions(dut=parse_dut("sim:ihd"), radio=None, profile=None, bench=None, pixit={key: value})
        with pytest.raises(OptionError) as caught:
            options.check()
        assert all(word in str(caught.value) for word in words), caught.value


def test_an_override_that_breaks_a_bound_between_pixits_names_the_override():
    profile = load_dut_profile(ROOT / "profiles" / "dut" / "sim-openseg.yaml")
    options = RunOptions(dut=parse_dut("sim:openseg"), radio=None, profile=None, bench=None,
                         pixit={"meter_read_interval": "1s"})  # the profile's tolerance is 2 s
    with pytest.raises(OptionError, match=r"^--pixit meter_read_interval=1s: .*at most the read interval"):
        options.check_profile(profile)
    options = RunOptions(dut=parse_dut("sim:openseg"), radio=None, profile=None, bench=None,
                         pixit={"meter_read_interval": "2s", "meter_read_tolerance": "2s"})
    options.check_profile(profile)  # a tighter interval with a tolerance that fits it

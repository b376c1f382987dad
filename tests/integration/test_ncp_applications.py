"""The application features on the real-bench path: the golden ESI's Time, Price, Messaging and DRLC servers
on unmodified bellows over the NCP emulator, the reference device driven through its CLI (the user's opt-out,
opt-in and message confirmation are CLI commands), frames judged from the emulator's live capture.

Real time. The IHD's Time, Price and Messaging cases take about 8 minutes, 4 of them the minutes of message
windows in three cases (a start a minute ahead, 1-minute durations, a confirmation a minute later): those three
run on an emulator of their own beside the rest, in another realtime lane. The whole DRLC feature takes
about 30 minutes even with 1-minute events, so the self-test runs one case of each kind against the
reference PCT, in about 6 minutes, in two parts on two emulators:
- a scheduled event's lifecycle;
- opting out before the start, opting out while the event runs, and opting back in;
- a signed Report Event Status, verified with the certificate the golden learnt in the NCP's CBKE;
- an event on the ESI's network time.
"""

from __future__ import annotations

import pytest
from test_ncp_joining import ROOT, run_on_emulator  # tests/integration is on sys.path (no package)

from harness.cases import catalogue
from harness.profiles import load_dut_profile
from harness.results import read_journal

#: The cases that wait minutes to hours of real time: for a price's start and end (TC-PRICE-1.10, TC-PRICE-1.13:
#: about 40 minutes of price windows) and for the DUT's resynchronisation period (TC-TIME-1.6, TC-TIME-1.7: an
#: hour for the reference devices). Left out here; the simulated runs judge them (the emulator's CLI reading of
#: the current price: tests/integration/test_ncp_emulator.py).
LONG_WAITS = ("TC-PRICE-1.10", "TC-PRICE-1.13", "TC-TIME-1.6", "TC-TIME-1.7")
#: What the reference IHD claims of Time, Price and Messaging (profiles/dut/ref-ihd-cli.yaml; TC-TIME-1.2 and the
#: event-stamped examples need a DRLC client), but the long waits.
_IHD_PICS = load_dut_profile(ROOT / "profiles/dut/ref-ihd-cli.yaml").pics  # with the role items it mirrors
IHD_CASES = {case.key for case in catalogue() if case.area in ("time", "price", "messaging")
             and case.applicable(_IHD_PICS) and case.case_id not in LONG_WAITS}
PCT_CASES = {"TC-DRLC-1.1", "TC-DRLC-1.14", "TC-DRLC-1.15", "TC-DRLC-1.16", "TC-DRLC-1.21", "TC-TIME-1.2"}
#: Events as short as DRLC allows (Duration is in minutes) and a lead time the emulator meets on a busy machine.
SHORT_DRLC = ("--pixit=drlc_start_lead=20s", "--pixit=drlc_event_duration=1min")


def _verdicts(run) -> dict[str, object]:
    _run, cases, complete = read_journal(run.artifacts)
    assert complete, run.report
    return {case.case_id: case for case in cases}


#: The Messaging cases that wait out minutes of message windows (about 75 s each).
MINUTE_CASES = ("TC-MSG-1.5", "TC-MSG-1.6", "TC-MSG-1.10")
_NOT_LONG = " and ".join(f"not {case}" for case in LONG_WAITS)
_NOT_MINUTE = " and ".join(f"not {case}" for case in MINUTE_CASES)
#: The three parts of the Time, Price and Messaging run (-k on the case ids), each on an emulator of its own in
#: a realtime lane: together every case of the three feature files but the long waits, each judged once (each
#: part passes exactly its own cases).
PARTS = {
    "minute-long-messages": " or ".join(MINUTE_CASES),
    "price": f"TC-PRICE and {_NOT_LONG}",
    "time-and-other-messages": f"not TC-PRICE and {_NOT_MINUTE} and {_NOT_LONG}",
}


def _part_cases(part: str) -> set[str]:
    if part == "minute-long-messages":
        return {key for key in IHD_CASES if key.split("[")[0] in MINUTE_CASES}
    if part == "price":
        return {key for key in IHD_CASES if key.startswith("TC-PRICE")}
    return {key for key in IHD_CASES if not key.startswith("TC-PRICE") and key.split("[")[0] not in MINUTE_CASES}


@pytest.mark.parametrize("part", [pytest.param("minute-long-messages", marks=pytest.mark.realtime(235)),
                                  pytest.param("price", marks=pytest.mark.realtime(210)),
                                  pytest.param("time-and-other-messages", marks=pytest.mark.realtime(265))])
def test_time_price_and_messaging_run_through_bellows_and_the_dut_cli(tmp_path, part):
    run = run_on_emulator(tmp_path, "steps/test_time.py", "steps/test_price.py", "steps/test_messaging.py",
                          "-k", PARTS[part])
    expected = _part_cases(part)
    cases = _verdicts(run)
    passed = {case_id for case_id, case in cases.items() if case.verdict == "passed"}
    failed = {case_id: (case.verdict, case.message) for case_id, case in cases.items()
              if case.verdict != "passed" and case_id in expected}
    assert not failed, f"{failed}\n{run.report}"
    assert passed == expected, f"{sorted(passed)}\n{run.report}"
    assert run.done.returncode == 7, run.report  # PARTIAL: one feature of the suite, with bench PIXITs


#: The DRLC run in two parts, each on an emulator of its own in a realtime lane: the user's actions (their own
#: log read over the DUT's CLI), and a lifecycle, a signed report and an event on the ESI's time.
DRLC_PARTS = {
    "user-actions": (("opts_out", "opts_back"), {"TC-DRLC-1.14", "TC-DRLC-1.15", "TC-DRLC-1.16"}),
    "lifecycle-signing-and-time": (("scheduled_event_is_received", "signs_its_event_status",
                                    "load_control_events_run_on_the_esis_time"),
                                   {"TC-DRLC-1.1", "TC-DRLC-1.21", "TC-TIME-1.2"}),
}
assert set().union(*(cases for _, cases in DRLC_PARTS.values())) == PCT_CASES


@pytest.mark.parametrize("part", [pytest.param("user-actions", marks=pytest.mark.realtime(180)),
                                  pytest.param("lifecycle-signing-and-time", marks=pytest.mark.realtime(180))])
def test_drlc_lifecycle_user_actions_and_signed_reports_run_through_bellows(tmp_path, part):
    scenarios, expected = DRLC_PARTS[part]
    run = run_on_emulator(tmp_path, "steps/test_drlc.py", "steps/test_time.py", "-k", " or ".join(scenarios),
                          *SHORT_DRLC, "--artifacts-always", device="pct")
    cases = _verdicts(run)
    verdicts = {case_id: case.verdict for case_id, case in cases.items()}
    assert verdicts.keys() == expected, f"{sorted(verdicts)}\n{run.report}"
    failed = {case_id: (case.verdict, case.message) for case_id, case in cases.items() if case.verdict != "passed"}
    assert not failed, f"{failed}\n{run.report}"
    assert run.done.returncode == 7, run.report  # PARTIAL: one feature of the suite, with bench PIXITs
    if part == "user-actions":
        # The user's actions went through the DUT control: the DUT's own log, read over its CLI, shows them (the
        # event id is the largest uint32, TC-DRLC-1.16's boundary, through the CLI as well).
        dut_log = (run.artifacts / "TC-DRLC-1.16" / "dut-log.txt").read_text()
        assert "the user opts out of event 4294967295 (shown)" in dut_log and (
            "the user opts into event 4294967295 (shown)" in dut_log)

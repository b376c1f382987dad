"""The application features on the real-bench path: the golden ESI's Time, Price, Messaging and DRLC servers
on unmodified bellows over the NCP emulator, the reference device driven through its CLI (the user's opt-out,
opt-in and message confirmation are CLI commands), frames judged from the emulator's live capture.

Real time. The IHD's Time, Price and Messaging cases take about 8 minutes, 4 of them the minutes of message
windows in three cases (a start a minute ahead, 1-minute durations, a confirmation a minute later): those three
run on an emulator of their own beside the rest, in another realtime lane. The whole DRLC feature takes
about 30 minutes even with 1-minute events, so the self-test runs one case of each kind against the
reference PCT, in about 8 minutes:
- a scheduled event's lifecycle;
- opting out before the start, opting out while the event runs, and opting back in;
- a signed Report Event Status, verified with the certificate the golden learnt in the NCP's CBKE;
- an event on the ESI's network time.
"""

from __future__ import annotations

import pytest
from test_ncp_joining import run_on_emulator  # tests/integration is on sys.path (no package)

from harness.cases import catalogue
from harness.results import read_journal

#: What the reference IHD claims of Time, Price and Messaging (profiles/dut/ref-ihd-cli.yaml): every case but
#: TC-TIME-1.2, which needs a DRLC client.
IHD_CASES = {"TC-TIME-1.1", "TC-TIME-1.3", "TC-TIME-1.4", *(f"TC-PRICE-1.{n}" for n in range(1, 5)),
             *(case.key for case in catalogue() if case.area == "messaging")}  # the IHD claims all of Messaging
PCT_CASES = {"TC-DRLC-1.1", "TC-DRLC-1.14", "TC-DRLC-1.15", "TC-DRLC-1.16", "TC-DRLC-1.21", "TC-TIME-1.2"}
#: Events as short as DRLC allows (Duration is in minutes) and a lead time the emulator meets on a busy machine.
SHORT_DRLC = ("--pixit=drlc_start_lead=20s", "--pixit=drlc_event_duration=1min")


def _verdicts(run) -> dict[str, object]:
    _run, cases, complete = read_journal(run.artifacts)
    assert complete, run.report
    return {case.case_id: case for case in cases}


#: The Messaging cases that wait out minutes of message windows (about 75 s each).
MINUTE_CASES = ("TC-MSG-1.5", "TC-MSG-1.6", "TC-MSG-1.10")
#: The two halves of the Time, Price and Messaging run (-k on the case ids): together every case of the three
#: feature files, each judged once (each half passes exactly its own cases).
HALVES = {"minute-long-messages": " or ".join(MINUTE_CASES), "the-rest": f"not ({' or '.join(MINUTE_CASES)})"}


@pytest.mark.parametrize("half", [pytest.param("minute-long-messages", marks=pytest.mark.realtime(235)),
                                  pytest.param("the-rest", marks=pytest.mark.realtime(250))])
def test_time_price_and_messaging_run_through_bellows_and_the_dut_cli(tmp_path, half):
    run = run_on_emulator(tmp_path, "steps/test_time.py", "steps/test_price.py", "steps/test_messaging.py",
                          "-k", HALVES[half])
    expected = set(MINUTE_CASES) if half == "minute-long-messages" else IHD_CASES - set(MINUTE_CASES)
    cases = _verdicts(run)
    passed = {case_id for case_id, case in cases.items() if case.verdict == "passed"}
    failed = {case_id: (case.verdict, case.message) for case_id, case in cases.items()
              if case.verdict != "passed" and case_id in expected}
    assert not failed, f"{failed}\n{run.report}"
    assert passed == expected, f"{sorted(passed)}\n{run.report}"
    assert run.done.returncode == 7, run.report  # PARTIAL: one feature of the suite, with bench PIXITs


@pytest.mark.realtime(335)
def test_drlc_lifecycle_user_actions_and_signed_reports_run_through_bellows(tmp_path):
    selection = " or ".join(("scheduled_event_is_received", "opts_out", "opts_back", "signs_its_event_status",
                             "load_control_events_run_on_the_esis_time"))
    run = run_on_emulator(tmp_path, "steps/test_drlc.py", "steps/test_time.py", "-k", selection, *SHORT_DRLC,
                          "--artifacts-always", device="pct")
    cases = _verdicts(run)
    verdicts = {case_id: case.verdict for case_id, case in cases.items()}
    assert verdicts.keys() == PCT_CASES, f"{sorted(verdicts)}\n{run.report}"
    failed = {case_id: (case.verdict, case.message) for case_id, case in cases.items() if case.verdict != "passed"}
    assert not failed, f"{failed}\n{run.report}"
    assert run.done.returncode == 7, run.report  # PARTIAL: one feature of the suite, with bench PIXITs
    # The user's actions went through the DUT control: the DUT's own log, read over its CLI, shows them.
    dut_log = (run.artifacts / "TC-DRLC-1.16" / "dut-log.txt").read_text()
    assert "the user opts out of event 118 (shown)" in dut_log and "the user opts into event 118 (shown)" in dut_log

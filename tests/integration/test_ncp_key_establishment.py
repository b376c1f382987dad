"""The key-establishment feature end to end on the real-bench path: CBKE between the reference IHD and the
golden ESI whose cryptography runs in the NCP emulator's CBKE library, driven by unmodified bellows
(generateCbkeKeys / calculateSmacs / clearTemporaryDataMaybeStoreLinkKey and their callbacks over the pty).

Real time, about 2.5 minutes.
"""

from __future__ import annotations

from test_ncp_joining import bench_profile, run_suite  # tests/integration is on sys.path (no package)

from harness.results import read_journal
from harness.sim.ncp.process import EmulatorProcess

#: An open gap of the real-time emulator path (issue 9): now and then a reference device's APS frame to the
#: Trust Center gets no APS ack through the emulator (seen on TC-KE-1.1 after the golden engine swap, and once on
#: TC-KE-4.1). Such a case may fail with exactly this error, at most MAX_INTERMITTENT of them in a run; any other
#: failure, or more of them, fails this test.
INTERMITTENT = "ApsDeliveryError"
MAX_INTERMITTENT = 2
#: The reference IHD's profile claims suite 1 only.
NOT_APPLICABLE = {"TC-KE-1.1[2]"}


def test_key_establishment_runs_on_the_ncps_cbke_library(tmp_path):
    pcap = tmp_path / "air.pcap"
    artifacts = tmp_path / "run"
    with EmulatorProcess(device="ihd", pcap=pcap) as emulator:
        done = run_suite(emulator, bench_profile(tmp_path, pcap), artifacts, "steps/test_key_establishment.py")
        emulator_log = emulator.stderr_text()
    _run, cases, complete = read_journal(artifacts)
    report = f"{done.stdout[-4000:]}\n--- emulator stderr ---\n{emulator_log[-2000:]}"
    assert complete, report
    verdicts = {case.case_id: case for case in cases}
    assert len(verdicts) == 20, sorted(verdicts)
    intermittent = []
    for case_id, case in verdicts.items():
        if case_id in NOT_APPLICABLE:
            assert case.verdict == "not_applicable", (case_id, case.verdict)
        elif case.verdict in ("failed", "error") and case.message and INTERMITTENT in (
                case.message.observation + case.message.text):
            intermittent.append(case_id)
        else:
            assert case.verdict == "passed", (case_id, case.verdict, case.message, report)
    assert len(intermittent) <= MAX_INTERMITTENT, (intermittent, report)

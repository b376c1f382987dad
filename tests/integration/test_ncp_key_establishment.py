"""The key-establishment feature end to end on the real-bench path: CBKE between the reference IHD and the
golden ESI whose cryptography runs in the NCP emulator's CBKE library, driven by unmodified bellows
(generateCbkeKeys / calculateSmacs / clearTemporaryDataMaybeStoreLinkKey and their callbacks over the pty).

Real time, about 2.5 minutes.
"""

from __future__ import annotations

from test_ncp_joining import bench_profile, run_suite  # tests/integration is on sys.path (no package)

from harness.results import read_journal
from harness.sim.ncp.process import EmulatorProcess

#: Open gaps of the real-time emulator path (issue 9): these cases may pass or fail here, each for the named
#: reason; every other applicable case must pass. TC-KE-1.1 swaps the golden's engine for one offering a single
#: suite (the NCP's own library on this path); the golden's Initiate and the DUT's then cross and both sides
#: terminate with BAD_MESSAGE.
OPEN_GAPS = {"TC-KE-1.1[1]": "crossing Initiate frames after the golden engine swap"}
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
    for case_id, case in verdicts.items():
        if case_id in NOT_APPLICABLE:
            assert case.verdict == "not_applicable", (case_id, case.verdict)
        elif case_id in OPEN_GAPS:
            assert case.verdict in ("passed", "failed"), (case_id, case.verdict, case.message)
        else:
            assert case.verdict == "passed", (case_id, case.verdict, case.message, report)

"""The key-establishment feature end to end on the real-bench path: CBKE between the reference IHD and the
golden ESI whose cryptography runs in the NCP emulator's CBKE library, driven by unmodified bellows
(generateCbkeKeys / calculateSmacs / clearTemporaryDataMaybeStoreLinkKey and their callbacks over the pty).

Real time, about 2 minutes per run; suite 1 (the IHD's profile) and suites 1 and 2 (the profile with
SE.KE.SUITE2 claimed).
"""

from __future__ import annotations

import pytest
import yaml
from test_ncp_joining import ROOT, run_on_emulator  # tests/integration is on sys.path (no package)

from harness.results import read_journal

#: The reference IHD's profile claims suite 1 only.
NOT_APPLICABLE_SUITE1_ONLY = {"TC-KE-1.1[2]"}
KE_CASES = 20


def _golden_initiate_suites(pcap) -> list[int]:
    """The suite of every Initiate Key Establishment the golden (0x0000) sent, from the emulator's capture."""
    from harness.verify.capture import Keyring, decode_pcap

    network_key = bytes.fromhex(yaml.safe_load((ROOT / "profiles" / "bench" / "ncp-emulator.yaml").read_text())
                                ["network_key"].replace(":", ""))
    suites = []
    for frame in decode_pcap(pcap, Keyring(network_keys={0: network_key})):
        aps = frame.aps
        if aps is None or frame.nwk is None or frame.nwk.src != 0x0000 or getattr(aps, "cluster", None) != 0x0800:
            continue
        zcl = bytes(aps.payload)
        if len(zcl) >= 5 and zcl[0] & 0x03 == 0x01 and zcl[2] == 0x00:  # cluster-specific, command 0: Initiate
            suites.append(int.from_bytes(zcl[3:5], "little"))
    return suites


def _check_verdicts(run, not_applicable):
    _run, cases, complete = read_journal(run.artifacts)
    assert complete, run.report
    verdicts = {case.case_id: case for case in cases}
    assert len(verdicts) == KE_CASES, sorted(verdicts)
    for case_id, case in verdicts.items():
        if case_id in not_applicable:
            assert case.verdict == "not_applicable", (case_id, case.verdict)
        else:
            assert case.verdict == "passed", (case_id, case.verdict, case.message, run.report)


@pytest.mark.realtime(125)
def test_key_establishment_runs_on_the_ncps_cbke_library(tmp_path):
    run = run_on_emulator(tmp_path, "steps/test_key_establishment.py")
    _check_verdicts(run, NOT_APPLICABLE_SUITE1_ONLY)
    # Suite 1 throughout (suite 2 only where a case offers the DUT a suite it does not claim).
    suites = _golden_initiate_suites(run.pcap)
    assert suites.count(0x0001) >= 10, suites


@pytest.mark.realtime(125)
def test_suite_2_runs_on_the_ncps_283k1_library(tmp_path):
    """The reference IHD claiming suites 1 and 2: every case runs with suite 2 (the highest common suite)
    through the NCP's *283k1 commands, except TC-KE-1.1[1], where the golden offers suite 1 only."""
    profile = yaml.safe_load((ROOT / "profiles" / "dut" / "ref-ihd-cli.yaml").read_text())
    profile["pics"]["SE.KE.SUITE2"] = True
    path = tmp_path / "ihd-suite2.yaml"
    path.write_text(yaml.safe_dump(profile))
    run = run_on_emulator(tmp_path, "steps/test_key_establishment.py", profile=str(path))
    _check_verdicts(run, set())
    suites = _golden_initiate_suites(run.pcap)
    assert suites.count(0x0002) >= 10 and 0x0001 in suites, suites

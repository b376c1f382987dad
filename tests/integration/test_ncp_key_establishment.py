"""The key-establishment feature end to end on the real-bench path: CBKE between the reference IHD and the
golden ESI whose cryptography runs in the NCP emulator's CBKE library, driven by unmodified bellows
(generateCbkeKeys / calculateSmacs / clearTemporaryDataMaybeStoreLinkKey and their callbacks over the pty).

Real time, about 2.5 minutes per run (35 cases); suite 1 (the IHD's profile) and suites 1 and 2 (the profile with
SE.KE.SUITE2 claimed).
"""

from __future__ import annotations

import pytest
import yaml
from test_ncp_joining import ROOT, run_on_emulator  # tests/integration is on sys.path (no package)

from harness.cases import catalogue
from harness.results import read_journal

#: The reference IHD's profile claims suite 1 only.
NOT_APPLICABLE_SUITE1_ONLY = {"TC-KE-1.1[2]", "TC-KE-4.12[2]"}
#: Every case of the key-establishment feature, as initiator and as responder.
#: Cases an EZSP golden cannot run, each a bench error there (never the DUT's failure), with the reason it gives.
#: TC-KE-4.6 probes with the key of the exchange whose MACU the golden spoiled: the NCP's CBKE library derives
#: that key inside the NCP (bellows sees only the SMACs), so the probe cannot be secured.
#: TC-KE-4.13 needs a second golden-side node initiating towards the DUT; a bench has one EZSP radio.
NOT_ON_NCP = {"TC-KE-4.6": "its engine keeps keys to itself", "TC-KE-4.13": "the bench has one EZSP radio"}
KE_CASES = {case.key for case in catalogue() if case.area == "key_establishment"}


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
    assert set(verdicts) == KE_CASES, sorted(verdicts)
    wrong = {}
    for case_id, case in verdicts.items():
        if case_id in not_applicable:
            if case.verdict != "not_applicable":
                wrong[case_id] = case.verdict
        elif case_id in NOT_ON_NCP:
            if case.verdict != "error" or NOT_ON_NCP[case_id] not in str(case.message):
                wrong[case_id] = (case.verdict, case.message)
        elif case.verdict != "passed":
            wrong[case_id] = (case.verdict, case.message)
    assert not wrong, (wrong, run.report)


@pytest.mark.realtime(155)
def test_key_establishment_runs_on_the_ncps_cbke_library(tmp_path):
    run = run_on_emulator(tmp_path, "steps/test_key_establishment.py")
    _check_verdicts(run, NOT_APPLICABLE_SUITE1_ONLY)
    # Suite 1 throughout (suite 2 only where a case offers the DUT a suite it does not claim).
    suites = _golden_initiate_suites(run.pcap)
    assert suites.count(0x0001) >= 10, suites


@pytest.mark.realtime(155)
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

"""A DUT that forms the network, end to end on the real-bench path: the reference ESI on the NCP emulator's air
(`python -m harness.emulator ncp --device esi`), driven through its CLI pty (the head-end actions), and the golden
radio, unmodified bellows on the emulated NCP, joining the ESI's network as a router through EZSP commands
(harness/radio/ezsp_han.py). The Trust Center, Key Establishment (the ESI as server, the NCP's CBKE library as
initiator) and attribute cases run; frames are judged from the emulator's live pcap.

Real time: about two minutes, with the permit window and the key update time at short PIXITs.
"""

from __future__ import annotations

import pytest
from test_ncp_joining import run_on_emulator  # tests/integration is on sys.path (no package)

from harness.cases import catalogue
from harness.profiles import load_dut_profile
from harness.results import read_journal
from tests.support.suite_process import ROOT

#: What one EZSP radio cannot play, each a bench error (never the DUT's failure), with the words that say why.
NOT_ON_NCP = {
    "TC-TC-2.1": "insistent association",  # the probe that associates against beacons denying it
    "TC-TC-4.2": "the bench has one EZSP radio",  # a second HAN device (an end device)
    "TC-TC-6.1": "the bench has one EZSP radio",  # 50 HAN devices
    "TC-KE-4.6": "its engine keeps keys to itself",  # the NCP derives the spoiled exchange's key inside itself
    "TC-KE-4.13": "the bench has one EZSP radio",  # a second initiator
}
#: Short windows for a self-test, inside their bounds: the permit window both ends are probed at, the key update.
PIXITS = ("--pixit=tc_permit_window=10s", "--pixit=tc_key_update_time=5s")


@pytest.mark.realtime(120)
def test_trust_center_key_establishment_and_attribute_cases_pass_on_the_emulated_esi(tmp_path):
    run = run_on_emulator(tmp_path, "steps/test_trust_center.py", "steps/test_key_establishment.py",
                          "steps/test_attributes.py", *PIXITS, device="esi")
    _run, cases, complete = read_journal(run.artifacts)
    verdicts = {case.case_id: case for case in cases}  # the journal's case ids are the keys
    pics = load_dut_profile(ROOT / "profiles" / "dut" / "ref-esi-cli.yaml").pics
    applicable = {c.key for c in catalogue() if c.area in ("trust_center", "key_establishment", "attributes")
                  and c.applicable(pics)}
    applicable -= {"TC-KE-4.12[2]"}  # suite 2: the ESI's profile claims suite 1 only (a step's claim, not a tag)
    assert complete, run.report
    ran = {key for key, case in verdicts.items() if case.verdict != "not_applicable"}
    assert ran == applicable, (sorted(applicable ^ ran), run.report)
    wrong = {}
    for key, case in verdicts.items():
        if case.verdict == "not_applicable":
            continue
        if key.split("[")[0] in NOT_ON_NCP:
            message = case.message.model_dump_json() if case.message else ""
            if case.verdict != "error" or NOT_ON_NCP[key.split("[")[0]] not in message:
                wrong[key] = (case.verdict, message[:300])
        elif case.verdict != "passed":
            wrong[key] = (case.verdict, case.message)
    assert not wrong, (wrong, run.report)
    assert any(key.startswith("TC-TC-") and case.verdict == "passed" for key, case in verdicts.items())

"""Issue 17's security cases against the reference devices, judged by their messages (the fault matrix checks
only which cases fail): TC-KE-3.3 passes an EmberZNet-like refusal and fails a success; TC-JOIN-1.9 fails a
frame secured at level 4 and a level subfield on the air, naming expected and observed level and the bytes."""

from __future__ import annotations

import pytest

from tests.integration.test_fault_matrix import run_suite

KE_3_3 = ("TC-KE-3.3[its install-code link key]", "TC-KE-3.3[no APS security]")


def test_the_emberznet_like_ihd_refuses_with_not_authorized_and_passes_tc_ke_3_3(tmp_path):
    results = run_suite(tmp_path, "ihd-ember", paths=("steps/test_key_establishment.py",),
                        options=("--case", "TC-KE-3.3*"))
    assert {key: results[key][0] for key in KE_3_3} == dict.fromkeys(KE_3_3, "passed"), results


def test_a_default_response_success_to_an_unprotected_command_fails_tc_ke_3_3(tmp_path):
    results = run_suite(tmp_path, "ihd-ember", "answers-unprotected-with-success",
                        paths=("steps/test_key_establishment.py",), options=("--case", "TC-KE-3.3*"))
    outcome, message = results["TC-KE-3.3[no APS security]"]
    assert outcome == "failed", results
    assert "Default Response to command 0x00 with status 0x00" in message and "without APS security" in message
    assert "NOT_AUTHORIZED" in message and "Drop clus" in message  # the rule cites its source
    assert results["TC-KE-3.3[its install-code link key]"][0] == "passed"


@pytest.mark.parametrize(("fault", "observed"), [
    ("nwk-security-level-4", "its MIC does not verify at level 5, secured at level 4 (ENC, no MIC)"),
    ("security-level-on-air", "observed level subfield 5"),
])
def test_tc_join_1_9_fails_a_frame_not_at_level_5_with_its_bytes(tmp_path, fault, observed):
    results = run_suite(tmp_path, "ihd", fault, paths=("steps/test_joining.py",), options=("--case", "TC-JOIN-1.9"))
    outcome, message = results["TC-JOIN-1.9"]
    assert outcome == "failed", results
    assert observed in message and "expected" in message and "raw=" in message
    assert "Zigbee spec 4.5.1.1.1" in message and "SE 1.x 5.4" in message


def test_tc_join_1_9_passes_the_conformant_ihd(tmp_path):
    results = run_suite(tmp_path, "ihd", paths=("steps/test_joining.py",), options=("--case", "TC-JOIN-1.9"))
    assert results["TC-JOIN-1.9"][0] == "passed", results

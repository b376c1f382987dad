"""The KE cases follow the DUT's suite claims: with suite 2 claimed (--pics SE.KE.SUITE2=true) the reference
IHD gets suite 1 and 2 certificates, TC-KE-1.1[2] runs and passes, and KeyEstablishmentSuite must read 0x0003;
without the claim TC-KE-1.1[2] is not applicable. Each run is the real suite in a subprocess."""

from __future__ import annotations

import pytest

from tests.integration.test_fault_matrix import run_suite
from tests.support.suite_process import ROOT

FEATURE_STEPS = str(ROOT / "steps" / "test_key_establishment.py")


# Under xdist the tests that share the suite-2 run (a module fixture) stay on one worker, which builds it once.
pytestmark = pytest.mark.xdist_group("ke-suite-claims")


@pytest.fixture(scope="module")
def suite2_results(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("suite2"), "--pics=SE.KE.SUITE2=true")


def _run(tmp, *extra):
    return run_suite(tmp, "ihd", paths=(FEATURE_STEPS,), options=extra)  # the KE feature alone


def test_suite_2_claimed_runs_and_passes_the_suite_2_case(suite2_results):
    assert suite2_results["TC-KE-1.1[2]"][0] == "passed", suite2_results["TC-KE-1.1[2]"]
    assert suite2_results["TC-KE-1.1[1]"][0] == "passed"


def test_suite_2_claimed_every_ke_case_passes(suite2_results):
    bad = {k: v for k, v in suite2_results.items() if v[0] != "passed"}
    assert not bad


def test_suite_2_not_claimed_makes_the_suite_2_case_not_applicable(tmp_path):
    results = _run(tmp_path)
    outcome, message = results["TC-KE-1.1[2]"]
    assert outcome == "skipped" and "not applicable" in message and "SE.KE.SUITE2" in message
    assert results["TC-KE-3.5[server]"][0] == "passed"

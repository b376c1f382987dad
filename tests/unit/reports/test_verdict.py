"""Overall verdict rules, totals and the PICS hash."""

from __future__ import annotations

import hashlib

import pytest

from harness.results import (
    DutIdentity,
    OverallVerdict,
    RunScope,
    Totals,
    Verdict,
    assess,
    identity_mismatches,
    pics_hash,
)

from .samples import case

P, F, E, NA, B = Verdict.PASSED, Verdict.FAILED, Verdict.ERROR, Verdict.NOT_APPLICABLE, Verdict.BLOCKED


def _cases(*verdicts: tuple[Verdict, bool]):
    return [case(f"TC-X-{n}", verdict, mandatory=mandatory) for n, (verdict, mandatory) in enumerate(verdicts)]


@pytest.mark.parametrize(
    ("verdicts", "complete", "expected"),
    [
        # every applicable mandatory case passed, nothing errored or was blocked
        ([(P, True), (P, True)], True, OverallVerdict.CONFORMANT),
        ([(P, True), (NA, True), (NA, False)], True, OverallVerdict.CONFORMANT),
        # a non-mandatory failure does not decide conformance (the plugin marks what is mandatory)
        ([(P, True), (F, False)], True, OverallVerdict.CONFORMANT),
        ([(P, True), (F, True)], True, OverallVerdict.NOT_CONFORMANT),
        # an observed mandatory failure stands whatever else happened
        ([(F, True), (E, True), (B, True)], False, OverallVerdict.NOT_CONFORMANT),
        ([(P, True), (E, True)], True, OverallVerdict.INCONCLUSIVE),
        ([(P, True), (E, False)], True, OverallVerdict.INCONCLUSIVE),
        ([(P, True), (B, True)], True, OverallVerdict.INCONCLUSIVE),
        ([(P, True), (P, True)], False, OverallVerdict.INCONCLUSIVE),
        # nothing mandatory was tested: nothing to be conformant with
        ([(NA, True), (P, False)], True, OverallVerdict.INCONCLUSIVE),
        ([], True, OverallVerdict.INCONCLUSIVE),
    ],
)
def test_overall_verdict(verdicts, complete, expected) -> None:
    cases = _cases(*verdicts)
    assert assess(cases, complete, _complete_scope(cases)).verdict is expected


def _complete_scope(cases) -> RunScope:
    return RunScope(applicable=[c.case_id for c in cases])


@pytest.mark.parametrize(("scope", "words"), [
    (RunScope(selection=["-k 'announces'"], applicable=["TC-X-0", "TC-X-1"]), ["selection: -k 'announces'"]),
    (RunScope(overrides=["--pixit timing_tolerance=3s"], applicable=["TC-X-0", "TC-X-1"]),
     ["overridden: --pixit timing_tolerance=3s"]),
    (RunScope(applicable=["TC-X-0", "TC-X-1", "TC-Y-9"]), ["1 applicable case(s) of 3 did not run: TC-Y-9"]),
    (None, ["no scope"]),
])
def test_a_selection_an_override_or_an_unrun_case_is_partial_never_conformant(scope, words) -> None:
    assessment = assess(_cases((P, True), (P, True)), True, scope)
    assert assessment.verdict is OverallVerdict.PARTIAL and assessment.verdict.exit_code == 7
    for word in words:
        assert any(word in reason for reason in assessment.reasons), (word, assessment.reasons)


def test_a_failure_in_a_partial_run_still_stands() -> None:
    scope = RunScope(selection=["--case TC-X-1"], applicable=["TC-X-0", "TC-X-1"])
    assert assess(_cases((F, True)), True, scope).verdict is OverallVerdict.NOT_CONFORMANT


def test_a_complete_run_is_conformant_and_exits_zero() -> None:
    cases = _cases((P, True), (NA, True))
    assessment = assess(cases, True, _complete_scope(cases))
    assert assessment.verdict is OverallVerdict.CONFORMANT and assessment.verdict.exit_code == 0


@pytest.mark.parametrize(("observed", "expected_problem"), [
    (DutIdentity(manufacturer="Acme", model="IHD-7"), None),
    (DutIdentity(manufacturer="Acme", model="PCT-2"), "model: the profile declares 'IHD-7', the DUT answers 'PCT-2'"),
    (DutIdentity(), None),  # ManufacturerName and ModelIdentifier are optional: not served contradicts nothing
    (DutIdentity(manufacturer="Other"), "manufacturer: the profile declares 'Acme', the DUT answers 'Other'"),
])
def test_the_dut_on_the_air_must_be_the_one_the_profile_describes(observed, expected_problem) -> None:
    declared = DutIdentity(manufacturer="Acme", model="IHD-7")
    problems = identity_mismatches(declared, observed)
    cases = _cases((P, True))
    assessment = assess(cases, True, _complete_scope(cases), problems)
    if expected_problem is None:
        assert problems == [] and assessment.verdict is OverallVerdict.CONFORMANT
    else:
        assert any(expected_problem in p for p in problems), problems
        assert assessment.verdict is OverallVerdict.INCONCLUSIVE and assessment.verdict.exit_code == 6
        assert any("not the DUT the profile describes" in r for r in assessment.reasons)


def test_reasons_name_what_decided() -> None:
    failed = assess([case("TC-JOIN-1.2", F), case("TC-JOIN-1.3", E)], True)
    assert failed.reasons == ("mandatory case(s) failed: TC-JOIN-1.2",)
    reasons = " | ".join(assess([case("TC-A", E), case("TC-B", B)], False).reasons)
    assert "incomplete" in reasons and "1 case(s) ended in a bench error" in reasons and "1 case(s) blocked" in reasons


def test_totals() -> None:
    totals = Totals.of(_cases((P, True), (P, False), (F, True), (E, True), (NA, True), (NA, True), (B, False)))
    assert (totals.passed, totals.failed, totals.error, totals.not_applicable, totals.blocked) == (2, 1, 1, 2, 1)
    assert totals.total == 7


def test_pics_hash_is_sha256_of_sorted_canonical_json() -> None:
    pics = {"SE.PRICE.C": True, "SE.DRLC.C": False, "SE.KE.S": True}
    expected = hashlib.sha256(b'{"SE.DRLC.C":false,"SE.KE.S":true,"SE.PRICE.C":true}').hexdigest()
    assert pics_hash(pics) == expected
    assert pics_hash(dict(reversed(list(pics.items())))) == expected
    assert pics_hash({**pics, "SE.DRLC.C": True}) != expected

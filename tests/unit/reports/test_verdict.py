"""Overall verdict rules, totals and the PICS hash."""

from __future__ import annotations

import hashlib

import pytest

from harness.results import OverallVerdict, Totals, Verdict, assess, pics_hash

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
    assert assess(_cases(*verdicts), complete).verdict is expected


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

"""JUnit properties, merge and the nightly diff on JUnit files written by the test."""

from __future__ import annotations

from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml, Properties, Property, Skipped, TestCase, TestSuite

from harness.results import CaseMessage, Verdict
from reports.__main__ import main
from reports.junit import JUnitFileError, add_suite_properties, apply_verdicts, diff, merge

from .samples import case, run_info


def _case(name: str, outcome: str = "passed", time: float = 1.0, classname: str = "steps.test_joining"):
    case = TestCase(name, classname=classname, time=time)
    if outcome == "failed":
        case.result = [Failure("assert admitted is False")]
    elif outcome == "error":
        case.result = [Error("serial timeout")]
    elif outcome == "skipped":
        case.result = [Skipped("PICS SE.DRLC.C not claimed")]
    return case


def _junit(path: Path, *cases: TestCase, properties: dict[str, str] | None = None, name="pytest") -> Path:
    suite = TestSuite(name)
    for name_, value in (properties or {}).items():
        suite.add_property(name_, value)
    suite.add_testcases(list(cases))
    xml = JUnitXml()
    xml.add_testsuite(suite)
    xml.write(str(path))
    return path


def test_add_suite_properties(tmp_path: Path) -> None:
    path = _junit(tmp_path / "junit.xml", _case("test_join"))
    info = run_info()
    add_suite_properties(path, info)
    add_suite_properties(path, info.model_copy(update={"suite_version": "v0.2.0"}))  # updated, not repeated
    suite = next(iter(JUnitXml.fromfile(str(path))))
    properties = [(p.name, p.value) for p in suite.properties()]
    assert properties == [
        ("dut.manufacturer", "Acme Metering"),
        ("dut.model", "IHD-7 <b>Pro</b>"),
        ("dut.firmware", "2.1.0"),
        ("dut.ieee", "00:0D:6F:00:00:00:10:01"),
        ("dut.device_type", "In-Home Display (0x0507)"),
        ("pics.sha256", info.pics_hash),
        ("suite.version", "v0.2.0"),
        ("bench.id", "lab-bench-3"),
    ]
    assert suite._elem[0].tag == "properties"  # first child, as the JUnit schema orders it
    assert [c.name for c in suite] == ["test_join"]


def test_merge_keeps_each_bench_suite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _junit(tmp_path / "a.xml", _case("test_join"), _case("test_leave", "failed"),
               properties={"bench.id": "bench-a"})
    b = _junit(tmp_path / "b.xml", _case("test_join"), properties={"bench.id": "bench-b"})
    assert main(["merge", str(tmp_path / "out.xml"), str(a), str(b)]) == 0
    assert "3 case(s) from 2 file(s)" in capsys.readouterr().out
    merged = JUnitXml.fromfile(str(tmp_path / "out.xml"))
    suites = list(merged)
    assert [{p.name: p.value for p in s.properties()}["bench.id"] for s in suites] == ["bench-a", "bench-b"]
    assert [len(s) for s in suites] == [2, 1]
    assert (merged.tests, merged.failures) == (3, 1)


def test_diff_finds_new_failures_fixes_flaky_and_slower(tmp_path: Path) -> None:
    old = _junit(
        tmp_path / "old.xml",
        _case("test_join", time=2.0), _case("test_leave", "failed"), _case("test_rejoin", time=2.0),
        _case("test_tiny", time=0.1), _case("test_key_update", time=10.0), _case("test_retry"),
        _case("test_bench", "passed"),
    )
    new = _junit(
        tmp_path / "new.xml",
        _case("test_join", "failed"),  # new failure
        _case("test_leave"),  # fix
        _case("test_rejoin", time=3.5),  # +75 % and +1.5 s: slower
        _case("test_tiny", time=0.9),  # +800 % but only +0.8 s: noise
        _case("test_key_update", time=14.0),  # +4 s but only +40 %: within bounds
        _case("test_retry", "failed"), _case("test_retry", "passed"),  # flaky: verdict changed on retry
        _case("test_bench", "error"),  # a new bench error: a regression for CI too, but never a DUT failure
        _case("test_new", "failed"),  # a new case that fails
    )
    result = diff(old, new)
    assert result.new_failures == [
        "steps.test_joining::test_join (failed, was passed)",
        "steps.test_joining::test_retry (failed, was passed)",  # a retry never hides the failure
        "steps.test_joining::test_new (failed, new case)",
    ]
    assert result.new_errors == ["steps.test_joining::test_bench (error, was passed)"]
    assert result.fixes == ["steps.test_joining::test_leave (was failed)"]
    assert result.flaky == ["steps.test_joining::test_retry (failed -> passed)"]
    assert result.slower == ["steps.test_joining::test_rejoin (2.00 s -> 3.50 s)"]
    assert result.regressed


def test_diff_thresholds_are_options(tmp_path: Path) -> None:
    old = _junit(tmp_path / "old.xml", _case("test_key_update", time=10.0))
    new = _junit(tmp_path / "new.xml", _case("test_key_update", time=14.0))
    assert diff(old, new).slower == []
    assert diff(old, new, max_slowdown=0.3).slower == ["steps.test_joining::test_key_update (10.00 s -> 14.00 s)"]
    assert diff(old, new, max_slowdown=0.3, min_slowdown_s=5).slower == []


def test_diff_keeps_benches_apart_and_known_flaky_is_not_a_regression(tmp_path: Path) -> None:
    flaky = (_case("test_join", "failed"), _case("test_join", "passed"))
    old = _junit(tmp_path / "old.xml", *flaky, properties={"bench.id": "a"})
    new = _junit(tmp_path / "new.xml", *flaky, properties={"bench.id": "a"})
    result = diff(old, new)
    assert result.still_flaky == ["[a/] steps.test_joining::test_join (failed -> passed)"]
    assert result.flaky == [] and result.new_failures == [] and not result.regressed
    # The same case on two benches in one merged file is two cases, not a retry.
    merge(tmp_path / "two.xml", [
        _junit(tmp_path / "a.xml", _case("test_join"), properties={"bench.id": "a"}),
        _junit(tmp_path / "b.xml", _case("test_join", "failed"), properties={"bench.id": "b"}),
    ])
    result = diff(tmp_path / "a.xml", tmp_path / "two.xml")
    assert result.flaky == []
    assert result.new_failures == ["[b/] steps.test_joining::test_join (failed, new case)"]


def test_cli_diff_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = _junit(tmp_path / "old.xml", _case("test_join"), _case("test_leave", "failed"))
    same = _junit(tmp_path / "same.xml", _case("test_join"), _case("test_leave"))
    worse = _junit(tmp_path / "worse.xml", _case("test_join", "failed"), _case("test_leave", "failed"))
    assert main(["diff", str(old), str(same)]) == 0
    assert capsys.readouterr().out.splitlines() == ["fixed: steps.test_joining::test_leave (was failed)",
                                                    "no regression"]
    assert main(["diff", str(old), str(worse)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "new failure: steps.test_joining::test_join (failed, was passed)", "regressed"]
    assert main(["diff", str(old), str(worse), "--max-slowdown", "-5"]) == 2


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "no such JUnit file"),
        ("<testsuites><testsuite>", "malformed XML"),
        ("not xml at all", "malformed XML"),
        ("<html><body/></html>", "not JUnit XML"),
    ],
)
def test_missing_and_malformed_files_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, problem: str
) -> None:
    good = _junit(tmp_path / "good.xml", _case("test_join"))
    bad = tmp_path / "bad.xml"
    if content is not None:
        bad.write_text(content)
    for argv in (["diff", str(good), str(bad)], ["diff", str(bad), str(good)],
                 ["merge", str(tmp_path / "out.xml"), str(good), str(bad)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and problem in err and str(bad) in err
    with pytest.raises(JUnitFileError, match=problem):
        diff(good, bad)


# -- JUnit agrees with the journal (apply_verdicts) and diff by case id ----------------------------------------

SITE = "/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages"
TRACE = f"{SITE}/harness/radio/sim.py:44: in open\n    raise SimRadioError\nE   SimRadioError: radio stopped answering"


def _pytest_case(name: str, case_id: str, outcome: str = "passed") -> TestCase:
    """A <testcase> as pytest's JUnit writer leaves it: a case_id property, and only pass/fail/error/skip."""
    item = _case(name, "passed")
    properties = Properties()
    properties.add_property(Property("case_id", case_id))
    item.append(properties)
    if outcome == "failed":
        failure = Failure("SimRadioError: radio stopped answering")
        failure.text = TRACE
        item.result = [failure]
    elif outcome == "error":
        item.result = [Error("failed on setup with NonConformance")]
    elif outcome == "skipped":
        skipped = Skipped("not applicable: the DUT does not claim PICS SE.DRLC.C", "pytest.skip")
        skipped.text = f"{SITE}/pytest_bdd/scenario.py:303: not applicable: the DUT does not claim PICS SE.DRLC.C"
        item.result = [skipped]
    return item


def _journal_cases():
    return [
        case("TC-JOIN-1.1", Verdict.PASSED),
        case("TC-JOIN-1.2", Verdict.FAILED, message=CaseMessage(expectation="no Transport Key",
                                                                 observation="Transport Key sent", rule="SE 5.4.1")),
        case("TC-JOIN-1.3", Verdict.ERROR, message=CaseMessage(text=TRACE)),
        case("TC-DRLC-1.1", Verdict.NOT_APPLICABLE, pics=["SE.DRLC.C"],
             message="not applicable: the DUT does not claim PICS SE.DRLC.C"),
        case("TC-MSG-2.1", Verdict.BLOCKED, message=CaseMessage(
            text="harness/dut/manual.py:51: in ask\nE   harness.dut.manual.ManualStepBlocked: the operator could "
                 "not perform: confirm the message on screen")),
    ]


def test_apply_verdicts_makes_junit_agree_with_the_journal(tmp_path: Path) -> None:
    path = _junit(
        tmp_path / "junit.xml",
        _pytest_case("test_join", "TC-JOIN-1.1"),
        _pytest_case("test_refused", "TC-JOIN-1.2", "error"),  # setup-phase failure: pytest wrote <error>
        _pytest_case("test_radio", "TC-JOIN-1.3", "failed"),  # a bench fault: pytest wrote <failure>
        _pytest_case("test_drlc", "TC-DRLC-1.1", "skipped"),
        _pytest_case("test_message", "TC-MSG-2.1", "failed"),
        _pytest_case("test_other", "TC-NOT-IN-JOURNAL", "failed"),  # left as pytest wrote it
    )
    assert apply_verdicts(path, _journal_cases()) == 4
    suite = next(iter(JUnitXml.fromfile(str(path))))
    by_name = {c.name: c for c in suite}
    assert by_name["test_join"].result == []
    [failure] = by_name["test_refused"].result
    assert type(failure) is Failure and failure.message.startswith("expected no Transport Key")
    [error] = by_name["test_radio"].result
    assert type(error) is Error and error.message == "SimRadioError: radio stopped answering"
    assert error.text == TRACE  # the traceback stays for the bench engineer
    [skipped] = by_name["test_drlc"].result
    assert type(skipped) is Skipped
    assert skipped.message == skipped.text == "not applicable: the DUT does not claim PICS SE.DRLC.C"
    [blocked] = by_name["test_message"].result
    assert type(blocked) is Skipped
    assert blocked.message == "blocked: the operator could not perform: confirm the message on screen"
    assert type(by_name["test_other"].result[0]) is Failure
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (6, 2, 1, 2)
    assert "site-packages" not in path.read_text().split("test_drlc")[1].split("</testcase>")[0]
    assert not list(tmp_path.glob(".*partial"))  # replaced atomically, nothing left behind
    assert apply_verdicts(path, _journal_cases()) == 0  # idempotent


def test_diff_prints_case_ids_and_never_calls_an_error_a_new_failure(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    old = _junit(tmp_path / "old.xml", _pytest_case("test_a", "TC-JOIN-1.1"), _pytest_case("test_b", "TC-JOIN-1.2"),
                 _pytest_case("test_c", "TC-JOIN-1.3", "error"), _pytest_case("test_d", "TC-JOIN-1.4", "failed"))
    new = _junit(tmp_path / "new.xml", _pytest_case("test_a", "TC-JOIN-1.1", "error"),
                 _pytest_case("test_b", "TC-JOIN-1.2", "failed"), _pytest_case("test_c", "TC-JOIN-1.3", "failed"),
                 _pytest_case("test_d", "TC-JOIN-1.4"))
    result = diff(old, new)
    assert result.new_errors == ["TC-JOIN-1.1 (error, was passed)"]
    assert result.new_failures == ["TC-JOIN-1.2 (failed, was passed)",
                                   "TC-JOIN-1.3 (failed, was error)"]  # the bench no longer hides the DUT
    assert result.fixes == ["TC-JOIN-1.4 (was failed)"]
    assert main(["diff", str(old), str(new)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert "new error (bench): TC-JOIN-1.1 (error, was passed)" in lines
    assert not any("TC-JOIN-1.1" in line for line in lines if line.startswith("new failure"))
    assert not any("test_" in line for line in lines)  # ids, never function names

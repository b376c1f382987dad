"""JUnit properties, merge and the nightly diff on JUnit files written by the test."""

from __future__ import annotations

from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite

from reports.__main__ import main
from reports.junit import JUnitFileError, add_suite_properties, diff, merge

from .samples import run_info


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
        _case("test_bench", "error"),  # a new bench error is a regression for CI too
        _case("test_new", "failed"),  # a new case that fails
    )
    result = diff(old, new)
    assert result.new_failures == [
        "steps.test_joining::test_join (failed, was passed)",
        "steps.test_joining::test_retry (failed, was passed)",  # a retry never hides the failure
        "steps.test_joining::test_bench (error, was passed)",
        "steps.test_joining::test_new (failed, new case)",
    ]
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

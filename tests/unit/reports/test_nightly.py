"""The nightly job on synthetic nights: shard journals written with harness.results.Journal, no suite run."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from junitparser import JUnitXml

from harness.results import (
    BenchInfo,
    CaseMessage,
    DutIdentity,
    Journal,
    OverallVerdict,
    RunInfo,
    RunScope,
    Verdict,
)
from reports import nightly
from reports.__main__ import main
from tests.unit.reports.samples import case

APPLICABLE = ["TC-JOIN-1.1", "TC-JOIN-1.2", "TC-KE-1.1", "TC-KE-1.2"]
JOINING, KE = APPLICABLE[:2], APPLICABLE[2:]


def write_run(folder: Path, verdicts: dict[str, Verdict], *, bench: str = "lab-1", complete: bool = True,
              selection: tuple[str, ...] = (), applicable: list[str] | None = None, mandatory: bool = True) -> None:
    """One pytest run as the plugin leaves it: a sealed journal and a JUnit file with the bench's property."""
    info = RunInfo(dut=DutIdentity(manufacturer="Acme", model="IHD-7", ieee="00:0D:6F:00:00:00:10:01"),
                   bench=BenchInfo(id=bench, radio="ezsp:/dev/ttyACM0", simulated=False), seed=1234,
                   scope=RunScope(selection=list(selection), applicable=APPLICABLE if applicable is None else applicable))
    with Journal.open(folder, info) as journal:
        for case_id, verdict in verdicts.items():
            message = CaseMessage(expectation="a Device_annce", observation="none", rule="Zigbee 2.4.3.1.11") if (
                verdict is Verdict.FAILED) else None
            journal.record(case(case_id, verdict, message=message, mandatory=mandatory))
        if complete:
            journal.close({"exitstatus": 0})
    outcome = {Verdict.FAILED: "<failure message='x'/>", Verdict.ERROR: "<error message='x'/>"}
    cases = "".join(
        f"<testcase classname='steps' name='{k}'><properties><property name='case_id' value='{k}'/></properties>"
        f"{outcome.get(v, '')}</testcase>" for k, v in verdicts.items())
    (folder / "junit.xml").write_text(
        f"<testsuites><testsuite name='pytest'><properties><property name='bench.id' value='{bench}'/></properties>"
        f"{cases}</testsuite></testsuites>", encoding="utf-8")


def two_bench_night(root: Path, name: str, joining: dict[str, Verdict], ke: dict[str, Verdict]) -> Path:
    night = root / name
    write_run(night / "lab-1", joining, bench="lab-1", selection=("test paths steps/test_joining.py",))
    write_run(night / "lab-2", ke, bench="lab-2", selection=("test paths steps/test_key_establishment.py",))
    return night


def passed(keys: list[str]) -> dict[str, Verdict]:
    return dict.fromkeys(keys, Verdict.PASSED)


def test_two_benches_merge_into_one_conformant_night(tmp_path: Path) -> None:
    night = two_bench_night(tmp_path, "2025-06-01", passed(JOINING), passed(KE))
    result = nightly.write_night(nightly.assemble(night))
    # Each shard alone is a selection; their union covers every applicable case, so the night is complete.
    assert [s.verdict for s in result.shards] == ["PARTIAL", "PARTIAL"]
    assert result.assessment.verdict is OverallVerdict.CONFORMANT
    assert result.exit_code == nightly.EXIT_CONFORMANT and result.not_run == []
    assert sorted(c.key for c in result.cases) == sorted(APPLICABLE)
    report = json.loads((night / "night.json").read_text())
    assert report["verdict"] == "CONFORMANT" and report["totals"]["passed"] == 4
    assert [s["name"] for s in report["shards"]] == ["lab-1", "lab-2"]
    merged = JUnitXml.fromfile(str(night / "junit.xml"))
    assert sum(1 for suite in merged for _ in suite) == 4 and len(list(merged)) == 2
    assert (night / "night.md").read_text().startswith("# Night 2025-06-01: CONFORMANT (exit 0)")


def test_union_missing_an_applicable_case_is_partial(tmp_path: Path) -> None:
    night = two_bench_night(tmp_path, "2025-06-01", passed(JOINING), passed(KE[:1]))
    result = nightly.assemble(night)
    assert result.assessment.verdict is OverallVerdict.PARTIAL
    assert result.not_run == ["TC-KE-1.2"] and result.exit_code == nightly.EXIT_PARTIAL
    assert any("TC-KE-1.2" in reason for reason in result.assessment.reasons)


def test_a_selection_every_shard_shares_stays_a_selection(tmp_path: Path) -> None:
    night = tmp_path / "2025-06-01"
    write_run(night / "lab-1", passed(APPLICABLE), selection=("-k join",))
    result = nightly.assemble(night)
    assert result.assessment.verdict is OverallVerdict.PARTIAL
    assert result.assessment.reasons[0] == "selection: -k join"


def test_failed_then_passed_on_rerun_is_flaky_never_a_pass(tmp_path: Path) -> None:
    night = two_bench_night(tmp_path, "2025-06-01", {**passed(JOINING), "TC-JOIN-1.2": Verdict.FAILED}, passed(KE))
    write_run(night / "rerun" / "lab-1", passed(["TC-JOIN-1.2"]), selection=("--case TC-JOIN-1.2",))
    result = nightly.write_night(nightly.assemble(night))
    flaky = {c.key: c for c in result.cases}["TC-JOIN-1.2"]
    assert (flaky.verdict, flaky.rerun, flaky.shard) == ("flaky", "passed", "lab-1")
    assert result.assessment.verdict is OverallVerdict.INCONCLUSIVE
    assert result.assessment.reasons[0].startswith("flaky: TC-JOIN-1.2 failed, then passed")
    assert result.exit_code == nightly.EXIT_INCONCLUSIVE
    totals = result.totals()
    assert (totals["passed"], totals["flaky"], totals["failed"]) == (3, 1, 0)
    report = json.loads((night / "night.json").read_text())
    assert [c["key"] for c in report["flaky"]] == ["TC-JOIN-1.2"]
    assert report["shards"][0]["rerun_folder"] == "rerun/lab-1"
    markdown = (night / "night.md").read_text()
    flaky_section = markdown.split("## Flaky")[1].split("##")[0]
    assert "TC-JOIN-1.2 (lab-1)" in flaky_section
    # The merged JUnit keeps both attempts, so a JUnit reader sees the flakiness as well.
    merged = JUnitXml.fromfile(str(night / "junit.xml"))
    assert sum(1 for suite in merged for _ in suite) == 5


def test_failed_then_failed_stays_failed(tmp_path: Path) -> None:
    night = two_bench_night(tmp_path, "2025-06-01", {**passed(JOINING), "TC-JOIN-1.2": Verdict.FAILED}, passed(KE))
    write_run(night / "rerun" / "lab-1", {"TC-JOIN-1.2": Verdict.FAILED})
    result = nightly.assemble(night)
    case = {c.key: c for c in result.cases}["TC-JOIN-1.2"]
    assert (case.verdict, case.rerun) == ("failed", "failed") and result.flaky == []
    assert result.assessment.verdict is OverallVerdict.NOT_CONFORMANT
    assert result.exit_code == nightly.EXIT_KNOWN_FAILURES  # a first night: nothing to regress from


def test_a_rerun_that_errors_leaves_the_failure_standing(tmp_path: Path) -> None:
    night = two_bench_night(tmp_path, "2025-06-01", {**passed(JOINING), "TC-JOIN-1.2": Verdict.FAILED}, passed(KE))
    write_run(night / "rerun" / "lab-1", {"TC-JOIN-1.2": Verdict.ERROR})
    result = nightly.assemble(night)
    assert {c.key: c.verdict for c in result.cases}["TC-JOIN-1.2"] == "failed"
    assert result.assessment.verdict is OverallVerdict.NOT_CONFORMANT


def test_a_flaky_optional_case_is_listed_but_does_not_decide_the_night(tmp_path: Path) -> None:
    night = tmp_path / "2025-06-01"
    write_run(night / "lab-1", passed(APPLICABLE))
    write_run(night / "lab-2", {"TC-OPT-1.1": Verdict.FAILED}, bench="lab-2", mandatory=False)
    write_run(night / "rerun" / "lab-2", {"TC-OPT-1.1": Verdict.PASSED}, bench="lab-2", mandatory=False)
    result = nightly.assemble(night)
    assert [c.key for c in result.flaky] == ["TC-OPT-1.1"]
    assert result.assessment.verdict is OverallVerdict.CONFORMANT


def test_the_same_case_on_two_benches_is_kept_apart(tmp_path: Path) -> None:
    night = tmp_path / "2025-06-01"
    write_run(night / "lab-1", passed(APPLICABLE))
    write_run(night / "lab-2", {**passed(APPLICABLE), "TC-KE-1.2": Verdict.FAILED}, bench="lab-2")
    result = nightly.assemble(night)
    verdicts = {c.key: c.verdict for c in result.cases}
    assert verdicts["TC-KE-1.2 @ lab-1"] == "passed" and verdicts["TC-KE-1.2 @ lab-2"] == "failed"
    assert result.assessment.verdict is OverallVerdict.NOT_CONFORMANT  # a failure on any bench stands


def test_diff_against_the_previous_night(tmp_path: Path) -> None:
    first = tmp_path / "2025-06-01"
    write_run(first / "lab-1", {"TC-JOIN-1.1": Verdict.PASSED, "TC-JOIN-1.2": Verdict.FAILED,
                                "TC-KE-1.1": Verdict.ERROR, "TC-KE-1.2": Verdict.PASSED, "TC-OLD-1.1": Verdict.PASSED})
    assert nightly.write_night(nightly.assemble(first)).diff is None
    second = tmp_path / "2025-06-02"
    write_run(second / "lab-1", {"TC-JOIN-1.1": Verdict.FAILED, "TC-JOIN-1.2": Verdict.PASSED,
                                 "TC-KE-1.1": Verdict.PASSED, "TC-KE-1.2": Verdict.ERROR, "TC-NEW-1.1": Verdict.PASSED})
    write_run(second / "rerun" / "lab-1", {"TC-JOIN-1.1": Verdict.FAILED})
    result = nightly.write_night(nightly.assemble(second))
    diff = result.diff
    assert diff is not None and diff.previous == "2025-06-01"
    assert diff.new_failures == ["TC-JOIN-1.1 (was passed)"]
    assert diff.new_errors == ["TC-KE-1.2 (was passed)"]  # a bench fault, listed apart from the DUT's failures
    assert diff.fixes == ["TC-JOIN-1.2 (was failed)", "TC-KE-1.1 (was error)"]
    assert diff.appeared == ["TC-NEW-1.1 (passed)"] and diff.disappeared == ["TC-OLD-1.1 (was passed)"]
    assert result.exit_code == nightly.EXIT_REGRESSION
    report = json.loads((second / "night.json").read_text())
    assert report["previous"] == "2025-06-01" and report["diff"]["new_failures"] == diff.new_failures
    assert "new failure: TC-JOIN-1.1 (was passed)" in (second / "night.md").read_text()


def test_a_case_newly_flaky_is_in_the_diff_and_known_failures_are_no_regression(tmp_path: Path) -> None:
    first = tmp_path / "2025-06-01"
    write_run(first / "lab-1", {**passed(APPLICABLE), "TC-JOIN-1.2": Verdict.FAILED})
    nightly.write_night(nightly.assemble(first))
    second = tmp_path / "2025-06-02"
    write_run(second / "lab-1", {**passed(APPLICABLE), "TC-JOIN-1.2": Verdict.FAILED, "TC-KE-1.1": Verdict.FAILED})
    write_run(second / "rerun" / "lab-1", {"TC-JOIN-1.2": Verdict.FAILED, "TC-KE-1.1": Verdict.PASSED})
    result = nightly.assemble(second)
    assert result.diff is not None
    assert result.diff.new_flaky == ["TC-KE-1.1 (was passed)"] and result.diff.new_failures == []
    assert result.assessment.verdict is OverallVerdict.NOT_CONFORMANT
    assert any(r.startswith("flaky: TC-KE-1.1") for r in result.assessment.reasons)
    assert result.exit_code == nightly.EXIT_KNOWN_FAILURES


def test_previous_night_is_the_latest_earlier_one_with_a_report(tmp_path: Path) -> None:
    for name in ("2025-05-31", "2025-06-01", "2025-06-01.2", "2025-06-02"):
        (tmp_path / name).mkdir()
    for name in ("2025-05-31", "2025-06-01.2"):
        (tmp_path / name / "night.json").write_text("{}")
    (tmp_path / "notes").mkdir()
    assert [p.name for p in nightly.nights(tmp_path)] == ["2025-05-31", "2025-06-01", "2025-06-01.2", "2025-06-02"]
    assert nightly.previous_night(tmp_path / "2025-06-03").name == "2025-06-01.2"
    assert nightly.previous_night(tmp_path / "2025-06-01.2").name == "2025-05-31"
    assert nightly.previous_night(tmp_path / "2025-05-31") is None
    # Never overwrite a night: a further run the same day gets the next suffix.
    assert nightly.new_night(tmp_path, date(2025, 6, 1)).name == "2025-06-01.3"
    assert nightly.new_night(tmp_path, date(2025, 6, 4)).name == "2025-06-04"
    assert (tmp_path / "2025-06-01.3").is_dir()


def test_a_shard_without_journal_or_end_record_breaks_the_night(tmp_path: Path) -> None:
    night = tmp_path / "2025-06-01"
    write_run(night / "lab-1", passed(JOINING), selection=("test paths steps/test_joining.py",))
    write_run(night / "lab-2", passed(KE), bench="lab-2", complete=False)
    write_run(night / "lab-4", passed(KE), bench="lab-4")
    plan = {"shards": [{"name": "lab-1", "exit_status": 7}, {"name": "lab-2"}, {"name": "lab-3", "exit_status": 4},
                       {"name": "lab-4", "exit_status": 2}]}
    (night / "plan.json").write_text(json.dumps(plan))
    result = nightly.assemble(night)
    problems = {s.name: s.problem for s in result.shards}
    assert problems["lab-1"] == "" and "no end record" in problems["lab-2"] and "no journal" in problems["lab-3"]
    assert problems["lab-4"] == "pytest exit 2 (interrupted)"
    assert result.assessment.verdict is OverallVerdict.INCONCLUSIVE and not result.complete
    assert result.exit_code == nightly.EXIT_BROKEN_SHARD


def test_split_hands_whole_areas_to_the_least_loaded_bench() -> None:
    weights = {"drlc": 23, "key_establishment": 20, "attributes": 17, "openseg": 12, "joining": 8, "time": 4}
    shares = nightly.split_areas(weights, 3)
    assert sorted(a for share in shares for a in share) == sorted(weights)
    loads = [sum(weights[a] for a in share) for share in shares]
    assert max(loads) - min(loads) <= 8, loads
    sets = [nightly.BenchSet(Path("/b/sim.yaml")), nightly.BenchSet(Path("/b/sim.yaml")),
            nightly.BenchSet(Path("/b/lab.yaml"))]
    shards = nightly.plan_shards(sets, "area", weights)
    assert [s.name for s in shards] == ["sim", "sim-2", "lab"]
    command = nightly.shard_command(shards[0], Path("/n/sim"), 1, ["--case=TC-DRLC-*"])
    assert [a for a in command if a.startswith("steps/")] == [f"steps/test_{a}.py" for a in shards[0].areas]
    assert [s.areas for s in nightly.plan_shards(sets, "none", weights)] == [(), (), ()]
    assert len(nightly.plan_shards(sets[:1] * 8, "area", {"joining": 8, "time": 4})) == 2  # spare benches rest


def test_rerun_selects_the_failed_cases_on_the_same_bench_with_the_seed() -> None:
    shard = nightly.Shard("lab-1", nightly.BenchSet(Path("/b/lab-1.yaml"), dut="sim:ihd"))
    command = nightly.rerun_command(shard, Path("/n/rerun/lab-1"), ["TC-JOIN-1.2", "TC-ATTR-1.2[Basic]"],
                                    ["--case", "TC-JOIN-*", "-n", "4", "--fault=x", "--case=TC-KE-*"], 99)
    assert [a for a in command if a.startswith("--case")] == ["--case=TC-JOIN-1.2", "--case=TC-ATTR-1.2[Basic]"]
    assert "-n" not in command and "--fault=x" in command and "--seed=99" in command
    assert "--bench=/b/lab-1.yaml" in command and "--dut=sim:ihd" in command
    given = nightly.rerun_command(shard, Path("/n/r"), ["TC-JOIN-1.2"], ["--seed=5"], 99)
    assert [a for a in given if a.startswith("--seed")] == ["--seed=5"]


@pytest.mark.parametrize(("argv", "names"), [
    (["--bench=missing.yaml"], "--bench=missing.yaml"),
    (["--bench=profiles/bench/sim.yaml"] * 3 + ["--dut=sim:ihd", "--dut=sim:pct"], "--dut is given 2 times"),
    (["--", "--artifacts=out/"], "--artifacts"),
    (["--shards=0"], "--shards 0"),
    (["--shards=2", "--dut=/dev/ttyUSB0"], "--shards 2"),
    (["--split=feature"], "--split"),
    (["--profile=profiles/dut/nosuch.yaml"], "--profile=profiles/dut/nosuch.yaml"),
])
def test_bad_input_is_one_line_and_runs_nothing(tmp_path: Path, capsys, argv: list[str], names: str) -> None:
    root = tmp_path / "nightly"
    try:
        status = main(["nightly", "run", f"--root={root}", *argv])
    except SystemExit as exc:  # argparse's own refusals (an unknown --split) exit from the parser
        status = exc.code
    err = capsys.readouterr().err
    assert status == nightly.EXIT_USAGE
    assert len(err.strip().splitlines()) == 1 and names in err, err
    assert not root.exists()


def test_report_command_rebuilds_a_night(tmp_path: Path, capsys) -> None:
    night = two_bench_night(tmp_path, "2025-06-01", {**passed(JOINING), "TC-JOIN-1.2": Verdict.FAILED}, passed(KE))
    write_run(night / "rerun" / "lab-1", passed(["TC-JOIN-1.2"]))
    assert main(["nightly", "report", str(night)]) == nightly.EXIT_INCONCLUSIVE
    out = capsys.readouterr().out
    assert "night 2025-06-01: INCONCLUSIVE: flaky: TC-JOIN-1.2" in out and "flaky: TC-JOIN-1.2 (lab-1)" in out
    assert json.loads((night / "night.json").read_text())["exit_code"] == nightly.EXIT_INCONCLUSIVE
    assert main(["nightly", "report", str(tmp_path / "nope")]) == nightly.EXIT_USAGE
    assert "no such night folder" in capsys.readouterr().err

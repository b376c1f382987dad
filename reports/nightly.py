"""The nightly lab job: ``python -m reports nightly run|report`` (docs/bench.md, "Nightly lab job").

``run`` runs the whole suite on one or several benches (each a *shard*) into a new night folder, reruns each
failed case once, merges the shards into one night report and diffs it against the previous night::

    <root>/<UTC date>[.N]/        one folder per night; a second run the same day gets .2, .3 ...
        night.json  night.md      the merged verdict, shards, flaky cases, diff against the previous night
        junit.xml                 every shard's and rerun's <testsuite>, merged (reports.junit.merge)
        plan.json                 the shards' commands and exit statuses, written as they run
        <shard>/                  one pytest run (--artifacts): journal.jsonl, report.html, junit.xml ...
        rerun/<shard>/            the immediate rerun of that shard's failed cases (--case=<key> each)
        logs/<shard>.log          pytest's output (beside the run folder: its MANIFEST.json must not cover a
                                  file still being written)
    <root>/LATEST                 the name of the night the last ``run`` made (none when it was refused)

``report NIGHT`` rebuilds night.json, night.md and junit.xml from a night folder's shards (no suite run).

Night verdicts of a case: the journal's (passed, failed, error, not_applicable, blocked), and ``flaky``: the
case failed, then passed on the immediate rerun. A flaky case is never a pass: a night with a flaky mandatory
case is INCONCLUSIVE ("flaky: ..."), since one attempt failed and one passed and neither can be called the
DUT's behaviour. A case that fails again stays failed, and so does one whose rerun errored (the observed
non-conformance stands). The overall verdict is harness.results.assess over the union of the shards' cases,
on a scope whose applicable cases are the union of the shards': the union is complete only when it covers
every applicable case.

Exit status (the first that holds):

- 2 bad input (an option, a missing profile, a pytest option refused by every shard), one line on stderr;
- 1 regression: a case failed tonight that did not fail the previous night;
- 4 a shard broke: it left no journal, or a journal that is incomplete or whose chain is broken;
- 3 NOT CONFORMANT with no new failure (failures known from the previous night, or a first night);
- 6 INCONCLUSIVE (bench errors, blocked or flaky cases, a DUT identity mismatch);
- 7 PARTIAL (a selection, overridden claims, or applicable cases no shard ran);
- 0 CONFORMANT.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from harness.atomic import write_atomically
from harness.results import (
    Assessment,
    CaseResult,
    JournalContents,
    JournalError,
    OverallVerdict,
    RunScope,
    Verdict,
    assess,
    assess_run,
    identity_mismatches,
    not_run,
    read_journal,
)
from reports.junit import JUnitFileError, merge

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BENCH = ROOT / "profiles" / "bench" / "sim.yaml"
NIGHT_JSON, NIGHT_MD, PLAN_JSON, JUNIT = "night.json", "night.md", "plan.json", "junit.xml"
RERUN_DIR, LOG_DIR, LATEST = "rerun", "logs", "LATEST"
NIGHT_FORMAT = 1
FLAKY = "flaky"  # the night verdict of a case that failed, then passed on its immediate rerun

EXIT_REGRESSION, EXIT_USAGE, EXIT_KNOWN_FAILURES, EXIT_BROKEN_SHARD = 1, 2, 3, 4
# The other verdicts exit as a suite run does (0, 6, 7); NOT CONFORMANT is EXIT_KNOWN_FAILURES or a regression.
EXIT_CONFORMANT = OverallVerdict.CONFORMANT.exit_code
EXIT_INCONCLUSIVE = OverallVerdict.INCONCLUSIVE.exit_code
EXIT_PARTIAL = OverallVerdict.PARTIAL.exit_code
_NIGHT_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\.(\d+))?$")
_PYTEST_USAGE = 4  # pytest's exit status for a refused option or profile (the plugin's one-line error)
_PYTEST_BROKE = {2: "interrupted", 3: "internal error"}  # the run's verdicts cannot be the whole shard's


class NightlyError(ValueError):
    """Bad input to the nightly job: the one-line message names the option and the fix."""


# -- the plan: benches, shards, commands --------------------------------------------------------------------


@dataclass(frozen=True)
class BenchSet:
    """One bench: the bench profile, the DUT on it, its DUT profile and (optionally) its golden radio."""

    bench: Path
    profile: Path | None = None
    dut: str | None = None
    radio: str | None = None

    def options(self) -> list[str]:
        options = [f"--bench={self.bench}"]
        options += [f"--profile={self.profile}"] if self.profile else []
        options += [f"--dut={self.dut}"] if self.dut else []
        options += [f"--radio={self.radio}"] if self.radio else []
        return options


@dataclass(frozen=True)
class Shard:
    """One pytest run of the night: a bench and the feature areas it runs (empty: every area)."""

    name: str
    bench: BenchSet
    areas: tuple[str, ...] = ()


def bench_sets(benches: Sequence[str], profiles: Sequence[str], duts: Sequence[str],
               radios: Sequence[str]) -> list[BenchSet]:
    """Pair the repeated --bench/--profile/--dut/--radio options: each is given once (every bench) or once per
    bench, in the same order."""
    count = max(len(benches), 1)
    for name, values in (("--profile", profiles), ("--dut", duts), ("--radio", radios)):
        if len(values) not in (0, 1, count):
            raise NightlyError(f"{name} is given {len(values)} times for {count} --bench: give it once (every "
                               "bench) or once per --bench, in the same order")
    paths = [_existing("--bench", b) for b in benches] or [DEFAULT_BENCH]

    def pick(values: Sequence[str], index: int) -> str | None:
        return values[index] if len(values) == count else (values[0] if values else None)

    sets = []
    for index, bench in enumerate(paths):
        profile = pick(profiles, index)
        sets.append(BenchSet(bench, _existing("--profile", profile) if profile else None,
                             pick(duts, index), pick(radios, index)))
    return sets


def _existing(option: str, value: str) -> Path:
    path = Path(value).expanduser()
    if not path.is_file():
        raise NightlyError(f"{option}={value}: no such file; give the path of a YAML profile "
                           f"(profiles/{'bench' if option == '--bench' else 'dut'}/*.yaml)")
    return path.resolve()


def area_weights() -> dict[str, int]:
    """Cases per feature area (the catalogue), the unit a split hands to a bench."""
    from harness.cases import catalogue

    weights: dict[str, int] = {}
    for spec in catalogue():
        weights[spec.area] = weights.get(spec.area, 0) + 1
    return weights


def split_areas(weights: dict[str, int], shards: int) -> list[tuple[str, ...]]:
    """Hand whole feature areas to ``shards`` benches, the largest first to the least loaded (a bench keeps a
    feature's cases together, as the per-feature wall times of docs/bench.md are measured)."""
    loads: list[tuple[int, list[str]]] = [(0, []) for _ in range(shards)]
    for area in sorted(weights, key=lambda a: (-weights[a], a)):
        index = min(range(shards), key=lambda i: (loads[i][0], i))
        loads[index] = (loads[index][0] + weights[area], [*loads[index][1], area])
    return [tuple(sorted(areas)) for _, areas in loads]


def plan_shards(sets: Sequence[BenchSet], split: str, weights: dict[str, int] | None = None) -> list[Shard]:
    """One shard per bench, named after its bench profile (``lab-3``, ``lab-3-2`` for a repeat)."""
    names: list[str] = []
    for bench in sets:
        stem, number = bench.bench.stem, 2
        stem = f"{stem}-bench" if stem in (RERUN_DIR, LOG_DIR) else stem  # those folders are the night's own
        name = stem
        while name in names:
            name, number = f"{stem}-{number}", number + 1
        names.append(name)
    if split == "area" and len(sets) > 1:
        areas = split_areas(weights if weights is not None else area_weights(), len(sets))
        return [Shard(name, bench, share) for name, bench, share in zip(names, sets, areas, strict=True)
                if share]  # more benches than areas: the spare benches rest
    return [Shard(name, bench) for name, bench in zip(names, sets, strict=True)]


_OWNED = ("--artifacts",)  # the job chooses every run folder
_RERUN_DROPS = ("--case", "-n", "--numprocesses", "--dist")  # the rerun selects its own cases, in one process


def check_passthrough(args: Sequence[str]) -> list[str]:
    args = [a for a in args if a != "--"]
    for arg in args:
        if any(arg == o or arg.startswith(o + "=") for o in _OWNED):
            raise NightlyError(f"{arg}: the nightly job chooses each run's folder under --root; leave "
                               "--artifacts out")
    return args


def _without(args: Sequence[str], options: Sequence[str]) -> list[str]:
    kept, skip = [], False
    for arg in args:
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in options:
            skip = "=" not in arg  # "--case X" takes the next word, "--case=X" does not
            continue
        if any(arg.startswith(o) and len(arg) > len(o) and not o.startswith("--") for o in options):
            continue  # -n4
        kept.append(arg)
    return kept


def _has_seed(args: Sequence[str]) -> bool:
    return any(a == "--seed" or a.startswith("--seed=") for a in args)


def shard_command(shard: Shard, artifacts: Path, workers: int, extra: Sequence[str]) -> list[str]:
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--artifacts={artifacts}",
               *shard.bench.options()]
    command += ["-n", str(workers)] if workers > 1 else []
    command += [f"steps/test_{area}.py" for area in shard.areas]
    return command + list(extra)


def rerun_command(shard: Shard, artifacts: Path, keys: Sequence[str], extra: Sequence[str],
                  seed: int | None) -> list[str]:
    """The immediate rerun of a shard's failed cases, on its bench, with its seed: a failure that follows from
    the seeded random choices reproduces, so only a failure the bench or the DUT did not repeat is flaky."""
    extra = _without(extra, _RERUN_DROPS)
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--artifacts={artifacts}",
               *shard.bench.options(), *(f"--case={key}" for key in keys)]
    if seed is not None and not _has_seed(extra):
        command.append(f"--seed={seed}")
    return command + extra


# -- night folders ------------------------------------------------------------------------------------------


def _night_order(path: Path) -> tuple[str, int] | None:
    found = _NIGHT_NAME.match(path.name)
    return (found.group(1), int(found.group(2) or 1)) if found and path.is_dir() else None


def nights(root: Path) -> list[Path]:
    """The night folders under ``root``, oldest first (2025-06-01, 2025-06-01.2, 2025-06-02 ...)."""
    if not root.is_dir():
        return []
    found = [(order, path) for path in root.iterdir() if (order := _night_order(path)) is not None]
    return [path for _, path in sorted(found)]


def new_night(root: Path, today: date) -> Path:
    """Create this night's folder; an existing night is never reused (a second run the same day is .2)."""
    root.mkdir(parents=True, exist_ok=True)
    number = 1
    while True:
        path = root / (today.isoformat() + (f".{number}" if number > 1 else ""))
        try:
            path.mkdir()
            return path
        except FileExistsError:
            number += 1


def previous_night(night: Path, root: Path | None = None) -> Path | None:
    """The latest night before ``night`` under ``root`` (default: its parent) that has a night report."""
    root = root if root is not None else night.parent
    order = _night_order(night)
    earlier = [p for p in nights(root) if order is None or (_night_order(p) or ("", 0)) < order]
    return next((p for p in reversed(earlier) if (p / NIGHT_JSON).is_file() and p.resolve() != night.resolve()),
                None)


# -- assembling a night from its shards ---------------------------------------------------------------------


@dataclass
class NightCase:
    key: str  # the case key, with "@ <shard>" when several shards ran the same case
    case_id: str
    shard: str
    title: str
    mandatory: bool
    verdict: str  # a journal verdict, or "flaky"
    rerun: str | None = None  # the rerun's verdict, when the case was rerun
    message: str = ""


@dataclass
class ShardReport:
    name: str
    folder: str
    verdict: str = ""
    complete: bool = False
    cases: int = 0
    bench: str = ""
    dut: str = ""
    seed: int | None = None
    problem: str = ""  # why the shard cannot be trusted (no journal, incomplete, chain broken)
    command: list[str] = field(default_factory=list)
    exit_status: int | None = None
    rerun_folder: str = ""
    rerun_cases: list[str] = field(default_factory=list)
    rerun_problem: str = ""


@dataclass
class NightDiff:
    previous: str
    new_failures: list[str] = field(default_factory=list)
    new_errors: list[str] = field(default_factory=list)  # bench faults, apart from the DUT's failures
    fixes: list[str] = field(default_factory=list)
    new_flaky: list[str] = field(default_factory=list)
    appeared: list[str] = field(default_factory=list)
    disappeared: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return ([f"new failure: {x}" for x in self.new_failures] + [f"new error (bench): {x}" for x in self.new_errors]
                + [f"fixed: {x}" for x in self.fixes] + [f"new flaky: {x}" for x in self.new_flaky]
                + [f"appeared: {x}" for x in self.appeared] + [f"disappeared: {x}" for x in self.disappeared])


@dataclass
class Night:
    name: str
    folder: Path
    assessment: Assessment
    complete: bool
    shards: list[ShardReport]
    cases: list[NightCase]
    not_run: list[str]
    diff: NightDiff | None
    previous_problem: str = ""
    junit: str = ""

    @property
    def flaky(self) -> list[NightCase]:
        return [c for c in self.cases if c.verdict == FLAKY]

    @property
    def broken(self) -> bool:
        return any(s.problem for s in self.shards) or not self.shards

    @property
    def exit_code(self) -> int:
        if self.diff is not None and self.diff.new_failures:
            return EXIT_REGRESSION
        if self.broken:
            return EXIT_BROKEN_SHARD
        verdict = self.assessment.verdict
        return EXIT_KNOWN_FAILURES if verdict is OverallVerdict.NOT_CONFORMANT else verdict.exit_code

    def totals(self) -> dict[str, int]:
        totals = {v.value: 0 for v in Verdict} | {FLAKY: 0}
        for case in self.cases:
            totals[case.verdict] += 1
        return totals


def _read(folder: Path) -> tuple[JournalContents | None, str]:
    try:
        contents = read_journal(folder)
    except JournalError as exc:
        return None, str(exc)
    if contents.chain is not None and contents.chain.status == "broken":
        return contents, contents.chain.describe()
    if not contents.complete:
        return contents, "its journal has no end record: the run stopped before it finished"
    return contents, ""


def _one_line(case: CaseResult) -> str:
    message = case.message
    if message is None:
        return ""
    if message.expectation or message.observation:
        text = f"expected {message.expectation}; observed {message.observation}"
    else:
        text = next((line.strip() for line in message.text.splitlines() if line.strip()), "")
    return text if len(text) <= 300 else text[:297] + "..."


def _shard_folders(night: Path) -> list[Path]:
    skip = {RERUN_DIR, LOG_DIR}
    return sorted(p for p in night.iterdir() if p.is_dir() and p.name not in skip and not p.name.startswith("."))


def _load_plan(night: Path) -> dict[str, Any]:
    try:
        plan = json.loads((night / PLAN_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return plan if isinstance(plan, dict) else {}


def _merged_scope(scopes: list[RunScope | None]) -> RunScope | None:
    """The scope of the union: what every shard selected alike (a split's own per-shard paths drop out), every
    override, and every case some shard's claims make applicable."""
    if not scopes or any(s is None for s in scopes):
        return None
    known = [s for s in scopes if s is not None]
    selection = [item for item in known[0].selection if all(item in s.selection for s in known[1:])]
    overrides: list[str] = []
    applicable: list[str] = []
    for scope in known:
        overrides += [o for o in scope.overrides if o not in overrides]
        applicable += [a for a in scope.applicable if a not in applicable]
    return RunScope(selection=selection, overrides=overrides, applicable=applicable)


def _night_assessment(base: Assessment, problems: list[str]) -> Assessment:
    """The union's assessment with what only the night knows (flaky cases, broken shards): a non-conformance
    stands; otherwise such a problem makes the night INCONCLUSIVE, keeping the reasons that still hold."""
    if not problems:
        return base
    if base.verdict is OverallVerdict.NOT_CONFORMANT:
        return Assessment(base.verdict, base.reasons + tuple(problems))
    kept = base.reasons if base.verdict in (OverallVerdict.INCONCLUSIVE, OverallVerdict.PARTIAL) else ()
    return Assessment(OverallVerdict.INCONCLUSIVE, tuple(problems) + kept)


def assemble(night: Path, root: Path | None = None) -> Night:
    """Read every shard (and its rerun) of a night folder and judge the night; writes nothing."""
    night = Path(night)
    if not night.is_dir():
        raise NightlyError(f"{night}: no such night folder; give a folder under the nightly --root")
    plan = _load_plan(night)
    planned = {s.get("name"): s for s in plan.get("shards", []) if isinstance(s, dict)}
    folders = _shard_folders(night)
    names = list(dict.fromkeys([*planned, *(f.name for f in folders)]))
    shards: list[ShardReport] = []
    per_shard: list[tuple[ShardReport, list[CaseResult]]] = []
    scopes: list[RunScope | None] = []
    identity: list[str] = []
    problems: list[str] = []
    complete = True
    for name in names:
        entry = planned.get(name, {})
        report = ShardReport(name, name, command=list(entry.get("command", [])), exit_status=entry.get("exit_status"))
        contents, report.problem = _read(night / name)
        if not report.problem and report.exit_status in _PYTEST_BROKE:
            report.problem = f"pytest exit {report.exit_status} ({_PYTEST_BROKE[report.exit_status]})"
        if contents is None:
            report.problem = report.problem or "no journal"
            complete = False
            problems.append(f"shard {name}: {report.problem}")
            shards.append(report)
            continue
        run = contents.run
        report.verdict = assess_run(run, contents.cases, contents.complete).verdict.value
        report.complete, report.cases = contents.complete, len(contents.cases)
        report.bench, report.seed = f"{run.bench.id} ({run.bench.radio})", run.seed
        report.dut = " ".join(x for x in (run.dut.manufacturer, run.dut.model, run.options.get("dut", "")) if x)
        if report.problem:
            complete = False
            problems.append(f"shard {name}: {report.problem}")
        scopes.append(run.scope)
        identity += [f"shard {name}: {p}" for p in identity_mismatches(run.dut, run.observed_dut)]
        shards.append(report)
        per_shard.append((report, contents.cases))

    counts: dict[str, int] = {}
    for _, cases in per_shard:
        for case in cases:
            counts[case.case_id or case.nodeid] = counts.get(case.case_id or case.nodeid, 0) + 1
    night_cases: list[NightCase] = []
    judged: list[CaseResult] = []
    flaky_mandatory: list[str] = []
    for report, cases in per_shard:
        reruns = _rerun_verdicts(night / RERUN_DIR / report.name, report)
        for case in cases:
            ident = case.case_id or case.nodeid
            key = ident if counts[ident] == 1 else f"{ident} @ {report.name}"
            item = NightCase(key, case.case_id, report.name, case.title, case.mandatory, case.verdict.value,
                             message=_one_line(case))
            if case.verdict is Verdict.FAILED and case.case_id in reruns:
                item.rerun = reruns[case.case_id].value
                if reruns[case.case_id] is Verdict.PASSED:
                    item.verdict = FLAKY
                    if case.mandatory:
                        flaky_mandatory.append(key)
                    # It ran, so it covers its scope; its verdict is the night's problem below, never a pass.
                    case = case.model_copy(update={"verdict": Verdict.PASSED})
            night_cases.append(item)
            judged.append(case)
    if flaky_mandatory:
        problems.insert(0, f"flaky: {', '.join(flaky_mandatory)} failed, then passed on an immediate rerun "
                           "(one attempt failed and one passed: not a pass)")
    if not shards:
        problems.append("no shard ran: the night folder holds no run")
    scope = _merged_scope(scopes)
    base = assess(judged, True, scope, identity)
    assessment = _night_assessment(base, problems)
    previous = previous_night(night, root)
    diff, previous_problem = None, ""
    if previous is not None:
        try:
            diff = diff_nights(_previous_cases(previous), night_cases, previous.name)
        except (OSError, ValueError) as exc:
            previous_problem = f"{previous / NIGHT_JSON}: unreadable ({exc}); no diff"
    return Night(night.name, night, assessment, complete and bool(shards), shards, night_cases,
                 not_run(judged, scope), diff, previous_problem)


def _rerun_verdicts(folder: Path, report: ShardReport) -> dict[str, Verdict]:
    if not folder.is_dir():
        return {}
    report.rerun_folder = f"{RERUN_DIR}/{report.name}"
    contents, problem = _read(folder)
    report.rerun_problem = problem
    if contents is None:
        return {}  # the failures stand: nothing showed a pass
    report.rerun_cases = [c.case_id for c in contents.cases if c.case_id]
    return {c.case_id: c.verdict for c in contents.cases if c.case_id}


def _previous_cases(previous: Path) -> dict[str, str]:
    data = json.loads((previous / NIGHT_JSON).read_text(encoding="utf-8"))
    cases = data.get("cases") if isinstance(data, dict) else None
    if not isinstance(cases, list):
        raise ValueError("no 'cases' list")
    return {str(c["key"]): str(c["verdict"]) for c in cases if isinstance(c, dict) and "key" in c and "verdict" in c}


def diff_nights(before: dict[str, str], now: Sequence[NightCase], previous: str) -> NightDiff:
    """What changed since the previous night, by case key: a failure or a bench error that was not there, a
    failure or error that passes now, a case newly flaky, and cases that appeared or disappeared."""
    diff = NightDiff(previous)
    keys = set()
    for case in now:
        keys.add(case.key)
        then = before.get(case.key)
        was = "new case" if then is None else f"was {then}"
        if then is None:
            diff.appeared.append(f"{case.key} ({case.verdict})")
        if case.verdict == Verdict.FAILED and then != Verdict.FAILED:
            diff.new_failures.append(f"{case.key} ({was})")
        elif case.verdict == Verdict.ERROR and then != Verdict.ERROR:
            diff.new_errors.append(f"{case.key} ({was})")
        elif case.verdict == FLAKY and then != FLAKY:
            diff.new_flaky.append(f"{case.key} ({was})")
        elif case.verdict == Verdict.PASSED and then in (Verdict.FAILED, Verdict.ERROR, FLAKY):
            diff.fixes.append(f"{case.key} (was {then})")
    diff.disappeared = [f"{key} (was {verdict})" for key, verdict in before.items() if key not in keys]
    return diff


# -- writing the night report -------------------------------------------------------------------------------


def night_json(night: Night) -> dict[str, Any]:
    return {
        "format": NIGHT_FORMAT,
        "night": night.name,
        "written": datetime.now(UTC).isoformat(),
        "verdict": night.assessment.verdict.value,
        "reasons": list(night.assessment.reasons),
        "exit_code": night.exit_code,
        "complete": night.complete,
        "totals": night.totals(),
        "not_run": night.not_run,
        "shards": [asdict(s) for s in night.shards],
        "flaky": [asdict(c) for c in night.flaky],
        "previous": night.diff.previous if night.diff else None,
        "previous_problem": night.previous_problem,
        "diff": asdict(night.diff) if night.diff else None,
        "junit": night.junit,
        "cases": [asdict(c) for c in night.cases],
    }


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def night_markdown(night: Night) -> str:
    out = [f"# Night {night.name}: {night.assessment.verdict.value} (exit {night.exit_code})", ""]
    out += [f"- {_md(r)}" for r in night.assessment.reasons] + [""]
    totals = ", ".join(f"{n} {v}" for v, n in night.totals().items() if n)
    out += [f"Cases: {totals or 'none'}.", ""]
    out += ["## Shards", "", "| shard | bench | DUT | verdict | cases | rerun | problem |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    for s in night.shards:
        rerun = f"{s.rerun_folder} ({len(s.rerun_cases)})" if s.rerun_folder else ""
        out.append(f"| [{s.name}]({s.folder}/report.html) | {_md(s.bench)} | {_md(s.dut)} | {s.verdict or '-'} "
                   f"| {s.cases} | {rerun} | {_md(s.problem or s.rerun_problem)} |")
    out += ["", "## Flaky (failed, then passed on an immediate rerun: never a pass)", ""]
    out += [f"- {c.key} ({c.shard}): {_md(c.message)}" for c in night.flaky] or ["none"]
    out += ["", "## Failures and errors", ""]
    bad = [c for c in night.cases if c.verdict in (Verdict.FAILED, Verdict.ERROR, Verdict.BLOCKED)]
    out += [f"- {c.verdict.upper()} {c.key} ({c.shard}){' rerun: ' + c.rerun if c.rerun else ''}: {_md(c.message)}"
            for c in bad] or ["none"]
    out += ["", "## Against the previous night", ""]
    if night.diff is None:
        out.append(night.previous_problem or "no previous night under the root: nothing to compare")
    else:
        out.append(f"previous night: {night.diff.previous}")
        out += [""] + ([f"- {_md(line)}" for line in night.diff.lines()] or ["no change"])
    if night.not_run:
        out += ["", f"## Applicable cases no shard ran ({len(night.not_run)})", "", ", ".join(night.not_run)]
    return "\n".join(out) + "\n"


def write_night(night: Night) -> Night:
    """Write the merged junit.xml, night.json and night.md into the night folder."""
    inputs = [night.folder / s.name / JUNIT for s in night.shards]
    inputs += [night.folder / s.rerun_folder / JUNIT for s in night.shards if s.rerun_folder]
    inputs = [p for p in inputs if p.is_file()]
    if inputs:
        try:
            merge(night.folder / JUNIT, inputs)
            night.junit = JUNIT
        except JUnitFileError as exc:
            night.junit = ""
            night.previous_problem = (night.previous_problem + "; " if night.previous_problem else "") + str(exc)
    write_atomically(night.folder / NIGHT_JSON, json.dumps(night_json(night), indent=2, ensure_ascii=False) + "\n")
    write_atomically(night.folder / NIGHT_MD, night_markdown(night))
    return night


# -- running a night ----------------------------------------------------------------------------------------


def _run_pytest(command: list[str], log: Path) -> int:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as out:
        out.write("$ " + " ".join(command) + "\n")
        out.flush()
        return subprocess.run(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, check=False).returncode


def _usage_line(log: Path) -> str:
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return next((line.removeprefix("ERROR: ").strip() for line in reversed(lines) if line.startswith("ERROR:")),
                lines[-1].strip() if lines else "")


def _write_plan(night: Path, plan: dict[str, Any]) -> None:
    write_atomically(night / PLAN_JSON, json.dumps(plan, indent=2) + "\n")


def run_shard(night: Path, shard: Shard, workers: int, extra: list[str], entry: dict[str, Any]) -> None:
    """Run one shard, then rerun at once, on the same bench, each case it failed."""
    folder = night / shard.name
    entry["command"] = shard_command(shard, folder, workers, extra)
    entry["exit_status"] = _run_pytest(entry["command"], night / LOG_DIR / f"{shard.name}.log")
    print(f"nightly: shard {shard.name}: pytest exit {entry['exit_status']}", flush=True)
    contents, _ = _read(folder)
    if contents is None:
        return
    failed = [c.case_id for c in contents.cases if c.verdict is Verdict.FAILED and c.case_id]
    if not failed:
        return
    rerun = night / RERUN_DIR / shard.name
    entry["rerun_command"] = rerun_command(shard, rerun, failed, extra, contents.run.seed)
    entry["rerun_exit_status"] = _run_pytest(entry["rerun_command"], night / LOG_DIR / f"rerun-{shard.name}.log")
    print(f"nightly: shard {shard.name}: reran {len(failed)} failed case(s), pytest exit "
          f"{entry['rerun_exit_status']}", flush=True)


def run_night(root: Path, shards: list[Shard], workers: int, extra: list[str], today: date | None = None) -> Night:
    night = new_night(root, today or datetime.now(UTC).date())
    # Where CI finds the night this run made, written first so a night killed halfway is collected too.
    write_atomically(root / LATEST, night.name + "\n")
    print(f"nightly: night {night} with {len(shards)} shard(s)", flush=True)
    plan: dict[str, Any] = {"night": night.name, "started": datetime.now(UTC).isoformat(),
                            "shards": [{"name": s.name, "areas": list(s.areas)} for s in shards]}
    _write_plan(night, plan)
    # Each bench is its own hardware: the shards run side by side, each with its rerun right after it.
    with ThreadPoolExecutor(max_workers=len(shards)) as pool:
        for future in [pool.submit(run_shard, night, s, workers, extra, e) for s, e in zip(shards, plan["shards"],
                                                                                            strict=True)]:
            future.result()
    plan["finished"] = datetime.now(UTC).isoformat()
    _write_plan(night, plan)
    refused = [e for e in plan["shards"] if e.get("exit_status") == _PYTEST_USAGE]
    if refused and len(refused) == len(shards) and not any((night / s.name / "journal.jsonl").exists() for s in shards):
        line = _usage_line(night / LOG_DIR / f"{refused[0]['name']}.log")
        shutil.rmtree(night)  # made a moment ago and holds only the refusal: no night to keep
        (root / LATEST).unlink(missing_ok=True)
        raise NightlyError(f"pytest refused the options: {line}")
    return write_night(assemble(night, root))


# -- the command line ---------------------------------------------------------------------------------------


def add_parser(commands: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    class NightlyParser(parser_class):  # type: ignore[misc, valid-type]
        def parse_known_args(self, args=None, namespace=None):  # type: ignore[no-untyped-def]
            namespace, extras = super().parse_known_args(args, namespace)
            if extras and self.prog.endswith(" run"):  # a pytest option before "--": say where it goes
                self.error(f"unrecognized arguments: {' '.join(extras)}; give pytest options after -- "
                           "(nightly run --root=nightly/ ... -- --case=TC-JOIN-*)")
            return namespace, extras

    nightly = commands.add_parser("nightly", help="the nightly lab job: run shards, rerun failures, merge, diff")
    steps = nightly.add_subparsers(dest="nightly_command", required=True, parser_class=NightlyParser)
    run = steps.add_parser("run", help="run the suite on each bench into <root>/<UTC date>/ and report the night")
    run.add_argument("--root", type=Path, required=True, help="the folder of the night folders (e.g. nightly/)")
    run.add_argument("--bench", action="append", default=[], help="bench profile; repeat for several benches")
    run.add_argument("--profile", action="append", default=[], help="DUT profile: once, or once per --bench")
    run.add_argument("--dut", action="append", default=[], help="DUT (sim:ihd, /dev/ttyUSB0): once or per --bench")
    run.add_argument("--radio", action="append", default=[], help="golden radio (ezsp:<port>): once or per --bench")
    run.add_argument("--shards", type=int, default=1, metavar="N",
                     help="xdist workers per bench (simulated DUTs only; default 1)")
    run.add_argument("--split", choices=("area", "none"), default="area",
                     help="with several benches: hand each bench whole feature areas (area, default) or run the "
                          "whole suite on every bench (none)")
    run.add_argument("pytest_args", nargs=argparse.REMAINDER,
                     help="after --: options for every pytest run (--case=..., --fault=..., --pixit ...)")
    report = steps.add_parser("report", help="rebuild night.json, night.md and junit.xml of a night folder")
    report.add_argument("night", type=Path)
    report.add_argument("--root", type=Path, help="where the previous nights are (default: the night's parent)")


def _print_night(night: Night) -> None:
    print(f"night {night.name}: {night.assessment.verdict.value}: {'; '.join(night.assessment.reasons)}")
    for case in night.flaky:
        print(f"flaky: {case.key} ({case.shard})")
    if night.diff is not None:
        for line in night.diff.lines():
            print(line)
    print(f"report: {night.folder / NIGHT_MD} and {night.folder / NIGHT_JSON} (exit {night.exit_code})")


def main(args: argparse.Namespace) -> int:
    try:
        if args.nightly_command == "report":
            night = write_night(assemble(args.night, args.root))
        else:
            # LATEST names the night of this run only: a run refused before it starts leaves none.
            if args.root.exists() and not args.root.is_dir():
                raise NightlyError(f"--root={args.root}: not a folder; give the folder that holds the nights")
            (args.root / LATEST).unlink(missing_ok=True)
            if args.shards < 1:
                raise NightlyError(f"--shards {args.shards}: give 1 or more xdist workers per bench")
            extra = check_passthrough(args.pytest_args)
            sets = bench_sets(args.bench, args.profile, args.dut, args.radio)
            physical = [b for b in sets
                        if (b.dut and not b.dut.startswith("sim:")) or (b.radio or "").startswith("ezsp")]
            if args.shards > 1 and physical:
                raise NightlyError(f"--shards {args.shards}: a bench has one radio and one DUT, so its cases run "
                                   "one at a time; give several --bench sets to run benches side by side")
            night = run_night(args.root, plan_shards(sets, args.split), args.shards, extra)
    except NightlyError as exc:
        print(f"reports nightly {args.nightly_command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    _print_night(night)
    return night.exit_code

"""Enumerate mutants with cosmic-ray, draw a seeded sample, judge each with the conformance suite."""

from __future__ import annotations

import ast
import dataclasses
import difflib
import functools
import json
import os
import queue
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cosmic_ray.commands.init import init as cosmic_ray_init
from cosmic_ray.mutating import use_mutation
from cosmic_ray.plugins import get_operator
from cosmic_ray.work_db import WorkDB, use_db

from .cases_by_line import CasesByLine, Selection, measure, statement_span
from .targets import TARGETS

#: The suite's exit codes (README): 0 CONFORMANT, 1 NOT CONFORMANT, 6 INCONCLUSIVE, 7 PARTIAL (a selection of
#: cases that all passed: what a run of the cases that execute the mutant ends with when the mutant survives).
CONFORMANT, NOT_CONFORMANT, INCONCLUSIVE, PARTIAL = 0, 1, 6, 7


@dataclass(frozen=True, order=True)
class Mutant:
    module: str  # path under the repository
    line: int
    operator: str
    occurrence: int
    args: str = "{}"  # the operator's arguments, as JSON (cosmic-ray's parameterised operators)

    @property
    def key(self) -> str:
        return f"{self.module}:{self.line} {self.operator}#{self.occurrence}"


@dataclass
class Judgement:
    mutant: Mutant
    outcome: str  # killed | survived | not-applied | unexpected
    how: str  # which run decided it, and its verdict
    seconds: float
    diff: str = ""
    runs: list[dict[str, object]] = field(default_factory=list)
    drawn_as: str = ""  # with --draw-at: the mutant's key at the revision it was drawn at


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where *source*'s type annotations are, as ((line, column), (end line, end column)) spans. Every module
    of the reference devices says ``from __future__ import annotations``: an annotation is never evaluated, so
    a mutant inside one is equivalent by construction and the draw leaves it out."""
    spans = []
    for node in ast.walk(ast.parse(source)):
        annotations: list[ast.expr | None] = []
        if isinstance(node, ast.arg):
            annotations.append(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            annotations.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        spans += [((a.lineno, a.col_offset), (a.end_lineno or a.lineno, a.end_col_offset or 0))
                  for a in annotations if a is not None]
    return spans


def _in_annotation(start: tuple[int, int], spans: list[tuple[tuple[int, int], tuple[int, int]]]) -> bool:
    return any(begin <= start < end for begin, end in spans)


@functools.cache
def _fault_settings_off() -> frozenset[str]:
    """The fields of the fault settings classes (the KE engine's, the clients', the OpenSEG server's) whose
    conformant value is off (False, None, 0): a condition that reads one of them is true only with a fault."""
    from harness.devices.clients.drlc import DrlcClientFaults
    from harness.devices.clients.messaging import MessagingClientFaults
    from harness.devices.clients.price import PriceClientFaults
    from harness.devices.clients.time import TimeClientFaults
    from harness.ke.faults import DeviceKeFaults
    from harness.openseg.server import ServerFaults

    classes = (DrlcClientFaults, MessagingClientFaults, PriceClientFaults, TimeClientFaults, DeviceKeFaults,
               ServerFaults)
    return frozenset(f.name for c in classes for f in dataclasses.fields(c)
                     if f.default is not dataclasses.MISSING and not f.default)


def _fault_flag_attributes(tree: ast.AST) -> frozenset[str]:
    """A device's own fault flags: attributes assigned from ``faults.has(FAULT)`` or ``faults.acts(FAULT, ...)``
    (``self._fixed_layout = self.faults.acts(REPORT_LAYOUT_FIXED, ...)``), so false on a conformant device."""
    flags = set()
    for node in ast.walk(tree):
        value = node.value if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
        if (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                and value.func.attr in ("has", "acts") and _names_faults(value.func.value)):
            target = node.targets[0]
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
                flags.add(target.attr)
    return frozenset(flags)


def _names_faults(node: ast.expr) -> bool:
    """``faults`` or ``<...>.faults``."""
    return ((isinstance(node, ast.Name) and node.id == "faults")
            or (isinstance(node, ast.Attribute) and node.attr == "faults"))


def _asks_for_a_fault(node: ast.expr, flags: frozenset[str]) -> bool:
    """``faults.has(FAULT)`` / ``faults.acts(FAULT, ...)``, a fault setting read as ``<...>faults.<field>``, or
    one of the module's own fault flags read as ``self.<flag>``."""
    if isinstance(node, ast.Call):
        return (isinstance(node.func, ast.Attribute) and node.func.attr in ("has", "acts")
                and len(node.args) >= 1)
    if isinstance(node, ast.Attribute) and node.attr in _fault_settings_off():
        owner = node.value
        return ((isinstance(owner, ast.Name) and owner.id == "faults")
                or (isinstance(owner, ast.Attribute) and owner.attr == "faults"))
    if isinstance(node, ast.Attribute) and node.attr in flags:
        return isinstance(node.value, ast.Name) and node.value.id == "self"
    return False


def _end(node: ast.AST) -> tuple[int, int]:
    return (getattr(node, "end_lineno", None) or node.lineno, getattr(node, "end_col_offset", None) or 0)


def fault_only_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where *source* runs only with a seeded fault: the body of ``if faults.has(FAULT):`` (or ``acts``, a fault
    setting that is off on a conformant device: ``if self.faults.wrong_mac:``, or a device's own fault flag:
    ``if self._fixed_layout:``); the rest of a conjunction ``faults.has(FAULT) and ...`` wherever it stands (an
    ``if``, a ``not (...)``, a ``return``, an assignment); and the fault's branch of ``a if faults.x else b``.
    The suite judges the conformant device, which never runs there: a mutant there is equivalent for it (the
    fault matrix judges that code instead). The fault's own test (``faults.x``) is not left out."""
    tree = ast.parse(source)
    flags = _fault_flag_attributes(tree)
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And) and _asks_for_a_fault(node.values[0], flags):
            spans.append((_end(node.values[0]), _end(node)))
        elif isinstance(node, ast.IfExp) and _asks_for_a_fault(node.test, flags):
            spans.append(((node.body.lineno, node.body.col_offset), _end(node.body)))
        elif isinstance(node, ast.If):
            test = node.test
            first = test.values[0] if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) else test
            if _asks_for_a_fault(first, flags):
                body_end = node.body[-1]
                spans.append(((node.body[0].lineno, 0), (_end(body_end)[0] + 1, 0)))
    return spans


def enumerate_mutants(root: Path, modules: list[str]) -> list[Mutant]:
    """Every mutant cosmic-ray's core operators make of *modules*, but those inside type annotations and those
    in code only a seeded fault runs (equivalent by construction for the conformant device the suite judges)."""
    spans = {m: annotation_spans((root / m).read_text()) + fault_only_spans((root / m).read_text()) for m in modules}
    with tempfile.TemporaryDirectory() as scratch:
        db_path = Path(scratch) / "session.sqlite"
        with use_db(str(db_path), WorkDB.Mode.create) as db:
            cosmic_ray_init([root / m for m in modules], db, {})
            mutants = []
            for item in db.work_items:
                for spec in item.mutations:
                    module = str(Path(spec.module_path).resolve().relative_to(root))
                    if _in_annotation(tuple(spec.start_pos), spans.get(module, [])):
                        continue
                    mutants.append(Mutant(module=module, line=spec.start_pos[0], operator=spec.operator_name,
                                          occurrence=spec.occurrence,
                                          args=json.dumps(spec.operator_args, sort_keys=True)))
    return sorted(mutants)


def draw_sample(mutants: list[Mutant], size: int, seed: int) -> list[Mutant]:
    """A seeded draw without replacement: the same seed and code give the same sample."""
    return sorted(random.Random(seed).sample(mutants, min(size, len(mutants))))


# -- The same sample, judged again on today's code -------------------------------------------------------------
# A case added to kill a survivor changes the devices' code (its fault), so the same seed no longer draws the same
# mutants: the sample's kill rate would move for two reasons at once. Drawing at the earlier revision and finding
# each mutant in today's code by the text it changes judges the same 200 mutants again, so the survivors' triage
# carries over and the new figure measures only what the new cases judge.

def checkout_modules(root: Path, revision: str, modules: list[str], into: Path) -> Path:
    """*modules* as they were at git *revision*, under *into* (a tree cosmic-ray can enumerate)."""
    for module in modules:
        shown = subprocess.run(["git", "show", f"{revision}:{module}"], cwd=root, capture_output=True, text=True)
        if shown.returncode != 0:
            raise SystemExit(f"--draw-at {revision}: {module} is not in that revision ({shown.stderr.strip()}); "
                             "choose a revision that has every target module")
        target = into / module
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(shown.stdout)
    return into


@dataclass(frozen=True)
class Change:
    """What a mutant does to its module's text, independent of where the module's lines are: the lines it
    replaces, the lines it writes, and the unchanged line either side (whitespace stripped)."""

    before: tuple[str, ...]
    removed: tuple[str, ...]
    added: tuple[str, ...]
    after: tuple[str, ...]

    def in_place(self) -> tuple[str, str, str, str]:
        """The change within its line: the text just before it, what it replaces, what it writes, the text just
        after it (spaces dropped). A statement rewritten around an expression (a fault's branch added:
        ``x = a if faults.has(F) else b``) keeps the expression's mutant, found by this."""
        old, new = " ".join(self.removed).replace(" ", ""), " ".join(self.added).replace(" ", "")
        start = 0
        while start < min(len(old), len(new)) and old[start] == new[start]:
            start += 1
        end = 0
        while end < min(len(old), len(new)) - start and old[-1 - end] == new[-1 - end]:
            end += 1
        return (old[max(0, start - _CONTEXT):start], old[start:len(old) - end], new[start:len(new) - end],
                old[len(old) - end:len(old) - end + _CONTEXT])


#: Characters of a line either side of a change that must match for a mutant to be found in a rewritten line,
#: and how far (lines) from where it was such a line is looked for.
_CONTEXT = 12
_NEAR_LINES = 150
_MIN_CONTEXT = 4


def change_of(tree: Path, mutant: Mutant) -> Change | None:
    """The change *mutant* makes in *tree* (None if cosmic-ray applies nothing there). The file is restored."""
    operator = get_operator(mutant.operator)(**json.loads(mutant.args))
    with use_mutation(tree / mutant.module, operator, mutant.occurrence) as (original, mutated):
        if mutated is None:
            return None
        old, new = original.splitlines(), mutated.splitlines()
    hunks = [op for op in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes() if op[0] != "equal"]
    first, last = hunks[0], hunks[-1]
    strip = lambda lines: tuple(line.strip() for line in lines)  # noqa: E731
    return Change(before=strip(old[max(0, first[1] - 2):first[1]]), removed=strip(old[first[1]:last[2]]),
                  added=strip(new[first[3]:last[4]]), after=strip(old[last[2]:last[2] + 2]))


def _in_rewritten_line(new_tree: Path, mutant: Mutant, wanted: Change, operators: list[Mutant],
                       old_texts: set[str]) -> list[Mutant]:
    """Today's mutants near *mutant*'s old line, on a line that is new since (a line that was there before is
    where that line's own mutants went), that replace the same text by the same text: the one whose
    surroundings agree most with the old ones (at least _MIN_CONTEXT characters of them)."""
    before, removed, added, after = wanted.in_place()
    lines = (new_tree / mutant.module).read_text().splitlines()
    scored: list[tuple[int, Mutant]] = []
    for m in (m for m in operators if abs(m.line - mutant.line) <= _NEAR_LINES
              and lines[m.line - 1].strip() not in old_texts):
        change = change_of(new_tree, m)
        if change is None:
            continue
        b, r, a, f = change.in_place()
        if (r, a) != (removed, added):
            continue
        agree = len(os.path.commonprefix([before[::-1], b[::-1]])) + len(os.path.commonprefix([after, f]))
        if agree >= _MIN_CONTEXT:
            scored.append((agree, m))
    best = max((agree for agree, _ in scored), default=None)
    return [m for agree, m in scored if agree == best]


def carry_sample(old_tree: Path, new_tree: Path, sample: list[Mutant],
                 today: list[Mutant]) -> tuple[list[Mutant], list[tuple[Mutant, str]], dict[Mutant, Mutant]]:
    """Find each mutant of *sample* (drawn in *old_tree*) among *today*'s mutants of *new_tree*: the one of the
    same operator that makes the same change to the same lines, with the same neighbours if there is one (a fault's
    branch added beside a statement changes its neighbours only), the nearest such if a statement is repeated. Returns (carried mutants, (mutant, why) for those whose code has changed, and
    today's mutant -> the drawn one)."""
    by_module: dict[str, list[Mutant]] = {}
    for mutant in today:
        by_module.setdefault(mutant.module, []).append(mutant)
    new_lines = {m: (new_tree / m).read_text().splitlines() for m in {s.module for s in sample}}
    old_lines = {m: (old_tree / m).read_text().splitlines() for m in {s.module for s in sample}}
    carried: list[Mutant] = []
    gone: list[tuple[Mutant, str]] = []
    origin: dict[Mutant, Mutant] = {}
    for mutant in sample:
        wanted = change_of(old_tree, mutant)
        text = old_lines[mutant.module][mutant.line - 1].strip()
        operators = [m for m in by_module.get(mutant.module, []) if (m.operator, m.args) == (mutant.operator, mutant.args)]
        candidates = [m for m in operators if new_lines[m.module][m.line - 1].strip() == text]
        changes = {m: change_of(new_tree, m) for m in candidates}
        same = [m for m, change in changes.items() if change == wanted]
        if not same and wanted is not None:  # a neighbouring line changed (a fault's branch added beside it)
            same = [m for m, change in changes.items()
                    if change is not None and (change.removed, change.added) == (wanted.removed, wanted.added)]
        if not same and wanted is not None:  # the line itself was rewritten around the mutated expression
            same = _in_rewritten_line(new_tree, mutant, wanted, operators,
                                      {line.strip() for line in old_lines[mutant.module]})
        if not same:
            gone.append((mutant, "its code has changed since (or is now fault-only)" if not candidates
                         else "its line is still there, but no mutant of today makes the same change"))
            continue
        found = min(same, key=lambda m: abs(m.line - mutant.line))
        carried.append(found)
        origin[found] = mutant
    return sorted(carried), gone, origin


@dataclass
class MutationRun:
    root: Path
    out: Path
    workers: int
    timeout: float
    seed: int
    population: int
    models_for: Callable[[str], tuple[str, ...]]
    #: Run only the cases that execute the mutated statement (cases_by_line.py); False runs the whole suite.
    select: bool = True
    cases: dict[str, CasesByLine] = field(default_factory=dict)  # per model, measured by _baseline
    #: --draw-at: the revision the sample was drawn at, each judged mutant's key there, and the drawn mutants
    #: whose code has changed since (not judged).
    drawn_at: str | None = None
    drawn_as: dict[str, str] = field(default_factory=dict)
    gone: list[tuple[Mutant, str]] = field(default_factory=list)


@dataclass
class Summary:
    judged: list[Judgement]
    population: int
    seed: int
    seconds: float
    drawn_at: str | None = None
    gone: list[tuple[Mutant, str]] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        return Counter(j.outcome for j in self.judged)

    def kill_rate(self) -> float:
        counts = self.counts()
        decided = counts["killed"] + counts["survived"]
        return counts["killed"] / decided if decided else 0.0

    def line(self) -> str:
        c = self.counts()
        drawn = f", drawn at {self.drawn_at}, {len(self.gone)} changed since" if self.drawn_at else ""
        return (f"mutation sample (seed {self.seed}{drawn}, {len(self.judged)} of {self.population}): "
                f"{c['killed']} killed, {c['survived']} survived, {c['not-applied']} not applied, "
                f"{c['unexpected']} unexpected; kill rate {self.kill_rate():.1%} in {self.seconds:.0f} s")


def _tree_copy(root: Path, into: Path) -> Path:
    """The repository's tracked and untracked (not ignored) files: a private tree a worker may mutate."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=root, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = root / name
        if source.is_file():
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return into


def _suite(tree: Path, model: str, timeout: float, artifacts: Path,
           cases: Selection = None) -> tuple[int | None, float, str]:
    """One conformance run against sim:*model* in *tree*, of *cases* (node ids) or the whole suite: (exit code
    or None on timeout, seconds, tail)."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:benchmark",
               f"--dut=sim:{model}", "--seed=1",
               f"--artifacts={artifacts}", *(cases or ())]
    started = time.monotonic()
    try:
        done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, time.monotonic() - started, ""
    tail = "\n".join(((done.stdout or "") + (done.stderr or "")).strip().splitlines()[-4:])
    return done.returncode, time.monotonic() - started, tail


def _judge(mutant: Mutant, tree: Path, run: MutationRun, scratch: Path) -> Judgement:
    started = time.monotonic()
    operator = get_operator(mutant.operator)(**json.loads(mutant.args))
    path = tree / mutant.module
    statement = statement_span(path.read_text(), mutant.line)
    with use_mutation(path, operator, mutant.occurrence) as (original, mutated):
        if mutated is None:
            return Judgement(mutant, "not-applied", "cosmic-ray applied nothing", 0.0)
        diff = "".join(difflib.unified_diff(original.splitlines(True), mutated.splitlines(True),
                                            fromfile=mutant.module, tofile=mutant.module, n=1))
        runs: list[dict[str, object]] = []
        for model in run.models_for(mutant.module):
            cases = run.cases[model].cases_for(mutant.module, mutant.line, statement) if run.select else None
            if cases == ():
                runs.append({"model": model, "exit": None, "seconds": 0.0, "tail": "no case runs the statement"})
                continue
            artifacts = Path(tempfile.mkdtemp(prefix=f"{model}-", dir=scratch))  # a run needs an empty folder
            code, seconds, tail = _suite(tree, model, run.timeout, artifacts, cases)
            shutil.rmtree(artifacts, ignore_errors=True)
            runs.append({"model": model, "exit": code, "seconds": round(seconds, 1), "tail": tail,
                         "cases": "all" if cases is None else len(cases)})
            if code is None:
                return Judgement(mutant, "killed", f"sim:{model} passed its {run.timeout:.0f} s deadline",
                                 time.monotonic() - started, diff, runs)
            if code in (NOT_CONFORMANT, INCONCLUSIVE):
                verdict = "NOT CONFORMANT" if code == NOT_CONFORMANT else "INCONCLUSIVE"
                return Judgement(mutant, "killed", f"sim:{model} {verdict}", time.monotonic() - started, diff, runs)
            if code not in (CONFORMANT, PARTIAL):
                # A usage error or pytest's own failure (collection, import): the mutant broke loading the
                # device, which no DUT profile could claim, so the suite did notice; kept apart in the counts.
                return Judgement(mutant, "killed", f"sim:{model} exit {code} (did not load)",
                                 time.monotonic() - started, diff, runs)
        return Judgement(mutant, "survived", "every case that runs it passed on every targeted device",
                         time.monotonic() - started, diff, runs)


def _baseline(tree: Path, run: MutationRun, models: tuple[str, ...], scratch: Path) -> None:
    """Every targeted device is CONFORMANT unmutated, or no mutant's verdict would mean anything; with
    selection, that run is under coverage and tells which cases run which line."""
    for model in models:
        if run.select:
            started = time.monotonic()
            modules = [m for m in TARGETS if model in run.models_for(m)]
            run.cases[model] = measure(tree, model, modules, scratch / f"baseline-{model}", run.timeout * 3)
            print(f"baseline sim:{model}: CONFORMANT under coverage in {time.monotonic() - started:.1f} s",
                  flush=True)
            continue
        code, seconds, tail = _suite(tree, model, run.timeout, scratch / f"baseline-{model}")
        if code != CONFORMANT:
            raise SystemExit(f"baseline: sim:{model} is not CONFORMANT unmutated (exit {code}); fix that first:\n"
                             f"{tail}")
        print(f"baseline sim:{model}: CONFORMANT in {seconds:.1f} s", flush=True)


def run_sample(run: MutationRun, sample: list[Mutant]) -> Summary:
    """Judge *sample* on *run.workers* private trees; results are appended as they come (a killed run keeps
    them), then summarised in summary.json and survivors.md."""
    run.out.mkdir(parents=True, exist_ok=True)
    results_path = run.out / "results.jsonl"
    results_path.write_text("")
    started = time.monotonic()
    judged: list[Judgement] = []
    lock = threading.Lock()
    todo: queue.Queue[Mutant] = queue.Queue()
    # Judged in a seeded random order, not module by module: a run stopped early still holds an unbiased part.
    for mutant in random.Random(run.seed).sample(sample, len(sample)):
        todo.put(mutant)
    with tempfile.TemporaryDirectory(prefix="se-mutation-") as scratch_root:
        trees = [_tree_copy(run.root, Path(scratch_root) / f"tree-{n}") for n in range(run.workers)]
        models = tuple(dict.fromkeys(m for mutant in sample for m in run.models_for(mutant.module)))
        _baseline(trees[0], run, models, Path(scratch_root) / "baseline")

        def worker(n: int) -> None:
            while True:
                try:
                    mutant = todo.get_nowait()
                except queue.Empty:
                    return
                judgement = _judge(mutant, trees[n], run, Path(scratch_root))
                judgement.drawn_as = run.drawn_as.get(mutant.key, "")
                with lock:
                    judged.append(judgement)
                    with results_path.open("a") as results:
                        results.write(json.dumps(asdict(judgement)) + "\n")
                    print(f"[{len(judged)}/{len(sample)}] {judgement.outcome:9} {mutant.key}  ({judgement.how})",
                          flush=True)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(run.workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    summary = Summary(sorted(judged, key=lambda j: j.mutant), run.population, run.seed,
                      time.monotonic() - started, run.drawn_at, run.gone)
    _write_summary(run.out, summary)
    return summary


def _write_summary(out: Path, summary: Summary) -> None:
    counts = summary.counts()
    by_module: dict[str, Counter[str]] = {}
    for j in summary.judged:
        by_module.setdefault(j.mutant.module, Counter())[j.outcome] += 1
    (out / "summary.json").write_text(json.dumps({
        "seed": summary.seed, "population": summary.population, "sample": len(summary.judged),
        "drawn_at": summary.drawn_at, "changed_since": [[m.key, why] for m, why in summary.gone],
        "counts": dict(counts), "kill_rate": round(summary.kill_rate(), 4), "seconds": round(summary.seconds),
        "by_module": {m: dict(c) for m, c in sorted(by_module.items())},
    }, indent=2) + "\n")
    lines = [f"# Surviving mutants ({summary.line()})", "",
             "Triage each: equivalent (say why), or a requirement no case judges (add the case).", ""]
    for j in summary.judged:
        if j.outcome == "survived":
            drawn = [f"(drawn at {summary.drawn_at} as {j.drawn_as})", ""] if j.drawn_as else []
            lines += [f"## {j.mutant.key}", "", *drawn, "```diff", j.diff.rstrip(), "```", ""]
    (out / "survivors.md").write_text("\n".join(lines))

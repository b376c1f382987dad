"""JUnit XML for CI: suite properties, merging several runs, and the nightly diff (junitparser).

Properties added to every <testsuite>: ``dut.manufacturer``, ``dut.model``, ``dut.firmware``, ``dut.ieee``,
``dut.device_type``, ``pics.sha256``, ``suite.version``, ``bench.id``. ``diff`` keys a case by the bench and
DUT of its suite (those properties) and its case id (the ``case_id`` property; classname and name for a
file without one), so a file merged from several benches keeps their cases apart, while the same key
appearing twice in one file is a retry.

pytest's JUnit writer knows only pass, fail and skip; ``apply_verdicts`` rewrites each case's outcome from
the journal, so JUnit agrees with the report: a bench error is ``<error>`` (never ``<failure>``), a case not
applicable is ``<skipped>`` with its PICS reason, a blocked one ``<skipped>`` with ``blocked: ...``.
"""

from __future__ import annotations

import copy
import io
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from junitparser import Error, Failure, JUnitXml, JUnitXmlError, Properties, Property, Skipped, TestSuite

from harness.atomic import write_atomically
from harness.results import CaseResult, RunInfo, Verdict, assess_run, not_run


class JUnitFileError(ValueError):
    """A JUnit file that is missing or malformed; the one-line message names the file."""


def load(path: Path | str) -> JUnitXml:
    path = Path(path)
    if not path.is_file():
        raise JUnitFileError(f"{path}: no such JUnit file")
    try:
        return JUnitXml.fromfile(str(path))
    except ElementTree.ParseError as exc:
        raise JUnitFileError(f"{path}: malformed XML ({exc})") from None
    except JUnitXmlError:
        raise JUnitFileError(f"{path}: not JUnit XML (the root must be <testsuites> or <testsuite>)") from None
    except OSError as exc:
        raise JUnitFileError(f"{path}: cannot read ({exc.strerror})") from None


def suite_properties(run: RunInfo, cases: list[CaseResult] | None = None) -> dict[str, str]:
    properties = {
        "dut.manufacturer": run.dut.manufacturer,
        "dut.model": run.dut.model,
        "dut.firmware": run.dut.firmware,
        "dut.ieee": run.dut.ieee,
        "dut.device_type": run.dut.device_type,
        "pics.sha256": run.pics_hash,
        "suite.version": run.suite_version,
        "bench.id": run.bench.id,
    }
    if run.scope is not None:
        # A CI dashboard reading only JUnit must see that a run was a selection, not the whole suite.
        properties["scope.selection"] = "; ".join(run.scope.selection) or "complete"
        properties["scope.overrides"] = "; ".join(run.scope.overrides) or "none"
        properties["scope.applicable"] = str(len(run.scope.applicable))
    if cases is not None:
        # Written before the journal's end record (which seals JUnit in), so judged as a complete run.
        properties["scope.not_run"] = str(len(not_run(cases, run.scope)))
        properties["verdict"] = assess_run(run, cases, True).verdict.value
    return properties


def _set_property(suite: TestSuite, name: str, value: str) -> None:
    properties = suite.child(Properties)
    if properties is None:
        properties = Properties()
        suite._elem.insert(0, properties._elem)  # the JUnit schema puts <properties> first
    for existing in properties:
        if existing.name == name:
            existing.value = value
            return
    properties.add_property(Property(name, value))


def add_suite_properties(path: Path | str, run: RunInfo, cases: list[CaseResult] | None = None) -> None:
    """Add (or update) the run's properties on every <testsuite> of a JUnit file, replacing it atomically: a
    kill while it is rewritten leaves the file pytest wrote, never an empty or half-written one."""
    xml = load(path)
    for suite in xml:
        for name, value in suite_properties(run, cases).items():
            _set_property(suite, name, value)
    buffer = io.BytesIO()
    xml.write(buffer)
    write_atomically(path, buffer.getvalue())


def _case_id(case) -> str | None:
    for item in case.iterchildren(Properties):
        for prop in item:
            if prop.name == "case_id":
                return prop.value
    return None


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _skip_reason(result: CaseResult) -> str:
    """The one-line reason of a skipped case: the PICS (or profile) reason for not applicable, the operator's
    step for blocked, never a traceback or a path."""
    text = result.message.text if result.message else ""
    if result.verdict is Verdict.BLOCKED:
        # A blocked case's message is the ManualStepBlocked traceback, or the skip reason itself.
        raised = re.findall(r"ManualStepBlocked: (.+)", text)
        reason = raised[-1].strip() if raised else _first_line(text)
        return reason if reason.lower().startswith("blocked") else f"blocked: {reason or 'a manual step was not performed'}"
    reason = _first_line(text) or f"not applicable: the DUT does not claim PICS {' and '.join(result.pics)}"
    return reason if reason.lower().startswith("not applicable") else f"not applicable: {reason}"


def _message(result: CaseResult) -> str:
    message = result.message
    if message is None:
        return ""
    if message.expectation or message.observation:
        return f"expected {message.expectation}; observed {message.observation}" + (
            f" ({message.rule})" if message.rule else "")
    raised = re.findall(r"^E\s+(\S.*)$", message.text, re.MULTILINE)
    return raised[0].strip() if raised else _first_line(message.text)


def _outcome(case, result: CaseResult) -> None:
    """Set one <testcase>'s outcome from its journal verdict, keeping pytest's traceback text where there is one."""
    existing = list(case.result)
    trace = next((r.text for r in existing if isinstance(r, Failure | Error) and r.text), None)
    verdict = result.verdict
    if verdict is Verdict.PASSED:
        case.result = []
    elif verdict in (Verdict.FAILED, Verdict.ERROR):
        kind = Failure if verdict is Verdict.FAILED else Error
        if len(existing) == 1 and type(existing[0]) is kind:
            return  # pytest already wrote it this way, with its own message and traceback
        old = next((r for r in existing if isinstance(r, Failure | Error)), None)
        element = kind(_message(result) or (old.message if old is not None else "") or verdict.value,
                       old.type if old is not None else None)
        element.text = trace if trace is not None else (result.message.text if result.message else None)
        case.result = [element]
    else:  # not applicable, blocked: skipped, with the reason only (pytest's text starts with a file path)
        reason = _skip_reason(result)
        skipped = Skipped(reason, "blocked" if verdict is Verdict.BLOCKED else "not_applicable")
        skipped.text = reason
        case.result = [skipped]


def apply_verdicts(path: Path | str, cases: Iterable[CaseResult]) -> int:
    """Rewrite the outcome of every <testcase> carrying a ``case_id`` property from the journal's verdict for
    that case (the journal is the source of the report), then the suites' counts; the file is replaced
    atomically. Returns how many test cases changed."""
    path = Path(path)
    verdicts = {case.case_id: case for case in cases if case.case_id}
    xml = load(path)
    changed = 0
    for suite in xml:
        for case in suite:
            result = verdicts.get(_case_id(case) or "")
            if result is None:
                continue
            before = ElementTree.tostring(case._elem)
            _outcome(case, result)
            changed += ElementTree.tostring(case._elem) != before
        suite.update_statistics()
    xml.update_statistics()
    buffer = io.BytesIO()
    xml.write(buffer)
    write_atomically(path, buffer.getvalue())
    return changed


def merge(out: Path | str, inputs: Sequence[Path | str]) -> JUnitXml:
    """One JUnit file holding every <testsuite> of the inputs, each kept whole with its properties."""
    if not inputs:
        raise JUnitFileError("merge needs at least one input file")
    merged = JUnitXml()
    for path in inputs:
        for suite in load(path):
            # Appended as is: JUnitXml.add_testsuite would fold equal-named suites (pytest names every
            # suite "pytest") together and lose which bench or DUT a case ran on.
            merged.append(copy.deepcopy(suite))
    merged.update_statistics()
    merged.write(str(out))
    return merged


# Worst first: when a key has several entries, the worst verdict stands (a retry never hides a failure).
_SEVERITY = {"failed": 4, "error": 3, "passed": 2, "skipped": 1}


@dataclass(frozen=True)
class Entry:
    key: str
    verdict: str
    time: float


def _verdict(case) -> str:
    results = case.result
    if any(isinstance(r, Failure) for r in results):
        return "failed"
    if any(isinstance(r, Error) for r in results):
        return "error"
    if any(isinstance(r, Skipped) for r in results):
        return "skipped"
    return "passed"


def _context(suite: TestSuite) -> str:
    values = {p.name: p.value for p in (suite.properties() or [])}
    parts = [values.get("bench.id") or "", values.get("dut.ieee") or values.get("dut.model") or ""]
    return "/".join(parts) if any(parts) else ""


def entries(xml: JUnitXml) -> list[Entry]:
    found = []
    for suite in xml:
        context = _context(suite)
        for case in suite:
            name = _case_id(case) or (f"{case.classname}::{case.name}" if case.classname else str(case.name))
            found.append(Entry(f"[{context}] {name}" if context else name, _verdict(case), case.time or 0.0))
    return found


@dataclass
class CaseHistory:
    verdicts: list[str]
    time: float

    @property
    def verdict(self) -> str:
        return max(self.verdicts, key=lambda v: _SEVERITY[v])

    @property
    def flaky(self) -> bool:
        return len(set(self.verdicts)) > 1


def _histories(items: Iterable[Entry]) -> dict[str, CaseHistory]:
    histories: dict[str, CaseHistory] = {}
    for entry in items:
        history = histories.setdefault(entry.key, CaseHistory([], 0.0))
        history.verdicts.append(entry.verdict)
        history.time = max(history.time, entry.time)
    return histories


@dataclass
class Diff:
    new_failures: list[str] = field(default_factory=list)  # "key (verdict)": the DUT newly failed
    new_errors: list[str] = field(default_factory=list)  # a bench fault: never called a DUT failure
    fixes: list[str] = field(default_factory=list)
    flaky: list[str] = field(default_factory=list)  # verdict changed across entries in NEW, not in OLD
    still_flaky: list[str] = field(default_factory=list)  # flaky in both: known, not a regression
    slower: list[str] = field(default_factory=list)

    @property
    def regressed(self) -> bool:
        # A new bench error regresses the nightly run too (the bench needs looking at), but apart from the DUT's.
        return bool(self.new_failures or self.new_errors or self.flaky or self.slower)

    def lines(self) -> list[str]:
        return (
            [f"new failure: {item}" for item in self.new_failures]
            + [f"new error (bench): {item}" for item in self.new_errors]
            + [f"fixed: {item}" for item in self.fixes]
            + [f"flaky: {item}" for item in self.flaky]
            + [f"still flaky: {item}" for item in self.still_flaky]
            + [f"slower: {item}" for item in self.slower]
        )


def diff(old: Path | str, new: Path | str, *, max_slowdown: float = 0.5, min_slowdown_s: float = 1.0) -> Diff:
    """Compare two JUnit files. A case is slower when it passed in both and its time grew by more than
    ``max_slowdown`` (a fraction: 0.5 is +50 %) and by more than ``min_slowdown_s`` seconds."""
    before, after = _histories(entries(load(old))), _histories(entries(load(new)))
    result = Diff()
    bad = ("failed", "error")
    for key, now in after.items():
        then = before.get(key)
        was = "new case" if then is None else f"was {then.verdict}"
        if now.verdict == "failed" and (then is None or then.verdict != "failed"):
            # passed -> failed, and error -> failed: the bench no longer hides what the DUT does.
            result.new_failures.append(f"{key} (failed, {was})")
        elif now.verdict == "error" and (then is None or then.verdict != "error"):
            result.new_errors.append(f"{key} (error, {was})")
        if then is not None and then.verdict in bad and now.verdict == "passed":
            result.fixes.append(f"{key} (was {then.verdict})")
        if now.flaky:
            known = then is not None and then.flaky
            (result.still_flaky if known else result.flaky).append(f"{key} ({' -> '.join(now.verdicts)})")
        if (
            then is not None and then.verdict == "passed" and now.verdict == "passed"
            and now.time > then.time * (1 + max_slowdown) and now.time - then.time > min_slowdown_s
        ):
            result.slower.append(f"{key} ({then.time:.2f} s -> {now.time:.2f} s)")
    return result

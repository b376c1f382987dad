"""JUnit XML for CI: suite properties, merging several runs, and the nightly diff (junitparser).

Properties added to every <testsuite>: ``dut.manufacturer``, ``dut.model``, ``dut.firmware``, ``dut.ieee``,
``dut.device_type``, ``pics.sha256``, ``suite.version``, ``bench.id``. ``diff`` keys a case by the bench and
DUT of its suite (those properties) and its classname and name, so a file merged from several benches keeps
their cases apart, while the same key appearing twice in one file is a retry.
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from junitparser import Error, Failure, JUnitXml, JUnitXmlError, Properties, Property, Skipped, TestSuite

from harness.results import RunInfo


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


def suite_properties(run: RunInfo) -> dict[str, str]:
    return {
        "dut.manufacturer": run.dut.manufacturer,
        "dut.model": run.dut.model,
        "dut.firmware": run.dut.firmware,
        "dut.ieee": run.dut.ieee,
        "dut.device_type": run.dut.device_type,
        "pics.sha256": run.pics_hash,
        "suite.version": run.suite_version,
        "bench.id": run.bench.id,
    }


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


def add_suite_properties(path: Path | str, run: RunInfo) -> None:
    """Add (or update) the run's properties on every <testsuite> of a JUnit file, in place."""
    xml = load(path)
    for suite in xml:
        for name, value in suite_properties(run).items():
            _set_property(suite, name, value)
    xml.write(str(path))


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
            name = f"{case.classname}::{case.name}" if case.classname else str(case.name)
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
    new_failures: list[str] = field(default_factory=list)  # "key (verdict)"
    fixes: list[str] = field(default_factory=list)
    flaky: list[str] = field(default_factory=list)  # verdict changed across entries in NEW, not in OLD
    still_flaky: list[str] = field(default_factory=list)  # flaky in both: known, not a regression
    slower: list[str] = field(default_factory=list)

    @property
    def regressed(self) -> bool:
        return bool(self.new_failures or self.flaky or self.slower)

    def lines(self) -> list[str]:
        return (
            [f"new failure: {item}" for item in self.new_failures]
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
        if now.verdict in bad and (then is None or then.verdict not in bad):
            was = "new case" if then is None else f"was {then.verdict}"
            result.new_failures.append(f"{key} ({now.verdict}, {was})")
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

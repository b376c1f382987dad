"""What the suite adds to allure-pytest-bdd's results (allure-results/ in a run folder).

- Every result carries its case id (``TC-ATTR-1.2[Basic]``) as ``testCaseId`` and as a ``case_id`` label;
  allure-pytest-bdd alone would put an md5 of the scenario's name there.
- Strings are redacted as each result is written: pytest-bdd hands fixtures to steps and allure records
  their reprs as step parameters. Its attachment files are redacted at the same time.
- The scenario's log is attached once: the suite's own (redacted) ``log.txt`` when the case's artifacts are
  kept, else pytest's captured log.
- A case that never started (not applicable at collection: its PICS are not claimed) still gets a result,
  skipped with the reason; allure-pytest-bdd only reports scenarios that ran.
- ``environment.properties``: the DUT, its firmware, the PICS hash, the suite version, the bench and the seed.

No pytest here: harness/plugin.py registers :class:`SuiteAllure` and passes plain values in.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from harness.atomic import write_atomically
from harness.redact import Redactor, redact_path
from harness.results import RunInfo

try:
    import allure_commons
    from allure_commons.model2 import Label, StatusDetails, TestResult
    from allure_commons.utils import md5
except ImportError:  # allure is optional at run time
    allure_commons = None

LOGGER = logging.getLogger(__name__)
ENVIRONMENT_NAME = "environment.properties"
CASE_ID_LABEL = "case_id"
SUITE_LOG = "log.txt"  # the scenario log the suite writes (harness/plugin.py)
CAPTURED_LOG = "log"  # pytest's captured log, as allure-pytest-bdd names it


def _walk(item: Any) -> Iterator[Any]:
    """The result and every step under it."""
    yield item
    for step in getattr(item, "steps", None) or []:
        yield from _walk(step)


def _redact_model(obj: Any, redactor: Redactor) -> None:
    """Redact every string of an allure model object (attrs classes) in place."""
    for field_name in getattr(type(obj), "__attrs_attrs__", ()):
        name = field_name.name
        value = getattr(obj, name)
        if isinstance(value, str):
            setattr(obj, name, redactor.redact_text(value))
        elif isinstance(value, list):
            for item in value:
                _redact_model(item, redactor)
        elif hasattr(type(value), "__attrs_attrs__"):
            _redact_model(value, redactor)


class SuiteAllure:
    """allure_commons hooks, run before the file logger writes a result (tryfirst)."""

    def __init__(self, results_dir: Path | str, redactor: Redactor | None) -> None:
        self.results_dir = Path(results_dir)
        self.redactor = redactor

    def __repr__(self) -> str:
        return f"SuiteAllure({self.results_dir.name!r})"

    def result(self, result: Any) -> None:
        case_id = next((label.value for label in result.labels if label.name == CASE_ID_LABEL), None)
        if case_id:
            result.testCaseId = case_id
            result.historyId = md5(case_id)
        self._one_log(result)
        if self.redactor is not None:
            _redact_model(result, self.redactor)
            for item in _walk(result):
                for attachment in item.attachments:
                    path = self.results_dir / attachment.source
                    if path.is_file():
                        redact_path(path, self.redactor)

    def _one_log(self, result: Any) -> None:
        items = list(_walk(result))
        if not any(a.name == SUITE_LOG for item in items for a in item.attachments):
            return
        for item in items:
            for attachment in [a for a in item.attachments if a.name == CAPTURED_LOG]:
                item.attachments.remove(attachment)
                try:
                    os.unlink(self.results_dir / attachment.source)
                except OSError:
                    pass  # already gone: nothing left to duplicate

    if allure_commons is not None:
        @allure_commons.hookimpl(tryfirst=True)
        def report_result(self, result):
            self.result(result)


def register(results_dir: Path | str, redactor: Redactor | None) -> SuiteAllure | None:
    """Register the suite's hooks with allure; None when allure is not installed."""
    if allure_commons is None:
        return None
    hooks = SuiteAllure(results_dir, redactor)
    allure_commons.plugin_manager.register(hooks)
    return hooks


def unregister(hooks: SuiteAllure | None) -> None:
    if allure_commons is not None and hooks is not None and allure_commons.plugin_manager.is_registered(hooks):
        allure_commons.plugin_manager.unregister(hooks)


def report_not_started(
    *,
    case_id: str,
    title: str,
    full_name: str,
    reason: str,
    labels: Iterable[tuple[str, str]],
    title_path: list[str],
    start_ms: int,
    stop_ms: int,
) -> None:
    """A result for a case that never started (skipped at collection), through allure's own writer."""
    if allure_commons is None:
        return
    result = TestResult(
        uuid=str(uuid.uuid4()),
        name=title,
        fullName=full_name,
        testCaseId=case_id,
        historyId=md5(case_id),
        status="skipped",
        statusDetails=StatusDetails(message=reason),
        start=start_ms,
        stop=stop_ms,
        titlePath=title_path,
    )
    result.labels.extend(Label(name=name, value=value) for name, value in labels)
    allure_commons.plugin_manager.hook.report_result(result=result)


def _escape(text: str, key: bool = False) -> str:
    # java.util.Properties: backslash, line breaks; in keys also the separators and spaces.
    text = text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    if key:
        for char in (" ", "=", ":", "#", "!"):
            text = text.replace(char, "\\" + char)
    return text


def environment(run: RunInfo) -> dict[str, str]:
    """What Allure's Environment panel shows: who was tested on what, with which claims."""
    dut, observed = run.dut, run.observed_dut
    firmware = dut.firmware or (observed.firmware if observed is not None else "")
    values = {
        "DUT": " ".join(part for part in (dut.manufacturer, dut.model) if part),
        "DUT.model": dut.model,
        "DUT.firmware": firmware or "(not reported)",
        "DUT.ieee": dut.ieee,
        "DUT.device_type": dut.device_type,
        "PICS.sha256": run.pics_hash,
        "suite.version": run.suite_version,
        "bench": run.bench.id,
        "bench.radio": run.bench.radio,
    }
    if run.bench.radio_firmware:
        values["bench.radio_firmware"] = run.bench.radio_firmware
    if run.seed is not None:
        values["seed"] = str(run.seed)
    return values


def write_environment(results_dir: Path | str, run: RunInfo) -> Path:
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / ENVIRONMENT_NAME
    text = "".join(f"{_escape(k, key=True)}={_escape(v)}\n" for k, v in environment(run).items())
    return write_atomically(path, text)

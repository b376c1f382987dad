"""What a run prints: where its results are, progress lines on long real-time waits, and, last of all, the
overall verdict with the failed, error and blocked cases by id and title."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from harness.pytest_plugin.keys import ARTIFACTS, PROGRESS_HANDLER, REPORT, RUN_OPTIONS
from harness.pytest_plugin.options import seed_line


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    artifacts = config.stash.get(ARTIFACTS, None)
    if artifacts is None:
        return
    options = config.stash[RUN_OPTIONS]
    faults = f" with faults {', '.join(options.faults)}" if options.faults else ""
    terminalreporter.write_sep("=", "Smart Energy conformance")
    terminalreporter.write_line(f"DUT {options.dut}{faults}; results in {artifacts}")
    terminalreporter.write_line(seed_line(options))
    terminalreporter.write_line(f"report: {artifacts / 'report.html'} (built when the session ends; "
                                f"`python -m reports build {artifacts}` rebuilds it)")
    terminalreporter.write_line(f"JUnit: {artifacts / 'junit.xml'}   Allure: {artifacts / 'allure-results'}")


class _TerminalLines(logging.Handler):
    """A real bench's progress lines (harness/progress.py) straight to the terminal, past pytest's capture."""

    def __init__(self, config: pytest.Config) -> None:
        super().__init__(logging.WARNING)
        self.config = config

    def emit(self, record: logging.LogRecord) -> None:
        import contextlib

        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        if reporter is None:
            return
        try:
            with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
                reporter.write_line(record.getMessage())
        except Exception:  # noqa: BLE001 - a progress line must never break a scenario
            pass


def progress_to_terminal(config: pytest.Config) -> None:
    handler = _TerminalLines(config)
    logging.getLogger("harness.progress").addHandler(handler)
    config.stash[PROGRESS_HANDLER] = handler


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    handler = config.stash.get(PROGRESS_HANDLER, None)
    if handler is not None:
        logging.getLogger("harness.progress").removeHandler(handler)
    # After pytest's own "N passed" line: the overall verdict is the last thing a run prints.
    terminalreporter = config.pluginmanager.get_plugin("terminalreporter")
    if terminalreporter is not None and REPORT in config.stash:
        write_verdict(terminalreporter, config)


#: Cases a reader must look at, in the order the terminal lists them.
_ATTENTION = ("failed", "error", "blocked")


def write_verdict(terminalreporter, config: pytest.Config) -> None:
    """The overall verdict, its reasons and the cases behind it: the last thing a run prints."""
    import json

    built = config.stash.get(REPORT, None)
    if built is None:
        return
    try:
        summary = json.loads(Path(built.summary).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        terminalreporter.write_line(f"summary.json unreadable ({exc}); see the report")
        return
    rows = [c for verdict in _ATTENTION for c in summary.get("cases", []) if c.get("verdict") == verdict]
    if rows:
        width = max(len(c.get("case_id") or c.get("nodeid", "")) for c in rows)
        terminalreporter.write_line("")
        for case in rows:
            ident = (case.get("case_id") or case.get("nodeid", "")).ljust(width)
            terminalreporter.write_line(f"  {case['verdict'].upper():<7} {ident}  {case.get('title', '')}")
    overall = summary.get("overall", {})
    verdict = overall.get("verdict", "?")
    reasons = "; ".join(overall.get("reasons", []))
    colour = {"CONFORMANT": {"green": True}, "NOT CONFORMANT": {"red": True}}.get(verdict, {"yellow": True})
    terminalreporter.write_sep("=", f"Overall verdict: {verdict} (exit {built.verdict.exit_code})", bold=True,
                               **colour)
    terminalreporter.write_line(reasons)

"""From a case's phases to its verdict: each report gets its verdict by exception type and phase
(harness/run_record.py), and a case spoiled by a retryable bench fault runs again, a bounded number of times.

pytest offers no public API to run an item again, so the retry uses ``_pytest.runner.runtestprotocol`` and
``item._initrequest()`` (as pytest-rerunfailures does); it is the one private API the layer depends on.
"""

from __future__ import annotations

import pytest

from harness.pytest_plugin.cases import case_key, scenario_title
from harness.pytest_plugin.evidence import allure_not_started
from harness.pytest_plugin.keys import ATTACHMENTS, BENCH_TARGET, CALL_REPORT


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.stash[CALL_REPORT] = report
    key = case_key(item)
    if key is None:
        return
    from harness.run_record import classify, message_of, steps_of

    reason = None
    if report.skipped:
        longrepr = report.longrepr
        reason = str(longrepr[2] if isinstance(longrepr, tuple) else longrepr).removeprefix("Skipped: ")
    exception = call.excinfo.value if call.excinfo is not None and not report.skipped else None
    if report.when == "call":
        exception = _bench_fault_instead(item, exception, report)
    _name_the_case(item, key, exception, report)
    phase = {
        "duration": report.duration,
        "verdict": str(classify(exception, reason, report.when)),
        "message": message_of(exception, report.longreprtext) if exception else (
            {"text": _clip(reason)} if reason else None),
        "case_id": key,
        "title": scenario_title(item) or item.name,  # the Gherkin name, also for a case that never started
        "area": next((m.args[0] for m in item.iter_markers("area")), ""),
        "pics": sorted(m.args[0] for m in item.iter_markers("pics")),
    }
    if report.when == "call":
        from pytest_bdd.reporting import scenario_reports_registry

        scenario = scenario_reports_registry.get(item)
        if scenario is not None:
            phase["steps"] = steps_of(dict(scenario.serialize()))
            phase["title"] = scenario.scenario.name
    if report.when == "teardown":
        phase["attachments"] = item.stash.get(ATTACHMENTS, [])
    if report.when == "setup" and report.skipped:
        allure_not_started(item, key, phase, report)
    from harness.run_record import retryable

    phase["retryable"] = retryable(exception, report.when)
    if phase["retryable"]:
        phase["error"] = f"{type(exception).__name__}: {exception}"[:500]
    report.se_phase = phase
    _bound_report(report)


def _bench_fault_instead(item: pytest.Item, exception: BaseException | None, report) -> BaseException | None:
    """On a real bench, a DUT failure in a case during which the bench itself failed (the golden radio stopped
    answering, the DUT's port closed, the sniffer capture stopped growing) is the bench's: an error naming the
    fault, never counted against the DUT."""
    from harness.errors import DutFailure

    health = getattr(getattr(item, "se_testbed", None), "bench_fault", None)
    if not isinstance(exception, DutFailure) or health is None:
        return exception
    try:
        fault = health()
    except Exception as exc:  # noqa: BLE001 - the health check itself failing is a bench fault too
        fault = exc
    if fault is None:
        return exception
    fault.__cause__ = exception
    # _name_the_case puts the fault (with the case) first.
    report.longrepr = f"(instead of the DUT failure: {exception})"
    return fault


def _name_the_case(item: pytest.Item, key: str, exception: BaseException | None, report) -> None:
    """On a real bench a bench fault's message starts with the case it hit: a lab reads a night's errors as a list,
    and a radio or port that failed once fails every case after it."""
    from harness.bench.target import HardwareTarget
    from harness.errors import BenchFault

    real = isinstance(item.config.stash.get(BENCH_TARGET, None), HardwareTarget)
    if not real or not isinstance(exception, BenchFault):
        return
    text = str(exception).removeprefix(f"{key}: ")  # the hardware bench's own faults name the case already
    report.longrepr = f"{key}: {type(exception).__name__}: {text}\n\n{report.longreprtext}"


def _clip(text: str) -> str:
    from harness.limits import clip

    return clip(text)


def _bound_report(report: pytest.TestReport) -> None:
    """What pytest writes of a case itself (the terminal, JUnit) is cut to the suite's limits, like the journal:
    a DUT's 20 MB answer in an exception must not become a 20 MB failure text (harness/limits.py)."""
    from harness.limits import MESSAGE_LIMIT, clip

    if report.longrepr is not None and not isinstance(report.longrepr, tuple):
        text = report.longreprtext
        if len(text) > MESSAGE_LIMIT:
            report.longrepr = clip(text, MESSAGE_LIMIT)
    # The captured output and log of a case (what the terminal shows under a failure) keep their last lines,
    # where the case went wrong; the whole log is the scenario's log.txt.
    if any(len(content) > MESSAGE_LIMIT for _title, content in report.sections):
        report.sections = [(title, clip(content, MESSAGE_LIMIT, head_share=0.25))
                           for title, content in report.sections]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    """Run a case; when a bench fault (never a DUT failure) spoiled it, run it again, a bounded number of times.

    Every retried attempt is recorded with the case. A DUT failure in any attempt stands: it is never retried,
    so retries cannot hide it.
    """
    if case_key(item) is None:
        return None
    from _pytest.runner import runtestprotocol

    from harness.run_record import BENCH_RETRIES

    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    bench_errors = []
    for attempt in range(1, BENCH_RETRIES + 2):
        last = attempt == BENCH_RETRIES + 1
        reports = runtestprotocol(item, nextitem=nextitem, log=False)
        phases = [getattr(r, "se_phase", {}) for r in reports]
        spoiled = any(p.get("retryable") for p in phases) and not any(p.get("verdict") == "failed" for p in phases)
        if not spoiled or last:
            break
        error = next(p["error"] for p in phases if p.get("retryable"))
        bench_errors.append({"attempt": attempt, "error": error})
        # A fresh fixture request (and so a fresh testbed) for the next attempt: private pytest API (docstring).
        item._initrequest()  # type: ignore[attr-defined]
    for report in reports:
        if report.when == "teardown" and hasattr(report, "se_phase"):
            report.se_phase["bench_errors"] = bench_errors
        if bench_errors:
            report.user_properties.append(("bench_retries", str(len(bench_errors))))
        item.ihook.pytest_runtest_logreport(report=report)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True

"""From pytest's phase reports to journal records: verdict classes, messages, steps and attachments.

No pytest import: harness/plugin.py feeds plain values in. The verdict rules (docs/reports.md):
- a NonConformance or any AssertionError in a step, or the DUT staying silent (ZclTimeout, NoResponse,
  DeadlineExceeded), is a DUT failure;
- any other exception (radio gone, serial timeout, a harness defect) is an error: never counted against the DUT;
- a skip whose reason starts with "not applicable" is not_applicable; "blocked" is blocked.
"""

from __future__ import annotations

from typing import Any

from harness.results import CaseMessage, CaseResult, Step, Verdict

#: Exceptions that mean the DUT did not do what the case requires (class names, so xdist-serialised
#: reports can be judged too).
DUT_FAILURES = frozenset({
    "AssertionError", "NonConformance", "ZclTimeout", "ZclStatusError", "NoResponse", "DeadlineExceeded",
    "TimeoutError",
})
MAX_TEXT = 4000
#: Bench faults worth another attempt (the radio, the serial link, the golden side); a harness defect is an
#: error too, but retrying it would only repeat it.
RETRYABLE = frozenset({"BenchError", "DutControlError", "GoldenError", "ConnectionError", "OSError", "HookError",
                       "EzspRadioError"})
BENCH_RETRIES = 2


def retryable(exception: BaseException | None) -> bool:
    return exception is not None and bool({c.__name__ for c in type(exception).__mro__} & RETRYABLE) and (
        classify(exception) == Verdict.ERROR)


def classify(exception: BaseException | None, skipped_reason: str | None = None) -> Verdict:
    if skipped_reason is not None:
        if skipped_reason.lower().startswith("blocked"):
            return Verdict.BLOCKED
        return Verdict.NOT_APPLICABLE
    if exception is None:
        return Verdict.PASSED
    names = {cls.__name__ for cls in type(exception).__mro__}
    if "ManualStepBlocked" in names:  # an operator step nobody performed (no terminal, or skipped)
        return Verdict.BLOCKED
    return Verdict.FAILED if names & DUT_FAILURES else Verdict.ERROR


def message_of(exception: BaseException | None, text: str) -> dict[str, str] | None:
    if exception is None:
        return None
    fields = {name: getattr(exception, name, "") for name in ("expectation", "observation", "rule")}
    if any(fields.values()):
        return {k: str(v) for k, v in fields.items()}
    return {"text": text[-MAX_TEXT:]}


def steps_of(scenario: dict[str, Any] | None) -> list[dict[str, str]]:
    if not scenario:
        return []
    steps, failed_seen = [], False
    for step in scenario.get("steps", []):
        # pytest-bdd flags every step from the failing one on; only the first failed, the rest never ran.
        outcome = ("not_run" if failed_seen else "failed") if step.get("failed") else "passed"
        failed_seen |= bool(step.get("failed"))
        steps.append({"keyword": step.get("keyword", ""), "text": step.get("name", ""), "outcome": outcome})
    return steps


def case_result(nodeid: str, phases: dict[str, dict[str, Any]]) -> CaseResult:
    """Combine what the setup, call and teardown phases recorded into one journal record."""
    call = phases.get("call", {})
    setup = phases.get("setup", {})
    decisive = call if call else setup
    verdict = Verdict(decisive.get("verdict", Verdict.ERROR))
    if verdict == Verdict.PASSED and setup.get("verdict") not in (None, Verdict.PASSED):
        verdict = Verdict(setup["verdict"])
    teardown = phases.get("teardown", {})
    if verdict == Verdict.PASSED and teardown.get("verdict") == Verdict.ERROR:
        verdict = Verdict.ERROR
    message = decisive.get("message") or teardown.get("message")
    meta = {**setup, **call}
    return CaseResult(
        nodeid=nodeid,
        case_id=meta.get("case_id", ""),
        title=meta.get("title", ""),
        area=meta.get("area", ""),
        pics=meta.get("pics", []),
        verdict=verdict,
        duration_s=sum(float(p.get("duration", 0.0)) for p in phases.values()),
        steps=[Step(**s) for s in meta.get("steps", [])],
        message=CaseMessage(**message) if message else None,
        attachments=teardown.get("attachments", []),
        bench_errors=teardown.get("bench_errors", []),
    )

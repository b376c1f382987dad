"""From pytest's phase reports to journal records: verdict classes, messages, steps and attachments.

No pytest import: harness/plugin.py feeds plain values in. The verdict rules (docs/reports.md), by exception
type (harness/errors.py) and by the phase the case was in:
- setup (the bench, opening the radio and the DUT port, forming the network: before the DUT is asked to act):
  any exception is an error, whatever its type;
- call and teardown: a harness.errors.DutFailure (NonConformance, the DUT silent, a malformed frame from it with
  its bytes, a frame its MAC acknowledged and its APS never did) is a DUT failure; anything else (a bench fault,
  a bare assert or IndexError in a step's own code, a builtin TimeoutError) is an error, never counted against
  the DUT;
- a StepBlocked (a manual step nobody performed) is blocked in any phase;
- a skip whose reason starts with "not applicable" is not_applicable; "blocked" is blocked.
The verdict is computed where the exception is (the xdist worker, in pytest_runtest_makereport): only plain
values travel to the controller.
"""

from __future__ import annotations

from typing import Any

from harness.errors import BenchFault, DutFailure, StepBlocked
from harness.limits import MESSAGE_FIELD_LIMIT, clip, clip_message
from harness.results import CaseMessage, CaseResult, Step, Verdict

BENCH_RETRIES = 2
#: pytest's phase before the DUT is asked to act: fixtures (bench, radio, DUT port, forming the network).
SETUP = "setup"


def retryable(exception: BaseException | None, phase: str = "call") -> bool:
    """A bench fault worth another attempt: marked so by its class (BenchFault.retryable), or a lost connection or
    a timeout of the radio or serial stack (builtins a third-party library raises). A harness defect is an error
    too, but retrying it would only repeat it; a DUT failure is never retried. In setup every deadline is the
    bench's own (forming the network, opening the radio), a DutSilent one too: worth another go."""
    if exception is None or classify(exception, phase=phase) != Verdict.ERROR:
        return False
    if isinstance(exception, BenchFault):
        return type(exception).retryable
    # classify() made every DutFailure of a later phase FAILED: what is left here is the bench's or a builtin.
    return isinstance(exception, ConnectionError | TimeoutError)


def classify(exception: BaseException | None, skipped_reason: str | None = None, phase: str = "call") -> Verdict:
    if skipped_reason is not None:
        if skipped_reason.lower().startswith("blocked"):
            return Verdict.BLOCKED
        return Verdict.NOT_APPLICABLE
    if exception is None:
        return Verdict.PASSED
    if isinstance(exception, StepBlocked):  # an operator step nobody performed (no terminal, or skipped)
        return Verdict.BLOCKED
    if phase == SETUP:  # nothing the DUT did can have caused it
        return Verdict.ERROR
    return Verdict.FAILED if isinstance(exception, DutFailure) else Verdict.ERROR


def message_of(exception: BaseException | None, text: str) -> dict[str, str] | None:
    if exception is None:
        return None
    fields = {name: getattr(exception, name, "") for name in ("expectation", "observation", "rule")}
    if any(fields.values()):
        return clip_message({k: str(v) for k, v in fields.items()})
    if len(text) <= MESSAGE_FIELD_LIMIT:
        return {"text": text}
    # Too long (a DUT's 20 MB answer in an exception): what went wrong first, the exception's name and first
    # lines, then where, the end of the traceback; each cut says how much went (harness/limits.py).
    summary = clip(f"{type(exception).__name__}: {exception}", MESSAGE_FIELD_LIMIT // 2)
    return {"text": f"{summary}\n\n{clip(text, MESSAGE_FIELD_LIMIT // 2 - 2, head_share=0.0)}"}


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
    if verdict == Verdict.PASSED and teardown.get("verdict") in (Verdict.ERROR, Verdict.FAILED):
        # FAILED: a finding raised at teardown (an undecodable DUT frame after the last step).
        verdict = Verdict(teardown["verdict"])
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

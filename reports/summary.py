"""The JSON summary of a run: what the HTML report shows, as data (``summary.json``).

Built from a journal; the overall verdict is recomputed from the cases (harness.results.assess), never
taken from the journal's own summary line. Redaction is applied to the whole summary unless the run was
made with --reveal-secrets, so the HTML rendered from it is redacted too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.redact import Redactor
from harness.results import JournalContents, Totals, assess, utc_now

SUMMARY_FORMAT = 1


def build_summary(contents: JournalContents, run_dir: Path, redactor: Redactor | None = None) -> dict[str, Any]:
    """The summary dict of a journal read from ``run_dir``.

    ``redactor`` adds the run's secret values; redaction of secret-named fields and PEM private keys
    applies even without one, unless the run info says secrets were revealed.
    """
    run, cases = contents.run, contents.cases
    assessment = assess(cases, contents.complete)
    totals = Totals.of(cases)
    rows = []
    for case in cases:
        row = case.model_dump(mode="json")
        # A link to a file that is not there is reported as such rather than left as a dead link.
        row["attachments"] = [{"path": path, "exists": (run_dir / path).is_file()} for path in case.attachments]
        rows.append(row)
    summary: dict[str, Any] = {
        "format": SUMMARY_FORMAT,
        "generated": utc_now().isoformat(),
        "complete": contents.complete,
        "torn_tail": contents.torn_tail,
        "overall": {"verdict": assessment.verdict.value, "reasons": list(assessment.reasons)},
        "totals": {**totals.model_dump(), "total": totals.total},
        "dut": run.dut.model_dump(mode="json"),
        "suite_version": run.suite_version,
        "bench": run.bench.model_dump(mode="json"),
        "started": run.started.isoformat(),
        "finished": contents.finished.isoformat() if contents.finished else None,
        "host": run.host,
        "options": run.options,
        "secrets_revealed": run.secrets_revealed,
        "pics_hash": run.pics_hash,
        "pics": run.pics,
        "pixit": run.pixit,
        "cases": rows,
    }
    if run.secrets_revealed:
        return summary
    return (redactor or Redactor()).redact(summary)

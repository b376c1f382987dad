"""The JSON summary of a run: what the HTML report shows, as data (``summary.json``).

Built from a journal; the overall verdict is recomputed from the cases (harness.results.assess_run), never
taken from the journal's own summary line. Redaction is applied to the whole summary unless the run was
made with --reveal-secrets, so the HTML rendered from it is redacted too.
"""

from __future__ import annotations

import os
import re
import sysconfig
from pathlib import Path
from typing import Any

from harness.redact import Redactor
from harness.results import JournalContents, Totals, assess_run, identity_mismatches, not_run, utc_now

SUMMARY_FORMAT = 1
SUITE_ROOT = Path(__file__).resolve().parent.parent

# Absolute paths of the machine that ran the suite (tracebacks, a profile given from /tmp) say nothing to a
# reader and tell a stranger the lab's layout: shown relative to the suite, the Python installation or home.
_SUITE_DIRS = ("steps", "harness", "features", "reports", "tests", "profiles", "conftest.py")
_ABSOLUTE = r"(?<![\w.~/-])"  # a path's first slash, not one inside a relative path
_FOREIGN_PATHS = (
    (re.compile(_ABSOLUTE + r"(?:/[^\s/:'\"()<>]+)+?/(?:site|dist)-packages/"), "site-packages/"),
    (re.compile(_ABSOLUTE + r"(?:/[^\s/:'\"()<>]+)+?/lib/python3\.\d+/"), "python/"),
    (re.compile(_ABSOLUTE + r"(?:/[^\s/:'\"()<>]+)+?/(?=(?:" + "|".join(map(re.escape, _SUITE_DIRS)) + r")\b)"), ""),
    (re.compile(_ABSOLUTE + r"(?:/home/[^\s/:'\"()<>]+|/root|/Users/[^\s/:'\"()<>]+)/"), "~/"),
)


def _local_prefixes() -> list[tuple[str, str]]:
    paths = sysconfig.get_paths()
    prefixes = {(str(SUITE_ROOT) + os.sep, "")}
    prefixes |= {(paths[key] + os.sep, label) for key, label in (
        ("purelib", "site-packages/"), ("platlib", "site-packages/"), ("stdlib", "python/")) if paths.get(key)}
    return sorted(prefixes, key=lambda item: len(item[0]), reverse=True)


def without_local_paths(text: str) -> str:
    """``text`` with the absolute paths of this machine (and of the machine that ran, for a journal built
    elsewhere) made relative: the suite's own files to the suite root, libraries to site-packages/."""
    for prefix, label in _local_prefixes():
        text = text.replace(prefix, label)
    for pattern, label in _FOREIGN_PATHS:
        text = pattern.sub(label, text)
    return text


def _display_path(value: str) -> str:
    """A profile path for the report: relative to the suite root, else its file name."""
    if not value or not os.path.isabs(value):
        return value
    try:
        return Path(value).resolve().relative_to(SUITE_ROOT).as_posix()
    except ValueError:
        return Path(value).name


def bench_kind(radio: str, radio_firmware: str, bench_id: str) -> str:
    """simulated (the virtual air), emulated (bellows on the EZSP NCP emulator) or hardware (a real stick)."""
    if not radio or radio.split(":", 1)[0] == "sim":
        return "simulated"
    # The emulator answers bellows' board query with this board name (harness/emulator/ncp/stack.py).
    if "ncp emulator" in radio_firmware.lower() or bench_id == "ncp-emulator":
        return "emulated"
    return "hardware"


def integrity(contents: JournalContents, signer: str) -> dict[str, Any]:
    """Who signs the report and the state of the journal's chain, as the report shows them."""
    chain = contents.chain
    return {
        "signer": signer,  # fingerprint of the lab key that signs this report's MANIFEST.json, or "unsigned"
        "journal_signer": chain.signer if chain else "unsigned",  # the lab key that signed the journal at the source
        "chain": chain.status if chain else "unknown",
        "chain_head": chain.head if chain else "",
        "chain_records": chain.records if chain else 0,
        "chain_broken_at": chain.broken_at if chain else None,
        "chain_state": chain.describe() if chain else "",
    }


def build_summary(contents: JournalContents, run_dir: Path, redactor: Redactor | None = None,
                  signer: str = "unsigned") -> dict[str, Any]:
    """The summary dict of a journal read from ``run_dir``.

    ``redactor`` adds the run's secret values; redaction of secret-named fields and PEM private keys
    applies even without one, unless the run info says secrets were revealed. ``signer`` is the
    fingerprint of the lab key that will sign the manifest covering this summary.
    """
    run, cases = contents.run, contents.cases
    assessment = assess_run(run, cases, contents.complete, contents.chain)
    totals = Totals.of(cases)
    rows = []
    for case in cases:
        row = case.model_dump(mode="json")
        # A link to a file that is not there is reported as such rather than left as a dead link.
        row["attachments"] = [{"path": path, "exists": (run_dir / path).is_file()} for path in case.attachments]
        if case.verdict == "not_applicable":
            row["mandatory"] = False  # a case the DUT's claims exclude is no requirement of this DUT
        if row.get("message"):
            row["message"] = {k: without_local_paths(v) if isinstance(v, str) else v for k, v in row["message"].items()}
        rows.append(row)
    summary: dict[str, Any] = {
        "format": SUMMARY_FORMAT,
        "generated": utc_now().isoformat(),
        "complete": contents.complete,
        "torn_tail": contents.torn_tail,
        "overall": {"verdict": assessment.verdict.value, "reasons": list(assessment.reasons)},
        "totals": {**totals.model_dump(), "total": totals.total},
        # The DUT as the report names it: the profile's declaration, with the firmware and date code the DUT
        # answered where the profile gives none (a profile rarely pins a build).
        "dut": run.dut.model_copy(update={
            key: getattr(run.observed_dut, key) for key in ("firmware", "date_code")
            if run.observed_dut is not None and not getattr(run.dut, key) and getattr(run.observed_dut, key)
        }).model_dump(mode="json"),
        # Declared (the profile) and observed (Basic read on the air), side by side in the report.
        "identity": {
            "declared": run.dut.model_dump(mode="json"),
            "observed": run.observed_dut.model_dump(mode="json") if run.observed_dut else None,
            "mismatches": identity_mismatches(run.dut, run.observed_dut),
        },
        "scope": {
            "complete": run.scope is not None and not run.scope.narrowed and not not_run(cases, run.scope),
            "selection": list(run.scope.selection) if run.scope else [],
            "overrides": list(run.scope.overrides) if run.scope else [],
            "applicable": len(run.scope.applicable) if run.scope else None,
            "not_run": not_run(cases, run.scope),
        },
        "suite_version": run.suite_version,
        "bench": run.bench.model_dump(mode="json") | {
            "kind": bench_kind(run.bench.radio, run.bench.radio_firmware, run.bench.id)},
        "started": run.started.isoformat(),
        "finished": contents.finished.isoformat() if contents.finished else None,
        "host": run.host,
        "options": run.options,
        "seed": run.seed,  # --seed replays the run's random choices (docs/architecture.md, "Reproducible runs")
        "secrets_revealed": run.secrets_revealed,
        "pics_hash": run.pics_hash,
        "pics": run.pics,
        "pixit": run.pixit,
        "widened": dict(run.widened),  # PIXITs that make a check more lenient than its default
        "integrity": integrity(contents, signer),
        "cases": rows,
    }
    for dut in (summary.get("dut"), *(summary.get("identity") or {}).values()):
        if isinstance(dut, dict) and dut.get("profile"):
            dut["profile"] = _display_path(dut["profile"])
    if run.secrets_revealed:
        return summary
    return (redactor or Redactor()).redact(summary)

"""Build the conformance report of a run directory: summary.json, report.html, then MANIFEST.json.

Called by the plugin at the end of a run and by ``python -m reports build DIR`` for any
run directory, including one whose run was killed (its journal has no end record; the report says
INCOMPLETE). Every file is written atomically (harness.atomic). A lab key never signs a journal whose chain
is broken (``SigningRefused``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from harness.atomic import remove_partials, write_atomically
from harness.redact import Redactor, redact_tree
from harness.results import (
    JOURNAL_NAME,
    ChainState,
    JournalError,
    OverallVerdict,
    key_fingerprint,
    read_journal,
)
from reports.html import render_html
from reports.manifest import write_manifest
from reports.summary import build_summary

SUMMARY_NAME = "summary.json"
REPORT_NAME = "report.html"


@dataclass(frozen=True)
class BuiltReport:
    html: Path
    summary: Path
    manifest: Path | None
    verdict: OverallVerdict
    complete: bool


class SigningRefused(ValueError):
    """A lab key was given for a run directory whose journal does not verify: the lab never signs altered
    evidence. The one-line message names the journal and the line where its chain breaks."""


def check_signable(run_dir: Path | str) -> None:
    """Raise SigningRefused unless the journal of ``run_dir`` (when it has one) reads and its chain holds.

    An unsealed chain (a killed run) may be signed: its report says INCOMPLETE, and signing it only vouches
    for what the run recorded."""
    run_dir = Path(run_dir)
    if not (run_dir / JOURNAL_NAME).exists():
        return
    try:
        chain = read_journal(run_dir).chain
    except JournalError as exc:
        raise SigningRefused(f"refusing to sign: {exc}") from None
    _refuse_broken(run_dir, chain)


def _refuse_broken(run_dir: Path, chain: ChainState | None) -> None:
    if chain is not None and chain.status == "broken":
        raise SigningRefused(f"{run_dir / JOURNAL_NAME}: refusing to sign: {chain.describe()}")


def build_report(
    run_dir: Path | str,
    *,
    redactor: Redactor | None = None,
    lab_key: Ed25519PrivateKey | None = None,
    manifest: bool = True,
) -> BuiltReport:
    """Write summary.json and report.html into run_dir and, unless ``manifest`` is false, the manifest
    (signed with ``lab_key`` when given). Raises harness.results.JournalError for an unreadable journal and
    SigningRefused when ``lab_key`` is given for a journal whose chain is broken."""
    run_dir = Path(run_dir)
    contents = read_journal(run_dir)
    if lab_key is not None:
        _refuse_broken(run_dir, contents.chain)
    signer = key_fingerprint(lab_key.public_key()) if lab_key is not None and manifest else "unsigned"
    summary = build_summary(contents, run_dir, redactor, signer=signer)
    summary_path, html_path = run_dir / SUMMARY_NAME, run_dir / REPORT_NAME
    write_atomically(summary_path, json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    write_atomically(html_path, render_html(summary))
    if redactor is not None and not contents.run.secrets_revealed:
        redact_tree(run_dir, redactor)  # every file (allure-results, JUnit, logs, pcaps), whatever wrote it
    if manifest:
        remove_partials(run_dir)  # what a killed writer left is no output of the run: keep it out of the manifest
    if manifest and lab_key is not None:
        check_signable(run_dir)  # again: nothing since the first check (redaction included) may have altered it
    manifest_path = write_manifest(run_dir, lab_key) if manifest else None
    return BuiltReport(
        html=html_path,
        summary=summary_path,
        manifest=manifest_path,
        verdict=OverallVerdict(summary["overall"]["verdict"]),
        complete=contents.complete,
    )


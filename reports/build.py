"""Build the conformance report of a run directory: summary.json, report.html, then MANIFEST.json.

Called by the plugin at the end of a run and by ``python -m reports build DIR`` for any run directory,
including one whose run was killed (its journal has no completion line; the report says INCOMPLETE).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from harness.redact import Redactor
from harness.results import OverallVerdict, read_journal
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


def _write_atomically(path: Path, text: str) -> None:
    # A reader (or a second build) never sees half a report: write aside, then rename over.
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def build_report(
    run_dir: Path | str,
    *,
    redactor: Redactor | None = None,
    lab_key: Ed25519PrivateKey | None = None,
    manifest: bool = True,
) -> BuiltReport:
    """Write summary.json and report.html into run_dir and, unless ``manifest`` is false, the manifest
    (signed with ``lab_key`` when given). Raises harness.results.JournalError for an unreadable journal."""
    run_dir = Path(run_dir)
    contents = read_journal(run_dir)
    summary = build_summary(contents, run_dir, redactor)
    summary_path, html_path = run_dir / SUMMARY_NAME, run_dir / REPORT_NAME
    _write_atomically(summary_path, json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    _write_atomically(html_path, render_html(summary))
    manifest_path = write_manifest(run_dir, lab_key) if manifest else None
    return BuiltReport(
        html=html_path,
        summary=summary_path,
        manifest=manifest_path,
        verdict=OverallVerdict(summary["overall"]["verdict"]),
        complete=contents.complete,
    )

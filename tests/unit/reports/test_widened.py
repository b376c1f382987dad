"""The report shows the PIXITs that widen a check (issue 14, bounds): summary.json and a section of the page."""

from __future__ import annotations

import json
from pathlib import Path

from reports.build import build_report

from .samples import case, run_info, write_journal

WIDENED = {"timing_tolerance": "10 s (longer than the default 2 s: allowed difference between an observed event "
                               "time and the expected one)"}


def test_widened_pixits_reach_summary_and_page(tmp_path: Path) -> None:
    write_journal(tmp_path, [case("TC-TIME-1.2", "passed")], info=run_info(widened=WIDENED))
    built = build_report(tmp_path)
    assert json.loads(built.summary.read_text())["widened"] == WIDENED
    page = built.html.read_text()
    section = page[page.index('<h2 id="widened">PIXITs that widen a check</h2>'):]
    assert "timing_tolerance" in section.split("</table>")[0] and "longer than the default 2 s" in section


def test_a_run_at_the_defaults_says_none_widened(tmp_path: Path) -> None:
    write_journal(tmp_path, [case("TC-TIME-1.2", "passed")])
    built = build_report(tmp_path)
    assert json.loads(built.summary.read_text())["widened"] == {}
    page = built.html.read_text()
    assert page.index("none: every check ran at least as strict as its default") > page.index('id="widened"')

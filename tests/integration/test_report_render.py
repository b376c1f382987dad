"""The conformance report as a reader sees it: rendered by headless Chromium (Debian's chromium package).

Chromium parses the page and dumps the resulting DOM (--dump-dom needs JavaScript itself, so it stays on; the
DOM holding no script element shows the page needs none). The test reads from that DOM what a reader would:
the DUT model, the overall verdict, each case id with its verdict, the INCOMPLETE banner of a killed run, and
that DUT-supplied markup stayed text. Without chromium the test skips with the install
command, except in CI (env CI set), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from harness.results import CaseMessage, Verdict
from reports.build import build_report
from tests.unit.reports.samples import case, mixed_cases, run_info, write_journal

INSTALL = "apt-get update && apt-get install -y chromium"


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"chromium is missing in CI: {INSTALL}")
    pytest.skip(f"chromium is not installed: {INSTALL}")


def _render(page: Path, profile: Path) -> str:
    done = subprocess.run(
        [
            _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", f"--user-data-dir={profile}",
            "--dump-dom", page.resolve().as_uri(),
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "<body" in done.stdout, done.stderr[-2000:]
    return done.stdout


_BLOCKS = {"div", "p", "li", "ul", "ol", "dl", "dt", "dd", "br", "h1", "h2"}


class _Reader(HTMLParser):
    """Collects the text of the elements a reader looks at, and every element tag in the DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.by_id: dict[str, str] = {}
        self.case_rows: list[list[str]] = []  # cells of each <tr class="case">
        self._open: list[tuple[str, str | None]] = []  # (tag, id) of open elements we collect
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._details = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag in _BLOCKS:
            self.handle_data(" ")  # a block starts on its own line on screen
        attributes = dict(attrs)
        if tag == "details":
            self._details += 1
        if attributes.get("id"):
            self._open.append((tag, attributes["id"]))
            self.by_id.setdefault(attributes["id"], "")
        if tag == "tr" and attributes.get("class") == "case":
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.handle_data(" ")
        if tag == "details":
            self._details -= 1
        if self._open and self._open[-1][0] == tag:
            self._open.pop()
        if tag == "td" and self._row is not None and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.case_rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._details:
            return  # folded away: not what a reader sees first
        for _, element_id in self._open:
            self.by_id[element_id] += data
        if self._cell is not None:
            self._cell.append(data)


def _read(dom: str) -> _Reader:
    reader = _Reader()
    reader.feed(dom)
    return reader


def test_reader_sees_dut_verdict_and_every_case(tmp_path: Path) -> None:
    info = run_info()
    info.dut.model = 'IHD-7 <script>document.title="x"</script><img src=x>'
    run = tmp_path / "run"
    write_journal(run, mixed_cases(), info=info)
    dom = _render(build_report(run).html, tmp_path / "chromium")
    page = _read(dom)

    # DUT-supplied markup stayed text: the browser built no script or image element from it.
    assert "script" not in page.tags and "img" not in page.tags
    assert 'IHD-7 <script>document.title="x"</script><img src=x>' in dom.replace("&lt;", "<").replace(
        "&gt;", ">").replace("&quot;", '"')
    assert " ".join(page.by_id["overall"].split()).startswith("Overall verdict: NOT CONFORMANT")
    assert "incomplete" not in page.by_id
    cells = {row[0]: row for row in page.case_rows}
    assert {case_id: row[4] for case_id, row in cells.items()} == {
        "TC-JOIN-1.1": "PASSED",
        "TC-JOIN-1.2": "FAILED",
        "TC-JOIN-1.3": "ERROR",
        "TC-DRLC-1.1": "NOT APPLICABLE",
        "TC-MSG-2.1": "BLOCKED",
    }
    failed = cells["TC-JOIN-1.2"][6]
    assert "Expected the Trust Center refuses the join (no Transport Key)" in failed
    assert "Observed Transport Key sent 0.8 s after Association Request" in failed
    assert "Rule SE 1.4 5.4.1.1" in failed


def test_reader_sees_an_incomplete_run_first(tmp_path: Path) -> None:
    run = tmp_path / "run"
    passed = case("TC-JOIN-1.1", Verdict.PASSED, message=CaseMessage())
    write_journal(run, [passed], complete=False)
    page = _read(_render(build_report(run).html, tmp_path / "chromium"))
    assert "INCOMPLETE" in page.by_id["incomplete"]
    assert " ".join(page.by_id["overall"].split()).startswith("Overall verdict: INCONCLUSIVE")
    assert [row[0] for row in page.case_rows] == ["TC-JOIN-1.1"] and page.case_rows[0][4] == "PASSED"

"""The report builder: summary.json content, the HTML page (escaping, banners, no external assets), CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness.redact import Redactor
from harness.results import CaseMessage, Verdict
from reports.__main__ import main
from reports.build import build_report
from reports.html import render_html

from .samples import INSTALL_CODE, LINK_KEY, case, mixed_cases, run_info, write_journal

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    write_journal(tmp_path, mixed_cases())
    (tmp_path / "TC-JOIN-1.2").mkdir()
    (tmp_path / "TC-JOIN-1.2" / "capture.pcap").write_bytes(b"\xd4\xc3\xb2\xa1")
    return tmp_path


def test_summary_has_identity_run_and_one_row_per_case(run_dir: Path) -> None:
    built = build_report(run_dir)
    summary = json.loads(built.summary.read_text())
    assert summary["dut"]["model"] == "IHD-7 <b>Pro</b>" and summary["dut"]["firmware"] == "2.1.0"
    assert summary["dut"]["ieee"] == "00:0D:6F:00:00:00:10:01"
    assert summary["bench"] == {"id": "lab-bench-3", "radio": "ezsp:/dev/ttyACM0",
                                "radio_firmware": "EmberZNet 7.4.1", "simulated": False, "kind": "hardware"}
    assert summary["suite_version"] == "v0.1.0-12-gabc1234"
    assert summary["started"] == "2025-03-01T12:00:00+00:00"
    assert summary["pics"] == {"SE.KE.S": True, "SE.PRICE.C": True, "SE.DRLC.C": False}
    assert summary["pixit"] == {"join_timeout": "30 s", "ke_timeout": "20 s"}
    assert summary["totals"] == {"passed": 1, "failed": 1, "error": 1, "not_applicable": 1, "blocked": 1,
                                 "total": 5}
    assert summary["overall"]["verdict"] == "NOT CONFORMANT" and summary["complete"] is True
    rows = {row["case_id"]: row for row in summary["cases"]}
    assert list(rows) == ["TC-JOIN-1.1", "TC-JOIN-1.2", "TC-JOIN-1.3", "TC-DRLC-1.1", "TC-MSG-2.1"]
    failed = rows["TC-JOIN-1.2"]
    assert failed["verdict"] == "failed" and failed["duration_s"] == 1.25
    assert failed["message"]["expectation"] == "the Trust Center refuses the join (no Transport Key)"
    assert failed["message"]["observation"] == "Transport Key sent 0.8 s after Association Request"
    assert failed["message"]["rule"] == "SE 1.4 5.4.1.1"
    assert failed["attachments"] == [{"path": "TC-JOIN-1.2/capture.pcap", "exists": True},
                                     {"path": "TC-JOIN-1.2/log.txt", "exists": False}]
    assert rows["TC-JOIN-1.3"]["bench_errors"][0]["error"] == "EZSP ASH reset"


def test_html_shows_verdicts_details_and_links(run_dir: Path) -> None:
    page = build_report(run_dir).html.read_text()
    assert 'id="overall"' in page and "Overall verdict: NOT CONFORMANT" in page
    assert "INCOMPLETE" not in page
    for case_id, label in [("TC-JOIN-1.1", "PASSED"), ("TC-JOIN-1.2", "FAILED"), ("TC-JOIN-1.3", "ERROR"),
                           ("TC-DRLC-1.1", "NOT APPLICABLE"), ("TC-MSG-2.1", "BLOCKED")]:
        row = re.search(rf'<tr class="case" id="case-{re.escape(case_id)}">.*?</tr>', page, re.DOTALL)
        assert row is not None, case_id
        assert f">{label}</span>" in row.group()
    assert '<a href="TC-JOIN-1.2/capture.pcap">' in page
    assert "TC-JOIN-1.2/log.txt (missing)" in page and 'href="TC-JOIN-1.2/log.txt"' not in page
    assert "Transport Key sent 0.8 s after Association Request" in page
    assert "EmberZNet 7.4.1" in page and "HARDWARE BENCH" in page


def test_html_is_self_contained(run_dir: Path) -> None:
    page = build_report(run_dir).html.read_text()
    assert "<script" not in page.lower() and "<link" not in page.lower() and "<img" not in page.lower()
    assert not re.search(r"(src|href)\s*=\s*\"(https?:|//|data:|javascript:)", page, re.IGNORECASE)
    assert "url(" not in page and "@import" not in page


def test_everything_from_the_dut_is_escaped(tmp_path: Path) -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    info = run_info()
    info.dut.model = hostile
    info.dut.manufacturer = "Acme\u202eevil\x07"  # a bidi override and a control character
    bad = case("TC-JOIN-1.2", Verdict.FAILED, title="</td></tr></table><h1>forged",
               message=CaseMessage(observation='Basic.ModelIdentifier = "<iframe src=//evil>"'),
               attachments=['x"><script>.pcap'])
    write_journal(tmp_path, [bad], info=info)
    page = build_report(tmp_path).html.read_text()
    for raw in ("<script", "<img", "<iframe", "<h1>forged"):
        assert raw not in page.replace("<h1>ZigBee Smart Energy conformance report</h1>", "")
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "x&quot;&gt;&lt;script&gt;.pcap (missing)" in page
    assert "Acme\\u202eevil\\u0007" in page and "\u202e" not in page


def test_incomplete_run_is_marked_prominently(tmp_path: Path) -> None:
    write_journal(tmp_path, [case("TC-JOIN-1.1", Verdict.PASSED)], complete=False)
    built = build_report(tmp_path)
    page = built.html.read_text()
    assert page.index('id="incomplete"') < page.index('id="overall"')  # the first thing a reader sees
    assert "INCOMPLETE" in page and "Finished (UTC)</th><td>not finished" in page
    assert json.loads(built.summary.read_text())["overall"]["verdict"] == "INCONCLUSIVE"


def test_secrets_are_redacted_unless_revealed(tmp_path: Path) -> None:
    leaky = case(
        "TC-JOIN-1.2", Verdict.FAILED,
        message=CaseMessage(observation=f"APS Transport Key carried {' '.join(re.findall('..', LINK_KEY))}"),
    )
    info = run_info(pixit={"join_timeout": "30 s", "install_code": INSTALL_CODE})
    redactor = Redactor()
    redactor.add_install_code(INSTALL_CODE)
    write_journal(tmp_path / "run", [leaky], info=info)  # journal written unredacted (as with --reveal-secrets)
    built = build_report(tmp_path / "run", redactor=redactor)
    for written in (built.html.read_text(), built.summary.read_text()):
        assert LINK_KEY[:8] not in written.replace(" ", "").upper()
        assert INSTALL_CODE[:12] not in written.upper()
        assert "[redacted]" in written

    revealed_info = info.model_copy(update={"secrets_revealed": True})
    write_journal(tmp_path / "revealed", [leaky], info=revealed_info)
    built = build_report(tmp_path / "revealed", redactor=redactor)
    page = built.html.read_text()
    assert INSTALL_CODE in page and 'id="secrets-revealed"' in page


def test_render_tolerates_a_minimal_summary() -> None:
    page = render_html({})
    assert "Overall verdict: INCONCLUSIVE" in page and "INCOMPLETE" in page


def test_cli_build(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", str(run_dir)]) == 0
    assert capsys.readouterr().out.strip() == f"NOT CONFORMANT: {run_dir / 'report.html'}"
    assert (run_dir / "MANIFEST.json").is_file()


def test_cli_build_without_a_journal_is_one_line_exit_2(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "reports", "build", str(tmp_path)], cwd=REPO,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "no journal here" in done.stderr and "Traceback" not in done.stderr


def test_cli_build_redacts_profile_secrets(tmp_path: Path) -> None:
    profile = tmp_path / "dut.yaml"
    profile.write_text(
        "identity: {manufacturer: Acme, model: IHD-7, ieee: '00:0D:6F:00:00:00:10:01', device_type: ihd}\n"
        f"install_code: '{INSTALL_CODE}'\nendpoint: 1\npics: {{}}\npixit: {{}}\ncontrol: {{kind: manual}}\n"
    )
    leaky = case("TC-JOIN-1.2", Verdict.FAILED, message=f"wrong key {LINK_KEY.lower()}")
    write_journal(tmp_path / "run", [leaky])
    assert main(["build", str(tmp_path / "run"), "--dut-profile", str(profile)]) == 0
    page = (tmp_path / "run" / "report.html").read_text()
    assert "wrong key [redacted]" in page and LINK_KEY.lower() not in page


def test_cli_build_with_a_bad_profile_is_one_line_exit_2(run_dir: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("identity: 7\n")
    assert main(["build", str(run_dir), "--dut-profile", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.yaml" in err

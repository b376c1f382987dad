"""The top of the report (failures summary, bench banner, readable options), its paths, the radio firmware
from the journal, and the Allure additions (reports/allure.py), from synthetic journals."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from allure_commons import model2 as allure

from harness.redact import REDACTED, Redactor
from harness.results import BenchInfo, CaseMessage, Journal, Verdict, read_journal
from reports.allure import SuiteAllure, environment, write_environment
from reports.html import render_html
from reports.summary import bench_kind, build_summary, without_local_paths

from .samples import LINK_KEY, case, mixed_cases, run_info, write_journal


def _report(tmp_path: Path, cases=None, **info) -> tuple[dict, str]:
    write_journal(tmp_path, mixed_cases() if cases is None else cases, info=run_info(**info))
    summary = build_summary(read_journal(tmp_path), tmp_path)
    return summary, render_html(summary)


def test_failures_summary_links_each_failed_error_and_blocked_case(tmp_path: Path) -> None:
    _, page = _report(tmp_path)
    attention = re.search(r'<div id="attention">(.*?)</div>', page, re.DOTALL).group(1)
    links = re.findall(r'<a class="mono" href="#([^"]+)">([^<]+)</a>', attention)
    assert [text for _, text in links] == ["TC-JOIN-1.2", "TC-JOIN-1.3", "TC-MSG-2.1"]  # failed, error, blocked
    for anchor, _ in links:
        assert f'id="{anchor}"' in page  # each link lands on the case's row
    assert "Transport Key sent 0.8 s after Association Request" in attention  # why, at a glance
    assert "1 failed, 1 error, 1 blocked" in attention
    assert page.index('id="attention"') < page.index("<h2>Device under test</h2>")  # at the top


def test_no_failure_says_so(tmp_path: Path) -> None:
    _, page = _report(tmp_path, cases=[case("TC-JOIN-1.1", Verdict.PASSED)])
    assert "No case failed, errored or was blocked." in page


@pytest.mark.parametrize(("bench", "kind", "banner"), [
    (BenchInfo(id="sim", radio="sim", simulated=True), "simulated", "SIMULATED BENCH"),
    (BenchInfo(id="ncp-emulator", radio="ezsp:/dev/pts/4", simulated=False,
               radio_firmware="firmware 6.10.3.0 build 297 (board NCP emulator, manufacturer SE conformance)"),
     "emulated", "EMULATED BENCH"),
    (BenchInfo(id="lab-3", radio="ezsp:/dev/ttyACM0", simulated=False, radio_firmware="firmware 7.4.1.0 build 0"),
     "hardware", "HARDWARE BENCH"),
])
def test_banner_says_which_bench(tmp_path: Path, bench: BenchInfo, kind: str, banner: str) -> None:
    summary, page = _report(tmp_path, bench=bench)
    assert summary["bench"]["kind"] == kind == bench_kind(bench.radio, bench.radio_firmware, bench.id)
    shown = re.search(r'<div class="banner bench bench-(\w+)" id="bench-kind">([^<]+)</div>', page)
    assert shown.group(1) == kind and shown.group(2).startswith(banner)
    others = {"SIMULATED BENCH", "EMULATED BENCH", "HARDWARE BENCH"} - {banner}
    assert not any(other in page for other in others)
    if kind == "hardware":
        assert "firmware 7.4.1.0 build 0" in shown.group(2)


def test_options_are_a_definition_list_not_json(tmp_path: Path) -> None:
    _, page = _report(tmp_path, options={"dut": "/dev/ttyUSB0", "faults": ["no-device-annce", "late-annce"],
                                         "seed": 42, "artifacts_always": True})
    options = re.search(r'<dl class="options">(.*?)</dl>', page).group(1)
    assert "<dt>dut</dt><dd>/dev/ttyUSB0</dd>" in options
    assert "<dt>faults</dt><dd>no-device-annce, late-annce</dd>" in options
    assert "<dt>artifacts always</dt><dd>yes</dd>" in options
    assert '{"dut"' not in page and "[&quot;" not in page


def test_not_applicable_rows_are_not_mandatory_and_keep_their_title(tmp_path: Path) -> None:
    summary, page = _report(tmp_path, cases=[
        case("TC-DRLC-1.1", Verdict.NOT_APPLICABLE, title="An event is acknowledged when it starts",
             message="not applicable: the DUT does not claim PICS SE.DRLC.C")])
    [row] = summary["cases"]
    assert row["mandatory"] is False and row["title"] == "An event is acknowledged when it starts"
    cells = re.search(r'<tr class="case" id="case-TC-DRLC-1.1">(.*?)</tr>', page, re.DOTALL).group(1)
    assert "<td>no</td>" in cells and "An event is acknowledged when it starts" in cells


def test_no_absolute_local_path_in_the_report(tmp_path: Path) -> None:
    site = "/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages"
    trace = (f"{site}/_pytest/fixtures.py:539: in getfixturevalue\n/home/alice/se-suite/harness/bench.py:95: "
             "in __init__\nE   BenchError: radio stopped answering")
    info = run_info()
    info = info.model_copy(update={"dut": info.dut.model_copy(update={"profile": "/home/alice/lab/acme-ihd7.yaml"})})
    write_journal(tmp_path, [case("TC-JOIN-1.3", Verdict.ERROR, message=CaseMessage(text=trace))], info=info)
    summary = build_summary(read_journal(tmp_path), tmp_path)
    page = render_html(summary)
    assert summary["dut"]["profile"] == "acme-ihd7.yaml"
    assert "site-packages/_pytest/fixtures.py:539" in page and "harness/bench.py:95" in page
    assert not re.search(r"(?<![\w.])/(?:root|home|usr|work|tmp)/", page)
    assert without_local_paths(str(Path(__file__).resolve())) == "tests/unit/reports/test_report_overview.py"


def test_radio_firmware_comes_from_the_journal(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path, run_info(bench=BenchInfo(id="lab", radio="ezsp:/dev/ttyACM0", simulated=False)))
    journal.update_bench_firmware("firmware 7.4.1.0 build 0 (board SkyConnect) EZSP protocol 13")
    journal.record(case("TC-JOIN-1.1", Verdict.PASSED))
    journal.close()
    run = read_journal(tmp_path).run
    assert run.bench.radio_firmware == "firmware 7.4.1.0 build 0 (board SkyConnect) EZSP protocol 13"
    page = render_html(build_summary(read_journal(tmp_path), tmp_path))
    assert "EZSP protocol 13" in page and "HARDWARE BENCH" in page


# -- Allure ------------------------------------------------------------------------------------------------

def test_allure_environment_properties(tmp_path: Path) -> None:
    info = run_info(seed=1234)
    values = environment(info)
    assert values["DUT"] == "Acme Metering IHD-7 <b>Pro</b>" and values["DUT.model"] == "IHD-7 <b>Pro</b>"
    assert values["DUT.firmware"] == "2.1.0" and values["PICS.sha256"] == info.pics_hash
    assert values["suite.version"] == "v0.1.0-12-gabc1234" and values["bench"] == "lab-bench-3"
    assert values["seed"] == "1234"
    text = write_environment(tmp_path, info).read_text()
    assert "DUT=Acme Metering IHD-7 <b>Pro</b>\n" in text and f"PICS.sha256={info.pics_hash}\n" in text


def test_allure_result_gets_its_case_id_one_log_and_no_secret(tmp_path: Path) -> None:
    key = bytes.fromhex(LINK_KEY)
    (tmp_path / "a-attachment.txt").write_text(f"link key {LINK_KEY}\n")
    (tmp_path / "b-attachment.txt").write_text("captured log\n")
    step = allure.TestStepResult(name="Given the DUT has joined", parameters=[
        allure.Parameter(name="testbed", value=f"Testbed(dut_link_key={key!r})")])
    step.attachments.append(allure.Attachment(name="log.txt", source="a-attachment.txt", type="text/plain"))
    result = allure.TestResult(name="Joining", testCaseId="md5-of-the-name", steps=[step],
                               labels=[allure.Label(name="case_id", value="TC-JOIN-1.1")])
    result.attachments.append(allure.Attachment(name="log", source="b-attachment.txt", type="text/plain"))
    redactor = Redactor([LINK_KEY])
    SuiteAllure(tmp_path, redactor).result(result)
    assert result.testCaseId == "TC-JOIN-1.1"
    assert result.attachments == [] and not (tmp_path / "b-attachment.txt").exists()  # pytest's log: a duplicate
    assert step.parameters[0].value == f"Testbed(dut_link_key=b'{REDACTED}')"
    assert (tmp_path / "a-attachment.txt").read_text() == f"link key {REDACTED}\n"

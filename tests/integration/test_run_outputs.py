"""What one full suite run leaves in its folder, read as a utility or a CI system would read it.

One run with a freshly drawn install code and network key (a temporary DUT and bench profile),
--artifacts-always and Allure on (the default), shared by the tests of this module:
- no form of any planted secret in any output file (allure-results, captures, logs, JUnit, journal, summary,
  report, manifest);
- Allure: every case (not applicable ones included) has a result with its case id, the log once, and an
  environment.properties;
- JUnit agrees with the journal; the report names no local absolute path.
"""

from __future__ import annotations

import base64
import html
import json
import re
import secrets
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml, Skipped

from harness.crypto.install_code import InstallCode
from harness.results import read_journal
from tests.support.suite_process import ROOT, run_pytest, suite_env


def _run_suite(artifacts: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return run_pytest("-q", f"--artifacts={artifacts}", *args, env=suite_env(env), timeout=600)


class Planted:
    def __init__(self, folder: Path) -> None:
        self.code = InstallCode(secrets.token_bytes(16))
        self.network_key = secrets.token_bytes(16)
        dut = (ROOT / "profiles" / "dut" / "sim-ihd.yaml").read_text()
        dut, found = re.subn(r'(?m)^install_code: .*$', f'install_code: "{self.code.with_crc.hex().upper()}"', dut)
        assert found == 1
        bench = (ROOT / "profiles" / "bench" / "sim.yaml").read_text()
        key = ":".join(f"{b:02X}" for b in self.network_key)
        bench, found = re.subn(r'(?m)^network_key: .*$', f'network_key: "{key}"', bench)
        assert found == 1
        self.dut_profile, self.bench_profile = folder / "planted-ihd.yaml", folder / "planted-bench.yaml"
        self.dut_profile.write_text(dut)
        self.bench_profile.write_text(bench)

    @property
    def values(self) -> dict[str, bytes]:
        return {"install code with CRC": self.code.with_crc, "install code": self.code.code,
                "derived link key": self.code.link_key, "network key": self.network_key}


# Under xdist the tests that share one planted suite run (a module fixture) stay on one worker, which builds it once.
pytestmark = pytest.mark.xdist_group("planted-run")


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("planted")
    planted = Planted(folder)
    artifacts = folder / "run"
    done = _run_suite(artifacts, "--artifacts-always", f"--profile={planted.dut_profile}",
                      f"--bench={planted.bench_profile}")
    assert (artifacts / "allure-results").is_dir(), done.stdout[-3000:] + done.stderr[-3000:]
    contents = read_journal(artifacts)
    assert contents.complete, done.stdout[-3000:]
    verdicts = Counter(c.verdict for c in contents.cases)
    # The planted secrets were used: the DUT joined with its install code and the cases ran.
    assert verdicts["passed"] >= 40 and not verdicts["error"], (verdicts, done.stdout[-3000:])
    return planted, artifacts, contents


def _forms(raw: bytes) -> tuple[list[str], list[str]]:
    """(case-insensitive hex forms, case-sensitive literal forms) of a secret, in both byte orders."""
    hexes, literals = [], []
    for value in (raw, raw[::-1]):
        pairs = [f"{b:02x}" for b in value]
        hexes += ["".join(pairs)] + [sep.join(pairs) for sep in (":", "-", " ", ", 0x")]
        literal = repr(value)[2:-1]
        literals += [literal, f"b'{literal}'"]
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            literals += [encode(value).decode(), encode(value).decode().rstrip("=")]
        literals.append(", ".join(str(b) for b in value))  # a decimal byte list
    return hexes, literals


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _views(path: Path) -> tuple[bytes, list[str]]:
    """A file's bytes and the texts a reader of it sees: raw, JSON-decoded strings, XML/HTML-unescaped."""
    data = path.read_bytes()
    texts = [data.decode("latin-1")]
    if b"\x00" not in data:
        text = data.decode("utf-8", errors="replace")
        texts.append(html.unescape(text))
        lines = text.splitlines() if path.suffix == ".jsonl" else [text]
        for line in lines:
            try:
                texts += _strings(json.loads(line))
            except ValueError:
                pass
    return data, texts


def test_no_planted_secret_in_any_output(planted_run) -> None:
    planted, artifacts, _ = planted_run
    files = [p for p in artifacts.rglob("*") if p.is_file()]
    kinds = {p.suffix for p in files}
    # Every kind of output the brief names is among what was searched.
    assert {".json", ".jsonl", ".xml", ".html", ".pcap", ".txt", ".properties"} <= kinds, kinds
    assert any("allure-results" in p.parts for p in files) and (artifacts / "MANIFEST.json").is_file()
    leaks = []
    for name, raw in planted.values.items():
        hexes, literals = _forms(raw)
        for path in files:
            data, texts = _views(path)
            where = path.relative_to(artifacts)
            if raw in data or raw[::-1] in data:
                leaks.append(f"{name}: raw bytes in {where}")
            for text in texts:
                low = text.lower()
                leaks += [f"{name}: {form!r} in {where}" for form in hexes if form in low]
                leaks += [f"{name}: {form!r} in {where}" for form in literals if form in text]
    assert not leaks, "\n".join(sorted(set(leaks))[:20])


def test_the_key_file_stays_opt_in(planted_run) -> None:
    _, artifacts, _ = planted_run
    assert not [p for p in artifacts.rglob("*.keys")] and not [p for p in artifacts.rglob("*keys*.txt")]


def _allure_results(artifacts: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in (artifacts / "allure-results").glob("*-result.json")]


def test_allure_has_every_case_with_its_id_and_the_log_once(planted_run) -> None:
    _, artifacts, contents = planted_run
    results = _allure_results(artifacts)
    by_id = {r["testCaseId"]: r for r in results}
    assert len(by_id) == len(results)  # one result per case
    assert set(by_id) == {c.case_id for c in contents.cases}
    for result in results:
        labels = [label["value"] for label in result["labels"] if label["name"] == "case_id"]
        assert labels == [result["testCaseId"]]
    not_applicable = [c for c in contents.cases if c.verdict == "not_applicable"]
    assert any(c.case_id.startswith("TC-DRLC-") for c in not_applicable)  # skipped at collection on an IHD
    for case in not_applicable:
        result = by_id[case.case_id]
        assert result["status"] == "skipped" and result["name"] == case.title
        assert result["statusDetails"]["message"].removeprefix("Skipped: ").startswith("not applicable")

    def logs(item: dict) -> list[str]:
        own = [a["name"] for a in item.get("attachments", []) if a["name"] in ("log", "log.txt")]
        return own + [name for step in item.get("steps", []) for name in logs(step)]

    ran = [r for r in results if r["status"] == "passed"]
    assert ran and all(len(logs(r)) == 1 for r in ran), Counter(tuple(logs(r)) for r in results)


def test_allure_environment(planted_run) -> None:
    _, artifacts, contents = planted_run
    text = (artifacts / "allure-results" / "environment.properties").read_text()
    values = dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    run = contents.run
    assert values["DUT.model"] == run.dut.model and run.dut.manufacturer in values["DUT"]
    assert values["PICS.sha256"] == run.pics_hash and values["suite.version"] == run.suite_version
    assert values["bench"] == run.bench.id and values["DUT.firmware"]
    if run.seed is not None:
        assert values["seed"] == str(run.seed)


def test_junit_agrees_with_the_journal(planted_run) -> None:
    _, artifacts, contents = planted_run
    xml = JUnitXml.fromfile(str(artifacts / "junit.xml"))
    verdicts = {c.case_id: c.verdict for c in contents.cases}
    seen = 0
    for suite in xml:
        for case in suite:
            props = {p.get("name"): p.get("value") for p in case._elem.iter("property")}
            verdict = verdicts[props["case_id"]]
            kinds = {type(r) for r in case.result}
            expected = {"passed": set(), "failed": {Failure}, "error": {Error}, "not_applicable": {Skipped},
                        "blocked": {Skipped}}[verdict]
            assert kinds == expected, (props["case_id"], verdict, kinds)
            for result in case.result:
                if isinstance(result, Skipped):
                    prefix = "blocked" if verdict == "blocked" else "not applicable"
                    assert result.message.startswith(prefix), result.message
                    assert "site-packages" not in (result.text or "") and "/" not in (result.message or "")
            seen += 1
    assert seen == len(contents.cases)


def test_report_names_no_local_path(planted_run) -> None:
    planted, artifacts, _ = planted_run
    page = (artifacts / "report.html").read_text()
    for local in (str(ROOT), str(planted.dut_profile.parent), "/site-packages/", sys.prefix):
        assert local not in page, local
    assert 'id="bench-kind"' in page and "SIMULATED BENCH" in page
    assert "planted-ihd.yaml" in page  # the profile, by its name


def test_bench_errors_are_junit_errors(tmp_path: Path) -> None:
    """A radio that stops answering for good: every case is an error in the journal and <error> in JUnit."""
    artifacts = tmp_path / "radio"
    done = _run_suite(artifacts, "steps/test_joining.py", env={"SE_SIM_RADIO_FAILURES": "10000"})
    contents = read_journal(artifacts)
    errors = sum(c.verdict == "error" for c in contents.cases)
    assert errors, done.stdout[-3000:]
    xml = JUnitXml.fromfile(str(artifacts / "junit.xml"))
    suite = next(iter(xml))
    assert (suite.errors, suite.failures) == (errors, sum(c.verdict == "failed" for c in contents.cases))
    summary = json.loads((artifacts / "summary.json").read_text())
    assert summary["totals"]["error"] == errors


@pytest.mark.realtime(20)  # one joining case on the NCP emulator: in a realtime lane, not on the planted run's worker
def test_radio_firmware_and_bench_kind_on_the_emulator(tmp_path: Path) -> None:
    """A real-radio run (bellows on the EZSP NCP emulator) names the radio's firmware and says it was emulated."""
    from test_ncp_joining import run_on_emulator

    run = run_on_emulator(tmp_path, "steps/test_joining.py", "--case=TC-JOIN-1.1")
    contents = read_journal(run.artifacts)
    assert contents.complete and [c.case_id for c in contents.cases] == ["TC-JOIN-1.1"], run.report
    firmware = contents.run.bench.radio_firmware
    assert "firmware" in firmware and "NCP emulator" in firmware and "EZSP protocol" in firmware, firmware
    summary = json.loads((run.artifacts / "summary.json").read_text())
    assert summary["bench"]["kind"] == "emulated"
    page = (run.artifacts / "report.html").read_text()
    assert "EMULATED BENCH" in page and html.escape(firmware) in page

"""Run information and case results as the plugin would record them, for the report self-tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from harness.redact import Redactor
from harness.results import (
    BenchErrorRecord,
    BenchInfo,
    CaseMessage,
    CaseResult,
    DutIdentity,
    Journal,
    RunInfo,
    Step,
    Verdict,
)

# The install-code example of the ZigBee specification with its CRC (C3B5), and the link key derived from it
# (AES-MMO of code || CRC), as given with the example.
INSTALL_CODE = "83FED3407A939723A5C639B26916D505C3B5"
LINK_KEY = "66B6900981E1EE3CA4206B6B861C02BB"
STARTED = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def run_info(**changes) -> RunInfo:
    info = RunInfo(
        dut=DutIdentity(
            manufacturer="Acme Metering",
            model="IHD-7 <b>Pro</b>",
            firmware="2.1.0",
            date_code="20250101",
            ieee="00:0D:6F:00:00:00:10:01",
            device_type="In-Home Display (0x0507)",
            profile="profiles/dut/acme-ihd7.yaml",
        ),
        pics={"SE.KE.S": True, "SE.PRICE.C": True, "SE.DRLC.C": False},
        pixit={"join_timeout": "30 s", "ke_timeout": "20 s"},
        suite_version="v0.1.0-12-gabc1234",
        bench=BenchInfo(id="lab-bench-3", radio="ezsp:/dev/ttyACM0", radio_firmware="EmberZNet 7.4.1",
                        simulated=False),
        started=STARTED,
        options={"dut": "/dev/ttyUSB0", "faults": []},
        host="tester@lab3",
    )
    return info.model_copy(update=changes)


def case(case_id: str, verdict: Verdict | str, *, mandatory: bool = True, **fields) -> CaseResult:
    base = {
        "nodeid": f"steps/test_joining.py::test_{case_id.lower().replace('-', '_').replace('.', '_')}",
        "case_id": case_id,
        "title": f"Title of {case_id}",
        "area": "joining",
        "pics": ["SE.KE.S"],
        "mandatory": mandatory,
        "verdict": verdict,
        "started": STARTED,
        "duration_s": 1.25,
        "steps": [Step(keyword="Given", text="a commissioned network"), Step(keyword="Then", text="it joins")],
    }
    base.update(fields)
    return CaseResult(**base)


def mixed_cases() -> list[CaseResult]:
    """One case of each verdict, with the details each verdict carries."""
    return [
        case("TC-JOIN-1.1", Verdict.PASSED, attachments=["TC-JOIN-1.1/capture.pcap"]),
        case(
            "TC-JOIN-1.2", Verdict.FAILED,
            message=CaseMessage(
                expectation="the Trust Center refuses the join (no Transport Key)",
                observation="Transport Key sent 0.8 s after Association Request",
                rule="SE 1.4 5.4.1.1",
            ),
            attachments=["TC-JOIN-1.2/capture.pcap", "TC-JOIN-1.2/log.txt"],
        ),
        case(
            "TC-JOIN-1.3", Verdict.ERROR, message="serial timeout: golden radio did not answer within 2 s",
            bench_errors=[BenchErrorRecord(attempt=1, error="EZSP ASH reset", at=STARTED)],
        ),
        case("TC-DRLC-1.1", Verdict.NOT_APPLICABLE, pics=["SE.DRLC.C"], message="PICS SE.DRLC.C not claimed"),
        case("TC-MSG-2.1", Verdict.BLOCKED, message="manual step not performed: confirm the message on screen"),
    ]


def write_journal(run_dir: Path, cases: list[CaseResult], *, complete: bool = True,
                  info: RunInfo | None = None, redactor: Redactor | None = None) -> Path:
    journal = Journal.open(run_dir, info or run_info(), redactor)
    for item in cases:
        journal.record(item)
    if complete:
        journal.close({"exitstatus": 0})
    else:
        journal.__exit__(None, None, None)
    return run_dir / "journal.jsonl"

"""The joining feature end to end on the real-bench path: the suite in its own process, unmodified bellows on
the NCP emulator's pty (`python -m harness.emulator ncp --device ihd`), the reference IHD driven through its CLI
pty by the cli DUT driver, frames judged from the emulator's live pcap.

Real time: about a minute, with TC-JOIN-1.6's and TC-JOIN-1.7's silences at the lab preset's minimums
(``--pixit-preset=lab``: ``golden_silence_time``, ``leave_silence_time``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.cases import catalogue
from harness.emulator.ncp.process import EmulatorProcess
from harness.results import read_journal

ROOT = Path(__file__).resolve().parents[2]
JOINING_CASES = {case.key for case in catalogue() if case.area == "joining"}  # every one applies to the IHD
#: Joining cases an EZSP golden cannot run, each a bench error there (never the DUT's failure): TC-JOIN-1.11 needs a
#: radio that puts the golden's recorded frames on the air again, TC-JOIN-1.14 a Trust Center that stops accepting
#: a network key it switched away from.
NOT_ON_NCP = {"TC-JOIN-1.11": "cannot put a recorded frame on the air again",
              "TC-JOIN-1.14": "cannot retire a network key"}
#: The lab preset (the bench's silences and DRLC windows at their PIXIT minimums, harness/presets.py), and join
#: times short enough for a self-test and long enough for the emulator on a loaded 2-core machine.
SHORT_PIXITS = ("--pixit-preset=lab", "--pixit=join_timeout=10s", "--pixit=rejoin_timeout=20s")


def bench_profile(tmp_path: Path, pcap: Path) -> Path:
    """profiles/bench/ncp-emulator.yaml with this run's live pcap as the sniffer."""
    text = (ROOT / "profiles" / "bench" / "ncp-emulator.yaml").read_text()
    assert "sniffer_pcap: /tmp/se-air.pcap" in text
    path = tmp_path / "bench.yaml"
    path.write_text(text.replace("sniffer_pcap: /tmp/se-air.pcap", f"sniffer_pcap: {pcap}"))
    return path


@dataclass(frozen=True)
class RunOnEmulator:
    done: subprocess.CompletedProcess
    artifacts: Path
    pcap: Path
    report: str  # the suite's and the emulator's output tails, for assertion messages


def run_suite(emulator: EmulatorProcess, bench: Path, artifacts: Path, *selection: str,
              timeout: float = 1800, profile: str = "profiles/dut/ref-ihd-cli.yaml") -> subprocess.CompletedProcess:
    """The suite on the emulator; *selection* may carry extra pytest options (``--artifacts-always``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SE_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *selection,
         f"--radio=ezsp:{emulator.ncp}", f"--dut={emulator.dut_cli}", f"--profile={profile}",
         f"--bench={bench}", f"--artifacts={artifacts}", *SHORT_PIXITS],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def run_on_emulator(tmp_path: Path, *selection: str, profile: str | None = None, device: str = "ihd",
                    timeout: float = 1800) -> RunOnEmulator:
    """The emulator (its reference *device* on *profile*, default ref-<device>-cli.yaml) and the suite run on it."""
    pcap = tmp_path / "air.pcap"
    artifacts = tmp_path / "run"
    extra = ("--profile", profile) if profile else ()
    with EmulatorProcess(device=device, pcap=pcap, extra=extra) as emulator:
        done = run_suite(emulator, bench_profile(tmp_path, pcap), artifacts, *selection, timeout=timeout,
                         profile=profile or f"profiles/dut/ref-{device}-cli.yaml")
        emulator_log = emulator.stderr_text()
    report = f"{done.stdout[-4000:]}\n--- emulator stderr ---\n{emulator_log[-2000:]}"
    return RunOnEmulator(done, artifacts, pcap, report)


@pytest.mark.realtime(65)
def test_every_joining_case_passes_through_bellows_and_the_emulator(tmp_path):
    run = run_on_emulator(tmp_path, "steps/test_joining.py", "--artifacts-always")
    _run, cases, complete = read_journal(run.artifacts)
    verdicts = {case.case_id: case.verdict for case in cases}
    assert complete, run.report
    assert verdicts.keys() == JOINING_CASES, run.report
    assert all(v == "passed" for k, v in verdicts.items() if k not in NOT_ON_NCP), f"{verdicts}\n{run.report}"
    messages = {case.case_id: case.message.model_dump_json() if case.message else "" for case in cases}
    for case_id, reason in NOT_ON_NCP.items():
        assert verdicts[case_id] == "error" and reason in messages[case_id], (case_id, messages[case_id])
    assert run.done.returncode == 6, run.report  # INCONCLUSIVE: two bench errors (and one feature, bench PIXITs)
    # The frames were judged from the emulator's live capture.
    assert run.pcap.stat().st_size > 24
    # Each case keeps the DUT's own log, read through the cli driver's read_log, with its install code redacted.
    for case in cases:
        dut_log = run.artifacts / case.case_id / "dut-log.txt"
        text = dut_log.read_text()
        assert "harness.devices" in text or "harness.ke" in text, (case.case_id, text[:500])
        assert "83FED3407A939723A5C639B26916D505" not in text.upper()


def test_the_emulator_process_prints_its_endpoints_and_ends(tmp_path):
    emulator = EmulatorProcess(device="ihd", pcap=tmp_path / "air.pcap")
    with emulator:
        assert emulator.ncp.startswith("/dev/pts/") and emulator.dut_cli.startswith("/dev/pts/")
        assert emulator.endpoints["pcap"] == str(tmp_path / "air.pcap")
        process = emulator.process
        assert process is not None and process.poll() is None
    assert process.poll() is not None  # stopped on leaving the block

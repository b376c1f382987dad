"""`python -m harness.bench_check` against the NCP emulator in its own process, as a lab runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.emulator.ncp.process import EmulatorProcess
from harness.emulator.ncp.server import DEFAULT_NCP_IEEE

ROOT = Path(__file__).resolve().parents[2]
BENCH = "profiles/bench/ncp-emulator.yaml"


# Both spellings a lab may type: the module of its own, and `harness.bench check` as the bench issue names it.
CHECK_COMMANDS = {"bench_check": ("-m", "harness.bench_check"), "bench check": ("-m", "harness.bench", "check")}


def bench_check(*args: str, command: str = "bench_check") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SE_")}
    return subprocess.run([sys.executable, *CHECK_COMMANDS[command], *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def lines(done: subprocess.CompletedProcess) -> dict[str, str]:
    """First word of each output line -> the rest (the suites keyed 'cbke 1', 'cbke 2')."""
    out = {}
    for line in done.stdout.splitlines():
        word, _sep, rest = line.partition(" ")
        word = word.rstrip(":")
        if word == "cbke":
            word = f"cbke {rest.split()[1]}"
        out.setdefault(word, rest)
    return out


@pytest.mark.realtime(30)
@pytest.mark.parametrize("command", sorted(CHECK_COMMANDS))
def test_a_ready_bench_prints_firmware_ezsp_cbke_and_the_duts_answer(command):
    with EmulatorProcess(device="ihd") as emulator:
        done = bench_check(f"--bench={BENCH}", f"--radio=ezsp:{emulator.ncp}", f"--dut={emulator.dut_cli}",
                           "--profile=profiles/dut/ref-ihd-cli.yaml", command=command)
    out = lines(done)
    assert done.returncode == 0, done.stdout + done.stderr
    assert out["radio"] == f"ezsp:{emulator.ncp}"
    assert out["firmware"].startswith("6.10.3.0 build 297")
    assert out["ezsp"] == "protocol 8, stack type 2, stack version 0x6A30"
    assert out["eui64"] == ":".join(f"{b:02x}" for b in DEFAULT_NCP_IEEE.to_bytes(8, "big"))
    subject = f"subject {DEFAULT_NCP_IEEE:016X}"
    assert "library present" in out["cbke 1"] and "(48 bytes" in out["cbke 1"] and subject in out["cbke 1"]
    assert "library present" in out["cbke 2"] and "(74 bytes" in out["cbke 2"] and subject in out["cbke 2"]
    assert out["dut"] == f"{emulator.dut_cli}: 'info' -> 'OK ieee=000D6F0000001001 joined=0 nwk=FFFE'"
    assert out["result"] == "ready for every feature"


@pytest.mark.realtime(40)
def test_an_ncp_without_cbke_and_a_dut_that_refuses_are_each_named():
    with EmulatorProcess(device="ihd", extra=("--no-cbke",)) as emulator:
        done = bench_check(f"--bench={BENCH}", f"--radio=ezsp:{emulator.ncp}", f"--dut={emulator.dut_cli}",
                           "--profile=profiles/dut/sim-ihd.yaml")  # no info command: the line "info" is sent
        refused = bench_check(f"--bench={BENCH}", f"--radio=ezsp:{emulator.ncp}", f"--dut={emulator.dut_cli}",
                              "--profile", str(ROOT / "tests" / "integration" / "data" / "nonexistent.yaml"))
    out = lines(done)
    assert done.returncode == 1, done.stdout
    assert out["cbke 1"] == "suite 1 (sect163k1): library absent"
    assert out["cbke 2"] == "suite 2 (sect283k1): library absent"
    assert out["dut"].endswith("'info' -> 'OK ieee=000D6F0000001001 joined=0 nwk=FFFE'")
    assert [line for line in done.stdout.splitlines() if line.startswith("missing:")] == [
        "missing: CBKE suite 1 on the NCP (library and certificate): key establishment and every feature after it "
        "cannot run; flash an NCP image with the CBKE/ECC libraries and install the test-CA certificate"]
    assert refused.returncode == 2 and refused.stderr.startswith("ERROR: ") and "nonexistent.yaml" in refused.stderr


@pytest.mark.realtime(45)
def test_a_dut_answering_error_and_a_silent_radio_are_problems_not_crashes(tmp_path):
    profile = (ROOT / "profiles" / "dut" / "ref-ihd-cli.yaml").read_text().replace(
        'info: "info -> ^OK ieee="', 'info: "frobnicate"')
    path = tmp_path / "dut.yaml"
    path.write_text(profile)
    with EmulatorProcess(device="ihd") as emulator:
        done = bench_check(f"--bench={BENCH}", f"--radio=ezsp:{emulator.ncp}", f"--dut={emulator.dut_cli}",
                           f"--profile={path}")
        # The DUT's CLI pty is no EZSP radio: nothing answers the ASH reset.
        silent = bench_check(f"--bench={BENCH}", f"--radio=ezsp:{emulator.dut_cli}")
    assert done.returncode == 1
    assert "missing: the DUT control answer:" in done.stdout and "'ERROR unknown command frobnicate'" in done.stdout
    assert silent.returncode == 1 and "Traceback" not in silent.stdout + silent.stderr
    assert any(line.startswith("radio error: ") for line in silent.stdout.splitlines()), silent.stdout


@pytest.mark.parametrize(("args", "words"), [
    (["--bench=profiles/bench/sim.yaml"], ["needs an EZSP radio", "ezsp:<port>"]),
    ([f"--bench={BENCH}", "--radio=zigate:/dev/x"], ["needs an EZSP radio"]),
    (["--bench=/nonexistent.yaml"], ["/nonexistent.yaml"]),
])
def test_bad_options_stop_with_one_line(args, words):
    done = bench_check(*args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("ERROR: ")
    for word in words:
        assert word in done.stderr


def test_harness_bench_without_check_prints_its_usage():
    done = subprocess.run([sys.executable, "-m", "harness.bench"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("usage: python -m harness.bench check --bench FILE"), done.stderr

"""Whole sessions on the real-bench path, as a lab runs them: several features in ONE pytest session through one
NCP emulator, two sessions in a row against the same emulator, and the bench faults a lab meets (a stale
sniffer capture, a DUT control port that closes), which must be bench errors naming the case, never DUT failures.

What these catch: TC-JOIN-1.8 switches the network to key sequence 1 through the NCP; before the hardware bench
owned the network state, every later scenario started on that key with a keyring holding only the bench's key
(TC-KE-1.2 and TC-KE-3.4 then failed the reference IHD: nothing decrypted), and a second session found key
sequence 1 in the NCP's NVM (TC-JOIN-1.1, 1.6 and 1.8 failed it: "key sequence numbers [2]").

Real time: the CI tests take about 2 to 3 minutes together on a loaded 2-core machine (the case selection is
chosen for the state the cases leave behind, with the lab preset's waits). The whole suite against both reference
devices (the nightly job's run) is ``test_the_whole_suite_through_one_emulator_per_device``, run only with
SE_NIGHTLY_EMULATOR=1.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_ncp_joining import ROOT, bench_profile  # tests/integration is on sys.path (no package)

from harness.emulator.ncp.process import EmulatorProcess
from harness.results import read_journal

#: The lab preset plus the self-tests' usual join and rejoin times (the reference profiles declare 30 s).
FAST = ("--pixit-preset=lab", "--pixit=join_timeout=10s", "--pixit=rejoin_timeout=20s")
#: The cases that change the network (TC-JOIN-1.8 switches its key, TC-JOIN-1.6 restarts the golden radio), then
#: the key-establishment cases that decrypt the DUT's frames with the bench's key.
STATE_CASES = ("TC-JOIN-1.1", "TC-JOIN-1.6", "TC-JOIN-1.8", "TC-KE-1.2", "TC-KE-3.4")
#: The Price cases of the first sessions (the later ones judge more of the Price client than a session test needs).
IHD_PRICE = {f"TC-PRICE-1.{n}" for n in range(1, 5)}
NIGHTLY = os.environ.get("SE_NIGHTLY_EMULATOR", "") not in ("", "0")


def session(emulator: EmulatorProcess, bench: Path, artifacts: Path, *args: str, profile: str,
            env: dict[str, str] | None = None, dut: str | None = None, timeout: float = 900) -> tuple[
        subprocess.CompletedProcess, dict]:
    """One pytest session of the suite on *emulator*; returns the process and the journal's cases by key."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SE_")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args, f"--radio=ezsp:{emulator.ncp}",
         f"--dut={dut or emulator.dut_cli}", f"--profile={profile}", f"--bench={bench}", f"--artifacts={artifacts}"],
        cwd=ROOT, env={**clean, **(env or {})}, capture_output=True, text=True, timeout=timeout)
    _run, cases, complete = read_journal(artifacts)
    assert complete, done.stdout[-3000:]
    return done, {case.case_id: case for case in cases}


def _report(done: subprocess.CompletedProcess, emulator: EmulatorProcess) -> str:
    return f"{done.stdout[-4000:]}\n--- emulator stderr ---\n{emulator.stderr_text()[-2000:]}"


def _not_passed(cases: dict) -> dict:
    return {key: (case.verdict, case.message) for key, case in cases.items() if case.verdict != "passed"}


@pytest.mark.realtime(90)
def test_joining_then_key_establishment_then_price_in_one_session_twice_on_one_emulator(tmp_path):
    """The reference IHD: one session runs joining (TC-JOIN-1.8 switches the network key), key establishment and
    the Price feature; a second session against the same emulator process runs joining and key establishment
    again. Both pass: the network starts each scenario on the bench's key, and the keyring follows the key switch."""
    pcap = tmp_path / "air.pcap"
    bench = bench_profile(tmp_path, pcap)
    profile = "profiles/dut/ref-ihd-cli.yaml"
    started = time.monotonic()
    with EmulatorProcess(device="ihd", pcap=pcap) as emulator:
        cases = [f"--case={c}" for c in STATE_CASES]
        first, verdicts = session(emulator, bench, tmp_path / "first", "steps/test_joining.py",
                                  "steps/test_key_establishment.py", "steps/test_price.py", *cases,
                                  *(f"--case={case}" for case in sorted(IHD_PRICE)), *FAST, profile=profile)
        assert verdicts.keys() == {*STATE_CASES, *IHD_PRICE}, _report(first, emulator)
        assert not _not_passed(verdicts), f"{_not_passed(verdicts)}\n{_report(first, emulator)}"
        # The key switch of TC-JOIN-1.8 was undone when it closed: nothing to re-form when the next session opens.
        second, again = session(emulator, bench, tmp_path / "second", "steps/test_joining.py",
                                "steps/test_key_establishment.py", "--case=TC-JOIN-1.8", "--case=TC-JOIN-1.1",
                                "--case=TC-JOIN-1.7", "--case=TC-KE-1.2", *FAST, profile=profile,
                                env={"SE_PROGRESS_INTERVAL": "3"})
        assert not _not_passed(again), f"{_not_passed(again)}\n{_report(second, emulator)}"
        assert again.keys() == {"TC-JOIN-1.1", "TC-JOIN-1.7", "TC-JOIN-1.8", "TC-KE-1.2"}
    assert first.returncode == second.returncode == 7, _report(second, emulator)  # PARTIAL: a selection
    # TC-JOIN-1.8's key switch was undone as it closed, so the next session found the bench's network as it was.
    assert "(TC-JOIN-1.8 switched the network key): re-forming the bench's network" in first.stdout, first.stdout[-3000:]
    assert "left by an earlier case or session" not in second.stdout, second.stdout[-3000:]
    # Real-time waits are announced on the terminal, naming the case, the wait and the time left.
    lines = [line for line in second.stdout.splitlines() if line.startswith("TC-JOIN-1.7: ")]
    assert any(line.endswith("s of 10 s of leave silence left") for line in lines), second.stdout[-3000:]
    print(f"two sessions, {len(verdicts) + len(again)} cases: {time.monotonic() - started:.0f} s")


@pytest.mark.realtime(35)
def test_a_session_left_on_another_network_key_is_reformed_and_the_pct_passes(tmp_path):
    """The reference PCT on an NCP an earlier session left on network key sequence 1 (a session killed during
    TC-JOIN-1.8): the bench finds it, re-forms the bench's network with one line on the terminal, and joining,
    key establishment and the Time feature then pass in one session."""
    pcap = tmp_path / "air.pcap"
    bench = bench_profile(tmp_path, pcap)
    profile = "profiles/dut/ref-pct-cli.yaml"
    with EmulatorProcess(device="pct", pcap=pcap) as emulator:
        _switch_the_ncp_key(emulator, bench)
        done, verdicts = session(emulator, bench, tmp_path / "run", "steps/test_joining.py",
                                 "steps/test_key_establishment.py", "steps/test_time.py", "--case=TC-JOIN-1.1",
                                 "--case=TC-JOIN-1.8", "--case=TC-KE-1.2", "--case=TC-KE-3.4", "--case=TC-TIME-1.1",
                                 *FAST, profile=profile)
        report = _report(done, emulator)
    assert verdicts.keys() == {"TC-JOIN-1.1", "TC-JOIN-1.8", "TC-KE-1.2", "TC-KE-3.4", "TC-TIME-1.1"}, report
    assert not _not_passed(verdicts), f"{_not_passed(verdicts)}\n{report}"
    # The state an earlier session left was found and reset, with one line on the terminal.
    reformed = [line for line in done.stdout.splitlines() if "re-forming the bench's network" in line]
    assert reformed and "network key sequence 1 (the bench's is 0)" in reformed[0], done.stdout[-3000:]


def _switch_the_ncp_key(emulator: EmulatorProcess, bench: Path) -> None:
    """Leave the emulator's NCP on network key sequence 1, as a session killed in the middle of TC-JOIN-1.8 does."""
    script = (
        "import asyncio, sys\n"
        "from harness.radio.ezsp import ControllerApplication, ezsp_config\n"
        "from harness.profiles import load_bench_profile\n"
        "p = load_bench_profile(sys.argv[2])\n"
        "key = bytes.fromhex(p.network_key.get_secret_value().replace(':', ''))\n"
        "async def main():\n"
        "    app = await ControllerApplication.new(ezsp_config(sys.argv[1], channel=p.channel, pan_id=p.pan_id,\n"
        "        extended_pan_id=bytes.fromhex(str(p.extended_pan_id).replace(':', '')), network_key=key),\n"
        "        auto_form=True)\n"
        "    await app.trust_center.update_network_key(bytes(range(16)), 1)\n"
        "    await asyncio.sleep(0.5)\n"
        "    print((await app.network_state()).key_seq)\n"
        "    await app.shutdown()\n"
        "asyncio.run(main())\n")
    done = subprocess.run([sys.executable, "-c", script, emulator.ncp, str(bench)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.stdout.strip().endswith("1"), done.stdout + done.stderr[-2000:]


@pytest.mark.realtime(25)
def test_a_stale_sniffer_capture_is_a_bench_error_naming_the_case(tmp_path):
    """The bench profile names a capture no sniffer writes (an earlier run's file, full of frames): the case is a
    bench error naming it and the sniffer, never a DUT failure."""
    live, stale = tmp_path / "air.pcap", tmp_path / "stale.pcap"
    _old_capture(stale)
    bench = bench_profile(tmp_path, stale)
    with EmulatorProcess(device="ihd", pcap=live) as emulator:
        done, verdicts = session(emulator, bench, tmp_path / "run", "steps/test_joining.py", "--case=TC-JOIN-1.1",
                                 *FAST, profile="profiles/dut/ref-ihd-cli.yaml")
        report = _report(done, emulator)
    case = verdicts["TC-JOIN-1.1"]
    assert case.verdict == "error", (case.verdict, case.message, report)
    text = case.message.text
    assert text.startswith("TC-JOIN-1.1: ") and "SnifferFault" in text and str(stale) in text, text
    assert "not the live capture" in text, text
    assert done.returncode == 6, report  # INCONCLUSIVE: a bench error, not NOT CONFORMANT


def _old_capture(path: Path) -> None:
    """A capture as an earlier run leaves it: the pcap header and a frame (an 802.15.4 beacon request)."""
    from harness.capture import PcapWriter

    with PcapWriter(path) as writer:
        writer.write(1.0, bytes.fromhex("0308ffffffff07") + b"\x00\x00")


class _DutPortRelay:
    """A pty the suite drives as the DUT's control port, relaying to the emulator's CLI pty until *cut_after*
    command lines went through; then it closes its end, as a DUT whose USB serial port vanished does."""

    def __init__(self, target: str, cut_after: int) -> None:
        self.master, slave = os.openpty()
        self.path = os.ttyname(slave)
        self._slave = slave  # kept open until the relay ends, so the pty exists when the suite opens it
        self.target = os.open(target, os.O_RDWR | os.O_NOCTTY)
        self.cut_after = cut_after
        self.lines: list[bytes] = []
        self.cut = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        pending = b""
        try:
            while not self.cut.is_set():
                ready, _w, _x = select.select([self.master, self.target], [], [], 0.2)
                if self.master in ready:
                    data = os.read(self.master, 4096)
                    pending += data
                    while b"\r" in pending or b"\n" in pending:
                        cut = min(i for i in (pending.find(b"\r"), pending.find(b"\n")) if i >= 0)
                        line, pending = pending[:cut], pending[cut + 1:]
                        if not line.strip():
                            continue
                        if len(self.lines) >= self.cut_after:
                            self.cut.set()
                            break
                        self.lines.append(line)
                        os.write(self.target, line + b"\r\n")
                if self.target in ready and not self.cut.is_set():
                    os.write(self.master, os.read(self.target, 4096))
        finally:
            for fd in (self.master, self._slave, self.target):
                os.close(fd)
            self.cut.set()


@pytest.mark.realtime(25)
def test_a_dut_control_port_that_closes_is_a_bench_error_naming_the_case(tmp_path):
    """The DUT's control port goes away during TC-JOIN-1.1 (after its factory reset, before "join"): the case is a
    bench error naming the case and the port, never a DUT failure."""
    pcap = tmp_path / "air.pcap"
    bench = bench_profile(tmp_path, pcap)
    with EmulatorProcess(device="ihd", pcap=pcap) as emulator:
        # The identification reads the DUT's Basic identity: reset + join; TC-JOIN-1.1: reset, then the cut.
        relay = _DutPortRelay(emulator.dut_cli, cut_after=3)
        done, verdicts = session(emulator, bench, tmp_path / "run", "steps/test_joining.py", "--case=TC-JOIN-1.1",
                                 *FAST, profile="profiles/dut/ref-ihd-cli.yaml", dut=relay.path)
        report = _report(done, emulator)
    assert [line.split()[0] for line in relay.lines] == [b"reset", b"join", b"reset"], relay.lines
    case = verdicts["TC-JOIN-1.1"]
    assert case.verdict == "error", (case.verdict, case.message, report)
    text = case.message.text
    assert text.startswith("TC-JOIN-1.1: ") and "DutControlError" in text and relay.path in text, text
    assert done.returncode == 6, report  # INCONCLUSIVE


# Not marked realtime: CI skips it, and a skipped test must not weigh on the realtime lanes (tests/conftest.py).
@pytest.mark.skipif(not NIGHTLY, reason="the whole suite through the NCP emulator takes tens of minutes (nightly job): "
                    "run it with SE_NIGHTLY_EMULATOR=1 python3 -m pytest "
                    "tests/integration/test_ncp_sessions.py -k whole_suite -s")
@pytest.mark.parametrize("device", ["ihd", "pct"])
def test_the_whole_suite_through_one_emulator_per_device(tmp_path, device):
    """The README's bench command, whole suite, one session, with the lab preset and the profile's own timing:
    every applicable case passes. Prints each feature's wall time (docs/bench.md quotes them)."""
    pcap = tmp_path / "air.pcap"
    bench = bench_profile(tmp_path, pcap)
    started = time.monotonic()
    with EmulatorProcess(device=device, pcap=pcap) as emulator:
        done, verdicts = session(emulator, bench, tmp_path / "run", "--pixit-preset=lab",
                                 profile=f"profiles/dut/ref-{device}-cli.yaml", timeout=4 * 3600)
        report = _report(done, emulator)
    elapsed = time.monotonic() - started
    applicable = {key: case for key, case in verdicts.items() if case.verdict != "not_applicable"}
    by_area: dict[str, float] = {}
    for case in applicable.values():
        by_area[case.area] = by_area.get(case.area, 0.0) + case.duration_s
    print(f"\n{device}: {len(applicable)} applicable cases in {elapsed / 60:.1f} min; by feature: "
          + ", ".join(f"{area} {seconds / 60:.1f} min" for area, seconds in sorted(by_area.items())))
    assert not _not_passed(applicable), f"{_not_passed(applicable)}\n{report}"
    assert done.returncode == 7, report  # PARTIAL: the lab preset overrides PIXITs

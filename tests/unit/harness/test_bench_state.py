"""The hardware backend owns the network state and watches its own health; long real-time waits are announced.

- network state: a network that differs from the bench profile's is re-formed (once, with one warning line), a
  re-form that does not take stops the scenario as a bench error, a key switch reaches the keyring with the
  sequence number the NCP gives it, and an NCP on another sequence than the case expects is the bench's fault;
- health: a sniffer capture that does not grow while frames are on the air, or that shrank, a DUT control port
  whose other end closed: bench faults naming the case;
- progress lines (harness/progress.py) on the wall clock only;
- the lab PIXIT preset (harness/presets.py) inside the PIXIT bounds.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
import types
from pathlib import Path

import bellows.types as bt
import pytest

from harness import pixits
from harness.backends.hardware import (
    HardwareBackend,
    NetworkStateError,
    capture_fault,
    in_case,
)
from harness.capture import PcapWriter
from harness.capture.live import LivePcap, SnifferFault
from harness.clock import VirtualClock, WallClock, new_virtual_loop
from harness.dut.cli import CliDutControl
from harness.presets import LAB_PIXITS, PresetError, preset
from harness.progress import Progress, Wait, Waits, describe
from harness.radio.ezsp import EzspRadioError, EzspTrustCenter, NetworkState
from harness.verify import Keyring

ROOT = Path(__file__).resolve().parents[3]
FRAME = bytes.fromhex("0308a5ffff0000") + b"\x12\x34"
BENCH_KEY = bytes.fromhex("01030507090B0D0F00020406080A0C0D")
EXPECTED = {"network_key": BENCH_KEY, "key_seq": 0, "channel": 15, "pan_id": 0x1A62,
            "extended_pan_id": bytes.fromhex("000D6FFFFE000001")}


def _state(**changes) -> NetworkState:
    values = {"network_key": BENCH_KEY, "key_seq": 0, "nwk_frame_counter": 7, "channel": 15, "pan_id": 0x1A62,
              "extended_pan_id": bytes.fromhex("000D6FFFFE000001")} | changes
    return NetworkState(**values)


# -- network state -------------------------------------------------------------------------------------------

def test_the_bench_network_differs_in_words_that_never_show_a_key():
    assert _state().differences(**EXPECTED) == []
    other = bytes(range(16))
    found = _state(network_key=other, key_seq=1, channel=20).differences(**EXPECTED)
    assert found == ["network key sequence 1 (the bench's is 0)", "a network key other than the bench profile's",
                     "channel 20 (the bench's is 15)"]
    assert other.hex() not in " ".join(found).lower() and BENCH_KEY.hex() not in " ".join(found).lower()


class _StateApp:
    """An app whose NCP runs *states* one after the other (each network_state() call reads the next)."""

    def __init__(self, *states: NetworkState) -> None:
        self.states = list(states)
        self.lost = None

    async def network_state(self) -> NetworkState:
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]


def _hardware(apps: list[_StateApp]) -> tuple[HardwareBackend, list[str]]:
    hardware = HardwareBackend.__new__(HardwareBackend)
    hardware.setup = types.SimpleNamespace(network_key=BENCH_KEY, bench_profile=types.SimpleNamespace(
        channel=15, pan_id=0x1A62, extended_pan_id="00:0D:6F:FF:FE:00:00:01"))
    hardware.case = "TC-KE-1.2"
    hardware.app = None
    reforms: list[str] = []

    async def open_app():
        if hardware.app is None:
            hardware.app = apps.pop(0)
        return hardware.app

    async def reform(app, expected, current):
        assert expected == EXPECTED
        reforms.append("reform")
        hardware.app = None  # the radio is opened again on the new network

    hardware.open_app = open_app
    hardware._reform = reform
    return hardware, reforms


def test_a_network_left_on_another_key_is_reformed_with_one_warning_line(caplog):
    stale = _StateApp(_state(network_key=bytes(range(16)), key_seq=1))
    hardware, reforms = _hardware([stale, _StateApp(_state())])
    with caplog.at_level(logging.WARNING, logger="harness.progress"):
        asyncio.run(hardware.bench_network("left by an earlier case or session"))
    assert reforms == ["reform"]
    lines = [r.getMessage() for r in caplog.records if r.name == "harness.progress"]
    assert lines == ["TC-KE-1.2: the NCP's network has network key sequence 1 (the bench's is 0), a network key other "
                     "than the bench profile's (left by an earlier case or session): re-forming the bench's network"]


def test_the_bench_network_is_left_alone_when_it_is_the_profiles():
    hardware, reforms = _hardware([_StateApp(_state())])
    asyncio.run(hardware.bench_network())
    assert reforms == []


def test_a_reform_that_does_not_take_stops_the_scenario_as_a_bench_error():
    stuck = _state(key_seq=3)
    hardware, reforms = _hardware([_StateApp(stuck), _StateApp(stuck)])
    with pytest.raises(NetworkStateError, match=r"re-forming left the NCP's network with network key sequence 3"):
        asyncio.run(hardware.bench_network())
    assert reforms == ["reform"]


class _KeyEzsp:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def broadcastNextNetworkKey(self, key):  # noqa: N802 - EZSP's name
        self.sent.append("next")
        return (bt.EmberStatus.SUCCESS,)

    async def broadcastNetworkKeySwitch(self):  # noqa: N802 - EZSP's name
        self.sent.append("switch")
        return (bt.EmberStatus.SUCCESS,)


def _trust_center(seq: int) -> tuple[EzspTrustCenter, _KeyEzsp]:
    ezsp = _KeyEzsp()
    app = types.SimpleNamespace(_ezsp=ezsp, devices={}, state=types.SimpleNamespace(node_info=None))

    async def network_state():
        return _state(key_seq=seq)

    app.network_state = network_state
    return EzspTrustCenter(app), ezsp


def test_a_key_switch_reaches_the_keyring_with_the_ncps_sequence_number():
    trust_center, ezsp = _trust_center(0)
    hardware = HardwareBackend.__new__(HardwareBackend)
    testbed = types.SimpleNamespace(keyring=Keyring(network_keys={0: BENCH_KEY}), network_key_changed=False)
    hardware._watch_key_switches(testbed, types.SimpleNamespace(trust_center=trust_center))
    new_key = bytes(range(16))
    asyncio.run(trust_center.update_network_key(new_key, 1))
    assert ezsp.sent == ["next", "switch"]
    assert testbed.keyring.network_keys == {0: BENCH_KEY, 1: new_key}
    assert testbed.network_key_changed is True


def test_an_ncp_on_another_key_sequence_than_the_case_expects_is_the_benches_fault():
    trust_center, ezsp = _trust_center(1)  # an earlier session left key sequence 1: the next would be 2
    with pytest.raises(EzspRadioError, match=r"would switch to network key sequence 2, not 1"):
        asyncio.run(trust_center.update_network_key(bytes(range(16)), 1))
    assert ezsp.sent == []


# -- health --------------------------------------------------------------------------------------------------

def _testbed(capture: LivePcap, air: list[float], grew_at: float | None):
    return types.SimpleNamespace(capture=capture, frames=[], name="node", app=types.SimpleNamespace(air_frames=air),
                                 case="TC-JOIN-1.1", capture_grew_at=grew_at)


def test_a_capture_that_grows_is_healthy_and_its_frames_are_taken(tmp_path):
    path = tmp_path / "air.pcap"
    with PcapWriter(path) as writer:
        writer.write(1.0, FRAME)
    now = time.monotonic()
    testbed = _testbed(LivePcap(path), [now - 10], now - 20)
    assert capture_fault(testbed) is None
    assert testbed.frames == [(1.0, FRAME)] and testbed.capture_grew_at >= now


def test_a_capture_that_stopped_growing_while_frames_were_on_the_air_is_a_sniffer_fault(tmp_path):
    path = tmp_path / "air.pcap"
    PcapWriter(path).close()
    live = LivePcap(path)
    now = time.monotonic()
    fault = capture_fault(_testbed(live, [now - 30, now - 5, now - 4], now - 40))
    assert isinstance(fault, SnifferFault)
    assert str(fault).startswith(f"TC-JOIN-1.1: the sniffer capture {path} stopped growing: the golden radio "
                                 "reported 3 frame(s) on the air since it last grew")
    # Frames younger than the sniffer's lag, or older than the last growth, prove nothing yet.
    assert capture_fault(_testbed(live, [now - 0.5], now - 40)) is None
    assert capture_fault(_testbed(live, [now - 30], now - 20)) is None


def test_a_capture_that_shrank_is_a_sniffer_fault(tmp_path):
    path = tmp_path / "air.pcap"
    with PcapWriter(path) as writer:
        writer.write(1.0, FRAME)
        writer.write(2.0, FRAME)
    live = LivePcap(path)
    assert len(live.read_new()) == 2
    with PcapWriter(path):  # the sniffer restarted: a new file at the same path
        pass
    with pytest.raises(SnifferFault, match="shrank"):
        live.read_new()


def _sniffer_bench(tmp_path: Path, monkeypatch) -> tuple[HardwareBackend, Path]:
    monkeypatch.setattr("harness.backends.hardware.SNIFFER_LAG", 0.3)
    path = tmp_path / "air.pcap"
    with PcapWriter(path) as writer:
        writer.write(1.0, FRAME)  # what an earlier run left
    hardware = HardwareBackend.__new__(HardwareBackend)
    hardware.capture = LivePcap(path)
    hardware.capture.skip_to_end()
    hardware.clock = WallClock()
    return hardware, path


def test_a_stale_capture_is_found_when_the_scenario_opens(tmp_path, monkeypatch):
    hardware, path = _sniffer_bench(tmp_path, monkeypatch)
    testbed = types.SimpleNamespace(frames=[], capture_grew_at=None)
    with pytest.raises(SnifferFault, match=rf"TC-JOIN-1.1: the sniffer capture {path} did not grow within 0.3 s"):
        asyncio.run(hardware._sniffer_hears(testbed, "TC-JOIN-1.1"))


def test_a_live_capture_passes_the_opening_check_with_the_golden_broadcast(tmp_path, monkeypatch):
    hardware, path = _sniffer_bench(tmp_path, monkeypatch)
    testbed = types.SimpleNamespace(frames=[], capture_grew_at=None)

    async def scenario():
        async def sniffer():
            await asyncio.sleep(0.1)
            with open(path, "ab") as fh:  # the broadcast's record, appended as a live sniffer does
                fh.write(b"\x02\x00\x00\x00\x00\x00\x00\x00" + len(FRAME).to_bytes(4, "little") * 2 + FRAME)

        task = asyncio.create_task(sniffer())
        await hardware._sniffer_hears(testbed, "TC-JOIN-1.1")
        await task

    asyncio.run(scenario())
    assert testbed.frames == [(2.0, FRAME)] and testbed.capture_grew_at is not None


def test_a_dut_control_port_whose_other_end_closed_is_reported_and_stays_reported():
    master, slave = os.openpty()
    name = os.ttyname(slave)
    cli = CliDutControl(name, {"info": "info"})
    assert cli.port_fault() is None  # not opened yet
    cli._open()
    assert cli.port_fault() is None
    os.close(master)
    reason = cli.port_fault()
    assert reason is not None and reason.startswith(name) and "Input/output error" in reason
    assert cli.port_fault() == reason
    os.close(slave)


def test_a_bench_fault_names_the_case_once():
    exc = in_case(in_case(EzspRadioError("the radio stopped answering"), "TC-KE-1.2"), "TC-KE-1.2")
    assert str(exc) == "TC-KE-1.2: the radio stopped answering"


# -- progress lines ------------------------------------------------------------------------------------------

def test_a_progress_line_names_the_case_the_wait_and_the_time_left():
    wait = Wait("leave silence", start=100.0, seconds=600.0)
    assert describe("TC-JOIN-1.7", wait, "", 280.0) == "TC-JOIN-1.7: 420 s of 600 s of leave silence left"
    unnamed = Wait("", start=0.0, seconds=20.0)
    assert describe("TC-KE-1.3", unnamed, "the DUT completes key establishment", 5.0) == (
        "TC-KE-1.3: 15 s of 20 s of the step 'the DUT completes key establishment' left")


def test_progress_speaks_after_the_interval_of_silence_only_and_names_the_outermost_labelled_wait():
    clock = types.SimpleNamespace(waits=Waits())
    lines: list[str] = []
    progress = Progress(clock, interval=30.0, emit=lines.append)
    progress.case, progress._last = "TC-JOIN-1.7", 1000.0
    with clock.waits.waiting("leave silence", 600):
        clock.waits.active[0].start = 1000.0
        with clock.waits.waiting("", 0.5):
            assert progress.tick(1029.0) is None
            assert progress.tick(1030.0) == "TC-JOIN-1.7: 570 s of 600 s of leave silence left"
            assert progress.tick(1050.0) is None  # 20 s after the last line
            assert progress.tick(1061.0) == "TC-JOIN-1.7: 539 s of 600 s of leave silence left"
    assert lines == ["TC-JOIN-1.7: 570 s of 600 s of leave silence left",
                     "TC-JOIN-1.7: 539 s of 600 s of leave silence left"]


def test_the_wall_clock_announces_a_long_wait_while_it_runs(caplog):
    async def scenario():
        clock = WallClock()
        progress = Progress(clock, interval=0.2)
        progress.start("TC-JOIN-1.7")
        await clock.sleep(0.7, "leave silence")
        progress.stop()

    with caplog.at_level(logging.WARNING, logger="harness.progress"):
        asyncio.run(scenario())
    lines = [r.getMessage() for r in caplog.records if r.name == "harness.progress"]
    assert 2 <= len(lines) <= 4, lines
    assert all(line.startswith("TC-JOIN-1.7: ") and line.endswith(" s of 1 s of leave silence left") for line in lines)


def test_a_virtual_clock_never_announces_progress(caplog):
    loop = new_virtual_loop()
    clock = VirtualClock(loop)

    async def scenario():
        progress = Progress(clock, interval=0.01)
        progress.start("TC-JOIN-1.7")
        await clock.sleep(600, "leave silence")  # ten virtual minutes, no real time
        assert progress._task is None
        progress.stop()

    with caplog.at_level(logging.WARNING, logger="harness.progress"):
        loop.run_until_complete(scenario())
    loop.close()
    assert not [r for r in caplog.records if r.name == "harness.progress"]


# -- the lab preset ------------------------------------------------------------------------------------------

def test_the_lab_preset_is_each_pixits_minimum_inside_the_bounds():
    values = preset("lab")
    assert set(values) == set(LAB_PIXITS)
    amounts = {}
    for name, text in values.items():
        amounts[name] = pixits.check_text(name, text)
        assert amounts[name] == pixits.BOUNDS[name].min.value, name
    pixits.check_relations(amounts)
    # The DUT's declared timing stays the profile's: a shorter timeout would fail a conformant device.
    assert not {"join_timeout", "rejoin_timeout", "ke_timeout", "response_time", "app_start_time"} & set(values)


def test_an_unknown_preset_stops_the_run_with_one_line():
    with pytest.raises(PresetError, match=r"no PIXIT preset 'fast'; known: lab"):
        preset("fast")
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q",
                           "--pixit-preset=fast"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items() if not k.startswith("SE_")})
    assert done.returncode == 4
    assert done.stderr.strip().splitlines()[-1] == (
        "ERROR: --pixit-preset=fast: no PIXIT preset 'fast'; known: lab (docs/bench.md)")

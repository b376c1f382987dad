"""The hardware backend's own pieces: bench hooks (run_hook), the live sniffer reader (LivePcap) and the DUT's
factory reset before each scenario (CLI command, then power_cycle else reset)."""

from __future__ import annotations

import asyncio
import struct
import types

import pytest

from harness.backends.hardware import HardwareBackend, HookError, run_hook
from harness.capture import PcapWriter
from harness.capture.live import LivePcap
from harness.capture.pcap import CaptureError
from harness.dut.cli import CliDutControl
from harness.dut.manual import ManualDutControl

FRAME_A = bytes.fromhex("0308a5ffff0000") + b"\x12\x34"  # a beacon request with some FCS bytes
FRAME_B = bytes.fromhex("4188010000ffff00004802fdff0000") + b"\xab\xcd"


# -- run_hook ------------------------------------------------------------------------------------------------

def test_a_missing_or_empty_hook_is_not_run():
    assert run_hook({}, "power_cycle") is False
    assert run_hook({"power_cycle": ""}, "power_cycle") is False


def test_a_hook_runs_in_a_shell_with_the_scenario_name(tmp_path):
    marker = tmp_path / "ran"
    assert run_hook({"reset": f'printf "%s" "$SE_SCENARIO" > {marker}'}, "reset", "TC-JOIN-1.1") is True
    assert marker.read_text() == "TC-JOIN-1.1"


def test_a_failing_hook_is_a_bench_error_with_its_exit_status_and_stderr():
    with pytest.raises(HookError, match=r"bench hook power_cycle \('echo relay stuck >&2; exit 3'\) exited 3: relay stuck"):
        run_hook({"power_cycle": "echo relay stuck >&2; exit 3"}, "power_cycle")


def test_a_hook_that_hangs_is_stopped_at_its_timeout(monkeypatch):
    monkeypatch.setattr("harness.backends.hardware.HOOK_TIMEOUT", 0.2)
    with pytest.raises(HookError, match=r"rf_shield_close .* did not finish within 0.2 s"):
        run_hook({"rf_shield_close": "sleep 5"}, "rf_shield_close")


# -- LivePcap ------------------------------------------------------------------------------------------------

def test_live_pcap_returns_each_frame_once_as_the_file_grows(tmp_path):
    path = tmp_path / "air.pcap"
    live = LivePcap(path)
    assert live.read_new() == []  # the sniffer has not started
    writer = PcapWriter(path)
    assert live.read_new() == []  # header only
    writer.write(100.25, FRAME_A)
    assert live.read_new() == [(100.25, FRAME_A)]
    writer.write(101.5, FRAME_B)
    writer.write(102.0, FRAME_A)
    assert live.read_new() == [(101.5, FRAME_B), (102.0, FRAME_A)]
    assert live.read_new() == []
    writer.close()


def test_live_pcap_waits_for_a_record_still_being_written(tmp_path):
    path = tmp_path / "air.pcap"
    with PcapWriter(path) as writer:
        writer.write(1.0, FRAME_A)
        writer.write(2.0, FRAME_B)
    whole = path.read_bytes()
    path.write_bytes(whole[:-3])  # the sniffer is mid-way through the second record
    live = LivePcap(path)
    assert live.read_new() == [(1.0, FRAME_A)]
    path.write_bytes(whole)
    assert live.read_new() == [(2.0, FRAME_B)]


def test_skip_to_end_ignores_what_earlier_scenarios_captured(tmp_path):
    path = tmp_path / "air.pcap"
    writer = PcapWriter(path)
    writer.write(1.0, FRAME_A)
    live = LivePcap(path)
    live.skip_to_end()
    writer.write(2.0, FRAME_B)
    assert live.read_new() == [(2.0, FRAME_B)]
    writer.close()


def _header(magic: bytes, order: str, linktype: int = 195) -> bytes:
    return magic + struct.pack(order + "HHiIII", 2, 4, 0, 0, 65535, linktype)


def test_big_endian_nanosecond_captures_are_read(tmp_path):
    path = tmp_path / "air.pcap"
    record = struct.pack(">IIII", 7, 500_000_000, len(FRAME_A), len(FRAME_A)) + FRAME_A
    path.write_bytes(_header(b"\xa1\xb2\x3c\x4d", ">") + record)
    assert LivePcap(path).read_new() == [(7.5, FRAME_A)]


@pytest.mark.parametrize(("header", "words"), [
    (b"\x0a\x0d\x0d\x0a" + bytes(20), "pcapng is not a classic pcap"),
    (b"GIF89a" + bytes(18), "magic 47494638 is not a classic pcap"),
    (_header(b"\xd4\xc3\xb2\xa1", "<", linktype=230), "link type 230, expected 195"),
])
def test_a_capture_in_another_format_is_a_capture_error_naming_the_file(tmp_path, header, words):
    path = tmp_path / "air.pcap"
    path.write_bytes(header)
    with pytest.raises(CaptureError, match=f"{path}: {words}"):
        LivePcap(path).read_new()


def test_a_corrupt_record_length_is_a_capture_error(tmp_path):
    path = tmp_path / "air.pcap"
    path.write_bytes(_header(b"\xd4\xc3\xb2\xa1", "<") + struct.pack("<IIII", 1, 0, 0x01000000, 5))
    with pytest.raises(CaptureError, match="record at byte 24 claims 16777216 bytes"):
        LivePcap(path).read_new()


def test_import_into_copies_the_capture_into_the_artifacts(tmp_path):
    path = tmp_path / "air.pcap"
    with PcapWriter(path) as writer:
        writer.write(1.0, FRAME_A)
    copied = LivePcap(path).import_into(tmp_path / "artifacts" / "TC-JOIN-1.1")
    assert copied.name == "sniffer.pcap" and copied.read_bytes() == path.read_bytes()


# -- the DUT's factory reset before a scenario ---------------------------------------------------------------

class RecordingCli(CliDutControl):
    def __init__(self, commands: dict[str, str]) -> None:
        super().__init__("loop://", commands)
        self.actions: list[str] = []

    async def factory_reset(self) -> None:
        self.actions.append("factory_reset")


def _bench(dut, hooks: dict[str, str]) -> HardwareBackend:
    hardware = HardwareBackend.__new__(HardwareBackend)  # only what factory_reset_dut uses
    hardware.dut = dut
    hardware.setup = types.SimpleNamespace(bench_profile=types.SimpleNamespace(hooks=hooks))
    return hardware


@pytest.mark.parametrize(("commands", "hooks", "expected"), [
    ({"factory_reset": "reset"}, {"power_cycle": "true", "reset": "true"}, ["factory_reset", "power_cycle"]),
    ({"factory_reset": "reset"}, {"reset": "true"}, ["factory_reset", "reset"]),
    ({"factory_reset": "reset"}, {}, ["factory_reset"]),
    ({"start_joining": "join"}, {"reset": "true"}, ["reset"]),
])
def test_factory_reset_uses_the_cli_then_power_cycle_else_reset(commands, hooks, expected, tmp_path):
    cli = RecordingCli(commands)
    order = tmp_path / "order"
    hooks = {name: f"echo {name} >> {order}" for name in hooks}
    done = asyncio.run(_bench(cli, hooks).factory_reset_dut("TC-KE-1.2"))
    assert done == expected
    assert cli.actions == [a for a in expected if a == "factory_reset"]
    ran = order.read_text().split() if order.exists() else []
    assert ran == [h for h in expected if h != "factory_reset"]


def test_a_manual_dut_is_not_prompted_twice_but_hooks_still_run(tmp_path):
    prompts: list[str] = []
    marker = tmp_path / "cycled"
    done = asyncio.run(_bench(ManualDutControl(prompts.append), {"power_cycle": f"touch {marker}"})
                       .factory_reset_dut("TC-JOIN-1.1"))
    assert done == ["power_cycle"] and prompts == [] and marker.exists()


def test_a_failing_power_cycle_stops_the_scenario_as_a_bench_error():
    with pytest.raises(HookError, match="power_cycle"):
        asyncio.run(_bench(RecordingCli({}), {"power_cycle": "exit 1"}).factory_reset_dut("x"))


# -- frames from the DUT's previous life --------------------------------------------------------------------

class _FakeApp:
    """What Golden needs of a ControllerApplication to receive packets and open joining."""

    def __init__(self) -> None:
        self.callback = None
        self.permits: list[int] = []

    def register_packet_callback(self, _filter, callback):
        self.callback = callback
        return lambda: None

    def add_listener(self, _listener) -> None:
        pass

    async def permit_with_link_key(self, _ieee, _key, duration) -> None:
        self.permits.append(duration)

    async def send_packet(self, _packet) -> None:
        pass


def _se_packet(src: int = 0x2FD9):
    import zigpy.types as zt

    return zt.ZigbeePacket(
        src=zt.AddrModeAddress(addr_mode=zt.AddrMode.NWK, address=src), src_ep=1,
        dst=zt.AddrModeAddress(addr_mode=zt.AddrMode.NWK, address=0x0000), dst_ep=1,
        profile_id=0x0109, cluster_id=0x0800, data=zt.SerializableBytes(bytes.fromhex("11020001")),
        tx_options=zt.TransmitOptions.NONE)


def _golden(loop_clock):
    from harness.golden.golden import Golden

    golden = Golden(_FakeApp(), loop_clock)
    handled: list = []

    async def handle(packet) -> None:
        handled.append(packet)

    golden.engine.handle = handle
    return golden, handled


def test_a_golden_on_the_real_bench_drops_se_frames_until_the_scenario_admits_a_device():
    from harness.clock import WallClock

    async def scenario():
        golden, handled = _golden(WallClock())
        golden.ignore_se_until_admission()
        golden._packet(_se_packet())  # the Initiate of the DUT's previous life, late out of the NCP's queue
        await asyncio.sleep(0)
        assert handled == [] and len(golden.stale_packets) == 1
        await golden.trust_center.admit(0x000D6F0000001001, bytes(16), 180)
        golden._packet(_se_packet())
        await asyncio.sleep(0)
        assert len(handled) == 1 and len(golden.stale_packets) == 1
        await golden.close()

    asyncio.run(scenario())


def test_a_golden_that_was_not_told_to_wait_handles_se_frames_at_once():
    from harness.clock import WallClock

    async def scenario():
        golden, handled = _golden(WallClock())
        golden._packet(_se_packet())
        await asyncio.sleep(0)
        assert len(handled) == 1 and golden.stale_packets == []
        await golden.close()

    asyncio.run(scenario())


def _settle(monkeypatch, quiet: float, limit: float, chatter) -> tuple[float, int]:
    """Run HardwareBackend._settle while *chatter(golden)* feeds stale frames; returns (seconds taken, frames)."""
    from harness.clock import WallClock

    monkeypatch.setattr("harness.backends.hardware.SETTLE_QUIET", quiet)
    monkeypatch.setattr("harness.backends.hardware.SETTLE_LIMIT", limit)
    clock = WallClock()
    hardware = HardwareBackend.__new__(HardwareBackend)
    hardware.clock = clock

    async def scenario():
        golden, _handled = _golden(clock)
        golden.ignore_se_until_admission()
        feeder = asyncio.create_task(chatter(golden))
        started = clock.monotonic()
        await hardware._settle(golden)
        took = clock.monotonic() - started
        feeder.cancel()
        await golden.close()
        return took, len(golden.stale_packets)

    return asyncio.run(scenario())


def test_the_bench_waits_until_the_duts_previous_life_is_quiet(monkeypatch):
    async def three_late_frames(golden):  # 30 ms apart, then silence
        for _ in range(3):
            await asyncio.sleep(0.03)
            golden._packet(_se_packet())

    took, stale = _settle(monkeypatch, 0.05, 2.0, three_late_frames)
    assert stale == 3
    assert took >= 0.09 + 0.05, f"settled after {took:.3f} s, before the last stale frame had been quiet 50 ms"
    assert took < 2.0, f"settling took {took:.3f} s: it should end once the DUT is quiet, not at the limit"


def test_settling_ends_at_its_limit_when_the_dut_never_goes_quiet(monkeypatch):
    async def endless(golden):
        while True:
            await asyncio.sleep(0.01)
            golden._packet(_se_packet())

    took, stale = _settle(monkeypatch, 0.05, 0.3, endless)
    assert 0.3 <= took < 1.0 and stale > 10, (took, stale)

"""The bench seam (issue 16): Bench is a thin front over a backend protocol.

- Bench drives any backend that implements harness.backends.BenchBackend: here a fake one, with no radio;
- the backends and the testbed import nothing of the Bench front, and the two backends not each other;
- --dut is interpreted in one place (harness/bench/target.py), in the DUT profile's vocabulary;
- the testbed's state is typed, and a real bench's health reaches it through its watch;
- the live sniffer reader reads every format of the pcap module's format table.
"""

from __future__ import annotations

import asyncio
import struct
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from harness import testbed as bed  # the module: pytest would collect a class named Testbed
from harness.backends import BenchBackend, BenchSetup, Work
from harness.bench import Bench
from harness.bench.target import CliTarget, HardwareTarget, ManualTarget, SimTarget, resolve
from harness.capture.live import LivePcap
from harness.capture.pcap import MAGICS, read_pcap
from harness.clock import VirtualClock, new_virtual_loop
from harness.devices.catalogue import MODELS
from harness.dut.base import DutControl
from harness.errors import BenchFault
from harness.options import OptionError, RadioSpec, RunOptions, parse_dut, parse_radio
from harness.profiles import load_bench_profile, load_dut_profile
from harness.rng import CaseRandom
from harness.testbed import BenchError
from harness.verify import Keyring

ROOT = Path(__file__).resolve().parents[3]
IHD = ROOT / "profiles" / "dut" / "sim-ihd.yaml"
IHD_CLI = ROOT / "profiles" / "dut" / "ref-ihd-cli.yaml"
SIM_BENCH = ROOT / "profiles" / "bench" / "sim.yaml"
FRAME = bytes.fromhex("0308a5ffff0000") + b"\x12\x34"


# -- a backend of our own ------------------------------------------------------------------------------------

class _Dut(DutControl):
    async def factory_reset(self) -> None:
        pass

    async def start_joining(self) -> None:
        pass

    async def start_rejoin(self) -> None:
        pass


class FakeBackend:
    """A backend with no radio at all: it records what the front asked of it."""

    opening = Work(5.0, "opening the fake network")
    closing_testbed = Work(5.0, "closing the fake network")
    restarting = Work(5.0, "restarting the fake radio")
    closing = Work(5.0, "closing the fake bench")

    def __init__(self, hang: str = "") -> None:
        self.loop = new_virtual_loop()
        self.clock = VirtualClock(self.loop)
        self.calls: list[str] = []
        self.hang = hang  # the operation that never finishes

    async def _maybe_hang(self, what: str) -> None:
        self.calls.append(what)
        if self.hang == what:
            await asyncio.sleep(3600)

    def start_case(self, random: CaseRandom) -> None:
        self.calls.append(f"start_case {random.case}")

    async def open_testbed(self, name: str, case: str, random: CaseRandom) -> bed.Testbed:
        await self._maybe_hang("open")
        return bed.Testbed(name=name, golden=None, dut=_Dut(), dut_ieee=0x000D6F0000001001,
                       dut_link_key=bytes(16), keyring=Keyring(network_keys={0: bytes(16)}),
                       frames=[(1.0, FRAME), (2.5, FRAME)], random=random, case=case)

    async def close_testbed(self, testbed: bed.Testbed) -> None:
        await self._maybe_hang("close_testbed")

    async def restart_golden(self, testbed: bed.Testbed) -> None:
        await self._maybe_hang("restart")

    def golden_ke_engine(self, suites: tuple[int, ...], random: CaseRandom):
        self.calls.append(f"golden_ke_engine {suites} {random.case}")
        return "engine"

    def radio_firmware(self) -> str | None:
        return "firmware fake 1.0"

    async def close(self) -> None:
        await self._maybe_hang("close")


def _options(dut: str = "sim:ihd", radio: str | None = None, profile: Path = IHD) -> RunOptions:
    return RunOptions(dut=parse_dut(dut), radio=parse_radio(radio) if radio else None, profile=profile,
                      bench=SIM_BENCH, seed=7)


def _bench(backend: FakeBackend) -> Bench:
    typed: BenchBackend = backend  # the fake implements the protocol (mypy would say so of harness code)
    return Bench(_options(), load_dut_profile(IHD), load_bench_profile(SIM_BENCH), backend=typed)


def test_the_bench_drives_any_backend_of_the_protocol(tmp_path):
    backend = FakeBackend()
    bench = _bench(backend)
    assert bench.loop is backend.loop and bench.clock is backend.clock
    testbed = bench.open_testbed("tests/x.py::test_case", case="TC-X-1.1")
    assert testbed.case == "TC-X-1.1" and testbed.random is bench.case_random
    assert (bench.case_random.seed, bench.case_random.case) == (7, "TC-X-1.1")
    assert bench.golden_ke_engine((1,)) == "engine"
    bench.restart_golden(testbed)
    assert bench.radio_firmware() == "firmware fake 1.0"
    written = bench.close_testbed(testbed, tmp_path / "TC-X-1.1")
    assert [p.name for p in written] == ["capture.pcap"]
    assert [(r.timestamp, r.data) for r in read_pcap(written[0]).records] == [(1.0, FRAME), (2.5, FRAME)]
    bench.close()
    assert backend.loop.is_closed()
    assert backend.calls == ["start_case TC-X-1.1", "open", "golden_ke_engine (1,) TC-X-1.1", "restart",
                             "close_testbed", "close"]


@pytest.mark.parametrize("hang", ["open", "restart", "close_testbed", "close"])
def test_a_backend_whose_own_work_passes_its_deadline_is_a_bench_error(hang):
    backend = FakeBackend(hang=hang)
    bench = _bench(backend)
    work = {"open": backend.opening, "restart": backend.restarting, "close_testbed": backend.closing_testbed,
            "close": backend.closing}[hang]
    try:
        with pytest.raises(BenchError, match=f"{work.what} did not complete within 5 s"):
            testbed = bench.open_testbed("scenario")
            bench.restart_golden(testbed)
            bench.close_testbed(testbed, None)
            bench.close()
    finally:
        backend.loop.close()


# -- who imports whom ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("harness", cache_dir=None)


@pytest.mark.parametrize(("importer", "imported"), [
    ("harness.backends", "harness.bench"),
    ("harness.testbed", "harness.bench"),
    ("harness.testbed", "harness.backends"),
    ("harness.backends.sim", "harness.backends.hardware"),
    ("harness.backends.hardware", "harness.backends.sim"),
])
def test_the_backends_and_the_testbed_import_nothing_of_the_front(graph, importer, imported):
    chain = graph.find_shortest_chain(importer=importer, imported=imported, as_packages=True)
    assert chain is None, " -> ".join(chain)


def test_the_bench_and_its_backends_form_no_circle(graph):
    for a, b in [("harness.bench", "harness.backends"), ("harness.backends", "harness.testbed"),
                 ("harness.bench", "harness.testbed")]:
        assert graph.chain_exists(a, b, as_packages=True)
        assert not graph.chain_exists(b, a, as_packages=True), f"{b} reaches back into {a}"


def test_the_hardware_backend_loads_without_the_bench_front():
    done = subprocess.run(
        [sys.executable, "-c", "import sys, harness.backends.hardware; "
                               "print(sorted(m for m in sys.modules if m.startswith('harness.bench')))"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# -- --dut, interpreted once ---------------------------------------------------------------------------------

def test_dut_speaks_the_profiles_vocabulary():
    assert [parse_dut(v).kind for v in ("sim:ihd", "/dev/ttyUSB0", "socket://lab:7000", "COM3", "manual")] == [
        "sim", "cli", "cli", "cli", "manual"]


def test_a_reference_device_on_the_simulated_radio_is_the_simulated_bench():
    target = resolve(_options(), load_dut_profile(IHD), load_bench_profile(SIM_BENCH))
    assert target == SimTarget(MODELS["ihd"])


def test_a_port_that_goes_away_after_the_run_began_is_left_to_the_case_it_hits():
    # The Bench resolves its backend without looking for the ports: a DUT port that closed before a retry is
    # the case's bench error (the driver names it), not a usage error of the whole run.
    options = _options("/dev/ttyNOSUCH1", "ezsp:/dev/ttyNOSUCH0", IHD_CLI)
    target = resolve(options, load_dut_profile(IHD_CLI), load_bench_profile(SIM_BENCH))
    assert isinstance(target, HardwareTarget) and target.radio_port == "/dev/ttyNOSUCH0"
    assert isinstance(target.dut, CliTarget) and target.dut.port == "/dev/ttyNOSUCH1"


def test_a_cli_dut_on_an_ezsp_radio_is_the_hardware_bench(tmp_path):
    stick = tmp_path / "ttyACM0"
    stick.touch()
    profile = load_dut_profile(IHD_CLI)
    target = resolve(_options("socket://lab:7000", f"ezsp:{stick}", IHD_CLI), profile, load_bench_profile(SIM_BENCH))
    assert target == HardwareTarget(str(stick), CliTarget("socket://lab:7000", dict(profile.control.commands),
                                                          profile.control.baudrate))
    manual = resolve(_options("manual", f"ezsp:{stick}", IHD_CLI), profile, load_bench_profile(SIM_BENCH))
    assert manual == HardwareTarget(str(stick), ManualTarget(dict(profile.control.prompts)))


@pytest.mark.parametrize(("dut", "radio", "profile", "words"), [
    ("/dev/ttyUSB0", "sim", IHD_CLI, ["--dut=/dev/ttyUSB0 is a physical device", "--radio=ezsp:<port>"]),
    ("socket://lab:7000", None, IHD_CLI, ["physical device", "--radio=ezsp:<port>"]),  # the bench profile's radio
    ("socket://lab:7000", "ezsp:/dev/ttyNOSUCH0", IHD_CLI, ["--radio=ezsp:/dev/ttyNOSUCH0: no such port"]),
    ("sim:ihd", "STICK", IHD, ["--dut=sim:ihd is a reference device", "--dut=manual"]),
    ("sim:pct", None, IHD, ["the profile describes the reference device sim:ihd, not sim:pct"]),
])
def test_a_bench_that_cannot_work_is_one_option_error(tmp_path, dut, radio, profile, words):
    stick = tmp_path / "ttyACM0"
    stick.touch()
    options = RunOptions(dut=parse_dut(dut), radio=RadioSpec("ezsp", str(stick)) if radio == "STICK" else (
        parse_radio(radio) if radio else None), profile=profile, bench=SIM_BENCH)
    with pytest.raises(OptionError) as caught:
        resolve(options, load_dut_profile(profile), load_bench_profile(SIM_BENCH), check_ports=True)
    for word in words:
        assert word in str(caught.value)


# -- the testbed's own state ---------------------------------------------------------------------------------

class _Watch:
    def __init__(self, fault: BenchFault | None) -> None:
        self.fault = fault
        self.asked: list[str] = []

    def capture_fault(self, testbed: bed.Testbed) -> BenchFault | None:
        self.asked.append("capture")
        testbed.frames.append((3.0, FRAME))
        return self.fault

    def health(self, testbed: bed.Testbed) -> BenchFault | None:
        self.asked.append("health")
        return self.fault


def _testbed(**fields) -> bed.Testbed:
    return bed.Testbed(name="n", golden=None, dut=_Dut(), dut_ieee=1, dut_link_key=bytes(16),
                   keyring=Keyring(network_keys={0: bytes(16)}), frames=[], **fields)


def test_a_simulated_testbed_has_no_watch_and_no_bench_fault():
    testbed = _testbed()
    assert testbed.bench_fault() is None and testbed.observed() == []
    assert (testbed.dut_nwk, testbed.join_event, testbed.ke_completed, testbed.sender) == (None, None, None, None)


def test_a_real_benches_watch_feeds_the_observation_and_answers_for_its_health():
    healthy = _Watch(None)
    testbed = _testbed(watch=healthy)
    assert len(testbed.observed()) == 1 and testbed.bench_fault() is None
    assert healthy.asked == ["capture", "health"]
    broken = _testbed(watch=_Watch(BenchError("the sniffer stopped")))
    with pytest.raises(BenchError, match="the sniffer stopped"):
        broken.observed()
    assert str(broken.bench_fault()) == "the sniffer stopped"


# -- the live reader and the pcap module share the format table ----------------------------------------------

@pytest.mark.parametrize("magic", sorted(MAGICS))
def test_the_live_reader_reads_every_format_of_the_pcap_table(tmp_path, magic):
    order, per_second = MAGICS[magic]
    path = tmp_path / "air.pcap"
    path.write_bytes(magic + struct.pack(order + "HHiIII", 2, 4, 0, 0, 65535, 195)
                     + struct.pack(order + "IIII", 7, per_second // 4, len(FRAME), len(FRAME)) + FRAME)
    assert LivePcap(path).read_new() == [(7.25, FRAME)]
    assert [(r.timestamp, r.data) for r in read_pcap(path).records] == [(7.25, FRAME)]


def test_a_setup_carries_the_benches_network_as_bytes():
    bench = _bench(FakeBackend())
    setup = BenchSetup(bench.dut_profile, bench.bench_profile, bench.network_key, bench.ke_material,
                       bench.golden_ke_suites, bench.dut_ke_suites)
    assert len(setup.network_key) == 16 and len(setup.extended_pan_id) == 8
    bench.close()

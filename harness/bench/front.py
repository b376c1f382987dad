"""The Bench: the front the fixtures and steps drive, over one backend (harness/backends).

Steps are synchronous (pytest-bdd has no async steps), so each calls ``bench.run(coroutine, deadline)``,
which runs the backend's event loop until the coroutine finishes or its deadline passes. Background work
(joins, retries, DUT reports) progresses only inside ``bench.run``, which keeps virtual time deterministic.

The Bench holds what a run asked for (options, profiles, PICS claims, PIXITs, the test CA) and writes each
scenario's capture; building, restarting and tearing down the scenario's network is the backend's. Which
backend, and which DUT control it drives, is decided once from --dut, the radio and the profiles
(harness/bench/target.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from harness.backends.base import BenchBackend, BenchSetup
from harness.bench.target import CliTarget, HardwareTarget, SimTarget, resolve
from harness.capture import PcapWriter, write_key_file
from harness.dut.base import DutControl, DutControlError
from harness.ke.material import KeMaterial, KeMaterialError
from harness.limits import CAPTURE_LIMIT, cut_note
from harness.options import OptionError, RunOptions
from harness.profiles import BenchProfile, DutProfile, parse_pixit
from harness.rng import CaseRandom
from harness.testbed import BenchError, HanDevice, Testbed

if TYPE_CHECKING:
    from harness.clock import Clock
    from harness.ke.engine import KeEngine
    from harness.ke.state_machine import KeyEstablishment

LOGGER = logging.getLogger(__name__)
T = TypeVar("T")


class Bench:
    """A run's bench. *backend* is built from the options and profiles unless given (self-tests give a fake)."""

    def __init__(self, options: RunOptions, dut_profile: DutProfile, bench_profile: BenchProfile,
                 backend: BenchBackend | None = None) -> None:
        self.options = options
        self.dut_profile = dut_profile
        self.bench_profile = bench_profile
        self.case_random = CaseRandom(options.seed, "")  # the open scenario's random state (open_testbed)
        self.network_key = bytes.fromhex(bench_profile.network_key.get_secret_value().replace(":", ""))
        self.ke_material = self._ke_material(bench_profile)
        # The golden ESI runs both CBKE suites; the DUT the suites its PICS claim.
        self.golden_ke_suites = (1, 2)
        self.dut_ke_suites = self.claimed_ke_suites()
        self.backend = backend if backend is not None else self._backend()
        self.loop = self.backend.loop

    def _backend(self) -> BenchBackend:
        setup = BenchSetup(self.dut_profile, self.bench_profile, self.network_key, self.ke_material,
                           self.golden_ke_suites, self.dut_ke_suites)
        target = resolve(self.options, self.dut_profile, self.bench_profile)
        if isinstance(target, SimTarget):
            from harness.backends.sim import SimBackend

            return SimBackend(setup, target.model, self.options.faults)
        from harness.backends.hardware import HardwareBackend  # bellows: loaded for a real radio only

        return HardwareBackend(setup, target.radio_port, dut_control(target))

    @property
    def clock(self) -> Clock:
        """The bench clock (the backend's): virtual in simulation, a new one each case; the wall clock on hardware."""
        return self.backend.clock

    @staticmethod
    def _ke_material(profile: BenchProfile) -> KeMaterial:
        """The test CA of the bench profile (test_ca with its private key), else a seeded simulation CA."""
        test_ca = profile.test_ca
        if test_ca is None or test_ca.private_key is None:
            return KeMaterial.seeded()
        try:
            return KeMaterial.from_profile(test_ca.issuer, test_ca.public_key, test_ca.private_key.get_secret_value())
        except KeMaterialError as exc:
            raise OptionError(str(exc)) from None

    def golden_ke_engine(self, suites: tuple[int, ...]) -> KeEngine:
        """The golden ESI's key-establishment engine offering only *suites*: minted for the simulated
        coordinator, or on the real bench the EZSP NCP's own CBKE library."""
        return self.backend.golden_ke_engine(tuple(suites), self.case_random)

    async def second_ke_partner(self, testbed: Testbed) -> KeyEstablishment:
        """A second golden-side node on the scenario's network whose Key Establishment can initiate towards the
        DUT (harness.backends.base.BenchBackend.second_ke_partner)."""
        return await self.backend.second_ke_partner(testbed)

    async def han_device(self, testbed: Testbed, ieee: int, link_key: bytes, *, end_device: bool = False
                         ) -> HanDevice:
        """A golden HAN device for the network the DUT formed (harness.backends.base.BenchBackend.han_device)."""
        return await self.backend.han_device(testbed, ieee, link_key, end_device=end_device)

    @property
    def dut_forms_network(self) -> bool:
        """Whether the DUT forms the network and is its Trust Center (its profile's network.role: forms)."""
        return self.dut_profile.network.forms

    def claims(self, pics_key: str) -> bool:
        """Whether the DUT claims a PICS item (its profile, overridden by --pics)."""
        override = self.options.pics.get(pics_key)
        if override is not None:
            return override.lower() in ("true", "1")
        return bool(self.dut_profile.pics.get(pics_key, False))

    def claimed_ke_suites(self) -> tuple[int, ...]:
        """CBKE suites the DUT claims: suite 1 unless SE.KE.SUITE1 is claimed false, suite 2 with SE.KE.SUITE2."""
        suites = []
        if self.options.pics.get("SE.KE.SUITE1", "true").lower() in ("true", "1") and \
                self.dut_profile.pics.get("SE.KE.SUITE1", True):
            suites.append(1)
        if self.claims("SE.KE.SUITE2"):
            suites.append(2)
        return tuple(suites) or (1,)

    def radio_firmware(self) -> str | None:
        """The golden radio's firmware for the report (a real radio's, once opened); None in simulation."""
        return self.backend.radio_firmware()

    # -- running coroutines from synchronous steps ------------------------------------------------------------

    def run(self, awaitable: Awaitable[T], deadline: float | None = None, what: str = "") -> T:
        asyncio.set_event_loop(self.loop)
        if deadline is None:
            return self.loop.run_until_complete(awaitable)
        # Through the clock: a wall clock announces a long wait while it runs (harness/progress.py).
        return self.loop.run_until_complete(self.clock.wait_for(awaitable, deadline, what))

    def run_bench(self, awaitable: Awaitable[T], deadline: float, what: str) -> T:
        """Run the bench's own work (opening, restarting or shutting down the golden side): a deadline passing
        here is a bench fault, never the DUT's silence that ``run``'s deadlines stand for in the steps."""
        try:
            return self.run(awaitable, deadline, what)
        except TimeoutError as exc:
            raise BenchError(str(exc)) from exc

    def pixit_seconds(self, name: str, default: float) -> float:
        value = self.options.pixit.get(name)
        if value is not None:
            return parse_pixit(str(value)).seconds  # same units as a profile's PIXITs (checked with the options)
        pixit = self.dut_profile.pixit.get(name)
        return pixit.seconds if pixit is not None else default

    # -- scenarios --------------------------------------------------------------------------------------------

    def open_testbed(self, name: str, case: str | None = None) -> Testbed:
        """A fresh network for scenario *name*. Its random state comes from the run's seed and *case* (the case
        id; *name* when none), and in simulation its virtual clock starts at the same instant whatever ran
        before, so a case's capture is the same alone or inside the whole suite. A hardware bench keeps the
        wall clock; only the random state applies there."""
        self.case_random = CaseRandom(self.options.seed, case or name)
        self.backend.start_case(self.case_random)
        work = self.backend.opening
        return self.run_bench(self.backend.open_testbed(name, case or name, self.case_random), work.deadline,
                              work.what)

    def read_dut_log(self, testbed: Testbed) -> list[str] | None:
        """The DUT's own log when its control driver can read it (a CLI with read_log), else None. A log that
        cannot be read is noted in its place: it only informs the artifacts, it never decides a verdict."""
        control = testbed.dut
        if not control.reads_log:
            return None
        try:
            return self.run(control.read_log(), 30.0, "reading the DUT's log")
        except (DutControlError, TimeoutError) as exc:
            LOGGER.warning("could not read the DUT's log: %s", exc)
            return [f"(could not read the DUT's log: {exc})"]

    def close_testbed(self, testbed: Testbed, artifacts: Path | None) -> list[Path]:
        """Shut the scenario's network down; write its capture (and keys when secrets may be revealed)."""
        written: list[Path] = []
        if artifacts is not None:
            testbed.pull_frames()  # a live capture's last frames, before the capture is written
            artifacts.mkdir(parents=True, exist_ok=True)
            pcap = artifacts / "capture.pcap"
            size, kept = 24, 0  # the pcap file header, then 16 bytes per record before the frame
            with PcapWriter(pcap) as writer:
                for timestamp, psdu in testbed.frames:
                    size += 16 + len(psdu)
                    if size > CAPTURE_LIMIT:  # a DUT flooding the air must not decide how much we write
                        break
                    writer.write(timestamp, psdu)
                    kept += 1
            if kept < len(testbed.frames):
                note = (f"capture.pcap holds the first {kept} of {len(testbed.frames)} frames: "
                        f"{cut_note(len(testbed.frames) - kept, 'frames')}")
                LOGGER.warning("%s", note)
                testbed.capture_cut = note
            written.append(pcap)
            if self.options.reveal_secrets:
                keys = artifacts / "capture.keys"
                write_key_file(keys, [(k, f"network key {seq}") for seq, k in testbed.keyring.network_keys.items()]
                               + [(k, f"link key {ieee:016X}") for ieee, ks in testbed.keyring.link_keys.items()
                                  for k in ks])
                written.append(keys)
        work = self.backend.closing_testbed
        self.run_bench(self.backend.close_testbed(testbed), work.deadline, work.what)
        return written

    def restart_golden(self, testbed: Testbed) -> None:
        """Power-cycle the golden radio: a new ControllerApplication on the same network settings."""
        work = self.backend.restarting
        self.run_bench(self.backend.restart_golden(testbed), work.deadline, work.what)

    def close(self) -> None:
        work = self.backend.closing
        try:
            self.run_bench(self.backend.close(), work.deadline, work.what)
        finally:
            self.loop.close()


def dut_control(target: HardwareTarget) -> DutControl:
    """The DUT's control driver on a real bench: its CLI on the resolved port, or an operator's prompts."""
    dut = target.dut
    if isinstance(dut, CliTarget):
        from harness.dut.cli import CliDutControl

        return CliDutControl(dut.port, dict(dut.commands), baudrate=dut.baudrate)
    from harness.dut.manual import ManualDutControl

    return ManualDutControl(prompts=dict(dut.prompts))

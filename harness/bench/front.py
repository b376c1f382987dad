"""The bench: clock, golden radio, DUT control and capture, built from profiles and run options.

Steps are synchronous (pytest-bdd has no async steps), so each calls ``bench.run(coroutine, deadline)``,
which runs the bench's event loop until the coroutine finishes or its deadline passes. Background work
(joins, retries, DUT reports) progresses only inside ``bench.run``, which keeps virtual time deterministic.

In simulation every scenario gets a fresh :class:`Testbed`: new virtual air, golden radio and reference
device, so no state leaks between cases (forming and joining take milliseconds of wall time).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from harness.capture import PcapWriter, write_key_file
from harness.clock import Clock, VirtualClock, VirtualTimeLoop, new_virtual_loop
from harness.devices.base import ReferenceDevice
from harness.devices.catalogue import MODELS
from harness.dut.base import DutControl, DutControlError
from harness.dut.sim import SimDutControl
from harness.errors import BenchFault
from harness.golden.golden import Golden
from harness.ke.material import KeMaterial, KeMaterialError
from harness.ke.sim import aps_ack_switch, ieee_resolver
from harness.limits import CAPTURE_LIMIT, cut_note
from harness.options import OptionError, RunOptions
from harness.profiles import BenchProfile, DutProfile, parse_pixit
from harness.radio.sim import ControllerApplication, register_air, sim_config, unregister_air
from harness.rng import CaseRandom
from harness.sim.air import Air, AirFrame
from harness.verify import Keyring, ObservedFrame, decode_frames

if TYPE_CHECKING:  # harness.hardware imports this module; Bench imports it only on a real bench
    from harness.hardware import HardwareBench
    from harness.ke.engine import KeEngine

LOGGER = logging.getLogger(__name__)
T = TypeVar("T")

#: Simulated time is anchored here: each case's virtual clock starts at this instant plus an offset derived
#: from the run's seed and the case id (CaseRandom.clock_start), so captures and event times are reproducible.
VIRTUAL_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
#: The loop time at which every simulated scenario starts (the capture's timestamps count from it).
CASE_LOOP_START = 0.0
COORDINATOR_IEEE = 0x00124B0000C0FFEE
#: The testbed name of the once-per-run reading of the DUT's Basic identity (harness/plugin.py).
IDENTIFICATION = "identify-dut"


class BenchError(BenchFault, RuntimeError):
    """The bench itself failed (radio, serial, configuration): an error verdict, never a DUT failure."""

    retryable = True


@dataclass
class Testbed:
    """One scenario's network: what the steps drive and what they observe."""

    name: str
    golden: Golden
    dut: DutControl
    dut_ieee: int
    dut_link_key: bytes
    keyring: Keyring
    frames: list[tuple[float, bytes]]
    air: Air | None = None
    app: Any = None  # the golden zigpy ControllerApplication (bellows' on a real bench, untyped): library edge
    device: ReferenceDevice | None = None  # the reference DUT in simulation: driven, never inspected
    notes: dict[str, Any] = field(default_factory=dict)  # what earlier steps of the scenario established
    # The case's random state (harness/rng.py): install codes and other choices a step makes come from it.
    random: CaseRandom = field(default_factory=lambda: CaseRandom(0, ""))

    def __repr__(self) -> str:
        # pytest-bdd hands the testbed to steps, so allure records its repr as a step parameter: the dataclass
        # repr would put the DUT's link key (and every frame) into allure-results. Show no key material.
        return (f"{type(self).__name__}(name={self.name!r}, dut_ieee={self.dut_ieee:016x}, "
                f"frames={len(self.frames)})")

    def observed(self) -> list[ObservedFrame]:
        """Everything on the air so far, decoded with the keys the bench knows."""
        return decode_frames(self.frames, self.keyring)


class Bench:
    def __init__(self, options: RunOptions, dut_profile: DutProfile, bench_profile: BenchProfile) -> None:
        self.options = options
        self.dut_profile = dut_profile
        self.bench_profile = bench_profile
        self.case_random = CaseRandom(options.seed, "")  # the open scenario's random state (open_testbed)
        radio = options.radio.kind if options.radio is not None else bench_profile.radio.split(":")[0]
        self.hardware: HardwareBench | None = None
        if radio != "sim" or not options.dut.is_simulated:
            # The real bench (harness/hardware.py): EZSP golden radio, CLI/manual DUT control, wall clock.
            if radio == "sim":
                raise OptionError(f"--dut {options.dut} is a physical device: give --radio ezsp:<port>")
            from harness.clock import WallClock
            from harness.hardware import HardwareBench

            self.loop = asyncio.new_event_loop()
            self.clock: Clock = WallClock(self.loop)
            self.network_key = bytes.fromhex(bench_profile.network_key.get_secret_value().replace(":", ""))
            self.ke_material = self._ke_material(bench_profile)
            self.golden_ke_suites = (1, 2)
            self.dut_ke_suites = self.claimed_ke_suites()
            self.hardware = HardwareBench(self)
            return
        if options.dut.target not in MODELS:
            raise OptionError(f"--dut {options.dut}: no reference device {options.dut.target!r}; "
                              f"known: {', '.join('sim:' + m for m in sorted(MODELS))}")
        self.model = MODELS[options.dut.target]
        self.loop = new_virtual_loop(CASE_LOOP_START)
        self.clock = VirtualClock(self.loop, VIRTUAL_EPOCH, origin=CASE_LOOP_START)
        self.network_key = bytes.fromhex(bench_profile.network_key.get_secret_value().replace(":", ""))
        self.ke_material = self._ke_material(bench_profile)
        # The golden ESI runs both CBKE suites; a reference DUT the suites its PICS claim.
        self.golden_ke_suites = (1, 2)
        self.dut_ke_suites = self.claimed_ke_suites()

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
        coordinator, or on the real bench the EZSP NCP's own CBKE library (harness/hardware.py)."""
        if self.hardware is not None:
            return self.hardware.golden_ke_engine(tuple(suites))
        return self.ke_material.engine(COORDINATOR_IEEE, tuple(suites), rng=self.case_random.stream("ke:golden"))

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
        if self.hardware is not None:
            testbed = self.run_bench(self.hardware.open_testbed(name, case or name), 120.0,
                               "opening the EZSP golden radio")
            testbed.random = self.case_random
            return testbed
        self._start_case_clock(self.case_random)
        return self.run_bench(self._open_testbed(name, self.case_random), 60.0, "forming the simulated network")

    def _start_case_clock(self, case: CaseRandom) -> None:
        # Timers a closed scenario left behind keep their remaining delays; the new scenario's clock reads
        # its own start instant at loop time CASE_LOOP_START.
        cast(VirtualTimeLoop, self.loop).rebase(CASE_LOOP_START)  # simulation only: the loop is virtual
        self.clock = VirtualClock(self.loop, VIRTUAL_EPOCH + timedelta(seconds=case.clock_start()),
                                  origin=CASE_LOOP_START)

    async def _open_testbed(self, name: str, case: CaseRandom) -> Testbed:
        air = Air(channel=self.bench_profile.channel, seed=case.seed_for("air"), loop=self.loop)
        frames: list[tuple[float, bytes]] = []
        air.add_sniffer(lambda frame: frames.append((frame.timestamp, frame.psdu)))
        air_name = f"bench-{id(air)}"
        path = register_air(air_name, air)
        profile = self.bench_profile
        app = await ControllerApplication.new(
            sim_config(path, channel=profile.channel, pan_id=profile.pan_id,
                       extended_pan_id=bytes.fromhex(str(profile.extended_pan_id).replace(":", "")),
                       network_key=self.network_key, coordinator_ieee=COORDINATOR_IEEE),
            auto_form=True,
        )
        if name != IDENTIFICATION:  # a self-test's radio fault must hit a case, not the identification
            _inject_radio_failures(app)
        golden = Golden(app, self.clock, demand_seed=case.seed_for("meter"))
        device = self.model(air, self.dut_profile, self.clock, self.options.faults, rng=case)
        device.provision_key_establishment(self.ke_material, self.dut_ke_suites)
        keyring = Keyring(network_keys={0: self.network_key})
        keyring.add_link_key(device.ieee, device.link_key)
        testbed = Testbed(
            name=name, golden=golden, dut=SimDutControl(device), dut_ieee=device.ieee,
            dut_link_key=device.link_key, keyring=keyring, frames=frames, air=air, app=app, device=device,
            random=case,
        )
        testbed.notes["air_name"] = air_name
        await self._enable_golden_ke(testbed)
        return testbed

    async def _enable_golden_ke(self, testbed: Testbed) -> None:
        """Key Establishment on the golden ESI endpoint (simulated radio hooks); keys it completes go to the
        keyring so captures decode the DUT's SE frames under its CBKE link key."""
        node = testbed.app.node
        await testbed.golden.enable_key_establishment(
            self.ke_material.engine(COORDINATOR_IEEE, self.golden_ke_suites,
                                    rng=testbed.random.stream("ke:golden")),
            ieee_of=ieee_resolver(node), install_key=node.set_link_key, set_aps_acks=aps_ack_switch(node),
            key_table=node.security.link_keys, aps_send_frame=node.aps_send_frame,
            next_aps_counter=node.security.next_aps_counter,
        )
        testbed.golden.learn_from_key_establishment(testbed.keyring, self.ke_material.ca_public_key(1))

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
        if self.hardware is not None and artifacts is not None and getattr(testbed, "capture", None) is not None:
            testbed.observed()  # pull the sniffer's last frames in before writing the capture
        written: list[Path] = []
        if artifacts is not None:
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
                testbed.notes["capture_cut"] = note
            written.append(pcap)
            if self.options.reveal_secrets:
                keys = artifacts / "capture.keys"
                write_key_file(keys, [(k, f"network key {seq}") for seq, k in testbed.keyring.network_keys.items()]
                               + [(k, f"link key {ieee:016X}") for ieee, ks in testbed.keyring.link_keys.items()
                                  for k in ks])
                written.append(keys)
        self.run_bench(self._close(testbed), 30.0, "shutting the simulated network down")
        return written

    async def _close(self, testbed: Testbed) -> None:
        if self.hardware is not None:
            await self.hardware.close_testbed(testbed)
            return
        if testbed.device is not None:
            testbed.device.close()
        await testbed.golden.close()
        if testbed.app is not None:
            await testbed.app.shutdown()
        unregister_air(testbed.notes.get("air_name", ""))
        # Let cancelled tasks finish so nothing leaks into the next scenario.
        await asyncio.sleep(0)

    def restart_golden(self, testbed: Testbed) -> None:
        """Power-cycle the golden radio: a new ControllerApplication on the same air and network settings."""
        if self.hardware is not None:
            self.run_bench(self.hardware.restart_golden(testbed), 120.0, "restarting the EZSP golden radio")
            return
        self.run_bench(self._restart_golden(testbed), 60.0, "restarting the golden radio")

    async def _restart_golden(self, testbed: Testbed) -> None:
        # A real coordinator keeps its frame counters and key table in non-volatile memory.
        old_security = testbed.app.node.security
        await testbed.golden.close()
        await testbed.app.shutdown()
        profile = self.bench_profile
        path = register_air(testbed.notes["air_name"], cast(Air, testbed.air))  # a simulated testbed has air
        testbed.app = await ControllerApplication.new(
            sim_config(path, channel=profile.channel, pan_id=profile.pan_id,
                       extended_pan_id=bytes.fromhex(str(profile.extended_pan_id).replace(":", "")),
                       network_key=self.network_key, coordinator_ieee=COORDINATOR_IEEE),
            auto_form=True,
        )
        old = testbed.golden
        testbed.golden = Golden(testbed.app, self.clock, demand_seed=testbed.random.seed_for("meter"))
        testbed.golden.zdo_events.extend(old.zdo_events)
        testbed.golden.adopt_findings(old)
        await self._enable_golden_ke(testbed)
        if old.ke is not None and testbed.golden.ke is not None:
            testbed.golden.ke.events[:0] = old.ke.events  # what the golden saw before the power cycle
        # A real Trust Center keeps its key table across a power cycle.
        await testbed.golden.trust_center.hold_link_key(testbed.dut_ieee, testbed.dut_link_key)
        security = testbed.app.node.security
        # Like an NCP restoring from NVM, skip ahead: frames sent while shutting down must not be replayed.
        security.nwk_tx_counter = old_security.nwk_tx_counter + 4096
        security.link_keys.update(old_security.link_keys)
        security.aps_counter = old_security.aps_counter
        trust_center = testbed.app.trust_center
        for event in old.trust_center.joins:
            trust_center.adopt(event.ieee, event.nwk)

    def close(self) -> None:
        if self.hardware is not None:
            self.run_bench(self.hardware.close(), 60.0, "closing the EZSP golden radio")
        self.loop.close()


def air_frame_sender(frame: AirFrame) -> int:
    return frame.sender


# Self-test hook: SE_SIM_RADIO_FAILURES=N makes the simulated golden radio fail its first N transmissions of the
# process, as a USB radio that drops off the bus does, so the self-tests can show that a bench fault is retried
# and reported as an error, never as a DUT failure.
_RADIO_FAILURES = {"left": int(os.environ.get("SE_SIM_RADIO_FAILURES", "0") or 0)}


def _inject_radio_failures(app: Any) -> None:  # app: a zigpy ControllerApplication whose send is replaced
    if _RADIO_FAILURES["left"] <= 0:
        return
    send = app.send_packet

    async def failing_send(packet: object) -> object:
        if _RADIO_FAILURES["left"] > 0:
            _RADIO_FAILURES["left"] -= 1
            raise BenchError("simulated golden radio: the radio stopped answering (self-test fault injection)")
        return await send(packet)

    app.send_packet = failing_send


if __name__ == "__main__":
    # `python -m harness.bench check ...` is the command in the bench issue and in labs' notes; the check itself
    # lives in harness.bench_check, which needs no event loop or testbed from this module.
    import sys

    from harness.bench_check import main as bench_check_main

    if sys.argv[1:2] == ["check"]:
        sys.exit(bench_check_main(sys.argv[2:], prog="python -m harness.bench check"))
    print("usage: python -m harness.bench check --bench FILE [--radio ezsp:PORT] [--dut PORT] [--profile FILE]",
          file=sys.stderr)
    sys.exit(2)

"""The hardware backend: golden radio on an EZSP NCP (bellows), DUT driven by CLI or an operator, wall clock.

The :class:`~harness.bench.Bench` front holds this backend when the radio is ``ezsp:<port>`` (harness/bench/
target.py decides, and builds the DUT control it is given). One ControllerApplication serves the whole session
(forming takes seconds on hardware); each scenario gets a fresh :class:`~harness.golden.golden.Golden` on it. Frames are observed through the bench profile's
``hooks.sniffer_pcap`` (a live pcap another process writes with CLOCK_MONOTONIC stamps, e.g.
``python -m harness.emulator ncp --pcap``); without it the capture is empty and capture-judged steps cannot pass.

Bench profile hooks (shell commands, run with the scenario name in $SE_SCENARIO): ``power_cycle``,
``reset``, ``rf_shield_close``, ``rf_shield_open``; ``sniffer_pcap`` names the live capture to import.
Before each scenario the DUT is brought to factory state (:meth:`HardwareBackend.factory_reset_dut`): the
CLI's factory_reset, then ``power_cycle`` (else ``reset``).

The network belongs to the bench: every scenario starts on the bench profile's network (key, key sequence 0,
channel, PAN) with joining closed, and its keyring starts with the key the NCP really runs. A case that switches
the network key (TC-JOIN-1.8) is tracked through the Trust Center's key listeners (the keyring gets each key
with the sequence number the NCP gave it) and the network is re-formed when the scenario closes; a network
that differs when a scenario opens (an earlier session's, or a case that ended badly) is re-formed too, with
one warning. Re-forming keeps the NCP's frame counters running forward (never replayed).

Bench health is watched, and each fault is a bench error naming the case (never a DUT failure): a sniffer
capture that does not grow while the golden radio puts frames on the air (checked when the scenario opens,
with the broadcast that closes joining, and whenever frames are judged), a golden radio that stops answering,
and a DUT control port that closed. :meth:`HardwareBackend.bench_fault` is asked again when a case failed the
DUT (through the testbed's watch), so a failure the bench caused becomes the bench's error.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, cast

import zigpy.types as t

from harness.backends.base import BenchSetup, SecondRadioUnavailable, Work
from harness.capture.live import LivePcap, SnifferFault
from harness.clock import WallClock
from harness.dut.base import DutControl, DutControlError
from harness.dut.cli import CliDutControl
from harness.errors import BenchFault
from harness.golden.golden import ESI_ENDPOINT, Golden
from harness.golden.ke import GoldenKe
from harness.progress import LOGGER as TERMINAL  # the operator's lines: the plugin writes its WARNINGs
from harness.progress import Progress
from harness.radio.ezsp import (
    CbkeUnavailable,
    ControllerApplication,
    EzspRadioError,
    NetworkState,
    RadioLost,
    ezsp_config,
)
from harness.testbed import HanDevice, Testbed
from harness.verify import Keyring
from harness.wire.frames import ApsFrame
from harness.wire.frames.types import eui64_to_ieee
from harness.wire.material import LinkKeyEntry

if TYPE_CHECKING:  # ke.ezsp needs bellows at run time: imported where the engine is used
    from harness.ke.engine import KeEngine
    from harness.ke.ezsp import EzspKeEngine
    from harness.ke.state_machine import KeyEstablishment
    from harness.rng import CaseRandom

LOGGER = logging.getLogger(__name__)

HOOK_TIMEOUT = 60.0
#: After the DUT's reset: the host waits for SETTLE_QUIET s without a stale SE frame (at most SETTLE_LIMIT s)
#: before the scenario starts, so nothing the DUT sent in its previous life is answered into its next one.
SETTLE_QUIET = 0.3
SETTLE_LIMIT = 3.0
#: How long a live sniffer may take to write a frame the golden radio sent or received. A frame older than this
#: that is still not in the capture means the capture is not the live one (a stale file, a stopped sniffer).
SNIFFER_LAG = 2.0
#: How long the golden radio has to answer a harmless command before it counts as having stopped answering.
RADIO_PROBE_TIMEOUT = 5.0
#: Re-forming the bench's network moves the NWK frame counter this far ahead, as zigpy does when it restores a
#: backup: frames the NCP sent under the old network must never look like replays to a device that kept counters.
REFORM_COUNTER_SKIP = 10_000


class Network(TypedDict):
    """The network settings the bench runs (the bench profile's, key sequence 0)."""

    network_key: bytes
    key_seq: int
    channel: int
    pan_id: int
    extended_pan_id: bytes


class HookError(BenchFault, RuntimeError):
    """A bench hook (power cycle, RF shield, sniffer) failed: a bench error, never a DUT failure."""

    retryable = True


class NetworkStateError(BenchFault, RuntimeError):
    """The NCP's network could not be brought back to the bench profile's (re-forming did not take)."""


def in_case(exc: BaseException, case: str) -> BaseException:
    """Name the case a bench fault hit in its message (the report and the terminal show the message), once."""
    if case and exc.args and isinstance(exc.args[0], str) and not exc.args[0].startswith(f"{case}: "):
        exc.args = (f"{case}: {exc.args[0]}", *exc.args[1:])
    return exc


def run_hook(hooks: Mapping[str, str], name: str, scenario: str = "") -> bool:
    """Run the bench profile's *name* hook; False when the profile has none."""
    command = hooks.get(name)
    if not command:
        return False
    try:
        result = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=HOOK_TIMEOUT,
                                env={**os.environ, "SE_SCENARIO": scenario}, check=False)
    except subprocess.TimeoutExpired:
        raise HookError(f"bench hook {name} ({command!r}) did not finish within {HOOK_TIMEOUT:g} s") from None
    if result.returncode != 0:
        raise HookError(f"bench hook {name} ({command!r}) exited {result.returncode}: {result.stderr.strip()[:200]}")
    return True


class HardwareBackend:
    """The real bench behind the Bench front: the EZSP radio on *radio_port*, the DUT through *dut* (a CLI or
    an operator), the bench profile's hooks and sniffer. It is also the testbeds' :class:`~harness.testbed.
    BenchWatch`: their observations read the live capture, and a failed case asks it for the bench's health."""

    opening = Work(120.0, "opening the EZSP golden radio")
    closing_testbed = Work(30.0, "closing the scenario on the EZSP golden radio")
    restarting = Work(120.0, "restarting the EZSP golden radio")
    closing = Work(60.0, "closing the EZSP golden radio")

    def __init__(self, setup: BenchSetup, radio_port: str, dut: DutControl) -> None:
        self.setup = setup
        self.port = radio_port
        self.loop = asyncio.new_event_loop()
        self.clock = WallClock(self.loop)
        self.app: ControllerApplication | None = None
        # EzspKeEngine on the NCP, or the CbkeUnavailable that says why there is none
        self.ke_engine: EzspKeEngine | CbkeUnavailable | None = None
        self.dut = dut
        sniffer = setup.bench_profile.hooks.get("sniffer_pcap")
        self.capture = LivePcap(Path(sniffer)) if sniffer else None
        self.progress = Progress(self.clock)
        self.case = ""  # the case the open scenario runs, for the bench faults' messages
        # The Trust Center key listener of the open scenario, with the app it is registered on.
        self._key_listener: tuple[Any, Callable[[int, bytes], None]] | None = None

    def start_case(self, random: CaseRandom) -> None:
        """The wall clock runs on: nothing to start."""

    def radio_firmware(self) -> str | None:
        """The NCP's firmware, as the bench check reads it: bellows asked the NCP for its board info and EZSP
        version when the radio was opened. None before it was."""
        app = self.app
        if app is None:
            return None
        node = getattr(getattr(app, "state", None), "node_info", None)
        ezsp = getattr(app, "_ezsp", None)
        parts = [f"firmware {node.version}" if node is not None and node.version else "firmware unknown"]
        board = [f"board {node.model}" if node is not None and node.model else "",
                 f"manufacturer {node.manufacturer}" if node is not None and node.manufacturer else ""]
        if any(board):
            parts.append(f"({', '.join(b for b in board if b)})")
        if ezsp is not None and getattr(ezsp, "ezsp_version", None) is not None:
            parts.append(f"EZSP protocol {ezsp.ezsp_version}")
        return " ".join(parts)

    def expected_network(self) -> Network:
        """The network every scenario starts on: the bench profile's, with the first key sequence."""
        profile = self.setup.bench_profile
        return {"network_key": self.setup.network_key, "key_seq": 0, "channel": profile.channel,
                "pan_id": profile.pan_id,
                "extended_pan_id": bytes.fromhex(str(profile.extended_pan_id).replace(":", ""))}

    def _config(self) -> dict[str, Any]:
        network = self.expected_network()
        return ezsp_config(self.port, channel=network["channel"], pan_id=network["pan_id"],
                           extended_pan_id=network["extended_pan_id"], network_key=network["network_key"])

    async def open_app(self) -> ControllerApplication:
        """The golden radio, connected again when it dropped off (during an earlier case, or the NCP reset)."""
        if self.app is not None and self.app.lost is not None:
            await self._close_app()
        if self.app is None:
            self.app = await ControllerApplication.new(self._config(), auto_form=True)
            try:
                self.ke_engine = await self.app.ke_engine()
            except CbkeUnavailable as exc:
                self.ke_engine = exc  # joining cases run; key establishment ones end as bench errors
        return self.app

    async def _close_app(self) -> None:
        if self.ke_engine is not None and not isinstance(self.ke_engine, CbkeUnavailable):
            self.ke_engine.close()
        self.ke_engine = None
        if self.app is not None:
            await self.app.shutdown()
            self.app = None

    async def bench_network(self, why: str = "") -> NetworkState:
        """Make the NCP run the bench profile's network, re-forming it when it runs another (an earlier session's
        key sequence, a key a case switched to), and return the network it runs. *why* says what changed it, for
        the one warning line."""
        app = await self.open_app()
        expected = self.expected_network()
        state = await app.network_state()
        differences = state.differences(**expected)
        if not differences:
            return state
        TERMINAL.warning("%sthe NCP's network has %s%s: re-forming the bench's network",
                         f"{self.case}: " if self.case else "", ", ".join(differences), f" ({why})" if why else "")
        await self._reform(app, expected, state)
        app = await self.open_app()
        state = await app.network_state()
        left = state.differences(**expected)
        if left:
            raise NetworkStateError(f"re-forming left the NCP's network with {', '.join(left)}: reset the NCP "
                                    "(or erase its network) and run again")
        return state

    async def _reform(self, app: ControllerApplication, expected: Network, current: NetworkState) -> None:
        """Write the bench's network to the NCP (bellows' own restore path: leave, security state, form), then
        reopen the radio so the ESI endpoint and the CBKE engine are registered on the new network."""
        import zigpy.state

        info = app.state.network_info
        channel = expected["channel"]
        network_info = info.replace(
            network_key=zigpy.state.Key(key=t.KeyData(expected["network_key"]), seq=t.uint8_t(expected["key_seq"]),
                                        # zigpy annotates the counters uint32_t and stores plain ints as given
                                        tx_counter=current.nwk_frame_counter + REFORM_COUNTER_SKIP,  # type: ignore[arg-type]
                                        rx_counter=0),  # type: ignore[arg-type]
            # zigpy's classmethod is typed with an instance self (zigpy.types.Channels.from_channel_list)
            channel=channel, channel_mask=t.Channels.from_channel_list([channel]),  # type: ignore[misc]
            pan_id=t.PanId(expected["pan_id"]),
            extended_pan_id=t.ExtendedPanId(expected["extended_pan_id"][::-1]), key_table=[], children=[],
            nwk_addresses={})
        await app.write_network_info(network_info=network_info, node_info=app.state.node_info)
        await self._close_app()

    def enable_key_establishment(self, testbed: Testbed) -> None:
        """The golden ESI's Key Establishment endpoint on the NCP's CBKE library. The ESI endpoint (with the
        KE cluster) was registered before the network started and the NCP stores each CBKE key in its key
        table itself, so there is no key installer; the NCP acknowledges APS frames by itself, so there is no
        APS-ack switch either (the withhold-acks test hook cannot run on an NCP). SE probes go through
        :class:`NcpApsSender`."""
        engine = self.ke_engine
        if isinstance(engine, CbkeUnavailable) or engine is None:
            # A stand-in for the endpoint whose every use is the bench error saying what the NCP lacks.
            testbed.golden.ke = cast(GoldenKe, KeUnavailable(engine))
            return
        golden, app = testbed.golden, testbed.app
        resolver = _ieee_resolver(app, golden)
        probes = NcpApsSender(app, testbed.keyring, resolver)
        golden.ke = GoldenKe(golden.engine, ESI_ENDPOINT, engine, self.clock, send=app.send_packet,
                             ieee_of=resolver, install_key=None, key_table=probes.key_table,
                             aps_send_frame=probes.send, next_aps_counter=probes.next_counter)
        testbed.sender = probes
        golden.learn_from_key_establishment(testbed.keyring, self.setup.ke_material.ca_public_key(1))

    def golden_ke_engine(self, suites: tuple[int, ...], random: CaseRandom) -> KeEngine:
        """The NCP's engine offering only *suites* (the golden's certificate is the NCP's own: on hardware no
        other identity can answer for the Trust Center's address); the NCP draws its own ephemeral keys, so
        *random* is not used."""
        from harness.ke.ezsp import EzspKeEngine

        engine = self.ke_engine
        if not isinstance(engine, EzspKeEngine):
            raise engine if isinstance(engine, CbkeUnavailable) else CbkeUnavailable("the EZSP radio is not open")
        missing = set(suites) - engine.suites
        if missing:
            raise CbkeUnavailable(f"the NCP has no CBKE suite {sorted(missing)} (library or certificate)")
        return engine.restricted(suites)

    async def second_ke_partner(self, testbed: Testbed) -> KeyEstablishment:
        """A real bench has one golden radio (the Trust Center's): no second node can initiate towards the DUT."""
        raise SecondRadioUnavailable("this case needs a second golden-side node initiating Key Establishment "
                                     "towards the DUT; the bench has one EZSP radio, the Trust Center's")

    async def han_device(self, testbed: Testbed, ieee: int, link_key: bytes, *, end_device: bool = False
                         ) -> HanDevice:
        """The golden's HAN devices in a network the DUT formed: the bench has one radio, the profile's first HAN
        device (testbed.han holds it once the scenario opened); any other needs a radio the bench does not have."""
        if ieee in testbed.han and not end_device:
            return testbed.han[ieee]
        raise SecondRadioUnavailable(
            f"this case needs a golden HAN device {ieee:016X}"
            + (" joining as an end device" if end_device else "")
            + "; the bench has one EZSP radio, joined as the profile's first HAN device")

    async def factory_reset_dut(self, name: str) -> list[str]:
        """Bring the DUT to factory state before a scenario (on the simulated bench each scenario gets a new
        device; a real one carries its network over): the CLI's factory_reset command when the profile has one,
        then the bench's power_cycle hook (else its reset hook) so it starts from a clean boot. Returns what
        was done. A manual DUT is left to the scenario's own "factory new" step (one prompt, not two)."""
        done = []
        if isinstance(self.dut, CliDutControl) and "factory_reset" in self.dut.commands:
            await self.dut.factory_reset()
            done.append("factory_reset")
        hooks = self.setup.bench_profile.hooks
        loop = asyncio.get_running_loop()
        for hook in ("power_cycle", "reset"):
            if await loop.run_in_executor(None, run_hook, hooks, hook, name):
                done.append(hook)
                break
        return done

    async def open_testbed(self, name: str, case: str, random: CaseRandom) -> Testbed:
        case = case or name
        self.case = case
        self.progress.start(case)
        try:
            return await self._open_testbed(name, case, random)
        except BenchFault as exc:
            in_case(exc, case)
            raise

    async def _open_testbed(self, name: str, case: str, random: CaseRandom) -> Testbed:
        run_hook(self.setup.bench_profile.hooks, "rf_shield_close", name)
        if self.setup.dut_profile.network.forms:
            return await self._open_dut_network(name, case, random)
        state = await self.bench_network("left by an earlier case or session")
        app = await self.open_app()
        LOGGER.info("network at the scenario's start: key sequence %d, NWK frame counter %d, channel %d",
                    state.key_seq, state.nwk_frame_counter, state.channel)
        profile = self.setup.dut_profile
        ieee = int(str(profile.identity.ieee).replace(":", ""), 16)
        link_key = profile.install_code_value.link_key
        # The keyring follows the network's real key history: the key the NCP runs now, then every switch.
        keyring = Keyring(network_keys={state.key_seq: state.network_key})
        keyring.add_link_key(ieee, link_key)
        # The case's random state (harness/rng.py) draws the golden meter's household, as in simulation.
        golden = Golden(app, self.clock, demand_seed=random.seed_for("meter"))
        # The golden listens (and drops stale SE frames) before the reset, so it can tell when the DUT's
        # previous life has gone quiet.
        golden.ignore_se_until_admission()
        try:
            await self.factory_reset_dut(name)
            await self._settle(golden)
        except BaseException:
            await golden.close()  # its packet callback must not outlive the scenario that failed to open
            raise
        # Each scenario starts from a factory-new DUT: zigpy must see its next join as new (device_joined).
        app.devices.pop(t.EUI64(ieee.to_bytes(8, "little")), None)
        if self.capture is not None:
            self.capture.skip_to_end()
        testbed = Testbed(name=name, golden=golden, dut=self.dut, dut_ieee=ieee, dut_link_key=link_key,
                          keyring=keyring, frames=[], app=app, random=random, case=case, capture=self.capture,
                          watch=self)
        try:
            # Joining closed (a case's permit window must not reach into the next one); the broadcast that
            # closes it is also the frame that shows the sniffer capture is the live one.
            await app.permit(0)
            await self._sniffer_hears(testbed, case)
        except BaseException:
            await golden.close()
            raise
        self.progress.testbed = testbed
        self._watch_key_switches(testbed, app)
        self.enable_key_establishment(testbed)
        return testbed

    async def _open_dut_network(self, name: str, case: str, random: CaseRandom) -> Testbed:
        """The DUT forms the network and is its Trust Center: the stick is the profile's first HAN device, joining
        the DUT's network as a router when a case commissions it (harness/radio/ezsp_han.py). Nothing of the
        bench's own network applies (its key, the key-switch watch); the DUT is reset to factory state, which
        for a forming DUT means a new network of its own."""
        from harness.radio.ezsp_han import EzspHanDevice

        app = await self.open_app()
        profile = self.setup.dut_profile
        first = profile.network.han_devices[0]
        stick = eui64_to_ieee(bytes(app.state.node_info.ieee))
        if stick != first.ieee_value:
            raise NetworkStateError(f"network.han_devices[0] is {first.ieee} but the golden radio's IEEE address is "
                                    f"{stick:016X}: the first HAN device is the golden radio itself (give its IEEE "
                                    f"and the install code the DUT's Trust Center is given for it)")
        ieee = int(str(profile.identity.ieee).replace(":", ""), 16)
        link_key = first.install_code_value.link_key
        keyring = Keyring()  # the DUT's network keys are learnt from what the stick receives
        keyring.add_link_key(first.ieee_value, link_key)
        golden = Golden(app, self.clock, demand_seed=random.seed_for("meter"))
        try:
            await self.factory_reset_dut(name)
        except BaseException:
            await golden.close()
            raise
        if self.capture is not None:
            self.capture.skip_to_end()
        testbed = Testbed(name=name, golden=golden, dut=self.dut, dut_ieee=ieee,
                          dut_link_key=profile.install_code_value.link_key, keyring=keyring, frames=[], app=app,
                          random=random, case=case, capture=self.capture, watch=self)
        testbed.han[first.ieee_value] = EzspHanDevice(app, first.ieee_value, link_key,
                                                      self.setup.bench_profile.channel)
        self.progress.testbed = testbed
        self.enable_key_establishment(testbed)  # the NCP's CBKE, its certificate for the stick's own IEEE
        return testbed

    # -- the testbeds' watch (harness.testbed.BenchWatch) ---------------------------------------------------

    def capture_fault(self, testbed: Testbed) -> BenchFault | None:
        return capture_fault(testbed)

    def health(self, testbed: Testbed) -> BenchFault | None:
        """:meth:`bench_fault`, run on the bench loop from a synchronous caller (a case's outcome)."""
        asyncio.set_event_loop(self.loop)
        return self.loop.run_until_complete(self.clock.wait_for(self.bench_fault(testbed), 3 * RADIO_PROBE_TIMEOUT,
                                                                "checking the bench's health"))

    def _watch_key_switches(self, testbed: Testbed, app: Any) -> None:
        def switched(seq: int, key: bytes) -> None:
            testbed.keyring.network_keys[seq] = key
            testbed.network_key_changed = True

        app.trust_center.key_listeners.append(switched)
        self._key_listener = (app, switched)

    def _unwatch_key_switches(self) -> bool:
        """Remove the open scenario's key listener; whether there was one."""
        watched, self._key_listener = self._key_listener, None
        if watched is None:
            return False
        app, listener = watched
        if listener in app.trust_center.key_listeners:
            app.trust_center.key_listeners.remove(listener)
        return True

    async def _sniffer_hears(self, testbed: Testbed, case: str) -> None:
        """The capture grows within SNIFFER_LAG of the golden's broadcast, or it is not the live capture."""
        capture = self.capture
        if capture is None:
            return
        clock = self.clock
        sent = clock.monotonic()
        while capture.size() <= capture.offset:
            if clock.monotonic() - sent > SNIFFER_LAG:
                state = "does not exist" if not capture.path.exists() else (
                    f"did not grow within {SNIFFER_LAG:g} s of the golden radio's broadcast")
                raise SnifferFault(
                    f"{case}: the sniffer capture {capture.path} {state}: it is not the live capture (a stale file, "
                    "or a stopped sniffer); start the sniffer writing this file (bench profile hooks.sniffer_pcap)")
            await clock.sleep(0.05)
        testbed.frames.extend(capture.read_new())
        testbed.capture_grew_at = time.monotonic()

    async def bench_fault(self, testbed: Testbed) -> BenchFault | None:
        """What, if anything, is wrong with the bench now: the golden radio, the DUT's control port, the sniffer.
        Each fault names the case."""
        case = testbed.case or testbed.name
        app = self.app
        if app is None or not await app.answers(RADIO_PROBE_TIMEOUT):
            why = f" ({type(app.lost).__name__}: {app.lost})" if app is not None and app.lost is not None else ""
            return RadioLost(f"{case}: the golden radio ezsp:{self.port} stopped answering{why}")
        if isinstance(self.dut, CliDutControl):
            reason = await asyncio.get_running_loop().run_in_executor(None, self.dut.port_fault)
            if reason:
                return DutControlError(f"{case}: the DUT's control port closed: {reason}")
        return capture_fault(testbed)

    async def _settle(self, golden: Golden) -> None:
        """Wait until no stale SE frame has reached the host for SETTLE_QUIET seconds (at most SETTLE_LIMIT):
        what the DUT sent before its reset may still be in the NCP's callback queue."""
        clock = self.clock
        give_up = clock.monotonic() + SETTLE_LIMIT
        seen = -1
        while len(golden.stale_packets) != seen and clock.monotonic() < give_up:
            seen = len(golden.stale_packets)
            await clock.sleep(SETTLE_QUIET)
        if golden.stale_packets:
            LOGGER.info("dropped %d SE frame(s) the DUT sent before its reset", len(golden.stale_packets))

    async def close_testbed(self, testbed: Testbed) -> None:
        case = testbed.case or testbed.name
        self.progress.stop()
        await testbed.golden.close()
        await self._cancel_device_interviews()
        self._unwatch_key_switches()
        try:
            run_hook(self.setup.bench_profile.hooks, "rf_shield_open", testbed.name)
            if testbed.network_key_changed:
                # Back to the bench's key now, so even the run's last case leaves the bench as it found it.
                await self.bench_network(f"{case} switched the network key")
            fault = await self.bench_fault(testbed)
            if fault is not None:
                raise fault  # a case that passed on a dead sniffer, radio or port passed on nothing
            probes = testbed.sender
            if probes is not None and probes.errors:
                # A probe that never went out would read as "the DUT did not act": the case is a bench error.
                raise EzspRadioError("the golden could not send its SE probe: " + "; ".join(probes.errors))
        except BenchFault as exc:
            in_case(exc, case)
            raise

    async def restart_golden(self, testbed: Testbed) -> None:
        await testbed.golden.close()
        watched = self._unwatch_key_switches()
        await self._close_app()
        testbed.app = await self.open_app()
        if watched:
            self._watch_key_switches(testbed, testbed.app)
        old = testbed.golden
        testbed.golden = Golden(testbed.app, self.clock, demand_seed=testbed.random.seed_for("meter"))
        testbed.golden.zdo_events.extend(old.zdo_events)
        testbed.golden.adopt_findings(old)
        testbed.golden.trust_center.joins.extend(old.trust_center.joins)
        self.enable_key_establishment(testbed)
        if isinstance(old.ke, GoldenKe) and isinstance(testbed.golden.ke, GoldenKe):
            testbed.golden.ke.events[:0] = old.ke.events  # what the golden saw before the power cycle

    async def _cancel_device_interviews(self) -> None:
        """Stop zigpy's own interview of joined devices (it reads their descriptors on its own; the golden
        makes its own ZDO probes). One still pending when the DUT is reset or the run ends would be destroyed
        pending, and asyncio logs that from the garbage collector, which on Python 3.11 can break an ast.parse
        running at that moment (pytest then ends with a SystemError)."""
        # By task rather than through app.devices: a device the DUT's reset removed keeps its interview running.
        # typeshed types get_coro() as a generator or coroutine without __qualname__, which both carry.
        pending = [task for task in asyncio.all_tasks()
                   if task.get_name() == "initialize"
                   and task.get_coro().__qualname__.endswith("Device.initialize")]  # type: ignore[union-attr]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    async def close(self) -> None:
        self.progress.stop()
        await self._cancel_device_interviews()
        await self._close_app()
        if isinstance(self.dut, CliDutControl):
            self.dut.close()


class _HeldKeys(Mapping[int, LinkKeyEntry]):
    """IEEE -> the link key the NCP holds for it: the newest key the bench gave it (install code, then the
    CBKE key read back after each exchange), which is what the keyring records in order."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring

    def __getitem__(self, ieee: int) -> LinkKeyEntry:
        keys = self._keyring.link_keys.get(ieee)
        if not keys:
            raise KeyError(ieee)
        return LinkKeyEntry(keys[-1])

    def __iter__(self) -> Iterator[int]:
        return iter(self._keyring.link_keys)

    def __len__(self) -> int:
        return len(self._keyring.link_keys)


class NcpApsSender:
    """The golden's SE probe on an NCP: an APS data frame under a chosen link key, or NWK security only.

    An NCP secures a unicast with the key its key table holds for the destination, so a frame under another
    key puts that key in the table for the one send and restores the held key after the NCP reported the
    send (messageSentHandler). Frame counters are the NCP's own (one outgoing APS counter for every key), so
    the caller's counter entry is not used."""

    def __init__(self, app: Any, keyring: Keyring, ieee_of: Callable[[int], int | None]) -> None:
        self.app = app  # bellows' ControllerApplication: library edge
        self.key_table = _HeldKeys(keyring)
        self._ieee_of = ieee_of
        self._counter = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self.errors: list[str] = []

    def next_counter(self) -> int:
        self._counter = (self._counter + 1) & 0xFF
        return self._counter

    def send(self, nwk: int, frame: ApsFrame, encrypt_key: bytes | None = None, counter_entry: object = None,
             **_options: object) -> None:
        task = asyncio.get_running_loop().create_task(self._send(nwk, frame, encrypt_key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, nwk: int, frame: ApsFrame, encrypt_key: bytes | None) -> None:
        ieee = self._ieee_of(nwk)
        held = self.key_table[ieee].key if ieee is not None and ieee in self.key_table else None
        swap = encrypt_key is not None and encrypt_key != held
        if swap and (ieee is None or held is None):
            self.errors.append(f"no IEEE address or held key for 0x{nwk:04X}: cannot send under another key")
            return
        if frame.src_endpoint is None or frame.dst_endpoint is None or frame.profile is None or frame.cluster is None:
            self.errors.append(f"probe to 0x{nwk:04X}: not an APS data frame (endpoints, profile and cluster)")
            return
        packet = t.ZigbeePacket(
            # zigpy annotates the address as NWK and takes a plain int as well
            src_ep=t.uint8_t(frame.src_endpoint), dst=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=nwk),  # type: ignore[arg-type]
            dst_ep=t.uint8_t(frame.dst_endpoint), profile_id=t.uint16_t(frame.profile),
            cluster_id=t.uint16_t(frame.cluster), tsn=t.uint8_t(frame.counter), data=t.SerializableBytes(frame.payload),
            tx_options=t.TransmitOptions.APS_Encryption if encrypt_key is not None else t.TransmitOptions.NONE)
        try:
            if swap:
                # swap: a key to send under (ieee, held and encrypt_key are known: checked above)
                await self._key_table_entry(cast(int, ieee), cast(bytes, encrypt_key))
            await self.app.send_packet(packet)
        except Exception as exc:  # noqa: BLE001 - a probe that cannot go out is judged by the missing answer
            self.errors.append(f"probe to 0x{nwk:04X}: {type(exc).__name__}: {exc}")
        finally:
            if swap:
                await self._key_table_entry(cast(int, ieee), cast(bytes, held))  # swap: the key held before

    async def _key_table_entry(self, ieee: int, key: bytes) -> None:
        (status,) = await self.app._ezsp.addOrUpdateKeyTableEntry(
            address=t.EUI64(ieee.to_bytes(8, "little")), linkKey=True, keyData=t.KeyData(key))
        if status != 0:
            raise EzspRadioError(f"the NCP refused a key table entry for {ieee:016X}: {status!r}")


class KeUnavailable:
    """Stands in for the golden's Key Establishment endpoint when the NCP has no CBKE: any use is a bench
    error that says what the NCP lacks (never a DUT failure)."""

    def __init__(self, reason: CbkeUnavailable | None) -> None:
        self.reason = reason or CbkeUnavailable("the EZSP radio was not opened: no key establishment engine")

    def __getattr__(self, name: str) -> Any:
        raise CbkeUnavailable(str(self.reason))

    def close(self) -> None:
        """Nothing to close (Golden.close calls it)."""


def _ieee_resolver(app: Any, golden: Golden) -> Callable[[int], int | None]:
    """NWK -> IEEE from what the golden saw (Trust Center admissions) and zigpy's device table."""

    def resolve(nwk: int) -> int | None:
        for event in reversed(golden.trust_center.joins):
            if event.nwk == nwk:
                return event.ieee
        for annce in reversed(golden.device_annces()):
            if annce.src_nwk == nwk and annce.message is not None:
                return eui64_to_ieee(bytes(annce.message.fields[1]))
        for ieee, device in app.devices.items():
            if int(device.nwk) == nwk:
                return eui64_to_ieee(bytes(ieee))
        return None

    return resolve


def capture_fault(testbed: Testbed) -> SnifferFault | None:
    """Read the capture's new frames into the testbed; a SnifferFault when the golden radio reported a frame on
    the air more than SNIFFER_LAG ago and the capture has not grown since it last did."""
    capture = testbed.capture
    if capture is None:
        return None
    new = capture.read_new()
    now = time.monotonic()
    if new:
        testbed.frames.extend(new)
        testbed.capture_grew_at = now
        return None
    grew_at = testbed.capture_grew_at
    air = getattr(testbed.app, "air_frames", ())
    missing = [at for at in air if grew_at is not None and grew_at < at < now - SNIFFER_LAG]
    if not missing:
        return None
    case = testbed.case or testbed.name
    return SnifferFault(f"{case}: the sniffer capture {capture.path} stopped growing: the golden radio reported "
                        f"{len(missing)} frame(s) on the air since it last grew, the first {now - missing[0]:.1f} s "
                        "ago; is the sniffer still running and writing this file?")

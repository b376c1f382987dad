"""The simulated bench: virtual air, a golden ControllerApplication on a simulated coordinator, a reference DUT.

Every scenario gets a fresh network: new virtual air, golden radio and reference device, so no state leaks
between cases (forming and joining take milliseconds of wall time). Each case's virtual clock starts at the
same instant whatever ran before (:meth:`SimBackend.start_case`), so a case's capture is the same alone or
inside the whole suite.
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import zigpy.zdo.types as zdo_t

from harness.backends.base import BenchSetup, Work
from harness.clock import VirtualClock, VirtualTimeLoop, new_virtual_loop
from harness.crypto.install_code import InstallCode
from harness.dut.sim import SimDutControl
from harness.errors import DutFailure
from harness.golden.golden import Golden
from harness.ke.sim import aps_ack_switch, attach, ieee_resolver
from harness.ke.state_machine import KeyEstablishment
from harness.radio.sim import ControllerApplication, register_air, sim_config, unregister_air
from harness.radio.sim_han import SimHanDevice, SimHanRadio
from harness.se.clusters import KeyEstablishment as KeyEstablishmentCluster
from harness.se.datamodel import SE_PROFILE_ID, load_datamodel
from harness.sim.air import Air
from harness.sim.node import JoinError, Node, Role
from harness.testbed import IDENTIFICATION, BenchError, HanDevice, Testbed
from harness.verify import Keyring
from harness.zcl import ZclEngine
from harness.zcl.store import AttributeStore

if TYPE_CHECKING:
    from harness.devices.base import ReferenceDevice
    from harness.ke.engine import KeEngine
    from harness.rng import CaseRandom

#: Simulated time is anchored here: each case's virtual clock starts at this instant plus an offset derived
#: from the run's seed and the case id (CaseRandom.clock_start), so captures and event times are reproducible.
VIRTUAL_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
#: The loop time at which every simulated scenario starts (the capture's timestamps count from it).
CASE_LOOP_START = 0.0
COORDINATOR_IEEE = 0x00124B0000C0FFEE
#: The second golden-side node (second_ke_partner): its IEEE, preconfigured link key and SE endpoint.
PARTNER_IEEE = 0x00124B0000C0FFEF
PARTNER_LINK_KEY = bytes.fromhex("5345434F4E44504152544E45524B4559")  # "SECONDPARTNERKEY"
#: Its install code when the DUT is the Trust Center (the DUT's head end is given it): a test value.
PARTNER_INSTALL_CODE = InstallCode(b"SECONDPARTNERKEY")  # 16 bytes, the common label length
PARTNER_ENDPOINT = 1
PARTNER_DEVICE_ID = load_datamodel().device_type("SE-ESP").device_id  # an ESI


class SimFrameInjector:
    """The golden coordinator's radio as a FrameInjector (harness.testbed): replays and duplicates."""

    def __init__(self, testbed: Testbed) -> None:
        self._testbed = testbed  # the golden radio may restart: its node is looked up at each use

    def replay(self, psdu: bytes) -> None:
        self._testbed.app.node.radio.transmit(bytes(psdu))

    def resend_aps(self, dst_nwk: int, aps_frame: bytes) -> None:
        self._testbed.app.node.nwk_send(dst_nwk, bytes(aps_frame))


def air_name(air: Air) -> str:
    """The name the simulated radio finds *air* under (radio/sim.py's registry)."""
    return f"bench-{id(air)}"


class SimBackend:
    """The simulated bench behind the Bench front: *model* is the reference device class the DUT runs as,
    *faults* the seeded non-conformances it carries."""

    opening = Work(60.0, "forming the simulated network")
    closing_testbed = Work(30.0, "shutting the simulated network down")
    restarting = Work(60.0, "restarting the golden radio")
    closing = Work(10.0, "closing the simulated bench")

    def __init__(self, setup: BenchSetup, model: type[ReferenceDevice], faults: tuple[str, ...] = ()) -> None:
        self.setup = setup
        self.model = model
        self.faults = faults
        self.loop: VirtualTimeLoop = new_virtual_loop(CASE_LOOP_START)
        self.clock = VirtualClock(self.loop, VIRTUAL_EPOCH, origin=CASE_LOOP_START)

    def start_case(self, random: CaseRandom) -> None:
        # Timers a closed scenario left behind keep their remaining delays; the new scenario's clock reads
        # its own start instant at loop time CASE_LOOP_START.
        self.loop.rebase(CASE_LOOP_START)
        self.clock = VirtualClock(self.loop, VIRTUAL_EPOCH + timedelta(seconds=random.clock_start()),
                                  origin=CASE_LOOP_START)

    def golden_ke_engine(self, suites: tuple[int, ...], random: CaseRandom) -> KeEngine:
        """Minted for the simulated coordinator by the bench's test CA."""
        return self.setup.ke_material.engine(COORDINATOR_IEEE, tuple(suites), rng=random.stream("ke:golden"))

    def radio_firmware(self) -> str | None:
        return None

    async def _new_app(self, air: Air) -> Any:  # the golden zigpy ControllerApplication: library edge
        profile = self.setup.bench_profile
        path = register_air(air_name(air), air)
        return await ControllerApplication.new(
            sim_config(path, channel=profile.channel, pan_id=profile.pan_id,
                       extended_pan_id=self.setup.extended_pan_id, network_key=self.setup.network_key,
                       coordinator_ieee=COORDINATOR_IEEE),
            auto_form=True,
        )

    async def open_testbed(self, name: str, case: str, random: CaseRandom) -> Testbed:
        setup = self.setup
        if setup.dut_profile.network.forms:
            return await self._open_dut_network(name, case, random)
        air = Air(channel=setup.bench_profile.channel, seed=random.seed_for("air"), loop=self.loop)
        frames: list[tuple[float, bytes]] = []
        air.add_sniffer(lambda frame: frames.append((frame.timestamp, frame.psdu)))
        app = await self._new_app(air)
        if name != IDENTIFICATION:  # a self-test's radio fault must hit a case, not the identification
            _inject_radio_failures(app)
        golden = Golden(app, self.clock, demand_seed=random.seed_for("meter"))
        device = self.model(air, setup.dut_profile, self.clock, self.faults, rng=random)
        device.provision_key_establishment(setup.ke_material, setup.dut_ke_suites)
        keyring = Keyring(network_keys={0: setup.network_key})
        keyring.add_link_key(device.ieee, device.link_key)
        testbed = Testbed(
            name=name, golden=golden, dut=SimDutControl(device), dut_ieee=device.ieee,
            dut_link_key=device.link_key, keyring=keyring, frames=frames, air=air, app=app, device=device,
            random=random, case=case,
        )
        testbed.injector = SimFrameInjector(testbed)
        await self._enable_golden_ke(testbed)
        return testbed

    async def _open_dut_network(self, name: str, case: str, random: CaseRandom) -> Testbed:
        """The DUT forms the network and is its Trust Center: it starts on fresh air, and the golden is the first
        HAN device of the profile (a router, not yet joined), whose node carries the golden's ZDO client, ZCL
        engine and Key Establishment. The network key is the DUT's: the keyring learns it from the HAN devices."""
        setup = self.setup
        air = Air(channel=setup.bench_profile.channel, seed=random.seed_for("air"), loop=self.loop)
        frames: list[tuple[float, bytes]] = []
        air.add_sniffer(lambda frame: frames.append((frame.timestamp, frame.psdu)))
        device = self.model(air, setup.dut_profile, self.clock, self.faults, rng=random)
        device.provision_key_establishment(setup.ke_material, setup.dut_ke_suites)
        first = setup.dut_profile.network.han_devices[0]
        link_key = first.install_code_value.link_key
        node = Node(air, first.ieee_value, Role.ROUTER, tc_link_key=link_key, clock=self.clock)
        radio = SimHanRadio(node)
        golden = Golden(radio, self.clock, demand_seed=random.seed_for("meter"))
        keyring = Keyring()
        keyring.add_link_key(first.ieee_value, link_key)
        testbed = Testbed(
            name=name, golden=golden, dut=SimDutControl(device), dut_ieee=device.ieee,
            dut_link_key=device.link_key, keyring=keyring, frames=frames, air=air, app=radio, device=device,
            random=random, case=case,
        )
        testbed.han[first.ieee_value] = SimHanDevice(node, link_key)
        # The golden HAN device's Key Establishment client and server: an SE device runs CBKE with the Trust Center
        # once it joined (the DUT's server here), with certificates the test CA mints for its own IEEE.
        material = setup.ke_material
        await golden.enable_key_establishment(
            material.engine(first.ieee_value, setup.golden_ke_suites, rng=random.stream("ke:golden")),
            ieee_of=ieee_resolver(node), install_key=node.set_link_key, set_aps_acks=aps_ack_switch(node),
            key_table=node.security.link_keys, aps_send_frame=node.aps_send_frame,
            next_aps_counter=node.security.next_aps_counter,
        )
        golden.learn_from_key_establishment(keyring, material.ca_public_key(1))
        return testbed

    async def han_device(self, testbed: Testbed, ieee: int, link_key: bytes, *, end_device: bool = False
                         ) -> HanDevice:
        """A simulated node on the scenario's air: any number of them (the golden's first is already there)."""
        if ieee in testbed.han:
            return testbed.han[ieee]
        if testbed.air is None:
            raise BenchError("the simulated testbed has no air to put a HAN device on")
        node = Node(testbed.air, ieee, Role.END_DEVICE if end_device else Role.ROUTER, tc_link_key=link_key,
                    clock=self.clock)
        device = SimHanDevice(node, link_key)
        testbed.han[ieee] = device
        testbed.keyring.add_link_key(ieee, link_key)
        return device

    async def _enable_golden_ke(self, testbed: Testbed) -> None:
        """Key Establishment on the golden ESI endpoint (simulated radio hooks); keys it completes go to the
        keyring so captures decode the DUT's SE frames under its CBKE link key."""
        node = testbed.app.node
        material = self.setup.ke_material
        await testbed.golden.enable_key_establishment(
            material.engine(COORDINATOR_IEEE, self.setup.golden_ke_suites, rng=testbed.random.stream("ke:golden")),
            ieee_of=ieee_resolver(node), install_key=node.set_link_key, set_aps_acks=aps_ack_switch(node),
            key_table=node.security.link_keys, aps_send_frame=node.aps_send_frame,
            next_aps_counter=node.security.next_aps_counter,
        )
        testbed.golden.learn_from_key_establishment(testbed.keyring, material.ca_public_key(1))

    async def second_ke_partner(self, testbed: Testbed) -> KeyEstablishment:
        """A simulated router joined with its own install-code key, serving and initiating Key Establishment
        with certificates the bench's test CA mints for it (the DUT's suites), its ephemeral keys from the case's
        own stream."""
        if testbed.ke_partner is not None:
            return testbed.ke_partner
        if testbed.air is None:
            raise BenchError("the simulated testbed has no air to put a second node on")
        if self.setup.dut_profile.network.forms:  # the DUT's Trust Center admits it, as it would any HAN device
            node = Node(testbed.air, PARTNER_IEEE, Role.ROUTER, tc_link_key=PARTNER_INSTALL_CODE.link_key,
                        clock=self.clock)
            await testbed.dut.add_install_code(PARTNER_IEEE, PARTNER_INSTALL_CODE)
            await testbed.dut.permit_joining(60)
            testbed.keyring.add_link_key(PARTNER_IEEE, PARTNER_INSTALL_CODE.link_key)
        else:
            node = Node(testbed.air, PARTNER_IEEE, Role.ROUTER, tc_link_key=PARTNER_LINK_KEY, clock=self.clock)
            await testbed.golden.trust_center.admit(PARTNER_IEEE, PARTNER_LINK_KEY, 60)
        try:
            await node.join(deadline=30.0)
        except JoinError as exc:
            if self.setup.dut_profile.network.forms:  # the DUT's Trust Center refused it: the DUT's doing
                raise DutFailure(f"the DUT's Trust Center did not admit a second HAN device ({exc})",
                                 expectation="the DUT's Trust Center admits a HAN device whose install code it holds",
                                 rule="SE 1.x 5.4.1 and Zigbee 4.6.3.2: admission with the install code's link key"
                                 ) from exc
            raise BenchError(f"the second golden node could not join the scenario's network: {exc}") from exc
        node.add_endpoint(zdo_t.SimpleDescriptor(
            endpoint=PARTNER_ENDPOINT, profile=SE_PROFILE_ID, device_type=PARTNER_DEVICE_ID, device_version=0,
            input_clusters=[KeyEstablishmentCluster.cluster_id], output_clusters=[KeyEstablishmentCluster.cluster_id]))
        engine = self.setup.ke_material.engine(PARTNER_IEEE, self.setup.dut_ke_suites,
                                               rng=testbed.random.stream("ke:partner"))
        ke, _detach = attach(node, ZclEngine(node.send_packet, store=AttributeStore()), PARTNER_ENDPOINT, engine)
        testbed.ke_partner = ke
        return ke

    async def close_testbed(self, testbed: Testbed) -> None:
        for han in testbed.han.values():
            if isinstance(han, SimHanDevice):
                han.close()
        if testbed.ke_partner is not None:
            testbed.ke_partner.close()
        if testbed.device is not None:
            testbed.device.close()
        await testbed.golden.close()
        if testbed.app is not None:
            await testbed.app.shutdown()
        if testbed.air is not None:
            unregister_air(air_name(testbed.air))
        # Let cancelled tasks finish so nothing leaks into the next scenario.
        await asyncio.sleep(0)

    async def restart_golden(self, testbed: Testbed) -> None:
        """A new ControllerApplication on the same air and network settings."""
        if testbed.air is None:
            raise BenchError(f"{testbed.name}: a simulated testbed without its air cannot restart the golden radio")
        if self.setup.dut_profile.network.forms:
            raise BenchError(f"{testbed.name}: the golden is a HAN device of the DUT's network here; restarting it "
                             "is not a case of this role")
        # A real coordinator keeps its frame counters and key table in non-volatile memory.
        old_security = testbed.app.node.security
        await testbed.golden.close()
        await testbed.app.shutdown()
        testbed.app = await self._new_app(testbed.air)
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

    async def close(self) -> None:
        """Nothing outlives the scenarios in simulation: each testbed took its network down."""


# Self-test hook: SE_SIM_RADIO_FAILURES=N makes the simulated golden radio fail its first N transmissions of the
# process, as a USB radio that drops off the bus does, so the self-tests can show that a bench fault is retried
# and reported as an error, never as a DUT failure. Read at the first radio's start, not at import: the
# self-tests' fork server imports this module once for many runs, each with its own environment.
_RADIO_FAILURES: dict[str, int] = {}


def _inject_radio_failures(app: Any) -> None:  # app: a zigpy ControllerApplication whose send is replaced
    if "left" not in _RADIO_FAILURES:
        _RADIO_FAILURES["left"] = int(os.environ.get("SE_SIM_RADIO_FAILURES", "0") or 0)
    if _RADIO_FAILURES["left"] <= 0:
        return
    send = app.send_packet

    async def failing_send(packet: object) -> object:
        if _RADIO_FAILURES["left"] > 0:
            _RADIO_FAILURES["left"] -= 1
            raise BenchError("simulated golden radio: the radio stopped answering (self-test fault injection)")
        return await send(packet)

    app.send_packet = failing_send

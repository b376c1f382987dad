"""What every reference device is: a simulated node, a ZCL engine on its SE endpoint, and seeded faults.

The device is driven only through its control actions (join, rejoin, factory reset, user actions), the way a
vendor's CLI or an operator drives a real DUT; the suite judges it only by what it puts on the air.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping
from typing import ClassVar

import zigpy.types as t
import zigpy.zdo.types as zdo_t

from harness.clock import Clock
from harness.ke import DeviceKeFaults, KeOutcome, KeTiming, KeyEstablishment, RetryPolicy
from harness.ke.material import KeMaterial
from harness.ke.sim import aps_ack_switch, find_key_establishment_server, ieee_resolver
from harness.profiles import DutProfile
from harness.rng import CaseRandom
from harness.se.clusters import Basic, Identify
from harness.se.clusters import KeyEstablishment as KeyEstablishmentCluster
from harness.se.datamodel import SE_PROFILE_ID, Side
from harness.sim.air import Air
from harness.sim.behaviour import StackBehaviour
from harness.sim.node import JoinError, Node, Role
from harness.zcl.store import AttributeStore

from .faults import Fault, select_faults
from .foundation import DeviceEngine, IdentifyServer
from .garbage import garbler_for

LOGGER = logging.getLogger(__name__)


class ReferenceDevice:
    """Base class; subclasses declare their clusters, attribute values and fault catalogue."""

    model: ClassVar[str]
    device_id: ClassVar[int]
    #: (cluster id, side) the SE endpoint carries.
    clusters: ClassVar[tuple[tuple[int, Side], ...]]
    #: fault name -> Fault: each declares what it seeds (harness/devices/faults.py).
    faults_catalogue: ClassVar[Mapping[str, Fault]] = {}
    #: Its place in the network: a router that joins (HAN devices), or the coordinator that forms it (an ESI).
    node_role: ClassVar[Role] = Role.ROUTER

    def __init__(self, air: Air, profile: DutProfile, clock: Clock, faults: tuple[str, ...] = (), *,
                 rng: CaseRandom | None = None) -> None:
        self.profile = profile
        # The case's random state (harness/rng.py); without one (self-tests), fixed seeds per model.
        self.rng = rng
        # The faults chosen (names, checked when the options were parsed) and, derived from what each declares
        # it seeds, the settings of the stack, of key establishment and of the garbler; subclasses derive
        # their clients' and server's settings from self.faults the same way.
        self.faults = select_faults(self.model, faults, self.faults_catalogue)
        self.clock = clock
        self.endpoint = profile.endpoint
        self.ieee = int(str(profile.identity.ieee).replace(":", ""), 16)
        self.link_key = profile.install_code_value.link_key
        self.node = Node(air, self.ieee, self.node_role, tc_link_key=self.link_key,
                         behaviour=self.faults.settings(StackBehaviour), clock=clock,
                         manufacturer_code=profile.identity.manufacturer_code or 0x0000)
        self.node.garbler = garbler_for(self.faults)  # its garbage faults' malformed frames (garbage.py)
        self.store = self.build_store()
        self._factory_values = self.store.snapshot()  # what a factory reset puts back
        # The shared ZCL engine, bent only where a foundation fault of the catalogue says (foundation.py).
        self.engine = DeviceEngine(self.node.send_packet, store=self.store, faults=self.faults)
        if (Identify.cluster_id, Side.SERVER) in self.clusters:
            IdentifyServer(self.engine, self.store, self.endpoint)
        self.node.add_endpoint(self.simple_descriptor())
        self.node.add_packet_listener(self._packet)
        self._tasks: set[asyncio.Task] = set()
        self.powered = True
        self.join_error: str | None = None
        # Key Establishment: attached by provision_key_establishment (the bench hands over the certificates).
        self.ke: KeyEstablishment | None = None
        self.ke_engine = None  # the SoftwareKeEngine holding its certificates (provision_key_establishment)
        self.ke_outcome: KeOutcome | None = None

    # -- composition, overridden by models -------------------------------------------------------------

    def attribute_values(self) -> dict[tuple[int, Side], dict[int, object]]:
        return {}

    def identity_attributes(self, **basic: object) -> dict[tuple[int, Side], dict[int, object]]:
        """The Basic server every model serves from its profile's identity (names cut to the data model's 32
        characters, mains powered), plus `basic` (by attribute name), and the KE suite both its sides advertise."""
        identity, attrs = self.profile.identity, Basic.AttributeDefs
        suite = KeyEstablishmentCluster.AttributeDefs.key_establishment_suite
        values: dict[int, object] = {
            attrs.zcl_version.id: 0x01, attrs.manufacturer_name.id: identity.manufacturer[:32],
            attrs.model_identifier.id: identity.model[:32], attrs.power_source.id: 0x01}
        values.update({getattr(attrs, name).id: value for name, value in basic.items()})
        return {
            (Basic.cluster_id, Side.SERVER): values,
            (KeyEstablishmentCluster.cluster_id, Side.SERVER): {suite.id: 0x0001},
            (KeyEstablishmentCluster.cluster_id, Side.CLIENT): {suite.id: 0x0001},
        }

    def empty_store(self) -> AttributeStore:
        """The store build_store fills (a model with attribute-table faults returns its faulty store)."""
        return AttributeStore()

    def build_store(self) -> AttributeStore:
        store = self.empty_store()
        values = self.attribute_values()
        for cluster_id, side in self.clusters:
            store.add_cluster(self.endpoint, cluster_id, side, values=values.get((cluster_id, side)))
        return store

    def simple_descriptor(self) -> zdo_t.SimpleDescriptor:
        return zdo_t.SimpleDescriptor(
            endpoint=self.endpoint, profile=SE_PROFILE_ID, device_type=self.device_id, device_version=0,
            input_clusters=[c for c, side in self.clusters if side == Side.SERVER],
            output_clusters=[c for c, side in self.clusters if side == Side.CLIENT],
        )

    # -- traffic -----------------------------------------------------------------------------------------

    def _packet(self, packet: t.ZigbeePacket) -> None:
        if packet.profile_id == SE_PROFILE_ID:
            # KE frames through the KE state machine (it answers malformed ones too), the rest to the engine.
            self._spawn(self.ke.handle(packet) if self.ke is not None else self.engine.handle(packet))

    def _spawn(self, coro) -> asyncio.Task:
        task = self.node.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- control actions (what a vendor CLI or an operator does) ------------------------------------------

    def start_joining(self, deadline: float = 60.0) -> None:
        """Begin joining in the background, as pressing the join button does; the outcome shows on the air."""
        LOGGER.info("reference %s starts joining", self.model)
        self._spawn(self._join(deadline))

    async def _join(self, deadline: float) -> None:
        try:
            await self.node.join(deadline=deadline)
            self.join_error = None
            LOGGER.info("reference %s joined as 0x%04X", self.model, self.node.nwk)
        except JoinError as exc:
            self.join_error = str(exc)
            LOGGER.info("reference %s did not join: %s", self.model, exc)
            return
        # SE 1.x 5.4.7: a joined device establishes its application link key with the Trust Center before it
        # starts its SE applications (subclasses continue after this returns).
        await self.establish_key()

    # -- Key Establishment -----------------------------------------------------------------------------

    def ke_device_faults(self) -> DeviceKeFaults:
        return self.faults.settings(DeviceKeFaults)

    def seed_for(self, purpose: str, default: int) -> int:
        """The seed of one of the device's generators: from the case's random state, else *default*."""
        return self.rng.seed_for(purpose) if self.rng is not None else default

    def provision_key_establishment(self, material: KeMaterial, suites: tuple[int, ...] = (1,)) -> None:
        """Give the device its certificates (minted by the bench's test CA for its IEEE) and attach the Key
        Establishment server and client to its SE endpoint; it advertises the PIXIT generate times."""
        faults = self.ke_device_faults()
        pixit = self.profile.pixit
        timing = KeTiming(
            ephemeral_data_generate_time=int(pixit["ephemeral_data_generate_time"].seconds)
            if "ephemeral_data_generate_time" in pixit else KeTiming.ephemeral_data_generate_time,
            confirm_key_generate_time=int(pixit["confirm_key_generate_time"].seconds)
            if "confirm_key_generate_time" in pixit else KeTiming.confirm_key_generate_time,
        )
        sides = {side for cluster_id, side in self.clusters if cluster_id == KeyEstablishmentCluster.cluster_id}
        # Ephemeral keys from the case's own stream: an exchange does not depend on the cases before it.
        self.ke_engine = material.engine(self.ieee, suites, faults,
                                         rng=self.rng.stream("ke:dut") if self.rng is not None else None)
        self.ke = KeyEstablishment(
            self.engine, self.endpoint, self.ke_engine,
            send=self.node.send_packet, ieee_of=ieee_resolver(self.node), install_key=self._install_link_key,
            server=Side.SERVER in sides, client=Side.CLIENT in sides or not sides, timing=timing, device=faults,
            set_aps_acks=aps_ack_switch(self.node),
        )
        # The suites it advertises (KeyEstablishmentSuite, set just now) are factory state: a reset keeps them.
        self._factory_values = self.store.snapshot()

    def _install_link_key(self, partner_ieee: int, key: bytes) -> None:
        self.node.set_link_key(partner_ieee, key)

    async def establish_key(self) -> KeOutcome | None:
        """Find the Trust Center's KE endpoint (Match_Desc) and run CBKE as initiator, retrying after
        NO_RESOURCES (after the wait time) and after a silent partner; the outcome shows on the air."""
        if self.ke is None or not self.node.joined:
            return None
        try:
            nwk, endpoint = await find_key_establishment_server(self.node)
        except Exception as exc:  # DiscoveryError or the node's own delivery error: the device gives up
            LOGGER.info("reference %s found no Key Establishment server: %s", self.model, exc)
            return None
        self.ke_outcome = await self.ke.establish(nwk, endpoint, retry=RetryPolicy())
        LOGGER.info("reference %s key establishment: %s", self.model, self.ke_outcome)
        return self.ke_outcome

    def start_rejoin(self, deadline: float = 60.0) -> None:
        self._spawn(self._rejoin(deadline))

    async def _rejoin(self, deadline: float) -> None:
        try:
            await self.node.rejoin(deadline=deadline)
        except JoinError as exc:
            self.join_error = str(exc)
            LOGGER.info("reference %s did not rejoin: %s", self.model, exc)

    def power_off(self) -> None:
        """The power fails (DUT control power_off): what runs stops and the radio goes silent; the stack's
        network settings, keys and frame counters are non-volatile (Node.power_off)."""
        if not self.powered:
            return
        LOGGER.info("reference %s: power off", self.model)
        self.powered = False
        for task in list(self._tasks):
            task.cancel()
        self.node.power_off()

    def power_on(self) -> None:
        """The power returns: the stack boots from non-volatile memory and is on the network again. (The
        application clients do not restart: no case judges them across a power cycle but OpenSEG's, whose model
        restarts its own.)"""
        if self.powered:
            return
        LOGGER.info("reference %s: power on", self.model)
        self.powered = True
        self.node.power_on()

    def factory_reset(self) -> None:
        LOGGER.info("reference %s factory reset", self.model)
        self.power_on()  # a device left powered off (a case that stopped half way) is reset with its power on
        for task in list(self._tasks):
            task.cancel()
        if self.ke is not None:
            self.ke.close()  # a running exchange ends with the network it belonged to
        self.node._reset_network(forget_keys=True)
        self.node.pan_id = None
        self.join_error = None
        self.store.restore(self._factory_values)  # attributes written since are back to their factory values

    def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self.ke is not None:
            self.ke.close()
        self.engine.close()
        self.node.radio.detach()


def replace_model(store: AttributeStore, endpoint: int, cluster_id: int, side: Side, attr_id: int, **changes) -> None:
    """Seed a fault by changing what the data model says of one attribute in this device's store."""
    from harness.zcl.store import AttributeKey

    entry = store.entry(AttributeKey(endpoint, cluster_id, side, attr_id))
    if entry is None:
        raise KeyError(f"attribute 0x{attr_id:04X} of cluster 0x{cluster_id:04X} {side} is not in the store")
    entry.model = dataclasses.replace(entry.model, **changes)
    if "writable" in changes:
        entry.writable = changes["writable"]

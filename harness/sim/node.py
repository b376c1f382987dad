"""A simulated Zigbee PRO node: MAC, NWK, APS and ZDO on the virtual air, byte-exact via harness.wire.frames.

Roles: coordinator (with the Trust Center, see harness.sim.trust_center), router, and end device with its
receiver on. The network is single hop: every node hears every other (the air decides losses), there is
no routing, no route discovery and no relaying; devices join the coordinator directly.

Modelled:
- MAC: data frames between short addresses, beacon request / beacon, association request / response
  (sent directly: receivers are on, so no indirect transmission), MAC acks and retries (macMaxFrameRetries
  = 3, macAckWaitDuration; added link latency beyond the ack wait causes retries, as on real air).
- NWK: data and commands (leave, rejoin request / response), NWK security with the active network key,
  an outgoing frame counter and per-source incoming counters with replay rejection.
- APS: data with acks and retries (apscMaxFrameRetries = 3, apsAckWaitDuration on the loop clock),
  duplicate rejection, APS security with link keys (data key) and the key-transport key, commands
  Transport Key, Update Device, Request Key and Switch Key.
- ZDO server (harness.sim.zdo), Device_annce after join and rejoin.

Application interface: endpoints with simple descriptors, APS data in and out as zigpy ZigbeePacket
(tx_options carries APS_Encryption on frames that were APS-encrypted), per-partner link keys
(set_link_key), and join / leave / rejoin coroutines with deadlines.

Frames a node rejects are counted in :attr:`Node.stats` (e.g. ``nwk_replay_rejected``) so the harness can
see why something was dropped.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import functools
import logging
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import zigpy.types as t
import zigpy.zdo.types as zdo_t
from zigpy.zdo.types import ZDOCmd

from harness.clock import Clock
from harness.crypto import WELL_KNOWN_TC_LINK_KEY, AuthenticationError, SecurityLevel
from harness.wire.frames.aps import (
    ApsFrame,
    ApsFrameType,
    DeliveryMode,
    KeyType,
    RemoveDevice,
    RequestKey,
    SwitchKey,
    TransportKey,
    UpdateDevice,
    parse_aps_command,
)
from harness.wire.frames.errors import FrameError
from harness.wire.frames.mac import (
    ACK_PSDUS,
    AddrMode,
    AssociationRequest,
    AssociationResponse,
    AssociationStatus,
    Beacon,
    BeaconRequest,
    CapabilityInformation,
    MacFrame,
    MacFrameType,
    ZigbeeBeaconPayload,
    beacon_request_frame,
    parse_mac_command,
)
from harness.wire.frames.nwk import (
    Leave,
    NwkFrame,
    NwkFrameType,
    RejoinRequest,
    RejoinResponse,
    RejoinStatus,
    parse_nwk_command,
)
from harness.wire.frames.types import BROADCAST_ADDR, NO_SHORT_ADDRESS, format_ieee, ieee_to_eui64
from harness.wire.material import LinkKeyEntry, SecurityMaterial
from harness.wire.security import DEFAULT_LEVEL, KeyId, secure_aps, secure_nwk, unsecure_aps, unsecure_nwk

from . import zdo
from .air import Air
from .behaviour import CONFORMANT, Garbler, StackBehaviour

LOGGER = logging.getLogger(__name__)

NWK_BROADCASTS = (0xFFFF, 0xFFFD, 0xFFFC, 0xFFFB)
COORDINATOR_NWK = 0x0000

# macMaxFrameRetries (802.15.4-2006 Table 86) and macAckWaitDuration: 54 symbols of 16 us at 2.4 GHz
# (aUnitBackoffPeriod 20 + aTurnaroundTime 12 + phySHRDuration 10 + 6 octets * 2 symbols).
MAC_MAX_FRAME_RETRIES = 3
MAC_ACK_WAIT_DURATION = 54 * 16e-6
APSC_MAX_FRAME_RETRIES = 3  # Zigbee spec Table 2.23
# apsAckWaitDuration = 0.05 * (2 * nwkcMaxDepth) s with nwkcMaxDepth 15, plus security processing
# (Zigbee spec Table 2.24): 1.5 s; this single-hop network has no extra processing delay to add.
APS_ACK_WAIT_DURATION = 1.5
# Active scan of one channel with scan duration 3: aBaseSuperframeDuration * (2^3 + 1) symbols of 16 us.
BEACON_SCAN_DURATION = 960 * (2**3 + 1) * 16e-6
# macResponseWaitTime: 32 * aBaseSuperframeDuration symbols (802.15.4-2006 Table 86).
MAC_RESPONSE_WAIT_TIME = 32 * 960 * 16e-6
# How long a joined-by-association device waits for the network key (apsSecurityTimeOutPeriod-like; the
# Trust Center answers at once in simulation, so this only bounds a join that will never complete).
NETWORK_KEY_WAIT = 5.0
JOIN_SCAN_ATTEMPTS = 3
# A device that left with Rejoin set rejoins this long after its leave command (its own choice; the spec sets
# no delay), within this deadline.
LEAVE_REJOIN_DELAY = 0.5
LEAVE_REJOIN_DEADLINE = 30.0
# How long a secured rejoin request waits for its rejoin response before the device tries a Trust Center
# rejoin (its own choice: macResponseWaitTime-scale waits are far shorter; stacks wait seconds).
SECURED_REJOIN_WAIT = 5.0
APS_DUPLICATE_WINDOW = 10.0  # seconds a (source, APS counter) pair is remembered for duplicate rejection
APS_DUPLICATE_TABLE_DEPTH = 8  # counters remembered per source (the 8-bit counter wraps quickly under load)


_APS_ENCRYPTION = t.TransmitOptions.APS_Encryption.value
_APS_ACK = t.TransmitOptions.ACK.value
_NWK_ADDRESSES: dict[int, t.AddrModeAddress] = {}


def _no_power(psdu: bytes) -> float:
    """A powered-off radio's transmit: nothing goes on the air."""
    return 0.0


class Role(enum.Enum):
    COORDINATOR = "coordinator"
    ROUTER = "router"
    END_DEVICE = "end device"


class NodeError(Exception):
    """A stack operation that cannot be done (not joined, no key for the partner, ...)."""


class JoinError(NodeError):
    """Joining or rejoining did not complete; the message says at which step."""


class ApsDeliveryError(NodeError):
    """An APS frame requesting an ack was not acknowledged after all retries. ``mac_acked``: the destination's
    MAC acknowledged at least one transmission (the frame reached it; its APS layer did not take it)."""

    def __init__(self, message: str, *, mac_acked: bool = False) -> None:
        super().__init__(message)
        self.mac_acked = mac_acked


@dataclass
class _Association:
    future: asyncio.Future


class TrustCenterHooks(Protocol):
    """What a coordinator's stack hands its Trust Center: association and rejoin requests, announcements, leaves
    and the APS commands a Trust Center answers (Request Key, Update Device)."""

    devices: dict[int, Any]  # IEEE -> its record of the device (with the device's ``nwk``)

    def association_request(self, ieee: int, capability: CapabilityInformation) -> None: ...

    def rejoin_request(self, nwk: int, ieee: int | None, secured: bool) -> None: ...

    def device_announced(self, nwk: int, ieee: int) -> None: ...

    def device_left(self, nwk: int, ieee: int | None, rejoin: bool) -> None: ...

    def aps_command(self, nwk: int, ieee: int | None, command: Any) -> None: ...


class Node:
    """One simulated node on the air. Addresses are ints (see harness.wire.frames.types)."""

    def __init__(
        self,
        air: Air,
        ieee: int,
        role: Role = Role.END_DEVICE,
        *,
        tc_link_key: bytes | None = None,
        behaviour: StackBehaviour = CONFORMANT,
        manufacturer_code: int = 0x0000,
        clock: Clock | None = None,
    ) -> None:
        self.air = air
        self.ieee = ieee
        self.role = role
        self.behaviour = behaviour
        self.manufacturer_code = manufacturer_code
        self.clock = clock
        self.security = SecurityMaterial(preconfigured_tc_link_key=tc_link_key)
        self.radio = air.attach(ieee)
        self.radio.on_receive = self._mac_receive
        self.pan_id: int | None = None
        self.extended_pan_id: int | None = None
        self.nwk: int = NO_SHORT_ADDRESS
        self.joined = False
        self.endpoints: dict[int, zdo_t.SimpleDescriptor] = {}
        self.address_map: dict[int, int] = {}  # NWK address -> IEEE
        #: What the stack did with frames, by event ("aps_auth_failed", "nwk_replay_rejected", ...).
        self.stats: Counter[str] = Counter()
        self._count_listeners: list[Callable[[str], None]] = []
        self.zdo = zdo.ZdoServer(
            zdo.ZdoContext(
                ieee=lambda: self.ieee,
                nwk=lambda: self.nwk,
                node_descriptor=self.node_descriptor,
                endpoints=lambda: self.endpoints,
                capability=lambda: self.capability.to_byte(),
                leave=self._zdo_leave,
                permit_joining=self.permit_joining,
                power_descriptor=self.power_descriptor,
            )
        )
        self._packet_listeners: list[Callable[[t.ZigbeePacket], None]] = []
        self._aps_pending: dict[tuple[int, int], asyncio.Future] = {}
        self._mac_pending: dict[int, int] = {}  # MAC sequence number -> retries so far, until acked
        self._mac_timers: dict[int, asyncio.TimerHandle] = {}  # MAC sequence number -> its ack wait
        #: MAC sequence number -> where to note its acknowledgement (aps_send_reliably watches its own frames,
        #: so an APS delivery failure says whether the frame reached the destination at all).
        self._mac_watch: dict[int, list[int]] = {}
        self._aps_seen: dict[int, deque[tuple[int, float]]] = {}
        self._beacons: list[tuple[MacFrame, Beacon]] = []
        self._association: asyncio.Future | None = None
        self._rejoin: asyncio.Future | None = None
        self._network_key_event: asyncio.Event | None = None
        self._permit_until = 0.0
        # Set on a coordinator by its Trust Center (harness.sim.trust_center, a reference ESI's own).
        self.trust_center: TrustCenterHooks | None = None
        self.garbler: Garbler | None = None  # a reference device's garbage faults; None on a conformant stack
        self._rejoin_task: asyncio.Task | None = None  # the rejoin after a leave with Rejoin set
        self._left_listeners: list[Callable[[bool], None]] = []  # told (with the Rejoin bit) when this node leaves

    def on_left(self, listener: Callable[[bool], None]) -> None:
        """Call *listener* (with whether it will rejoin) each time this node leaves its network: told to (a leave
        request, Mgmt_Leave_req, Remove Device) or of its own accord."""
        self._left_listeners.append(listener)

    def on_count(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call *listener* with each event the stack counts in `stats`, as it happens; returns the unsubscribe."""
        self._count_listeners.append(listener)
        return lambda: self._count_listeners.remove(listener)

    def _count(self, event: str) -> None:
        self.stats[event] += 1
        for listener in list(self._count_listeners):
            listener(event)

    # -- identity --------------------------------------------------------------------------------------

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self.air.loop

    @property
    def capability(self) -> CapabilityInformation:
        router = self.role != Role.END_DEVICE
        return CapabilityInformation(
            full_function_device=router, mains_powered=router, rx_on_when_idle=True, allocate_address=True
        )

    def node_descriptor(self) -> zdo_t.NodeDescriptor:
        logical = {
            Role.COORDINATOR: zdo_t.LogicalType.Coordinator,
            Role.ROUTER: zdo_t.LogicalType.Router,
            Role.END_DEVICE: zdo_t.LogicalType.EndDevice,
        }[self.role]
        return zdo_t.NodeDescriptor(
            logical_type=logical,
            complex_descriptor_available=0,
            user_descriptor_available=0,
            reserved=0,
            aps_flags=0,
            frequency_band=zdo_t.NodeDescriptor.FrequencyBand.Freq2400MHz,
            mac_capability_flags=self.capability.to_byte(),
            manufacturer_code=self.manufacturer_code,
            maximum_buffer_size=82,
            maximum_incoming_transfer_size=82,
            # Server mask bit 0: primary Trust Center; stack compliance revision 22 in bits 9-15.
            server_mask=(0x0001 if self.role == Role.COORDINATOR else 0) | (22 << 9),
            maximum_outgoing_transfer_size=82,
            descriptor_capability_field=0,
        )

    def power_descriptor(self) -> zdo_t.PowerDescriptor:
        """The Node Power Descriptor (Zigbee 2.3.2.4): the receiver follows the node descriptor's receiver-on-when-
        idle (mode 0); a mains-powered node runs on constant power at 100 %, any other on a rechargeable battery."""
        power = zdo_t.PowerDescriptor
        mains = self.capability.mains_powered
        if not self.behaviour.power_descriptor_as_capability:  # seeded non-conformance: a battery product's
            return power(current_power_mode=power.CurrentPowerMode.RxOnSyncedWithNodeDesc,
                         available_power_sources=power.PowerSources.DisposableBattery,
                         current_power_source=power.PowerSources.DisposableBattery,
                         current_power_source_level=power.PowerSourceLevel.Percent33)
        source = power.PowerSources.MainsPower if mains else power.PowerSources.RechargeableBattery
        return power(current_power_mode=power.CurrentPowerMode.RxOnSyncedWithNodeDesc, available_power_sources=source,
                     current_power_source=source, current_power_source_level=power.PowerSourceLevel.Percent100)

    def add_endpoint(self, descriptor: zdo_t.SimpleDescriptor) -> None:
        # 1..240 are application endpoints; 241..254 are reserved ones such as Green Power's 242.
        if not 1 <= descriptor.endpoint <= 254:
            raise NodeError(f"endpoint {descriptor.endpoint} is outside 1..254")
        self.endpoints[descriptor.endpoint] = descriptor

    def add_packet_listener(self, listener: Callable[[t.ZigbeePacket], None]) -> Callable[[], None]:
        """Call *listener* with every APS data frame delivered to this node (ZDO included)."""
        self._packet_listeners.append(listener)
        return lambda: self._packet_listeners.remove(listener) if listener in self._packet_listeners else None

    def set_link_key(self, partner_ieee: int, key: bytes) -> None:
        """Use *key* for APS security with *partner_ieee* from now on (e.g. after CBKE)."""
        if len(key) != 16:
            raise NodeError(f"a link key is 16 bytes, got {len(key)}")
        self.security.link_keys[partner_ieee] = LinkKeyEntry(bytes(key))

    def link_key(self, partner_ieee: int) -> bytes | None:
        entry = self.security.link_keys.get(partner_ieee)
        return entry.key if entry else None

    def __repr__(self) -> str:
        return f"<Node {format_ieee(self.ieee)} {self.role.value} nwk=0x{self.nwk:04X} joined={self.joined}>"

    def _now(self) -> datetime:
        return self.clock.now() if self.clock is not None else datetime.fromtimestamp(self.loop.time(), UTC)

    # -- network formation (coordinator) --------------------------------------------------------------

    def form(self, pan_id: int, extended_pan_id: int, network_key: bytes, key_seq: int = 0) -> None:
        if self.role != Role.COORDINATOR:
            raise NodeError("only a coordinator forms a network")
        self.pan_id, self.extended_pan_id, self.nwk = pan_id, extended_pan_id, COORDINATOR_NWK
        self.security.network_keys = {key_seq: bytes(network_key)}
        self.security.active_key_seq = key_seq
        self.joined = True

    def permit_joining(self, duration: int) -> None:
        """Open (or with 0 close) the permit-join window for *duration* seconds (0xFF: until closed)."""
        self._permit_until = float("inf") if duration == 0xFF else self.loop.time() + duration

    @property
    def permitting(self) -> bool:
        return self.joined and self.role != Role.END_DEVICE and self.loop.time() < self._permit_until

    # -- MAC -------------------------------------------------------------------------------------------

    def _mac_transmit(self, frame: MacFrame) -> None:
        psdu = frame.serialize()
        airtime = self.radio.transmit(psdu)
        if frame.ack_request:
            self._mac_pending[frame.seq] = 0
            self._mac_timers[frame.seq] = self.loop.call_later(
                airtime + MAC_ACK_WAIT_DURATION, self._mac_ack_timeout, frame.seq, psdu)

    def _mac_acked(self, seq: int) -> None:
        if self._mac_pending.pop(seq, None) is not None:
            watch = self._mac_watch.pop(seq, None)
            if watch is not None:
                watch.append(seq)
            # The ack wait is over: cancel its timer rather than let it fire for nothing (a cancelled timer
            # costs the loop no iteration).
            timer = self._mac_timers.pop(seq, None)
            if timer is not None:
                timer.cancel()

    def _mac_ack_timeout(self, seq: int, psdu: bytes) -> None:
        self._mac_timers.pop(seq, None)
        retries = self._mac_pending.get(seq)
        if retries is None:
            return  # acknowledged
        if retries >= MAC_MAX_FRAME_RETRIES:
            del self._mac_pending[seq]
            self._count("mac_no_ack")
            return
        self._mac_pending[seq] = retries + 1
        self._count("mac_retries")
        airtime = self.radio.transmit(psdu)
        self._mac_timers[seq] = self.loop.call_later(airtime + MAC_ACK_WAIT_DURATION, self._mac_ack_timeout, seq, psdu)

    def _mac_receive(self, psdu: bytes, lqi: int, rssi: int) -> None:
        if len(psdu) == 5 and psdu == ACK_PSDUS[psdu[2]]:
            # An intact ack (half the frames on the air): matched against the table, nothing decoded.
            self._mac_acked(psdu[2])
            return
        try:
            frame = MacFrame.deserialize(psdu)
        except FrameError:
            self._count("mac_dropped_malformed")
            return
        if frame.frame_type == MacFrameType.ACK:
            self._mac_acked(frame.seq)
            return
        if frame.dst_mode != AddrMode.NONE:
            if frame.dst_pan not in (BROADCAST_ADDR, self.pan_id):
                return
            if frame.dst_mode == AddrMode.SHORT and frame.dst_addr not in (BROADCAST_ADDR, self.nwk):
                return
            if frame.dst_mode == AddrMode.EXTENDED and frame.dst_addr != self.ieee:
                return
        if frame.ack_request and self.behaviour.send_mac_acks:
            self.radio.transmit(ACK_PSDUS[frame.seq])  # an ack requests no ack: straight onto the air
        try:
            if frame.frame_type == MacFrameType.DATA:
                self._nwk_receive(frame, lqi, rssi)
            elif frame.frame_type == MacFrameType.COMMAND:
                self._mac_command(frame, parse_mac_command(frame.payload))
            elif frame.frame_type == MacFrameType.BEACON:
                self._beacons.append((frame, Beacon.deserialize(frame.payload)))
        except FrameError as exc:
            self._count("dropped_malformed")
            LOGGER.debug("%r dropped a malformed frame: %s", self, exc)

    def _mac_command(self, frame: MacFrame, command) -> None:
        if isinstance(command, BeaconRequest):
            if self.joined and self.role != Role.END_DEVICE:
                self._send_beacon()
        elif isinstance(command, AssociationRequest):
            if self.trust_center is not None and frame.src_mode == AddrMode.EXTENDED:
                self.trust_center.association_request(frame.src_addr, command.capability)
        elif isinstance(command, AssociationResponse):
            if self._association is not None and not self._association.done():
                self._association.set_result((frame.src_addr, command))

    def _send_beacon(self) -> None:
        payload = ZigbeeBeaconPayload(
            extended_pan_id=self.extended_pan_id or 0,
            router_capacity=self.permitting,
            end_device_capacity=self.permitting,
            device_depth=0 if self.role == Role.COORDINATOR else 1,
        ).serialize()
        beacon = Beacon(
            association_permit=self.permitting, pan_coordinator=self.role == Role.COORDINATOR, payload=payload
        )
        frame = MacFrame(
            MacFrameType.BEACON,
            self.security.next_mac_seq(),
            src_mode=AddrMode.SHORT,
            src_pan=self.pan_id,
            src_addr=self.nwk,
            payload=beacon.serialize(),
        )
        self._mac_transmit(frame)

    def send_association_response(self, device_ieee: int, short_address: int, status: AssociationStatus) -> None:
        frame = MacFrame(
            MacFrameType.COMMAND,
            self.security.next_mac_seq(),
            AddrMode.EXTENDED,
            self.pan_id,
            device_ieee,
            AddrMode.EXTENDED,
            self.pan_id,
            self.ieee,
            AssociationResponse(short_address, status).serialize(),
            ack_request=True,
        )
        self._mac_transmit(frame)

    # -- NWK -------------------------------------------------------------------------------------------

    def nwk_send(
        self,
        dst: int,
        payload: bytes,
        frame_type: NwkFrameType = NwkFrameType.DATA,
        *,
        secure: bool = True,
        dst_ieee: int | None = None,
        radius: int = 30,
    ) -> None:
        """Send a NWK frame (single hop: the MAC destination is the NWK destination)."""
        self._nwk_transmit(dst, self._nwk_bytes(dst, payload, frame_type, secure=secure, dst_ieee=dst_ieee,
                                                radius=radius))

    def _nwk_bytes(
        self, dst: int, payload: bytes, frame_type: NwkFrameType = NwkFrameType.DATA, *, secure: bool = True,
        dst_ieee: int | None = None, radius: int = 30,
    ) -> bytes:
        """The NWK frame to *dst* as it goes on the air (NWK-secured when *secure*)."""
        frame = NwkFrame(
            frame_type, dst, self.nwk, self.security.next_nwk_seq(), payload, radius=radius,
            dst_ieee=dst_ieee, src_ieee=self.ieee,
        )
        if secure:
            key = self.security.network_key
            if key is None:
                raise NodeError(f"{self!r} has no network key to secure a NWK frame")
            behaviour = self.behaviour
            level = DEFAULT_LEVEL if behaviour.mic_on_broadcasts or dst not in NWK_BROADCASTS else SecurityLevel.ENC
            return secure_nwk(
                frame, key, self.security.next_nwk_tx_counter(), self.ieee, self._aux_key_seq(), level,
                on_air_level=0 if behaviour.zero_level_on_air else level,
            )
        return frame.serialize()

    def _nwk_transmit(self, dst: int, nwk_bytes: bytes) -> None:
        mac_dst = BROADCAST_ADDR if dst in NWK_BROADCASTS else dst
        self._mac_transmit(MacFrame.data(self.security.next_mac_seq(), self.pan_id, mac_dst, self.nwk, nwk_bytes))

    def _aux_key_seq(self) -> int:
        seq = self.security.active_key_seq or 0
        return seq if self.behaviour.correct_key_sequence_number else (seq + 1) & 0xFF

    def _nwk_receive(self, mac: MacFrame, lqi: int, rssi: int) -> None:
        data = mac.payload
        parsed = NwkFrame.deserialize_header(data)
        header = parsed[0]
        if header.dst != self.nwk and header.dst not in NWK_BROADCASTS:
            return
        if header.src == self.nwk and self.joined:
            return
        nwk_secured = header.security
        if nwk_secured:
            keys = self.security.network_keys
            if not keys:
                self._count("nwk_dropped_no_key")
                return
            try:
                frame, aux = unsecure_nwk(data, lambda aux: keys.get(aux.key_seq) or next(iter(keys.values())),
                                          header=parsed)
            except AuthenticationError:
                self._count("nwk_auth_failed")
                return
            source_ieee = aux.source_ieee
            last = self.security.nwk_rx_counters.get(source_ieee)
            if last is not None and aux.frame_counter <= last and self.behaviour.replay_check:
                self._count("nwk_replay_rejected")
                LOGGER.debug("%r rejected NWK frame counter %d from %016x (last %d)", self, aux.frame_counter, source_ieee, last)
                return
            self.security.nwk_rx_counters[source_ieee] = aux.frame_counter
        else:
            frame = NwkFrame.deserialize(data)
            source_ieee = frame.src_ieee
            if self.joined and not self._unsecured_nwk_allowed(frame):
                self._count("nwk_unsecured_dropped")
                return
        if source_ieee is not None:
            self.address_map[frame.src] = source_ieee
        if frame.frame_type == NwkFrameType.COMMAND:
            self._nwk_command(frame, parse_nwk_command(frame.payload), nwk_secured)
        elif frame.frame_type == NwkFrameType.DATA:
            self._aps_receive(frame, source_ieee, nwk_secured, lqi, rssi)

    def _unsecured_nwk_allowed(self, frame: NwkFrame) -> bool:
        # A joined node takes unsecured NWK frames only for a Trust Center rejoin (Zigbee 4.6.3.3).
        if frame.frame_type != NwkFrameType.COMMAND or not frame.payload:
            return False
        command_id = frame.payload[0]
        return (self.role == Role.COORDINATOR and command_id == RejoinRequest.command_id) or (
            self._rejoin is not None and command_id == RejoinResponse.command_id
        )

    def _nwk_command(self, frame: NwkFrame, command, secured: bool) -> None:
        if isinstance(command, Leave):
            if command.request:
                if frame.dst == self.nwk and self.behaviour.obey_leave and self.role != Role.COORDINATOR:
                    self.loop.call_soon(functools.partial(self._leave_now, command.rejoin, requested=True))
            elif self.trust_center is not None:
                self.trust_center.device_left(frame.src, frame.src_ieee, command.rejoin)
        elif isinstance(command, RejoinRequest):
            if self.trust_center is not None:
                self.trust_center.rejoin_request(frame.src, frame.src_ieee, secured)
        elif isinstance(command, RejoinResponse):
            if self._rejoin is not None and not self._rejoin.done():
                self._rejoin.set_result(command)

    # -- APS -------------------------------------------------------------------------------------------

    def _link_entry(self, partner_ieee: int | None) -> LinkKeyEntry | None:
        if partner_ieee is None:
            return None
        return self.security.link_keys.get(partner_ieee)

    def aps_send_frame(
        self,
        dst_nwk: int,
        frame: ApsFrame,
        *,
        encrypt_key: bytes | None = None,
        key_id: KeyId = KeyId.DATA,
        counter_entry: LinkKeyEntry | None = None,
        nwk_secure: bool = True,
    ) -> None:
        """Put one APS frame on the air, APS-secured with *encrypt_key* when given."""
        garbler = self.garbler
        sent = frame if garbler is None else dataclasses.replace(frame, payload=garbler.payload(frame))
        if encrypt_key is not None:
            entry = counter_entry
            counter = entry.tx_counter if entry else 0
            if entry:
                entry.tx_counter += 1
            aps_bytes = secure_aps(sent, encrypt_key, counter, self.ieee, key_id,
                                   on_air_level=0 if self.behaviour.zero_level_on_air else DEFAULT_LEVEL)
        else:
            aps_bytes = sent.serialize()
        if garbler is None:
            self.nwk_send(dst_nwk, aps_bytes, secure=nwk_secure)
            return
        nwk_bytes = self._nwk_bytes(dst_nwk, garbler.aps(frame, aps_bytes), secure=nwk_secure)
        self._nwk_transmit(dst_nwk, garbler.nwk(frame, nwk_bytes))

    async def aps_send_reliably(self, dst_nwk: int, frame: ApsFrame, **kwargs) -> None:
        """Send with an APS ack request; retry up to apscMaxFrameRetries; ApsDeliveryError if never acked."""
        frame.ack_request = True
        key = (dst_nwk, frame.counter)
        mac_acked: list[int] = []  # MAC sequence numbers of this frame's transmissions the destination acknowledged
        for attempt in range(1 + APSC_MAX_FRAME_RETRIES):
            future = self.loop.create_future()
            self._aps_pending[key] = future
            if attempt:
                self._count("aps_retries")
            self.aps_send_frame(dst_nwk, frame, **kwargs)
            mac_seq = self.security.mac_seq  # the MAC frame this attempt went out in
            if mac_seq in self._mac_pending:  # it asked for a MAC ack (a unicast)
                self._mac_watch[mac_seq] = mac_acked
            try:
                async with asyncio.timeout(APS_ACK_WAIT_DURATION):
                    await future
                return
            except TimeoutError:
                continue
            finally:
                self._aps_pending.pop(key, None)
                if self._mac_watch.get(mac_seq) is mac_acked:
                    del self._mac_watch[mac_seq]
        self._count("aps_delivery_failed")
        raise ApsDeliveryError(
            f"no APS ack from 0x{dst_nwk:04X} for counter {frame.counter} after {APSC_MAX_FRAME_RETRIES} retries",
            mac_acked=bool(mac_acked),
        )

    async def send_packet(self, packet: t.ZigbeePacket) -> None:
        """Send APS data described by a zigpy ZigbeePacket (unicast by NWK/IEEE address, or broadcast)."""
        if not self.joined:
            raise NodeError(f"{self!r} is not joined to a network")
        dst = packet.dst
        broadcast = False
        if dst.addr_mode == t.AddrMode.NWK:
            dst_nwk = int(dst.address)
        elif dst.addr_mode == t.AddrMode.IEEE:
            ieee = int.from_bytes(bytes(dst.address), "little")
            dst_nwk = next((n for n, i in self.address_map.items() if i == ieee), None)
            if dst_nwk is None:
                raise NodeError(f"no NWK address known for {format_ieee(ieee)}")
        elif dst.addr_mode == t.AddrMode.Broadcast:
            dst_nwk, broadcast = int(dst.address), True
        else:
            raise NodeError(f"addressing mode {dst.addr_mode!r} is not supported by the simulation")
        if dst_nwk == self.nwk:
            self._deliver_local(packet)
            return
        options = packet.tx_options.value  # plain int ops: Flag arithmetic costs microseconds per frame
        encrypt = bool(options & _APS_ENCRYPTION)
        entry = None
        if encrypt:
            partner = self.address_map.get(dst_nwk)
            entry = self._link_entry(partner)
            if entry is None:
                raise NodeError(f"no APS link key for destination 0x{dst_nwk:04X}")
        frame = ApsFrame.data(
            self.security.next_aps_counter(),
            packet.profile_id,
            packet.cluster_id,
            packet.src_ep,
            packet.dst_ep,
            packet.data.serialize() if hasattr(packet.data, "serialize") else bytes(packet.data),
            delivery_mode=DeliveryMode.BROADCAST if broadcast else DeliveryMode.UNICAST,
        )
        kwargs = {"encrypt_key": entry.key if entry else None, "counter_entry": entry}
        if broadcast or not options & _APS_ACK:
            self.aps_send_frame(dst_nwk, frame, **kwargs)
        else:
            await self.aps_send_reliably(dst_nwk, frame, **kwargs)

    def _deliver_local(self, packet: t.ZigbeePacket) -> None:
        # A node talking to itself (zigpy interviews its own coordinator): no air, straight up the stack.
        data = packet.data.serialize()
        incoming = t.ZigbeePacket(
            timestamp=self._now(),
            src=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=self.nwk),
            src_ep=packet.src_ep,
            dst=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=self.nwk),
            dst_ep=packet.dst_ep,
            profile_id=packet.profile_id,
            cluster_id=packet.cluster_id,
            data=t.SerializableBytes(data),
            lqi=255,
            rssi=0,
        )
        self.loop.call_soon(self._dispatch_data, incoming, self.nwk, False)

    def _aps_receive(self, nwk: NwkFrame, source_ieee: int | None, nwk_secured: bool, lqi: int, rssi: int) -> None:
        data = nwk.payload
        parsed = ApsFrame.deserialize_header(data)
        aps_secured = parsed[0].security
        key_id = None
        if aps_secured:
            frame, key_id = self._aps_unsecure(data, source_ieee, parsed)
            if frame is None:
                return
        else:
            frame = ApsFrame.deserialize(data)
        if frame.frame_type == ApsFrameType.ACK:
            future = self._aps_pending.get((nwk.src, frame.counter))
            if future is not None and not future.done():
                future.set_result(None)
            return
        if not nwk_secured and not (frame.frame_type == ApsFrameType.COMMAND and key_id == KeyId.KEY_TRANSPORT):
            # Without NWK security only the Trust Center's key transport may reach the APS layer.
            self._count("aps_unsecured_dropped")
            return
        if frame.ack_request and self.behaviour.send_aps_acks and frame.delivery_mode == DeliveryMode.UNICAST:
            ack = frame.ack_for()
            entry = self._link_entry(source_ieee) if key_id == KeyId.DATA else None
            self.aps_send_frame(
                nwk.src, ack, encrypt_key=entry.key if entry else None, counter_entry=entry, nwk_secure=nwk_secured
            )
        if self._aps_duplicate(nwk.src, frame.counter):
            self._count("aps_duplicates_rejected")
            return
        if frame.frame_type == ApsFrameType.COMMAND:
            self._aps_command(nwk, source_ieee, parse_aps_command(frame.payload), key_id)
            return
        if frame.frame_type != ApsFrameType.DATA:
            return
        dst_mode = t.AddrMode.Broadcast if nwk.dst in NWK_BROADCASTS else t.AddrMode.NWK
        packet = t.ZigbeePacket(
            timestamp=self._now(),
            src=self._nwk_address(nwk.src),
            src_ep=frame.src_endpoint,
            dst=self._nwk_address(nwk.dst) if dst_mode == t.AddrMode.NWK else t.AddrModeAddress(
                addr_mode=dst_mode, address=nwk.dst),
            dst_ep=frame.dst_endpoint,
            tsn=frame.counter,
            profile_id=frame.profile,
            cluster_id=frame.cluster,
            data=t.SerializableBytes(frame.payload),
            tx_options=t.TransmitOptions.APS_Encryption if aps_secured else t.TransmitOptions.NONE,
            radius=nwk.radius,
            lqi=lqi,
            rssi=rssi,
        )
        self._dispatch_data(packet, nwk.src, dst_mode == t.AddrMode.Broadcast)

    def _nwk_address(self, nwk: int) -> t.AddrModeAddress:
        """The (shared) zigpy address of a NWK short address for delivered packets: building one per frame
        was a large part of the receive path. Packets are read, never mutated, by their listeners."""
        address = _NWK_ADDRESSES.get(nwk)
        if address is None:
            address = _NWK_ADDRESSES[nwk] = t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=nwk)
        return address

    def _aps_duplicate(self, src_nwk: int, counter: int) -> bool:
        """Duplicate rejection table: the last few APS counters per source, each for a limited time."""
        now = self.loop.time()
        recent = self._aps_seen.get(src_nwk)
        if recent is None:
            recent = self._aps_seen[src_nwk] = deque(maxlen=APS_DUPLICATE_TABLE_DEPTH)
        duplicate = any(c == counter and now - seen < APS_DUPLICATE_WINDOW for c, seen in recent)
        if duplicate and self.behaviour.aps_duplicate_rejection:
            return True
        recent.append((counter, now))
        return False

    def _aps_unsecure(
        self, data: bytes, source_ieee: int | None, parsed: tuple[ApsFrame, int] | None = None
    ) -> tuple[ApsFrame | None, KeyId | None]:
        candidates: list[tuple[bytes, LinkKeyEntry | None]] = []
        entry = self._link_entry(source_ieee)
        if entry is not None:
            candidates.append((entry.key, entry))
        if not self.joined or self._rejoin is not None or entry is None:
            preconfigured = self.security.preconfigured_tc_link_key
            if preconfigured is not None and (entry is None or preconfigured != entry.key):
                candidates.append((preconfigured, None))
            if self.behaviour.accept_well_known_tc_key:
                candidates.append((WELL_KNOWN_TC_LINK_KEY, None))
        for key, key_entry in candidates:
            try:
                frame, aux = unsecure_aps(data, key, source_ieee, header=parsed)
            except AuthenticationError:
                continue
            sender = aux.source_ieee if aux.source_ieee is not None else source_ieee
            if key_entry is not None:
                if (key_entry.rx_counter is not None and aux.frame_counter <= key_entry.rx_counter
                        and self.behaviour.aps_replay_check):
                    self._count("aps_replay_rejected")
                    return None, None
                key_entry.rx_counter = aux.frame_counter
            elif sender is not None:
                self.security.link_keys[sender] = LinkKeyEntry(key, rx_counter=aux.frame_counter)
            return frame, aux.key_id
        self._count("aps_auth_failed")
        return None, None

    def _dispatch_data(self, packet: t.ZigbeePacket, src_nwk: int, broadcast: bool) -> None:
        if packet.dst_ep == zdo.ZDO_ENDPOINT and packet.profile_id == zdo.ZDO_PROFILE:
            self._zdo_receive(packet, src_nwk, broadcast)
        for listener in list(self._packet_listeners):
            listener(packet)

    def _zdo_receive(self, packet: t.ZigbeePacket, src_nwk: int, broadcast: bool) -> None:
        cluster = packet.cluster_id
        data = packet.data.serialize()
        if cluster == ZDOCmd.Device_annce:
            try:
                _tsn, (nwk, ieee, _cap) = zdo.decode(cluster, data)
            except zdo.ZdoError:
                self._count("zdo_dropped_malformed")
                return
            ieee_int = int.from_bytes(bytes(ieee), "little")
            self.address_map[int(nwk)] = ieee_int
            if self.trust_center is not None:
                self.trust_center.device_announced(int(nwk), ieee_int)
            return
        if not self.behaviour.zdo_server:
            return
        try:
            answer = self.zdo.handle(cluster, data, broadcast)
        except zdo.ZdoError:
            self._count("zdo_dropped_malformed")
            return
        if answer is None:
            return
        rsp_cluster, rsp = answer
        response = t.ZigbeePacket(
            src_ep=0,
            dst=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=src_nwk),
            dst_ep=0,
            profile_id=zdo.ZDO_PROFILE,
            cluster_id=rsp_cluster,
            data=t.SerializableBytes(rsp),
            tx_options=t.TransmitOptions.NONE,
        )
        if src_nwk == self.nwk:
            self._deliver_local(response)
        else:
            self.loop.create_task(self._send_quietly(response))

    async def _send_quietly(self, packet: t.ZigbeePacket) -> None:
        try:
            await self.send_packet(packet)
        except NodeError as exc:
            LOGGER.debug("%r could not send %s: %s", self, packet.cluster_id, exc)

    def _aps_command(self, nwk: NwkFrame, source_ieee: int | None, command, key_id: KeyId | None) -> None:
        if isinstance(command, TransportKey):
            self._transport_key(source_ieee, command, key_id)
        elif isinstance(command, SwitchKey):
            if self.behaviour.obey_switch_key and command.key_seq in self.security.network_keys:
                self.security.active_key_seq = command.key_seq
        elif isinstance(command, RemoveDevice):
            # Only the Trust Center, APS-secured with the link key (4.4.5.2); a target other than us would be a
            # child of ours, and nodes here have none.
            from_tc = source_ieee is not None and source_ieee == self.security.trust_center_ieee
            if (from_tc and key_id == KeyId.DATA and command.target_ieee == self.ieee and self.role == Role.ROUTER
                    and self.behaviour.obey_remove_device):
                self.loop.call_soon(self._leave_now, False)
        elif self.trust_center is not None and isinstance(command, RequestKey | UpdateDevice):
            self.trust_center.aps_command(nwk.src, source_ieee, command)

    def _transport_key(self, source_ieee: int | None, command: TransportKey, key_id: KeyId | None) -> None:
        if command.key_type != KeyType.STANDARD_NETWORK_KEY:
            if command.key_type == KeyType.TRUST_CENTER_LINK_KEY and source_ieee is not None:
                self.set_link_key(source_ieee, command.key)
            return
        if key_id != KeyId.KEY_TRANSPORT:
            self._count("transport_key_wrong_key_id")
            return
        if command.dst_ieee not in (self.ieee, 0, None):
            return
        self.security.network_keys[command.key_seq] = command.key
        if self.security.active_key_seq is None or not self.joined or self._rejoin is not None:
            self.security.active_key_seq = command.key_seq
            self.security.trust_center_ieee = command.src_ieee or source_ieee
            self.security.nwk_tx_counter = self.security.nwk_tx_counter  # counters continue across keys
            if self._network_key_event is not None:
                self._network_key_event.set()

    async def active_scan(self, duration: float) -> list[tuple[MacFrame, Beacon]]:
        """An active scan of this node's channel: a Beacon Request, then the beacons heard for *duration*
        seconds (802.15.4 MLME-SCAN, active), in the order they arrived."""
        heard = len(self._beacons)
        self._mac_transmit(beacon_request_frame(self.security.next_mac_seq()))
        await asyncio.sleep(duration)
        return self._beacons[heard:]

    # -- joining, leaving, rejoining (device side) -----------------------------------------------------

    async def join(self, deadline: float = 30.0, extended_pan_id: int | None = None) -> None:
        """Scan, associate with a permitting coordinator, wait for the network key, announce.

        Raises JoinError naming the step that failed; the node is left unjoined then.
        """
        if self.joined:
            raise JoinError(f"{self!r} is already joined")
        try:
            async with asyncio.timeout(deadline):
                await self._join(extended_pan_id)
        except TimeoutError:
            self._reset_network()
            raise JoinError(f"{format_ieee(self.ieee)} did not join within {deadline:g} s") from None
        except JoinError:
            self._reset_network()
            raise

    async def _join(self, extended_pan_id: int | None) -> None:
        heard = []
        for _scan in range(JOIN_SCAN_ATTEMPTS):  # beacons are not acknowledged: scan again when none came
            self._beacons = []
            self._mac_transmit(beacon_request_frame(self.security.next_mac_seq()))
            await asyncio.sleep(BEACON_SCAN_DURATION)
            for frame, beacon in self._beacons:
                try:
                    payload = beacon.zigbee
                except FrameError:
                    continue
                permitted = beacon.association_permit or not self.behaviour.associate_only_when_permitted
                if permitted and extended_pan_id in (None, payload.extended_pan_id):
                    heard.append((frame, payload, beacon.pan_coordinator))
            if heard:
                break
        # The coordinator first (a stable sort): a device that associates whatever the beacons say still asks
        # the Trust Center's own radio rather than a router that has no Trust Center behind it.
        candidates = [(frame, payload) for frame, payload, _coordinator in
                      sorted(heard, key=lambda candidate: not candidate[2])]
        if not candidates:
            raise JoinError(f"{format_ieee(self.ieee)} found no network permitting joins")
        parent, payload = candidates[0]
        self.pan_id, self.extended_pan_id = parent.src_pan, payload.extended_pan_id
        self._association = self.loop.create_future()
        self._network_key_event = asyncio.Event()
        request = MacFrame(
            MacFrameType.COMMAND,
            self.security.next_mac_seq(),
            AddrMode.SHORT,
            self.pan_id,
            parent.src_addr,
            AddrMode.EXTENDED,
            BROADCAST_ADDR,
            self.ieee,
            AssociationRequest(self.capability).serialize(),
            ack_request=True,
            pan_id_compression=False,
        )
        self._mac_transmit(request)
        try:
            async with asyncio.timeout(MAC_RESPONSE_WAIT_TIME * 4):
                parent_ieee, response = await self._association
        except TimeoutError:
            raise JoinError(f"{format_ieee(self.ieee)} got no association response") from None
        finally:
            self._association = None
        if response.status != AssociationStatus.SUCCESS:
            raise JoinError(f"{format_ieee(self.ieee)} association refused: {response.status.name}")
        self.nwk = response.short_address
        self.address_map[parent.src_addr] = parent_ieee
        try:
            async with asyncio.timeout(NETWORK_KEY_WAIT):
                await self._network_key_event.wait()
        except TimeoutError:
            if self.behaviour.stay_silent_without_network_key:
                raise JoinError(
                    f"{format_ieee(self.ieee)} received no network key it could decrypt with its link key"
                ) from None
            # Seeded non-conformance: carry on as if joined, announcing without NWK security.
            self._network_key_event = None
            self.joined = True
            self.announce(secure=False)
            return
        finally:
            self._network_key_event = None
        self.joined = True
        self.announce()

    def announce(self, secure: bool = True) -> None:
        """Broadcast ZDO Device_annce (unless the behaviour skips it)."""
        if not self.behaviour.send_device_annce:
            return
        self.security.zdo_tsn = (self.security.zdo_tsn + 1) & 0xFF
        capability = self.capability
        if not self.behaviour.announce_association_capability:  # seeded non-conformance: announces "battery"
            capability = dataclasses.replace(capability, mains_powered=False)
        data = zdo.encode(ZDOCmd.Device_annce, self.security.zdo_tsn, t.NWK(self.nwk), ieee_to_eui64(self.ieee),
                          capability.to_byte())
        frame = ApsFrame.data(self.security.next_aps_counter(), zdo.ZDO_PROFILE, ZDOCmd.Device_annce, 0, 0, data,
                              delivery_mode=DeliveryMode.BROADCAST)
        self.aps_send_frame(0xFFFD, frame, nwk_secure=secure)

    async def leave(self, rejoin: bool = False) -> None:
        """Announce a NWK leave and forget the network (link keys stay)."""
        if not self.joined:
            raise NodeError(f"{self!r} is not joined")
        self._leave_now(rejoin)
        await asyncio.sleep(0)

    def _leave_now(self, rejoin: bool, remove_children: bool = False, *, requested: bool = False) -> None:
        """Leave; *requested*: told to by a leave request (Mgmt_Leave_req, a NWK leave request), which with
        Rejoin set means rejoining at once (Zigbee 2.4.3.3.5, 3.6.1.10), secured with the network key kept."""
        if not self.joined:
            return
        if requested and rejoin and not self.behaviour.rejoin_after_leave:  # seeded: the Rejoin bit is dropped
            rejoin = False
        self.nwk_send(0xFFFD, Leave(rejoin=rejoin, remove_children=remove_children).serialize(), NwkFrameType.COMMAND,
                      radius=1)
        # A device leaving to rejoin keeps its network key and address for a secured rejoin.
        self._reset_network(forget_keys=not rejoin)
        for listener in list(self._left_listeners):
            listener(rejoin)
        if requested and rejoin:
            self._rejoin_task = self.loop.create_task(self._rejoin_after_leave())

    async def _rejoin_after_leave(self) -> None:
        await asyncio.sleep(LEAVE_REJOIN_DELAY)
        try:
            await self.rejoin(deadline=LEAVE_REJOIN_DEADLINE)
        except JoinError as exc:
            LOGGER.info("%r did not rejoin after leaving: %s", self, exc)

    def _zdo_leave(self, rejoin: bool, remove_children: bool) -> bool:
        if remove_children and not self.behaviour.accept_remove_children:
            return False  # seeded non-conformance: answered NOT_SUPPORTED
        if self.behaviour.obey_leave and self.role != Role.COORDINATOR:
            # Leave after the Mgmt_Leave_rsp is on its way (it is sent in this same turn).
            self.loop.call_later(0.01, functools.partial(self._leave_now, rejoin, remove_children, requested=True))
        return True

    # -- power --------------------------------------------------------------------------------------------

    def power_off(self) -> None:
        """The power fails: the radio goes silent and deaf, what the stack held in RAM is lost (pending APS
        deliveries, the duplicate table); network settings, keys and frame counters are non-volatile."""
        self.radio.receiver_on = False
        self.radio.transmit = _no_power  # a dead radio sends nothing
        for timer in self._mac_timers.values():
            timer.cancel()
        self._mac_timers.clear()
        self._mac_pending.clear()
        self._mac_watch.clear()
        self._aps_seen.clear()
        for future in self._aps_pending.values():
            if not future.done():
                future.cancel()
        self._aps_pending.clear()
        if self._rejoin_task is not None:
            self._rejoin_task.cancel()

    def power_on(self) -> None:
        """The power returns: the stack boots from non-volatile memory and goes on where it was on the network."""
        if "transmit" in vars(self.radio):
            del self.radio.transmit  # the radio's own transmit again
        self.radio.receiver_on = True
        if not self.behaviour.persist_nwk_frame_counter:  # seeded non-conformance: the counter was in RAM only
            self.security.nwk_tx_counter = 0

    def _reset_network(self, forget_keys: bool = True) -> None:
        self.joined = False
        if forget_keys:
            self.nwk = NO_SHORT_ADDRESS
            self.security.forget_network()
        for future in self._aps_pending.values():
            if not future.done():
                future.cancel()
        self._aps_pending.clear()

    async def rejoin(self, deadline: float = 30.0, trust_center_rejoin: bool | None = None) -> None:
        """Rejoin the network we were on: secured with the network key when we still hold it, else a
        Trust Center rejoin (unsecured request, network key delivered under the TC link key)."""
        if self.pan_id is None:
            raise JoinError(f"{self!r} was never on a network; join first")
        if trust_center_rejoin is None:
            trust_center_rejoin = self.security.network_key is None
        try:
            async with asyncio.timeout(deadline):
                await self._rejoin_steps(trust_center_rejoin)
        except TimeoutError:
            raise JoinError(f"{format_ieee(self.ieee)} did not rejoin within {deadline:g} s") from None
        finally:
            self._rejoin = None
            self._network_key_event = None

    async def _rejoin_steps(self, trust_center_rejoin: bool) -> None:
        self._rejoin = self.loop.create_future()
        self._network_key_event = asyncio.Event()
        if self.nwk == NO_SHORT_ADDRESS:
            self.nwk = self._stable_short_address()
        if trust_center_rejoin:
            self.joined = False  # off the network until the Trust Center's key comes, unsecured at the NWK layer
        self.nwk_send(
            COORDINATOR_NWK, RejoinRequest(self.capability).serialize(), NwkFrameType.COMMAND,
            secure=not trust_center_rejoin, radius=1,
        )
        if trust_center_rejoin:
            response: RejoinResponse = await self._rejoin
        else:
            try:
                async with asyncio.timeout(SECURED_REJOIN_WAIT):
                    response = await asyncio.shield(self._rejoin)
            except TimeoutError:
                # Nobody read the secured request: the network key may have changed meanwhile.
                if not self.behaviour.trust_center_rejoin_fallback:  # seeded non-conformance
                    response = await self._rejoin_secured_again()
                else:
                    await self._rejoin_steps(trust_center_rejoin=True)
                    return
        if response.status != RejoinStatus.SUCCESS:
            raise JoinError(f"{format_ieee(self.ieee)} rejoin refused: {response.status.name}")
        self.nwk = response.network_address
        if trust_center_rejoin:
            await self._network_key_event.wait()
        self.joined = True
        self.announce()

    async def _rejoin_secured_again(self) -> RejoinResponse:
        """Repeat the secured rejoin under the network key held, until the rejoin's deadline."""
        assert self._rejoin is not None
        while True:
            self.nwk_send(COORDINATOR_NWK, RejoinRequest(self.capability).serialize(), NwkFrameType.COMMAND, radius=1)
            try:
                async with asyncio.timeout(SECURED_REJOIN_WAIT):
                    return await asyncio.shield(self._rejoin)
            except TimeoutError:
                continue

    def _stable_short_address(self) -> int:
        # A device rejoining without an address proposes one derived from its IEEE (the parent may change it).
        return (self.ieee ^ (self.ieee >> 16) ^ (self.ieee >> 32)) & 0xFFF7 or 0x0001

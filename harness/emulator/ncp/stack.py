"""What the EZSP commands do: an EmberZNet-like coordinator stack on a simulated :class:`Node`.

State is split like a real NCP's: *NVM* (network parameters, keys, frame counters, key table, the Trust
Center's device table) survives an ASH reset; the running network, endpoints, transient keys, policies and
permit-join do not. After a reset the network is down (the node is off the air) until ``networkInit``.

Trust Center decisions follow EmberZNet: a joining device gets the network key under its transient link key
(``addTransientLinkKey``, what ``permit_with_link_key`` installs) or the wildcard transient key
FF:FF:FF:FF:FF:FF:FF:FF; with neither the join is refused. The emulator never falls back to the well-known
key by itself.

CBKE: the emulator has a suite's CBKE libraries only when it was given the NCP's certificate and private key
for it (``setPreinstalledCbkeData`` for suite 1, the 283k1 values + ``savePreinstalledCbkeData283k1`` for suite
2, or the ``cbke`` argument); otherwise ``getLibraryStatus`` reports them absent, as on an NCP built without
them. generateCbkeKeys / calculateSmacs answer OPERATION_IN_PROGRESS and deliver their results in the
generateCbkeKeysHandler / calculateSmacsHandler callbacks (283k1 variants alike), as EmberZNet does;
clearTemporaryDataMaybeStoreLinkKey puts the new key in the key table for the partner its certificate names.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import bellows.types as t
import zigpy.types as zt
import zigpy.zdo.types as zdo_t

from harness.sim.air import Air
from harness.sim.node import ApsDeliveryError, Node, NodeError, Role
from harness.sim.trust_center import TrustCenter
from harness.wire.frames.types import eui64_to_ieee, ieee_to_eui64

from .cbke import CbkeData, CbkeLibrary, CbkeLibraryError

LOGGER = logging.getLogger(__name__)

WILDCARD_IEEE = 0xFFFFFFFFFFFFFFFF
NO_NODE_ID = 0xFFFE
#: Library ids and status of EmberZNet's getLibraryStatus (stack/include/library.h, ember-types.h):
#: the high bit of the status says present (1) or stub (0).
LIBRARY_CBKE = 0x06
LIBRARY_ECC = 0x08
LIBRARY_CBKE_DSA_VERIFY = 0x09
LIBRARY_CBKE_283K1 = 0x0D
LIBRARY_ECC_283K1 = 0x0E
LIBRARY_CBKE_CORE = 0x0F
SUITE1_LIBRARIES = (LIBRARY_CBKE, LIBRARY_ECC, LIBRARY_CBKE_DSA_VERIFY, LIBRARY_CBKE_CORE)
SUITE2_LIBRARIES = (LIBRARY_CBKE_283K1, LIBRARY_ECC_283K1)
LIBRARY_PRESENT = 0x80
LIBRARY_STUB = 0x00
VERSION_INFO = (6, 10, 3, 0, 297)  # major, minor, patch, special, build: EmberZNet 6.10.3 speaks EZSP v8
#: Configuration the emulator reports before the host sets anything (EmberZNet NCP defaults).
DEFAULT_CONFIG = {"CONFIG_SECURITY_LEVEL": 5, "CONFIG_KEY_TABLE_SIZE": 12, "CONFIG_ADDRESS_TABLE_SIZE": 16,
                  "CONFIG_MULTICAST_TABLE_SIZE": 16, "CONFIG_MAX_END_DEVICE_CHILDREN": 32,
                  "CONFIG_PACKET_BUFFER_COUNT": 255, "CONFIG_STACK_PROFILE": 2}


@dataclass
class Nvm:
    """What survives a reset of the NCP (its tokens)."""

    network: t.EmberNetworkParameters | None = None
    initial_security: t.EmberInitialSecurityState | None = None
    network_key: bytes | None = None
    key_seq: int = 0
    nwk_frame_counter: int = 0
    aps_frame_counter: int = 0
    key_table: dict[int, tuple[int, bytes]] = field(default_factory=dict)  # index -> (IEEE, key)
    devices: dict[int, int] = field(default_factory=dict)  # IEEE -> NWK of admitted devices
    link_keys: dict[int, bytes] = field(default_factory=dict)  # IEEE -> link key the Trust Center holds
    aps_security_counter: int = 0  # the one outgoing APS security frame counter of all link keys


class _EmulatedTrustCenter(TrustCenter):
    """The sim Trust Center plus EmberZNet's wildcard transient key."""

    def __init__(self, node: Node, stack: NcpStack, seed: int) -> None:
        super().__init__(node, seed=seed)
        self._stack = stack

    def association_request(self, ieee, capability) -> None:
        stack = self._stack
        if ieee not in self.node.security.link_keys:
            key = stack.transient_keys.get(ieee) or stack.transient_keys.get(WILDCARD_IEEE)
            if key is not None:
                stack.install_link_key(ieee, key)
        if self.node.permitting and ieee in self.node.security.link_keys:
            self._forget_counters(ieee)
        super().association_request(ieee, capability)

    def _forget_counters(self, ieee: int) -> None:
        # An association is a fresh join (a factory-new device starts its counters at 0): like an EmberZNet
        # coordinator creating a new neighbor entry, drop the NWK frame counter and the APS duplicate
        # table of its previous membership, which otherwise reject all its frames as replays.
        node = self.node
        node.security.nwk_rx_counters.pop(ieee, None)
        record = self.devices.get(ieee)
        if record is not None:
            node._aps_seen.pop(record.nwk, None)


class NcpStack:
    """The command handlers (``cmd_<name>``) behind :class:`~harness.emulator.ncp.ezsp.EzspNcp`."""

    def __init__(self, air: Air, ieee: int, *, cbke: CbkeData | Iterable[CbkeData] | None = None) -> None:
        self.air = air
        self.ieee = ieee
        self.nvm = Nvm()
        given = [cbke] if isinstance(cbke, CbkeData) else list(cbke or ())
        self.cbke = CbkeLibrary({data.suite: data for data in given})
        self.node: Node | None = None
        self.trust_center: TrustCenter | None = None
        self.ezsp: Any = None
        # Kept across resets: bellows adds endpoints once at connect and resets the NCP while forming.
        self.endpoints: dict[int, zdo_t.SimpleDescriptor] = {}
        self.reset()

    def attach(self, ezsp) -> None:
        self.ezsp = ezsp

    # -- lifecycle -------------------------------------------------------------------------------------

    def reset(self) -> None:
        """An NCP reboot: the network goes down (off the air) and RAM state is gone; NVM stays."""
        self._network_down()
        self.transient_keys: dict[int, bytes] = {}
        self.policies: dict[int, int] = {}
        self.config: dict[str, int] = dict(DEFAULT_CONFIG)
        self.values: dict[int, bytes] = {}
        self.multicast: dict[int, t.EmberMulticastTableEntry] = {}
        self.address_table: dict[int, tuple[int, int]] = {}  # index -> (IEEE, NWK)
        self.next_network_key: bytes | None = None
        self._tasks: set[asyncio.Task] = set()

    def _network_down(self) -> None:
        node = self.node
        if node is None:
            return
        # Keep what a real NCP keeps in tokens.
        self.nvm.nwk_frame_counter = node.security.nwk_tx_counter
        self.nvm.aps_frame_counter = node.security.aps_counter
        self.nvm.key_seq = node.security.active_key_seq or 0
        self.nvm.network_key = node.security.network_keys.get(self.nvm.key_seq, self.nvm.network_key)
        self.nvm.link_keys = {ieee: entry.key for ieee, entry in node.security.link_keys.items()}
        self.nvm.aps_security_counter = self._aps_security_counter()
        if self.trust_center is not None:
            self.nvm.devices = {ieee: r.nwk for ieee, r in self.trust_center.devices.items() if r.joined}
        node.radio.detach()
        self.node = None
        self.trust_center = None

    def _network_up(self) -> None:
        nvm = self.nvm
        params = nvm.network
        assert params is not None and nvm.network_key is not None
        node = Node(self.air, self.ieee, Role.COORDINATOR)
        for descriptor in self.endpoints.values():
            node.add_endpoint(descriptor)
        node.form(int(params.panId), eui64_to_ieee(bytes(params.extendedPanId)), nvm.network_key, nvm.key_seq)
        # Like an NCP restoring from NVM, skip ahead so frames sent before the reset are never replayed.
        node.security.nwk_tx_counter = nvm.nwk_frame_counter + (4096 if nvm.nwk_frame_counter else 0)
        node.security.aps_counter = nvm.aps_frame_counter
        self.node = node
        for ieee, key in nvm.link_keys.items():
            self.install_link_key(ieee, key)
        trust_center = _EmulatedTrustCenter(node, self, seed=self.air.seed)
        for ieee, nwk in nvm.devices.items():
            trust_center.adopt(ieee, nwk)
        node.add_packet_listener(self._incoming)
        trust_center.on_join(self._joined)
        trust_center.on_leave(self._left)
        self.node, self.trust_center = node, trust_center
        self._later(self.ezsp.callback, "stackStatusHandler", status=t.EmberStatus.NETWORK_UP)

    def _aps_security_counter(self) -> int:
        node = self.node
        counters = [entry.tx_counter for entry in node.security.link_keys.values()] if node is not None else []
        return max([self.nvm.aps_security_counter, *counters])

    def install_link_key(self, ieee: int, key: bytes) -> None:
        """Use *key* with *ieee* from now on. EmberZNet has ONE outgoing APS security frame counter for every
        link key (kept in NVM): a new key continues it, so a device that still holds the counters of an earlier
        key (a factory reset keeps link-key state) never sees the Trust Center's frames as replays."""
        counter = self._aps_security_counter()
        self.node.set_link_key(ieee, key)
        self.node.security.link_keys[ieee].tx_counter = counter

    def _later(self, fn, *args, **kwargs) -> None:
        # Callbacks follow the response of the command that caused them, as on a real NCP.
        asyncio.get_running_loop().call_soon(lambda: fn(*args, **kwargs))

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- stack -> host ---------------------------------------------------------------------------------

    def _incoming(self, packet: zt.ZigbeePacket) -> None:
        options = t.EmberApsOption.APS_OPTION_NONE
        if packet.tx_options & zt.TransmitOptions.APS_Encryption:
            options |= t.EmberApsOption.APS_OPTION_ENCRYPTION
        if packet.dst is not None and packet.dst.addr_mode == zt.AddrMode.Broadcast:
            kind = t.EmberIncomingMessageType.INCOMING_BROADCAST
        else:
            kind = t.EmberIncomingMessageType.INCOMING_UNICAST
        aps = t.EmberApsFrame(profileId=packet.profile_id, clusterId=packet.cluster_id,
                              sourceEndpoint=packet.src_ep, destinationEndpoint=packet.dst_ep, options=options,
                              groupId=0, sequence=packet.tsn or 0)
        self.ezsp.callback("incomingMessageHandler", type=kind, apsFrame=aps, lastHopLqi=packet.lqi or 255,
                           lastHopRssi=packet.rssi or 0, sender=int(packet.src.address), bindingIndex=0xFF,
                           addressIndex=0xFF, messageContents=packet.data.serialize())

    def _joined(self, nwk: int, ieee: int, parent: int) -> None:
        known = ieee in self.nvm.devices
        self.nvm.devices[ieee] = nwk
        status = (t.EmberDeviceUpdate.STANDARD_SECURITY_SECURED_REJOIN if known
                  else t.EmberDeviceUpdate.STANDARD_SECURITY_UNSECURED_JOIN)
        self.ezsp.callback("trustCenterJoinHandler", newNodeId=nwk, newNodeEui64=ieee_to_eui64(ieee),
                           status=status, policyDecision=t.EmberJoinDecision.USE_PRECONFIGURED_KEY,
                           parentOfNewNodeId=parent)

    def _left(self, nwk: int, ieee: int) -> None:
        self.nvm.devices.pop(ieee, None)
        self.ezsp.callback("trustCenterJoinHandler", newNodeId=nwk, newNodeEui64=ieee_to_eui64(ieee),
                           status=t.EmberDeviceUpdate.DEVICE_LEFT, policyDecision=t.EmberJoinDecision.NO_ACTION,
                           parentOfNewNodeId=0xFFFF)

    # -- handshake, configuration ----------------------------------------------------------------------

    def cmd_version(self, desiredProtocolVersion: int) -> dict:
        from .ezsp import EZSP_VERSION, STACK_TYPE, STACK_VERSION

        return {"protocolVersion": EZSP_VERSION, "stackType": STACK_TYPE, "stackVersion": STACK_VERSION}

    def cmd_nop(self) -> dict:
        return {}

    def cmd_getValue(self, valueId) -> dict:
        if valueId == t.EzspValueId.VALUE_VERSION_INFO:
            major, minor, patch, special, build = VERSION_INFO
            value = zt.uint16_t(build).serialize() + bytes([major, minor, patch, special])
            return {"status": t.EzspStatus.SUCCESS, "value": value}
        if int(valueId) in self.values:
            return {"status": t.EzspStatus.SUCCESS, "value": self.values[int(valueId)]}
        return {"status": t.EzspStatus.ERROR_INVALID_ID, "value": b""}

    def cmd_setValue(self, valueId, value: bytes) -> dict:
        if valueId in (t.EzspValueId.VALUE_NWK_FRAME_COUNTER, t.EzspValueId.VALUE_APS_FRAME_COUNTER):
            if self.node is not None:
                return {"status": t.EzspStatus.ERROR_INVALID_CALL}  # only before the network is up
            counter = int.from_bytes(bytes(value)[:4], "little")
            if valueId == t.EzspValueId.VALUE_NWK_FRAME_COUNTER:
                self.nvm.nwk_frame_counter = counter
            else:
                self.nvm.aps_frame_counter = counter
        self.values[int(valueId)] = bytes(value)
        return {"status": t.EzspStatus.SUCCESS}

    def cmd_getConfigurationValue(self, configId) -> dict:
        name = getattr(configId, "name", str(configId))
        if name in self.config:
            return {"status": t.EzspStatus.SUCCESS, "value": self.config[name]}
        return {"status": t.EzspStatus.ERROR_INVALID_ID, "value": 0}

    def cmd_setConfigurationValue(self, configId, value: int) -> dict:
        if self.node is not None:
            return {"status": t.EzspStatus.ERROR_INVALID_CALL}  # configuration is fixed once the stack runs
        self.config[getattr(configId, "name", str(configId))] = int(value)
        return {"status": t.EzspStatus.SUCCESS}

    def cmd_setPolicy(self, policyId, decisionId) -> dict:
        self.policies[int(policyId)] = int(decisionId)
        return {"status": t.EzspStatus.SUCCESS}

    def cmd_getPolicy(self, policyId) -> dict:
        return {"status": t.EzspStatus.SUCCESS, "decisionId": self.policies.get(int(policyId), 0)}

    def cmd_addEndpoint(self, endpoint, profileId, deviceId, deviceVersion, inputClusterCount,
                        outputClusterCount, inputClusterList, outputClusterList) -> dict:
        if self.node is not None:
            return {"status": t.EzspStatus.ERROR_INVALID_CALL}  # endpoints are added before the network starts
        # A host that connects again (a new bench session) re-adds its endpoints: the new descriptor wins.
        self.endpoints[int(endpoint)] = zdo_t.SimpleDescriptor(
            endpoint=endpoint, profile=profileId, device_type=deviceId, device_version=deviceVersion,
            input_clusters=list(inputClusterList), output_clusters=list(outputClusterList))
        return {"status": t.EzspStatus.SUCCESS}

    def cmd_getMfgToken(self, tokenId) -> dict:
        tokens = {t.EzspMfgTokenId.MFG_STRING: b"SE conformance".ljust(16, b"\x00"),
                  t.EzspMfgTokenId.MFG_BOARD_NAME: b"NCP emulator".ljust(16, b"\x00")}
        return {"tokenData": tokens.get(tokenId, b"\xff" * 8)}

    def cmd_setManufacturerCode(self, code) -> dict:
        return {}

    def cmd_setRadioPower(self, power) -> dict:
        return {"status": t.EmberStatus.SUCCESS}

    def cmd_setConcentrator(self, **_params) -> dict:
        return {"status": t.EmberStatus.SUCCESS}

    def cmd_setSourceRouteDiscoveryMode(self, mode) -> dict:
        return {"remainingTime": 0}

    def cmd_getMulticastTableEntry(self, index) -> dict:
        entry = self.multicast.get(int(index), t.EmberMulticastTableEntry(multicastId=0, endpoint=0, networkIndex=0))
        return {"status": t.EmberStatus.SUCCESS, "value": entry}

    def cmd_setMulticastTableEntry(self, index, value) -> dict:
        self.multicast[int(index)] = value
        return {"status": t.EmberStatus.SUCCESS}

    def cmd_gpSinkTableClearAll(self) -> dict:
        return {}

    def cmd_setExtendedTimeout(self, remoteEui64, extendedTimeout) -> dict:
        return {}

    def cmd_getExtendedTimeout(self, remoteEui64) -> dict:
        return {"extendedTimeout": t.Bool.false}

    # -- network ---------------------------------------------------------------------------------------

    def cmd_networkState(self) -> dict:
        joined = self.node is not None
        return {"status": t.EmberNetworkStatus.JOINED_NETWORK if joined else t.EmberNetworkStatus.NO_NETWORK}

    def cmd_networkInit(self, networkInitBitmask) -> dict:
        if self.node is not None:
            return {"status": t.EmberStatus.INVALID_CALL}
        if self.nvm.network is None:
            return {"status": t.EmberStatus.NOT_JOINED}
        self._network_up()
        return {"status": t.EmberStatus.SUCCESS}

    def cmd_setInitialSecurityState(self, state) -> dict:
        if self.node is not None:
            return {"status": t.EmberStatus.INVALID_CALL}
        self.nvm.initial_security = state
        if t.EmberInitialSecurityBitmask.HAVE_NETWORK_KEY in state.bitmask:
            self.nvm.network_key = bytes(state.networkKey)
            self.nvm.key_seq = int(state.networkKeySequenceNumber)
        return {"status": t.EmberStatus.SUCCESS}

    def cmd_formNetwork(self, parameters) -> dict:
        if self.node is not None or self.nvm.network_key is None:
            return {"status": t.EmberStatus.INVALID_CALL}
        if int(parameters.radioChannel) != self.air.channel:
            LOGGER.warning("formNetwork on channel %s but the simulated air is on channel %s",
                           parameters.radioChannel, self.air.channel)
            return {"status": t.EmberStatus.PHY_INVALID_CHANNEL}
        self.nvm.network = parameters
        self.nvm.devices.clear()
        self.nvm.link_keys.clear()
        self._network_up()
        return {"status": t.EmberStatus.SUCCESS}

    def cmd_leaveNetwork(self) -> dict:
        if self.node is None:
            return {"status": t.EmberStatus.INVALID_CALL}
        if self.node.role == Role.ROUTER and self.node.joined:
            self.node._leave_now(False)  # a router announces its leave (NWK Leave) before it goes quiet
        self._network_down()
        self.nvm.network = None
        self.nvm.devices.clear()
        self.nvm.link_keys.clear()
        self._later(self.ezsp.callback, "stackStatusHandler", status=t.EmberStatus.NETWORK_DOWN)
        return {"status": t.EmberStatus.SUCCESS}

    # -- a router on another's network (the golden as a HAN device of a DUT that formed the network) ---------

    def cmd_startScan(self, scanType, channelMask, duration) -> dict:
        """An active scan of the air's channel (the only one it has): networkFoundHandler for each Zigbee beacon,
        then scanCompleteHandler. The radio must be free (no network up)."""
        if scanType != t.EzspNetworkScanType.ACTIVE_SCAN or self.node is not None:
            return {"status": t.EmberStatus.INVALID_CALL}
        self._spawn(self._active_scan(960 * 16e-6 * (2 ** int(duration) + 1)))
        return {"status": t.EmberStatus.SUCCESS}

    async def _active_scan(self, seconds: float) -> None:
        scanner = Node(self.air, self.ieee, Role.ROUTER)
        try:
            heard = await scanner.active_scan(seconds)
        finally:
            scanner.radio.detach()
        for frame, beacon in heard:
            try:
                payload = beacon.zigbee
            except Exception:  # noqa: BLE001 - not a Zigbee beacon: a real NCP reports none either
                continue
            network = t.EmberZigbeeNetwork(
                channel=self.air.channel, panId=frame.src_pan, extendedPanId=ieee_to_eui64(payload.extended_pan_id),
                allowingJoin=t.Bool(beacon.association_permit), stackProfile=payload.stack_profile,
                nwkUpdateId=payload.update_id)
            self.ezsp.callback("networkFoundHandler", networkFound=network, lastHopLqi=255, lastHopRssi=-40)
        self.ezsp.callback("scanCompleteHandler", channel=self.air.channel, status=t.EmberStatus.SUCCESS)

    def cmd_joinNetwork(self, nodeType, parameters) -> dict:
        """Join by MAC association as a router with the preconfigured key of the initial security state; the
        outcome comes as stackStatusHandler NETWORK_UP or JOIN_FAILED."""
        initial = self.nvm.initial_security
        if self.node is not None or initial is None:
            return {"status": t.EmberStatus.INVALID_CALL}
        if int(parameters.radioChannel) != self.air.channel:
            return {"status": t.EmberStatus.PHY_INVALID_CHANNEL}
        node = Node(self.air, self.ieee, Role.ROUTER, tc_link_key=bytes(initial.preconfiguredKey))
        for descriptor in self.endpoints.values():
            node.add_endpoint(descriptor)
        self._spawn(self._router_join(node, parameters))
        return {"status": t.EmberStatus.SUCCESS}

    async def _router_join(self, node: Node, parameters) -> None:
        try:
            await node.join(deadline=30.0, extended_pan_id=eui64_to_ieee(bytes(parameters.extendedPanId)))
        except NodeError as exc:
            LOGGER.info("joinNetwork: %s", exc)
            node.radio.detach()
            self.ezsp.callback("stackStatusHandler", status=t.EmberStatus.JOIN_FAILED)
            return
        self._router_up(node, parameters)

    def _router_up(self, node: Node, parameters) -> None:
        node.add_packet_listener(self._incoming)
        node.on_left(lambda rejoin: self._router_left(node, rejoin))
        self.node = node
        self.nvm.network = t.EmberNetworkParameters(
            extendedPanId=ieee_to_eui64(node.extended_pan_id or 0), panId=node.pan_id or 0, radioTxPower=8,
            radioChannel=self.air.channel, joinMethod=t.EmberJoinMethod.USE_MAC_ASSOCIATION, nwkManagerId=0,
            nwkUpdateId=0, channels=0)
        self.nvm.network_key = node.security.network_key
        self.nvm.key_seq = node.security.active_key_seq or 0
        self.ezsp.callback("stackStatusHandler", status=t.EmberStatus.NETWORK_UP)

    def _router_left(self, node: Node, rejoin: bool) -> None:
        """The router left (removed by the Trust Center, or told to leave): the stack reports its network down,
        as EmberZNet does; one that leaves to rejoin stays this node."""
        if self.node is node and not rejoin:
            self._network_down()
        self._later(self.ezsp.callback, "stackStatusHandler", status=t.EmberStatus.NETWORK_DOWN)

    def cmd_findAndRejoinNetwork(self, haveCurrentNetworkKey, channelMask) -> dict:
        node = self.node
        if node is None or node.role != Role.ROUTER:
            return {"status": t.EmberStatus.INVALID_CALL}
        if not haveCurrentNetworkKey:
            node.security.forget_network()  # a Trust Center rejoin: the key comes again under the link key
        self._spawn(self._router_rejoin(node, not haveCurrentNetworkKey))
        return {"status": t.EmberStatus.SUCCESS}

    async def _router_rejoin(self, node: Node, trust_center: bool) -> None:
        self.ezsp.callback("stackStatusHandler", status=t.EmberStatus.NETWORK_DOWN)
        try:
            await node.rejoin(deadline=30.0, trust_center_rejoin=trust_center)
        except NodeError as exc:
            LOGGER.info("findAndRejoinNetwork: %s", exc)
            self.ezsp.callback("stackStatusHandler", status=t.EmberStatus.JOIN_FAILED)
            return
        self.nvm.network_key = node.security.network_key
        self.nvm.key_seq = node.security.active_key_seq or 0
        self.ezsp.callback("stackStatusHandler", status=t.EmberStatus.NETWORK_UP)

    def cmd_getNetworkParameters(self) -> dict:
        params = self.nvm.network
        if self.node is None or params is None:
            return {"status": t.EmberStatus.NOT_JOINED, "nodeType": t.EmberNodeType.UNKNOWN_DEVICE,
                    "parameters": t.EmberNetworkParameters(
                        extendedPanId=t.EUI64.convert("00:00:00:00:00:00:00:00"), panId=0, radioTxPower=0,
                        radioChannel=0, joinMethod=0, nwkManagerId=0, nwkUpdateId=0, channels=0)}
        node_type = t.EmberNodeType.ROUTER if self.node.role == Role.ROUTER else t.EmberNodeType.COORDINATOR
        return {"status": t.EmberStatus.SUCCESS, "nodeType": node_type, "parameters": params}

    def cmd_getNodeId(self) -> dict:
        return {"nodeId": self.node.nwk if self.node is not None else NO_NODE_ID}

    def cmd_getEui64(self) -> dict:
        return {"eui64": ieee_to_eui64(self.ieee)}

    def cmd_permitJoining(self, duration) -> dict:
        if self.node is None:
            return {"status": t.EmberStatus.NETWORK_DOWN}
        self.node.permit_joining(int(duration))
        return {"status": t.EmberStatus.SUCCESS}

    def cmd_lookupNodeIdByEui64(self, eui64) -> dict:
        nwk = self.nvm.devices.get(eui64_to_ieee(bytes(eui64)))
        return {"nodeId": 0xFFFF if nwk is None else nwk}

    def cmd_lookupEui64ByNodeId(self, nodeId) -> dict:
        for ieee, nwk in self.nvm.devices.items():
            if nwk == nodeId:
                return {"status": t.EmberStatus.SUCCESS, "eui64": ieee_to_eui64(ieee)}
        return {"status": t.EmberStatus.ERR_FATAL, "eui64": ieee_to_eui64(0)}

    def cmd_getChildData(self, index) -> dict:
        # Reference devices join as routers: the coordinator has no end-device children.
        empty = t.EmberChildDataV7(eui64=ieee_to_eui64(0), type=t.EmberNodeType.UNKNOWN_DEVICE, id=0xFFFF,
                                   phy=0, power=0, timeout=0)
        return {"status": t.EmberStatus.NOT_JOINED, "childData": empty}

    def cmd_getAddressTableRemoteNodeId(self, addressTableIndex) -> dict:
        entry = self.address_table.get(int(addressTableIndex))
        return {"nodeId": entry[1] if entry else t.EmberDistinguishedNodeId.TABLE_ENTRY_UNUSED}

    def cmd_getAddressTableRemoteEui64(self, addressTableIndex) -> dict:
        entry = self.address_table.get(int(addressTableIndex))
        return {"eui64": ieee_to_eui64(entry[0] if entry else 0)}

    def cmd_replaceAddressTableEntry(self, addressTableIndex, newEui64, newId, newExtendedTimeout) -> dict:
        index = int(addressTableIndex)
        if index >= self.config["CONFIG_ADDRESS_TABLE_SIZE"]:
            return {"status": t.EmberStatus.ADDRESS_TABLE_INDEX_OUT_OF_RANGE, "oldEui64": ieee_to_eui64(0),
                    "oldId": 0xFFFF, "oldExtendedTimeout": t.Bool.false}
        old_ieee, old_nwk = self.address_table.get(index, (0, 0xFFFF))
        self.address_table[index] = (eui64_to_ieee(bytes(newEui64)), int(newId))
        return {"status": t.EmberStatus.SUCCESS, "oldEui64": ieee_to_eui64(old_ieee), "oldId": old_nwk,
                "oldExtendedTimeout": t.Bool.false}

    def cmd_removeDevice(self, destShort, destLong, targetLong) -> dict:
        if self.trust_center is None:
            return {"status": t.EmberStatus.NETWORK_DOWN}
        target = eui64_to_ieee(bytes(targetLong))
        try:
            if eui64_to_ieee(bytes(destLong)) == target:  # a router named as its own parent: APS Remove Device
                if target not in self.trust_center.devices:
                    return {"status": t.EmberStatus.INVALID_CALL}
                self._spawn(self.trust_center.remove_device(target))
            else:
                self.trust_center.request_leave(target)
        except NodeError:
            return {"status": t.EmberStatus.INVALID_CALL}
        return {"status": t.EmberStatus.SUCCESS}

    # -- security --------------------------------------------------------------------------------------

    def cmd_getKey(self, keyType) -> dict:
        nvm = self.nvm
        if keyType == t.EmberKeyType.CURRENT_NETWORK_KEY and nvm.network_key is not None:
            counter = self.node.security.nwk_tx_counter if self.node else nvm.nwk_frame_counter
            seq = (self.node.security.active_key_seq or 0) if self.node else nvm.key_seq
            key = self.node.security.network_keys.get(seq, nvm.network_key) if self.node else nvm.network_key
            return {"status": t.EmberStatus.SUCCESS, "keyStruct": self._key_struct(
                keyType, key, counter, seq, WILDCARD_IEEE)}
        if keyType == t.EmberKeyType.TRUST_CENTER_LINK_KEY and nvm.initial_security is not None:
            return {"status": t.EmberStatus.SUCCESS, "keyStruct": self._key_struct(
                keyType, bytes(nvm.initial_security.preconfiguredKey), nvm.aps_frame_counter, 0, WILDCARD_IEEE)}
        return {"status": t.EmberStatus.NOT_FOUND, "keyStruct": self._key_struct(keyType, bytes(16), 0, 0, 0)}

    @staticmethod
    def _key_struct(key_type, key: bytes, counter: int, seq: int, partner: int) -> t.EmberKeyStruct:
        bitmask = (t.EmberKeyStructBitmask.KEY_HAS_SEQUENCE_NUMBER
                   | t.EmberKeyStructBitmask.KEY_HAS_OUTGOING_FRAME_COUNTER)
        return t.EmberKeyStruct(bitmask=bitmask, type=key_type, key=zt.KeyData(key), outgoingFrameCounter=counter,
                                incomingFrameCounter=0, sequenceNumber=seq, partnerEUI64=ieee_to_eui64(partner))

    def cmd_getCurrentSecurityState(self) -> dict:
        initial = self.nvm.initial_security
        bitmask = t.EmberCurrentSecurityBitmask.HAVE_TRUST_CENTER_LINK_KEY
        if initial is not None and t.EmberInitialSecurityBitmask.TRUST_CENTER_USES_HASHED_LINK_KEY in initial.bitmask:
            bitmask |= t.EmberCurrentSecurityBitmask.TRUST_CENTER_USES_HASHED_LINK_KEY
        if initial is not None and t.EmberInitialSecurityBitmask.TRUST_CENTER_GLOBAL_LINK_KEY in initial.bitmask:
            bitmask |= t.EmberCurrentSecurityBitmask.GLOBAL_LINK_KEY
        status = t.EmberStatus.SUCCESS if self.node is not None else t.EmberStatus.NOT_JOINED
        return {"status": status, "state": t.EmberCurrentSecurityState(
            bitmask=bitmask, trustCenterLongAddress=ieee_to_eui64(self.ieee))}

    def cmd_clearKeyTable(self) -> dict:
        self.nvm.key_table.clear()
        return {"status": t.EmberStatus.SUCCESS}

    def cmd_addTransientLinkKey(self, partner, transientKey) -> dict:
        ieee = eui64_to_ieee(bytes(partner))
        self.transient_keys[ieee] = bytes(transientKey)
        if ieee != WILDCARD_IEEE and self.node is not None:
            # The Trust Center uses the newest key it was given for this device (rejoin, key update, CBKE).
            self.install_link_key(ieee, bytes(transientKey))
        return {"status": t.EmberStatus.SUCCESS}

    def cmd_addOrUpdateKeyTableEntry(self, address, linkKey, keyData) -> dict:
        ieee = eui64_to_ieee(bytes(address))
        index = next((i for i, (who, _k) in self.nvm.key_table.items() if who == ieee), None)
        if index is None:
            free = [i for i in range(self.config["CONFIG_KEY_TABLE_SIZE"]) if i not in self.nvm.key_table]
            if not free:
                return {"status": t.EmberStatus.TABLE_FULL}
            index = free[0]
        self.nvm.key_table[index] = (ieee, bytes(keyData))
        if self.node is not None:
            self.install_link_key(ieee, bytes(keyData))
        return {"status": t.EmberStatus.SUCCESS}

    def cmd_findKeyTableEntry(self, address, linkKey) -> dict:
        ieee = eui64_to_ieee(bytes(address))
        index = next((i for i, (who, _k) in self.nvm.key_table.items() if who == ieee), 0xFF)
        return {"index": index}

    def cmd_eraseKeyTableEntry(self, index) -> dict:
        if self.nvm.key_table.pop(int(index), None) is None:
            return {"status": t.EmberStatus.TABLE_ENTRY_ERASED}
        return {"status": t.EmberStatus.SUCCESS}

    def cmd_getKeyTableEntry(self, index) -> dict:
        entry = self.nvm.key_table.get(int(index))
        if entry is None:
            status = (t.EmberStatus.INDEX_OUT_OF_RANGE if index >= self.config["CONFIG_KEY_TABLE_SIZE"]
                      else t.EmberStatus.TABLE_ENTRY_ERASED)
            return {"status": status, "keyStruct": self._key_struct(t.EmberKeyType.APPLICATION_LINK_KEY,
                                                                    bytes(16), 0, 0, 0)}
        ieee, key = entry
        return {"status": t.EmberStatus.SUCCESS, "keyStruct": self._key_struct(
            t.EmberKeyType.APPLICATION_LINK_KEY, key, 0, 0, ieee)}

    def cmd_broadcastNextNetworkKey(self, key) -> dict:
        if self.node is None:
            return {"status": t.EmberStatus.NETWORK_DOWN}
        self.next_network_key = bytes(key)
        return {"status": t.EmberStatus.SUCCESS}

    def cmd_broadcastNetworkKeySwitch(self) -> dict:
        if self.node is None or self.trust_center is None or self.next_network_key is None:
            return {"status": t.EmberStatus.INVALID_CALL}
        key, self.next_network_key = self.next_network_key, None
        next_seq = ((self.node.security.active_key_seq or 0) + 1) & 0xFF
        # SE Trust Centers deliver a new network key to each device under its link key (SE 1.x 5.4.3),
        # which is what the simulated Trust Center does: Transport Key to each, then Switch Key.
        self._spawn(self.trust_center.update_network_key(key, next_seq))
        return {"status": t.EmberStatus.SUCCESS}

    # -- messages --------------------------------------------------------------------------------------

    def cmd_sendUnicast(self, type, indexOrDestination, apsFrame, messageTag, messageContents) -> dict:
        if self.node is None:
            return {"status": t.EmberStatus.NETWORK_DOWN, "sequence": 0}
        dst = zt.AddrModeAddress(addr_mode=zt.AddrMode.NWK, address=int(indexOrDestination))
        self._send(dst, type, int(indexOrDestination), apsFrame, messageTag, bytes(messageContents))
        return {"status": t.EmberStatus.SUCCESS, "sequence": apsFrame.sequence}

    def cmd_sendBroadcast(self, destination, apsFrame, radius, messageTag, messageContents) -> dict:
        if self.node is None:
            return {"status": t.EmberStatus.NETWORK_DOWN, "sequence": 0}
        dst = zt.AddrModeAddress(addr_mode=zt.AddrMode.Broadcast, address=int(destination))
        self._send(dst, t.EmberOutgoingMessageType.OUTGOING_BROADCAST, int(destination), apsFrame, messageTag,
                   bytes(messageContents))
        return {"status": t.EmberStatus.SUCCESS, "sequence": apsFrame.sequence}

    def _send(self, dst, kind, destination: int, aps, tag: int, data: bytes) -> None:
        tx = zt.TransmitOptions.NONE
        if t.EmberApsOption.APS_OPTION_RETRY in aps.options and dst.addr_mode == zt.AddrMode.NWK:
            tx |= zt.TransmitOptions.ACK
        if t.EmberApsOption.APS_OPTION_ENCRYPTION in aps.options:
            tx |= zt.TransmitOptions.APS_Encryption
        packet = zt.ZigbeePacket(src_ep=aps.sourceEndpoint, dst=dst, dst_ep=aps.destinationEndpoint,
                                 profile_id=aps.profileId, cluster_id=aps.clusterId, tsn=aps.sequence,
                                 data=zt.SerializableBytes(data), tx_options=tx)
        node = self.node

        async def deliver() -> None:
            try:
                await node.send_packet(packet)
                status = t.EmberStatus.SUCCESS
            except (ApsDeliveryError, NodeError) as exc:
                LOGGER.info("delivery to 0x%04X failed: %s", destination, exc)
                status = t.EmberStatus.DELIVERY_FAILED
            self.ezsp.callback("messageSentHandler", type=kind, indexOrDestination=destination, apsFrame=aps,
                               messageTag=tag, status=status, messageContents=b"")

        self._spawn(deliver())

    # -- CBKE ------------------------------------------------------------------------------------------

    def cmd_getLibraryStatus(self, libraryId) -> dict:
        if libraryId in SUITE1_LIBRARIES:
            return {"status": LIBRARY_PRESENT if self.cbke.has(1) else LIBRARY_STUB}
        if libraryId in SUITE2_LIBRARIES:
            return {"status": LIBRARY_PRESENT if self.cbke.has(2) else LIBRARY_STUB}
        return {"status": LIBRARY_PRESENT}

    def cmd_getCertificate(self) -> dict:
        return self._certificate(1, t.EmberCertificateData)

    def cmd_getCertificate283k1(self) -> dict:
        return self._certificate(2, t.EmberCertificate283k1Data)

    def _certificate(self, suite: int, kind) -> dict:
        if not self.cbke.has(suite):
            return {"status": t.EmberStatus.LIBRARY_NOT_PRESENT, "localCert": kind(bytes(len(kind())))}
        return {"status": t.EmberStatus.SUCCESS, "localCert": kind(self.cbke.certificate(suite))}

    def cmd_setPreinstalledCbkeData(self, caPublic, myCert, myKey) -> dict:
        self.cbke.install(CbkeData(bytes(caPublic), bytes(myCert), bytes(myKey), suite=1))
        return {"status": t.EmberStatus.SUCCESS}

    def cmd_savePreinstalledCbkeData283k1(self) -> dict:
        # The host set the three 283k1 values with setValue first (as zsmartsystems' EmberCbkeProvider does).
        ids = (t.EzspValueId.VALUE_PUBLIC_KEY_283K1, t.EzspValueId.VALUE_CERTIFICATE_283K1,
               t.EzspValueId.VALUE_PRIVATE_KEY_283K1)
        if any(int(i) not in self.values for i in ids):
            return {"status": t.EmberStatus.INVALID_CALL}
        ca_public, certificate, private_key = (self.values[int(i)] for i in ids)
        self.cbke.install(CbkeData(ca_public, certificate, private_key, suite=2))
        return {"status": t.EmberStatus.SUCCESS}

    def cmd_generateCbkeKeys(self) -> dict:
        return self._generate(1, "generateCbkeKeysHandler", t.EmberPublicKeyData)

    def cmd_generateCbkeKeys283k1(self) -> dict:
        return self._generate(2, "generateCbkeKeysHandler283k1", t.EmberPublicKey283k1Data)

    def _generate(self, suite: int, callback: str, kind) -> dict:
        if not self.cbke.has(suite):
            return {"status": t.EmberStatus.LIBRARY_NOT_PRESENT}

        def done() -> None:
            try:
                public = self.cbke.generate(suite)
            except CbkeLibraryError as exc:
                self.ezsp.callback(callback, status=exc.status, ephemeralPublicKey=kind(bytes(len(kind()))))
                return
            self.ezsp.callback(callback, status=t.EmberStatus.SUCCESS, ephemeralPublicKey=kind(public))

        self._later(done)
        return {"status": t.EmberStatus.OPERATION_IN_PROGRESS}

    def cmd_calculateSmacs(self, amInitiator, partnerCertificate, partnerEphemeralPublicKey) -> dict:
        return self._calculate(1, "calculateSmacsHandler", amInitiator, partnerCertificate, partnerEphemeralPublicKey)

    def cmd_calculateSmacs283k1(self, amInitiator, partnerCertificate, partnerEphemeralPublicKey) -> dict:
        return self._calculate(2, "calculateSmacsHandler283k1", amInitiator, partnerCertificate,
                               partnerEphemeralPublicKey)

    def _calculate(self, suite: int, callback: str, am_initiator, certificate, ephemeral) -> dict:
        if not self.cbke.has(suite):
            return {"status": t.EmberStatus.LIBRARY_NOT_PRESENT}
        no_smac = t.EmberSmacData(bytes(16))

        def done() -> None:
            try:
                mac_u, mac_v = self.cbke.calculate(suite, bool(am_initiator), bytes(certificate), bytes(ephemeral))
            except CbkeLibraryError as exc:
                LOGGER.info("calculateSmacs: %s", exc)
                self.ezsp.callback(callback, status=exc.status, initiatorSmac=no_smac, responderSmac=no_smac)
                return
            self.ezsp.callback(callback, status=t.EmberStatus.SUCCESS, initiatorSmac=t.EmberSmacData(mac_u),
                               responderSmac=t.EmberSmacData(mac_v))

        self._later(done)
        return {"status": t.EmberStatus.OPERATION_IN_PROGRESS}

    def cmd_clearTemporaryDataMaybeStoreLinkKey(self, storeLinkKey) -> dict:
        return self._clear(1, storeLinkKey)

    def cmd_clearTemporaryDataMaybeStoreLinkKey283k1(self, storeLinkKey) -> dict:
        return self._clear(2, storeLinkKey)

    def _clear(self, suite: int, store) -> dict:
        try:
            stored = self.cbke.clear(suite, bool(store))
        except CbkeLibraryError as exc:
            return {"status": exc.status}
        if stored is not None:
            ieee, key = stored
            # EmberZNet puts the CBKE key in the key table (authorized) for the partner in the certificate.
            status = self.cmd_addOrUpdateKeyTableEntry(ieee_to_eui64(ieee), t.Bool.true, key)["status"]
            if status != t.EmberStatus.SUCCESS:
                return {"status": status}
        return {"status": t.EmberStatus.SUCCESS}

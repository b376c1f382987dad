"""The golden radio on the simulated network: a zigpy ControllerApplication whose coordinator is a Node.

The harness uses it exactly like a real radio library (bellows): ``ControllerApplication.new(config)`` with
``device: {path: "sim://<name>"}`` where <name> is an :class:`~harness.sim.air.Air` registered with
:func:`register_air`; forming takes channel, PAN id, extended PAN id and network key from the ``network``
config; ``permit_with_link_key(ieee, key)`` opens joining for a device with its install-code key (the
well-known key is never installed by this class); joins arrive through ``handle_join``, leaves through
``handle_leave``; raw APS frames go out with ``send_packet`` and come in through ``packet_received`` (and
``register_packet_callback`` listeners) with
``TransmitOptions.APS_Encryption`` set on frames that were APS-encrypted.

The coordinator node and its Trust Center stay reachable as ``app.node`` and ``app.trust_center`` for
what zigpy's API has no words for (network key update, link keys after CBKE, security material).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from typing import Any

import zigpy.application
import zigpy.config as conf
import zigpy.device
import zigpy.endpoint
import zigpy.exceptions
import zigpy.state
import zigpy.types as t
import zigpy.zdo.types as zdo_t

from harness.crypto import WELL_KNOWN_TC_LINK_KEY
from harness.errors import ApsNotAcknowledged, BenchFault, DutUnreachable
from harness.radio import UndecodableTap
from harness.sim.air import Air
from harness.sim.node import ApsDeliveryError, Node, NodeError, Role
from harness.sim.trust_center import TrustCenter
from harness.wire.frames import FrameError
from harness.wire.frames.types import eui64_to_ieee, ieee_to_eui64

LOGGER = logging.getLogger(__name__)

SCHEME = "sim://"
DEFAULT_COORDINATOR_IEEE = 0x00124B0000C0FFEE

_AIRS: dict[str, Air] = {}


class SimRadioError(BenchFault, ConnectionError):
    """The simulated radio cannot start (unknown air name, channel mismatch, ...)."""

    retryable = True


def register_air(name: str, air: Air) -> str:
    """Make *air* reachable as device path ``sim://<name>``; returns that path."""
    _AIRS[name] = air
    return SCHEME + name


def unregister_air(name: str) -> None:
    _AIRS.pop(name, None)


def sim_config(
    path: str,
    *,
    channel: int,
    pan_id: int,
    extended_pan_id: bytes | str,
    network_key: bytes,
    coordinator_ieee: int = DEFAULT_COORDINATOR_IEEE,
) -> dict[str, Any]:
    """A zigpy config for the simulated radio with the background jobs a test bench does not want off."""
    epid = extended_pan_id if isinstance(extended_pan_id, str) else ":".join(f"{b:02x}" for b in extended_pan_id)
    return {
        conf.CONF_DEVICE: {conf.CONF_DEVICE_PATH: path},
        conf.CONF_DATABASE: None,
        conf.CONF_NWK: {
            conf.CONF_NWK_CHANNEL: channel,
            conf.CONF_NWK_PAN_ID: pan_id,
            conf.CONF_NWK_EXTENDED_PAN_ID: epid,
            conf.CONF_NWK_KEY: list(network_key),
        },
        conf.CONF_NWK_BACKUP_ENABLED: False,
        conf.CONF_TOPO_SCAN_ENABLED: False,
        conf.CONF_WATCHDOG_ENABLED: False,
        conf.CONF_OTA: {conf.CONF_OTA_ENABLED: False},
        conf.CONF_STARTUP_ENERGY_SCAN: False,
        "sim_coordinator_ieee": coordinator_ieee,
    }


class ControllerApplication(UndecodableTap, zigpy.application.ControllerApplication):
    """zigpy's application controller on a simulated coordinator with an SE Trust Center."""

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        self.node: Node | None = None
        self.trust_center: TrustCenter | None = None
        self._stored: tuple[zigpy.state.NetworkInfo, zigpy.state.NodeInfo] | None = None
        self._unlisten: list = []

    # -- connection ------------------------------------------------------------------------------------

    async def connect(self) -> None:
        path = self.config[conf.CONF_DEVICE][conf.CONF_DEVICE_PATH]
        if not path.startswith(SCHEME) or path[len(SCHEME):] not in _AIRS:
            raise SimRadioError(f"no simulated air registered for device path {path!r} (use register_air)")
        air = _AIRS[path[len(SCHEME):]]
        ieee = int(self.config.get("sim_coordinator_ieee", DEFAULT_COORDINATOR_IEEE))
        self.node = Node(air, ieee, Role.COORDINATOR)
        self.trust_center = TrustCenter(self.node, seed=air.seed)
        self._unlisten.append(self.node.add_packet_listener(self._node_packet))
        self.trust_center.on_join(self._tc_join)
        self.trust_center.on_leave(self._tc_leave)

    async def disconnect(self) -> None:
        for unlisten in self._unlisten:
            unlisten()
        self._unlisten.clear()
        if self.node is not None:
            self.node.radio.detach()
        self.node = None
        self.trust_center = None

    def _require_node(self) -> Node:
        if self.node is None:
            raise SimRadioError("the simulated radio is not connected")
        return self.node

    # -- network state ---------------------------------------------------------------------------------

    async def write_network_info(self, *, network_info: zigpy.state.NetworkInfo, node_info: zigpy.state.NodeInfo) -> None:
        node = self._require_node()
        if network_info.channel != node.air.channel:
            raise SimRadioError(f"network channel {network_info.channel} differs from the air's channel {node.air.channel}")
        self._stored = (network_info, node_info)

    async def load_network_info(self, *, load_devices: bool = False) -> None:
        node = self._require_node()
        if self._stored is None:
            raise zigpy.exceptions.NetworkNotFormed("the simulated coordinator has not formed a network")
        network_info, _ = self._stored
        self.state.network_info = network_info.replace(
            network_key=network_info.network_key.replace(
                tx_counter=node.security.nwk_tx_counter, seq=node.security.active_key_seq or network_info.network_key.seq
            ),
            tc_link_key=network_info.tc_link_key.replace(partner_ieee=ieee_to_eui64(node.ieee)),
        )
        self.state.node_info = zigpy.state.NodeInfo(
            nwk=t.NWK(0x0000),
            ieee=ieee_to_eui64(node.ieee),
            logical_type=zdo_t.LogicalType.Coordinator,
            model="sim-golden",
            manufacturer="se-conformance",
            version="1",
        )

    async def reset_network_info(self) -> None:
        node = self._require_node()
        self._stored = None
        node.joined = False
        node.security.forget_network()

    async def start_network(self) -> None:
        node = self._require_node()
        await self.load_network_info()
        info = self.state.network_info
        if node.nwk != 0x0000 or not node.joined:
            node.form(
                int(info.pan_id),
                eui64_to_ieee(bytes(info.extended_pan_id)),
                bytes(info.network_key.key),
                int(info.network_key.seq),
            )
        await self.register_endpoints()
        device = zigpy.device.Device(self, self.state.node_info.ieee, 0x0000)
        self.devices[device.ieee] = device
        for endpoint_id, descriptor in node.endpoints.items():
            endpoint = zigpy.endpoint.Endpoint(device, endpoint_id)
            endpoint.profile_id = descriptor.profile
            endpoint.device_type = descriptor.device_type
            for cluster in descriptor.input_clusters:
                endpoint.add_input_cluster(cluster)
            for cluster in descriptor.output_clusters:
                endpoint.add_output_cluster(cluster)
            endpoint.status = zigpy.endpoint.Status.ZDO_INIT
            device.endpoints[endpoint_id] = endpoint
        device.node_desc = node.node_descriptor()
        device.model, device.manufacturer = "sim-golden", "se-conformance"

    async def add_endpoint(self, descriptor: zdo_t.SimpleDescriptor) -> None:
        self._require_node().add_endpoint(descriptor)

    async def force_remove(self, dev: zigpy.device.Device) -> None:
        tc = self.trust_center
        if tc is not None and eui64_to_ieee(bytes(dev.ieee)) in tc.devices:
            tc.request_leave(eui64_to_ieee(bytes(dev.ieee)))

    # -- joining ---------------------------------------------------------------------------------------

    async def permit_ncp(self, time_s: int = 60) -> None:
        self._require_node().permit_joining(time_s)

    async def permit_with_link_key(self, node: t.EUI64, link_key: t.KeyData, time_s: int = 60) -> None:
        key = bytes(link_key)
        if key == WELL_KNOWN_TC_LINK_KEY:
            LOGGER.warning("installing the well-known TC link key for %s on purpose", node)
        self.trust_center.add_install_code_key(eui64_to_ieee(bytes(node)), key)
        await self.permit(time_s)

    def _node_packet(self, packet: t.ZigbeePacket) -> None:
        # Raw packets (with tx_options) go to register_packet_callback listeners first, then to zigpy.
        self.notify_packet_callbacks(packet)
        self.packet_received(packet)

    def _tc_join(self, nwk: int, ieee: int, parent: int) -> None:
        self.handle_join(t.NWK(nwk), ieee_to_eui64(ieee), t.NWK(parent))

    def _tc_leave(self, nwk: int, ieee: int) -> None:
        self.handle_leave(t.NWK(nwk), ieee_to_eui64(ieee))

    # -- data ------------------------------------------------------------------------------------------

    async def send_packet(self, packet: t.ZigbeePacket) -> None:
        await send_from_node(self._require_node(), packet)

    async def _network_scan(self, channels: t.Channels, duration_exp: int) -> AsyncGenerator[t.NetworkBeacon, None]:
        """An active scan from the coordinator (zigpy's network_scan): the beacons of the nodes on the air's
        channel, each with its source address, for 802.15.4's scan duration (2^n + 1 superframes per channel)."""
        node = self._require_node()
        if node.air.channel not in list(channels):  # Channels iterates as channel numbers
            return
        for frame, beacon in await node.active_scan(960 * 16e-6 * (2 ** duration_exp + 1)):
            try:
                payload = beacon.zigbee
            except FrameError:
                continue  # not a Zigbee beacon
            yield t.NetworkBeacon(
                pan_id=t.PanId(frame.src_pan), extended_pan_id=ieee_to_eui64(payload.extended_pan_id),
                channel=t.uint8_t(node.air.channel), permit_joining=beacon.association_permit,
                stack_profile=t.uint8_t(payload.stack_profile), nwk_update_id=t.uint8_t(payload.update_id),
                lqi=t.uint8_t(255), src=t.NWK(frame.src_addr), depth=t.uint8_t(payload.device_depth),
                router_capacity=payload.router_capacity, device_capacity=payload.end_device_capacity,
                protocol_version=t.uint8_t(payload.protocol_version),
            )

    async def energy_scan(self, channels: t.Channels, duration_exp: int, count: int) -> dict[int, float]:
        return {channel: 0.0 for channel in channels}

    async def _move_network_to_channel(self, new_channel: int, new_nwk_update_id: int) -> None:
        raise NotImplementedError("the simulated network stays on its air's channel")


async def send_from_node(node: Node, packet: t.ZigbeePacket) -> None:
    """Send *packet* from a golden node (the coordinator here, a HAN device in radio/sim_han.py), with its
    failures as the DUT's findings where they are the DUT's doing.

    The simulated air tells MAC from APS: a frame the DUT's MAC took but its APS never acknowledged is the DUT's
    doing (it could not, or would not, take it); so, on an air that loses nothing, is a frame not even its MAC
    acknowledged. Both stay zigpy DeliveryErrors for code that handles those."""
    try:
        await node.send_packet(packet)
    except ApsDeliveryError as exc:
        if exc.mac_acked:
            raise ApsNotAcknowledged(str(exc), observation=f"the DUT's MAC acknowledged the frame but its APS "
                                     f"layer did not ({exc})") from exc
        raise DutUnreachable(str(exc), observation=f"no MAC acknowledgement from the DUT ({exc})") from exc
    except NodeError as exc:
        raise zigpy.exceptions.DeliveryError(str(exc)) from exc

"""The golden's HAN devices on the simulated network, when the DUT forms the network and is its Trust Center.

Each HAN device is a simulated node that joins the DUT's network with the install-code link key the DUT profile
names for it (:class:`SimHanDevice`). The first one also carries the golden's ZDO client, ZCL engine and Key
Establishment (the ``Golden``) through :class:`SimHanRadio`: the few calls of a zigpy ControllerApplication the
golden makes (send a packet, tap received ones, add an endpoint, its own address), on a router instead of the
coordinator. On a real bench the EZSP stick joined as a router plays that part (harness/radio/ezsp_han.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import zigpy.types as t
import zigpy.zdo.types as zdo_t

from harness.sim.node import BEACON_SCAN_DURATION, JoinError, Node

from .sim import send_from_node

LOGGER = logging.getLogger(__name__)


class SimHanDevice:
    """A golden HAN device on the virtual air (harness.testbed.HanDevice)."""

    def __init__(self, node: Node, link_key: bytes) -> None:
        self.node = node
        self.ieee = node.ieee
        self.link_key = bytes(link_key)
        self.failure: str | None = None  # why the last join or rejoin did not complete

    def __repr__(self) -> str:
        return f"SimHanDevice({self.ieee:016X}, nwk={self.nwk}, joined={self.joined})"

    @property
    def nwk(self) -> int | None:
        return self.node.nwk if self.node.joined else None

    @property
    def joined(self) -> bool:
        return self.node.joined

    @property
    def active_key_seq(self) -> int | None:
        return self.node.security.active_key_seq

    def network_keys(self) -> dict[int, bytes]:
        return dict(self.node.security.network_keys)

    def commission(self, link_key: bytes) -> None:
        self.link_key = bytes(link_key)
        self.node.security.preconfigured_tc_link_key = self.link_key
        self.node.security.link_keys.clear()  # keys of an earlier life on the network go with the new commissioning

    async def join(self, deadline: float, *, insistent: bool = False) -> bool:
        node = self.node
        # A probe of the Trust Center's window: its stack associates whatever the beacons say.
        behaviour = node.behaviour
        node.behaviour = dataclasses.replace(behaviour, associate_only_when_permitted=not insistent)
        try:
            await node.join(deadline=deadline)
        except JoinError as exc:
            self.failure = str(exc)
            return False
        finally:
            node.behaviour = behaviour
        self.failure = None
        return True

    async def rejoin(self, deadline: float, *, trust_center: bool) -> bool:
        node = self.node
        if node.pan_id is None:  # never admitted: it takes the network from a beacon, as a device moved in does
            for frame, beacon in await node.active_scan(BEACON_SCAN_DURATION):
                if beacon.pan_coordinator:
                    node.pan_id, node.extended_pan_id = frame.src_pan, beacon.zigbee.extended_pan_id
                    break
            else:
                self.failure = "heard no coordinator's beacon"
                return False
        if trust_center:
            node.security.forget_network()  # it lost the network key: only the Trust Center can give it again
        try:
            await node.rejoin(deadline=deadline, trust_center_rejoin=trust_center)
        except JoinError as exc:
            self.failure = str(exc)
            return False
        self.failure = None
        return True

    async def leave(self) -> None:
        if self.node.joined:
            await self.node.leave(rejoin=False)

    async def factory_reset(self) -> None:
        await self.leave()
        node = self.node
        node.power_off()  # what its stack held in RAM goes too (pending deliveries, the duplicate table)
        node.power_on()
        node._reset_network(forget_keys=True)
        node.pan_id = node.extended_pan_id = None
        node.address_map.clear()
        node.security.factory_reset()
        self.failure = None

    def close(self) -> None:
        self.node.power_off()
        self.node.radio.detach()


class SimHanRadio:
    """What the Golden uses of a zigpy ControllerApplication, on the first HAN device's node."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self._callbacks: list[Callable[[t.ZigbeePacket], None]] = []
        self._listeners: list[object] = []
        self._unlisten = node.add_packet_listener(self._packet)

    @property
    def state(self) -> Any:  # zigpy's app.state, as far as the golden reads it
        return SimpleNamespace(node_info=SimpleNamespace(nwk=t.NWK(self.node.nwk), ieee=self.node.ieee))

    def register_packet_callback(self, _filter: object, callback: Callable[[t.ZigbeePacket], None]
                                 ) -> Callable[[], None]:
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback) if callback in self._callbacks else None

    def add_listener(self, listener: object) -> None:
        self._listeners.append(listener)  # device_joined / device_left: a HAN device admits nobody

    async def add_endpoint(self, descriptor: zdo_t.SimpleDescriptor) -> None:
        self.node.add_endpoint(descriptor)

    def _packet(self, packet: t.ZigbeePacket) -> None:
        for callback in list(self._callbacks):
            callback(packet)

    async def send_packet(self, packet: t.ZigbeePacket) -> None:
        await send_from_node(self.node, packet)

    async def shutdown(self) -> None:
        self._unlisten()
        self._callbacks.clear()
        await asyncio.sleep(0)

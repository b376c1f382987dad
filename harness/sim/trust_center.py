"""The Trust Center of a simulated coordinator, as Smart Energy runs it.

Admission: a device is admitted only while permit-join is open AND the Trust Center holds that device's
link key (from its install code; SE 1.x 5.4.1). The network key goes to the device in an APS Transport
Key secured with the key-transport key derived from that link key (Zigbee 4.4.1.5), over an unsecured
NWK frame (the device has no network key yet). The Trust Center never falls back to the well-known key:
if it holds "ZigBeeAlliance09" for a device, that is because the harness put it there on purpose.

Also: Trust Center rejoin (unsecured rejoin request -> network key under the device's link key), secured
rejoin, leave bookkeeping, and network key update (Transport Key + Switch Key, 4.6.3.4).

Single hop: devices join the coordinator directly, so Update Device from routers is only recorded.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

from harness.wire.frames.aps import (
    ApsFrame,
    KeyType,
    RemoveDevice,
    RequestKey,
    SwitchKey,
    TransportKey,
    UpdateDevice,
)
from harness.wire.frames.mac import AssociationStatus, CapabilityInformation
from harness.wire.frames.nwk import Leave, NwkFrameType, RejoinResponse, RejoinStatus
from harness.wire.frames.types import format_ieee
from harness.wire.security import KeyId

from .node import ApsDeliveryError, Node, NodeError, Role

LOGGER = logging.getLogger(__name__)


@dataclass
class DeviceRecord:
    ieee: int
    nwk: int
    capability: int
    joined: bool = False


JoinListener = Callable[[int, int, int], None]  # (nwk, ieee, parent nwk)
LeaveListener = Callable[[int, int], None]  # (nwk, ieee)


class TrustCenter:
    """Attach to a coordinator :class:`Node`; the node forwards joins, rejoins, leaves and APS commands."""

    def __init__(self, node: Node, seed: int = 0) -> None:
        if node.role != Role.COORDINATOR:
            raise NodeError("the Trust Center lives on the coordinator")
        self.node = node
        node.trust_center = self
        self.devices: dict[int, DeviceRecord] = {}  # IEEE -> record
        self._rng = random.Random(f"nwk-addresses:{seed}:{node.ieee:016x}")
        self._join_listeners: list[JoinListener] = []
        self._leave_listeners: list[LeaveListener] = []

    # -- harness API -----------------------------------------------------------------------------------

    def add_install_code_key(self, ieee: int, link_key: bytes) -> None:
        """Hold *link_key* for *ieee* (what permit_with_link_key does)."""
        self.node.set_link_key(ieee, link_key)

    def remove_link_key(self, ieee: int) -> None:
        self.node.security.link_keys.pop(ieee, None)

    def adopt(self, ieee: int, nwk: int) -> None:
        """Know *ieee* as a joined device at *nwk*: the device table a real Trust Center keeps across a restart."""
        self.devices[ieee] = DeviceRecord(ieee, nwk, 0)
        self.devices[ieee].joined = True
        self.node.address_map[nwk] = ieee

    def on_join(self, listener: JoinListener) -> None:
        self._join_listeners.append(listener)

    def on_leave(self, listener: LeaveListener) -> None:
        self._leave_listeners.append(listener)

    def nwk_of(self, ieee: int) -> int | None:
        record = self.devices.get(ieee)
        return record.nwk if record else None

    async def remove_device(self, ieee: int) -> None:
        """Remove a joined device from the network (Zigbee 4.4.5.1): a router gets APS Remove Device naming itself
        (parent and target the same), APS-secured with its link key; an end device, our child in this single-hop
        network, gets a NWK leave request from us, its parent."""
        node = self.node
        record = self.devices.get(ieee)
        entry = node.security.link_keys.get(ieee)
        if record is None or entry is None:
            raise NodeError(f"{format_ieee(ieee)} is not a joined device with a link key")
        if not record.capability & 0x02:  # device type bit: an end device
            self.request_leave(ieee)
            return
        await node.aps_send_reliably(
            record.nwk, ApsFrame.command(node.security.next_aps_counter(), RemoveDevice(ieee)),
            encrypt_key=entry.key, key_id=KeyId.DATA, counter_entry=entry,
        )

    def retire_network_key(self, key_seq: int) -> None:
        """Forget network key *key_seq*, no longer the active one: frames secured with it are not authentic."""
        if key_seq == self.node.security.active_key_seq:
            raise NodeError(f"network key {key_seq} is the active key")
        self.node.security.network_keys.pop(key_seq, None)

    def request_leave(self, ieee: int, rejoin: bool = False) -> None:
        """Send a NWK leave request to a joined device."""
        record = self.devices.get(ieee)
        if record is None:
            raise NodeError(f"{format_ieee(ieee)} is not a known device")
        self.node.nwk_send(record.nwk, Leave(rejoin=rejoin, request=True).serialize(), NwkFrameType.COMMAND,
                           dst_ieee=ieee, radius=1)

    async def update_network_key(self, key: bytes, key_seq: int) -> list[int]:
        """Distribute a new network key to every joined device, then switch everyone (and us) to it.

        Returns the IEEE addresses that acknowledged both commands.
        """
        node = self.node
        confirmed = []
        for record in [r for r in self.devices.values() if r.joined]:
            entry = node.security.link_keys.get(record.ieee)
            if entry is None:
                continue
            transport = TransportKey(KeyType.STANDARD_NETWORK_KEY, bytes(key), key_seq, record.ieee, node.ieee)
            try:
                await node.aps_send_reliably(
                    record.nwk, ApsFrame.command(node.security.next_aps_counter(), transport),
                    encrypt_key=entry.key, key_id=KeyId.KEY_TRANSPORT, counter_entry=entry,
                )
                confirmed.append(record.ieee)
            except ApsDeliveryError:
                LOGGER.info("network key update did not reach %s", format_ieee(record.ieee))
        node.security.network_keys[key_seq] = bytes(key)
        for ieee in list(confirmed):
            record = self.devices[ieee]
            entry = node.security.link_keys[ieee]
            try:
                await node.aps_send_reliably(
                    record.nwk, ApsFrame.command(node.security.next_aps_counter(), SwitchKey(key_seq)),
                    encrypt_key=entry.key, key_id=KeyId.DATA, counter_entry=entry,
                )
            except ApsDeliveryError:
                confirmed.remove(ieee)
        node.security.active_key_seq = key_seq
        return confirmed

    # -- called by the coordinator's stack -------------------------------------------------------------

    def association_request(self, ieee: int, capability: CapabilityInformation) -> None:
        node = self.node
        if not node.permitting:
            return  # association permit is off: the request is ignored (802.15.4-2006 7.5.3.1)
        entry = node.security.link_keys.get(ieee)
        if entry is None:
            LOGGER.info("refusing %s: no install-code link key for it", format_ieee(ieee))
            node.send_association_response(ieee, 0xFFFF, AssociationStatus.PAN_ACCESS_DENIED)
            return
        record = self.devices.get(ieee)
        nwk = record.nwk if record else self._allocate_address()
        self.devices[ieee] = DeviceRecord(ieee, nwk, capability.to_byte())
        node.address_map[nwk] = ieee
        node.send_association_response(ieee, nwk, AssociationStatus.SUCCESS)
        node.loop.call_soon(self._send_network_key, ieee)

    def _send_network_key(self, ieee: int) -> None:
        node = self.node
        record = self.devices.get(ieee)
        entry = node.security.link_keys.get(ieee)
        if record is None or entry is None or node.security.network_key is None:
            return
        # A fresh key-transport exchange: the device has no APS counters for us yet.
        entry.rx_counter = None
        transport = TransportKey(
            KeyType.STANDARD_NETWORK_KEY, node.security.network_key, node.security.active_key_seq, ieee, node.ieee
        )
        node.aps_send_frame(
            record.nwk,
            ApsFrame.command(node.security.next_aps_counter(), transport),
            encrypt_key=entry.key,
            key_id=KeyId.KEY_TRANSPORT,
            counter_entry=entry,
            nwk_secure=False,
        )
        record.joined = True
        for listener in list(self._join_listeners):
            listener(record.nwk, ieee, node.nwk)

    def device_announced(self, nwk: int, ieee: int) -> None:
        record = self.devices.get(ieee)
        if record is not None:
            record.nwk = nwk
            record.joined = True

    def device_left(self, nwk: int, ieee: int | None, rejoin: bool) -> None:
        if ieee is None:
            ieee = self.node.address_map.get(nwk)
        record = self.devices.get(ieee) if ieee is not None else None
        if record is None:
            return
        record.joined = False
        if not rejoin:
            # The device is gone: its incoming NWK counter restarts if it ever joins again.
            self.node.security.nwk_rx_counters.pop(ieee, None)
        for listener in list(self._leave_listeners):
            listener(nwk, ieee)

    def rejoin_request(self, nwk: int, ieee: int | None, secured: bool) -> None:
        node = self.node
        record = self.devices.get(ieee) if ieee is not None else None
        entry = node.security.link_keys.get(ieee) if ieee is not None else None
        if record is None or entry is None:
            if ieee is not None:
                LOGGER.info("ignoring rejoin of unknown device %s", format_ieee(ieee))
            return
        record.nwk = nwk
        node.address_map[nwk] = ieee
        response = RejoinResponse(nwk, RejoinStatus.SUCCESS).serialize()
        node.nwk_send(nwk, response, NwkFrameType.COMMAND, secure=secured, dst_ieee=ieee, radius=1)
        if secured:
            record.joined = True
            for listener in list(self._join_listeners):
                listener(nwk, ieee, node.nwk)
        else:
            # Trust Center rejoin: the network key under the device's TC link key (4.6.3.6.1).
            node.loop.call_soon(self._send_network_key, ieee)

    def aps_command(self, nwk: int, ieee: int | None, command) -> None:
        node = self.node
        if isinstance(command, RequestKey) and command.key_type == RequestKey.TRUST_CENTER_LINK_KEY and ieee:
            entry = node.security.link_keys.get(ieee)
            if entry is None:
                return
            transport = TransportKey(KeyType.TRUST_CENTER_LINK_KEY, entry.key, dst_ieee=ieee, src_ieee=node.ieee)
            node.aps_send_frame(
                nwk, ApsFrame.command(node.security.next_aps_counter(), transport),
                encrypt_key=entry.key, key_id=KeyId.KEY_TRANSPORT, counter_entry=entry,
            )
        elif isinstance(command, UpdateDevice):
            LOGGER.debug("Update Device for %s (%s) recorded", format_ieee(command.device_ieee), command.status.name)

    def _allocate_address(self) -> int:
        # Stochastic addressing (Zigbee 3.6.1.7) from a seeded generator: deterministic per seed.
        used = {r.nwk for r in self.devices.values()} | {self.node.nwk}
        while True:
            candidate = self._rng.randint(0x0001, 0xFFF7)
            if candidate not in used:
                return candidate


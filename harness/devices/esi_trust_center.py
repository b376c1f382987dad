"""The reference ESI's own Trust Center: what a utility meter or ESI that forms the HAN does as its Trust Center.

Written apart from the golden's Trust Center policy (harness/golden/trust_center.py) and from the simulated
coordinator's (harness/sim/trust_center.py): the suite judges this one, so it shares only the wire codecs, the
security material and the node's stack with them, never a policy (a bug on both sides would hide).

Policy (Smart Energy 1.x 5.4, Zigbee 4.6.3):
- its link-key table holds one preconfigured link key per install code the head end gave it (AES-MMO of the
  code and its CRC); a device is admitted only while the permit-join window is open and only if the table holds
  its key; the network key goes to it in an APS Transport Key secured with the key-transport key derived from
  that link key, never under the well-known "ZigBeeAlliance09";
- a Trust Center rejoin of a device it admitted before gets the current network key the same way; an unknown
  device's gets nothing;
- a network key update sends the new key, under the next key sequence number, to every joined device, then
  Switch Key to each, then switches itself;
- removal: APS Remove Device to a router naming itself, a NWK leave request to an end device;
- a device that leaves on its own (NWK Leave, rejoin clear) is no longer joined: a key update leaves it out,
  and its incoming NWK frame counter goes, so that once factory reset it joins again from counter 0.

Its seeded non-conformances are the ESI catalogue's Behaviour faults (harness/devices/esi.py), each checked
where it acts.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from random import Random
from typing import Any

from harness.crypto import WELL_KNOWN_TC_LINK_KEY
from harness.sim.node import ApsDeliveryError, Node, NodeError
from harness.wire.frames.aps import ApsFrame, KeyType, RemoveDevice, SwitchKey, TransportKey
from harness.wire.frames.mac import AssociationStatus, CapabilityInformation
from harness.wire.frames.nwk import Leave, NwkFrameType, RejoinResponse, RejoinStatus
from harness.wire.frames.types import format_ieee
from harness.wire.material import LinkKeyEntry
from harness.wire.security import KeyId

from .faults import Fault, FaultSet

LOGGER = logging.getLogger(__name__)

#: Entries of the link-key table: more than the 50 HAN devices TC-TC-6.1 admits, as a meter's ESI must serve a
#: home's devices and then some.
KEY_TABLE_SIZE = 64


@dataclass
class HanRecord:
    """A device the Trust Center admitted: its address, its capability and whether it is on the network now."""

    ieee: int
    nwk: int
    capability: int
    joined: bool = False


@dataclass(frozen=True)
class TrustCenterFaults:
    """The ESI catalogue's Trust Center faults, handed over by the device (harness/devices/esi.py)."""

    admits_unknown: Fault  # admits a device without an install code, under the well-known key
    well_known_key: Fault  # sends every network key under the well-known key's key-transport key
    transport_key_source_zero: Fault  # Transport Key's source address field 0 instead of its own IEEE
    ignores_permit_window: Fault  # answers association requests while its window is closed
    permit_window_short: Fault  # closes its window early: half the time it was told
    key_update_same_seq: Fault  # distributes a new network key under the active key sequence number
    no_switch_key: Fault  # distributes a new key and switches itself, never sending Switch Key
    remove_device_unsecured: Fault  # sends Remove Device without APS security
    leave_request_rejoin: Fault  # removes an end device with a leave request that has the rejoin bit set
    refuses_known_rejoin: Fault  # ignores the Trust Center rejoin of a device it admitted
    rejoin_response_unsecured: Fault  # answers a secured rejoin with an unsecured Rejoin Response
    rejoin_admits_unknown: Fault  # answers an unknown device's Trust Center rejoin with the network key
    small_key_table: Fault  # a 32-entry link-key table that drops its oldest entry
    left_device_kept_joined: Fault  # takes no notice of a device's own NWK Leave: joined still, its counter kept
    left_device_counter_kept: Fault  # takes a device that left as gone, but keeps its incoming NWK frame counter


class EsiTrustCenter:
    """Attach to the ESI's coordinator node; the node's stack calls the hooks below (association_request,
    rejoin_request, device_left, device_announced, aps_command)."""

    def __init__(self, node: Node, faults: FaultSet, known: TrustCenterFaults, rng: Random) -> None:
        self.node = node
        self.faults = faults
        self.known = known
        self._rng = rng
        node.trust_center = self
        #: IEEE -> the preconfigured link key of its install code, oldest first (the link-key table).
        self.key_table: OrderedDict[int, bytes] = OrderedDict()
        self.devices: dict[int, HanRecord] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.on_admitted: list[Callable[[int, int], None]] = []  # (ieee, nwk): for the device's own log

    # -- the head end's actions ------------------------------------------------------------------------------

    def add_install_code_key(self, ieee: int, link_key: bytes) -> None:
        """Hold *link_key* for *ieee* in the link-key table (a full table refuses more; see KEY_TABLE_SIZE)."""
        self.key_table.pop(ieee, None)
        size = 32 if self.faults.has(self.known.small_key_table) else KEY_TABLE_SIZE
        if len(self.key_table) >= size:
            if not self.faults.has(self.known.small_key_table):
                raise NodeError(f"the link-key table is full ({size} entries)")
            evicted, _key = self.key_table.popitem(last=False)  # the seeded fault: the oldest entry goes
            self.node.security.link_keys.pop(evicted, None)
        self.key_table[ieee] = bytes(link_key)
        self.node.set_link_key(ieee, link_key)

    def permit_joining(self, seconds: int) -> None:
        if self.faults.has(self.known.permit_window_short) and seconds > 0:
            seconds = max(1, seconds // 2)
        self.node.permit_joining(seconds)

    def forget_all(self) -> None:
        """A factory reset: the table, the devices and their keys go."""
        for ieee in list(self.key_table):
            self.node.security.link_keys.pop(ieee, None)
        self.key_table.clear()
        self.devices.clear()
        for task in list(self._tasks):
            task.cancel()

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = self.node.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def remove_device(self, ieee: int) -> None:
        """Remove a joined device (Zigbee 4.4.5.1): APS Remove Device to a router naming itself (its parent and
        target are the same in this single-hop network), secured with its link key; a NWK leave request to an
        end device, our child."""
        record = self.devices.get(ieee)
        entry = self.node.security.link_keys.get(ieee)
        if record is None or entry is None:
            LOGGER.info("ESI: cannot remove %s: not a device it admitted", format_ieee(ieee))
            return
        if not record.capability & 0x02:  # the device-type bit clear: an end device
            rejoin = self.faults.has(self.known.leave_request_rejoin)
            self.node.nwk_send(record.nwk, Leave(rejoin=rejoin, request=True).serialize(), NwkFrameType.COMMAND,
                               dst_ieee=ieee, radius=1)
        else:
            frame = ApsFrame.command(self.node.security.next_aps_counter(), RemoveDevice(ieee))
            unsecured = self.faults.has(self.known.remove_device_unsecured)
            try:
                await self.node.aps_send_reliably(
                    record.nwk, frame, encrypt_key=None if unsecured else entry.key, key_id=KeyId.DATA,
                    counter_entry=None if unsecured else entry)
            except ApsDeliveryError as exc:
                LOGGER.info("ESI: Remove Device did not reach %s: %s", format_ieee(ieee), exc)
        record.joined = False
        del self.devices[ieee]  # removed: a Trust Center rejoin of it is refused from now on

    async def update_network_key(self, key: bytes) -> None:
        """Distribute *key* to every joined device under the next key sequence number, then Switch Key to each,
        then use it (Zigbee 4.6.3.4)."""
        security = self.node.security
        active = security.active_key_seq or 0
        seq = active if self.faults.has(self.known.key_update_same_seq) else (active + 1) & 0xFF
        reached = []
        for record in [r for r in self.devices.values() if r.joined]:
            entry = security.link_keys.get(record.ieee)
            if entry is None:
                continue
            transport = TransportKey(KeyType.STANDARD_NETWORK_KEY, bytes(key), seq, record.ieee, self._source())
            try:
                await self.node.aps_send_reliably(
                    record.nwk, ApsFrame.command(security.next_aps_counter(), transport),
                    encrypt_key=self._transport_key_for(entry), key_id=KeyId.KEY_TRANSPORT, counter_entry=entry)
                reached.append(record)
            except ApsDeliveryError:
                LOGGER.info("ESI: the new network key did not reach %s", format_ieee(record.ieee))
        security.network_keys[seq] = bytes(key)
        if not self.faults.has(self.known.no_switch_key):
            for record in reached:
                entry = security.link_keys[record.ieee]
                try:
                    await self.node.aps_send_reliably(
                        record.nwk, ApsFrame.command(security.next_aps_counter(), SwitchKey(seq)),
                        encrypt_key=entry.key, key_id=KeyId.DATA, counter_entry=entry)
                except ApsDeliveryError:
                    LOGGER.info("ESI: Switch Key did not reach %s", format_ieee(record.ieee))
        security.active_key_seq = seq

    # -- hooks the coordinator's stack calls -----------------------------------------------------------------

    def association_request(self, ieee: int, capability: CapabilityInformation) -> None:
        node = self.node
        if not node.permitting and not self.faults.has(self.known.ignores_permit_window):
            return  # its window is closed: association requests go unanswered (802.15.4-2006 7.5.3.1)
        key = self.key_table.get(ieee)
        if key is None and self.faults.has(self.known.admits_unknown):
            key = WELL_KNOWN_TC_LINK_KEY  # the seeded fault: the old Zigbee default, which SE forbids
            node.set_link_key(ieee, key)
        if key is None:
            LOGGER.info("ESI: refusing %s: no install code for it", format_ieee(ieee))
            node.send_association_response(ieee, 0xFFFF, AssociationStatus.PAN_ACCESS_DENIED)
            return
        record = self.devices.get(ieee)
        nwk = record.nwk if record is not None else self._new_address()
        self.devices[ieee] = HanRecord(ieee, nwk, capability.to_byte())
        node.address_map[nwk] = ieee
        node.send_association_response(ieee, nwk, AssociationStatus.SUCCESS)
        node.loop.call_soon(self._send_network_key, ieee)

    def rejoin_request(self, nwk: int, ieee: int | None, secured: bool) -> None:
        node = self.node
        record = self.devices.get(ieee) if ieee is not None else None
        if ieee is not None and record is None and not secured and self.faults.has(self.known.rejoin_admits_unknown):
            node.set_link_key(ieee, WELL_KNOWN_TC_LINK_KEY)  # the seeded fault: lets an unknown device in
            record = self.devices[ieee] = HanRecord(ieee, nwk, 0x8E)
        if ieee is None or record is None or ieee not in node.security.link_keys:
            LOGGER.info("ESI: ignoring a rejoin from an unknown device (%s)", format_ieee(ieee) if ieee else "?")
            return
        if not secured and self.faults.has(self.known.refuses_known_rejoin):
            return
        record.nwk = nwk
        node.address_map[nwk] = ieee
        unsecured = secured and self.faults.has(self.known.rejoin_response_unsecured)
        node.nwk_send(nwk, RejoinResponse(nwk, RejoinStatus.SUCCESS).serialize(), NwkFrameType.COMMAND,
                      secure=secured and not unsecured, dst_ieee=ieee, radius=1)
        if secured:
            record.joined = True
        else:  # a Trust Center rejoin: the current network key under its link key (Zigbee 4.6.3.6.1)
            node.loop.call_soon(self._send_network_key, ieee)

    # The device table's bookkeeping repeats the simulator's Trust Center (harness/sim/trust_center.py) on
    # purpose: that one serves the golden, which judges this one; a shared table would let one bug hide on both sides.
    def device_announced(self, nwk: int, ieee: int) -> None:
        record = self.devices.get(ieee)
        if record is not None:
            record.nwk = nwk
            record.joined = True

    def device_left(self, nwk: int, ieee: int | None, rejoin: bool) -> None:
        ieee = ieee if ieee is not None else self.node.address_map.get(nwk)
        record = self.devices.get(ieee) if ieee is not None else None
        if record is None or ieee is None or self.faults.has(self.known.left_device_kept_joined):
            return
        record.joined = False  # a key update leaves it out from now on
        # Gone: its NWK frame counters start afresh if it joins again (Zigbee 3.6.1.10: its parent forgets it).
        if not rejoin and not self.faults.has(self.known.left_device_counter_kept):
            self.node.security.nwk_rx_counters.pop(ieee, None)

    def aps_command(self, nwk: int, ieee: int | None, command: object) -> None:
        """Request Key and Update Device: a single-hop network has no routers reporting joins, and its devices
        get their link keys by CBKE, so both are only logged."""
        LOGGER.debug("ESI: APS command %s from 0x%04X", type(command).__name__, nwk)

    # -- its own workings --------------------------------------------------------------------------------------

    def _source(self) -> int:
        return 0 if self.faults.has(self.known.transport_key_source_zero) else self.node.ieee

    def _transport_key_for(self, entry: LinkKeyEntry) -> bytes:
        return WELL_KNOWN_TC_LINK_KEY if self.faults.has(self.known.well_known_key) else entry.key

    def _send_network_key(self, ieee: int) -> None:
        node = self.node
        record = self.devices.get(ieee)
        entry = node.security.link_keys.get(ieee)
        if record is None or entry is None or node.security.network_key is None:
            return
        entry.rx_counter = None  # a fresh exchange: the device holds no APS counter of ours yet
        transport = TransportKey(KeyType.STANDARD_NETWORK_KEY, node.security.network_key,
                                 node.security.active_key_seq, ieee, self._source())
        node.aps_send_frame(record.nwk, ApsFrame.command(node.security.next_aps_counter(), transport),
                            encrypt_key=self._transport_key_for(entry), key_id=KeyId.KEY_TRANSPORT,
                            counter_entry=entry, nwk_secure=False)  # it holds no network key yet
        record.joined = True
        for listener in list(self.on_admitted):
            listener(ieee, record.nwk)

    def _new_address(self) -> int:
        """Stochastic addressing (Zigbee 3.6.1.7) from the device's seeded generator."""
        used = {r.nwk for r in self.devices.values()} | {self.node.nwk}
        while True:
            candidate = self._rng.randint(0x0001, 0xFFF7)
            if candidate not in used:
                return candidate

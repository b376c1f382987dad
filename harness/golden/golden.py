"""The golden side of a scenario: Trust Center policy, a ZDO client and the ESI endpoint on one radio.

It observes through the radio's raw packet tap (``register_packet_callback``: every APS frame with its
tx_options, ZDO included) and zigpy's listener events (``device_joined`` / ``device_left``).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import zigpy.exceptions
import zigpy.types as t
import zigpy.zdo.types as zdo_t
from zigpy.zdo.types import ZDOCmd

from harness.clock import Clock
from harness.errors import BenchFault, DeliveryFault, DutFailure, DutSilent, MalformedDutFrame
from harness.golden.esi import DrlcServer, MessagingServer, PriceServer, TimeServer
from harness.golden.esi.common import utc_seconds
from harness.golden.ke import GoldenKe
from harness.golden.meter import DemandProfile, GoldenMeter
from harness.ke import KeEngine
from harness.ke.frames import KeCommand, KeFrameError, parse_payload
from harness.se.clusters import Basic, KeyEstablishment, Time
from harness.se.datamodel import SE_PROFILE_ID, Side, load_datamodel
from harness.wire.frames import FrameError
from harness.wire.frames.zdo import ZdoMessage, deserialize_zdo, serialize_zdo
from harness.zcl.engine import ZclEngine, describe_address
from harness.zcl.errors import Finding, FindingKind, MalformedFrame
from harness.zcl.frame import parse_frame
from harness.zcl.store import AttributeStore

from .trust_center import GoldenTrustCenter

LOGGER = logging.getLogger(__name__)

ESI_ENDPOINT = 1
ESI_DEVICE_ID = load_datamodel().device_type("SE-ESP").device_id
ZDO_PROFILE = 0x0000


class NoResponse(DutSilent):
    """The DUT did not answer (no APS ack, or no response before the deadline): an observation, not a bench fault."""

    default_expectation = "a ZDO response from the DUT before the deadline"
    default_rule = "Zigbee 2.4.3 / 2.4.4: ZDO client requests are answered"


class GoldenError(BenchFault, RuntimeError):
    """The golden side could not do what a step asked (radio refused, nothing to act on): a bench fault."""

    retryable = True


@dataclass
class UndecodableFrame:
    """A frame from the DUT the golden could not decode (ZCL, ZDO, Key Establishment, or zigpy's own decoding):
    a finding that fails the case at its next step or at teardown (harness/plugin.py), with its bytes."""

    time: float
    source: str
    what: str  # "ZCL frame", "ZDO Active_EP_rsp", ...
    reason: str
    raw: bytes
    reported: bool = False  # already raised (to a waiting request or a step)

    def failure(self, more: int = 0) -> MalformedDutFrame:
        extra = f" (and {more} more undecodable frame(s) from the DUT in this case)" if more else ""
        return MalformedDutFrame(f"{self.reason} at t={self.time:.3f}s{extra}", self.raw, what=self.what,
                                 source=self.source)


@dataclass(frozen=True)
class ZdoEvent:
    time: float
    src_nwk: int
    message: ZdoMessage | None
    raw: bytes
    error: str | None = None


class Golden:
    """One per scenario; ``await start()`` after the radio formed the network."""

    def __init__(self, app, clock: Clock, *, demand_seed: int | None = None) -> None:
        """*demand_seed* draws the household's demand the golden meter serves (the case's random state in a
        suite run, harness/rng.py); without one, the meter's fixed default household."""
        self.app = app
        self.clock = clock
        store = AttributeStore()
        for cluster_id in (Basic.cluster_id, Time.cluster_id, KeyEstablishment.cluster_id):
            store.add_cluster(ESI_ENDPOINT, cluster_id, Side.SERVER)
        store.add_cluster(ESI_ENDPOINT, KeyEstablishment.cluster_id, Side.CLIENT)
        self.engine = ZclEngine(self._send, store=store, on_finding=self._zcl_finding)
        # Frames from the DUT that did not decode, for the plugin to fail the case with (take_failure()).
        self.undecodable: list[UndecodableFrame] = []
        # The utility meter the ESI endpoint also plays (Simple Metering server, with an access log).
        self.meter = GoldenMeter(store, clock, endpoint=ESI_ENDPOINT, send=self._send, next_tsn=self.engine.next_tsn,
                                 profile=DemandProfile(seed=demand_seed) if demand_seed is not None else None)
        # The ESI's application services (issue 6): the network clock, demand response, price and messaging.
        self.time_server = TimeServer(self.engine, clock, endpoint=ESI_ENDPOINT)
        self.drlc = DrlcServer(self.engine, clock, endpoint=ESI_ENDPOINT)
        self.price = PriceServer(self.engine, clock, endpoint=ESI_ENDPOINT)
        self.messaging = MessagingServer(self.engine, clock, endpoint=ESI_ENDPOINT)
        # The SE Trust Center policy and what it saw (admissions, leaves).
        self.trust_center = GoldenTrustCenter(app, clock)
        self.zdo_events: list[ZdoEvent] = []
        self._zdo_tsn = 0x40
        self._zdo_waiters: dict[tuple[int, int], asyncio.Future] = {}
        self._tasks: set[asyncio.Task] = set()
        # Key Establishment (CBKE) on the ESI endpoint, once the bench enables it (enable_key_establishment).
        self.ke: GoldenKe | None = None
        # On a real bench the DUT carries over from the previous scenario: frames it sent before its factory
        # reset can still reach the host after this scenario started (the NCP's callback queue runs behind).
        # ignore_se_until_admission() makes the golden drop SE frames until the scenario admits a device, so a
        # stale Initiate is not answered into the DUT's next life; they are kept here for the log.
        self._se_held_until_admission = False
        self.stale_packets: list[tuple[float, t.ZigbeePacket]] = []
        self._unsubscribe = app.register_packet_callback(None, self._packet)
        on_undecodable = getattr(app, "on_undecodable", None)  # harness.radio.UndecodableTap
        self._untap = on_undecodable(self._zigpy_undecodable) if on_undecodable is not None else None
        app.add_listener(self)

    # -- what the DUT sent that does not decode ---------------------------------------------------------------

    def _own_source(self, source: str) -> bool:
        """Whether a source text (``0x1234``, a NWK address) names the golden itself."""
        try:
            return int(source, 16) == int(self.app.state.node_info.nwk)
        except (AttributeError, TypeError, ValueError):
            return False

    def _record(self, source: str, what: str, reason: str, raw: bytes) -> UndecodableFrame | None:
        if self._own_source(source):
            return None  # the golden talking to itself (zigpy interviews its own coordinator)
        finding = UndecodableFrame(self.clock.monotonic(), source, what, reason, bytes(raw))
        LOGGER.info("undecodable %s from %s: %s (raw %s)", what, source, reason, finding.raw.hex())
        self.undecodable.append(finding)
        return finding

    def _undecodable(self, packet: t.ZigbeePacket, what: str, reason: str, raw: bytes) -> UndecodableFrame | None:
        return self._record(describe_address(packet.src), what, reason, raw)  # the source as ZCL findings name it

    def _zcl_finding(self, finding: Finding) -> None:
        if finding.kind not in (FindingKind.MALFORMED_FRAME, FindingKind.MALFORMED_PAYLOAD):
            return  # a security or handler finding is judged elsewhere, not a decode error
        what = f"ZCL frame on cluster 0x{finding.cluster_id:04X}" if finding.cluster_id is not None else "ZCL frame"
        self._record(finding.source, what, finding.reason, finding.raw)

    def _zigpy_undecodable(self, packet: t.ZigbeePacket, exc: Exception) -> None:
        self._undecodable(packet, f"frame on profile 0x{int(packet.profile_id or 0):04X} cluster "
                                  f"0x{int(packet.cluster_id or 0):04X}", f"zigpy: {type(exc).__name__}: {exc}",
                          _payload(packet))

    def take_failure(self) -> MalformedDutFrame | None:
        """The first undecodable DUT frame not yet raised, as the failure to raise (None when there is none);
        all pending ones count as reported from here on."""
        pending = [f for f in self.undecodable if not f.reported]
        if not pending:
            return None
        for finding in pending:
            finding.reported = True
        return pending[0].failure(len(pending) - 1)

    def adopt_findings(self, old: Golden) -> None:
        """Keep what an earlier golden of the same scenario found (the golden radio was restarted)."""
        self.undecodable[:0] = old.undecodable

    # -- zigpy listener events -----------------------------------------------------------------------------

    def device_joined(self, device) -> None:
        self.trust_center.device_joined(device)

    def device_left(self, device) -> None:
        self.trust_center.device_left(device)

    # -- raw packets ----------------------------------------------------------------------------------------

    async def _send(self, packet: t.ZigbeePacket) -> None:
        await self.app.send_packet(packet)

    def ignore_se_until_admission(self) -> None:
        """Drop SE frames until this scenario's Trust Center first admits a device (see __init__)."""
        self._se_held_until_admission = True

    def _stale(self, packet: t.ZigbeePacket) -> bool:
        if not self._se_held_until_admission or self.trust_center.admitting_since is not None:
            return False
        self.stale_packets.append((self.clock.monotonic(), packet))
        LOGGER.debug("dropped a stale SE frame (cluster 0x%04X) from 0x%04X: it arrived before this scenario "
                     "admitted any device", int(packet.cluster_id), int(packet.src.address))
        return True

    def _packet(self, packet: t.ZigbeePacket) -> None:
        if packet.profile_id == SE_PROFILE_ID:
            if self._stale(packet):
                return
            self.meter.observe(packet)
            reply = self.meter.fast_reply(packet)
            if reply is not None:  # a plain meter read: answered without the ZCL engine (see GoldenMeter)
                task = asyncio.get_running_loop().create_task(self.app.send_packet(reply))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                return
            # KE frames go through the KE state machine first (it answers even malformed ones), the rest on.
            if int(packet.cluster_id) == KeyEstablishment.cluster_id:
                self._judge_ke_payload(packet)
            handle = self.ke.handle if self.ke is not None else self.engine.handle
            task = asyncio.get_running_loop().create_task(handle(packet))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif packet.profile_id == ZDO_PROFILE and packet.dst_ep == 0:
            self._zdo_packet(packet)

    def _judge_ke_payload(self, packet: t.ZigbeePacket) -> None:
        """A Key Establishment command whose payload does not have its command's layout is a finding (the KE
        state machine still answers it with Terminate BAD_MESSAGE); a frame that is not ZCL at all is the
        ZCL engine's finding."""
        raw = _payload(packet)
        try:
            frame = parse_frame(raw)
        except MalformedFrame:
            return
        if frame.is_general or frame.manufacturer is not None or frame.command_id not in set(KeCommand):
            return
        try:
            parse_payload(frame.command_id, frame.payload)
        except KeFrameError as exc:
            self._undecodable(packet, f"Key Establishment {KeCommand(frame.command_id).name}", str(exc), raw)

    def _zdo_packet(self, packet: t.ZigbeePacket) -> None:
        raw = packet.data.serialize()
        src = int(packet.src.address)
        try:
            message = deserialize_zdo(packet.cluster_id, raw)
        except FrameError as exc:
            self.zdo_events.append(ZdoEvent(self.clock.monotonic(), src, None, raw, str(exc)))
            cluster = int(packet.cluster_id)
            if _known_zdo(cluster):
                # A ZDO command the golden knows whose payload does not decode (an unknown cluster is no error).
                finding = self._undecodable(packet, f"ZDO {ZDOCmd(cluster).name}", exc.reason, raw)
                waiter = self._zdo_waiters.pop((cluster, raw[0]), None) if raw else None
                if finding is not None and waiter is not None and not waiter.done():
                    finding.reported = True  # the waiting request raises it
                    waiter.set_exception(finding.failure())
            return
        self.zdo_events.append(ZdoEvent(self.clock.monotonic(), src, message, raw))
        waiter = self._zdo_waiters.pop((packet.cluster_id, message.tsn), None)
        if waiter is not None and not waiter.done():
            waiter.set_result(message)

    def esi_time(self) -> float:
        """The network time the ESI serves now, as fractional ZCL UTC seconds (bench clock + Time offset)."""
        return utc_seconds(self.clock) + self.time_server.offset

    # -- ZDO client ------------------------------------------------------------------------------------------

    async def zdo_request(self, nwk: int, command: ZDOCmd, fields: list, timeout: float) -> ZdoMessage:
        """Send a ZDO request and await its response (matched by response cluster and tsn)."""
        self._zdo_tsn = (self._zdo_tsn + 1) & 0xFF
        tsn = self._zdo_tsn
        response_cluster = int(command) | 0x8000
        waiter = asyncio.get_running_loop().create_future()
        self._zdo_waiters[(response_cluster, tsn)] = waiter
        packet = t.ZigbeePacket(
            src_ep=0, dst=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=nwk), dst_ep=0,
            profile_id=ZDO_PROFILE, cluster_id=int(command), tsn=tsn,
            data=t.SerializableBytes(serialize_zdo(command, tsn, fields)), tx_options=t.TransmitOptions.ACK,
        )
        try:
            try:
                await self.app.send_packet(packet)
            except zigpy.exceptions.DeliveryError as exc:
                if isinstance(exc, DutFailure):  # the radio could tell: the DUT did not take the frame
                    raise NoResponse(f"{command.name} to 0x{nwk:04X} was not acknowledged: {exc}") from None
                raise DeliveryFault(f"{command.name} to 0x{nwk:04X}: the golden radio reports it undelivered "
                                    f"({exc}); the link cannot be told from the DUT") from None
            return await self.clock.wait_for(waiter, timeout, f"{command.name} response from 0x{nwk:04X}")
        finally:
            self._zdo_waiters.pop((response_cluster, tsn), None)

    async def zdo_request_aps_secured(self, nwk: int, ieee: int, command: ZDOCmd, fields: list,
                                      timeout: float) -> ZdoMessage:
        """Like zdo_request, the request APS-secured with the link key the golden holds for *ieee* (no APS ack
        requested, so no retry repeats it)."""
        from harness.wire.frames import ApsFrame

        ke = self.ke
        send_frame = getattr(ke, "_aps_send_frame", None)
        next_counter = getattr(ke, "_next_aps_counter", None)
        key_table = getattr(ke, "_key_table", None)
        held = key_table.get(ieee) if key_table is not None else None
        if send_frame is None or next_counter is None or held is None:
            raise GoldenError(f"this golden radio cannot APS-secure a ZDO request to {ieee:016X} (no frame sender "
                              f"or no link key held)")
        self._zdo_tsn = (self._zdo_tsn + 1) & 0xFF
        tsn = self._zdo_tsn
        response_cluster = int(command) | 0x8000
        waiter = asyncio.get_running_loop().create_future()
        self._zdo_waiters[(response_cluster, tsn)] = waiter
        frame = ApsFrame.data(next_counter(), ZDO_PROFILE, int(command), 0, 0, serialize_zdo(command, tsn, fields))
        try:
            send_frame(nwk, frame, encrypt_key=held.key, counter_entry=held)
            return await self.clock.wait_for(waiter, timeout, f"{command.name} response from 0x{nwk:04X}")
        finally:
            self._zdo_waiters.pop((response_cluster, tsn), None)

    def device_annces(self) -> list[ZdoEvent]:
        return [e for e in self.zdo_events if e.message is not None and e.message.command == ZDOCmd.Device_annce]

    # -- Key Establishment -----------------------------------------------------------------------------------

    def learn_from_key_establishment(self, keyring, ca_public_key: bytes | None) -> None:
        """After each CBKE the golden completes: the new link key goes to *keyring* (captures decode the DUT's
        SE frames), and a suite-1 certificate to the DRLC server with the CA's public key *ca_public_key*, so
        an ECDSA-signed Report Event Status can be verified."""
        from harness.ke import KeEventKind

        assert self.ke is not None, "enable key establishment first"
        if ca_public_key is not None:
            self.drlc.ca_public_key = ca_public_key

        def learn(event) -> None:
            if event.kind is not KeEventKind.COMPLETED:
                return
            if event.key is not None and event.partner_ieee is not None:
                keyring.add_link_key(event.partner_ieee, event.key)
            if event.suite == 1 and event.peer_certificate:
                try:
                    self.drlc.register_certificate(event.partner_nwk, event.peer_certificate)
                except ValueError as exc:  # the KE state machine judged the certificate; keep the record
                    LOGGER.info("certificate of 0x%04X not kept for signatures: %s", event.partner_nwk, exc)

        self.ke.on_event(learn)

    def start_key_establishment(self, nwk: int, endpoint: int, ieee: int) -> None:
        """Initiate CBKE with the Trust Center at *nwk* in the background, as a joined SE device does (SE 1.x
        5.4.7): the golden joined a network the DUT formed; its outcome shows in ``ke.events``."""
        if self.ke is None:
            raise GoldenError("the golden has no Key Establishment to initiate with")
        task = asyncio.get_running_loop().create_task(self.ke.initiate(nwk, endpoint, ieee=ieee))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def enable_key_establishment(self, engine: KeEngine, **hooks) -> GoldenKe:
        """Serve Key Establishment on the ESI endpoint with *engine*'s certificates, and make the endpoint
        discoverable (Match_Desc for 0x0800 on profile 0x0109). *hooks*: see harness.golden.ke.GoldenKe."""
        self.ke = GoldenKe(self.engine, ESI_ENDPOINT, engine, self.clock, send=self._send, **hooks)
        store = self.engine.store
        clusters = store.clusters(ESI_ENDPOINT)
        await self.app.add_endpoint(zdo_t.SimpleDescriptor(
            endpoint=ESI_ENDPOINT, profile=SE_PROFILE_ID, device_type=ESI_DEVICE_ID, device_version=0,
            input_clusters=[c for c, side in clusters if side is Side.SERVER],
            output_clusters=[c for c, side in clusters if side is Side.CLIENT],
        ))
        return self.ke

    async def send_without_link_key(self, nwk: int, ieee: int, endpoint: int, cluster_id: int, command_id: int,
                                    payload, *, link_key: bytes | None) -> None:
        """Send a server-to-client cluster command to the DUT APS-secured with *link_key* instead of the link key
        the golden holds for *ieee* (None: NWK security only), to judge that the DUT does not act on it."""
        from harness.wire.frames import ApsFrame
        from harness.wire.material import LinkKeyEntry
        from harness.zcl.engine import direction_to
        from harness.zcl.frame import build_frame

        ke = self.ke
        send_frame = getattr(ke, "_aps_send_frame", None)
        next_counter = getattr(ke, "_next_aps_counter", None)
        key_table = getattr(ke, "_key_table", None)
        if send_frame is None or next_counter is None or key_table is None:
            raise GoldenError("this golden radio cannot send an APS frame under a chosen link key")
        data = build_frame(tsn=self.engine.next_tsn(), command_id=command_id, payload=payload.serialize(),
                           general=False, direction=direction_to(Side.CLIENT))
        frame = ApsFrame.data(next_counter(), SE_PROFILE_ID, cluster_id, ESI_ENDPOINT, endpoint, data)
        if link_key is None:
            send_frame(nwk, frame)
            return
        held = key_table.get(ieee)
        # Go on from the held key's counter, so only the key (not a stale counter) can make the DUT drop it.
        counter = LinkKeyEntry(link_key, tx_counter=held.tx_counter if held is not None else 0)
        send_frame(nwk, frame, encrypt_key=link_key, counter_entry=counter)
        if held is not None:
            held.tx_counter = max(held.tx_counter, counter.tx_counter)

    async def close(self) -> None:
        if self._untap is not None:
            self._untap()
        if self.ke is not None:
            self.ke.close()
        for task in list(self._tasks):
            task.cancel()
        self.meter.close()
        self.engine.close()
        self._unsubscribe()


def _payload(packet: t.ZigbeePacket) -> bytes:
    return packet.data.serialize() if hasattr(packet.data, "serialize") else bytes(packet.data)


def _known_zdo(cluster: int) -> bool:
    """A ZDO cluster zigpy has a schema for (its payload must decode); an unknown one is no decode error."""
    try:
        return ZDOCmd(cluster) in zdo_t.CLUSTERS
    except ValueError:
        return False

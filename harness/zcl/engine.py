"""The ZCL engine: server dispatch and client requests on raw packets (zigpy.types.ZigbeePacket).

Transport-agnostic: it is given an async `send(packet)` and is fed received packets through
`await engine.handle(packet)`. One engine serves all endpoints of one node (the golden ESI/Trust Center or a
reference DUT). Rules follow ZCL 07-5123 (rev 6 as used by SE 1.x):

- Read/Write/Write Undivided/Write No Response/Discover Attributes/Configure Reporting/Read Reporting
  Configuration are answered from the AttributeStore; other general commands get UNSUP_GENERAL_COMMAND.
- Cluster-specific commands go to registered handlers, else UNSUP_CLUSTER_COMMAND; manufacturer-specific
  frames get UNSUP_MANUF_CLUSTER_COMMAND / UNSUP_MANUF_GENERAL_COMMAND; a cluster the endpoint lacks on the
  receiving side gets UNSUPPORTED_CLUSTER.
- Default Response (2.5.12.2): only when no other response was sent, never to a Default Response or another
  response, never to a broadcast or group frame, and suppressed by the disable-default-response bit unless the
  status is an error.
- A frame that is not valid ZCL, or a payload that does not decode, becomes a Finding (engine.findings) and,
  for a decodable unicast header, a MALFORMED_COMMAND Default Response. Nothing escapes handle().
- A frame on a cluster that requires APS encryption (SecurityPolicy) without it becomes a Finding and is
  dropped (refused with a Default Response sent without APS security when the policy says REFUSE, as
  EmberZNet does; processed when it says FLAG).
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Protocol, TypedDict, Unpack

import zigpy.types as t
from zigpy.zcl import foundation
from zigpy.zcl.foundation import (
    AttributeReportingConfig,
    AttributeReportingConfigWithStatus,
    ConfigureReportingResponseRecord,
    DataType,
    DataTypeId,
    Direction,
    DiscoverAttributesResponseRecord,
    GeneralCommand,
    ReadAttributeRecord,
    ReportingDirection,
    Status,
    TypeValue,
    WriteAttributesStatusRecord,
)

from harness.se.clusters import command_def
from harness.se.datamodel import SE_PROFILE_ID, Side
from harness.zcl.errors import Finding, FindingKind, MalformedFrame, ZclStatusError, ZclTimeout
from harness.zcl.frame import (
    DecodedCommand,
    ZclFrame,
    build_frame,
    decode_cluster_command,
    decode_general,
    parse_frame,
)
from harness.zcl.peer import Address, peer_of
from harness.zcl.reporting import REPORTING_OFF, ReportingConfig, ReportScheduler
from harness.zcl.security import SE_SECURITY_POLICY, InsecureFrameAction, SecurityPolicy
from harness.zcl.store import AttributeKey, AttributeStore

LOGGER = logging.getLogger(__name__)

SendFn = Callable[[t.ZigbeePacket], Awaitable[object]]
BROADCAST_ENDPOINT = 0xFF


class Serializable(Protocol):
    """A zigpy value or command schema that encodes itself."""

    def serialize(self) -> bytes: ...


#: A command payload: encoded bytes, or a zigpy value to encode.
Payload = bytes | bytearray | Serializable


class CommandOptions(TypedDict, total=False):
    """Options of `ZclEngine.request` that `command` passes through."""

    disable_default_response: bool
    manufacturer: int | None
    timeout: float


class RequestOptions(CommandOptions, total=False):
    """Options of `ZclEngine.request` that the general-command calls pass through."""

    target: Side


def _encode(payload: Payload) -> bytes:
    return bytes(payload) if isinstance(payload, bytes | bytearray) else payload.serialize()


def receiving_side(direction: Direction) -> Side:
    """A client-to-server frame is received by the server side of the cluster, and vice versa."""
    return Side.SERVER if direction == Direction.Client_to_Server else Side.CLIENT


def direction_to(side: Side) -> Direction:
    """The frame direction that reaches `side` of a cluster."""
    return Direction.Client_to_Server if side is Side.SERVER else Direction.Server_to_Client


def _addr(address: Address) -> t.AddrModeAddress:
    if isinstance(address, t.AddrModeAddress):
        return address
    if isinstance(address, t.EUI64):
        return t.AddrModeAddress(addr_mode=t.AddrMode.IEEE, address=address)
    return t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=t.NWK(address))


def describe_address(address: t.AddrModeAddress | None) -> str:
    if address is None:
        return "?"
    if isinstance(address.address, int) and address.addr_mode != t.AddrMode.IEEE:
        return f"0x{int(address.address):04X}"
    return str(address.address)


class ZclRequest:
    """A received command as a handler sees it; `respond` sends a cluster-specific or general answer."""

    def __init__(
        self, engine: ZclEngine, packet: t.ZigbeePacket, frame: ZclFrame, endpoint: int, command: DecodedCommand
    ) -> None:
        self.engine = engine
        self.packet = packet
        self.frame = frame
        self.endpoint = endpoint
        self.command = command  # the decoded payload (zigpy CommandSchema) or None if no schema is known
        self.side = receiving_side(frame.direction)
        self.responded = False

    @property
    def cluster_id(self) -> int:
        return int(self.packet.cluster_id)

    async def respond(self, command_id: int, payload: Payload = b"", *, general: bool = False) -> None:
        """Answer with the request's sequence number, in the opposite direction."""
        self.responded = True
        await self.engine._reply(self, command_id, payload, general=general)


Handler = Callable[[ZclRequest], Awaitable[Status | None] | Status | None]
ReportListener = Callable[[t.ZigbeePacket, list[foundation.Attribute]], None]
#: Answers one general command from the attribute store, given its decoded payload.
GeneralProcessor = Callable[["ZclRequest", DecodedCommand], Awaitable[Status | None]]
#: What an answer is matched by: the sender's address, the cluster and the sequence number.
PendingKey = tuple[t.NWK | t.EUI64 | t.Group | t.BroadcastAddress | None, int, int]


class _Pending:
    def __init__(self, what: str, accept: Callable[[ZclFrame], bool]) -> None:
        self.what = what
        self.accept = accept
        self.future: asyncio.Future[ZclFrame] = asyncio.get_running_loop().create_future()


class ZclEngine:
    """ZCL server dispatch plus client requests for one node."""

    def __init__(
        self,
        send: SendFn,
        *,
        store: AttributeStore | None = None,
        security: SecurityPolicy = SE_SECURITY_POLICY,
        profile_id: int = SE_PROFILE_ID,
        on_finding: Callable[[Finding], None] | None = None,
    ) -> None:
        self._send = send
        self.store = store if store is not None else AttributeStore()
        self.security = security
        self.profile_id = profile_id
        self.findings: list[Finding] = []
        self._finding_listeners: list[Callable[[Finding], None]] = [on_finding] if on_finding else []
        self._handlers: dict[tuple[int | None, int, Side, int], Handler] = {}
        self._report_listeners: list[ReportListener] = []
        self._pending: dict[PendingKey, list[_Pending]] = {}
        self._tsn = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self.reports = ReportScheduler(self._report_due)
        self._unsubscribe = self.store.subscribe(lambda key, _old, new: self.reports.value_changed(key, new))

    # --- registration --------------------------------------------------------------------------------

    def register_handler(
        self, cluster_id: int, side: Side, command_id: int, handler: Handler, *, endpoint: int | None = None
    ) -> None:
        """Handle cluster command `command_id` received by `side` of `cluster_id` (on one or all endpoints)."""
        self._handlers[(endpoint, cluster_id, side, command_id)] = handler

    def on_finding(self, listener: Callable[[Finding], None]) -> Callable[[], None]:
        """Call *listener* with each finding as it is made (besides `findings`); returns the unsubscribe."""
        self._finding_listeners.append(listener)
        return lambda: self._finding_listeners.remove(listener)

    def on_report(self, listener: ReportListener) -> Callable[[], None]:
        self._report_listeners.append(listener)
        return lambda: self._report_listeners.remove(listener)

    def close(self) -> None:
        self.reports.close()
        self._unsubscribe()
        for task in self._tasks:
            task.cancel()

    def next_tsn(self) -> int:
        return next(self._tsn) & 0xFF

    def _finding(self, kind: FindingKind, reason: str, packet: t.ZigbeePacket, raw: bytes) -> None:
        finding = Finding(kind, reason, raw, describe_address(packet.src), int(packet.cluster_id))
        LOGGER.info("ZCL finding: %s", finding)
        self.findings.append(finding)
        for listener in list(self._finding_listeners):
            listener(finding)

    # --- receive -------------------------------------------------------------------------------------

    async def handle(self, packet: t.ZigbeePacket) -> None:
        """Process one received packet. Never raises for anything the peer sent."""
        if int(packet.profile_id) != self.profile_id:
            return  # ZDO and other profiles are someone else's
        raw = packet.data.serialize()
        cluster_id = int(packet.cluster_id)
        if not self.security.accepts(cluster_id, packet.tx_options):
            self._finding(FindingKind.MISSING_APS_SECURITY, "frame without APS encryption", packet, raw)
            if self.security.on_missing is InsecureFrameAction.DROP:
                return
            if self.security.on_missing is InsecureFrameAction.REFUSE:
                await self._refuse(packet, raw)
                return
        try:
            frame = parse_frame(raw)
        except MalformedFrame as exc:
            self._finding(FindingKind.MALFORMED_FRAME, exc.reason, packet, raw)
            return
        try:
            if self._resolve_pending(packet, frame):
                if frame.is_general:
                    return
                if self._handler_for(packet, frame) is None:
                    # An awaited cluster response nobody handles: acknowledge as the DDR bit asks.
                    await self._default_response(packet, frame, int(packet.dst_ep or 0), Status.SUCCESS)
                    return
            await self._dispatch(packet, frame)
        except Exception as exc:  # a handler bug must not take the node down; keep it as a finding
            LOGGER.exception("ZCL dispatch failed")
            self._finding(FindingKind.HANDLER_ERROR, f"{type(exc).__name__}: {exc}", packet, raw)

    async def _refuse(self, packet: t.ZigbeePacket, raw: bytes) -> None:
        """Answer a frame that lacks its APS security with the policy's Default Response status, itself sent
        without APS security (InsecureFrameAction.REFUSE); responses and malformed frames get none."""
        try:
            frame = parse_frame(raw)
        except MalformedFrame:
            return
        if frame.is_general_response:
            return
        await self._default_response(packet, frame, int(packet.dst_ep or 0), self.security.refusal_status,
                                     aps_encryption=False)

    def _resolve_pending(self, packet: t.ZigbeePacket, frame: ZclFrame) -> bool:
        key: PendingKey = (packet.src.address if packet.src else None, int(packet.cluster_id), frame.tsn)
        for pending in self._pending.get(key, []):
            if not pending.future.done() and pending.accept(frame):
                pending.future.set_result(frame)
                return True
        return False

    def _endpoints_for(self, packet: t.ZigbeePacket, side: Side) -> list[int]:
        dst_ep = int(packet.dst_ep) if packet.dst_ep is not None else BROADCAST_ENDPOINT
        if dst_ep != BROADCAST_ENDPOINT:
            return [dst_ep]
        return [ep for ep in self.store.endpoints() if self.store.has_cluster(ep, int(packet.cluster_id), side)]

    @staticmethod
    def _is_broadcast(packet: t.ZigbeePacket) -> bool:
        dst = packet.dst
        if dst is None:
            return False
        if dst.addr_mode in (t.AddrMode.Group, t.AddrMode.Broadcast):
            return True
        return dst.addr_mode == t.AddrMode.NWK and isinstance(dst.address, int) and dst.address >= 0xFFF8

    async def _dispatch(self, packet: t.ZigbeePacket, frame: ZclFrame) -> None:
        side = receiving_side(frame.direction)
        cluster_id = int(packet.cluster_id)
        if frame.is_general_response:
            return  # unsolicited responses (late, or for someone else) need no answer
        endpoints = self._endpoints_for(packet, side)
        if frame.is_general and frame.command_id == GeneralCommand.Report_Attributes:
            # Reports reach the listeners whether or not this node carries the reporting cluster's peer side.
            endpoints = endpoints[:1] or [int(packet.dst_ep or 0)]
        elif len(endpoints) == 1 and not self.store.has_cluster(endpoints[0], cluster_id, side):
            await self._default_response(packet, frame, endpoints[0], Status.UNSUPPORTED_CLUSTER)
            return
        for endpoint in endpoints:
            request = ZclRequest(self, packet, frame, endpoint, None)
            status = await self._process(request)
            if status is not None and not request.responded:
                await self._default_response(packet, frame, endpoint, status)

    async def _process(self, request: ZclRequest) -> Status | None:
        frame = request.frame
        if frame.manufacturer is not None:
            return Status.UNSUP_MANUF_GENERAL_COMMAND if frame.is_general else Status.UNSUP_MANUF_CLUSTER_COMMAND
        try:
            if frame.is_general:
                return await self._process_general(request)
            return await self._process_cluster(request)
        except MalformedFrame as exc:
            self._finding(FindingKind.MALFORMED_PAYLOAD, exc.reason, request.packet, frame.raw)
            return Status.MALFORMED_COMMAND

    def _handler_for(self, packet: t.ZigbeePacket, frame: ZclFrame, endpoint: int | None = None) -> Handler | None:
        side = receiving_side(frame.direction)
        endpoint = int(packet.dst_ep or 0) if endpoint is None else endpoint
        cluster_id = int(packet.cluster_id)
        return self._handlers.get((endpoint, cluster_id, side, frame.command_id)) or self._handlers.get(
            (None, cluster_id, side, frame.command_id)
        )

    async def _process_cluster(self, request: ZclRequest) -> Status | None:
        frame = request.frame
        handler = self._handler_for(request.packet, frame, request.endpoint)
        if handler is None:
            return Status.UNSUP_CLUSTER_COMMAND
        definition = command_def(request.cluster_id, request.side, frame.command_id)
        if definition is not None:
            request.command = decode_cluster_command(frame, definition)
        result = handler(request)
        if inspect.isawaitable(result):
            result = await result
        return Status.SUCCESS if result is None else Status(result)

    async def _process_general(self, request: ZclRequest) -> Status | None:
        command = request.frame.command_id
        processors: dict[int, GeneralProcessor] = {
            GeneralCommand.Read_Attributes: self._read_attributes,
            GeneralCommand.Write_Attributes: self._write_attributes,
            GeneralCommand.Write_Attributes_Undivided: self._write_attributes,
            GeneralCommand.Write_Attributes_No_Response: self._write_attributes,
            GeneralCommand.Discover_Attributes: self._discover_attributes,
            GeneralCommand.Configure_Reporting: self._configure_reporting,
            GeneralCommand.Read_Reporting_Configuration: self._read_reporting_configuration,
            GeneralCommand.Report_Attributes: self._report_attributes,
        }
        process = processors.get(command)
        if process is None:
            return Status.UNSUP_GENERAL_COMMAND
        return await process(request, decode_general(request.frame))

    def _key(self, request: ZclRequest, attr_id: int) -> AttributeKey:
        return AttributeKey(request.endpoint, request.cluster_id, request.side, int(attr_id))

    async def _read_attributes(self, request: ZclRequest, cmd: DecodedCommand) -> Status | None:
        records = [self.store.read_record(self._key(request, a)) for a in cmd.attribute_ids]
        await request.respond(GeneralCommand.Read_Attributes_rsp, t.List[ReadAttributeRecord](records), general=True)
        return None

    async def _write_attributes(self, request: ZclRequest, cmd: DecodedCommand) -> Status | None:
        command = request.frame.command_id
        checked = [(rec, self.store.check_write(self._key(request, rec.attrid), rec.value)) for rec in cmd.attributes]
        failed = [WriteAttributesStatusRecord(status=s, attrid=rec.attrid) for rec, s in checked if s != Status.SUCCESS]
        # Undivided: all or nothing (ZCL 2.5.4); plain and no-response writes store every valid record.
        if not (command == GeneralCommand.Write_Attributes_Undivided and failed):
            for rec, status in checked:
                if status == Status.SUCCESS:
                    self.store.write(self._key(request, rec.attrid), rec.value)
        if command == GeneralCommand.Write_Attributes_No_Response:
            return Status.SUCCESS  # no Write Attributes Response; the Default Response rules still apply
        response = foundation.WriteAttributesResponse(failed or [WriteAttributesStatusRecord(status=Status.SUCCESS)])
        await request.respond(GeneralCommand.Write_Attributes_rsp, response, general=True)
        return None

    async def _discover_attributes(self, request: ZclRequest, cmd: DecodedCommand) -> Status | None:
        entries = [
            (attr_id, entry)
            for attr_id, entry in self.store.entries(request.endpoint, request.cluster_id, request.side)
            if attr_id >= cmd.start_attribute_id
        ]
        listed = entries[: cmd.max_attribute_ids]
        records = [DiscoverAttributesResponseRecord(attrid=a, datatype=e.type_id) for a, e in listed]
        payload = t.Bool(len(listed) == len(entries)).serialize()
        payload += t.List[DiscoverAttributesResponseRecord](records).serialize()
        await request.respond(GeneralCommand.Discover_Attributes_rsp, payload, general=True)
        return None

    def _reporting_status(self, request: ZclRequest, cfg: AttributeReportingConfig) -> Status:
        key = self._key(request, cfg.attrid)
        entry = self.store.entry(key)
        if entry is None:
            return Status.UNSUPPORTED_ATTRIBUTE
        if cfg.direction == ReportingDirection.ReceiveReports:
            return Status.SUCCESS  # timeout periods are accepted and not enforced
        if not entry.reportable:
            return Status.UNREPORTABLE_ATTRIBUTE
        if int(cfg.datatype) != entry.type_id:
            return Status.INVALID_DATA_TYPE
        if cfg.max_interval not in (0, REPORTING_OFF) and cfg.min_interval > cfg.max_interval:
            return Status.INVALID_VALUE
        return Status.SUCCESS

    async def _configure_reporting(self, request: ZclRequest, cmd: DecodedCommand) -> Status | None:
        records = []
        for cfg in cmd.config_records:
            status = self._reporting_status(request, cfg)
            records.append(ConfigureReportingResponseRecord(status=status, direction=cfg.direction, attrid=cfg.attrid))
            if status != Status.SUCCESS or cfg.direction != ReportingDirection.SendReports:
                continue
            key = self._key(request, cfg.attrid)
            sender = peer_of(request.packet)
            config = ReportingConfig(
                key=key,
                type_id=int(cfg.datatype),
                min_interval=int(cfg.min_interval),
                max_interval=int(cfg.max_interval),
                reportable_change=getattr(cfg, "reportable_change", None),
                destination=_addr(sender.address),
                destination_endpoint=sender.endpoint,
            )
            self.reports.configure(config, self.store.get(key))
        await request.respond(
            GeneralCommand.Configure_Reporting_rsp, foundation.ConfigureReportingResponse(records), general=True
        )
        return None

    async def _read_reporting_configuration(self, request: ZclRequest, cmd: DecodedCommand) -> Status | None:
        out = []
        for rec in cmd.attribute_records:
            key = self._key(request, rec.attrid)
            cfg = AttributeReportingConfig()
            cfg.direction, cfg.attrid = ReportingDirection(rec.direction), rec.attrid
            entry, config = self.store.entry(key), self._reporting_config(key)
            if entry is None:
                status = Status.UNSUPPORTED_ATTRIBUTE
            elif not entry.reportable:
                status = Status.UNREPORTABLE_ATTRIBUTE
            elif config is None or rec.direction != ReportingDirection.SendReports:
                status = Status.NOT_FOUND
            else:
                status = Status.SUCCESS
                cfg.datatype = DataTypeId(config.type_id)
                cfg.min_interval, cfg.max_interval = config.min_interval, config.max_interval
                if config.reportable_change is not None:  # analog types only, as zigpy decodes it
                    cfg.reportable_change = config.reportable_change
            out.append(AttributeReportingConfigWithStatus(status=status, config=cfg))
        payload = b"".join(r.serialize() for r in out)
        await request.respond(GeneralCommand.Read_Reporting_Configuration_rsp, payload, general=True)
        return None

    def _reporting_config(self, key: AttributeKey) -> ReportingConfig | None:
        """The reporting configuration Read Reporting Configuration answers with for *key*."""
        return self.reports.get(key)

    async def _report_attributes(self, request: ZclRequest, cmd: DecodedCommand) -> Status | None:
        for listener in list(self._report_listeners):
            listener(request.packet, list(cmd.attribute_reports))
        return Status.SUCCESS

    # --- send ----------------------------------------------------------------------------------------

    async def _reply(self, request: ZclRequest, command_id: int, payload: Payload, *, general: bool) -> None:
        body = _encode(payload)
        data = build_frame(
            tsn=request.frame.tsn,
            command_id=command_id,
            payload=body,
            general=general,
            direction=request.frame.direction.flip(),
            disable_default_response=True,
            manufacturer=request.frame.manufacturer,
        )
        sender = peer_of(request.packet)
        await self._transmit(
            _addr(sender.address), sender.endpoint, request.endpoint, request.cluster_id, request.frame.tsn, data
        )

    async def _default_response(self, packet: t.ZigbeePacket, frame: ZclFrame, endpoint: int, status: Status, *,
                                aps_encryption: bool = True) -> None:
        # ZCL 2.5.12.2: never to broadcasts/groups; the DDR bit suppresses only SUCCESS.
        if self._is_broadcast(packet) or int(packet.dst_ep or 0) == BROADCAST_ENDPOINT:
            return
        if frame.disable_default_response and status == Status.SUCCESS:
            return
        await self._send_default_response(packet, frame, endpoint, status, aps_encryption=aps_encryption)

    async def _send_default_response(self, packet: t.ZigbeePacket, frame: ZclFrame, endpoint: int, status: Status,
                                     *, aps_encryption: bool = True, disable_default_response: bool = True) -> None:
        """Send a Default Response to *frame* (its rules are `_default_response`'s): the request's sequence number
        and command id, the opposite direction, the DDR bit set (ZCL 2.4.1.1.4: set in every response; a reference
        device's seeded fault may clear it), and the request's manufacturer code."""
        payload = foundation.DefaultResponse(command_id=frame.command_id, status=status).serialize()
        data = build_frame(
            tsn=frame.tsn,
            command_id=GeneralCommand.Default_Response,
            payload=payload,
            general=True,
            direction=frame.direction.flip(),
            disable_default_response=disable_default_response,
            manufacturer=frame.manufacturer,
        )
        sender = peer_of(packet)
        await self._transmit(_addr(sender.address), sender.endpoint, endpoint, int(packet.cluster_id), frame.tsn, data,
                             aps_encryption=aps_encryption)

    async def _transmit(
        self, dst: t.AddrModeAddress, dst_ep: int, src_ep: int, cluster_id: int, tsn: int, data: bytes, *,
        aps_encryption: bool = True,
    ) -> None:
        unicast = dst.addr_mode in (t.AddrMode.NWK, t.AddrMode.IEEE) and not (
            dst.addr_mode == t.AddrMode.NWK and isinstance(dst.address, int) and dst.address >= 0xFFF8
        )
        options = self.security.tx_options(cluster_id, unicast=unicast)
        if not aps_encryption:
            options &= ~t.TransmitOptions.APS_Encryption
        packet = t.ZigbeePacket(
            dst=dst,
            dst_ep=t.uint8_t(dst_ep),
            src_ep=t.uint8_t(src_ep),
            tsn=t.uint8_t(tsn),
            profile_id=t.uint16_t(self.profile_id),
            cluster_id=t.uint16_t(cluster_id),
            data=t.SerializableBytes(data),
            tx_options=options,
        )
        await self._send(packet)

    def _report_due(self, config: ReportingConfig) -> None:
        entry = self.store.entry(config.key)
        if entry is None:
            return
        config.last_value = entry.value
        payload = t.List[foundation.Attribute](
            [foundation.Attribute(attrid=config.key.attr_id, value=entry.type_value())]
        ).serialize()
        tsn = self.next_tsn()
        data = build_frame(
            tsn=tsn,
            command_id=GeneralCommand.Report_Attributes,
            payload=payload,
            general=True,
            direction=direction_to(Side.CLIENT if config.key.side is Side.SERVER else Side.SERVER),
            disable_default_response=True,
        )
        task = asyncio.get_running_loop().create_task(
            self._transmit(config.destination, config.destination_endpoint, config.key.endpoint, config.key.cluster_id, tsn, data)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- client requests -----------------------------------------------------------------------------

    async def request(
        self,
        dst: Address,
        dst_ep: int,
        cluster_id: int,
        command_id: int,
        payload: Payload = b"",
        *,
        src_ep: int,
        general: bool,
        target: Side = Side.SERVER,
        expect: Iterable[int] | None = (),
        expect_general: bool | None = None,
        disable_default_response: bool = False,
        manufacturer: int | None = None,
        timeout: float = 5.0,
    ) -> ZclFrame | None:
        """Send a command and await its answer, matched by source, cluster and sequence number.

        `expect` lists the response command ids (general if `expect_general`, which defaults to `general`);
        a Default Response always matches. expect=None sends without waiting and returns None.
        """
        if expect is None:
            await self.send_command(dst, dst_ep, cluster_id, command_id, payload, src_ep=src_ep, general=general,
                                    target=target, disable_default_response=disable_default_response,
                                    manufacturer=manufacturer)
            return None
        address = _addr(dst)
        tsn = self.next_tsn()
        data = build_frame(tsn=tsn, command_id=command_id, payload=_encode(payload), general=general,
                           direction=direction_to(target), disable_default_response=disable_default_response,
                           manufacturer=manufacturer)
        wanted = set(expect)
        resp_general = general if expect_general is None else expect_general
        back = direction_to(target).flip()

        def accept(frame: ZclFrame) -> bool:
            if frame.direction != back:
                return False
            if frame.is_general and frame.command_id == GeneralCommand.Default_Response:
                return True
            return frame.is_general == resp_general and frame.command_id in wanted

        kind = GeneralCommand(command_id).name if general else f"cluster command 0x{command_id:02X}"
        what = (
            f"response to {kind} (tsn 0x{tsn:02X}) from {describe_address(address)} ep {dst_ep} "
            f"cluster 0x{cluster_id:04X}"
        )
        pending = _Pending(what, accept)
        key: PendingKey = (address.address, cluster_id, tsn)
        self._pending.setdefault(key, []).append(pending)
        try:
            await self._transmit(address, dst_ep, src_ep, cluster_id, tsn, data)
            async with asyncio.timeout(timeout):
                return await pending.future
        except TimeoutError:
            raise ZclTimeout(f"no {what} within {timeout:g} s") from None
        finally:
            waiters = self._pending.get(key, [])
            if pending in waiters:
                waiters.remove(pending)
            if not waiters:
                self._pending.pop(key, None)

    async def send_command(
        self,
        dst: Address,
        dst_ep: int,
        cluster_id: int,
        command_id: int,
        payload: Payload = b"",
        *,
        src_ep: int,
        general: bool,
        target: Side = Side.SERVER,
        disable_default_response: bool = False,
        manufacturer: int | None = None,
    ) -> int:
        """Send one command without awaiting anything; return its sequence number (whoever calls this watches
        the answers itself, e.g. to judge every frame a device sends back)."""
        tsn = self.next_tsn()
        data = build_frame(tsn=tsn, command_id=command_id, payload=_encode(payload), general=general,
                           direction=direction_to(target), disable_default_response=disable_default_response,
                           manufacturer=manufacturer)
        await self._transmit(_addr(dst), dst_ep, src_ep, cluster_id, tsn, data)
        return tsn

    async def _general(
        self,
        what: str,
        response: GeneralCommand,
        dst: Address,
        dst_ep: int,
        cluster_id: int,
        command_id: int,
        payload: bytes,
        *,
        src_ep: int,
        **kw: Unpack[RequestOptions],
    ) -> DecodedCommand:
        frame = await self.request(
            dst, dst_ep, cluster_id, command_id, payload, src_ep=src_ep, general=True, expect=[response], **kw
        )
        assert frame is not None
        if frame.command_id == GeneralCommand.Default_Response:
            default = decode_general(frame)
            raise ZclStatusError(what, default.status)
        return decode_general(frame)

    async def read_attributes(
        self, dst: Address, dst_ep: int, cluster_id: int, attr_ids: Iterable[int], *, src_ep: int,
        **kw: Unpack[RequestOptions],
    ) -> list[ReadAttributeRecord]:
        payload = t.List[t.uint16_t]([t.uint16_t(a) for a in attr_ids]).serialize()
        rsp = await self._general(
            "Read Attributes", GeneralCommand.Read_Attributes_rsp,
            dst, dst_ep, cluster_id, GeneralCommand.Read_Attributes, payload, src_ep=src_ep, **kw,
        )
        return list(rsp.status_records)

    async def write_attributes(
        self,
        dst: Address,
        dst_ep: int,
        cluster_id: int,
        values: Mapping[int, TypeValue],
        *,
        src_ep: int,
        undivided: bool = False,
        **kw: Unpack[RequestOptions],
    ) -> list[WriteAttributesStatusRecord]:
        records = t.List[foundation.Attribute]([foundation.Attribute(attrid=a, value=v) for a, v in values.items()])
        command = GeneralCommand.Write_Attributes_Undivided if undivided else GeneralCommand.Write_Attributes
        rsp = await self._general(
            "Write Attributes", GeneralCommand.Write_Attributes_rsp,
            dst, dst_ep, cluster_id, command, records.serialize(), src_ep=src_ep, **kw,
        )
        return list(rsp.status_records)

    async def discover_attributes(
        self, dst: Address, dst_ep: int, cluster_id: int, *, src_ep: int, start: int = 0, max_ids: int = 0xFF,
        **kw: Unpack[RequestOptions],
    ) -> tuple[bool, list[DiscoverAttributesResponseRecord]]:
        payload = t.uint16_t(start).serialize() + t.uint8_t(max_ids).serialize()
        rsp = await self._general(
            "Discover Attributes", GeneralCommand.Discover_Attributes_rsp,
            dst, dst_ep, cluster_id, GeneralCommand.Discover_Attributes, payload, src_ep=src_ep, **kw,
        )
        return bool(rsp.discovery_complete), list(rsp.attribute_info)

    async def configure_reporting(
        self, dst: Address, dst_ep: int, cluster_id: int, configs: Iterable[AttributeReportingConfig], *, src_ep: int,
        **kw: Unpack[RequestOptions],
    ) -> list[ConfigureReportingResponseRecord]:
        payload = b"".join(c.serialize() for c in configs)
        rsp = await self._general(
            "Configure Reporting", GeneralCommand.Configure_Reporting_rsp,
            dst, dst_ep, cluster_id, GeneralCommand.Configure_Reporting, payload, src_ep=src_ep, **kw,
        )
        return list(rsp.status_records)

    async def read_reporting_configuration(
        self, dst: Address, dst_ep: int, cluster_id: int, attr_ids: Iterable[int], *, src_ep: int,
        **kw: Unpack[RequestOptions],
    ) -> list[AttributeReportingConfigWithStatus]:
        payload = b"".join(
            foundation.ReadReportingConfigRecord(direction=0, attrid=a).serialize() for a in attr_ids
        )
        rsp = await self._general(
            "Read Reporting Configuration", GeneralCommand.Read_Reporting_Configuration_rsp,
            dst, dst_ep, cluster_id, GeneralCommand.Read_Reporting_Configuration, payload, src_ep=src_ep, **kw,
        )
        return list(rsp.attribute_configs)

    async def command(
        self,
        dst: Address,
        dst_ep: int,
        cluster_id: int,
        command_id: int,
        payload: Payload = b"",
        *,
        src_ep: int,
        target: Side = Side.SERVER,
        response: int | None = None,
        **kw: Unpack[CommandOptions],
    ) -> ZclFrame | None:
        """Send a cluster-specific command; await cluster command `response` (or the Default Response)."""
        disable = kw.get("disable_default_response", False)
        if response is None and disable:
            expect = None  # nothing will come back for a successful command
        else:
            expect = [] if response is None else [response]
        return await self.request(
            dst, dst_ep, cluster_id, command_id, payload, src_ep=src_ep, general=False, target=target,
            expect=expect, expect_general=False, **kw,
        )


def report_reporting_config(
    attr_id: int, type_id: int, min_interval: int, max_interval: int, reportable_change: int | None = None
) -> AttributeReportingConfig:
    """Build a SendReports configuration record for Configure Reporting."""
    cfg = AttributeReportingConfig()
    cfg.direction = ReportingDirection.SendReports
    cfg.attrid = t.uint16_t(attr_id)
    cfg.datatype = DataTypeId(type_id)
    cfg.min_interval = min_interval
    cfg.max_interval = max_interval
    if DataType.from_type_id(cfg.datatype).type_class is foundation.Analog:
        cfg.reportable_change = reportable_change or 0  # discrete types carry none: zigpy leaves it unset too
    return cfg

"""The reference devices' ZCL foundation: the engine every reference device answers with, its Identify server,
and the seeded ways a vendor's stack gets the Default Response rules wrong.

The rules themselves are the shared engine's (harness/zcl/engine.py, ZCL 07-5123 2.5.12.2); this module only
bends them where a fault of the device's catalogue says so. Each fault is a WatchedBehaviour: the engine notes
where it would act (``FaultSet.acts``), so the fault matrix runs it on exactly the cases that pass there.

Sources of the faults' rules: ZCL 07-5123 2.4.1.1.4 (the Disable Default Response sub-field: a Default Response
only on error when set; set in every response), 2.5.12.2 (when a Default Response is sent) and the status
enumerations (UNSUPPORTED_CLUSTER, UNSUP_CLUSTER_COMMAND, UNSUP_MANUF_CLUSTER_COMMAND, MALFORMED_COMMAND).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable

import zigpy.types as t
from zigpy.zcl.foundation import FrameControl, Status, ZCLHeader

from harness.se.clusters import Basic, Identify
from harness.se.datamodel import Side
from harness.zcl.engine import BROADCAST_ENDPOINT, SendFn, ZclEngine, ZclRequest
from harness.zcl.errors import MalformedFrame
from harness.zcl.frame import ZclFrame
from harness.zcl.reporting import ReportingConfig
from harness.zcl.store import AttributeKey, AttributeStore

from .faults import Fault, FaultSet, WatchedBehaviour

#: The cases of features/foundation the faults below fail (TC-ZCL-1.4 runs with the DDR bit clear and set).
_UNSUPPORTED_COMMAND_CASES = ("TC-ZCL-1.4[clear]", "TC-ZCL-1.4[set]")

DEFAULT_RESPONSE_DESPITE_DDR = Fault(
    "default-response-despite-ddr", "its Identify server answers a successful Identify with a Default Response "
    "SUCCESS although the request set Disable Default Response", ("TC-ZCL-1.1",), WatchedBehaviour())
NO_DEFAULT_RESPONSE_ON_SUCCESS = Fault(
    "no-default-response-on-success", "its Identify server sends no Default Response SUCCESS to an Identify "
    "whose Disable Default Response bit is clear (no other response is defined for it)", ("TC-ZCL-1.2",),
    WatchedBehaviour())
DEFAULT_RESPONSE_AFTER_RESPONSE = Fault(
    "default-response-after-response", "its Basic server follows its Read Attributes Response with a Default "
    "Response SUCCESS", ("TC-ZCL-1.3",), WatchedBehaviour())
SWALLOWS_ERROR_WHEN_DDR_SET = Fault(
    "swallows-error-when-ddr-set", "sends no Default Response at all when the request set Disable Default "
    "Response, errors included", ("TC-ZCL-1.4[set]", "TC-ZCL-1.5", "TC-ZCL-1.7"), WatchedBehaviour())
UNSUPPORTED_COMMAND_WRONG_TSN = Fault(
    "unsupported-command-wrong-tsn", "answers an unsupported cluster command with UNSUP_CLUSTER_COMMAND under "
    "the next sequence number instead of the request's", _UNSUPPORTED_COMMAND_CASES, WatchedBehaviour())
SILENT_ON_UNSUPPORTED_CLUSTER = Fault(
    "silent-on-unsupported-cluster", "drops a command on a cluster its endpoint does not carry instead of "
    "answering UNSUPPORTED_CLUSTER", ("TC-ZCL-1.5",), WatchedBehaviour())
IGNORES_MANUFACTURER_CODE = Fault(
    "ignores-manufacturer-code", "acts on a manufacturer-specific cluster command of another manufacturer as if "
    "it were the standard command with the same id", ("TC-ZCL-1.6",), WatchedBehaviour())
PADS_TRUNCATED_COMMAND = Fault(
    "pads-truncated-command", "fills a truncated cluster command up with zero bytes and carries it out instead "
    "of refusing it with MALFORMED_COMMAND", ("TC-ZCL-1.7",), WatchedBehaviour())
DEFAULT_RESPONSE_DDR_CLEAR = Fault(
    "default-response-ddr-clear", "sends its Default Responses with the Disable Default Response bit clear",
    ("TC-ZCL-1.2", *_UNSUPPORTED_COMMAND_CASES, "TC-ZCL-1.5", "TC-ZCL-1.6", "TC-ZCL-1.7"), WatchedBehaviour())
IDENTIFY_QUERY_UNANSWERED = Fault(
    "identify-query-unanswered", "its Identify server sends no Identify Query Response while it identifies",
    ("TC-ZCL-1.9",), WatchedBehaviour())
IDENTIFY_TIME_FROZEN = Fault(
    "identify-time-frozen", "its Identify server never counts IdentifyTime down: it identifies until an Identify "
    "with IdentifyTime 0 stops it, and reports the time first asked as the time remaining", ("TC-ZCL-1.9",),
    WatchedBehaviour())

# Attribute reporting (ZCL 07-5123 2.5.7-2.5.11), on the Load Control Device's Metering server.
REPORTING_FORGETS_MAX_INTERVAL = Fault(
    "reporting-forgets-max-interval", "answers Read Reporting Configuration with its default maximum interval "
    "(3600 s) instead of the one configured", ("TC-ZCL-1.8",), WatchedBehaviour())
NEVER_REPORTS = Fault(
    "never-reports", "accepts a reporting configuration and then sends no Report Attributes", ("TC-ZCL-1.8",),
    WatchedBehaviour())
#: The reporting faults, for the catalogue of the model whose PICS claim reporting (the LCD's).
REPORTING_FAULTS = [REPORTING_FORGETS_MAX_INTERVAL, NEVER_REPORTS]
#: What a stack that forgets a configuration's maximum interval answers instead (s).
DEFAULT_MAX_INTERVAL = 3600

#: The foundation faults, for a model's catalogue (the IHD's: every model shares this engine).
FOUNDATION_FAULTS = [
    DEFAULT_RESPONSE_DESPITE_DDR, NO_DEFAULT_RESPONSE_ON_SUCCESS, DEFAULT_RESPONSE_AFTER_RESPONSE,
    SWALLOWS_ERROR_WHEN_DDR_SET, UNSUPPORTED_COMMAND_WRONG_TSN, SILENT_ON_UNSUPPORTED_CLUSTER,
    IGNORES_MANUFACTURER_CODE, PADS_TRUNCATED_COMMAND, DEFAULT_RESPONSE_DDR_CLEAR, IDENTIFY_QUERY_UNANSWERED,
    IDENTIFY_TIME_FROZEN,
]


class DeviceEngine(ZclEngine):
    """The shared ZCL engine with the device's foundation faults: each is asked only where it would act."""

    def __init__(self, send: SendFn, *, store: AttributeStore, faults: FaultSet) -> None:
        super().__init__(send, store=store)
        self._notes: dict[str, list[Callable[[], None]]] = {}
        self._has: dict[str, bool] = {}
        for fault in (*FOUNDATION_FAULTS, *REPORTING_FAULTS):
            notes = self._notes.setdefault(fault.name, [])
            self._has[fault.name] = faults.acts(fault, notes.append)

    def _acts(self, fault: Fault) -> bool:
        """Whether *fault* acts here; a recording run notes that the device passed where it would."""
        for note in self._notes[fault.name]:
            note()
        return self._has[fault.name]

    async def _default_response(self, packet: t.ZigbeePacket, frame: ZclFrame, endpoint: int, status: Status, *,
                                aps_encryption: bool = True) -> None:
        cluster_id = int(packet.cluster_id)
        if not (self._is_broadcast(packet) or int(packet.dst_ep or 0) == BROADCAST_ENDPOINT):
            if status == Status.SUCCESS and cluster_id == Identify.cluster_id and not frame.is_general:
                if frame.disable_default_response and self._acts(DEFAULT_RESPONSE_DESPITE_DDR):
                    await self._send_default_response(packet, frame, endpoint, status, aps_encryption=aps_encryption)
                    return
                if not frame.disable_default_response and self._acts(NO_DEFAULT_RESPONSE_ON_SUCCESS):
                    return
            if status != Status.SUCCESS and frame.disable_default_response and self._acts(SWALLOWS_ERROR_WHEN_DDR_SET):
                return
            if status == Status.UNSUPPORTED_CLUSTER and self._acts(SILENT_ON_UNSUPPORTED_CLUSTER):
                return
        await super()._default_response(packet, frame, endpoint, status, aps_encryption=aps_encryption)

    async def _send_default_response(self, packet: t.ZigbeePacket, frame: ZclFrame, endpoint: int, status: Status,
                                     *, aps_encryption: bool = True, disable_default_response: bool = True) -> None:
        if status == Status.UNSUP_CLUSTER_COMMAND and self._acts(UNSUPPORTED_COMMAND_WRONG_TSN):
            frame = _with_header(frame, tsn=(frame.tsn + 1) & 0xFF)
        if self._acts(DEFAULT_RESPONSE_DDR_CLEAR):
            disable_default_response = False
        await super()._send_default_response(packet, frame, endpoint, status, aps_encryption=aps_encryption,
                                             disable_default_response=disable_default_response)

    def _reporting_config(self, key: AttributeKey) -> ReportingConfig | None:
        config = super()._reporting_config(key)
        if config is not None and self._acts(REPORTING_FORGETS_MAX_INTERVAL):
            return dataclasses.replace(config, max_interval=DEFAULT_MAX_INTERVAL, timer=None)
        return config

    def _report_due(self, config: ReportingConfig) -> None:
        if self._acts(NEVER_REPORTS):
            return
        super()._report_due(config)

    async def _process(self, request: ZclRequest) -> Status | None:
        frame = request.frame
        if frame.manufacturer is not None and not frame.is_general and self._acts(IGNORES_MANUFACTURER_CODE):
            request.frame = _with_header(frame, strip_manufacturer=True)
            try:
                return await super()._process(request)
            finally:
                request.frame = frame
        status = await super()._process(request)
        if (request.responded and frame.is_general and request.cluster_id == Basic.cluster_id
                and not frame.disable_default_response and self._acts(DEFAULT_RESPONSE_AFTER_RESPONSE)):
            await self._send_default_response(request.packet, frame, request.endpoint, Status.SUCCESS)
        return status

    async def _process_cluster(self, request: ZclRequest) -> Status | None:
        try:
            return await super()._process_cluster(request)
        except MalformedFrame:
            if not self._acts(PADS_TRUNCATED_COMMAND):
                raise
        frame = request.frame
        request.frame = dataclasses.replace(frame, payload=frame.payload + bytes(8))
        try:
            return await super()._process_cluster(request)
        finally:
            request.frame = frame


def _with_header(frame: ZclFrame, *, tsn: int | None = None, strip_manufacturer: bool = False) -> ZclFrame:
    """*frame* with another sequence number, or without its manufacturer code (and manufacturer-specific bit)."""
    header = frame.header
    fc = header.frame_control
    if strip_manufacturer:
        fc = FrameControl(frame_type=fc.frame_type, is_manufacturer_specific=False, direction=fc.direction,
                          disable_default_response=fc.disable_default_response, reserved=fc.reserved)
    new = ZCLHeader(frame_control=fc, manufacturer=None if strip_manufacturer else header.manufacturer,
                    tsn=header.tsn if tsn is None else tsn, command_id=header.command_id)
    return dataclasses.replace(frame, header=new)


class IdentifyServer:
    """The Identify server of a reference device (ZCL 3.5.2): Identify sets IdentifyTime, which then counts down
    once a second to 0, when the device stops identifying (3.5.2.2.1; a reference device has nothing to blink; a
    Write Attributes to IdentifyTime sets it without starting the count, which no case exercises yet);
    Identify Query is answered with Identify Query Response while IdentifyTime is not 0, else with no command of
    its own (the Default Response rules apply)."""

    def __init__(self, engine: ZclEngine, store: AttributeStore, endpoint: int) -> None:
        self.engine = engine
        self.store = store
        self.endpoint = endpoint
        self._tick: asyncio.TimerHandle | None = None
        self.key = AttributeKey(endpoint, Identify.cluster_id, Side.SERVER, Identify.AttributeDefs.identify_time.id)
        engine.register_handler(Identify.cluster_id, Side.SERVER, Identify.ServerCommandDefs.identify.id,
                                self._identify, endpoint=endpoint)
        engine.register_handler(Identify.cluster_id, Side.SERVER, Identify.ServerCommandDefs.identify_query.id,
                                self._identify_query, endpoint=endpoint)

    def _identify(self, request: ZclRequest) -> None:
        if self.store.entry(self.key) is None:
            return
        self.store.set(self.key, int(request.command.identify_time))
        if self._tick is not None:
            self._tick.cancel()  # a new Identify starts the count afresh
            self._tick = None
        if not int(request.command.identify_time):
            return  # stopped
        if isinstance(self.engine, DeviceEngine) and self.engine._acts(IDENTIFY_TIME_FROZEN):
            return  # the fault: IdentifyTime stays as set
        self._tick = asyncio.get_running_loop().call_later(1.0, self._count_down)

    def _count_down(self) -> None:
        """One second of identifying has passed (the loop's clock: virtual on a simulated bench)."""
        entry = self.store.entry(self.key)
        remaining = max(0, int(entry.value) - 1) if entry is not None else 0
        if entry is not None:
            self.store.set(self.key, remaining)
        self._tick = asyncio.get_running_loop().call_later(1.0, self._count_down) if remaining else None

    async def _identify_query(self, request: ZclRequest) -> None:
        entry = self.store.entry(self.key)
        remaining = int(entry.value) if entry is not None else 0
        if remaining:
            if isinstance(self.engine, DeviceEngine) and self.engine._acts(IDENTIFY_QUERY_UNANSWERED):
                return  # the fault
            await request.respond(Identify.ClientCommandDefs.identify_query_response.id,
                                  t.uint16_t(remaining).serialize())

"""Golden DRLC server (cluster 0x0701): issues load control events and cancels, answers Get Scheduled
Events from its schedule, and keeps every Report Event Status a DUT sends, decoded, with its arrival time.

Rules followed (SE-FACTS "DRLC cluster 0x0701", checked against Silicon Labs gecko_sdk
plugin/drlc-server/drlc-server.c):
- Get Scheduled Events: the scheduled events sorted by (start time, issuer event id), those starting before
  the requested start time skipped, at most NumberOfEvents (0 = all), each sent as a Load Control Event; an
  event issued with start time "now" is sent with start time 0 and its remaining duration; with nothing to
  send the answer is a Default Response NOT_FOUND.
- Report Event Status is acknowledged by the engine's Default Response rules.
- Signature: type 0x01 is ECDSA (sect163k1, AES-MMO digest) over the ZCL payload that precedes the signature
  type field (Ember stack API emberDsaSign: the ZCL header is excluded, the type byte follows the signed
  part); it is verified with the DUT's certificate when the bench knows it. Type 0x00 (SE 1.1 and later:
  42 x 0xFF) is recorded as unsigned.
Anything malformed the DUT sends becomes an EsiFinding (or an engine finding when it does not decode).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from zigpy.zcl.foundation import Status

from harness.clock import Clock
from harness.crypto import CryptoError, parse_certificate, verify
from harness.crypto.curves import Point
from harness.golden.esi.common import EsiFinding, ObservationLog, Peer, same_address, utc_seconds
from harness.se.clusters import Drlc
from harness.se.datamodel import Side
from harness.se.types import (
    AVERAGE_LOAD_ADJUSTMENT_UNUSED,
    DUTY_CYCLE_UNUSED,
    START_NOW,
    TEMPERATURE_OFFSET_UNUSED,
    TEMPERATURE_SET_POINT_UNUSED,
    CancelControl,
    DeviceClass,
    EventControl,
    EventStatus,
    SignatureType,
)
from harness.zcl import ZclEngine, ZclRequest

#: SignatureType (1) + Signature (42) close every Report Event Status.
SIGNATURE_TRAILER_LENGTH = 1 + 42
#: SE 1.1+ reference code fills an absent signature with 0xFF (SE-FACTS "Key Establishment": ECDSA).
UNSIGNED_FILL = b"\xff" * 42

LoadControlEvent = Drlc.ClientCommandDefs.load_control_event.schema
CancelLoadControlEvent = Drlc.ClientCommandDefs.cancel_load_control_event.schema
CancelAllLoadControlEvents = Drlc.ClientCommandDefs.cancel_all_load_control_events.schema
ReportEventStatus = Drlc.ServerCommandDefs.report_event_status.schema


def load_control_event(
    issuer_event_id: int,
    *,
    start_time: int = START_NOW,
    duration_minutes: int = 60,
    device_class: int = 0x0FFF,
    utility_enrollment_group: int = 0,
    criticality_level: int = 1,
    event_control: int = 0,
    cooling_temperature_offset: int = TEMPERATURE_OFFSET_UNUSED,
    heating_temperature_offset: int = TEMPERATURE_OFFSET_UNUSED,
    cooling_temperature_set_point: int = TEMPERATURE_SET_POINT_UNUSED,
    heating_temperature_set_point: int = TEMPERATURE_SET_POINT_UNUSED,
    average_load_adjustment_percentage: int = AVERAGE_LOAD_ADJUSTMENT_UNUSED,
    duty_cycle: int = DUTY_CYCLE_UNUSED,
) -> Any:
    """A Load Control Event payload; unset optional controls carry their "unused" values."""
    return LoadControlEvent(
        issuer_event_id=issuer_event_id,
        device_class=DeviceClass(device_class),
        utility_enrollment_group=utility_enrollment_group,
        start_time=start_time,
        duration_in_minutes=duration_minutes,
        criticality_level=criticality_level,
        cooling_temperature_offset=cooling_temperature_offset,
        heating_temperature_offset=heating_temperature_offset,
        cooling_temperature_set_point=cooling_temperature_set_point,
        heating_temperature_set_point=heating_temperature_set_point,
        average_load_adjustment_percentage=average_load_adjustment_percentage,
        duty_cycle=duty_cycle,
        event_control=EventControl(event_control),
    )


@dataclasses.dataclass(frozen=True)
class EventStatusReport:
    """One Report Event Status as received, with its arrival on the bench clock (fractional ZCL UTC)."""

    issuer_event_id: int
    status: EventStatus
    event_status_time: int
    arrival: float
    criticality_level_applied: int
    cooling_temperature_set_point_applied: int
    heating_temperature_set_point_applied: int
    average_load_adjustment_percentage_applied: int
    duty_cycle_applied: int
    event_control: int
    signature_type: int
    signature: bytes
    #: True/False after an ECDSA check, None when unsigned or no certificate was known.
    signature_valid: bool | None
    source: Peer
    tsn: int


@dataclasses.dataclass(frozen=True)
class ScheduledEventsRequest:
    """One Get Scheduled Events as received, with its arrival on the bench clock (fractional ZCL UTC)."""

    start_time: int
    number_of_events: int
    arrival: float
    source: Peer


@dataclasses.dataclass
class ScheduledEvent:
    """An event in the golden's schedule; `issued_at` is the bench time a start-now event was issued."""

    event: Any
    issued_at: int

    @property
    def start(self) -> int:
        return self.issued_at if int(self.event.start_time) == START_NOW else int(self.event.start_time)

    @property
    def end(self) -> int:
        return self.start + int(self.event.duration_in_minutes) * 60


class DrlcServer:
    """The ESI's DRLC server on `endpoint` of `engine`; the log of Report Event Status is `reports`."""

    def __init__(
        self,
        engine: ZclEngine,
        clock: Clock,
        *,
        endpoint: int = 1,
        ca_public_key: Point | bytes | None = None,
        disable_default_response: bool = False,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.endpoint = endpoint
        self.ca_public_key = ca_public_key
        self.disable_default_response = disable_default_response
        self.reports: ObservationLog[EventStatusReport] = ObservationLog(clock)
        #: Every Get Scheduled Events a DUT sent.
        self.requests: ObservationLog[ScheduledEventsRequest] = ObservationLog(clock)
        self.findings: list[EsiFinding] = []
        self.schedule: dict[int, ScheduledEvent] = {}
        self._certificates: list[tuple[Any, bytes]] = []
        if not engine.store.has_cluster(endpoint, Drlc.cluster_id, Side.SERVER):
            engine.store.add_cluster(endpoint, Drlc.cluster_id, Side.SERVER)
        received = Drlc.ServerCommandDefs
        engine.register_handler(Drlc.cluster_id, Side.SERVER, received.report_event_status.id, self._on_report,
                                endpoint=endpoint)
        engine.register_handler(
            Drlc.cluster_id, Side.SERVER, received.get_scheduled_events.id, self._on_get_scheduled_events,
            endpoint=endpoint,
        )

    # --- bench set-up ---------------------------------------------------------------------------------

    def register_certificate(self, address: Any, certificate: bytes) -> None:
        """The DUT's implicit certificate (from CBKE), used to verify ECDSA-signed reports from `address`."""
        parse_certificate(certificate)  # reject a malformed certificate now, not at the first report
        self._certificates.append((address, bytes(certificate)))

    # --- commands to the DUT --------------------------------------------------------------------------

    async def _send(self, dut: Peer, command_id: int, payload: Any) -> None:
        await self.engine.request(
            dut.address, dut.endpoint, Drlc.cluster_id, command_id, payload, src_ep=self.endpoint, general=False,
            target=Side.CLIENT, expect=None, disable_default_response=self.disable_default_response,
        )

    def add_event(self, event: Any) -> None:
        """Keep an event in the schedule without sending it (a DUT that joins later asks for it)."""
        self.schedule[int(event.issuer_event_id)] = ScheduledEvent(event, self.clock.zcl_utc())

    async def issue_event(self, dut: Peer, event: Any, *, schedule: bool = True) -> None:
        """Send a Load Control Event; keep it in the schedule (for Get Scheduled Events) unless told not to."""
        if schedule:
            self.add_event(event)
        await self._send(dut, Drlc.ClientCommandDefs.load_control_event.id, event)

    async def cancel_event(
        self,
        dut: Peer,
        issuer_event_id: int,
        *,
        effective_time: int = START_NOW,
        cancel_control: int = 0,
        device_class: int | None = None,
        utility_enrollment_group: int | None = None,
    ) -> None:
        """Send Cancel Load Control Event; device class and UEG default to those the event was issued with."""
        known = self.schedule.get(issuer_event_id)
        if device_class is None:
            device_class = int(known.event.device_class) if known else 0x0FFF
        if utility_enrollment_group is None:
            utility_enrollment_group = int(known.event.utility_enrollment_group) if known else 0
        payload = CancelLoadControlEvent(
            issuer_event_id=issuer_event_id,
            device_class=DeviceClass(device_class),
            utility_enrollment_group=utility_enrollment_group,
            cancel_control=CancelControl(cancel_control),
            effective_time=effective_time,
        )
        self.schedule.pop(issuer_event_id, None)
        await self._send(dut, Drlc.ClientCommandDefs.cancel_load_control_event.id, payload)

    async def cancel_all(self, dut: Peer, *, cancel_control: int = 0) -> None:
        self.schedule.clear()
        await self._send(dut, Drlc.ClientCommandDefs.cancel_all_load_control_events.id,
                         CancelAllLoadControlEvents(cancel_control=CancelControl(cancel_control)))

    # --- what the DUT reported ------------------------------------------------------------------------

    def statuses(self, issuer_event_id: int) -> list[tuple[EventStatus, int, float]]:
        """(status, EventStatusTime, arrival) of every report for one event, in arrival order."""
        return [(r.status, r.event_status_time, r.arrival) for r in self.reports if r.issuer_event_id == issuer_event_id]

    def status_codes(self, issuer_event_id: int) -> list[int]:
        return [int(r.status) for r in self.reports if r.issuer_event_id == issuer_event_id]

    async def wait_for_status(self, issuer_event_id: int, status: int, timeout: float) -> EventStatusReport:
        """The first report of `status` for the event; DeadlineExceeded when none arrives in `timeout` s."""
        return await self.reports.wait(
            lambda r: r.issuer_event_id == issuer_event_id and int(r.status) == int(status),
            timeout,
            f"Report Event Status 0x{int(status):02X} for event {issuer_event_id}",
        )

    # --- handlers -------------------------------------------------------------------------------------

    def _finding(self, request: ZclRequest, reason: str) -> None:
        self.findings.append(EsiFinding("DRLC", reason, request.frame.raw, str(request.packet.src.address)))

    def _certificate_for(self, address: Any) -> bytes | None:
        for known, certificate in self._certificates:
            if same_address(known, address):
                return certificate
        return None

    def _check_signature(self, request: ZclRequest, cmd: Any) -> bool | None:
        signature_type = int(cmd.signature_type)
        if signature_type == SignatureType.No_Signature:
            return None
        if signature_type != SignatureType.ECDSA:
            self._finding(request, f"reserved signature type 0x{signature_type:02X}")
            return None
        certificate = self._certificate_for(request.packet.src)
        if certificate is None or self.ca_public_key is None:
            self._finding(request, "ECDSA-signed report but the bench has no certificate/CA key to verify it")
            return None
        signed_part = request.frame.payload[: len(request.frame.payload) - SIGNATURE_TRAILER_LENGTH]
        try:
            public_key = parse_certificate(certificate).public_key(self.ca_public_key)
            verify(public_key, signed_part, bytes(cmd.signature))
        except CryptoError as exc:
            self._finding(request, f"ECDSA signature does not verify: {exc}")
            return False
        return True

    def _on_report(self, request: ZclRequest) -> Status:
        cmd = request.command
        arrival = utc_seconds(self.clock)
        if int(cmd.event_status_time) == 0:
            self._finding(request, "EventStatusTime is 0 (it must be the time of the status change)")
        if not isinstance(cmd.event_status, EventStatus) or cmd.event_status.name.startswith("undefined"):
            self._finding(request, f"undefined event status 0x{int(cmd.event_status):02X}")
        extra = len(request.frame.payload) - len(cmd.serialize())
        if extra:
            self._finding(request, f"{extra} unexpected bytes after the signature")
        self.reports.append(EventStatusReport(
            issuer_event_id=int(cmd.issuer_event_id),
            status=cmd.event_status,
            event_status_time=int(cmd.event_status_time),
            arrival=arrival,
            criticality_level_applied=int(cmd.criticality_level_applied),
            cooling_temperature_set_point_applied=int(cmd.cooling_temperature_set_point_applied),
            heating_temperature_set_point_applied=int(cmd.heating_temperature_set_point_applied),
            average_load_adjustment_percentage_applied=int(cmd.average_load_adjustment_percentage_applied),
            duty_cycle_applied=int(cmd.duty_cycle_applied),
            event_control=int(cmd.event_control),
            signature_type=int(cmd.signature_type),
            signature=bytes(cmd.signature),
            signature_valid=self._check_signature(request, cmd),
            source=Peer(request.packet.src, int(request.packet.src_ep)),
            tsn=request.frame.tsn,
        ))
        return Status.SUCCESS

    def scheduled_events(self, start_time: int, number_of_events: int) -> list[Any]:
        """The Load Control Events Get Scheduled Events returns (see the module docstring for the rules)."""
        now = self.clock.zcl_utc()
        ordered = sorted(self.schedule.values(), key=lambda s: (s.start, int(s.event.issuer_event_id)))
        answer: list[Any] = []
        for entry in ordered:
            if number_of_events and len(answer) >= number_of_events:
                break
            if entry.end <= now or entry.start < start_time:
                continue
            event = entry.event
            if int(event.start_time) == START_NOW:
                remaining = int(event.duration_in_minutes) - (now - entry.issued_at) // 60
                event = event.replace(duration_in_minutes=remaining)
            answer.append(event)
        return answer

    async def _on_get_scheduled_events(self, request: ZclRequest) -> Status | None:
        cmd = request.command
        self.requests.append(ScheduledEventsRequest(int(cmd.start_time), int(cmd.number_of_events),
                                                    utc_seconds(self.clock),
                                                    Peer(request.packet.src, int(request.packet.src_ep))))
        events = self.scheduled_events(int(cmd.start_time), int(cmd.number_of_events))
        if not events:
            return Status.NOT_FOUND
        for event in events:
            await request.respond(Drlc.ClientCommandDefs.load_control_event.id, event)
        return None


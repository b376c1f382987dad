"""The reference DRLC server (cluster 0x0701), device side: the ESI's load control program.

Its operator issues events (DUT control ``issue_event``: the next hour, for an hour, every device class,
criticality 3, no offsets or set points); Get Scheduled Events is answered with one Load Control Event per event
in force or to come (ending after StartTime, 0 = now), at most NumberOfEvents (0 = all), earliest first; a Report
Event Status is taken with SUCCESS.

Rules (SE-FACTS "DRLC cluster 0x0701"; SE 1.x Annex D.2.2; Silicon Labs drlc-server): Duration at most 1440
minutes, criticality 1-15, unused fields at their "not used" values. Written apart from the golden's DRLC server
(harness/golden/esi/drlc.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from zigpy.zcl.foundation import Status

from harness.se.clusters import Drlc
from harness.se.types import (
    AVERAGE_LOAD_ADJUSTMENT_UNUSED,
    DEVICE_CLASS_DEFINED_BITS,
    DUTY_CYCLE_UNUSED,
    TEMPERATURE_OFFSET_UNUSED,
    TEMPERATURE_SET_POINT_UNUSED,
)
from harness.zcl import ZclRequest

from ..server_faults import (
    DRLC_SERVER_NOT_CARRIED,
    ENDED_EVENTS_KEPT,
    EVENT_DURATION_TOO_LONG,
    REPORT_EVENT_STATUS_REFUSED,
    SCHEDULED_EVENTS_IGNORE_COUNT,
)
from .base import ServerCluster, ServerHost


@dataclass
class Event:
    issuer_event_id: int
    start: int  # ZCL UTC
    duration: int  # minutes
    criticality: int = 3

    def ends(self) -> int:
        return self.start + 60 * self.duration


class DrlcServer(ServerCluster):
    cluster = Drlc

    def __init__(self, faults, endpoint: int, *, seed: int = 0) -> None:
        super().__init__(faults, endpoint, seed=seed)
        self.events: list[Event] = []
        self.reports: list[tuple[int, int]] = []  # (issuer event id, event status)
        self.now = lambda: 0

    def seed_attribute_faults(self, store) -> None:
        self.seed_not_carried(store, DRLC_SERVER_NOT_CARRIED)

    def attach(self, host: ServerHost) -> None:
        super().attach(host)
        self.now = host.clock.zcl_utc
        defs = Drlc.ServerCommandDefs
        for command, handler in ((defs.get_scheduled_events, self._on_scheduled),
                                 (defs.report_event_status, self._on_report)):
            host.engine.register_handler(Drlc.cluster_id, self.key(0).side, command.id, handler, endpoint=self.endpoint)

    def issue_event(self) -> Event:
        """The operator schedules a load control event for an hour: the next hour, or after its last event."""
        start = max([(self.now() // 3600 + 1) * 3600, *(e.ends() for e in self.events)])
        event = Event(2001 + len(self.events), start, 60)
        self.events.append(event)
        return event

    def payload(self, event: Event):
        duration = 1441 if self.faults.has(EVENT_DURATION_TOO_LONG) else event.duration
        return Drlc.ClientCommandDefs.load_control_event.schema(
            issuer_event_id=event.issuer_event_id, device_class=DEVICE_CLASS_DEFINED_BITS, utility_enrollment_group=0,
            start_time=event.start, duration_in_minutes=duration, criticality_level=event.criticality,
            cooling_temperature_offset=TEMPERATURE_OFFSET_UNUSED, heating_temperature_offset=TEMPERATURE_OFFSET_UNUSED,
            cooling_temperature_set_point=TEMPERATURE_SET_POINT_UNUSED,
            heating_temperature_set_point=TEMPERATURE_SET_POINT_UNUSED,
            average_load_adjustment_percentage=AVERAGE_LOAD_ADJUSTMENT_UNUSED, duty_cycle=DUTY_CYCLE_UNUSED,
            event_control=0)

    async def _on_scheduled(self, request: ZclRequest):
        start = int(request.command.start_time) or self.now()
        wanted = int(request.command.number_of_events)
        kept = self.faults.has(ENDED_EVENTS_KEPT)
        due = sorted((e for e in self.events if kept or e.ends() > start), key=lambda e: e.start)
        if wanted and not self.faults.has(SCHEDULED_EVENTS_IGNORE_COUNT):
            due = due[:wanted]
        if not due:
            return Status.NOT_FOUND
        for event in due:
            await request.respond(Drlc.ClientCommandDefs.load_control_event.id, self.payload(event))
        return None

    def _on_report(self, request: ZclRequest):
        self.reports.append((int(request.command.issuer_event_id), int(request.command.event_status)))
        return Status.FAILURE if self.faults.has(REPORT_EVENT_STATUS_REFUSED) else Status.SUCCESS

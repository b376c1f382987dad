"""DUT-side DRLC client (cluster 0x0701): the whole load control event lifecycle a PCT or Load Control
Device runs, with seeded faults for the fault matrix.

Lifecycle (SE-FACTS "DRLC cluster 0x0701", "Lifecycle rules"; details checked against the Silicon Labs
reference client, gecko_sdk plugin/drlc/demand-response-load-control.c and load-control-event-table.c):
- Filter: act only if (DeviceClass & DeviceClassValue) != 0 and the UEG matches (either side 0 or equal);
  otherwise ignore (the engine's Default Response rules apply, CCB 1380). Reserved criticality 0 or > 0x0F:
  ignored (reference client).
- Validation, answered with the command's sequence number: start 0xFFFFFFFF or duration > 1440 -> FE;
  a reserved duty cycle (0x65-0xFE) or average load adjustment (beyond +/-100 %, 0x80 aside) -> FE (decided in
  features/drlc TC-DRLC-1.33: the reference client neither checks nor clamps them, and a device must not
  apply them; rejecting the event is one of the two answers the suite takes); reserved DeviceClass and
  EventControl bits are ignored (matched by AND, each EventControl bit tested alone);
  now > start + duration -> FB; a duplicate IssuerEventID of a scheduled/running event is not processed
  again; otherwise 01.
- Supersession: an overlapping (time, and device class or UEG) scheduled event gets 07 at once; a running
  one runs on and gets 07 one second before the new event starts (reference client).
- Randomization (EventControl bit0/bit1): start and end offsets uniform in whole seconds in
  [0, StartRandomizationMinutes*60) and [0, DurationRandomizationMinutes*60), from a seeded RNG.
- 02 at start + start offset (04 instead if the user opted out; a scheduled event waits while another runs),
  and at start + offset + duration + end offset: 03, or 08 / 09 after an opt-out / opt-in while running,
  or 0A when the user stayed opted out.
- Opt-out / opt-in: before the start nothing is sent (SE 1.0/1.1, reference client), the status at the start
  says it; while running 04 / 05 now.
- Cancel: unknown id -> FD; effective time 0xFFFFFFFF or after start + duration -> F9; otherwise 06 at the
  effective time (0 = now), plus the event's end offset (else its start offset) when CancelControl bit0.
  Cancel All cancels every event now; with none the Default Response says SUCCESS.
- EventStatusTime is the network time (Time client) of the status; signature type 0x00 + 42 x 0xFF.
- The "applied" fields echo the event (reference client fillReportEventData): its criticality level, set
  points, average load adjustment and duty cycle, whose "not used" values (0x8000, 0x80, 0xFF) say the device
  does not apply them, and its EventControl.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import random
from collections.abc import Callable
from typing import Any

from zigpy.zcl.foundation import Status

from harness.devices.clients.common import Peer, peer_of, send_to_server
from harness.devices.clients.time import TimeClient
from harness.se.clusters import Drlc
from harness.se.datamodel import Side
from harness.se.types import (
    AVERAGE_LOAD_ADJUSTMENT_UNUSED,
    DUTY_CYCLE_UNUSED,
    MAX_AVERAGE_LOAD_ADJUSTMENT,
    MAX_DUTY_CYCLE,
    MAX_EVENT_DURATION_MINUTES,
    CancelControl,
    EventControl,
    EventStatus,
    Signature,
    SignatureType,
)
from harness.zcl import AttributeKey, ZclEngine, ZclRequest, ZclTimeout

INVALID_UTC = 0xFFFFFFFF
#: Highest defined criticality level (0x0A-0x0F are utility-defined levels); 0 is reserved.
MAX_CRITICALITY_LEVEL = 0x0F
#: SE 1.1+ reference code: signature type 0x00 with 42 x 0xFF.
UNSIGNED = Signature(b"\xff" * 42)
#: SignatureType (1 byte) + Signature (42 bytes) close every Report Event Status.
SIGNATURE_TRAILER = 1 + 42
#: How far off the faulty EventStatusTime is: one hour, as a device reporting local (UTC+1) time would be.
WRONG_STATUS_TIME_SKEW = 3600
#: CriticalityLevelApplied of a device that reports a constant level: 1, green.
GREEN = 1
#: "Not used" markers of Report Event Status (the event's unused values, set points as uint16).
SET_POINT_NOT_USED, LOAD_ADJUSTMENT_NOT_USED, DUTY_CYCLE_NOT_USED = 0x8000, -0x80, 0xFF
#: What an uninitialised signature buffer holds (the garbage-fill fault): no uniform fill.
GARBAGE_SIGNATURE = Signature(bytes((17 * i + 0x5A) & 0xFF for i in range(42)))

ReportEventStatus = Drlc.ServerCommandDefs.report_event_status.schema
GetScheduledEvents = Drlc.ServerCommandDefs.get_scheduled_events.schema


@dataclasses.dataclass
class DrlcClientFaults:
    """Seeded non-conformances of issue 6 (all off = conformant)."""

    early_start_report: bool = False  # reports 02 at the nominal start, before the randomized start
    ignore_cancel: bool = False  # acts on no Cancel / Cancel All
    miss_supersession: bool = False  # lets overlapping events run side by side, never reports 07
    wrong_event_status_time: bool = False  # EventStatusTime one hour off the network time
    ignore_device_class: bool = False  # acts on events for a device class it does not have
    ignore_enrollment_group: bool = False  # acts on events for another utility enrollment group
    randomize_outside_window: bool = False  # offsets drawn from [window, 2 x window)
    accept_expired: bool = False  # schedules an event that already ended instead of FB
    process_duplicate: bool = False  # processes a repeated IssuerEventID again
    # Report Event Status fields (issue 18): what the report says the device applied, and its signature.
    constant_criticality_applied: bool = False  # CriticalityLevelApplied 1 (green) whatever the event's level
    swap_set_points_applied: bool = False  # cooling and heating set points applied reported swapped
    load_adjustment_sign_lost: bool = False  # AverageLoadAdjustmentPercentageApplied without its sign
    duty_cycle_off_share: bool = False  # DutyCycleApplied as the off share (100 - duty cycle)
    drop_event_control: bool = False  # EventControl 0 in every report
    garbage_signature_fill: bool = False  # unsigned (type 0x00) with whatever bytes its buffer held as Signature
    unsigned_as_ecdsa: bool = False  # SignatureType 0x01 (ECDSA) on a report it does not sign
    nominal_status_time: bool = False  # EventStatusTime of a start or an end is the nominal one, not randomized
    # Randomization, cancels and overlaps (issue 18).
    randomize_end_unasked: bool = False  # draws an end offset whatever EventControl bit 1 says
    never_randomize_end: bool = False  # ignores EventControl bit 1
    cancel_without_randomization: bool = False  # ignores CancelControl bit 0
    randomize_every_cancel: bool = False  # delays every cancel by the event's offset, CancelControl bit 0 or not
    supersede_running_at_once: bool = False  # a running event overlapped by a newer one gets 07 on its receipt
    supersede_before_filter: bool = False  # an overlapping event supersedes before its device class is checked
    supersede_before_group_filter: bool = False  # one for the DUT's class but another group supersedes, then is dropped
    groups_always_overlap: bool = False  # any two events' enrollment groups overlap, as if every group were 0
    # Event lifecycle (issue 17, mutation survivors).
    opted_out_completes_03: bool = False  # an event opted out of before its start completes with 03, not 0A
    tick_ends_running: bool = False  # any tick of its scheduler ends the running event (reported completed early)


#: The statuses that end an event that ran (reference client's controlValueToStatusEnum).
COMPLETIONS = (EventStatus.Event_Completed, EventStatus.Event_Completed_No_User_Participation,
               EventStatus.Event_Partially_Completed_With_User_Opt_Out,
               EventStatus.Event_Partially_Completed_Due_To_User_Opt_In)


class EntryState(enum.Enum):
    SCHEDULED = "scheduled"
    STARTED = "started"
    SUPERSEDED = "superseded"
    CANCELLED = "cancelled"


@dataclasses.dataclass
class EventEntry:
    """One event in the client's table; times are network ZCL UTC seconds."""

    event: Any
    esi: Peer
    start: int
    duration: int
    start_rand: int = 0
    duration_rand: int = 0
    state: EntryState = EntryState.SCHEDULED
    opted_in: bool = True
    partial: bool = False
    action_time: int = 0  # when a superseded / cancelled entry reports
    received_at: int = 0

    @property
    def issuer_event_id(self) -> int:
        return int(self.event.issuer_event_id)

    @property
    def end(self) -> int:
        return self.start + self.start_rand + self.duration + self.duration_rand

    @property
    def active(self) -> bool:
        return self.state in (EntryState.SCHEDULED, EntryState.STARTED)


def _completion_status(entry: EventEntry) -> EventStatus:
    # Reference client's controlValueToStatusEnum, indexed by (partial, opted in).
    return {
        (False, False): EventStatus.Event_Completed_No_User_Participation,
        (False, True): EventStatus.Event_Completed,
        (True, False): EventStatus.Event_Partially_Completed_With_User_Opt_Out,
        (True, True): EventStatus.Event_Partially_Completed_Due_To_User_Opt_In,
    }[(entry.partial, entry.opted_in)]


def _overlaps(new: EventEntry, old: EventEntry, *, any_group: bool = False) -> bool:
    # Reference client (CCB 1291): overlap in time, and device class or UEG overlap (UEG 0 overlaps every group).
    a, b = new.event, old.event
    classes = bool(int(a.device_class) & int(b.device_class))
    a_ueg, b_ueg = int(a.utility_enrollment_group), int(b.utility_enrollment_group)
    groups = any_group or a_ueg == 0 or b_ueg == 0 or bool(a_ueg & b_ueg)
    in_time = new.start < old.start + old.duration and old.start < new.start + new.duration
    return (classes or groups) and in_time


class DrlcClient:
    """The DRLC client on `endpoint` of a device's `engine`, timed by its Time client."""

    def __init__(
        self,
        engine: ZclEngine,
        time: TimeClient,
        *,
        endpoint: int = 1,
        device_class: int = 0x0001,
        utility_enrollment_group: int = 0,
        start_randomization_minutes: int | None = None,
        duration_randomization_minutes: int | None = None,
        seed: int = 0,
        faults: DrlcClientFaults | None = None,
        signer: Callable[[bytes], bytes] | None = None,
    ) -> None:
        self.engine = engine
        #: Signs the report payload before its signature (SignatureType 0x01, ECDSA r||s); None: unsigned.
        self.signer = signer
        self.time = time
        self.endpoint = endpoint
        self.faults = faults or DrlcClientFaults()
        self.rng = random.Random(seed)
        self.entries: list[EventEntry] = []
        #: Every status this client reported, as (event id, status, EventStatusTime).
        self.reported: list[tuple[int, EventStatus, int]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task] = set()
        attrs = Drlc.ClientAttributeDefs
        values: dict[int, int] = {attrs.device_class_value.id: device_class,
                                  attrs.utility_enrollment_group.id: utility_enrollment_group}
        if start_randomization_minutes is not None:
            values[attrs.start_randomization_minutes.id] = start_randomization_minutes
        if duration_randomization_minutes is not None:
            values[attrs.duration_randomization_minutes.id] = duration_randomization_minutes
        store = engine.store
        if not store.has_cluster(endpoint, Drlc.cluster_id, Side.CLIENT):
            store.add_cluster(endpoint, Drlc.cluster_id, Side.CLIENT, values=values)
        else:
            for attr_id, value in values.items():
                store.set(self._key(attr_id), value)
        for command_id, handler in (
            (Drlc.ClientCommandDefs.load_control_event.id, self._on_load_control_event),
            (Drlc.ClientCommandDefs.cancel_load_control_event.id, self._on_cancel),
            (Drlc.ClientCommandDefs.cancel_all_load_control_events.id, self._on_cancel_all),
        ):
            engine.register_handler(Drlc.cluster_id, Side.CLIENT, command_id, handler, endpoint=endpoint)
        self._unsubscribe = time.subscribe(self._reschedule)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._unsubscribe()
        self._unsubscribe = lambda: None  # closing twice is harmless
        for task in self._tasks:
            task.cancel()

    # --- attributes ----------------------------------------------------------------------------------

    def _key(self, attr_id: int) -> AttributeKey:
        return AttributeKey(self.endpoint, Drlc.cluster_id, Side.CLIENT, attr_id)

    def _attribute(self, attr_id: int) -> int:
        return int(self.engine.store.get(self._key(attr_id)))

    def _matches(self, device_class: int, utility_enrollment_group: int) -> bool:
        class_ok = (bool(device_class & self._attribute(Drlc.ClientAttributeDefs.device_class_value.id))
                    or self.faults.ignore_device_class)
        ueg = self._attribute(Drlc.ClientAttributeDefs.utility_enrollment_group.id)
        group_ok = ueg == 0 or utility_enrollment_group in (0, ueg) or self.faults.ignore_enrollment_group
        return class_ok and group_ok

    def _randomization(self, attr_id: int) -> int:
        window = self._attribute(attr_id) * 60
        if self.faults.randomize_outside_window:
            window = max(window, 60)
            return window + self.rng.randrange(window)
        return self.rng.randrange(window) if window else 0

    # --- reports -------------------------------------------------------------------------------------

    def _status_time(self) -> int:
        now = self.time.utc()
        return now + WRONG_STATUS_TIME_SKEW if self.faults.wrong_event_status_time else now

    def _report(self, event: Any, status: EventStatus, status_time: int | None = None) -> Any:
        status_time = self._status_time() if status_time is None else status_time
        self.reported.append((int(event.issuer_event_id), status, status_time))
        faults = self.faults
        # Applied set points travel as uint16 in Report Event Status; 0x8000 stays "not used".
        cooling = int(event.cooling_temperature_set_point) & 0xFFFF
        heating = int(event.heating_temperature_set_point) & 0xFFFF
        if faults.swap_set_points_applied:
            cooling, heating = heating, cooling
        load = int(event.average_load_adjustment_percentage)
        if faults.load_adjustment_sign_lost and load != LOAD_ADJUSTMENT_NOT_USED:
            load = abs(load)
        duty = int(event.duty_cycle)
        if faults.duty_cycle_off_share and 0 <= duty <= MAX_DUTY_CYCLE:
            duty = 100 - duty
        return self._signed(ReportEventStatus(
            issuer_event_id=int(event.issuer_event_id),
            event_status=status,
            event_status_time=status_time,
            criticality_level_applied=GREEN if faults.constant_criticality_applied else int(event.criticality_level),
            cooling_temperature_set_point_applied=cooling,
            heating_temperature_set_point_applied=heating,
            average_load_adjustment_percentage_applied=load,
            duty_cycle_applied=duty,
            event_control=EventControl(0 if faults.drop_event_control else int(event.event_control)),
            signature_type=SignatureType.ECDSA if faults.unsigned_as_ecdsa else SignatureType.No_Signature,
            signature=GARBAGE_SIGNATURE if faults.garbage_signature_fill else UNSIGNED,
        ))

    def _signed(self, report: Any) -> Any:
        """*report* with SignatureType ECDSA and the signature over the payload that precedes the type byte
        (emberDsaSign's convention; the golden verifies the same bytes)."""
        if self.signer is None:
            return report
        unsigned = report.replace(signature_type=SignatureType.ECDSA)
        signed_part = unsigned.serialize()[:-SIGNATURE_TRAILER]
        return unsigned.replace(signature=Signature(self.signer(signed_part)))

    async def _send_report(self, entry: EventEntry, status: EventStatus) -> None:
        status_time = None
        if self.faults.nominal_status_time and status == EventStatus.Event_Started:
            status_time = entry.start
        elif self.faults.nominal_status_time and status in COMPLETIONS:
            status_time = entry.start + entry.duration
        payload = self._report(entry.event, status, status_time)
        await send_to_server(self.engine, entry.esi, Drlc.cluster_id, Drlc.ServerCommandDefs.report_event_status.id,
                             payload, src_ep=self.endpoint)

    def _spawn(self, coroutine: Any) -> None:
        # The clock's loop, not the running one: user actions (opt-out/in) come from outside the loop too.
        task = self.time.clock.loop.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- received commands ---------------------------------------------------------------------------

    def _reserved_controls(self, event: Any) -> bool:
        """Whether *event* carries a reserved duty cycle or average load adjustment (neither in range nor unused)."""
        duty, adjustment = int(event.duty_cycle), int(event.average_load_adjustment_percentage)
        return ((duty > MAX_DUTY_CYCLE and duty != DUTY_CYCLE_UNUSED)
                or (abs(adjustment) > MAX_AVERAGE_LOAD_ADJUSTMENT and adjustment != AVERAGE_LOAD_ADJUSTMENT_UNUSED))

    def _defined_criticality(self, level: int) -> bool:
        """Levels 1-9 and the utility-defined 0x0A-0x0F; 0 and 0x10-0xFF are reserved (ignored)."""
        return 0 < level <= MAX_CRITICALITY_LEVEL

    def _supersede(self, entry: EventEntry, now: int) -> None:
        """Overlapping scheduled events are superseded now, a running one just before *entry* starts."""
        for old in self.entries:
            if old.active and _overlaps(entry, old, any_group=self.faults.groups_always_overlap):
                running = old.state is EntryState.STARTED and not self.faults.supersede_running_at_once
                old.action_time = entry.start + entry.start_rand - 1 if running else now
                old.state = EntryState.SUPERSEDED

    async def _on_load_control_event(self, request: ZclRequest) -> Status | None:
        event = request.command
        if not self._matches(int(event.device_class), int(event.utility_enrollment_group)):
            own_class = bool(int(event.device_class) & self._attribute(Drlc.ClientAttributeDefs.device_class_value.id))
            if self.faults.supersede_before_filter or (self.faults.supersede_before_group_filter and own_class):
                # Overlaps checked before the device class (or the group): a foreign event supersedes, then is dropped.
                now = self.time.utc()
                start = now if int(event.start_time) == 0 else int(event.start_time)
                self._supersede(EventEntry(event=event, esi=peer_of(request.packet), start=start,
                                           duration=int(event.duration_in_minutes) * 60), now)
                self._reschedule()
            return Status.SUCCESS
        if not self._defined_criticality(int(event.criticality_level)):
            return Status.SUCCESS
        now = self.time.utc()
        start = now if int(event.start_time) == 0 else int(event.start_time)
        duration = int(event.duration_in_minutes) * 60
        if (int(event.start_time) == INVALID_UTC or int(event.duration_in_minutes) > MAX_EVENT_DURATION_MINUTES
                or self._reserved_controls(event)):
            await request.respond(Drlc.ServerCommandDefs.report_event_status.id,
                                  self._report(event, EventStatus.Load_Control_Event_Command_Rejected))
            return None
        if now > start + duration and not self.faults.accept_expired:
            await request.respond(Drlc.ServerCommandDefs.report_event_status.id,
                                  self._report(event, EventStatus.Rejected_Event_Expired))
            return None
        event_id = int(event.issuer_event_id)
        if any(e.active and e.issuer_event_id == event_id for e in self.entries) and not self.faults.process_duplicate:
            return Status.SUCCESS
        control = int(event.event_control)
        entry = EventEntry(event=event, esi=peer_of(request.packet), start=start, duration=duration,
                           received_at=now)
        if control & EventControl.Randomize_Start_Time:
            entry.start_rand = self._randomization(Drlc.ClientAttributeDefs.start_randomization_minutes.id)
        randomize_end = bool(control & EventControl.Randomize_End_Time) or self.faults.randomize_end_unasked
        if randomize_end and not self.faults.never_randomize_end:
            entry.duration_rand = self._randomization(Drlc.ClientAttributeDefs.duration_randomization_minutes.id)
        if not self.faults.miss_supersession:
            self._supersede(entry, now)
        self.entries.append(entry)
        await request.respond(Drlc.ServerCommandDefs.report_event_status.id,
                              self._report(event, EventStatus.Load_Control_Event_Command_Received))
        self._reschedule()
        return None

    async def _on_cancel(self, request: ZclRequest) -> Status | None:
        cmd = request.command
        if not self._matches(int(cmd.device_class), int(cmd.utility_enrollment_group)) or self.faults.ignore_cancel:
            return Status.SUCCESS
        status = self._cancel(int(cmd.issuer_event_id), int(cmd.cancel_control), int(cmd.effective_time))
        if status is not None:
            entry = self._find(int(cmd.issuer_event_id))
            event = entry.event if entry is not None else _undefined_event(int(cmd.issuer_event_id))
            await request.respond(Drlc.ServerCommandDefs.report_event_status.id,
                                  self._report(event, status))
            return None
        return Status.SUCCESS

    def _on_cancel_all(self, request: ZclRequest) -> Status:
        if not self.faults.ignore_cancel:
            for entry in list(self.entries):
                self._cancel(entry.issuer_event_id, int(request.command.cancel_control), 0)
        # With or without events to cancel, the command succeeded (reference client: Default Response SUCCESS).
        return Status.SUCCESS

    def _find(self, event_id: int) -> EventEntry | None:
        return next((e for e in self.entries if e.issuer_event_id == event_id), None)

    def _cancel(self, event_id: int, cancel_control: int, effective_time: int) -> EventStatus | None:
        """Schedule the cancel of one event; the rejection status to report at once, or None."""
        entry = self._find(event_id)
        if entry is None:
            return EventStatus.Rejected_Invalid_Cancel_Undefined_Event
        if effective_time == INVALID_UTC or effective_time > entry.start + entry.duration:
            return EventStatus.Rejected_Invalid_Cancel_Command_Invalid_Effective_Time
        cancel_at = self.time.utc() if effective_time == 0 else effective_time
        randomized = bool(cancel_control & CancelControl.Use_Randomized_End) or self.faults.randomize_every_cancel
        if randomized and not self.faults.cancel_without_randomization:
            cancel_at += entry.duration_rand or entry.start_rand
        entry.state = EntryState.CANCELLED
        entry.action_time = cancel_at
        self._reschedule()
        return None

    def running_event(self) -> Any | None:
        """The event the device acts on now: the one running that the user has not opted out of; None."""
        return next((e.event for e in self.entries if e.state is EntryState.STARTED and e.opted_in), None)

    # --- user actions ---------------------------------------------------------------------------------

    def opt_out(self, event_id: int) -> bool:
        """The user opts out of an event; False when no scheduled or running event has that id."""
        return self._opt(event_id, opted_in=False)

    def opt_in(self, event_id: int) -> bool:
        """The user opts back in; False when no scheduled or running event has that id."""
        return self._opt(event_id, opted_in=True)

    def _opt(self, event_id: int, *, opted_in: bool) -> bool:
        entry = next((e for e in self.entries if e.active and e.issuer_event_id == event_id), None)
        if entry is None:
            return False
        changed = entry.opted_in != opted_in
        entry.opted_in = opted_in
        if changed and entry.state is EntryState.STARTED:
            entry.partial = True
            status = EventStatus.User_Opted_In if opted_in else EventStatus.User_Opted_Out
            self._spawn(self._send_report(entry, status))
        return True

    # --- joining --------------------------------------------------------------------------------------

    async def get_scheduled_events(self, esi: Peer, *, start_time: int = 0, number_of_events: int = 0,
                                   timeout: float = 5.0) -> None:
        """Ask the ESI for its scheduled events (after joining); the events arrive as Load Control Events."""
        payload = GetScheduledEvents(start_time=start_time, number_of_events=number_of_events)
        try:
            await self.engine.command(esi.address, esi.endpoint, Drlc.cluster_id,
                                      Drlc.ServerCommandDefs.get_scheduled_events.id, payload, src_ep=self.endpoint,
                                      response=Drlc.ClientCommandDefs.load_control_event.id, timeout=timeout)
        except ZclTimeout:
            pass  # an ESI with nothing scheduled may stay silent; the events, if any, are handled on arrival

    # --- the event table's clock ------------------------------------------------------------------------

    def _due(self, entry: EventEntry) -> int:
        if entry.state is EntryState.SCHEDULED:
            return entry.start if self.faults.early_start_report else entry.start + entry.start_rand
        if entry.state is EntryState.STARTED:
            return entry.end
        return entry.action_time

    def _reschedule(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self.entries:
            return
        running_end = min((e.end for e in self.entries if e.state is EntryState.STARTED), default=None)

        def due(entry: EventEntry) -> int:
            # A scheduled event cannot start while another runs: wake it when the running one ends.
            if entry.state is EntryState.SCHEDULED and running_end is not None:
                return max(self._due(entry), running_end)
            return self._due(entry)

        due_at = min(due(e) for e in self.entries)
        self._timer = self.time.clock.loop.call_later(max(0.0, due_at - self.time.utc_seconds()), self._tick)

    def _tick(self) -> None:
        self._timer = None
        now = self.time.utc_seconds()
        running = False
        for entry in list(self.entries):
            if entry.state is EntryState.STARTED:
                if entry.end <= now or self.faults.tick_ends_running:
                    self.entries.remove(entry)
                    status = _completion_status(entry)
                    if self.faults.opted_out_completes_03 and status == EventStatus.Event_Completed_No_User_Participation:
                        status = EventStatus.Event_Completed
                    self._spawn(self._send_report(entry, status))
                else:
                    running = True
        for entry in list(self.entries):
            if entry.state is EntryState.SCHEDULED and self._due(entry) <= now and not running:
                status = EventStatus.Event_Started if entry.opted_in else EventStatus.User_Opted_Out
                # A start held back by a running event still lasts its full duration (reference client); an
                # event received after its start time is not extended.
                late = int(now) - max(self._due(entry), entry.received_at)
                if late > 0 and not self.faults.early_start_report:
                    entry.start_rand += late
                entry.state = EntryState.STARTED
                running = True
                self._spawn(self._send_report(entry, status))
            elif entry.state in (EntryState.SUPERSEDED, EntryState.CANCELLED) and entry.action_time <= now:
                self.entries.remove(entry)
                status = EventStatus.Event_Superseded if entry.state is EntryState.SUPERSEDED else EventStatus.Event_Cancelled
                self._spawn(self._send_report(entry, status))
        self._reschedule()


def _undefined_event(event_id: int) -> Any:
    """The event fields an FD report carries for an id the client does not know: all zero (reference client)."""
    return Drlc.ClientCommandDefs.load_control_event.schema(
        issuer_event_id=event_id, device_class=0, utility_enrollment_group=0, start_time=0, duration_in_minutes=0,
        criticality_level=0, cooling_temperature_offset=0, heating_temperature_offset=0,
        cooling_temperature_set_point=0, heating_temperature_set_point=0, average_load_adjustment_percentage=0,
        duty_cycle=0, event_control=0,
    )

"""Steps of features/drlc: load control events issued by the golden ESI, judged by the DUT's Report Event Status
(status, arrival on the golden clock, EventStatusTime) within the tolerances of the DUT's PIXITs."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from pytest_bdd import given, parsers, then, when
from zigpy.zcl.foundation import DataType, Status, TypeValue

from harness.bdd import certification_cases
from harness.clock import DeadlineExceeded
from harness.golden.esi import Peer, load_control_event
from harness.se.clusters import Drlc
from harness.se.datamodel import Side, load_datamodel
from harness.se.types import (
    DEVICE_CLASS_DEFINED_BITS,
    EVENT_CONTROL_DEFINED_BITS,
    CancelControl,
    EventControl,
    EventStatus,
    SignatureType,
)
from harness.verdict import check
from harness.verify.drlc import (
    APPLIED_CONTROLS,
    CONTROLS,
    CRITICALITY,
    EVENT_CONTROL,
    SIGNATURE,
    Finding,
    describe,
    judge_report,
    status_name,
)
from harness.zcl.errors import ZclError

from .conftest import HEX, attribute_record, dut_nwk, pixit_count

certification_cases("../features/drlc")

#: DeviceClass bits 0-11 are defined (SE 1.x Annex D.2.2.3.1); the rest are reserved.
DEFINED_DEVICE_CLASSES = [1 << bit for bit in range(12)]
#: Every defined device class: the golden's events address them all unless a case says otherwise.
ALL_DEVICE_CLASSES = 0x0FFF
FOREIGN_ENROLLMENT_GROUP, DUT_ENROLLMENT_GROUP = 7, 5
RULE = "SE 1.x Annex D.2 (DRLC), reference client behaviour (Silicon Labs drlc plugin)"


@dataclass
class IssuedEvent:
    """What the golden sent, in ESI (network) time: the moments the DUT's statuses are judged against."""

    start: float
    duration: int  # seconds
    effective: float | None = None  # a cancel's effective time

    @property
    def end(self) -> float:
        return self.start + self.duration


# -- timing from the DUT's PIXITs -----------------------------------------------------------------------------

def _response_time(bench) -> float:
    return bench.pixit_seconds("response_time", 5)


def _tolerance(bench) -> float:
    return bench.pixit_seconds("timing_tolerance", 2)


def _duration_minutes(bench) -> int:
    return max(1, round(bench.pixit_seconds("drlc_event_duration", 30 * 60) / 60))


def _lead(bench) -> int:
    return round(bench.pixit_seconds("drlc_start_lead", 120))


def _name(status: int) -> str:
    return status_name(status)


def _events(testbed) -> dict[int, IssuedEvent]:
    return testbed.notes.setdefault("drlc_events", {})


def _payloads(testbed) -> dict[int, object]:
    """Every Load Control Event the ESI sent or held, by IssuerEventID: what the DUT's reports are judged against."""
    return testbed.notes.setdefault("drlc_payloads", {})


def _dut(bench, testbed) -> Peer:
    return Peer(dut_nwk(testbed), bench.dut_profile.endpoint)


def _now(testbed) -> float:
    return testbed.golden.esi_time()


def _arrival(testbed, report) -> float:
    """A report's arrival in ESI time (the golden logs it on the bench clock)."""
    return report.arrival + testbed.golden.time_server.offset


def _issue(bench, testbed, event_id: int, start_time: int, duration_minutes: int, **fields) -> None:
    event = load_control_event(event_id, start_time=start_time, duration_minutes=duration_minutes,
                               device_class=fields.pop("device_class", ALL_DEVICE_CLASSES), **fields)
    start = _now(testbed) if start_time == 0 else start_time
    _events(testbed)[event_id] = IssuedEvent(start, duration_minutes * 60)
    _payloads(testbed)[event_id] = event  # the fields the reports are judged against
    bench.run(testbed.golden.drlc.issue_event(_dut(bench, testbed), event), 30, f"issuing event {event_id}")


def _write_client_attribute(bench, testbed, attr_id: int, value: int) -> None:
    model = load_datamodel().cluster(Drlc.cluster_id).attribute(Side.CLIENT, attr_id)
    typed = TypeValue(type=model.type_id, value=DataType.from_type_id(model.type_id).python_type(value))
    try:
        records = bench.run(testbed.golden.engine.write_attributes(
            dut_nwk(testbed), bench.dut_profile.endpoint, Drlc.cluster_id, {attr_id: typed}, src_ep=1,
            target=Side.CLIENT, timeout=_response_time(bench)))
    except (ZclError, TimeoutError) as exc:
        check(False, expected=f"the DUT accepts DRLC client attribute 0x{attr_id:04X} = {value}",
              observed=str(exc), rule="SE 1.x Annex D.2.3.2: DRLC client attributes are writable")
    statuses = [r.status for r in records]
    check(all(s == Status.SUCCESS for s in statuses),
          expected=f"Write Attributes Response SUCCESS for DRLC client attribute 0x{attr_id:04X} = {value}",
          observed=f"statuses {[getattr(s, 'name', s) for s in statuses]}",
          rule="SE 1.x Annex D.2.3.2: DRLC client attributes are writable")


def _read_client_attribute(bench, testbed, attr_id: int) -> int:
    records = bench.run(testbed.golden.engine.read_attributes(
        dut_nwk(testbed), bench.dut_profile.endpoint, Drlc.cluster_id, [attr_id], src_ep=1, target=Side.CLIENT,
        timeout=_response_time(bench)))
    record = attribute_record(records, attr_id)
    value = record.value.value if record is not None and record.status == Status.SUCCESS else None
    check(isinstance(value, int), expected=f"DRLC client attribute 0x{attr_id:04X} is readable as an integer",
          observed="no record for it" if record is None else f"status {record.status!r}" if value is None
          else f"a {type(value).__name__} value {value!r}", rule="SE 1.x Annex D.2.3.2")
    return int(value)


def _wait_status(bench, testbed, event_id: int, status: int, timeout: float):
    try:
        return bench.run(testbed.golden.drlc.wait_for_status(event_id, status, timeout))
    except DeadlineExceeded:
        seen = [_name(s) for s in testbed.golden.drlc.status_codes(event_id)]
        check(False, expected=f"Report Event Status {_name(status)} for event {event_id} within {timeout:g} s",
              observed=f"statuses reported for the event so far: {seen or 'none'}", rule=RULE)


def _status_at(bench, testbed, event_id: int, status: int, due: float, moment: str) -> None:
    tolerance = _tolerance(bench)
    report = _wait_status(bench, testbed, event_id, status, max(0.0, due - _now(testbed)) + tolerance)
    arrival = _arrival(testbed, report)
    check(abs(arrival - due) <= tolerance,
          expected=f"{_name(status)} for event {event_id} at {moment} (ESI time {due:.1f}) +/- {tolerance:g} s",
          observed=f"arrived at {arrival:.1f} ({arrival - due:+.1f} s)", rule=RULE)


def _silence(bench, testbed, until: float) -> None:
    """Let the bench run until ESI time `until` (statuses that arrive meanwhile are logged)."""
    bench.run(bench.clock.sleep(max(0.0, until - _now(testbed)), "the events' schedule"))


# -- Given ---------------------------------------------------------------------------------------------------

@given("the ESI sets the DUT's start and duration randomization to the PIXIT randomization window")
def set_randomization(bench, testbed):
    minutes = max(1, min(0x3C, round(bench.pixit_seconds("drlc_randomization", 300) / 60)))
    _write_client_attribute(bench, testbed, Drlc.ClientAttributeDefs.start_randomization_minutes.id, minutes)
    _write_client_attribute(bench, testbed, Drlc.ClientAttributeDefs.duration_randomization_minutes.id, minutes)
    testbed.notes["randomization_window"] = minutes * 60


@given(parsers.parse("the DUT's utility enrollment group is {group:d}"))
def set_enrollment_group(bench, testbed, group):
    _write_client_attribute(bench, testbed, Drlc.ClientAttributeDefs.utility_enrollment_group.id, group)


@given(parsers.parse("the ESI holds event {event_id:d} starting after the PIXIT lead time without sending it"))
def hold_event(bench, testbed, event_id):
    start = int(_now(testbed)) + _lead(bench) + round(bench.pixit_seconds("rejoin_timeout", 30))
    minutes = _duration_minutes(bench)
    event = load_control_event(event_id, start_time=start, duration_minutes=minutes, device_class=ALL_DEVICE_CLASSES)
    _payloads(testbed)[event_id] = event
    testbed.notes["drlc_held_at"] = _now(testbed)
    testbed.golden.drlc.add_event(event)
    _events(testbed)[event_id] = IssuedEvent(start, minutes * 60)


# -- When ----------------------------------------------------------------------------------------------------

@when(parsers.parse("the ESI issues event {event_id:d} starting after the PIXIT lead time"))
def issue_scheduled(bench, testbed, event_id):
    _issue(bench, testbed, event_id, int(_now(testbed)) + _lead(bench), _duration_minutes(bench))


@when(parsers.parse("the ESI issues event {event_id:d} starting now"))
def issue_now(bench, testbed, event_id):
    _issue(bench, testbed, event_id, 0, _duration_minutes(bench))


@when(parsers.parse("the ESI issues event {event_id:d} starting now and lasting {minutes:d} minutes"))
def issue_now_lasting(bench, testbed, event_id, minutes):
    _issue(bench, testbed, event_id, 0, minutes)


@when(parsers.parse("the ESI issues event {event_id:d} again"))
def issue_again(bench, testbed, event_id):
    issued = _events(testbed)[event_id]
    event = load_control_event(event_id, start_time=int(issued.start), duration_minutes=issued.duration // 60,
                               device_class=ALL_DEVICE_CLASSES)
    bench.run(testbed.golden.drlc.issue_event(_dut(bench, testbed), event), 30, f"repeating event {event_id}")


@when(parsers.parse("the ESI issues event {event_id:d} starting after event {earlier:d} ends"))
def issue_after(bench, testbed, event_id, earlier):
    start = int(_events(testbed)[earlier].end) + _lead(bench)
    _issue(bench, testbed, event_id, start, _duration_minutes(bench))


@when(parsers.parse("the ESI issues event {event_id:d} starting halfway through event {earlier:d}"))
def issue_overlapping(bench, testbed, event_id, earlier):
    previous = _events(testbed)[earlier]
    _issue(bench, testbed, event_id, int(previous.start + previous.duration // 2), _duration_minutes(bench))


@when(parsers.parse("the ESI issues event {event_id:d} that ended before now"))
def issue_expired(bench, testbed, event_id):
    minutes = _duration_minutes(bench)
    _issue(bench, testbed, event_id, int(_now(testbed)) - 2 * minutes * 60, minutes)


@when(parsers.parse("the ESI issues event {event_id:d} starting now for another {target}"))
def issue_foreign(bench, testbed, event_id, target):
    if target == "device class":
        own = _read_client_attribute(bench, testbed, Drlc.ClientAttributeDefs.device_class_value.id)
        foreign = next((c for c in DEFINED_DEVICE_CLASSES if not c & own), None)
        if foreign is None:
            pytest.skip("not applicable: the DUT's DeviceClassValue claims every defined device class")
        _issue(bench, testbed, event_id, 0, _duration_minutes(bench), device_class=foreign)
    elif target == "enrollment group":
        _issue(bench, testbed, event_id, 0, _duration_minutes(bench),
               utility_enrollment_group=FOREIGN_ENROLLMENT_GROUP)
    else:
        raise ValueError(f"unknown mismatch {target!r}")


@when(parsers.parse("the ESI cancels event {event_id:d} with effective time {when}"))
def cancel(bench, testbed, event_id, when):
    issued = _events(testbed).get(event_id)
    if when == "now":
        effective, sent = _now(testbed), 0
    elif when == "halfway through the event":
        effective = sent = int(issued.start + issued.duration // 2)
    elif when == "after the event's end":
        effective = sent = int(issued.end) + 60
    else:
        raise ValueError(f"unknown effective time {when!r}")
    if issued is not None:
        issued.effective = effective
    bench.run(testbed.golden.drlc.cancel_event(_dut(bench, testbed), event_id, effective_time=sent), 30,
              f"cancelling event {event_id}")


@when("the ESI cancels all events")
def cancel_all(bench, testbed):
    bench.run(testbed.golden.drlc.cancel_all(_dut(bench, testbed)), 30, "Cancel All Load Control Events")


@when(parsers.parse("the user opts out of event {event_id:d}"))
def user_opts_out(bench, testbed, event_id):
    bench.run(testbed.dut.opt_out(event_id), 30, f"the user opting out of event {event_id}")


@when(parsers.parse("the user opts into event {event_id:d}"))
def user_opts_in(bench, testbed, event_id):
    bench.run(testbed.dut.opt_in(event_id), 30, f"the user opting into event {event_id}")


@when("the DUT is told to rejoin the network")
def told_to_rejoin(bench, testbed):
    bench.run(testbed.dut.start_rejoin(), 10, "telling the DUT to rejoin")


@when("the ESI issues the PIXIT number of randomized events one after another")
def issue_randomized(bench, testbed):
    count = pixit_count(bench, "drlc_randomized_events", 6)
    window = testbed.notes["randomization_window"]
    minutes = _duration_minutes(bench)
    # Each event's latest randomized end lies before the next one starts: no overlap, no supersession.
    spacing = minutes * 60 + 2 * window + _lead(bench)
    first = int(_now(testbed)) + _lead(bench)
    control = EventControl.Randomize_Start_Time | EventControl.Randomize_End_Time
    ids = []
    for index in range(count):
        event_id = 300 + index
        _issue(bench, testbed, event_id, first + index * spacing, minutes, event_control=control)
        ids.append(event_id)
    testbed.notes["randomized"] = ids


@when("the ESI issues the PIXIT schedule of events over the PIXIT schedule span")
def issue_schedule(bench, testbed):
    count = pixit_count(bench, "drlc_schedule_events", 12)
    span = bench.pixit_seconds("drlc_schedule_span", 24 * 3600)
    slot = int(span // count)
    minutes = max(1, slot // 120)  # each event fills half its slot
    first = int(_now(testbed)) + _lead(bench)
    ids = []
    for index in range(count):
        event_id = 400 + index
        _issue(bench, testbed, event_id, first + index * slot, minutes)
        ids.append(event_id)
    testbed.notes["schedule"] = ids


# -- Then ----------------------------------------------------------------------------------------------------

@then(parsers.parse("the DUT reports status {status:value} for event {event_id:d} within the PIXIT response time",
                    extra_types=HEX))
def status_within_response(bench, testbed, status, event_id):
    _wait_status(bench, testbed, event_id, status, _response_time(bench))


@then(parsers.parse("the DUT reports status {status:value} for event {event_id:d} within the PIXIT rejoin time",
                    extra_types=HEX))
def status_within_rejoin(bench, testbed, status, event_id):
    _wait_status(bench, testbed, event_id, status, bench.pixit_seconds("rejoin_timeout", 30)
                 + bench.pixit_seconds("app_start_time", 10))


@then(parsers.parse("the DUT reports status {status:value} for event {event_id:d} at the event's {moment}",
                    extra_types=HEX))
def status_at_moment(bench, testbed, status, event_id, moment):
    issued = _events(testbed)[event_id]
    due = {"start": issued.start, "end": issued.end}[moment]
    _status_at(bench, testbed, event_id, status, due, f"the event's {moment}")


@then(parsers.parse("the DUT reports status {status:value} for event {event_id:d} at the effective time",
                    extra_types=HEX))
def status_at_effective(bench, testbed, status, event_id):
    _status_at(bench, testbed, event_id, status, _events(testbed)[event_id].effective, "the cancel's effective time")


@then(parsers.parse("the DUT does not report status {status:value} for event {event_id:d} by the event's {moment}",
                    extra_types=HEX))
def no_status_by(bench, testbed, status, event_id, moment):
    issued = _events(testbed)[event_id]
    due = {"start": issued.start, "end": issued.end}[moment]
    _silence(bench, testbed, due + _tolerance(bench) + _response_time(bench))
    seen = testbed.golden.drlc.status_codes(event_id)
    check(status not in seen, expected=f"no {_name(status)} for event {event_id} by the event's {moment}",
          observed=f"statuses {[_name(s) for s in seen]}", rule=RULE)


@then(parsers.parse("the DUT has not reported status {status:value} for event {event_id:d}", extra_types=HEX))
def not_reported(bench, testbed, status, event_id):
    _silence(bench, testbed, _now(testbed) + _tolerance(bench))
    seen = testbed.golden.drlc.status_codes(event_id)
    check(status not in seen, expected=f"no {_name(status)} for event {event_id}",
          observed=f"statuses {[_name(s) for s in seen]}", rule=RULE)


@then(parsers.parse("the DUT has reported status {status:value} for event {event_id:d} only once", extra_types=HEX))
def reported_once(bench, testbed, status, event_id):
    _silence(bench, testbed, _now(testbed) + _response_time(bench))
    count = testbed.golden.drlc.status_codes(event_id).count(status)
    check(count == 1, expected=f"exactly one {_name(status)} for event {event_id} (a repeated event is not "
                               "processed twice)", observed=f"{count} reports", rule=RULE)


@then(parsers.parse("the DUT reports no status for event {event_id:d} within the PIXIT response time"))
def no_status(bench, testbed, event_id):
    _silence(bench, testbed, _now(testbed) + _response_time(bench) + _tolerance(bench))
    seen = testbed.golden.drlc.status_codes(event_id)
    check(not seen, expected=f"no Report Event Status for event {event_id}, which is not addressed to the DUT",
          observed=f"statuses {[_name(s) for s in seen]}",
          rule="SE 1.x Annex D.2.3.3.1: a device acts only on events for its device class and enrollment group")


@then(parsers.parse("the DUT reports no status other than {status:value} for event {event_id:d}", extra_types=HEX))
def only_status(bench, testbed, status, event_id):
    issued = _events(testbed)[event_id]
    _silence(bench, testbed, max(_now(testbed), issued.start) + _response_time(bench) + _tolerance(bench))
    others = [s for s in testbed.golden.drlc.status_codes(event_id) if s != status]
    check(not others, expected=f"only {_name(status)} for event {event_id}",
          observed=f"also {[_name(s) for s in others]}", rule=RULE)


@then(parsers.parse("every status for event {event_id:d} carries an EventStatusTime within the PIXIT tolerance "
                    "of its arrival"))
def status_times(bench, testbed, event_id):
    tolerance = _tolerance(bench)
    reports = [r for r in testbed.golden.drlc.reports if r.issuer_event_id == event_id]
    off = [(_name(int(r.status)), r.event_status_time, round(_arrival(testbed, r), 1)) for r in reports
           if abs(r.event_status_time - _arrival(testbed, r)) > tolerance]
    check(bool(reports) and not off,
          expected=f"every EventStatusTime within {tolerance:g} s of the golden clock at the report's arrival",
          observed=f"{len(reports)} reports; off: {off}" if off else "no reports",
          rule="SE 1.x Annex D.2.3.3.2: EventStatusTime is the UTC time of the status change (network time)")


@then(parsers.parse("every status for event {event_id:d} carries an ECDSA signature that verifies with the DUT's "
                    "certificate"))
def signed_statuses(bench, testbed, event_id):
    reports = [r for r in testbed.golden.drlc.reports if r.issuer_event_id == event_id]
    if any(r.signature_type == SignatureType.ECDSA and r.signature_valid is None for r in reports):
        # The bench cannot judge: it holds no suite-1 certificate of the DUT (e.g. CBKE ran with suite 2).
        raise RuntimeError("the golden holds no suite-1 certificate of the DUT to verify its signed reports with: "
                           f"{[str(f) for f in testbed.golden.drlc.findings][-3:]}")
    bad = [(_name(int(r.status)), f"type 0x{r.signature_type:02X}",
            {True: "verifies", False: "does not verify", None: "not checked"}[r.signature_valid])
           for r in reports if r.signature_type != SignatureType.ECDSA or r.signature_valid is not True]
    check(bool(reports) and not bad,
          expected="every Report Event Status with SignatureType 0x01 (ECDSA) and a signature that verifies with "
                   "the public key of the certificate the DUT presented in CBKE",
          observed=f"{len(reports)} reports; not signed or not verifying: {bad}" if bad else "no reports",
          rule="SE 1.x Annex D.2.3.3.2 / C.6: Report Event Status signature (ECDSA over sect163k1, AES-MMO "
               "digest, r || s) with the device's own certificate key")


@then("every randomized event starts within the start randomization window after its start time")
def randomized_starts(bench, testbed):
    window, tolerance = testbed.notes["randomization_window"], _tolerance(bench)
    offsets = {}
    for event_id in testbed.notes["randomized"]:
        issued = _events(testbed)[event_id]
        report = _wait_status(bench, testbed, event_id, EventStatus.Event_Started,
                              max(0.0, issued.start - _now(testbed)) + window + tolerance)
        offsets[event_id] = round(_arrival(testbed, report) - issued.start, 1)
    testbed.notes["start_offsets"] = offsets
    outside = {e: o for e, o in offsets.items() if not -tolerance <= o < window + tolerance}
    check(not outside, expected=f"every start offset in [0, {window} s) (StartRandomizationMinutes) +/- {tolerance:g} s",
          observed=f"offsets {offsets}", rule="SE 1.x Annex D.2.2.3.1: randomized start within the client's window")


@then("every randomized event ends within the duration randomization window after its randomized end")
def randomized_ends(bench, testbed):
    window, tolerance = testbed.notes["randomization_window"], _tolerance(bench)
    offsets = {}
    for event_id in testbed.notes["randomized"]:
        issued = _events(testbed)[event_id]
        started = _wait_status(bench, testbed, event_id, EventStatus.Event_Started, 0)
        nominal_end = _arrival(testbed, started) + issued.duration
        report = _wait_status(bench, testbed, event_id, EventStatus.Event_Completed,
                              max(0.0, nominal_end - _now(testbed)) + window + tolerance)
        offsets[event_id] = round(_arrival(testbed, report) - nominal_end, 1)
    outside = {e: o for e, o in offsets.items() if not -tolerance <= o < window + tolerance}
    check(not outside,
          expected=f"every end offset in [0, {window} s) (DurationRandomizationMinutes) +/- {tolerance:g} s",
          observed=f"offsets {offsets}", rule="SE 1.x Annex D.2.2.3.1: randomized end within the client's window")


@then("the start offsets of the randomized events are not all zero")
def offsets_spread(bench, testbed):
    offsets = testbed.notes["start_offsets"]
    tolerance = _tolerance(bench)
    check(len(offsets) < 2 or any(o > tolerance for o in offsets.values()),
          expected="randomized start offsets drawn over the window (with several events, not all at the nominal "
                   "start)",
          observed=f"offsets {offsets}", rule="SE 1.x Annex D.2.2.3.1: EventControl bit 0 randomizes the start")


@then("every scheduled event is reported received, started at its start and completed at its end")
def schedule_ran(bench, testbed):
    ids = testbed.notes["schedule"]
    for event_id in ids:
        _wait_status(bench, testbed, event_id, EventStatus.Load_Control_Event_Command_Received, _response_time(bench))
    for event_id in ids:
        issued = _events(testbed)[event_id]
        _status_at(bench, testbed, event_id, EventStatus.Event_Started, issued.start, "the event's start")
        _status_at(bench, testbed, event_id, EventStatus.Event_Completed, issued.end, "the event's end")


@when(parsers.parse("the ESI sends event {event_id:d} starting now under {protection}"))
def issue_unprotected(bench, testbed, event_id, protection):
    link_key = {"its install-code link key": testbed.dut_link_key, "no APS security": None}[protection]
    event = load_control_event(event_id, start_time=0, duration_minutes=_duration_minutes(bench),
                               device_class=ALL_DEVICE_CLASSES)
    _events(testbed)[event_id] = IssuedEvent(_now(testbed), _duration_minutes(bench) * 60)
    _payloads(testbed)[event_id] = event
    bench.run(testbed.golden.send_without_link_key(
        dut_nwk(testbed), testbed.dut_ieee, bench.dut_profile.endpoint, Drlc.cluster_id,
        Drlc.ClientCommandDefs.load_control_event.id, event, link_key=link_key),
        30, f"sending event {event_id} under {protection}")


@then(parsers.parse("the DUT does not act on event {event_id:d} within the PIXIT response time"))
def not_acted_on(bench, testbed, event_id):
    _silence(bench, testbed, _now(testbed) + _response_time(bench) + _tolerance(bench))
    seen = testbed.golden.drlc.status_codes(event_id)
    check(not seen, expected=f"no Report Event Status for event {event_id}, which was not secured with the DUT's "
                             "CBKE link key", observed=f"statuses {[_name(s) for s in seen]}",
          rule="SE 1.x 5.4.7: SE application commands are APS-secured with the CBKE link key; others are dropped")


# -- every field of Report Event Status (TC-DRLC-1.22) ----------------------------------------------------------

#: A load control event with every control set: criticality 5 (level 4, above green), set points a PCT
#: can apply (26.00 / 19.00 degrees C), a 25 % load reduction, a 60 % duty cycle, and a randomized end (bit 1:
#: only the completion moves, which this case does not wait for). Temperature offsets stay unused: a set point
#: takes precedence over an offset, and an applied set point must then be the event's.
EVERY_CONTROL = {"criticality_level": 5, "cooling_temperature_set_point": 2600, "heating_temperature_set_point": 1900,
                 "average_load_adjustment_percentage": -25, "duty_cycle": 60,
                 "event_control": EventControl.Randomize_End_Time}


def _judged(bench, testbed, reports) -> list[Finding]:
    """What the shared judge (harness/verify/drlc.py) finds in *reports*, each against the event it names."""
    signs, tolerance = bench.claims("SE.DRLC.C.SIGN"), _tolerance(bench)
    payloads = _payloads(testbed)
    found = []
    for report in reports:
        if int(report.status) == EventStatus.Rejected_Invalid_Cancel_Undefined_Event:
            event = None  # the DUT says it does not know the event: there is nothing to echo
        else:
            event = payloads.get(report.issuer_event_id)
            check(event is not None, expected="Report Event Status only for events the ESI sent",
                  observed=f"{status_name(int(report.status))} for event {report.issuer_event_id}, which the ESI "
                           f"never sent (it sent {sorted(payloads)})", rule=RULE)
        found += judge_report(report, event, arrival=_arrival(testbed, report), tolerance=tolerance, signs=signs)
    return found


def _reports_of(testbed, event_id: int) -> list:
    """Every report for *event_id* so far (the lifecycle steps before waited for them); none is a failure."""
    reports = [r for r in testbed.golden.drlc.reports if r.issuer_event_id == event_id]
    check(bool(reports), expected=f"Report Event Status for event {event_id}", observed="none", rule=RULE)
    return reports


def _check_group(bench, testbed, event_id: int, group: str, expected: str) -> None:
    off = [f for f in _judged(bench, testbed, _reports_of(testbed, event_id)) if f.group == group]
    check(not off, expected=expected, observed=describe(off), rule=off[0].rule if off else RULE)


@then("every Report Event Status the DUT sent is right in every field for its event and the DUT's claims")
def every_report_judged(bench, testbed):
    """The shared judgement of every report a DRLC case saw (harness/verify/drlc.py), whatever its status."""
    reports = list(testbed.golden.drlc.reports)
    found = _judged(bench, testbed, reports)
    rules = sorted({f.rule for f in found})
    check(not found, expected="every field of every Report Event Status right for its event and the DUT's claims "
                              "(status, EventStatusTime, criticality level, controls applied, EventControl, "
                              "signature)",
          observed=f"{len(found)} wrong field(s) in {len(reports)} report(s): {describe(found)}",
          rule=" / ".join(rules) or RULE)


@when(parsers.parse("the ESI issues event {event_id:d} starting after the PIXIT lead time with every load control "
                    "field set"))
def issue_every_control(bench, testbed, event_id):
    _issue(bench, testbed, event_id, int(_now(testbed)) + _lead(bench), _duration_minutes(bench), **EVERY_CONTROL)


@when(parsers.parse("the ESI issues event {event_id:d} starting now with every load control field set"))
def issue_every_control_now(bench, testbed, event_id):
    _issue(bench, testbed, event_id, 0, _duration_minutes(bench), **EVERY_CONTROL)


@then(parsers.parse("every status for event {event_id:d} reports the event's criticality level as applied"))
def criticality_applied(bench, testbed, event_id):
    level = int(_payloads(testbed)[event_id].criticality_level)
    _check_group(bench, testbed, event_id, CRITICALITY, f"CriticalityLevelApplied {level} (the event's level) in "
                                                        "every report")


@then(parsers.parse("every status for event {event_id:d} reports each set point, the load adjustment and the duty "
                    "cycle as applied or not used"))
def controls_applied(bench, testbed, event_id):
    _check_group(bench, testbed, event_id, CONTROLS, "each set point, average load adjustment and duty cycle applied "
                                                     "is the event's value or its \"not used\" value")


@then(parsers.parse("every status for event {event_id:d} carries the event's EventControl"))
def event_control_reported(bench, testbed, event_id):
    control = int(_payloads(testbed)[event_id].event_control)
    _check_group(bench, testbed, event_id, EVENT_CONTROL, f"EventControl 0x{control:02X} (the event's) in every report")


@then(parsers.parse("every status for event {event_id:d} carries the SignatureType the DUT's PICS claim, and a "
                    "uniform fill when unsigned"))
def signature_type_and_fill(bench, testbed, event_id):
    signs = bench.claims("SE.DRLC.C.SIGN")
    _check_group(bench, testbed, event_id, SIGNATURE,
                 f"SignatureType 0x{SignatureType.ECDSA if signs else SignatureType.No_Signature:02X} (PICS SE.DRLC.C.SIGN is {str(signs).lower()})"
                 + ("" if signs else " and a Signature of 42 x 0xFF (or 42 x 0x00)"))


# -- boundaries, value classes and overlaps (issue 18) -----------------------------------------------------------

RANDOMIZATION_RULE = ("SE 1.x Annex D.2.2 (Load Control Event): EventControl bit 0 randomizes the start within "
                      "StartRandomizationMinutes, bit 1 the end within DurationRandomizationMinutes, and only then; "
                      "reference client behaviour (Silicon Labs drlc: startRand / durationRand drawn per bit)")


def _window(testbed) -> int:
    return testbed.notes["randomization_window"]


def _own_device_class(bench, testbed) -> int:
    return _read_client_attribute(bench, testbed, Drlc.ClientAttributeDefs.device_class_value.id)


@when(parsers.parse("the ESI issues event {event_id:d} with StartTime {start:value}", extra_types=HEX))
def issue_with_start_time(bench, testbed, event_id, start):
    _issue(bench, testbed, event_id, start, _duration_minutes(bench))
    # Judged from now: an invalid start time is no moment to wait for.
    _events(testbed)[event_id] = IssuedEvent(_now(testbed), _duration_minutes(bench) * 60)


@when(parsers.parse("the ESI issues event {event_id:d} starting now at criticality level {level:value}",
                    extra_types=HEX))
def issue_at_level(bench, testbed, event_id, level):
    _issue(bench, testbed, event_id, 0, _duration_minutes(bench), criticality_level=level)


@when(parsers.parse("the ESI issues one event at each criticality level {levels} one after another"))
def issue_levels(bench, testbed, levels):
    minutes = _duration_minutes(bench)
    slot = minutes * 60 + _lead(bench)
    first = int(_now(testbed)) + _lead(bench)
    ids = []
    for index, level in enumerate(int(text, 16) for text in levels.split()):
        event_id = 160 + index
        _issue(bench, testbed, event_id, first + index * slot, minutes, criticality_level=level)
        ids.append(event_id)
    testbed.notes["criticality_events"] = ids


@then("every event of the criticality levels is reported received and started at its start")
def levels_ran(bench, testbed):
    ids = testbed.notes["criticality_events"]
    for event_id in ids:
        _wait_status(bench, testbed, event_id, EventStatus.Load_Control_Event_Command_Received, _response_time(bench))
    for event_id in ids:
        _status_at(bench, testbed, event_id, EventStatus.Event_Started, _events(testbed)[event_id].start, "the event's start")


@when(parsers.parse("the ESI issues {count:d} events each with a randomized start only and a randomized end only, "
                    "one after another"))
def issue_randomization_kinds(bench, testbed, count):
    window, minutes = _window(testbed), _duration_minutes(bench)
    spacing = minutes * 60 + 2 * window + _lead(bench)
    first = int(_now(testbed)) + _lead(bench)
    kinds = {}
    controls = (EventControl.Randomize_Start_Time, EventControl.Randomize_End_Time)
    for index in range(len(controls) * count):
        event_id, control = 170 + index, controls[index % len(controls)]
        _issue(bench, testbed, event_id, first + index * spacing, minutes, event_control=control)
        kinds[event_id] = control
    testbed.notes["randomization_kinds"] = kinds


def _offset_ok(offset: float, randomized: bool, window: int, tolerance: float) -> bool:
    return -tolerance <= offset < window + tolerance if randomized else abs(offset) <= tolerance


@then("every such event starts at its start time, or within the start window when its start is randomized")
def kinds_start(bench, testbed):
    window, tolerance = _window(testbed), _tolerance(bench)
    offsets, starts = {}, {}
    for event_id in testbed.notes["randomization_kinds"]:
        issued = _events(testbed)[event_id]
        report = _wait_status(bench, testbed, event_id, EventStatus.Event_Started,
                              max(0.0, issued.start - _now(testbed)) + window + tolerance)
        starts[event_id] = _arrival(testbed, report)
        offsets[event_id] = round(starts[event_id] - issued.start, 1)
    testbed.notes["kind_starts"], testbed.notes["kind_start_offsets"] = starts, offsets
    kinds = testbed.notes["randomization_kinds"]
    off = {e: (f"EventControl 0x{int(kinds[e]):02X}", o) for e, o in offsets.items()
           if not _offset_ok(o, bool(kinds[e] & EventControl.Randomize_Start_Time), window, tolerance)}
    check(not off, expected=f"02 at the start time +/- {tolerance:g} s, or in [0, {window} s) after it when "
                            "EventControl bit 0 asks", observed=f"start offsets out of place: {off}",
          rule=RANDOMIZATION_RULE)


@then("every such event ends its duration after its start, or within the duration window when its end is randomized")
def kinds_end(bench, testbed):
    window, tolerance = _window(testbed), _tolerance(bench)
    kinds, starts = testbed.notes["randomization_kinds"], testbed.notes["kind_starts"]
    offsets = {}
    for event_id in kinds:
        nominal_end = starts[event_id] + _events(testbed)[event_id].duration
        report = _wait_status(bench, testbed, event_id, EventStatus.Event_Completed,
                              max(0.0, nominal_end - _now(testbed)) + window + tolerance)
        offsets[event_id] = round(_arrival(testbed, report) - nominal_end, 1)
    testbed.notes["kind_end_offsets"] = offsets
    off = {e: (f"EventControl 0x{int(kinds[e]):02X}", o) for e, o in offsets.items()
           if not _offset_ok(o, bool(kinds[e] & EventControl.Randomize_End_Time), window, tolerance)}
    check(not off, expected=f"03 the duration after the reported start +/- {tolerance:g} s, or in [0, {window} s) "
                            "after that when EventControl bit 1 asks", observed=f"end offsets out of place: {off}",
          rule=RANDOMIZATION_RULE)


@then("the randomized offsets of each kind are not all zero")
def kinds_spread(bench, testbed):
    tolerance, kinds = _tolerance(bench), testbed.notes["randomization_kinds"]
    spread = {}
    for name, bit, offsets in (("start", EventControl.Randomize_Start_Time, testbed.notes["kind_start_offsets"]),
                               ("end", EventControl.Randomize_End_Time, testbed.notes["kind_end_offsets"])):
        mine = {e: o for e, o in offsets.items() if kinds[e] & bit}
        spread[name] = len(mine) < 2 or any(o > tolerance for o in mine.values())
        testbed.notes[f"{name}_spread"] = mine
    check(all(spread.values()),
          expected="the randomized starts, and the randomized ends, drawn over their windows (with several events, "
                   "not all at the nominal moment)",
          observed=f"start offsets {testbed.notes['start_spread']}, end offsets {testbed.notes['end_spread']}",
          rule=RANDOMIZATION_RULE)


@when(parsers.parse("the ESI issues event {event_id:d} starting now with a randomized end"))
def issue_now_randomized_end(bench, testbed, event_id):
    _issue(bench, testbed, event_id, 0, _duration_minutes(bench), event_control=EventControl.Randomize_End_Time)


CANCEL_RANDOMIZATION_RULE = ("SE 1.x Annex D.2.2 (Cancel Load Control Event): CancelControl bit 0 ends a running event with the "
                             "randomization of the original event, 0 at the effective time; reference client "
                             "behaviour (Silicon Labs drlc, CCB 1513: the event's end offset, else its start offset)")


@when(parsers.parse("the ESI cancels {count:d} running events with a randomized end one after another, with "
                    "randomization, effective now"))
def cancel_randomized(bench, testbed, count):
    window, tolerance = _window(testbed), _tolerance(bench)
    offsets: dict[int, float | None] = {}
    for index in range(count):
        event_id = 180 + index
        issue_now_randomized_end(bench, testbed, event_id)
        _wait_status(bench, testbed, event_id, EventStatus.Event_Started, _response_time(bench))
        effective = _now(testbed)
        _events(testbed)[event_id].effective = effective
        bench.run(testbed.golden.drlc.cancel_event(_dut(bench, testbed), event_id, effective_time=0,
                                                   cancel_control=CancelControl.Use_Randomized_End),
                  30, f"cancelling event {event_id} with randomization")
        try:
            report = bench.run(testbed.golden.drlc.wait_for_status(event_id, EventStatus.Event_Cancelled, window + tolerance
                                                                   + _response_time(bench)))
        except DeadlineExceeded:
            offsets[event_id] = None  # judged by the next step
        else:
            offsets[event_id] = round(_arrival(testbed, report) - effective, 1)
    testbed.notes["cancel_offsets"] = offsets


@then("every such event is reported cancelled within the duration window after the cancel's effective time")
def cancelled_in_window(bench, testbed):
    window, tolerance = _window(testbed), _tolerance(bench)
    offsets = testbed.notes["cancel_offsets"]
    off = {e: o for e, o in offsets.items() if o is None or not -tolerance <= o < window + tolerance}
    check(not off, expected=f"06 in [0, {window} s) +/- {tolerance:g} s after each cancel's effective time "
                            "(DurationRandomizationMinutes)",
          observed=f"offsets {offsets} (None: no 06)", rule=CANCEL_RANDOMIZATION_RULE)


@then("the cancel offsets are not all zero")
def cancel_spread(bench, testbed):
    offsets = [o for o in testbed.notes["cancel_offsets"].values() if o is not None]
    check(len(offsets) < 2 or any(o > _tolerance(bench) for o in offsets),
          expected="cancels with randomization drawn over the window (with several events, not all at the "
                   "effective time)", observed=f"offsets {offsets}", rule=CANCEL_RANDOMIZATION_RULE)


@then(parsers.parse("the DUT reports status {status:value} for event {event_id:d} at the start of event {other:d}",
                    extra_types=HEX))
def status_at_other_start(bench, testbed, status, event_id, other):
    _status_at(bench, testbed, event_id, status, _events(testbed)[other].start, f"the start of event {other}")


@when(parsers.parse("the ESI issues event {event_id:d} starting after the PIXIT lead time for the DUT's device class"))
def issue_own_class(bench, testbed, event_id):
    _issue(bench, testbed, event_id, int(_now(testbed)) + _lead(bench), _duration_minutes(bench),
           device_class=_own_device_class(bench, testbed))


@when(parsers.parse("the ESI issues event {event_id:d} starting halfway through event {earlier:d} for another device "
                    "class"))
def issue_overlapping_foreign(bench, testbed, event_id, earlier):
    own = _own_device_class(bench, testbed)
    foreign = sum(c for c in DEFINED_DEVICE_CLASSES if not c & own)
    if not foreign:
        pytest.skip("not applicable: the DUT's DeviceClassValue claims every defined device class")
    previous = _events(testbed)[earlier]
    _issue(bench, testbed, event_id, int(previous.start + previous.duration // 2), _duration_minutes(bench),
           device_class=foreign)


@then("the DUT sends Get Scheduled Events from now or earlier within the PIXIT application start time")
def asks_scheduled_events(bench, testbed):
    since, tolerance = testbed.notes["drlc_held_at"], _tolerance(bench)
    offset = testbed.golden.time_server.offset
    wait = max(0.0, since - _now(testbed)) + bench.pixit_seconds("app_start_time", 10) + _response_time(bench)
    try:
        request = bench.run(testbed.golden.drlc.requests.wait(lambda r: r.arrival + offset >= since, wait,
                                                              "Get Scheduled Events"))
    except DeadlineExceeded:
        check(False, expected="Get Scheduled Events from the DUT after it joined",
              observed=f"none within {wait:g} s of joining",
              rule="SE 1.x Annex D.2.3 (DRLC client commands): a DRLC client asks for the events it missed when it joins")
    arrival = request.arrival + offset
    check(request.start_time == 0 or request.start_time <= arrival + tolerance,
          expected=f"StartTime 0 (now) or at most the network time of the request ({arrival:.0f}) +/- "
                   f"{tolerance:g} s, so active and pending events are all resent",
          observed=f"StartTime {request.start_time} ({request.start_time - arrival:+.0f} s), NumberOfEvents "
                   f"{request.number_of_events}",
          rule="SE 1.x Annex D.2.3 (DRLC client commands) (Get Scheduled Events): StartTime is the earliest end of the events to "
               "resend, 0 meaning now")


# -- the actuation a DUT's control interface shows (TC-DRLC-1.32) --------------------------------------------------

#: Name the control interface shows -> the report's applied field (its event field and "not used" value:
#: harness/verify/drlc.py APPLIED_CONTROLS).
ACTUATION_FIELDS = {
    "cooling_set_point": "cooling_temperature_set_point_applied",
    "heating_set_point": "heating_temperature_set_point_applied",
    "duty_cycle": "duty_cycle_applied",
    "average_load_adjustment": "average_load_adjustment_percentage_applied",
}
ACTUATION_RULE = ("SE 1.x Annex D.2.3.3.1 (Report Event Status): the applied fields say what the device applies of "
                  "the event; its control interface shows the same (a utility's DR program settles on them)")


def _actuation(bench, testbed) -> dict[str, int]:
    return bench.run(testbed.dut.read_actuation(), 30, "reading the DUT's actuation from its control interface")


@given("the DUT's control interface shows its actuation")
def actuation_baseline(bench, testbed):
    if not testbed.dut.reads_actuation:
        pytest.skip("not applicable: the DUT's control interface shows no actuation (control.commands."
                    "read_actuation)")
    shown = _actuation(bench, testbed)
    known = {name: value for name, value in shown.items() if name in ACTUATION_FIELDS}
    check(bool(known), expected=f"the control interface shows at least one of {', '.join(ACTUATION_FIELDS)}",
          observed=f"it shows {shown}", rule=ACTUATION_RULE)
    testbed.notes["own_actuation"] = known


@then(parsers.parse("the DUT's control interface shows what event {event_id:d}'s reports claim it applied"))
def actuation_during(bench, testbed, event_id):
    own, event = testbed.notes["own_actuation"], _payloads(testbed)[event_id]
    report = _reports_of(testbed, event_id)[-1]
    shown = _actuation(bench, testbed)
    off = []
    for name, own_value in own.items():
        report_field = ACTUATION_FIELDS[name]
        event_field, unused = APPLIED_CONTROLS[report_field]
        claimed = int(getattr(report, report_field))
        if claimed == unused:
            want, why = own_value, "its own: the report says not used"
        else:
            want, why = int(getattr(event, event_field)), "the event's: the report says applied"
        if shown.get(name) != want:
            off.append(f"{name} {shown.get(name)} (expected {want}, {why})")
    check(not off, expected=f"the control interface shows what the {status_name(int(report.status))} report for "
                            f"event {event_id} claims applied", observed="; ".join(off), rule=ACTUATION_RULE)


@then("the DUT's control interface shows its own actuation again")
@then("the DUT's control interface still shows its own actuation")
def actuation_after(bench, testbed):
    own = testbed.notes["own_actuation"]
    shown = _actuation(bench, testbed)
    off = {name: shown.get(name) for name, value in own.items() if shown.get(name) != value}
    check(not off, expected=f"its own actuation {own} once the event ended", observed=f"shows {off}",
          rule=ACTUATION_RULE)


# -- temperature offsets (TC-DRLC-1.37) ------------------------------------------------------------------------

SET_POINTS = ("cooling_set_point", "heating_set_point")
OFFSET_RULE = ("SE 1.x Annex D.2.2 (Load Control Event): Cooling / Heating Temperature Offset, uint8 in 0.1 degree "
               "C, 0xFF not used, raise the cooling set point and lower the heating set point from the device's own; "
               "a set point the event sets (not 0x8000) takes precedence; set points are int16 in 0.01 degree C")


@given("the DUT's control interface shows its cooling and heating set points")
def set_points_baseline(bench, testbed):
    if not testbed.dut.reads_actuation:
        pytest.skip("not applicable: the DUT's control interface shows no actuation (control.commands."
                    "read_actuation)")
    shown = _actuation(bench, testbed)
    if not any(name in shown for name in SET_POINTS):
        pytest.skip(f"not applicable: the DUT's control interface shows no set point (it shows {sorted(shown)})")
    testbed.notes["own_set_points"] = {name: shown[name] for name in SET_POINTS if name in shown}


@when(parsers.parse("the ESI issues event {event_id:d} starting now with a cooling offset of {cooling:g} degrees C "
                    "and a heating offset of {heating:g} degrees C, and no set point"))
def issue_offsets(bench, testbed, event_id, cooling, heating):
    _issue(bench, testbed, event_id, 0, _duration_minutes(bench), cooling_temperature_offset=round(cooling * 10),
           heating_temperature_offset=round(heating * 10))


@then(parsers.parse("the DUT's control interface shows its own set points moved by event {event_id:d}'s offsets"))
def set_points_moved(bench, testbed, event_id):
    own, event = testbed.notes["own_set_points"], _payloads(testbed)[event_id]
    # 0.1 degree C offset units in 0.01 degree C set-point units: cooling up, heating down.
    moved = {"cooling_set_point": 10 * int(event.cooling_temperature_offset),
             "heating_set_point": -10 * int(event.heating_temperature_offset)}
    want = {name: value + moved[name] for name, value in own.items()}
    shown = _actuation(bench, testbed)
    off = [f"{name} {shown.get(name)} (expected {want[name]}: its own {own[name]} {moved[name]:+d})"
           for name in want if shown.get(name) != want[name]]
    check(not off, expected=f"while event {event_id} runs, set points {want} (0.01 degree C): its own moved by the "
          f"offsets of {int(event.cooling_temperature_offset) / 10:g} and {int(event.heating_temperature_offset) / 10:g}"
          " degrees C", observed="; ".join(off), rule=OFFSET_RULE)


# -- reserved controls, "not used" controls and reserved bits (TC-DRLC-1.33 .. 1.35) ------------------------------

#: A reserved control as the feature names it -> (event field, value, the report's applied field, the name the
#: control interface shows it under).
RESERVED_CONTROLS = {
    "duty cycle 0x65": ("duty_cycle", 0x65, "duty_cycle_applied", "duty_cycle"),
    "duty cycle 0xFE": ("duty_cycle", 0xFE, "duty_cycle_applied", "duty_cycle"),
    "load adjustment 101": ("average_load_adjustment_percentage", 101, "average_load_adjustment_percentage_applied",
                            "average_load_adjustment"),
    "load adjustment -101": ("average_load_adjustment_percentage", -101, "average_load_adjustment_percentage_applied",
                             "average_load_adjustment"),
}
RESERVED_CONTROL_RULE = ("SE 1.x Annex D.2.2 (Load Control Event): Duty Cycle 0-100 %, Average Load Adjustment "
                         "Percentage -100..+100 %, 0xFF / 0x80 not used, other values reserved; decided here (the "
                         "spec names no status, the reference client echoes them): a reserved control is never "
                         "applied nor reported applied, the event is rejected with 0xFE or taken without it")


@when(parsers.parse("the ESI issues event {event_id:d} starting now with the reserved {control}"))
def issue_reserved_control(bench, testbed, event_id, control):
    field, value, _applied, shown = RESERVED_CONTROLS[control]
    if testbed.dut.reads_actuation:  # the device's own value, to judge a taken event against
        testbed.notes["own_actuation"] = _actuation(bench, testbed)
    testbed.notes["reserved_control"] = control
    _issue(bench, testbed, event_id, 0, _duration_minutes(bench), **{field: value})


@then(parsers.parse("the DUT rejects event {event_id:d} with status 0xFE and nothing else, or takes it without "
                    "applying the reserved control"))
def reserved_control_not_applied(bench, testbed, event_id):
    control = testbed.notes["reserved_control"]
    _field, value, applied, shown = RESERVED_CONTROLS[control]
    rejected, received = EventStatus.Load_Control_Event_Command_Rejected, EventStatus.Load_Control_Event_Command_Received
    try:
        first = bench.run(testbed.golden.drlc.reports.wait(lambda r: r.issuer_event_id == event_id,
                                                           _response_time(bench), f"a status for event {event_id}"))
    except DeadlineExceeded:
        check(False, expected=f"0xFE, or 0x01, for event {event_id} (the {control}) within {_response_time(bench):g} s",
              observed="no Report Event Status", rule=RESERVED_CONTROL_RULE)
    status = int(first.status)
    check(status in (rejected, received),
          expected=f"0xFE (rejected) or 0x01 (taken) for event {event_id} with the reserved {control}",
          observed=f"{_name(status)} first", rule=RESERVED_CONTROL_RULE)
    if status == rejected:
        only_status(bench, testbed, rejected, event_id)
        return
    # Taken: it starts now, and no report claims the reserved value applied.
    _status_at(bench, testbed, event_id, EventStatus.Event_Started, _events(testbed)[event_id].start, "the event's start")
    unused = APPLIED_CONTROLS[applied][1]
    claims = {_name(int(r.status)): int(getattr(r, applied)) for r in _reports_of(testbed, event_id)
              if int(getattr(r, applied)) != unused}
    check(not claims, expected=f"{_camel(applied)} {unused} (not used) in every report of event {event_id}, taken "
                               f"with the reserved {control}", observed=f"applied values {claims}",
          rule=RESERVED_CONTROL_RULE)
    own = testbed.notes.get("own_actuation", {})
    if shown in own:
        now = _actuation(bench, testbed).get(shown)
        check(now == own[shown], expected=f"{shown} {own[shown]} (the device's own) while event {event_id} runs "
                                          f"without the reserved {control}",
              observed=f"{shown} {now}", rule=RESERVED_CONTROL_RULE)


def _camel(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


@when(parsers.parse("the ESI issues event {event_id:d} starting now with every reserved DeviceClass and EventControl "
                    "bit set"))
def issue_reserved_bits(bench, testbed, event_id):
    own = _own_device_class(bench, testbed)
    _issue(bench, testbed, event_id, 0, _duration_minutes(bench), device_class=own | ~DEVICE_CLASS_DEFINED_BITS & 0xFFFF,
           event_control=~EVENT_CONTROL_DEFINED_BITS & 0xFF)


# -- utility enrollment groups (TC-DRLC-1.38, 1.39) ------------------------------------------------------------

def _group_event(bench, testbed, event_id: int, start: int, group: int, device_class: int = ALL_DEVICE_CLASSES) -> None:
    _issue(bench, testbed, event_id, start, _duration_minutes(bench), utility_enrollment_group=group,
           device_class=device_class)


@when(parsers.parse("the ESI issues event {event_id:d} starting after the PIXIT lead time for enrollment group "
                    "{group:d}"))
def issue_for_group(bench, testbed, event_id, group):
    _group_event(bench, testbed, event_id, int(_now(testbed)) + _lead(bench), group)


@when(parsers.parse("the ESI issues event {event_id:d} starting halfway through event {earlier:d} for enrollment "
                    "group {group:d}"))
def issue_overlapping_for_group(bench, testbed, event_id, earlier, group):
    previous = _events(testbed)[earlier]
    _group_event(bench, testbed, event_id, int(previous.start + previous.duration // 2), group)


@given("the DUT's DeviceClassValue holds at least two device classes")
def two_device_classes(bench, testbed):
    own = _own_device_class(bench, testbed)
    held = [c for c in DEFINED_DEVICE_CLASSES if c & own]
    if len(held) < 2:
        extra = next(c for c in DEFINED_DEVICE_CLASSES if not c & own)
        _write_client_attribute(bench, testbed, Drlc.ClientAttributeDefs.device_class_value.id, own | extra)
        held = sorted([*held, extra])
    testbed.notes["device_classes"] = held[:2]


@when(parsers.re(r"the ESI issues event (?P<event_id>\d+) starting (?P<when>after the PIXIT lead time|halfway through "
                 r"event (?P<earlier>\d+)) for enrollment group (?P<group>\d+) and the DUT's (?P<which>first|second) "
                 r"device class"), converters={"event_id": int, "group": int})
def issue_for_group_and_class(bench, testbed, event_id, when, earlier, group, which):
    first, second = testbed.notes["device_classes"]
    if earlier is None:
        start = int(_now(testbed)) + _lead(bench)
    else:
        previous = _events(testbed)[int(earlier)]
        start = int(previous.start + previous.duration // 2)
    _group_event(bench, testbed, event_id, start, group, first if which == "first" else second)

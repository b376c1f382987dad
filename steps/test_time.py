"""Steps of features/time: the golden ESI serves a network time ahead of the bench clock; the DUT's reads of the
Time server and the timestamps it sends (event timing, EventStatusTime, PriceAckTime, ConfirmationTime) show
whether it runs on the ESI's time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pytest_bdd import given, parsers, then, when
from zigpy.zcl.foundation import GeneralCommand

from harness.bdd import certification_cases
from harness.clock import ZCL_EPOCH, DeadlineExceeded
from harness.golden.esi import PriceEvent, load_control_event
from harness.se.clusters import Time
from harness.se.types import EventStatus, PriceControl, TimeStatus
from harness.verdict import check

from .conftest import HEX, dut_nwk, dut_peer, dut_request, key_ready_at

certification_cases("../features/time")

RULE = "SE 1.x: devices take network time from the ESI's Time server (SE-FACTS \"Time\")"


def _tolerance(bench) -> float:
    return bench.pixit_seconds("timing_tolerance", 2)


def _response_time(bench) -> float:
    return bench.pixit_seconds("response_time", 5)


def _network_arrival(testbed, arrival: float) -> float:
    return arrival + testbed.golden.time_server.offset


def _judge_timestamp(bench, testbed, what: str, stamp: int, arrival: float) -> None:
    tolerance = _tolerance(bench)
    network = _network_arrival(testbed, arrival)
    check(abs(stamp - network) <= tolerance,
          expected=f"{what} within {tolerance:g} s of the ESI's network time {network:.1f} at arrival",
          observed=f"{what} {stamp} ({stamp - network:+.1f} s; the bench clock was {arrival:.1f})", rule=RULE)


@given(parsers.parse("the ESI's network time is {hours:d} hour ahead of the bench clock"))
def esi_ahead(testbed, hours):
    testbed.golden.time_server.offset = hours * 3600


@when(parsers.parse("the ESI issues event {event_id:d} starting after the PIXIT lead time in network time"))
def issue_event(bench, testbed, event_id):
    lead = round(bench.pixit_seconds("drlc_start_lead", 120))
    minutes = max(1, round(bench.pixit_seconds("drlc_event_duration", 1800) / 60))
    start = int(testbed.golden.esi_time()) + lead
    testbed.notes["event_start"] = start
    event = load_control_event(event_id, start_time=start, duration_minutes=minutes)
    bench.run(testbed.golden.drlc.issue_event(dut_peer(bench, testbed), event), 30, f"issuing event {event_id}")


@then("the DUT reads the Time attribute of the ESI's Time server within the PIXIT application start time")
def reads_time(bench, testbed):
    timeout = bench.pixit_seconds("app_start_time", 10)
    since = key_ready_at(testbed)
    access = bench.run(dut_request(bench, testbed, Time.cluster_id, GeneralCommand.Read_Attributes, general=True,
                                   since=since, timeout=timeout))
    check(access is not None and Time.AttributeDefs.time.id in access.attr_ids,
          expected=f"Read Attributes of the ESI's Time (0x0000) from the DUT within {timeout:g} s of key establishment",
          observed=f"read of attributes {list(access.attr_ids)}" if access else "no Read Attributes on the Time cluster",
          rule=RULE)


@then(parsers.parse("the DUT reports status {status:value} for event {event_id:d} at its start in network time",
                    extra_types=HEX))
def starts_on_network_time(bench, testbed, status, event_id):
    tolerance = _tolerance(bench)
    start = testbed.notes["event_start"]
    timeout = max(0.0, start - testbed.golden.esi_time()) + tolerance
    try:
        report = bench.run(testbed.golden.drlc.wait_for_status(event_id, status, timeout))
    except DeadlineExceeded:
        check(False, expected=f"status 0x{status:02X} for event {event_id} at its start {start} (network time) "
                              f"+/- {tolerance:g} s", observed=f"statuses {testbed.golden.drlc.status_codes(event_id)}",
              rule=RULE)
    arrival = _network_arrival(testbed, report.arrival)
    check(abs(arrival - start) <= tolerance,
          expected=f"status 0x{status:02X} at network time {start} +/- {tolerance:g} s",
          observed=f"arrived at network time {arrival:.1f}", rule=RULE)


@then(parsers.parse("the EventStatusTime of every status for event {event_id:d} is the network time of its arrival"))
def status_times(bench, testbed, event_id):
    reports = [r for r in testbed.golden.drlc.reports if r.issuer_event_id == event_id]
    check(bool(reports), expected=f"statuses for event {event_id}", observed="none", rule=RULE)
    for report in reports:
        _judge_timestamp(bench, testbed, f"EventStatusTime of status 0x{int(report.status):02X}",
                         report.event_status_time, report.arrival)


@then(parsers.parse("the PriceAckTime of the acknowledgement of price {event_id:d} is the network time of its "
                    "arrival"))
def price_ack_time(bench, testbed, event_id):
    timeout = _response_time(bench)
    try:
        ack = bench.run(testbed.golden.price.wait_for_acknowledgement(event_id, timeout))
    except DeadlineExceeded:
        check(False, expected=f"Price Acknowledgement for price {event_id} within {timeout:g} s", observed="none",
              rule="SE 1.1 Annex D.4.2.4.3")
    _judge_timestamp(bench, testbed, "PriceAckTime", ack.price_ack_time, ack.arrival)


@then(parsers.parse("the ConfirmationTime of the confirmation of message {message_id:d} is the network time of its "
                    "arrival"))
def confirmation_time(bench, testbed, message_id):
    timeout = _response_time(bench)
    try:
        confirmation = bench.run(testbed.golden.messaging.wait_for_confirmation(message_id, timeout))
    except DeadlineExceeded:
        check(False, expected=f"Message Confirmation for message {message_id} within {timeout:g} s", observed="none",
              rule="SE 1.x Annex D.5.3.3.2")
    _judge_timestamp(bench, testbed, "ConfirmationTime", confirmation.confirmation_time, confirmation.arrival)


# -- TimeStatus, resynchronisation, steps of the ESI's clock, local time ----------------------------------------

STATUS_RULE = ("ZCL 07-5123 Time cluster, TimeStatus (bit 0 Master, bit 1 Synchronized, bit 2 MasterZoneDst, bit 3 "
               "Superseding): a client does not take the time from a server that is neither master nor synchronized; "
               "DSR ZBOSS zcl_time.c zb_zcl_time_sync_get_auth_level (Master and Superseding, then Master, then "
               "Synchronized; otherwise not chosen)")
RESYNC_RULE = ("SE 1.x: devices take network time from the ESI (SE-FACTS \"Time\"), again within their declared "
               "PIXIT time_resync_period (at most 24 h: a device's own clock drifts), reading TimeStatus with it so "
               "the TimeStatus rule holds at every reading")
STEP_RULE = RESYNC_RULE + "; the ESI is the network's clock, so a step back is taken like a step forward"
#: How far the shown local time may be from the ESI's: a display shows minutes.
SHOWN_TIME_TOLERANCE = 60
LOCAL_RULE = ("ZCL 07-5123 Time cluster: local time is Time + TimeZone, + DstShift between DstStart and DstEnd (or "
              "the server's LocalTime); PICS SE.TIME.C.LOCAL: the DUT shows local time")
#: What a device that shows local time reads: TimeZone, DstStart, DstEnd, DstShift; or LocalTime alone.
ZONE_READS = frozenset(a.id for a in (Time.AttributeDefs.time_zone, Time.AttributeDefs.dst_start,
                                      Time.AttributeDefs.dst_end, Time.AttributeDefs.dst_shift))
#: Events and prices the stamps use, one per case (a case stamps once).
STAMP_ID = 790


def _time_reads(bench, testbed, since: float) -> list:
    """The DUT's Read Attributes of the ESI's Time server at or after *since* (bench clock), in order."""
    return [a for a in testbed.golden.meter.accesses_from(dut_nwk(testbed), since)
            if a.cluster_id == Time.cluster_id and a.is_read]


MISSING_STATUS_RULE = ("ZCL 07-5123 Time cluster: TimeStatus is mandatory on a Time server; SE 1.x 5.12 / SE-FACTS "
                       "\"Time\": a device takes the time from a server whose TimeStatus has the Master or the "
                       "Synchronized bit; decided here: a server that does not carry TimeStatus claims neither")


def _resync_period(bench) -> float:
    return bench.pixit_seconds("time_resync_period", 24 * 3600)


@given(parsers.parse("the ESI's TimeStatus is {status:value}", extra_types=HEX))
def esi_time_status(testbed, status):
    testbed.golden.time_server.status = TimeStatus(status)
    testbed.notes["time_status"] = status


@given("the ESI's Time server does not carry TimeStatus")
def esi_without_time_status(testbed):
    testbed.golden.time_server.drop_status()


@when(parsers.parse("the DUT stamps a {stamp} with its time"))
def dut_stamps(bench, testbed, stamp):
    timeout = _response_time(bench)
    peer = dut_peer(bench, testbed)
    try:
        if stamp == "price acknowledgement":
            price = PriceEvent(STAMP_ID, price=1000 + STAMP_ID, price_control=int(PriceControl.Acknowledgement_Required))
            bench.run(testbed.golden.price.publish(peer, price), 30, f"publishing price {STAMP_ID}")
            ack = bench.run(testbed.golden.price.wait_for_acknowledgement(STAMP_ID, timeout))
            testbed.notes["stamp"] = ("PriceAckTime", ack.price_ack_time, ack.arrival)
        elif stamp == "event status":
            minutes = max(1, round(bench.pixit_seconds("drlc_event_duration", 1800) / 60))
            bench.run(testbed.golden.drlc.issue_event(peer, load_control_event(STAMP_ID, duration_minutes=minutes)),
                      30, f"issuing event {STAMP_ID}")
            report = bench.run(testbed.golden.drlc.wait_for_status(STAMP_ID, EventStatus.Load_Control_Event_Command_Received, timeout))
            testbed.notes["stamp"] = ("EventStatusTime", report.event_status_time, report.arrival)
        else:
            raise ValueError(f"no stamp {stamp!r}: price acknowledgement or event status")
    except DeadlineExceeded:
        check(False, expected=f"a {stamp} within {timeout:g} s (the DUT's time stamped on it)", observed="none",
              rule="SE 1.1 Annex D.4.2.4.3 (Price Acknowledgement) / SE 1.x Annex D.2.3.3.1 (Report Event Status: "
                   "0x01 when an event arrives)")


def _stamp_offset(bench, testbed) -> tuple[str, int, float]:
    """The stamp's field, value and its distance from the ESI's network time at its arrival."""
    what, stamp, arrival = testbed.notes["stamp"]
    return what, stamp, stamp - _network_arrival(testbed, arrival)


@then("the stamped time is the ESI's exactly when its TimeStatus has the Master or the Synchronized bit")
def stamp_by_status(bench, testbed):
    status = testbed.notes["time_status"]
    source = bool(status & (TimeStatus.Master | TimeStatus.Synchronized))
    what, stamp, off = _stamp_offset(bench, testbed)
    tolerance = _tolerance(bench)
    served = f"the ESI's time (served an hour ahead of the bench clock with TimeStatus 0x{status:02X})"
    check((abs(off) <= tolerance) == source,
          expected=(f"{what} within {tolerance:g} s of {served}: a master or synchronized server is a time source"
                    if source else
                    f"{what} not on {served}: a server neither master nor synchronized is no time source"),
          observed=f"{what} {stamp} ({off:+.1f} s off the ESI's time)", rule=STATUS_RULE)


@then("the stamped time is not the ESI's")
def stamp_not_esi(bench, testbed):
    what, stamp, off = _stamp_offset(bench, testbed)
    tolerance = _tolerance(bench)
    check(abs(off) > tolerance,
          expected=f"{what} not on the ESI's time (served an hour ahead of the bench clock by a Time server without "
          "TimeStatus): a server that claims neither Master nor Synchronized is no time source",
          observed=f"{what} {stamp} ({off:+.1f} s off the ESI's time)", rule=MISSING_STATUS_RULE)


@then("the stamped time is the ESI's")
def stamp_is_esi_time(bench, testbed):
    what, stamp, off = _stamp_offset(bench, testbed)
    tolerance = _tolerance(bench)
    step = testbed.notes.get("time_step", 0)
    check(abs(off) <= tolerance,
          expected=f"{what} within {tolerance:g} s of the ESI's time" + (
              f" after its clock stepped {step / 3600:+g} h and the DUT read it again" if step else ""),
          observed=f"{what} {stamp} ({off:+.1f} s off the ESI's time)", rule=STEP_RULE if step else RULE)


@then("the DUT reads Time and TimeStatus again within the PIXIT resynchronisation period, twice")
def resynchronises(bench, testbed):
    period, slack = _resync_period(bench), _response_time(bench) + _tolerance(bench)
    first = _time_reads(bench, testbed, key_ready_at(testbed))[0]
    last = first.time
    for n in (1, 2):
        deadline = last + period + slack
        bench.run(bench.clock.sleep(max(0.0, deadline - bench.clock.monotonic()), f"resynchronisation {n}"))
        later = [a for a in _time_reads(bench, testbed, last + 0.001) if Time.AttributeDefs.time.id in a.attr_ids]
        check(bool(later), expected=f"a read of the ESI's Time within {period:g} s (+{slack:g} s) of the last one "
                                    f"(resynchronisation {n})",
              observed=f"reads of the Time server: {[(round(a.time - first.time), list(a.attr_ids)) for a in _time_reads(bench, testbed, first.time)]} (s after the first, attributes)",
              rule=RESYNC_RULE)
        read = later[0]
        # TimeStatus in the same read, or in another read within the response time.
        status_read = [a for a in _time_reads(bench, testbed, read.time - _response_time(bench))
                       if Time.AttributeDefs.time_status.id in a.attr_ids and abs(a.time - read.time) <= _response_time(bench)]
        check(bool(status_read), expected=f"TimeStatus (0x0001) read with Time at resynchronisation {n}",
              observed=f"the read {round(read.time - first.time)} s after the first names attributes "
                       f"{list(read.attr_ids)}, and no TimeStatus read within {_response_time(bench):g} s",
              rule=RESYNC_RULE)
        last = read.time


@when(parsers.re(r"the ESI's network time steps (?P<hours>\d+) hours (?P<direction>forward|back)"),
      converters={"hours": int})
def esi_time_steps(bench, testbed, hours, direction):
    step = hours * 3600 * (1 if direction == "forward" else -1)
    testbed.golden.time_server.offset += step
    testbed.notes["time_step"] = step
    testbed.notes["stepped_at"] = bench.clock.monotonic()


@when("the DUT has read the ESI's time again within the PIXIT resynchronisation period")
def read_again(bench, testbed):
    period, slack = _resync_period(bench), _response_time(bench) + _tolerance(bench)
    since = testbed.notes["stepped_at"]
    try:
        bench.run(testbed.golden.meter.accesses.wait(
            lambda a: a.source == dut_nwk(testbed) and a.cluster_id == Time.cluster_id and a.is_read and a.time >= since
            and Time.AttributeDefs.time.id in a.attr_ids, period + slack, "the DUT's next read of the ESI's Time"))
    except DeadlineExceeded:
        check(False, expected=f"a read of the ESI's Time within {period:g} s (+{slack:g} s) of the step of its clock",
              observed="none", rule=RESYNC_RULE)
    bench.run(bench.clock.sleep(_response_time(bench)))


@given(parsers.re(r"the ESI serves the time zone UTC-5 h with daylight saving time of 1 h (?P<dst>in force|ended)"))
def esi_time_zone(testbed, dst):
    now = testbed.golden.time_server.time()
    # In force: from a month ago to two months ahead. Ended: the same length of time, ended a day ago.
    start, end = (now - 30 * 86400, now + 60 * 86400) if dst == "in force" else (now - 91 * 86400, now - 86400)
    testbed.golden.time_server.set_zone(-5 * 3600, start, end, 3600)


@given("the DUT's control interface shows its local time")
def shows_local_time(testbed):
    if not testbed.dut.reads_local_time:
        pytest.skip("not applicable: the DUT's control interface shows no local time (control.commands."
                    "read_local_time)")


@then("within the PIXIT application start time the DUT shows the ESI's time plus TimeZone, plus DstShift while DST "
      "is in force, within 60 s")
def shown_local_time(bench, testbed):
    timeout = bench.pixit_seconds("app_start_time", 10)
    bench.run(bench.clock.sleep(max(0.0, key_ready_at(testbed) + timeout - bench.clock.monotonic())))
    server = testbed.golden.time_server
    utc = server.time()
    zone, start, end, shift = server.zone()
    expected = ZCL_EPOCH.replace(tzinfo=None) + timedelta(seconds=utc + zone + (shift if start <= utc < end else 0))
    shown = bench.run(testbed.dut.read_local_time(), 30, "reading the local time the DUT shows")
    check(shown is not None and abs((shown - expected).total_seconds()) <= SHOWN_TIME_TOLERANCE,
          expected=f"the display shows {expected.isoformat(timespec='seconds')} (ESI UTC {utc}, TimeZone {zone:+d} s"
          f"{f', DstShift {shift:+d} s in force' if start <= utc < end else ', DST not in force'}), within "
          f"{SHOWN_TIME_TOLERANCE} s", observed=f"it shows {shown.isoformat(timespec='seconds') if shown else 'no time'}",
          rule=LOCAL_RULE)


@then("the DUT reads TimeZone, DstStart, DstEnd and DstShift, or LocalTime, of the ESI within the PIXIT application "
      "start time")
def reads_local_time(bench, testbed):
    timeout = bench.pixit_seconds("app_start_time", 10)
    since = testbed.join_event.time
    bench.run(bench.clock.sleep(max(0.0, key_ready_at(testbed) + timeout - bench.clock.monotonic())))
    read = set().union(*(set(a.attr_ids) for a in _time_reads(bench, testbed, since)))
    check(ZONE_READS <= read or Time.AttributeDefs.local_time.id in read,
          expected=f"reads of TimeZone, DstStart, DstEnd and DstShift (0x0002-0x0005), or of LocalTime (0x0007), "
                   f"within {timeout:g} s of key establishment",
          observed=f"attributes read of the Time server: {sorted(f'0x{a:04X}' for a in read)}", rule=LOCAL_RULE)

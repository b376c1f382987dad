"""Steps of features/time: the golden ESI serves a network time ahead of the bench clock; the DUT's reads of the
Time server and the timestamps it sends (event timing, EventStatusTime, PriceAckTime, ConfirmationTime) show
whether it runs on the ESI's time."""

from __future__ import annotations

from pytest_bdd import given, parsers, then, when
from zigpy.zcl.foundation import GeneralCommand

from harness.bdd import certification_cases
from harness.clock import DeadlineExceeded
from harness.golden.esi import load_control_event
from harness.se.clusters import Time
from harness.verdict import check

from .conftest import HEX, dut_peer, dut_request, key_ready_at

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

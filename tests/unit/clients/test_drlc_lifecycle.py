"""The DRLC client's event lifecycle, observed by the golden DRLC server over an in-memory link in virtual
time. Each rule of SE-FACTS "DRLC cluster 0x0701 / Lifecycle rules" is one test; expected statuses and their
timing come from those rules (reference implementation behaviour: Silicon Labs plugin/drlc)."""

from __future__ import annotations

import pytest
from zigpy.zcl.foundation import GeneralCommand, Status

from harness.golden.esi import load_control_event
from harness.se.clusters import Drlc
from harness.se.datamodel import Side
from harness.zcl.frame import decode_general
from tests.unit.esi.esi_link import T0

RECEIVED, STARTED, COMPLETED, OPTED_OUT, OPTED_IN, CANCELLED, SUPERSEDED = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07
PARTIAL_OPT_OUT, PARTIAL_OPT_IN, NO_PARTICIPATION = 0x08, 0x09, 0x0A
INVALID_EFFECTIVE_TIME, EXPIRED, UNDEFINED_EVENT, REJECTED = 0xF9, 0xFB, 0xFD, 0xFE
DRLC_CLUSTER, CMD_CANCEL_ALL_LOAD_CONTROL_EVENTS = Drlc.cluster_id, Drlc.ClientCommandDefs.cancel_all_load_control_events.id


def arrivals(link, event_id):
    """{status: arrival offset from T0 in seconds} for one event (each status is expected once)."""
    out: dict[int, float] = {}
    for status, _time, arrival in link.drlc.statuses(event_id):
        assert int(status) not in out, f"status 0x{int(status):02X} reported twice for event {event_id}"
        out[int(status)] = arrival - T0
    return out


def issue(link, event_id, **kwargs):
    link.run(link.drlc.issue_event(link.dut_peer, load_control_event(event_id, **kwargs)))


def test_scheduled_event_received_started_completed_on_time(link):
    issue(link, 1, start_time=T0 + 600, duration_minutes=30)
    link.advance(3 * 3600)
    assert link.drlc.status_codes(1) == [RECEIVED, STARTED, COMPLETED]
    assert arrivals(link, 1) == {RECEIVED: 0, STARTED: 600, COMPLETED: 600 + 1800}
    for _status, status_time, arrival in link.drlc.statuses(1):
        assert status_time == int(arrival)  # EventStatusTime is the network time of the change


def test_start_now_event_starts_at_once(link):
    link.advance(100)
    issue(link, 2, start_time=0, duration_minutes=10)
    link.advance(3600)
    assert arrivals(link, 2) == {RECEIVED: 100, STARTED: 100, COMPLETED: 100 + 600}


def test_randomized_start_and_end_stay_inside_their_windows(make_link):
    link = make_link(start_randomization_minutes=2, duration_randomization_minutes=3, seed=7)
    start_offsets, end_offsets = [], []
    for n in range(20):
        start = T0 + 600 + n * 3600
        issue(link, 100 + n, start_time=start, duration_minutes=10, event_control=0x03)
        link.advance(3600)
        times = arrivals(link, 100 + n)
        assert set(times) == {RECEIVED, STARTED, COMPLETED}
        start_offsets.append(times[STARTED] - (start - T0))
        end_offsets.append(times[COMPLETED] - times[STARTED] - 600)
    assert all(0 <= s < 120 for s in start_offsets), start_offsets
    assert all(0 <= e < 180 for e in end_offsets), end_offsets
    assert len(set(start_offsets)) > 5 and len(set(end_offsets)) > 5  # offsets really are drawn


def test_unrandomized_event_ignores_the_randomization_attributes(make_link):
    link = make_link(start_randomization_minutes=30, duration_randomization_minutes=30)
    issue(link, 3, start_time=T0 + 60, duration_minutes=5, event_control=0)
    link.advance(3600)
    assert arrivals(link, 3) == {RECEIVED: 0, STARTED: 60, COMPLETED: 360}


@pytest.mark.parametrize(
    ("event_kwargs", "client_kwargs"),
    [
        ({"device_class": 0x0004}, {"device_class": 0x0001}),
        ({"utility_enrollment_group": 7}, {"utility_enrollment_group": 3}),
    ],
    ids=["device-class", "enrollment-group"],
)
def test_event_for_another_device_class_or_group_is_ignored(make_link, event_kwargs, client_kwargs):
    link = make_link(**client_kwargs)
    issue(link, 4, start_time=0, duration_minutes=5, **event_kwargs)
    link.advance(3600)
    assert link.drlc.status_codes(4) == []
    assert link.drlc_client.entries == []


def test_matching_enrollment_group_or_group_zero_is_accepted(make_link):
    link = make_link(utility_enrollment_group=3)
    issue(link, 5, start_time=0, duration_minutes=1, utility_enrollment_group=3)
    issue(link, 6, start_time=T0 + 600, duration_minutes=1, utility_enrollment_group=0)
    link.advance(3600)
    assert link.drlc.status_codes(5) == [RECEIVED, STARTED, COMPLETED]
    assert link.drlc.status_codes(6) == [RECEIVED, STARTED, COMPLETED]


def test_expired_event_is_rejected_fb(link):
    link.advance(7200)
    issue(link, 7, start_time=T0, duration_minutes=60)  # ended an hour ago
    link.advance(3600)
    assert link.drlc.status_codes(7) == [EXPIRED]


@pytest.mark.parametrize(
    "event_kwargs", [{"duration_minutes": 1441}, {"start_time": 0xFFFFFFFF}], ids=["duration", "start"]
)
def test_invalid_event_is_rejected_fe(link, event_kwargs):
    issue(link, 8, **{"start_time": 0, **event_kwargs})
    link.advance(3600)
    assert link.drlc.status_codes(8) == [REJECTED]


@pytest.mark.parametrize(("event_kwargs", "codes"), [
    ({"duty_cycle": 100}, [RECEIVED, STARTED]), ({"duty_cycle": 0}, [RECEIVED, STARTED]),
    ({"duty_cycle": 0x65}, [REJECTED]), ({"duty_cycle": 0xFE}, [REJECTED]), ({"duty_cycle": 0xFF}, [RECEIVED, STARTED]),
    ({"average_load_adjustment_percentage": 100}, [RECEIVED, STARTED]),
    ({"average_load_adjustment_percentage": -100}, [RECEIVED, STARTED]),
    ({"average_load_adjustment_percentage": 101}, [REJECTED]),
    ({"average_load_adjustment_percentage": -101}, [REJECTED]),
    ({"average_load_adjustment_percentage": -0x80}, [RECEIVED, STARTED]),
], ids=["duty 100", "duty 0", "duty 0x65", "duty 0xFE", "duty unused", "load +100", "load -100", "load +101",
        "load -101", "load unused"])
def test_reserved_controls_are_rejected_fe_and_the_range_ends_taken(link, event_kwargs, codes):
    issue(link, 10, start_time=0, duration_minutes=60, **event_kwargs)
    link.advance(60)
    assert link.drlc.status_codes(10) == codes


def test_reserved_device_class_and_event_control_bits_are_ignored(link):
    issue(link, 11, start_time=0, duration_minutes=10, device_class=0xFFFF, event_control=0xFC)
    link.advance(3600)
    assert link.drlc.status_codes(11) == [RECEIVED, STARTED, COMPLETED]
    assert arrivals(link, 11) == {RECEIVED: 0, STARTED: 0, COMPLETED: 600}


def test_duplicate_event_is_not_processed_twice(link):
    issue(link, 9, start_time=T0 + 300, duration_minutes=10)
    link.advance(60)
    issue(link, 9, start_time=T0 + 300, duration_minutes=10)
    link.advance(3600)
    assert link.drlc.status_codes(9) == [RECEIVED, STARTED, COMPLETED]


def test_cancel_before_start_reports_06_at_the_effective_time(link):
    issue(link, 10, start_time=T0 + 1800, duration_minutes=30)
    link.run(link.drlc.cancel_event(link.dut_peer, 10, effective_time=T0 + 900))
    link.advance(4 * 3600)
    assert arrivals(link, 10) == {RECEIVED: 0, CANCELLED: 900}


def test_cancel_while_running_reports_06_and_no_completion(link):
    issue(link, 11, start_time=0, duration_minutes=60)
    link.advance(600)
    link.run(link.drlc.cancel_event(link.dut_peer, 11, effective_time=T0 + 1200))
    link.advance(4 * 3600)
    assert arrivals(link, 11) == {RECEIVED: 0, STARTED: 0, CANCELLED: 1200}


def test_cancel_now_reports_06_at_once(link):
    issue(link, 12, start_time=T0 + 600, duration_minutes=60)
    link.advance(60)
    link.run(link.drlc.cancel_event(link.dut_peer, 12, effective_time=0))
    link.advance(3 * 3600)
    assert arrivals(link, 12) == {RECEIVED: 0, CANCELLED: 60}


def test_cancel_with_randomized_end_is_delayed_inside_the_window(make_link):
    link = make_link(duration_randomization_minutes=5, seed=3)
    issue(link, 13, start_time=0, duration_minutes=60, event_control=0x02)
    link.advance(600)
    link.run(link.drlc.cancel_event(link.dut_peer, 13, effective_time=T0 + 900, cancel_control=0x01))
    link.advance(3 * 3600)
    delay = arrivals(link, 13)[CANCELLED] - 900
    assert 0 <= delay < 300
    assert delay == link.drlc_client.reported[-1][2] - (T0 + 900)


def test_cancel_of_unknown_event_is_rejected_fd(link):
    link.run(link.drlc.cancel_event(link.dut_peer, 999, device_class=0x0001))
    link.advance(60)
    assert link.drlc.status_codes(999) == [UNDEFINED_EVENT]


def test_cancel_effective_after_the_end_is_rejected_f9(link):
    issue(link, 14, start_time=T0 + 600, duration_minutes=10)
    link.run(link.drlc.cancel_event(link.dut_peer, 14, effective_time=T0 + 600 + 601))
    link.advance(3600)
    assert link.drlc.status_codes(14) == [RECEIVED, INVALID_EFFECTIVE_TIME, STARTED, COMPLETED]


def test_cancel_all_cancels_every_event(link):
    issue(link, 15, start_time=0, duration_minutes=30)
    issue(link, 16, start_time=T0 + 7200, duration_minutes=30)
    link.advance(60)
    link.run(link.drlc.cancel_all(link.dut_peer))
    link.advance(4 * 3600)
    assert arrivals(link, 15) == {RECEIVED: 0, STARTED: 0, CANCELLED: 60}
    assert arrivals(link, 16) == {RECEIVED: 0, CANCELLED: 60}


def test_cancel_all_with_no_events_answers_default_response_success(link):
    frame = link.run(link.esi.command(
        link.dut_peer.address, 1, DRLC_CLUSTER, CMD_CANCEL_ALL_LOAD_CONTROL_EVENTS, b"\x00", src_ep=1,
        target=Side.CLIENT,
    ))
    assert frame.is_general and frame.command_id == GeneralCommand.Default_Response
    assert decode_general(frame).status == Status.SUCCESS


def test_overlapping_event_supersedes_a_scheduled_one_07(link):
    issue(link, 17, start_time=T0 + 1800, duration_minutes=60)
    link.advance(120)
    issue(link, 18, start_time=T0 + 3600, duration_minutes=60)
    link.advance(4 * 3600)
    assert arrivals(link, 17) == {RECEIVED: 0, SUPERSEDED: 120}
    assert arrivals(link, 18) == {RECEIVED: 120, STARTED: 3600, COMPLETED: 7200}


def test_overlapping_event_supersedes_a_running_one_just_before_it_starts(link):
    issue(link, 19, start_time=0, duration_minutes=60)
    link.advance(600)
    issue(link, 20, start_time=T0 + 1800, duration_minutes=60)
    link.advance(4 * 3600)
    assert arrivals(link, 19) == {RECEIVED: 0, STARTED: 0, SUPERSEDED: 1799}
    assert arrivals(link, 20) == {RECEIVED: 600, STARTED: 1800, COMPLETED: 1800 + 3600}


def test_event_starting_while_another_runs_waits_for_it(make_link):
    # Different device classes and enrollment groups: no supersession, but only one event runs at a time.
    link = make_link(device_class=0x0003, utility_enrollment_group=0)
    issue(link, 21, start_time=0, duration_minutes=60, device_class=0x0001, utility_enrollment_group=1)
    issue(link, 22, start_time=T0 + 1800, duration_minutes=10, device_class=0x0002, utility_enrollment_group=2)
    link.advance(4 * 3600)
    assert arrivals(link, 21) == {RECEIVED: 0, STARTED: 0, COMPLETED: 3600}
    assert arrivals(link, 22) == {RECEIVED: 0, STARTED: 3600, COMPLETED: 3600 + 600}


def test_opt_out_before_start_reports_04_at_the_start(link):
    issue(link, 23, start_time=T0 + 600, duration_minutes=10)
    link.advance(60)
    assert link.drlc_client.opt_out(23)
    link.advance(3600)
    assert arrivals(link, 23) == {RECEIVED: 0, OPTED_OUT: 600, NO_PARTICIPATION: 1200}


def test_opt_out_while_running_reports_04_now_and_08_at_the_end(link):
    issue(link, 24, start_time=0, duration_minutes=30)
    link.advance(300)
    assert link.drlc_client.opt_out(24)
    link.advance(3600)
    assert arrivals(link, 24) == {RECEIVED: 0, STARTED: 0, OPTED_OUT: 300, PARTIAL_OPT_OUT: 1800}


def test_opt_in_again_while_running_reports_05_now_and_09_at_the_end(link):
    issue(link, 25, start_time=T0 + 60, duration_minutes=30)
    link.advance(1)
    assert link.drlc_client.opt_out(25)
    link.advance(599)
    assert link.drlc_client.opt_in(25)
    link.advance(3600)
    assert arrivals(link, 25) == {RECEIVED: 0, OPTED_OUT: 60, OPTED_IN: 600, PARTIAL_OPT_IN: 60 + 1800}


def test_opt_out_of_an_unknown_event_is_refused(link):
    assert not link.drlc_client.opt_out(4242)
    assert not link.drlc_client.opt_in(4242)


def test_get_scheduled_events_after_joining_picks_up_a_pending_event(link):
    link.drlc.add_event(load_control_event(26, start_time=T0 + 900, duration_minutes=15))
    link.advance(300)  # the DUT joins later than the event was scheduled
    link.run(link.drlc_client.get_scheduled_events(link.esi_peer))
    link.advance(3600)
    assert arrivals(link, 26) == {RECEIVED: 300, STARTED: 900, COMPLETED: 900 + 900}


def test_report_carries_the_applied_values_and_no_signature(link):
    issue(link, 27, start_time=0, duration_minutes=1, criticality_level=5, cooling_temperature_set_point=2500,
          duty_cycle=40, average_load_adjustment_percentage=-20, event_control=0)
    link.advance(10)
    report = link.drlc.reports.items[0]
    assert (report.criticality_level_applied, report.cooling_temperature_set_point_applied) == (5, 2500)
    assert report.heating_temperature_set_point_applied == 0x8000  # "not used" travels as is
    assert (report.duty_cycle_applied, report.average_load_adjustment_percentage_applied) == (40, -20)
    assert (report.signature_type, report.signature, report.signature_valid) == (0, b"\xff" * 42, None)
    assert link.drlc.findings == [] and link.esi.findings == []


def test_event_status_time_follows_the_esi_clock_after_time_sync(make_link):
    link = make_link(dut_skew=-500)
    link.run(link.time_client.synchronize(link.esi_peer))
    issue(link, 28, start_time=T0 + 600, duration_minutes=10)
    link.advance(3600)
    assert arrivals(link, 28) == {RECEIVED: 0, STARTED: 600, COMPLETED: 1200}
    assert all(time == int(arrival) for _s, time, arrival in link.drlc.statuses(28))


def _signing_link(make_link, sign_extra: bytes = b""):
    """A DRLC client signing with a device engine's suite-1 key; the golden knows the device's certificate."""
    from random import Random

    from harness.crypto import TestCA
    from harness.ke.engine import SoftwareKeEngine
    from tests.unit.esi.esi_link import DUT_NWK
    from tests.unit.esi.test_golden_services import DUT_IEEE

    rng = Random(7)
    ca = TestCA.generate(rng)
    engine = SoftwareKeEngine.issue(ca, DUT_IEEE, (1,), rng=rng)
    link = make_link(signer=lambda signed_part: engine.sign(signed_part + sign_extra))
    link.drlc.ca_public_key = ca.public_key(1)
    link.drlc.register_certificate(DUT_NWK, link.run(engine.certificate(1)))
    return link


def test_a_signing_client_signs_every_report_with_its_certificate_key(make_link):
    link = _signing_link(make_link)
    issue(link, 40, start_time=0, duration_minutes=1)
    link.advance(120)
    reports = [r for r in link.drlc.reports.items if r.issuer_event_id == 40]
    assert [int(r.status) for r in reports] == [RECEIVED, STARTED, COMPLETED]
    assert all(r.signature_type == 0x01 and r.signature_valid is True for r in reports), reports
    assert link.drlc.findings == []


def test_a_signature_over_other_bytes_does_not_verify(make_link):
    link = _signing_link(make_link, sign_extra=b"\x01")
    issue(link, 41, start_time=0, duration_minutes=1)
    link.advance(10)
    report = link.drlc.reports.items[0]
    assert (report.signature_type, report.signature_valid) == (0x01, False)
    assert any("does not verify" in str(f) for f in link.drlc.findings)

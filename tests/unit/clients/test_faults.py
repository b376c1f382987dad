"""Every seeded client fault is visible to the golden ESI: each scenario below runs once against the
conformant client (its check holds) and once with one fault on (the same check fails), so the check a
feature step makes really does tell a faulty device apart."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from harness.devices.clients import (
    DrlcClientFaults,
    MessagingClientFaults,
    PriceClientFaults,
    TimeClientFaults,
)
from harness.golden.esi import Message, PriceEvent, load_control_event
from harness.se.types import EventStatus
from tests.unit.esi.esi_link import T0, EsiLink

RECEIVED, STARTED, COMPLETED, CANCELLED, SUPERSEDED, EXPIRED = 0x01, 0x02, 0x03, 0x06, 0x07, 0xFB
OPTED_OUT = EventStatus.User_Opted_Out
COMPLETED_WITHOUT_PARTICIPATION = EventStatus.Event_Completed_No_User_Participation


def issue(link: EsiLink, event_id: int, **kwargs) -> None:
    link.run(link.drlc.issue_event(link.dut_peer, load_control_event(event_id, **kwargs)))


def started_no_earlier_than_its_randomized_start(make_link, faults) -> bool:
    """With only the start randomized, the event lasts exactly its duration from the reported start."""
    link = make_link(drlc_faults=faults, start_randomization_minutes=30, seed=5)
    for n in range(5):
        issue(link, n + 1, start_time=T0 + 600 + n * 7200, duration_minutes=20, event_control=0x01)
    link.advance(12 * 3600)
    for n in range(5):
        times = {int(s): a for s, _t, a in link.drlc.statuses(n + 1)}
        if times[COMPLETED] - times[STARTED] != 1200:
            return False
    return True


def cancel_is_honoured(make_link, faults) -> bool:
    link = make_link(drlc_faults=faults)
    issue(link, 1, start_time=0, duration_minutes=60)
    link.advance(60)
    link.run(link.drlc.cancel_event(link.dut_peer, 1, effective_time=T0 + 600))
    link.advance(3 * 3600)
    return link.drlc.status_codes(1) == [RECEIVED, STARTED, CANCELLED]


def cancel_all_is_honoured(make_link, faults) -> bool:
    link = make_link(drlc_faults=faults)
    issue(link, 1, start_time=T0 + 600, duration_minutes=60)
    link.advance(60)
    link.run(link.drlc.cancel_all(link.dut_peer))
    link.advance(3 * 3600)
    return link.drlc.status_codes(1) == [RECEIVED, CANCELLED]


def older_event_superseded(make_link, faults) -> bool:
    link = make_link(drlc_faults=faults)
    issue(link, 1, start_time=T0 + 1800, duration_minutes=60)
    issue(link, 2, start_time=T0 + 3600, duration_minutes=60)
    link.advance(4 * 3600)
    return SUPERSEDED in link.drlc.status_codes(1) and COMPLETED not in link.drlc.status_codes(1)


def status_time_matches_arrival(make_link, faults, *, tolerance: float = 1.0) -> bool:
    link = make_link(drlc_faults=faults)
    issue(link, 1, start_time=T0 + 60, duration_minutes=5)
    link.advance(3600)
    statuses = link.drlc.statuses(1)
    return len(statuses) == 3 and all(abs(time - arrival) <= tolerance for _s, time, arrival in statuses)


def foreign_class_ignored(make_link, faults) -> bool:
    link = make_link(drlc_faults=faults, device_class=0x0001)
    issue(link, 1, start_time=0, duration_minutes=5, device_class=0x0004)
    link.advance(3600)
    return link.drlc.status_codes(1) == []


def foreign_group_ignored(make_link, faults) -> bool:
    link = make_link(drlc_faults=faults, utility_enrollment_group=3)
    issue(link, 1, start_time=0, duration_minutes=5, utility_enrollment_group=9)
    link.advance(3600)
    return link.drlc.status_codes(1) == []


def offsets_inside_window(make_link, faults) -> bool:
    link = make_link(drlc_faults=faults, start_randomization_minutes=1, seed=11)
    for n in range(5):
        issue(link, n + 1, start_time=T0 + 600 + n * 3600, duration_minutes=5, event_control=0x01)
    link.advance(6 * 3600)
    for n in range(5):
        start = T0 + 600 + n * 3600
        started = next(a for s, _t, a in link.drlc.statuses(n + 1) if int(s) == STARTED)
        if not 0 <= started - start < 60:
            return False
    return True


def randomized_status_times_match_arrival(make_link, faults) -> bool:
    """EventStatusTime of a randomized start and end is when the status changed (its arrival), not the nominal
    start and end."""
    link = make_link(drlc_faults=faults, start_randomization_minutes=5, duration_randomization_minutes=5, seed=7)
    for n in range(3):
        issue(link, n + 1, start_time=T0 + 600 + n * 7200, duration_minutes=20, event_control=0x03)
    link.advance(8 * 3600)
    statuses = [s for n in range(3) for s in link.drlc.statuses(n + 1)]
    return len(statuses) == 9 and all(abs(time - arrival) <= 1.0 for _s, time, arrival in statuses)


def ends_randomized_only_when_asked(make_link, faults) -> bool:
    """With a duration window set, an event without EventControl bit 1 lasts exactly its duration, and events
    with it end at offsets spread over the window."""
    link = make_link(drlc_faults=faults, duration_randomization_minutes=5, seed=3)
    for n in range(4):
        issue(link, n + 1, start_time=T0 + 600 + n * 7200, duration_minutes=20, event_control=0x02 if n else 0x00)
    link.advance(10 * 3600)
    lengths = []
    for n in range(4):
        times = {int(s): a for s, _t, a in link.drlc.statuses(n + 1)}
        lengths.append(times[COMPLETED] - times[STARTED] - 1200)
    return lengths[0] == 0 and all(0 <= x < 300 for x in lengths[1:]) and any(x > 2 for x in lengths[1:])


def cancel_randomized_only_when_asked(make_link, faults) -> bool:
    """A cancel with CancelControl bit 0 ends a running event with its end offset, one without at once."""
    link = make_link(drlc_faults=faults, duration_randomization_minutes=5, seed=3)
    offsets = []
    for n, cancel_control in enumerate((0x01, 0x01, 0x01, 0x00)):
        issue(link, n + 1, start_time=0, duration_minutes=60, event_control=0x02)
        link.advance(30)
        effective = link.esi_clock.zcl_utc()
        link.run(link.drlc.cancel_event(link.dut_peer, n + 1, cancel_control=cancel_control))
        link.advance(600)
        cancelled = [a for s, _t, a in link.drlc.statuses(n + 1) if int(s) == CANCELLED]
        if not cancelled:
            return False
        offsets.append(cancelled[0] - effective)
    return all(0 <= o < 300 for o in offsets[:3]) and any(o > 2 for o in offsets[:3]) and abs(offsets[3]) <= 1


def running_event_superseded_at_new_start(make_link, faults) -> bool:
    link = make_link(drlc_faults=faults)
    issue(link, 1, start_time=0, duration_minutes=60)
    link.advance(60)
    issue(link, 2, start_time=T0 + 1800, duration_minutes=60)
    link.advance(3 * 3600)
    superseded = [a for s, _t, a in link.drlc.statuses(1) if int(s) == SUPERSEDED]
    return len(superseded) == 1 and abs(superseded[0] - (T0 + 1800)) <= 2


def foreign_class_does_not_supersede(make_link, faults) -> bool:
    link = make_link(drlc_faults=faults, device_class=0x0001)
    issue(link, 1, start_time=T0 + 600, duration_minutes=60, device_class=0x0001)
    issue(link, 2, start_time=T0 + 1800, duration_minutes=60, device_class=0x0004)
    link.advance(3 * 3600)
    return link.drlc.status_codes(1) == [RECEIVED, STARTED, COMPLETED] and link.drlc.status_codes(2) == []


def foreign_group_does_not_supersede(make_link, faults) -> bool:
    """An overlapping event for the device's class but another enrollment group is ignored and supersedes nothing."""
    link = make_link(drlc_faults=faults, device_class=0x0001, utility_enrollment_group=5)
    issue(link, 1, start_time=T0 + 600, duration_minutes=60, device_class=0x0001, utility_enrollment_group=5)
    issue(link, 2, start_time=T0 + 1800, duration_minutes=60, device_class=0x0001, utility_enrollment_group=7)
    link.advance(3 * 3600)
    return link.drlc.status_codes(1) == [RECEIVED, STARTED, COMPLETED] and link.drlc.status_codes(2) == []


def disjoint_events_both_kept(make_link, faults) -> bool:
    """Overlapping events of disjoint device classes and disjoint non-zero groups supersede neither the other."""
    link = make_link(drlc_faults=faults, device_class=0x0005)
    issue(link, 1, start_time=T0 + 600, duration_minutes=60, device_class=0x0001, utility_enrollment_group=1)
    issue(link, 2, start_time=T0 + 1800, duration_minutes=60, device_class=0x0004, utility_enrollment_group=2)
    link.advance(4 * 3600)
    return (link.drlc.status_codes(1) == [RECEIVED, STARTED, COMPLETED]
            and SUPERSEDED not in link.drlc.status_codes(2) and COMPLETED in link.drlc.status_codes(2))


def expired_rejected(make_link, faults) -> bool:
    link = make_link(drlc_faults=faults)
    link.advance(7200)
    issue(link, 1, start_time=T0, duration_minutes=30)
    link.advance(3600)
    return link.drlc.status_codes(1) == [EXPIRED]


def duplicate_processed_once(make_link, faults) -> bool:
    link = make_link(drlc_faults=faults)
    issue(link, 1, start_time=T0 + 600, duration_minutes=10)
    link.advance(30)
    issue(link, 1, start_time=T0 + 600, duration_minutes=10)
    link.advance(3600)
    return link.drlc.status_codes(1) == [RECEIVED, STARTED, COMPLETED]


# -- Report Event Status fields (issue 18) --------------------------------------------------------------------

EVERY_CONTROL = {"criticality_level": 5, "cooling_temperature_set_point": 2600, "heating_temperature_set_point": 1900,
                 "average_load_adjustment_percentage": -25, "duty_cycle": 60, "event_control": 0x02}
BLANK_SIGNATURES = (b"\xff" * 42, b"\x00" * 42)


def report_fields_hold(make_link, faults: DrlcClientFaults) -> bool:
    """The judgement of TC-DRLC-1.22 on the 01 and 02 of an event with every control set (unsigned client)."""
    link = make_link(drlc_faults=faults)
    issue(link, 9, start_time=T0 + 60, duration_minutes=30, **EVERY_CONTROL)
    link.advance(120)
    reports = [r for r in link.drlc.reports if r.issuer_event_id == 9]
    return len(reports) == 2 and all(
        r.criticality_level_applied == 5
        and r.cooling_temperature_set_point_applied in (2600, 0x8000)
        and r.heating_temperature_set_point_applied in (1900, 0x8000)
        and r.average_load_adjustment_percentage_applied in (-25, -0x80)
        and r.duty_cycle_applied in (60, 0xFF)
        and r.event_control == 0x02
        and r.signature_type == 0x00 and r.signature in BLANK_SIGNATURES
        for r in reports)


def opted_out_event_completes_without_participation(make_link, faults) -> bool:
    """An event the user opted out of before its start: 04 at the start, 0A (no user participation) at the end."""
    link = make_link(drlc_faults=faults)
    issue(link, 1, start_time=T0 + 600, duration_minutes=20)
    link.advance(60)
    link.drlc_client.opt_out(1)
    link.advance(3600)
    return link.drlc.status_codes(1) == [RECEIVED, OPTED_OUT, COMPLETED_WITHOUT_PARTICIPATION]


def running_event_outlasts_a_cancel_of_another(make_link, faults) -> bool:
    """Another, scheduled event's cancel taking effect while an event runs does not end the running one."""
    link = make_link(drlc_faults=faults)
    issue(link, 1, start_time=0, duration_minutes=30)
    issue(link, 2, start_time=T0 + 3600, duration_minutes=30)
    link.advance(60)
    link.run(link.drlc.cancel_event(link.dut_peer, 2, effective_time=0))
    link.advance(3 * 3600)
    times = {int(s): a for s, _t, a in link.drlc.statuses(1)}
    return (link.drlc.status_codes(1) == [RECEIVED, STARTED, COMPLETED]
            and times[COMPLETED] - times[STARTED] == 1800 and link.drlc.status_codes(2) == [RECEIVED, CANCELLED])


DRLC_CASES: list[tuple[str, Callable[..., bool]]] = [
    ("early_start_report", started_no_earlier_than_its_randomized_start),
    ("ignore_cancel", cancel_is_honoured),
    ("ignore_cancel", cancel_all_is_honoured),
    ("miss_supersession", older_event_superseded),
    ("wrong_event_status_time", status_time_matches_arrival),
    ("nominal_status_time", randomized_status_times_match_arrival),
    ("randomize_end_unasked", ends_randomized_only_when_asked),
    ("never_randomize_end", ends_randomized_only_when_asked),
    ("cancel_without_randomization", cancel_randomized_only_when_asked),
    ("randomize_every_cancel", cancel_randomized_only_when_asked),
    ("supersede_running_at_once", running_event_superseded_at_new_start),
    ("supersede_before_filter", foreign_class_does_not_supersede),
    ("supersede_before_group_filter", foreign_group_does_not_supersede),
    ("groups_always_overlap", disjoint_events_both_kept),
    ("ignore_device_class", foreign_class_ignored),
    ("ignore_enrollment_group", foreign_group_ignored),
    ("randomize_outside_window", offsets_inside_window),
    ("accept_expired", expired_rejected),
    ("process_duplicate", duplicate_processed_once),
    ("opted_out_completes_03", opted_out_event_completes_without_participation),
    ("tick_ends_running", running_event_outlasts_a_cancel_of_another),
    *((fault, report_fields_hold) for fault in (
        "constant_criticality_applied", "swap_set_points_applied", "load_adjustment_sign_lost", "duty_cycle_off_share",
        "drop_event_control", "garbage_signature_fill", "unsigned_as_ecdsa")),
]


@pytest.mark.parametrize(("fault", "check"), DRLC_CASES, ids=[f"{f}-{c.__name__}" for f, c in DRLC_CASES])
def test_drlc_fault_fails_its_check(make_link, fault, check):
    assert check(make_link, DrlcClientFaults()), "the conformant client must pass the check"
    assert not check(make_link, DrlcClientFaults(**{fault: True})), f"fault {fault} went unnoticed"


def test_every_drlc_fault_has_a_check():
    assert {f for f, _ in DRLC_CASES} == set(DrlcClientFaults.__dataclass_fields__)


def esi_time_adopted(make_link, faults) -> bool:
    link = make_link(time_faults=faults, dut_skew=-900)
    link.run(link.time_client.synchronize(link.esi_peer))
    issue(link, 1, start_time=T0 + 60, duration_minutes=1)
    link.advance(600)
    statuses = link.drlc.statuses(1)
    return len(statuses) == 3 and all(time == int(arrival) for _s, time, arrival in statuses)


def test_ignoring_esi_time_fails_its_check(make_link):
    assert esi_time_adopted(make_link, TimeClientFaults())
    assert not esi_time_adopted(make_link, TimeClientFaults(ignore_esi_time=True))


def price_acknowledged(make_link, faults) -> bool:
    link = make_link(price_faults=faults)
    link.run(link.price.publish(link.dut_peer, PriceEvent(issuer_event_id=7, price=1234, price_control=0x01)))
    link.advance(60)
    return [a.issuer_event_id for a in link.price.acknowledgements] == [7]


def test_missing_price_acknowledgement_fails_its_check(make_link):
    assert price_acknowledged(make_link, PriceClientFaults())
    assert not price_acknowledged(make_link, PriceClientFaults(no_acknowledgement=True))


def message_confirmed(make_link, faults) -> bool:
    link = make_link(messaging_faults=faults, confirm_after=30)
    link.run(link.messaging.display(link.dut_peer, Message(message_id=5, text="Peak", message_control=0x80)))
    link.advance(120)
    return [c.message_id for c in link.messaging.confirmations] == [5]


def test_missing_message_confirmation_fails_its_check(make_link):
    assert message_confirmed(make_link, MessagingClientFaults())
    assert not message_confirmed(make_link, MessagingClientFaults(no_confirmation=True))


# -- Messaging time windows, replacement, cancels, ConfirmationTime, NOT_FOUND and MessageControl (issue 18) --

def _user_link(make_link, faults: MessagingClientFaults) -> EsiLink:
    return make_link(messaging_faults=faults, confirm_after=None)


def _display(link: EsiLink, message_id: int, **kwargs) -> None:
    kwargs.setdefault("message_control", 0x80)
    link.run(link.messaging.display(link.dut_peer, Message(message_id=message_id, text="m", **kwargs)))
    link.advance(1)


def _confirms(link: EsiLink, message_id: int) -> bool:
    link.run(link.messaging_client.confirm_message(message_id))
    link.advance(1)
    return bool(link.messaging.confirmed(message_id))


def refused_before_start(link: EsiLink) -> bool:
    _display(link, 1, start_time=T0 + 600)
    return not _confirms(link, 1)


def refused_after_end(link: EsiLink) -> bool:
    _display(link, 2, duration_minutes=1)
    link.advance(120)
    return not _confirms(link, 2)


def replaced_by_new_id(link: EsiLink) -> bool:
    _display(link, 3)
    _display(link, 4)
    return not _confirms(link, 3) and _confirms(link, 4)


def kept_after_cancel_of_another(link: EsiLink) -> bool:
    _display(link, 5)
    link.run(link.messaging.cancel(link.dut_peer, 6))
    link.advance(1)
    return _confirms(link, 5)


def confirmation_time_is_the_users(link: EsiLink) -> bool:
    _display(link, 7)
    link.advance(300)
    return _confirms(link, 7) and link.messaging.confirmed(7)[0].confirmation_time == T0 + 301


def confirmed_whatever_the_importance(link: EsiLink) -> bool:
    _display(link, 8, message_control=0x8C)  # critical importance
    return _confirms(link, 8)


def asks_last_message_once(link: EsiLink) -> bool:
    link.run(link.messaging_client.get_last_message(link.esi_peer))
    link.advance(30)
    asked = [p for p in link.dut_sent if int(p.cluster_id) == 0x0703 and p.data.serialize()[2] == 0x00]
    return len(asked) == 1


@pytest.mark.parametrize(("check", "fault"), [
    (refused_before_start, "show_before_start"),
    (refused_after_end, "never_expire"),
    (replaced_by_new_id, "keep_shown_message"),
    (kept_after_cancel_of_another, "cancel_any_message"),
    (confirmation_time_is_the_users, "confirmation_time_of_display"),
    (confirmed_whatever_the_importance, "confirmation_bit_by_equality"),
    (asks_last_message_once, "retry_get_last_message"),
], ids=lambda v: getattr(v, "__name__", v))
def test_messaging_fault_fails_its_check(make_link, check: Callable[[EsiLink], bool], fault: str):
    assert check(_user_link(make_link, MessagingClientFaults()))
    assert not check(_user_link(make_link, MessagingClientFaults(**{fault: True})))


def shown_price_window(make_link, faults) -> bool:
    """The current price is the price over [start, end) to the second, and an older price not yet in force that a
    newer one overlaps is dropped whole (TC-PRICE-1.13)."""
    link = make_link(price_faults=faults)
    link.run(link.price.publish(link.dut_peer, PriceEvent(issuer_event_id=1, price=100, start_time=T0 + 600,
                                                          duration_minutes=10)))
    link.run(link.price.publish(link.dut_peer, PriceEvent(issuer_event_id=2, price=200, start_time=T0 + 3600,
                                                          duration_minutes=20)))
    link.run(link.price.publish(link.dut_peer, PriceEvent(issuer_event_id=3, price=300, start_time=T0 + 3900,
                                                          duration_minutes=10)))
    link.advance(5)
    client = link.price_client

    def shown(second: int) -> int | None:
        current = client.current_price(second)
        return None if current is None else current.issuer_event_id

    return ([shown(T0 + s) for s in (599, 600, 1199, 1200)] == [None, 1, 1, None]
            and [shown(T0 + s) for s in (3600, 3899, 3900, 4499, 4500)] == [None, None, 3, 3, None])


@pytest.mark.parametrize("fault", ["shown_through_end_second", "keeps_superseded_start"])
def test_shown_price_fault_fails_its_check(make_link, fault):
    assert shown_price_window(make_link, PriceClientFaults())
    assert not shown_price_window(make_link, PriceClientFaults(**{fault: True}))

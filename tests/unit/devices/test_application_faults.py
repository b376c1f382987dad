"""The device-level faults of harness/devices/application.py, each seen by the golden ESI: every check below
holds for the conformant client and fails with the fault on (the fault matrix proves the same through the
suite; these pin each fault to the observation a case makes)."""

from __future__ import annotations

import pytest

from harness.devices import application_faults as faults
from harness.devices.application import FaultyDrlcClient, FaultyMessagingClient, FaultyPriceClient
from harness.devices.faults import Fault, FaultSet
from harness.golden.esi import Message, PriceEvent, load_control_event
from tests.unit.esi.esi_link import T0, EsiLink

RECEIVED, STARTED, COMPLETED, OPTED_OUT, OPTED_IN, EXPIRED, REJECTED = 0x01, 0x02, 0x03, 0x04, 0x05, 0xFB, 0xFE


def with_drlc(link: EsiLink, *chosen: Fault) -> EsiLink:
    link.drlc_client.close()
    link.drlc_client = FaultyDrlcClient(link.dut, link.time_client, seed=1, device_faults=FaultSet(chosen))
    return link


def with_price(link: EsiLink, *chosen: Fault) -> EsiLink:
    link.price_client = FaultyPriceClient(link.dut, link.time_client, device_faults=FaultSet(chosen))
    return link


def with_messaging(link: EsiLink, *chosen: Fault) -> EsiLink:
    link.messaging_client.close()
    link.messaging_client = FaultyMessagingClient(link.dut, link.time_client, confirm_after=None,
                                                  device_faults=FaultSet(chosen))
    return link


def issue(link: EsiLink, event_id: int, **kwargs) -> None:
    link.run(link.drlc.issue_event(link.dut_peer, load_control_event(event_id, **kwargs)))


@pytest.mark.parametrize(("fault", "conformant"), [(None, True), (faults.START_NOW_TAKEN_LITERALLY, False)])
def test_start_now_event_is_received(make_link, fault, conformant):
    link = with_drlc(make_link(), *([fault] if fault else []))
    issue(link, 1, start_time=0, duration_minutes=30)
    link.advance(5)
    assert (link.drlc.status_codes(1) == [RECEIVED, STARTED]) is conformant
    if not conformant:
        assert link.drlc.status_codes(1) == [EXPIRED]


@pytest.mark.parametrize(("fault", "conformant"), [(None, True), (faults.CLAMPS_OVERSIZED_DURATION, False)])
def test_oversized_duration_is_rejected(make_link, fault, conformant):
    link = with_drlc(make_link(), *([fault] if fault else []))
    issue(link, 1, start_time=T0 + 600, duration_minutes=1441)
    link.advance(5)
    assert (link.drlc.status_codes(1) == [REJECTED]) is conformant


@pytest.mark.parametrize(("fault", "conformant"), [(None, True), (faults.NO_COMPLETION_REPORT, False)])
def test_completion_is_reported(make_link, fault, conformant):
    link = with_drlc(make_link(), *([fault] if fault else []))
    issue(link, 1, start_time=0, duration_minutes=10)
    link.advance(700)
    assert (COMPLETED in link.drlc.status_codes(1)) is conformant
    assert link.drlc.status_codes(1)[:2] == [RECEIVED, STARTED]


@pytest.mark.parametrize(("fault", "conformant"), [(None, True), (faults.IGNORES_OPT_OUT, False)])
def test_opt_out_while_running_is_reported(make_link, fault, conformant):
    link = with_drlc(make_link(), *([fault] if fault else []))
    issue(link, 1, start_time=0, duration_minutes=10)
    link.advance(5)
    assert link.drlc_client.opt_out(1)  # the user sees the event either way
    link.advance(5)
    assert (OPTED_OUT in link.drlc.status_codes(1)) is conformant


@pytest.mark.parametrize(("fault", "conformant"), [(None, True), (faults.SILENT_OPT_IN, False)])
def test_opt_in_is_reported(make_link, fault, conformant):
    link = with_drlc(make_link(), *([fault] if fault else []))
    issue(link, 1, start_time=0, duration_minutes=10)
    link.advance(5)
    link.drlc_client.opt_out(1)
    link.advance(5)
    link.drlc_client.opt_in(1)
    link.advance(700)
    codes = link.drlc.status_codes(1)
    assert (OPTED_IN in codes and 0x09 in codes) is conformant


def test_no_report_event_status_silences_every_status(make_link):
    link = with_drlc(make_link(), faults.NO_REPORT_EVENT_STATUS)
    issue(link, 1, start_time=0, duration_minutes=10)
    issue(link, 2, start_time=T0 - 7200, duration_minutes=10)  # expired: FB for a conformant client
    link.run(link.drlc.cancel_event(link.dut_peer, 3))  # unknown: FD for a conformant client
    link.advance(900)
    assert list(link.drlc.reports) == []
    assert not any(p.cluster_id == 0x0701 for p in link.dut_sent)  # not even a Default Response


@pytest.mark.parametrize(("fault", "acks"), [(None, 1), (faults.STORES_DUPLICATE_PRICE, 2)])
def test_repeated_price_is_acknowledged_once(make_link, fault, acks):
    link = with_price(make_link(), *([fault] if fault else []))
    price = PriceEvent(7, price=1234, start_time=T0 + 600, duration_minutes=60, price_control=0x01)
    link.run(link.price.publish(link.dut_peer, price))
    link.advance(5)
    link.run(link.price.publish(link.dut_peer, price))
    link.advance(5)
    assert len(link.price.acknowledged(7)) == acks


@pytest.mark.parametrize(("fault", "older_acknowledged"), [(None, False), (faults.LAST_PRICE_WINS, True)])
def test_older_overlapping_price_is_refused(make_link, fault, older_acknowledged):
    link = with_price(make_link(), *([fault] if fault else []))
    link.run(link.price.publish(link.dut_peer, PriceEvent(20, price=1, price_control=0x01)))
    link.advance(5)
    link.run(link.price.publish(link.dut_peer, PriceEvent(19, price=2, price_control=0x01)))
    link.advance(5)
    assert len(link.price.acknowledged(20)) == 1
    assert bool(link.price.acknowledged(19)) is older_acknowledged


@pytest.mark.parametrize(("fault", "confirmed"), [(None, False), (faults.CONFIRMS_UNASKED, True)])
def test_unasked_message_is_not_confirmed(make_link, fault, confirmed):
    link = with_messaging(make_link(), *([fault] if fault else []))
    link.run(link.messaging.display(link.dut_peer, Message(5, "hello", message_control=0x00)))
    link.advance(5)
    link.run(link.messaging_client.confirm_message(5))
    link.advance(5)
    assert bool(link.messaging.confirmed(5)) is confirmed


@pytest.mark.parametrize(("fault", "confirmed"), [(None, False), (faults.IGNORES_CANCEL_MESSAGE, True)])
def test_cancelled_message_cannot_be_confirmed(make_link, fault, confirmed):
    link = with_messaging(make_link(), *([fault] if fault else []))
    link.run(link.messaging.display(link.dut_peer, Message(6, "hello", message_control=0x80)))
    link.advance(5)
    link.run(link.messaging.cancel(link.dut_peer, 6))
    link.advance(5)
    link.run(link.messaging_client.confirm_message(6))
    link.advance(5)
    assert bool(link.messaging.confirmed(6)) is confirmed

"""Price, Messaging and Time clients against the golden ESI servers in virtual time (SE-FACTS "Price 0x0700
and Messaging 0x0703", "Time 0x000A"; price table rules: Silicon Labs plugin/price-client)."""

from __future__ import annotations

import pytest
from zigpy.zcl.foundation import GeneralCommand, Status

from harness.devices.clients import TimeSyncError
from harness.golden.esi import Message, PriceEvent, TimeStatus
from tests.unit.esi.esi_link import T0


def default_responses(link) -> list[Status]:
    """Statuses of the Default Responses the DUT sent back on the Price cluster."""
    out = []
    for pkt in link.dut_sent:
        raw = pkt.data.serialize()
        if int(pkt.cluster_id) == 0x0700 and raw[0] & 0x03 == 0 and raw[2] == GeneralCommand.Default_Response:
            out.append(Status(raw[4]))
    return out


def test_price_is_recorded_and_current(link):
    link.run(link.price.publish(link.dut_peer, PriceEvent(issuer_event_id=1, price=1500)))
    link.advance(10)
    current = link.price_client.current_price()
    assert current is not None and int(current.publish.price) == 1500 and current.start == T0
    assert link.price.acknowledgements.items == []  # no acknowledgement unless PriceControl asks


def test_price_acknowledgement_when_price_control_asks(link):
    link.advance(30)
    link.run(link.price.publish(link.dut_peer, PriceEvent(issuer_event_id=2, price=900, price_control=0x01)))
    ack = link.run(link.price.wait_for_acknowledgement(2, timeout=5))
    assert (ack.provider_id, ack.price_ack_time, ack.control) == (1, T0 + 30, 0x01)
    assert link.price.findings == []


def test_duplicate_price_is_not_stored_twice(link):
    for _ in range(2):
        link.run(link.price.publish(link.dut_peer, PriceEvent(issuer_event_id=3, price=100)))
        link.advance(5)
    assert len(link.price_client.received) == 2 and len(link.price_client.prices) == 1
    assert default_responses(link) == [Status.SUCCESS, Status.DUPLICATE_EXISTS]


def test_newer_price_cuts_the_active_one_at_its_start(link):
    link.run(link.price.publish(link.dut_peer, PriceEvent(issuer_event_id=4, price=100)))
    link.run(link.price.publish(link.dut_peer, PriceEvent(issuer_event_id=5, price=200, start_time=T0 + 3600,
                                                          duration_minutes=60)))
    link.advance(1800)
    assert int(link.price_client.current_price().publish.price) == 100
    link.advance(3600)
    assert int(link.price_client.current_price().publish.price) == 200
    link.advance(3600)
    assert link.price_client.current_price() is None  # the old one was cut, the new one ended


def test_expired_price_is_refused(link):
    link.advance(7200)
    link.run(link.price.publish(link.dut_peer, PriceEvent(issuer_event_id=6, price=1, start_time=T0,
                                                          duration_minutes=30)))
    link.advance(5)
    assert link.price_client.prices == [] and default_responses(link) == [Status.FAILURE]


def test_get_current_price_after_joining(link):
    link.price.add_price(PriceEvent(issuer_event_id=8, price=777))
    assert link.run(link.price_client.get_current_price(link.esi_peer))
    link.advance(1)
    assert int(link.price_client.current_price().publish.price) == 777


def test_get_current_price_with_none_answers_not_found(link):
    assert not link.run(link.price_client.get_current_price(link.esi_peer))
    assert link.price_client.prices == []


def test_get_scheduled_prices_stores_each_published_price(link):
    link.price.add_price(PriceEvent(issuer_event_id=9, price=10, start_time=T0 + 3600, duration_minutes=60))
    link.price.add_price(PriceEvent(issuer_event_id=10, price=20, start_time=T0 + 7200, duration_minutes=60))
    assert link.run(link.price_client.get_scheduled_prices(link.esi_peer))
    link.advance(1)
    assert [p.issuer_event_id for p in link.price_client.prices] == [9, 10]


def test_message_with_confirmation_is_shown_and_confirmed_by_the_user(make_link):
    link = make_link(confirm_after=None)  # no simulated user: the test is the user
    link.run(link.messaging.display(link.dut_peer, Message(message_id=11, text="Peak at 5pm", message_control=0x80)))
    link.advance(300)
    assert link.messaging_client.message.display.message == "Peak at 5pm"
    assert link.messaging.confirmations.items == []
    assert link.run(link.messaging_client.confirm_message(11))
    link.advance(1)
    confirmation = link.messaging.confirmed(11)[0]
    assert confirmation.confirmation_time == T0 + 300 and confirmation.arrival == T0 + 300
    assert not link.run(link.messaging_client.confirm_message(11))  # only once
    assert link.messaging.findings == []


def test_message_without_confirmation_bit_is_not_confirmed(link):
    link.run(link.messaging.display(link.dut_peer, Message(message_id=12, text="Hello", message_control=0x00)))
    link.advance(60)
    assert not link.run(link.messaging_client.confirm_message(12))
    link.advance(1)
    assert link.messaging.confirmations.items == []


def test_cancel_message_clears_the_display(link):
    link.run(link.messaging.display(link.dut_peer, Message(message_id=13, text="x")))
    link.advance(1)
    link.run(link.messaging.cancel(link.dut_peer, 13))
    link.advance(1)
    assert link.messaging_client.message is None and len(link.messaging_client.history) == 1


def test_get_last_message(link):
    link.messaging.last_message = Message(message_id=14, text="Last one")
    assert link.run(link.messaging_client.get_last_message(link.esi_peer))
    link.advance(1)
    assert link.messaging_client.message.message_id == 14


def test_get_last_message_with_none_answers_not_found(link):
    assert not link.run(link.messaging_client.get_last_message(link.esi_peer))
    assert get_last_messages_sent(link) == 1  # NOT_FOUND is final: not asked again
    assert link.messaging_client.message is None


# -- what is on display: StartTime, Duration, replacement, cancels (Silicon Labs messaging-client behaviour) --

def get_last_messages_sent(link) -> int:
    return sum(1 for pkt in link.dut_sent if int(pkt.cluster_id) == 0x0703
               and pkt.data.serialize()[0] & 0x03 == 0x01 and pkt.data.serialize()[2] == 0x00)


def display(link, message_id: int, **kwargs) -> None:
    kwargs.setdefault("message_control", 0x80)
    link.run(link.messaging.display(link.dut_peer, Message(message_id=message_id, text=f"m{message_id}", **kwargs)))
    link.advance(1)


def user_confirms(link, message_id: int) -> bool:
    sent = link.run(link.messaging_client.confirm_message(message_id))
    link.advance(1)
    return sent


@pytest.fixture
def user_link(make_link):
    return make_link(confirm_after=None)  # no simulated user: the test is the user


def test_message_is_not_shown_before_its_start_and_is_from_it(user_link):
    display(user_link, 21, start_time=T0 + 600)
    assert user_link.messaging_client.displayed() is None
    assert not user_confirms(user_link, 21)
    user_link.advance(600)
    assert user_link.messaging_client.displayed().message_id == 21
    assert user_confirms(user_link, 21) and user_link.messaging.confirmed(21)[0].confirmation_time == T0 + 602


def test_message_is_shown_for_its_duration_only(user_link):
    display(user_link, 22, duration_minutes=2)  # StartTime 0: from its arrival
    user_link.advance(100)
    assert user_link.messaging_client.displayed().message_id == 22
    user_link.advance(20)  # 121 s after arrival: two minutes have passed
    assert user_link.messaging_client.displayed() is None
    assert not user_confirms(user_link, 22) and user_link.messaging.confirmations.items == []


def test_message_whose_window_passed_is_never_shown_and_one_in_it_is(user_link):
    display(user_link, 23, start_time=T0 - 120, duration_minutes=1)
    assert user_link.messaging_client.displayed() is None and not user_confirms(user_link, 23)
    display(user_link, 24, start_time=T0 - 60, duration_minutes=2)  # ends at T0 + 60
    assert user_confirms(user_link, 24)
    user_link.advance(60)
    assert user_link.messaging_client.displayed() is None


def test_until_changed_message_stays_until_a_new_message_id_replaces_it(user_link):
    display(user_link, 25)
    user_link.advance(30 * 86400)
    assert user_link.messaging_client.displayed().message_id == 25
    display(user_link, 26)
    assert user_link.messaging_client.displayed().message_id == 26
    assert not user_confirms(user_link, 25) and user_confirms(user_link, 26)
    display(user_link, 26)  # the same message again changes nothing: it stays confirmed, once
    assert not user_confirms(user_link, 26) and len(user_link.messaging.confirmed(26)) == 1


def test_cancel_naming_another_message_changes_nothing(user_link):
    display(user_link, 27)
    user_link.run(user_link.messaging.cancel(user_link.dut_peer, 28))
    user_link.advance(1)
    assert user_link.messaging_client.displayed().message_id == 27 and user_confirms(user_link, 27)


def test_confirmation_time_is_when_the_user_confirmed(user_link):
    display(user_link, 29)
    user_link.advance(300)
    assert user_confirms(user_link, 29)
    assert user_link.messaging.confirmed(29)[0].confirmation_time == T0 + 301


@pytest.mark.parametrize("control", [0x80, 0x84, 0x88, 0x8C, 0x8D, 0x81])
def test_confirmation_bit_is_read_whatever_the_importance_and_transmission(user_link, control):
    display(user_link, 30, message_control=control)
    assert user_confirms(user_link, 30)


def test_simulated_user_confirms_a_later_message_when_it_appears(make_link):
    link = make_link(confirm_after=5)
    display(link, 31, start_time=T0 + 100)
    link.advance(110)
    assert [c.confirmation_time for c in link.messaging.confirmed(31)] == [T0 + 105]


def test_time_client_takes_network_time_from_the_esi(make_link):
    link = make_link(dut_skew=1234)
    assert link.time_client.utc() == T0 + 1234
    offset = link.run(link.time_client.synchronize(link.esi_peer))
    assert offset == -1234 and link.time_client.utc() == link.now() and link.time_client.synchronized


def test_time_client_refuses_a_server_that_is_not_master_or_synchronized(make_link):
    link = make_link(dut_skew=50)
    link.time_server.status = TimeStatus(0)
    with pytest.raises(TimeSyncError, match="neither master nor synchronized"):
        link.run(link.time_client.synchronize(link.esi_peer))
    assert link.time_client.offset == 0


# -- issue 18: TimeStatus classes, resynchronisation, touching price windows, later layouts --------------------

@pytest.mark.parametrize(("status", "taken"), [(0x01, True), (0x02, True), (0x0B, True), (0x0C, False), (0x00, False)])
def test_time_client_takes_time_from_a_master_or_synchronized_server_only(make_link, status, taken):
    link = make_link(dut_skew=50)
    link.time_server.status = TimeStatus(status)
    if taken:
        link.run(link.time_client.synchronize(link.esi_peer))
    else:
        with pytest.raises(TimeSyncError):
            link.run(link.time_client.synchronize(link.esi_peer))
    assert (link.time_client.utc() == link.now()) is taken


def test_time_client_resynchronises_and_follows_a_step_back(make_link):
    link = make_link()
    link.run(link.time_client.synchronize(link.esi_peer))
    link.time_client.start_resync(link.esi_peer, 600)
    link.time_server.offset = -7200
    link.advance(601)
    assert link.time_client.utc() == link.now() - 7200
    link.time_client.close()


def test_prices_whose_windows_touch_do_not_overlap(link):
    link.run(link.price.publish(link.dut_peer, PriceEvent(issuer_event_id=42, price=1, start_time=T0 + 600,
                                                          duration_minutes=10)))
    link.run(link.price.publish(link.dut_peer, PriceEvent(issuer_event_id=41, price=2, start_time=T0 + 1200,
                                                          duration_minutes=10)))
    link.run(link.price.publish(link.dut_peer, PriceEvent(issuer_event_id=40, price=3, start_time=T0 + 1140,
                                                          duration_minutes=10)))
    link.advance(5)
    assert [p.issuer_event_id for p in link.price_client.prices] == [42, 41]
    assert default_responses(link) == [Status.SUCCESS, Status.SUCCESS, Status.FAILURE]


def test_a_price_with_later_fields_and_unknown_bytes_is_taken(link):
    price = PriceEvent(issuer_event_id=43, price=5, price_control=0x01, se12_fields=True, trailing=b"\x01\x02")
    answer = link.run(link.price.publish(link.dut_peer, price, answer_timeout=5))
    assert answer is not None and answer.cluster_command == 0x02 and link.price.acknowledged(43)

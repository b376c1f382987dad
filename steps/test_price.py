"""Steps of features/price: prices the golden ESI publishes, judged by the DUT's Get Current Price and Price
Acknowledgements (ids, PriceAckTime against the golden clock) within the DUT's PIXITs."""

from __future__ import annotations

from pytest_bdd import given, parsers, then, when

from harness.bdd import certification_cases
from harness.clock import DeadlineExceeded
from harness.golden.esi import PriceEvent
from harness.se.clusters import Price
from harness.se.types import PriceControl
from harness.verdict import check

from .conftest import dut_peer, dut_request, key_ready_at

certification_cases("../features/price")

RULE = "SE 1.x Annex D.4 (Price), reference client behaviour (Silicon Labs price-client plugin)"
ACK_REQUIRED = int(PriceControl.Acknowledgement_Required)


def _response_time(bench) -> float:
    return bench.pixit_seconds("response_time", 5)


def _prices(testbed) -> dict[int, PriceEvent]:
    return testbed.notes.setdefault("prices", {})


def _publish(bench, testbed, price: PriceEvent) -> None:
    _prices(testbed)[price.issuer_event_id] = price
    bench.run(testbed.golden.price.publish(dut_peer(bench, testbed), price), 30,
              f"publishing price {price.issuer_event_id}")


@given(parsers.parse("the ESI has a current price {event_id:d} until changed"))
def current_price(bench, testbed, event_id):
    testbed.golden.price.add_price(PriceEvent(event_id, price=1000 + event_id))


@when(parsers.parse("the ESI publishes price {event_id:d} starting in {minutes:d} minutes for {duration:d} minutes, "
                    "asking for acknowledgement"))
def publish_later(bench, testbed, event_id, minutes, duration):
    start = testbed.golden.clock.zcl_utc() + minutes * 60
    _publish(bench, testbed, PriceEvent(event_id, price=1000 + event_id, start_time=start, duration_minutes=duration,
                                        price_control=ACK_REQUIRED))


@when(parsers.parse("the ESI publishes price {event_id:d} again"))
def publish_again(bench, testbed, event_id):
    testbed.notes["acks_before_repeat"] = len(testbed.golden.price.acknowledged(event_id))
    _publish(bench, testbed, _prices(testbed)[event_id])


@then("the DUT sends Get Current Price to the ESI within the PIXIT application start time")
def asks_current_price(bench, testbed):
    timeout = bench.pixit_seconds("app_start_time", 10)
    since = key_ready_at(testbed)
    access = bench.run(dut_request(bench, testbed, Price.cluster_id, Price.ServerCommandDefs.get_current_price.id,
                                   general=False, since=since, timeout=timeout))
    check(access is not None, expected=f"Get Current Price from the DUT within {timeout:g} s of key establishment",
          observed="no Get Current Price", rule="SE 1.x Annex D.4.2.3.1: a device that joins asks for the current "
                                                "price (reference client: on joining)")


@then(parsers.parse("the DUT acknowledges price {event_id:d} within the PIXIT response time"))
def acknowledges(bench, testbed, event_id):
    timeout = _response_time(bench)
    try:
        testbed.notes.setdefault("acks", {})[event_id] = bench.run(
            testbed.golden.price.wait_for_acknowledgement(event_id, timeout))
    except DeadlineExceeded:
        check(False, expected=f"Price Acknowledgement for price {event_id} within {timeout:g} s",
              observed="no acknowledgement", rule="SE 1.1 Annex D.4.2.4.3: PriceControl bit 0 asks the client to "
                                                  "acknowledge the price")


@then("the acknowledgement names the price's provider and carries a PriceAckTime within the PIXIT tolerance")
def acknowledgement_content(bench, testbed):
    tolerance = bench.pixit_seconds("timing_tolerance", 2)
    (event_id, ack), = testbed.notes["acks"].items()
    price = _prices(testbed)[event_id]
    arrival = ack.arrival + testbed.golden.time_server.offset
    check(ack.provider_id == price.provider_id and abs(ack.price_ack_time - arrival) <= tolerance,
          expected=f"ProviderID {price.provider_id}, PriceAckTime within {tolerance:g} s of the network time "
                   f"{arrival:.1f} at arrival",
          observed=f"ProviderID {ack.provider_id}, PriceAckTime {ack.price_ack_time}",
          rule="SE 1.1 Annex D.4.2.4.3: Price Acknowledgement carries the provider, the event and the UTC time")


@then(parsers.parse("the DUT does not acknowledge price {event_id:d} a second time within the PIXIT response time"))
def not_twice(bench, testbed, event_id):
    bench.run(bench.clock.sleep(_response_time(bench)))
    before = testbed.notes["acks_before_repeat"]
    count = len(testbed.golden.price.acknowledged(event_id))
    check(count == before, expected=f"no new acknowledgement of the repeated price {event_id} (already had {before})",
          observed=f"{count} acknowledgements in all", rule=RULE + ": a known IssuerEventID is not stored twice")


@then(parsers.parse("the DUT does not acknowledge price {event_id:d} within the PIXIT response time"))
def not_acknowledged(bench, testbed, event_id):
    bench.run(bench.clock.sleep(_response_time(bench)))
    acks = testbed.golden.price.acknowledged(event_id)
    check(not acks, expected=f"price {event_id}, older than the price it overlaps, refused (not acknowledged)",
          observed=f"{len(acks)} acknowledgements", rule=RULE + ": a price older than one it overlaps is refused")

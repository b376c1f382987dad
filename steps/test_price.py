"""Steps of features/price: prices the golden ESI publishes, judged by the DUT's Get Current Price and Price
Acknowledgements (ids, PriceAckTime against the golden clock) within the DUT's PIXITs."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import pytest
from pytest_bdd import given, parsers, then, when
from zigpy.zcl.foundation import Status

from harness.bdd import certification_cases
from harness.clock import DeadlineExceeded
from harness.dut.base import ShownPrice
from harness.golden.esi import PriceEvent
from harness.se.clusters import Price
from harness.se.types import START_NOW, UNTIL_CHANGED, PriceControl
from harness.verdict import check

from .conftest import dut_peer, dut_request, key_ready_at

certification_cases("../features/price")

RULE = "SE 1.x Annex D.4 (Price), reference client behaviour (Silicon Labs price-client plugin)"
ACK_REQUIRED = int(PriceControl.Acknowledgement_Required)


def _response_time(bench) -> float:
    return bench.pixit_seconds("response_time", 5)


def _prices(testbed) -> dict[int, PriceEvent]:
    return testbed.notes.setdefault("prices", {})


@given(parsers.parse("the ESI has a current price {event_id:d} until changed"))
def current_price(bench, testbed, event_id):
    testbed.golden.price.add_price(PriceEvent(event_id, price=1000 + event_id))


@when(parsers.parse("the ESI publishes price {event_id:d} starting in {minutes:d} minutes for {duration:d} minutes, "
                    "asking for acknowledgement"))
def publish_later(bench, testbed, event_id, minutes, duration):
    _publish_window(bench, testbed, event_id, _now(testbed) + minutes * 60, duration)


@when(parsers.parse("the ESI publishes price {event_id:d} again"))
def publish_again(bench, testbed, event_id):
    testbed.notes["acks_before_repeat"] = len(testbed.golden.price.acknowledged(event_id))
    _publish_for_answer(bench, testbed, _prices(testbed)[event_id])


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
        answer = _answers(testbed).get(event_id)
        check(False, expected=f"Price Acknowledgement for price {event_id} within {timeout:g} s",
              observed="no acknowledgement" + (f"; the DUT answered with {_describe_answer(answer)}" if answer else ""),
              rule="SE 1.1 Annex D.4.2.4.3: PriceControl bit 0 asks the client to "
                                                  "acknowledge the price")
    _judge_acknowledgement(bench, testbed, testbed.notes["acks"][event_id], _prices(testbed)[event_id])


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


# -- PriceControl, expiry, overlap boundaries, refusal statuses, layouts, windows, Get Scheduled Prices ---------

ACK_RULE = ("SE 1.1 Annex D.4.2.4.3 (Price Acknowledgement: ProviderID, IssuerEventID, PriceAckTime, Control: "
            "the Price Control options of the event); reference client behaviour (Silicon Labs price-client: "
            "the acknowledgement is the response to the Publish Price, Control = its PriceControl)")
CONTROL_RULE = ("SE 1.1 Annex D.4.2.4.1 (Publish Price: PriceControl bit 0 = Price Acknowledgement required, the "
                "other bits reserved); ZCL 07-5123 2.4.12 (a command without a specific response is answered with "
                "a Default Response while its Disable Default Response bit is 0)")
WINDOW_RULE = ("SE 1.x Annex D.4.2.4.1 (Publish Price: StartTime 0x00000000 = now, DurationInMinutes 0xFFFF = until "
               "changed; a price that has ended is not taken; a price older than one it overlaps is refused, the "
               "newer IssuerEventID wins); reference client behaviour (Silicon Labs price-client: windows "
               "[start, start + duration) overlap when one starts before the other ends)")
REFUSAL_RULE = ("PICS SE.PRICE.C.REFUSALS; reference client behaviour (Silicon Labs price-client, "
                "emberAfPriceClusterPublishPriceCallback: DUPLICATE_EXISTS for a known IssuerEventID, FAILURE for a "
                "price that has ended or is older than one it overlaps, SUCCESS for a price taken without "
                "acknowledgement)")
LAYOUT_RULE = ("ZCL 07-5123 2.4 and SE 1.x Annex D.4.2.4.1: later revisions append fields to Publish Price (SE 1.1: "
               "PriceRatio .. PriceControl; SE 1.2: NumberOfGenerationTiers .. ExtendedRegisterTier); a receiver "
               "takes the fields it knows and ignores what follows them")
SCHEDULED_RULE = ("SE 1.1 Annex D.4.2.3.2 (Get Scheduled Prices: StartTime is the minimum ending time of the prices "
                  "to send, NumberOfEvents 0 = all); the ESI answers with a Publish Price per price")
#: The PriceControl bit that asks for an acknowledgement.
ACK_BIT = int(PriceControl.Acknowledgement_Required)
#: The other layouts of TC-PRICE-1.9: (SE 1.2 fields, bytes after them).
LAYOUTS = {"SE 1.1": (False, b""), "SE 1.2": (True, b""), "SE 1.2 and 8 unknown bytes": (True, bytes(range(1, 9)))}


def _tolerance(bench) -> float:
    return bench.pixit_seconds("timing_tolerance", 2)


def _now(testbed) -> int:
    """The ESI's network time now, in whole ZCL UTC seconds."""
    return int(testbed.golden.esi_time())


def _answers(testbed) -> dict:
    return testbed.notes.setdefault("price_answers", {})


def _publish_for_answer(bench, testbed, price: PriceEvent) -> None:
    """Publish and keep what the DUT answered it with (Default Response or acknowledgement) within the response
    time; the steps after it judge the answer."""
    _prices(testbed)[price.issuer_event_id] = price
    answer = bench.run(testbed.golden.price.publish(dut_peer(bench, testbed), price,
                                                    answer_timeout=_response_time(bench)),
                       30 + _response_time(bench), f"publishing price {price.issuer_event_id}")
    _answers(testbed)[price.issuer_event_id] = answer


def _start_end(price: PriceEvent, published_at: int) -> tuple[int, int | None]:
    start = published_at if price.start_time == START_NOW else price.start_time
    return start, None if price.duration_minutes == UNTIL_CHANGED else start + price.duration_minutes * 60


def _window(testbed, event_id: int) -> tuple[int, int | None]:
    return testbed.notes["price_windows"][event_id]


def _publish_window(bench, testbed, event_id: int, start: int, minutes: int, *, ack: bool = True) -> None:
    now = _now(testbed)
    price = PriceEvent(event_id, price=1000 + event_id, start_time=start, duration_minutes=minutes,
                       price_control=ACK_REQUIRED if ack else 0x00)
    window = testbed.notes.setdefault("price_windows", {})[event_id] = _start_end(price, now)
    _take(testbed, price, *window, now)
    _publish_for_answer(bench, testbed, price)


def _judge_acknowledgement(bench, testbed, ack, price: PriceEvent) -> None:
    """Every field of a Price Acknowledgement against the price it acknowledges and the network time."""
    tolerance = _tolerance(bench)
    arrival = ack.arrival + testbed.golden.time_server.offset
    control = int(price.price_control or 0)
    wrong = []
    if ack.provider_id != price.provider_id:
        wrong.append(f"ProviderID {ack.provider_id} (the price's: {price.provider_id})")
    if ack.issuer_event_id != price.issuer_event_id:
        wrong.append(f"IssuerEventID {ack.issuer_event_id} (the price's: {price.issuer_event_id})")
    if abs(ack.price_ack_time - arrival) > tolerance:
        wrong.append(f"PriceAckTime {ack.price_ack_time} ({ack.price_ack_time - arrival:+.1f} s off the network time "
                     f"{arrival:.1f} at arrival)")
    if ack.control != control:
        wrong.append(f"Control 0x{ack.control:02X} (the price's PriceControl: 0x{control:02X})")
    check(not wrong, expected=f"a Price Acknowledgement of price {price.issuer_event_id} echoing ProviderID "
                              f"{price.provider_id}, IssuerEventID and PriceControl 0x{control:02X} as Control, with "
                              f"PriceAckTime within {tolerance:g} s of the network time at arrival",
          observed="; ".join(wrong), rule=ACK_RULE)


@then("the acknowledgement's Control echoes the price's PriceControl")
def acknowledgement_control(bench, testbed):
    (event_id, ack), = testbed.notes["acks"].items()
    _judge_acknowledgement(bench, testbed, ack, _prices(testbed)[event_id])


@when(parsers.parse("the ESI publishes price {event_id:d} starting now until changed with PriceControl {control}"))
def publish_with_control(bench, testbed, event_id, control):
    price_control = None if control == "absent" else int(control, 16)
    _publish_for_answer(bench, testbed, PriceEvent(event_id, price=1000 + event_id, price_control=price_control))


@then(parsers.parse("the DUT takes price {event_id:d}, acknowledging it only if PriceControl bit 0 asks"))
def takes_acknowledging_if_asked(bench, testbed, event_id):
    price = _prices(testbed)[event_id]
    control = price.price_control
    shown = "absent (an SE 1.0 Publish Price)" if control is None else f"0x{control:02X}"
    answer = _answers(testbed)[event_id]
    if control is not None and control & ACK_BIT:
        acks = testbed.golden.price.acknowledged(event_id)
        check(bool(acks), expected=f"a Price Acknowledgement of price {event_id} within {_response_time(bench):g} s: "
                                   f"PriceControl {shown} has bit 0 set",
              observed=_describe_answer(answer), rule=CONTROL_RULE)
        _judge_acknowledgement(bench, testbed, acks[0], price)
        return
    bench.run(bench.clock.sleep(_response_time(bench)))
    acks = testbed.golden.price.acknowledged(event_id)
    check(not acks and answer is not None and answer.default_response == Status.SUCCESS
          and answer.answered_command == Price.ClientCommandDefs.publish_price.id,
          expected=f"price {event_id} taken without acknowledgement (PriceControl {shown}: bit 0 clear): a Default "
                   f"Response SUCCESS naming Publish Price (0x00), no Price Acknowledgement",
          observed=f"{len(acks)} Price Acknowledgement(s); answer: {_describe_answer(answer)}", rule=CONTROL_RULE)


def _describe_answer(answer) -> str:
    if answer is None:
        return "no answer"
    if answer.default_response is not None:
        named = "?" if answer.answered_command is None else f"0x{answer.answered_command:02X}"
        return f"Default Response {answer.default_response.name} naming command {named}"
    return f"cluster command 0x{answer.cluster_command:02X}"


@when(parsers.re(r"the ESI publishes price (?P<event_id>\d+) of 1 minute that (?P<when>ended just over the PIXIT "
                 r"tolerance ago|ends just over the PIXIT tolerance from now), (?P<asking>asking|without asking) for "
                 r"acknowledgement"), converters={"event_id": int})
def publish_at_expiry(bench, testbed, event_id, when, asking):
    # The boundary of "has ended": the end lies the tolerance and a second before (expired) or after (still runs)
    # the network time of publication.
    margin = int(_tolerance(bench)) + 1
    end = _now(testbed) + (-margin if when.startswith("ended") else margin)
    _publish_window(bench, testbed, event_id, end - 60, 1, ack=asking == "asking")


@when(parsers.parse("the ESI publishes price {event_id:d} starting {minutes:d} minute before the end of price "
                    "{other:d} for {duration:d} minutes, asking for acknowledgement"))
def publish_before_end(bench, testbed, event_id, minutes, other, duration):
    _, end = _window(testbed, other)
    _publish_window(bench, testbed, event_id, end - minutes * 60, duration)


@when(parsers.parse("the ESI publishes price {event_id:d} starting at the end of price {other:d} for {duration:d} "
                    "minutes, asking for acknowledgement"))
def publish_at_end(bench, testbed, event_id, other, duration):
    _, end = _window(testbed, other)
    _publish_window(bench, testbed, event_id, end, duration)


@when(parsers.parse("the ESI publishes price {event_id:d} for the {minutes:d} minutes before the start of price "
                    "{other:d}, asking for acknowledgement"))
def publish_until_start(bench, testbed, event_id, minutes, other):
    start, _ = _window(testbed, other)
    _publish_window(bench, testbed, event_id, start - minutes * 60, minutes)


@when(parsers.re(r"the ESI publishes price (?P<event_id>\d+) starting now for (?P<minutes>\d+) minutes?, asking for "
                 r"acknowledgement"), converters={"event_id": int, "minutes": int})
def publish_window(bench, testbed, event_id, minutes):
    _publish_window(bench, testbed, event_id, START_NOW, minutes)


@when(parsers.parse("the ESI publishes price {event_id:d} starting now until changed, asking for acknowledgement"))
def publish_now_window(bench, testbed, event_id):
    """The shared step (steps/conftest.py), noting the window for this feature's boundaries."""
    _publish_window(bench, testbed, event_id, START_NOW, UNTIL_CHANGED)


@when(parsers.re(r"the (?P<moment>start|end) of price (?P<event_id>\d+) has passed(?P<more> by a minute)?"),
      converters={"event_id": int})
def price_moment_passed(bench, testbed, moment, event_id, more):
    start, end = _window(testbed, event_id)
    due = start if moment == "start" else end
    if due is None:
        raise ValueError(f"price {event_id} has no end: it lasts until changed")
    due += 60 if more else _tolerance(bench)
    bench.run(bench.clock.sleep(max(0.0, due - testbed.golden.esi_time()), f"the {moment} of price {event_id}"))


@then(parsers.parse("the DUT answers price {event_id:d} with a Default Response {status}"))
def answers_with_status(bench, testbed, event_id, status):
    expected = Status[status]
    answer = _answers(testbed).get(event_id)
    window = testbed.notes.get("price_windows", {}).get(event_id)
    why = {Status.SUCCESS: "a price it takes without acknowledgement",
           Status.DUPLICATE_EXISTS: "an IssuerEventID it already holds",
           Status.FAILURE: "a price that has ended or is older than one it overlaps"}.get(expected, "")
    check(answer is not None and answer.default_response == expected
          and answer.answered_command == Price.ClientCommandDefs.publish_price.id,
          expected=f"a Default Response {expected.name} naming Publish Price (0x00) within {_response_time(bench):g} s "
                   f"({why}" + (f"; window {window}" if window else "") + ")",
          observed=_describe_answer(answer), rule=REFUSAL_RULE)


@when(parsers.parse("the ESI publishes price {event_id:d} starting now until changed in the {layout} layout, asking "
                    "for acknowledgement"))
def publish_layout(bench, testbed, event_id, layout):
    se12, trailing = LAYOUTS[layout]
    price = PriceEvent(event_id, price=1000 + event_id, price_control=ACK_REQUIRED, se12_fields=se12,
                       trailing=trailing)
    testbed.notes["layout"] = layout
    _publish_for_answer(bench, testbed, price)


@given(parsers.parse("the ESI has a current price {current:d} until changed and prices {first:d} and {second:d} "
                     "scheduled after it, each asking for acknowledgement"))
def scheduled_prices(bench, testbed, current, first, second):
    now = _now(testbed)
    for event_id, start in ((current, START_NOW), (first, now + 3600), (second, now + 7200)):
        testbed.golden.price.add_price(PriceEvent(event_id, price=1000 + event_id, start_time=start,
                                                  duration_minutes=UNTIL_CHANGED if start == START_NOW else 60,
                                                  price_control=ACK_REQUIRED))


@then("the DUT sends Get Scheduled Prices to the ESI within the PIXIT application start time")
def asks_scheduled_prices(bench, testbed):
    timeout = bench.pixit_seconds("app_start_time", 10)
    since = key_ready_at(testbed)
    log = testbed.golden.price.scheduled_requests
    try:
        testbed.notes["scheduled_request"] = bench.run(log.wait(
            lambda r: True, max(0.0, since + timeout - bench.clock.monotonic()), "Get Scheduled Prices"))
    except DeadlineExceeded:
        check(False, expected=f"Get Scheduled Prices from the DUT within {timeout:g} s of key establishment",
              observed="no Get Scheduled Prices", rule=SCHEDULED_RULE + "; PICS SE.PRICE.C.C01.Tx")


@then("its StartTime is not after the network time it was sent at")
def scheduled_start_time(bench, testbed):
    request = testbed.notes["scheduled_request"]
    tolerance = _tolerance(bench)
    arrival = request.arrival + testbed.golden.time_server.offset
    check(request.start_time <= arrival + tolerance,
          expected=f"StartTime at or before the network time {arrival:.1f} at arrival (+{tolerance:g} s): the earliest "
                   "end time of the prices asked for, so the running price is among them",
          observed=f"StartTime {request.start_time} ({request.start_time - arrival:+.1f} s), NumberOfEvents "
                   f"{request.number_of_events}, answered with prices {list(request.issuer_event_ids)}",
          rule=SCHEDULED_RULE)


@then("the DUT acknowledges every price the ESI answered it with within the PIXIT response time")
def acknowledges_scheduled(bench, testbed):
    request = testbed.notes["scheduled_request"]
    check(bool(request.issuer_event_ids), expected="the ESI answered Get Scheduled Prices with its prices",
          observed=f"no price ended after StartTime {request.start_time} (NumberOfEvents {request.number_of_events})",
          rule=SCHEDULED_RULE)
    bench.run(bench.clock.sleep(_response_time(bench)))
    prices = {p.issuer_event_id: p for p in testbed.golden.price.prices}
    missing = [e for e in request.issuer_event_ids if not testbed.golden.price.acknowledged(e)]
    check(not missing, expected=f"a Price Acknowledgement of each of prices {list(request.issuer_event_ids)} "
                                "(each asks for one; one the DUT already took may be answered DUPLICATE_EXISTS instead "
                                "if it acknowledged it before)",
          observed=f"none for {missing}", rule=SCHEDULED_RULE + "; " + ACK_RULE)
    for event_id in request.issuer_event_ids:
        _judge_acknowledgement(bench, testbed, testbed.golden.price.acknowledged(event_id)[0], prices[event_id])


# -- block pricing (TC-PRICE-1.12) -----------------------------------------------------------------------------

@when(parsers.parse("the ESI publishes price {event_id:d} starting now until changed at tier {tier:d} of {tiers:d} "
                    "with {thresholds:d} block thresholds, asking for acknowledgement"))
def publish_block_price(bench, testbed, event_id, tier, tiers, thresholds):
    """A tiered price with block thresholds: PriceTier and RegisterTier *tier* of NumberOfPriceTiers *tiers*."""
    price = PriceEvent(event_id, price=1000 + event_id, price_tier=tier, number_of_price_tiers=tiers,
                       register_tier=tier, number_of_block_thresholds=thresholds, price_control=ACK_REQUIRED)
    _publish_for_answer(bench, testbed, price)


# -- the current price the DUT shows (TC-PRICE-1.13) -----------------------------------------------------------

SHOWN_RULE = ("SE 1.x Annex D.4.2.4.1 (Publish Price: StartTime is when the price becomes valid, DurationInMinutes "
              "how long after it the price is valid; the newer IssuerEventID takes priority over the prices it "
              "overlaps); reference client behaviour (Silicon Labs price-client: nested and overlapping prices are "
              "not kept, a price in force that a newer one starts after ends at the newer one's start, any other "
              "overlapped older price is dropped)")
TIME_RULE = "SE 1.x: a device runs on the ESI's network time (Time cluster 0x000A); PIXIT timing_tolerance"


@dataclass
class _Held:
    """A price as a conformant DUT holds it: over [start, end) of network time (end None: until changed)."""

    issuer_event_id: int
    price: int
    start: int
    end: int | None

    def covers(self, second: int) -> bool:
        return self.start <= second and (self.end is None or second < self.end)

    def overlaps(self, start: int, end: int | None) -> bool:
        return (end is None or self.start < end) and (self.end is None or start < self.end)


def _held(testbed) -> list[_Held]:
    return testbed.notes.setdefault("price_held", [])


def _take(testbed, price: PriceEvent, start: int, end: int | None, now: int) -> None:
    """What a conformant DUT holds once it has been sent *price* at network time *now* (SHOWN_RULE; the refusals
    of WINDOW_RULE: an ended price, a known IssuerEventID, a price older than one it overlaps)."""
    held = _held(testbed)
    event_id = price.issuer_event_id
    if (end is not None and end <= now) or any(p.issuer_event_id == event_id for p in held):
        return
    kept = []
    for old in held:
        if not old.overlaps(start, end):
            kept.append(old)
        elif old.issuer_event_id > event_id:
            return
        elif old.covers(now) and now < start:
            kept.append(dataclasses.replace(old, end=start))
    held[:] = [*kept, _Held(event_id, price.price, start, end)]


def _shown_at(testbed, second: int) -> _Held | None:
    """The price a conformant DUT shows as current in network second *second*."""
    return next((p for p in _held(testbed) if p.covers(second)), None)


@given("the DUT's control interface shows its current price")
def shows_current_price(testbed):
    if not testbed.dut.reads_current_price:
        pytest.skip("not applicable: the DUT's control interface shows no current price (control.commands."
                    "read_current_price)")


@when(parsers.parse("the ESI publishes price {event_id:d} starting in {minutes:d} minutes for {duration:d} minutes, "
                    "without asking for acknowledgement"))
def publish_later_unasked(bench, testbed, event_id, minutes, duration):
    _publish_window(bench, testbed, event_id, _now(testbed) + minutes * 60, duration, ack=False)


@when(parsers.parse("the ESI publishes price {event_id:d} starting {minutes:d} minutes after the start of price "
                    "{other:d} for {duration:d} minutes, without asking for acknowledgement"))
def publish_after_start_unasked(bench, testbed, event_id, minutes, other, duration):
    start, _ = _window(testbed, other)
    _publish_window(bench, testbed, event_id, start + minutes * 60, duration, ack=False)


@when(parsers.parse("the ESI publishes price {event_id:d} starting now until changed, without asking for "
                    "acknowledgement"))
def publish_now_unasked(bench, testbed, event_id):
    _publish_window(bench, testbed, event_id, START_NOW, UNTIL_CHANGED, ack=False)


#: The second of a price's window each moment of TC-PRICE-1.13 names: (start or end, offset in seconds).
MOMENTS = {"in the second before the start of": ("start", -1), "in the first second of": ("start", 0),
           "in the last second of": ("end", -1), "at the end of": ("end", 0)}


def _read_shown(bench, testbed, second: int) -> list[ShownPrice]:
    """Read the current price the DUT shows until a reading is of its network second *second* (or past it): the
    first one the PIXIT tolerance and a second ahead of the ESI's clock, each next one aimed by the last reading's
    second, so the boundary is read on the DUT's own clock. Every reading is returned, each to be judged."""
    readings: list[ShownPrice] = []
    # Not before the middle of the ESI's next half second: a reading just taken need not be taken again.
    aim = max(second - int(_tolerance(bench)) - 1, math.floor(testbed.golden.esi_time() + 0.5))
    while True:
        wait = aim + 0.5 - testbed.golden.esi_time()
        bench.run(bench.clock.sleep(max(0.0, wait), f"network second {aim}"))
        shown = bench.run(testbed.dut.read_current_price(), 30, "reading the price the DUT shows")
        esi = testbed.golden.esi_time()
        readings.append(shown)
        check(abs(shown.at - esi) <= _tolerance(bench) + 1,
              expected=f"the DUT's network time at the reading within {_tolerance(bench):g} s (and the second it "
                       f"names) of the ESI's ({esi:.1f})", observed=f"the DUT names second {shown.at} "
                                                                f"({shown.at - esi:+.1f} s)", rule=TIME_RULE)
        if shown.at >= second or len(readings) > 2 * _tolerance(bench) + 4:
            return readings
        aim += second - shown.at


@then(parsers.re(r"the DUT shows (?:no current price|price (?P<shown>\d+) as its current price) (?P<moment>"
                 + "|".join(MOMENTS) + r") price (?P<event_id>\d+)"), converters={"event_id": int})
def shows_price(bench, testbed, shown, moment, event_id):
    edge, offset = MOMENTS[moment]
    start, end = _window(testbed, event_id)
    boundary = start if edge == "start" else end
    if boundary is None:
        raise ValueError(f"price {event_id} has no end: it lasts until changed")
    second = boundary + offset
    stated, model = None if shown is None else int(shown), _shown_at(testbed, second)
    if (model.issuer_event_id if model else None) != stated:  # the feature's words and SHOWN_RULE disagree
        raise ValueError(f"the case expects price {stated} in second {second}, the rules price "
                         f"{model.issuer_event_id if model else None}")
    wrong = []
    for reading in _read_shown(bench, testbed, second):
        expected = _shown_at(testbed, reading.at)
        expected_id = expected.issuer_event_id if expected else None
        if reading.issuer_event_id != expected_id or (expected is not None and reading.price not in (None,
                                                                                                     expected.price)):
            wrong.append(f"second {reading.at}: " + ("no price" if reading.issuer_event_id is None else
                                                     f"price {reading.issuer_event_id}"
                                                     + ("" if reading.price is None else f" (Price {reading.price})"))
                         + f", not {'no price' if expected is None else f'price {expected_id} (Price {expected.price})'}")
    windows = ", ".join(f"{p.issuer_event_id} [{p.start}, {'until changed' if p.end is None else p.end})"
                        for p in _held(testbed))
    check(not wrong, expected=f"{'no current price' if stated is None else f'price {stated} as current'} {moment} "
                              f"price {event_id} (second {second}), and in every second read the price whose window "
                              f"holds it: {windows or 'none held'}",
          observed="; ".join(wrong), rule=SHOWN_RULE)

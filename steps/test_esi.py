"""Steps of features/esi: the golden plays the HAN clients (harness/golden/han_client.py) and judges the DUT's
Time, Price, DRLC and Messaging servers field by field."""

from __future__ import annotations

from pytest_bdd import given, parsers, then, when
from zigpy.zcl.foundation import GeneralCommand, Status

from harness.bdd import certification_cases
from harness.errors import DutRefused
from harness.golden.esi.common import utc_seconds
from harness.golden.golden import ESI_ENDPOINT
from harness.golden.han_client import han_client
from harness.se.clusters import Drlc, Messaging, Price, Time
from harness.se.datamodel import Side
from harness.se.types import (
    DEVICE_CLASS_DEFINED_BITS,
    EVENT_CONTROL_DEFINED_BITS,
    MAX_EVENT_DURATION_MINUTES,
    UNTIL_CHANGED,
    TimeStatus,
)
from harness.verdict import check
from harness.zcl.frame import decode_cluster_command, decode_general

from .conftest import HEX, dut_nwk

certification_cases("../features/esi")

ZCL_TIMEOUT = 10.0
TIME = Time.AttributeDefs
TIME_RULE = "ZCL 07-5123 3.12.2.2 (Time server attributes); SE-FACTS \"Time\""
PRICE_RULE = "SE 1.x Annex D.4.2 (Publish Price and the Price server's commands); SE-FACTS \"Price\""
DRLC_RULE = "SE 1.x Annex D.2.2 (Load Control Event, Get Scheduled Events); SE-FACTS \"DRLC cluster 0x0701\""
MSG_RULE = "SE 1.x Annex D.5 (Display Message, Get Last Message); SE-FACTS \"Messaging\""
#: UnitOfMeasure values (binary 0x00-0x08, BCD 0x80-0x88: kWh, m3, ft3, ccf, US gal, IMP gal, BTU, litres, kPa).
DEFINED_UNITS = frozenset(range(0x00, 0x09)) | frozenset(range(0x80, 0x89))
#: RateLabel: an octet string of at most 11 bytes; a price tier is at most 15 (4 bits), currency ISO 4217 1-999.
MAX_RATE_LABEL, MAX_CURRENCY = 11, 999
#: PriceControl bits 0-1 are defined (acknowledgement required, total tiers exceed 15); MessageControl bits 4-6
#: are reserved.
PRICE_CONTROL_DEFINED_BITS, MESSAGE_CONTROL_RESERVED = 0x03, 0x70
#: TimeStatus bits above MasterZoneDst and Superseding are reserved.
TIME_STATUS_DEFINED_BITS = 0x0F


def _dut(bench, testbed) -> tuple[int, int]:
    return dut_nwk(testbed), bench.dut_profile.endpoint


def _response_time(bench) -> float:
    return bench.pixit_seconds("response_time", 5)


def _clients(bench, testbed):
    return han_client(testbed.golden, bench.clock, ESI_ENDPOINT)


async def _ask(bench, testbed, cluster, request_def, payload, response_def):
    """Send a client command and decode the DUT's response command (a Default Response fails the case)."""
    nwk, endpoint = _dut(bench, testbed)
    _clients(bench, testbed)
    frame = await testbed.golden.engine.command(nwk, endpoint, cluster.cluster_id, request_def.id, payload,
                                                src_ep=ESI_ENDPOINT, response=response_def.id, timeout=ZCL_TIMEOUT)
    if frame.is_general and frame.command_id == GeneralCommand.Default_Response:
        status = Status(decode_general(frame).status)
        raise DutRefused(f"{request_def.name}: Default Response {status.name}", expectation=f"a {response_def.name}",
                         observation=f"Default Response {status.name} (raw {frame.raw.hex()})",
                         rule=f"the ESI answers {request_def.name} with {response_def.name}")
    return decode_cluster_command(frame, response_def)


async def _no_error(bench, testbed, cluster, request_def, payload) -> Status:
    """Send a client command with Disable Default Response clear; the status of the DUT's Default Response."""
    nwk, endpoint = _dut(bench, testbed)
    frame = await testbed.golden.engine.command(nwk, endpoint, cluster.cluster_id, request_def.id, payload,
                                                src_ep=ESI_ENDPOINT, response=None, timeout=_response_time(bench))
    return Status(decode_general(frame).status)


def _check_taken(testbed, what: str) -> None:
    status = testbed.notes["taken"]
    check(status == Status.SUCCESS, expected=f"the {what} taken: Default Response SUCCESS (Disable Default Response "
                                             "was clear)", observed=f"Default Response {status.name}",
          rule="ZCL 07-5123 2.5.12.2 (Default Response); SE 1.x: the ESI takes its clients' reports")


# -- operator actions -------------------------------------------------------------------------------------------

@given("the ESI's operator publishes a price to come")
def operator_publishes(bench, testbed):
    bench.run(testbed.dut.publish_price(), 60, "the ESI's operator publishing a price")


@given(parsers.parse("the ESI's operator issues {count:d} load control events"))
def operator_issues(bench, testbed, count):
    for _ in range(count):
        bench.run(testbed.dut.issue_event(), 60, "the ESI's operator issuing an event")


@given("the ESI's operator displays a message")
def operator_displays(bench, testbed):
    bench.run(testbed.dut.display_message(), 60, "the ESI's operator displaying a message")


# -- Time --------------------------------------------------------------------------------------------------------

def _read_time(bench, testbed, attrs) -> dict[int, int]:
    nwk, endpoint = _dut(bench, testbed)
    ids = [a.id for a in attrs]
    records = bench.run(testbed.golden.engine.read_attributes(nwk, endpoint, Time.cluster_id, ids, src_ep=ESI_ENDPOINT,
                                                              target=Side.SERVER, timeout=ZCL_TIMEOUT))
    testbed.notes["read_at"] = utc_seconds(bench.clock)
    values = {int(r.attrid): int(r.value.value) for r in records if r.status == Status.SUCCESS}
    missing = [f"0x{i:04X}" for i in ids if i not in values]
    check(not missing, expected=f"SUCCESS records for {[f'0x{i:04X}' for i in ids]}", observed=f"missing {missing}",
          rule=TIME_RULE)
    return values


@when("the golden reads the ESI's Time and TimeStatus")
def read_time(bench, testbed):
    testbed.notes["time"] = _read_time(bench, testbed, [TIME.time, TIME.time_status])


@then("Time is within the PIXIT ESI clock tolerance of the bench clock's UTC")
def time_in_tolerance(bench, testbed):
    tolerance = bench.pixit_seconds("esi_clock_tolerance", 10)
    served, bench_utc = testbed.notes["time"][TIME.time.id], testbed.notes["read_at"]
    check(abs(served - bench_utc) <= tolerance,
          expected=f"Time within {tolerance:g} s of the bench's UTC {bench_utc:.0f}",
          observed=f"Time {served} ({served - bench_utc:+.0f} s)", rule=TIME_RULE + ": Time is UTC")


@then("TimeStatus sets the Master, Synchronized and MasterZoneDst bits as the PICS claim")
def status_as_claimed(bench, testbed):
    status = testbed.notes["time"][TIME.time_status.id]
    bits = {"MASTER": TimeStatus.Master, "SYNCHRONIZED": TimeStatus.Synchronized,
            "MASTERZONEDST": TimeStatus.MasterZoneDst}
    wrong = [f"{name} {'claimed' if bench.claims(f'SE.TIME.S.{name}') else 'not claimed'} but bit "
             f"{'clear' if not status & bit else 'set'}" for name, bit in bits.items()
             if bool(status & bit) != bench.claims(f"SE.TIME.S.{name}")]
    check(not wrong, expected="TimeStatus bits 0-2 as SE.TIME.S.MASTER, .SYNCHRONIZED, .MASTERZONEDST claim",
          observed=f"TimeStatus 0x{status:02X}: " + "; ".join(wrong), rule=TIME_RULE + ": TimeStatus")


@then("TimeStatus sets Synchronized only without Master, and no bit above 3")
def status_consistent(testbed):
    status = testbed.notes["time"][TIME.time_status.id]
    both = status & TimeStatus.Master and status & TimeStatus.Synchronized
    check(not both and not status & ~TIME_STATUS_DEFINED_BITS,
          expected="Synchronized (bit 1) 0 when Master (bit 0) is 1; bits 4-7 clear", observed=f"TimeStatus 0x{status:02X}",
          rule=TIME_RULE + ": TimeStatus (\"If the Master bit is 1, the value of this bit is 0\")")


@when("the golden reads the ESI's Time, TimeZone, DST and local time attributes")
def read_zone(bench, testbed):
    testbed.notes["time"] = _read_time(bench, testbed, [TIME.time, TIME.time_zone, TIME.dst_start, TIME.dst_end,
                                                        TIME.dst_shift, TIME.standard_time, TIME.local_time])


#: The longest daylight saving season, and how far its start may lie from the ESI's Time (s): DstStart and DstEnd
#: are one year's season (ZCL Time: "for the current year"), which straddles the new year south of the equator.
ONE_YEAR = 366 * 86_400


@then("TimeZone and DstShift lie within a day and DstStart lies before DstEnd, one season of the current year")
def zone_in_range(testbed):
    v = testbed.notes["time"]
    zone = _signed32(v[TIME.time_zone.id])
    shift = _signed32(v[TIME.dst_shift.id])
    start, end, utc = v[TIME.dst_start.id], v[TIME.dst_end.id], v[TIME.time.id]
    check(abs(zone) <= 86_400 and abs(shift) <= 86_400 and start < end and end - start < ONE_YEAR
          and abs(start - utc) < ONE_YEAR,
          expected="TimeZone and DstShift within +-86400 s; DstStart < DstEnd, less than a year apart, DstStart "
                   "less than a year from Time",
          observed=f"TimeZone {zone}, DstShift {shift}, DstStart {start}, DstEnd {end} "
                   f"({(end - start) / 86_400:.0f} days apart), Time {utc}",
          rule=TIME_RULE + ": DstStart and DstEnd are the daylight saving season of the current year")


def _signed32(value: int) -> int:
    return value - (1 << 32) if value >= 1 << 31 else value


@then("StandardTime is Time plus TimeZone and LocalTime adds DstShift while daylight saving is in force")
def local_time(testbed):
    v = testbed.notes["time"]
    utc, zone, shift = v[TIME.time.id], _signed32(v[TIME.time_zone.id]), _signed32(v[TIME.dst_shift.id])
    in_dst = v[TIME.dst_start.id] <= utc < v[TIME.dst_end.id]
    standard, local = utc + zone, utc + zone + (shift if in_dst else 0)
    # The attributes are read in one request: they may straddle one second.
    check(abs(v[TIME.standard_time.id] - standard) <= 1 and abs(v[TIME.local_time.id] - local) <= 1,
          expected=f"StandardTime {standard}, LocalTime {local} (daylight saving {'in force' if in_dst else 'not in force'})",
          observed=f"StandardTime {v[TIME.standard_time.id]}, LocalTime {v[TIME.local_time.id]}",
          rule=TIME_RULE + ": StandardTime = Time + TimeZone; LocalTime = StandardTime + DstShift during DST")


# -- Price -------------------------------------------------------------------------------------------------------

@when("the golden sends Get Current Price")
def get_current_price(bench, testbed):
    payload = Price.ServerCommandDefs.get_current_price.schema(command_options=0)
    testbed.notes["prices"] = [bench.run(_ask(bench, testbed, Price, Price.ServerCommandDefs.get_current_price,
                                              payload, Price.ClientCommandDefs.publish_price))]
    testbed.notes["current"] = testbed.notes["prices"][0]
    testbed.notes["asked_at"] = utc_seconds(bench.clock)


def _price_problems(bench, price, now: float) -> list[str]:
    tolerance = bench.pixit_seconds("esi_clock_tolerance", 10)
    tier = int(price.price_trailing_digit_and_price_tier) & 0x0F
    tiers = int(price.number_of_price_tiers_and_register_tier) >> 4
    control = getattr(price, "price_control", None)
    problems = [
        *([f"CurrentTime {int(price.current_time)} ({int(price.current_time) - now:+.0f} s)"]
          if abs(int(price.current_time) - now) > tolerance else []),
        *([f"RateLabel of {len(price.rate_label)} bytes"] if len(price.rate_label) > MAX_RATE_LABEL else []),
        *([f"UnitOfMeasure 0x{int(price.unit_of_measure):02X}"] if int(price.unit_of_measure) not in DEFINED_UNITS else []),
        *([f"Currency {int(price.currency)}"] if not 1 <= int(price.currency) <= MAX_CURRENCY else []),
        *([f"PriceTier {tier} beyond NumberOfPriceTiers {tiers}"] if tiers and tier > tiers else []),
        *([f"PriceControl 0x{int(control):02X}"] if control is not None and int(control) & ~PRICE_CONTROL_DEFINED_BITS
          else []),
    ]
    return [f"price {int(price.issuer_event_id)}: {p}" for p in problems]


def _judge_prices(bench, testbed) -> None:
    prices, now = testbed.notes["prices"], testbed.notes["asked_at"]
    problems = [p for price in prices for p in _price_problems(bench, price, now)]
    check(prices and not problems, expected="Publish Price fields in range: CurrentTime the ESI's UTC (within the "
                                            "PIXIT esi_clock_tolerance), RateLabel <= 11 bytes, a defined unit, ISO "
                                            "4217 currency, tier within the tiers, defined PriceControl bits",
          observed="; ".join(problems) or "no Publish Price", rule=PRICE_RULE)


@then("the DUT answers with a Publish Price whose fields are in range")
def price_fields(bench, testbed):
    _judge_prices(bench, testbed)


#: PriceControl bit 0 asks for a Price Acknowledgement; bit 1 says the tiers exceed the 15 that NumberOfPriceTiers
#: can name (SE 1.1 Annex D.4.2.4.1, Table D-100). ExtendedNumberOfPriceTiers 0x00 refers to NumberOfPriceTiers;
#: 0x01 and above name 16 tiers and more.
ACK_REQUIRED_BIT, TOTAL_TIERS_EXCEED_15_BIT = 0x01, 0x02
PRICE_CONTROL_RULE = ("SE 1.1 Annex D.4.2.4.1, Table D-100 (Price Control Field BitMap: bit 0 Price Acknowledgement "
                      "required, bit 1 Total Tiers exceeds the 15 specified in the command); SE 1.2 Publish Price "
                      "ExtendedNumberOfPriceTiers (0x00: refer to NumberOfPriceTiers, 0x01: 16 tiers ...); PICS "
                      "SE.PRICE.S.C02.Rx (the ESI takes Price Acknowledgement)")


def _price_control_problems(bench, price) -> list[str]:
    """The PriceControl bits of *price* whose condition does not hold."""
    control = getattr(price, "price_control", None)
    if control is None:
        return []  # an SE 1.0 layout: no PriceControl to judge
    control = int(control)
    extended = getattr(price, "extended_number_of_price_tiers", None)
    over_15 = extended is not None and int(extended) != 0
    tiers = int(price.number_of_price_tiers_and_register_tier) >> 4
    shown = f"NumberOfPriceTiers {tiers}, " + ("no ExtendedNumberOfPriceTiers" if extended is None
                                                else f"ExtendedNumberOfPriceTiers 0x{int(extended):02X}")
    problems = []
    if control & TOTAL_TIERS_EXCEED_15_BIT and not over_15:
        problems.append(f"bit 1 (Total Tiers exceeds 15) set with {shown}")
    if over_15 and not control & TOTAL_TIERS_EXCEED_15_BIT:
        problems.append(f"bit 1 (Total Tiers exceeds 15) clear with {shown}")
    if control & ACK_REQUIRED_BIT and not bench.claims("SE.PRICE.S.C02.Rx"):
        problems.append("bit 0 (Price Acknowledgement required) set, but the PICS do not claim SE.PRICE.S.C02.Rx "
                        "(the ESI takes no Price Acknowledgement)")
    return [f"price {int(price.issuer_event_id)}: PriceControl 0x{control:02X}: {p}" for p in problems]


@then("its PriceControl sets each bit only where its condition holds")
def price_control_bits(bench, testbed):
    prices = testbed.notes["prices"]
    problems = [p for price in prices for p in _price_control_problems(bench, price)]
    check(prices and not problems, expected="PriceControl bit 1 set exactly when ExtendedNumberOfPriceTiers names more "
                                            "than 15 tiers; bit 0 only by an ESI that takes Price Acknowledgement",
          observed="; ".join(problems) or "no Publish Price", rule=PRICE_CONTROL_RULE)


def _ended(start: int, duration: int, now: float, until_changed: int | None) -> bool:
    return duration != until_changed and (start or now) + 60 * duration <= now


@then("the price answered is in force now")
def price_in_force(bench, testbed):
    price, now = testbed.notes["prices"][0], testbed.notes["asked_at"]
    tolerance = bench.pixit_seconds("timing_tolerance", 2)
    start, duration = int(price.start_time), int(price.duration_in_minutes)
    check(start <= now + tolerance and not _ended(start, duration, now, UNTIL_CHANGED),
          expected=f"a price started by {now:.0f} whose duration has not run out (or 0xFFFF, until changed)",
          observed=f"price {int(price.issuer_event_id)}: StartTime {start}, Duration {duration} min",
          rule=PRICE_RULE + ": Get Current Price answers the price in force")


@when(parsers.parse("the golden sends Get Scheduled Prices from now for {count:d} prices"))
def get_scheduled_prices(bench, testbed, count):
    testbed.notes["prices"] = _ask_scheduled(bench, testbed, Price, Price.ServerCommandDefs.get_scheduled_prices, count)


def _ask_scheduled(bench, testbed, cluster, request, count: int) -> list:
    """Get Scheduled Prices or Events from now for *count* (0: all): the commands the ESI answered with."""
    now = utc_seconds(bench.clock)
    payload = request.schema(start_time=int(now), number_of_events=count)
    testbed.notes.update(asked_at=now, count=count)
    return [r.command for r in _collect(bench, testbed, cluster, request, payload, now)]


def _collect(bench, testbed, cluster, request_def, payload, since: float):
    """Send a request answered by several commands; what the DUT sent in the PIXIT response time."""
    nwk, endpoint = _dut(bench, testbed)
    clients = _clients(bench, testbed)
    before = len(clients.received)  # what arrives from here on answers this request
    bench.run(testbed.golden.engine.send_command(nwk, endpoint, cluster.cluster_id, request_def.id, payload,
                                                 src_ep=ESI_ENDPOINT, general=False, disable_default_response=True))
    bench.run(bench.clock.sleep(_response_time(bench), "the ESI's answers"))
    return [r for r in clients.received.items[before:] if r.source == nwk and r.cluster_id == cluster.cluster_id
            and r.at >= since]


@then("the DUT answers with Publish Price commands whose fields are in range")
def scheduled_price_fields(bench, testbed):
    _judge_prices(bench, testbed)


def _judge_schedule(testbed, items, ident, what: str, rule: str, until_changed: int | None) -> None:
    count, now = testbed.notes["count"], testbed.notes["asked_at"]
    ids = [ident(i) for i in items]
    ended = [ident(i) for i in items if _ended(int(i.start_time), int(i.duration_in_minutes), now, until_changed)]
    # The ESI holds what it had and what its operator just added: at least two for "all" (0).
    enough = len(items) == count if count else len(items) >= 2
    check(enough and len(set(ids)) == len(ids) and not ended,
          expected=(f"{count} {what}" if count else f"every {what[:-1]} held (at least 2)") + ", each once, none ended",
          observed=f"{what} {ids}" + (f"; ended: {ended}" if ended else ""), rule=rule)


@then("it answers with as many prices as asked for, each once, none ended")
def scheduled_prices_count(testbed):
    _judge_schedule(testbed, testbed.notes["prices"], lambda p: int(p.issuer_event_id), "prices",
                    PRICE_RULE + ": Get Scheduled Prices (NumberOfEvents, 0 = all)", UNTIL_CHANGED)


@then("the price in force comes first, as Get Current Price gave it")
def current_first(testbed):
    current, prices = testbed.notes["current"], testbed.notes["prices"]

    def fields(price) -> dict:
        return {k: v for k, v in price.as_dict().items() if k != "current_time"}

    first = prices[0] if prices else None
    check(first is not None and fields(first) == fields(current),
          expected=f"first the price in force: {fields(current)}",
          observed=f"first {fields(first) if first is not None else 'no price'}",
          rule=PRICE_RULE + ": Get Scheduled Prices resends every price ending after StartTime, earliest first")


# -- as time passes: the ESI's answers follow the schedule it announced ----------------------------------------------

def _wait_until(bench, utc: float, what: str) -> None:
    """Let network time pass until *utc* (ZCL UTC seconds): virtual on a simulated bench."""
    bench.run(bench.clock.sleep(max(0.0, utc - utc_seconds(bench.clock)), what))


def _until_changed(item) -> bool:
    return int(item.duration_in_minutes) == UNTIL_CHANGED


@when("network time passes to a minute into the last-starting price the ESI scheduled")
def into_scheduled_price(bench, testbed):
    now = testbed.notes["asked_at"]
    to_come = [p for p in testbed.notes["prices"] if int(p.start_time) > now and not _until_changed(p)]
    check(bool(to_come), expected="a price to come among those Get Scheduled Prices answered, after the operator "
                                  "published one", observed=f"prices {[int(p.issuer_event_id) for p in testbed.notes['prices']]}",
          rule=PRICE_RULE + ": Get Scheduled Prices resends every price ending after StartTime")
    chosen = max(to_come, key=lambda p: int(p.start_time))
    testbed.notes["scheduled"] = chosen
    _wait_until(bench, int(chosen.start_time) + 60, f"a minute into price {int(chosen.issuer_event_id)}")


@then("the price answered is that scheduled price")
def answered_scheduled(bench, testbed):
    chosen, answered = testbed.notes["scheduled"], testbed.notes["current"]
    check(int(answered.issuer_event_id) == int(chosen.issuer_event_id)
          and int(answered.start_time) == int(chosen.start_time),
          expected=f"price {int(chosen.issuer_event_id)} (StartTime {int(chosen.start_time)}, "
                   f"{int(chosen.duration_in_minutes)} min), the latest-starting price in force a minute into it",
          observed=f"price {int(answered.issuer_event_id)}: StartTime {int(answered.start_time)}, "
                   f"Duration {int(answered.duration_in_minutes)} min",
          rule=PRICE_RULE + ": Get Current Price answers the price in force; a price starting later supersedes "
                            "one in force from its StartTime")


#: How far into an until-changed price TC-ESI-2.5 asks first (0xFFFE, the longest finite Duration, in minutes) and
#: then how long after the ESI first answered it: 46 days, past 0xFFFF minutes from any StartTime before then.
LONGEST_FINITE_MINUTES, LATER_DAYS = 0xFFFE, 46


@then("the price answered stands until changed")
def answered_until_changed(testbed):
    price = testbed.notes["current"]
    check(_until_changed(price),
          expected="the price in force, with no price of the ESI's operator in force yet, is the ESI's standing price: "
                   "DurationInMinutes 0xFFFF (until changed), as its PICS claim (SE.PRICE.S.STANDING)",
          observed=f"price {int(price.issuer_event_id)}: StartTime {int(price.start_time)}, "
                   f"Duration {int(price.duration_in_minutes)} min", rule=PRICE_RULE + ": Duration 0xFFFF = until changed")
    # StartTime 0 is "now" (SE 1.x Annex D.4.2.4.1): the price then started when the ESI answered.
    testbed.notes["standing"] = (price, int(price.start_time) or int(testbed.notes["asked_at"]),
                                 testbed.notes["asked_at"])


@when(parsers.parse("network time passes to {minutes:d} minutes into that price"))
def into_standing_price(bench, testbed, minutes):
    price, start, _answered = testbed.notes["standing"]
    _wait_until(bench, start + 60 * minutes, f"{minutes} minutes into price {int(price.issuer_event_id)}")


@when(parsers.parse("network time passes to {days:d} days after the ESI first answered that price"))
def days_after_standing_price(bench, testbed, days):
    price, _start, answered = testbed.notes["standing"]
    _wait_until(bench, answered + 86_400 * days, f"{days} days after price {int(price.issuer_event_id)} was answered")


@then("the price answered is that until-changed price, still until changed")
def still_until_changed(testbed):
    standing, start, _answered = testbed.notes["standing"]
    answered, now = testbed.notes["current"], testbed.notes["asked_at"]
    # The same price: its IssuerEventID, and its StartTime (0, "now", stands for the start given first).
    same = (int(answered.issuer_event_id) == int(standing.issuer_event_id) and _until_changed(answered)
            and int(answered.start_time) in (int(standing.start_time), 0))
    check(same, expected=f"price {int(standing.issuer_event_id)} (StartTime {int(standing.start_time)}, Duration "
                         f"0xFFFF), still the price in force {(now - start) / 60:.0f} minutes after its start: no later "
                         "price supersedes it, and 0xFFFF is no length of time",
          observed=f"price {int(answered.issuer_event_id)}: StartTime {int(answered.start_time)}, "
                   f"Duration {int(answered.duration_in_minutes)} min",
          rule=PRICE_RULE + ": DurationInMinutes 0xFFFF means until changed; Get Current Price answers the price in "
                            "force")


@when("the golden acknowledges the price it was sent")
def acknowledge_price(bench, testbed):
    price = testbed.notes["prices"][0]
    payload = Price.ServerCommandDefs.price_acknowledgement.schema(
        provider_id=int(price.provider_id), issuer_event_id=int(price.issuer_event_id),
        price_ack_time=int(utc_seconds(bench.clock)), control=int(getattr(price, "price_control", 0) or 0))
    testbed.notes["taken"] = bench.run(_no_error(bench, testbed, Price, Price.ServerCommandDefs.price_acknowledgement,
                                                 payload))


@then("the DUT answers the acknowledgement with no error status")
def ack_taken(testbed):
    _check_taken(testbed, "Price Acknowledgement")


# -- DRLC --------------------------------------------------------------------------------------------------------

@when(parsers.parse("the golden sends Get Scheduled Events from now for {count:d} events"))
def get_scheduled_events(bench, testbed, count):
    testbed.notes["events"] = _ask_scheduled(bench, testbed, Drlc, Drlc.ServerCommandDefs.get_scheduled_events, count)


def _event_problems(event) -> list[str]:
    problems = [
        *([f"Duration {int(event.duration_in_minutes)} min"] if int(event.duration_in_minutes) > MAX_EVENT_DURATION_MINUTES
          else []),
        *([f"Criticality {int(event.criticality_level)}"] if not 1 <= int(event.criticality_level) <= 0x0F else []),
        *([f"DeviceClass 0x{int(event.device_class):04X}"] if int(event.device_class) & ~DEVICE_CLASS_DEFINED_BITS
          or not int(event.device_class) else []),
        *([f"EventControl 0x{int(event.event_control):02X}"] if int(event.event_control) & ~EVENT_CONTROL_DEFINED_BITS
          else []),
        *([f"DutyCycle {int(event.duty_cycle)}"] if 100 < int(event.duty_cycle) < 0xFF else []),
        *([f"AverageLoadAdjustment {int(event.average_load_adjustment_percentage)}"]
          if not (-100 <= int(event.average_load_adjustment_percentage) <= 100
                  or int(event.average_load_adjustment_percentage) == -128) else []),
    ]
    return [f"event {int(event.issuer_event_id)}: {p}" for p in problems]


@then("the DUT answers with Load Control Events whose fields are in range")
def event_fields(testbed):
    events = testbed.notes["events"]
    problems = [p for event in events for p in _event_problems(event)]
    check(events and not problems, expected="Load Control Event fields in range: Duration <= 1440 min, criticality "
                                            "1-15, device class bits 0-11 (not none), EventControl bits 0-1, duty "
                                            "cycle 0-100 or 0xFF, load adjustment -100..100 or -128",
          observed="; ".join(problems) or "no Load Control Event", rule=DRLC_RULE)


@then("it answers with as many events as asked for, each once, none ended")
def scheduled_events_count(testbed):
    _judge_schedule(testbed, testbed.notes["events"], lambda e: int(e.issuer_event_id), "events",
                    DRLC_RULE + ": Get Scheduled Events (NumberOfEvents, 0 = all)", None)


@when("network time passes to just after the end of the first event the ESI scheduled")
def after_first_event(bench, testbed):
    events = testbed.notes["events"]
    check(bool(events), expected="the events Get Scheduled Events answered", observed="none",
          rule=DRLC_RULE + ": Get Scheduled Events")
    first = min(events, key=lambda e: int(e.start_time))
    start = int(first.start_time) or testbed.notes["asked_at"]
    testbed.notes["schedule"] = list(events)
    # Just past the end by the bench's clock, and by any ESI clock within the PIXIT tolerance of it: an ESI that
    # keeps an event a minute longer than its Duration says still answers it then.
    after = bench.pixit_seconds("esi_clock_tolerance", 10) + 1
    _wait_until(bench, start + 60 * int(first.duration_in_minutes) + after,
                f"{after:g} s after event {int(first.issuer_event_id)} ends")


@then("it answers with no event that has ended by now, and with every event still to end")
def none_ended_all_pending(testbed):
    events, now = testbed.notes["events"], testbed.notes["asked_at"]
    answered = {int(e.issuer_event_id) for e in events}
    ended = sorted(int(e.issuer_event_id) for e in events if _ended(int(e.start_time), int(e.duration_in_minutes), now, None))
    pending = {int(e.issuer_event_id) for e in testbed.notes["schedule"]
               if not _ended(int(e.start_time), int(e.duration_in_minutes), now, None)}
    check(not ended and pending <= answered,
          expected=f"no event ended by now ({now:.0f}), and every event the ESI had scheduled that has not ended: "
                   f"{sorted(pending)}",
          observed=f"events {sorted(answered)}" + (f"; ended: {ended}" if ended else "")
          + (f"; missing: {sorted(pending - answered)}" if pending - answered else ""),
          rule=DRLC_RULE + ": Get Scheduled Events answers the events that end after StartTime, and no other")


@when(parsers.parse("the golden reports status {status:value} for the event it was sent", extra_types=HEX))
def report_status(bench, testbed, status):
    events = testbed.notes["events"]
    check(bool(events), expected="a Load Control Event to report on", observed="none", rule=DRLC_RULE)
    event = events[0]
    payload = Drlc.ServerCommandDefs.report_event_status.schema(
        issuer_event_id=int(event.issuer_event_id), event_status=status, event_status_time=int(utc_seconds(bench.clock)),
        criticality_level_applied=int(event.criticality_level), cooling_temperature_set_point_applied=0x8000,
        heating_temperature_set_point_applied=0x8000, average_load_adjustment_percentage_applied=-128,
        duty_cycle_applied=0xFF, event_control=0, signature_type=0, signature=b"\xff" * 42)
    testbed.notes["taken"] = bench.run(_no_error(bench, testbed, Drlc, Drlc.ServerCommandDefs.report_event_status,
                                                 payload))


@then("the DUT answers the report with no error status")
def report_taken(testbed):
    _check_taken(testbed, "Report Event Status")


# -- Messaging ---------------------------------------------------------------------------------------------------

@when("the golden sends Get Last Message")
def get_last_message(bench, testbed):
    testbed.notes["message"] = bench.run(_ask(bench, testbed, Messaging, Messaging.ServerCommandDefs.get_last_message,
                                              b"", Messaging.ClientCommandDefs.display_message))


@then("the DUT answers with a Display Message whose fields are in range")
def message_fields(testbed):
    message = testbed.notes["message"]
    control = int(message.message_control)
    check(not control & MESSAGE_CONTROL_RESERVED,
          expected="MessageControl with the reserved bits 4-6 clear",
          observed=f"message {int(message.message_id)}: MessageControl 0x{control:02X}, text {str(message.message)!r}",
          rule=MSG_RULE)


@when("the golden confirms the message it was sent")
def confirm_message(bench, testbed):
    message = testbed.notes["message"]
    payload = Messaging.ServerCommandDefs.message_confirmation.schema(
        message_id=int(message.message_id), confirmation_time=int(utc_seconds(bench.clock)))
    testbed.notes["taken"] = bench.run(_no_error(bench, testbed, Messaging,
                                                 Messaging.ServerCommandDefs.message_confirmation, payload))


@then("the DUT answers the confirmation with no error status")
def confirmation_taken(testbed):
    _check_taken(testbed, "Message Confirmation")

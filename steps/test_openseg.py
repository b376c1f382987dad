"""Steps of features/openseg: the OpenSEG gateway's meter reads (golden meter access log), its consumer API
(docs/openseg-api.md) and its Green Button export, judged from the golden side and the home network."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from pytest_bdd import given, parsers, then, when

from harness.bdd import certification_cases
from harness.errors import BenchFault, MalformedDutFrame
from harness.golden.esi.drlc import load_control_event
from harness.golden.esi.messaging import Message
from harness.golden.esi.price import PriceEvent
from harness.openseg import greenbutton as gb
from harness.openseg.api import FILTERED, JSON, RESOURCES, is_error_body
from harness.openseg.client import ApiClientError, OpenSegClient
from harness.se.clusters import Basic, Drlc, KeyEstablishment, Messaging, Metering, Price, Time
from harness.se.datamodel import load_datamodel
from harness.se.metering import MeterFormatting
from harness.verdict import check
from harness.zcl import ZclError

from .conftest import dut_nwk, key_ready_at

certification_cases("../features/openseg")

ALLOWED_CLUSTERS = {c.cluster_id: load_datamodel().cluster(c.cluster_id).name
                    for c in (Basic, Time, Metering, KeyEstablishment)}
UTILITY_CLUSTERS = {c.cluster_id for c in (Price, Drlc, Messaging)}
SUMMATION, DEMAND = Metering.AttributeDefs.current_summation_delivered.id, Metering.AttributeDefs.instantaneous_demand.id
EVENT_ID = 0x0E5E_7001
PRICE_ID = 0x0E5E_7002
PRICE_VALUE = 987_654
MESSAGE_ID = 0x0E5E_7003
MESSAGE_TEXT = "UTILITY-CONTROL-7003"
METERING_RESOURCES = ("meter", "demand", "summation", "readings", "greenbutton")
RULE_API = "docs/openseg-api.md (OpenSEG consumer API profile); LBNL-182358"


def _interval(bench) -> float:
    return bench.pixit_seconds("meter_read_interval", 4.0)


def _tolerance(bench) -> float:
    return bench.pixit_seconds("meter_read_tolerance", 2.0)


def _clients(testbed) -> tuple[OpenSegClient, OpenSegClient]:
    return testbed.notes["openseg_home"], testbed.notes["openseg_foreign"]


def _run_api(bench, coroutine, what: str):
    """An API exchange; a gateway that does not answer at all is judged, not a bench error."""
    try:
        return bench.run(coroutine, bench.pixit_seconds("api_latency", 1.0) + 30, what)
    except (ApiClientError, TimeoutError) as exc:
        check(False, expected=f"the gateway answers {what}", observed=str(exc), rule=RULE_API)


def _range(bench, seconds: int) -> dict[str, int]:
    now = int(bench.clock.now().timestamp())
    return {"start": now - seconds, "end": now}


def _dut_accesses(testbed, since: float = 0.0):
    return testbed.golden.meter.accesses_from(dut_nwk(testbed), since)


def _metering_reads(testbed):
    """What the meter served the DUT, oldest first: answers to its reads and the reports it configured."""
    return testbed.golden.meter.served_to(dut_nwk(testbed))


# -- Given / When ------------------------------------------------------------------------------------------

@given("the DUT serves the OpenSEG consumer API")
def serves_api(bench, testbed):
    api = bench.dut_profile.openseg
    if api is None:
        pytest.skip("not applicable: the DUT profile has no openseg section (not an OpenSEG gateway)")
    base_url = api.base_url
    if base_url.endswith(":0") and testbed.device is not None and hasattr(testbed.device, "wait_api"):
        # The simulated gateway binds a free port; a vendor's gateway has a fixed one in its profile.
        base_url = bench.run(testbed.device.wait_api(), 10, "the reference gateway's API to listen")
    testbed.notes["openseg_home"] = OpenSegClient(base_url, dict(api.paths), source=api.home_client)
    testbed.notes["openseg_foreign"] = OpenSegClient(base_url, dict(api.paths), source=api.foreign_client)


@when(parsers.re(r"(?P<count>\d+) (?P<unit>minute|minutes|hour|hours) of network time pass(es)?"))
def time_passes(bench, testbed, count, unit):
    seconds = int(count) * (3600 if unit.startswith("hour") else 60)
    testbed.notes["waited_from"] = bench.clock.monotonic()
    bench.run(bench.clock.sleep(seconds))


@when("the utility sends the DUT a Load Control Event, a Publish Price and a Display Message")
def utility_sends(bench, testbed):
    from harness.devices.clients import Peer

    golden = testbed.golden
    dut = Peer(dut_nwk(testbed), bench.dut_profile.endpoint)

    async def send() -> list[str]:
        answers = []
        for what, command in (
            ("Load Control Event", lambda: golden.drlc.issue_event(dut, load_control_event(EVENT_ID, duration_minutes=30))),
            ("Publish Price", lambda: golden.price.publish(dut, PriceEvent(PRICE_ID, PRICE_VALUE))),
            ("Display Message", lambda: golden.messaging.display(dut, Message(MESSAGE_ID, MESSAGE_TEXT))),
        ):
            try:
                await command()
            except (BenchFault, MalformedDutFrame):
                raise  # the bench's own failure (error), or garbage from the gateway (failed)
            except (ZclError, TimeoutError) as exc:
                # A gateway may refuse or ignore utility commands it does not implement: what it passes on to
                # the home network is judged by the next steps, not how it answered.
                answers.append(f"{what}: {exc}")
        return answers

    testbed.notes["utility_answers"] = bench.run(send(), 60, "the utility's DRLC, Price and Messaging commands")
    testbed.notes["utility_sent_at"] = bench.clock.monotonic()


@when("a home client requests the Green Button export of the last 2 hours")
def request_green_button(bench, testbed):
    home, _ = _clients(testbed)
    span = _range(bench, 2 * 3600)
    testbed.notes["gb_range"] = span
    testbed.notes["gb_response"] = _run_api(bench, home.request("greenbutton", span), "a Green Button export")


@when(parsers.parse("{count:d} home clients request the summation at once, {rounds:d} times {gap:d} seconds apart"))
def burst(bench, testbed, count, rounds, gap):
    home, _ = _clients(testbed)
    testbed.notes["burst_from"] = bench.clock.monotonic()

    async def one_round():
        return await asyncio.gather(*(home.request("summation") for _ in range(count)), return_exceptions=True)

    async def all_rounds():
        results = []
        for _ in range(rounds):
            started = bench.clock.monotonic()
            results.extend(await one_round())
            await bench.clock.sleep(max(0.0, started + gap - bench.clock.monotonic()))
        return results

    testbed.notes["burst_results"] = bench.run(all_rounds(), rounds * gap + 120, "the client burst")
    testbed.notes["burst_to"] = bench.clock.monotonic()
    testbed.notes["burst_to_unix"] = bench.clock.now().timestamp()


# -- Then: the meter's view --------------------------------------------------------------------------------

@then("the DUT read the meter only after key establishment completed")
def reads_after_ke(bench, testbed):
    completed = key_ready_at(testbed)
    reads = [a for a in _dut_accesses(testbed) if a.cluster_id == Metering.cluster_id]
    check(bool(reads), expected="Simple Metering reads from the DUT after it paired",
          observed="no Metering frame from the DUT", rule="LBNL-182358: the gateway reads the meter")
    early = [a for a in reads if a.time < completed]
    check(not early, expected=f"no Metering frame before CBKE completed at t={completed:.1f}s",
          observed=f"{len(early)} before; first: {early[0].describe() if early else ''}",
          rule="SE 1.x 5.4.7: application clusters use the CBKE link key, so reads follow key establishment")


@then("every ZCL frame the DUT sent to the ESI was on Simple Metering, Basic, Time or Key Establishment")
def only_metering(bench, testbed):
    accesses = _dut_accesses(testbed)
    other = [a for a in accesses if a.cluster_id not in ALLOWED_CLUSTERS]
    check(bool(_metering_reads(testbed)) and not other,
          expected="Metering values served (reads or reports), and no frame on any cluster but "
          + ", ".join(ALLOWED_CLUSTERS.values()),
          observed=f"{len(accesses)} frames, {len(_metering_reads(testbed))} Metering values served, {len(other)} on other "
          f"clusters" + (f"; first: {other[0].describe()}" if other else ""),
          rule="LBNL-182358: the gateway implements only the Simple Metering data requests")


@then("the DUT sent the meter no Write Attributes and no cluster command")
def no_write_no_command(bench, testbed):
    metering = [a for a in _dut_accesses(testbed) if a.cluster_id == Metering.cluster_id]
    bad = [a for a in metering if a.is_write or not a.general or a.malformed]
    reads = [a for a in metering if a.is_read]
    check(bool(reads) and not bad, expected="only Read Attributes on the meter's Simple Metering server",
          observed=f"{len(reads)} reads, {len(bad)} writes or commands" + (f"; first: {bad[0].describe()}" if bad else ""),
          rule="LBNL-182358: the gateway reads the meter and never controls it")


# -- Then: utility control stays out ---------------------------------------------------------------------

def _needles() -> dict[str, list[str]]:
    return {"Load Control Event": [str(EVENT_ID), f"{EVENT_ID:08x}", f"{EVENT_ID:08X}",
                                   EVENT_ID.to_bytes(4, "little").hex()],
            "Publish Price": [str(PRICE_ID), str(PRICE_VALUE)],
            "Display Message": [MESSAGE_TEXT, str(MESSAGE_ID)]}


@then("no API resource shows the event, the price or the message")
def nothing_on_api(bench, testbed):
    home, _ = _clients(testbed)
    span = _range(bench, 3600)
    found = []
    for name in (*METERING_RESOURCES, *FILTERED):
        params = span if name in ("readings", "greenbutton") else None
        response = _run_api(bench, home.request(name, params), f"GET {home.path(name)}")
        text = response.body.decode("utf-8", "replace")
        found += [f"{what} in {home.path(name)} (HTTP {response.status})"
                  for what, needles in _needles().items() if any(n in text for n in needles)]
    check(not found, expected="no trace of the utility's DRLC event, price or message on any API resource",
          observed="; ".join(found) or "none", rule="LBNL-182358: no utility command passes to the home network")


@then("the utility-control paths of the API answer 404")
def filtered_404(bench, testbed):
    _answers(bench, testbed, [(name, "GET") for name in FILTERED], 404)


@then("the DUT passed no DRLC, Price or Messaging command on")
def no_relay(bench, testbed):
    commands = [a for a in _dut_accesses(testbed, testbed.notes["utility_sent_at"])
                if a.cluster_id in UTILITY_CLUSTERS and not a.general]
    check(not commands, expected="no DRLC, Price or Messaging cluster command from the DUT",
          observed=f"{len(commands)}" + (f"; first: {commands[0].describe()}" if commands else ""),
          rule="LBNL-182358: the gateway does not relay utility control")


# -- Then: values ---------------------------------------------------------------------------------------------

@then("the meter resource shows the meter's unit, Multiplier, Divisor and formatting")
def meter_resource(bench, testbed):
    home, _ = _clients(testbed)
    response = _run_api(bench, home.request("meter"), "GET meter")
    body = response.json()
    meter = body.get("meter") if isinstance(body, dict) else None
    fmt: MeterFormatting = testbed.golden.meter.formatting
    expected = {"unit_of_measure": fmt.unit_of_measure, "multiplier": fmt.multiplier, "divisor": fmt.divisor,
                "summation_formatting": fmt.summation_formatting, "demand_formatting": fmt.demand_formatting}
    shown = {k: meter.get(k) for k in expected} if isinstance(meter, dict) else None
    check(response.status == 200 and shown == expected, expected=f"HTTP 200 with meter {expected}",
          observed=response.describe(), rule="SE 1.x Simple Metering formatting attributes; " + RULE_API)


def _value_matches(bench, testbed, resource: str, attr_id: int) -> None:
    home, _ = _clients(testbed)
    response = _run_api(bench, home.request(resource), f"GET {resource}")
    body = response.json()
    item = body.get(resource) if isinstance(body, dict) else None
    fmt: MeterFormatting = testbed.golden.meter.formatting
    now = bench.clock.now().timestamp()
    fresh_within = _interval(bench) + _tolerance(bench)
    # What the meter served the DUT lately (bench-clock times in the log; now_mono maps them to now).
    now_mono = bench.clock.monotonic()
    served = [dict(a.served)[attr_id] for a in _metering_reads(testbed)
              if now_mono - a.time <= fresh_within and attr_id in dict(a.served)]
    scale = fmt.summation_value if attr_id == SUMMATION else fmt.demand_value
    ok = response.status == 200 and isinstance(item, dict)
    if ok:
        raw, value, read_at = item.get("raw"), item.get("value"), item.get("read_at")
        ok = (raw in served and isinstance(value, Decimal | int) and Decimal(value) == scale(int(raw))
              and isinstance(read_at, Decimal | int) and now - float(read_at) <= fresh_within)
    check(ok, expected=f"{resource}: a raw value the meter served in the last {fresh_within:g} s, value = raw x "
          f"{fmt.multiplier} / {fmt.divisor} rounded as the formatting says, read_at within {fresh_within:g} s",
          observed=f"{response.describe()}; served lately: {served[-3:]} -> {[str(scale(s)) for s in served[-3:]]}",
          rule="SE 1.x Simple Metering: value = raw x Multiplier / Divisor; LBNL-182358: reads every 4 s")


@then("the summation resource equals a summation the meter served within the read interval plus tolerance")
def summation_value(bench, testbed):
    _value_matches(bench, testbed, "summation", SUMMATION)


@then("the demand resource equals a demand the meter served within the read interval plus tolerance")
def demand_value(bench, testbed):
    _value_matches(bench, testbed, "demand", DEMAND)


# -- Then: the cache ------------------------------------------------------------------------------------------

def _is_number(value) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def _reading_rows(response) -> list[list] | None:
    """The readings of a readings response as [unix time, raw summation] rows; None when the body does not
    have that shape (judged by the caller with what the gateway sent)."""
    body = response.json()
    rows = body.get("readings") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not all(
            isinstance(r, list) and len(r) >= 2 and _is_number(r[0]) and _is_number(r[1]) for r in rows):
        return None
    return rows


def _cached(bench, testbed) -> list[list]:
    home, _ = _clients(testbed)
    if "cache_rows" not in testbed.notes:
        response = _run_api(bench, home.request("readings", _range(bench, 50 * 3600)), "GET readings")
        rows = _reading_rows(response)
        check(response.status == 200 and bool(rows),
              expected="HTTP 200 with the cached readings as [unix time, raw summation] rows",
              observed=response.describe(), rule=RULE_API)
        testbed.notes["cache_rows"] = rows
    return testbed.notes["cache_rows"]


@then("the cached readings of the last 50 hours begin 48 hours ago, within the read interval plus tolerance")
def cache_window(bench, testbed):
    rows = _cached(bench, testbed)
    now = bench.clock.now().timestamp()
    slack = _interval(bench) + _tolerance(bench)
    oldest_age = now - float(rows[0][0])
    check(48 * 3600 - slack <= oldest_age <= 48 * 3600, expected=f"the oldest cached reading 48 h old (up to "
          f"{slack:g} s younger), nothing older", observed=f"oldest {oldest_age / 3600:.4f} h old, {len(rows)} readings",
          rule="LBNL-182358: a 48-hour circular data cache")


@then("no two cached readings are further apart than the read interval plus tolerance")
def cache_no_gaps(bench, testbed):
    rows = _cached(bench, testbed)
    slack = _interval(bench) + _tolerance(bench)
    gaps = [(float(a[0]), float(b[0]) - float(a[0])) for a, b in zip(rows, rows[1:], strict=False)
            if float(b[0]) - float(a[0]) > slack]
    check(not gaps, expected=f"consecutive cached readings at most {slack:g} s apart",
          observed=f"{len(gaps)} gaps" + (f"; first {gaps[0][1]:.1f} s after Unix {gaps[0][0]:.0f}" if gaps else ""),
          rule="LBNL-182358: reads every 4 s into a circular cache")


@then("every cached reading is a value the meter served")
def cache_values(bench, testbed):
    rows = _cached(bench, testbed)
    served = {dict(a.served).get(SUMMATION) for a in _metering_reads(testbed)}
    unknown = [r for r in rows if int(r[1]) not in served]
    check(not unknown, expected="every cached summation is one the meter served the DUT",
          observed=f"{len(unknown)} of {len(rows)} unknown" + (f"; first {unknown[0]}" if unknown else ""),
          rule="docs/openseg-api.md: readings are the meter's raw values")


# -- Then: Green Button --------------------------------------------------------------------------------------

def _feed(testbed) -> gb.GreenButtonFeed:
    response = testbed.notes["gb_response"]
    try:
        return gb.parse_feed(response.body)
    except gb.GreenButtonError as exc:
        check(False, expected="a Green Button feed (an Atom feed of ESPI objects)",
              observed=f"{exc}; {response.describe()}; first bytes {response.body[:64].hex()}",
              rule="NAESB REQ.21 ESPI")


@then("the export is a schema-valid ESPI feed")
def gb_schema(bench, testbed):
    response = testbed.notes["gb_response"]
    problems = gb.schema_problems(response.body) if response.status == 200 else [response.describe()]
    check(not problems, expected="HTTP 200, an Atom feed whose ESPI objects validate against espi.xsd",
          observed="; ".join(problems[:3]) or "valid", rule="NAESB REQ.21 ESPI schema (espi.xsd)")


@then("its interval times are Unix seconds inside the requested range")
def gb_times(bench, testbed):
    span = testbed.notes["gb_range"]
    problems = gb.time_problems(_feed(testbed), span["start"], span["end"])
    check(not problems, expected=f"contiguous intervals in Unix seconds within {span['start']}..{span['end']}",
          observed="; ".join(problems) or "ok", rule="NAESB REQ.21 ESPI: times are Unix seconds (1970 epoch)")


@then("its ReadingType is energy in Wh, as deltas, with an ESPI power of ten")
def gb_units(bench, testbed):
    problems = gb.unit_problems(_feed(testbed))
    check(not problems, expected="uom 72 (Wh), kind 12, accumulationBehaviour 4, a UnitMultiplierKind power",
          observed="; ".join(problems) or "ok", rule="NAESB REQ.21 ESPI ReadingType codes")


@then("its interval values add up to the meter's summation delta over the intervals")
def gb_sum(bench, testbed):
    feed = _feed(testbed)
    readings = feed.readings
    check(bool(readings), expected="IntervalReadings in the Green Button export",
          observed=f"{len(feed.blocks)} IntervalBlocks without IntervalReading", rule="NAESB REQ.21 ESPI")
    meter = testbed.golden.meter
    first, last = readings[0].start, readings[-1].start + readings[-1].duration
    true_wh = meter.formatting.scaled(meter.summation_raw(last) - meter.summation_raw(first)) * 1000
    # The gateway sums what it read: each end may lag the interval boundary by one read interval plus tolerance.
    lag = int(_interval(bench) + _tolerance(bench))
    slack = Decimal(sum(max(meter.demand_watts(edge - s) for s in range(lag + 1)) for edge in (first, last))) * lag / 3600
    exported = feed.energy_wh()
    check(abs(exported - true_wh) <= slack + 1, expected=f"the intervals sum to the meter's {true_wh} Wh "
          f"(+/- {slack:.1f} Wh for read timing)", observed=f"{exported} Wh over {len(readings)} intervals",
          rule="NAESB REQ.21 ESPI: deltaData intervals of the summation; SE 1.x Multiplier/Divisor")


# -- Then: the API's errors ----------------------------------------------------------------------------------

def _answers(bench, testbed, requests: list[tuple[str, str]], status: int, client: str = "home") -> None:
    home, foreign = _clients(testbed)
    source = home if client == "home" else foreign
    wrong = []
    for name, method in requests:
        params = _range(bench, 600) if name in ("readings", "greenbutton") else None
        response = _run_api(bench, source.request(name, params, method), f"{method} {source.path(name)}")
        if response.status != status or response.content_type != JSON or not is_error_body(response.json(), status):
            wrong.append(f"{method} {source.path(name)}: {response.describe()}")
    check(not wrong, expected=f"HTTP {status} with the JSON error body for {len(requests)} requests from the "
          f"{client} client", observed="; ".join(wrong[:3]) or "all as expected", rule=RULE_API)


@then("every metering resource answers a foreign client 403 with a JSON error body")
def foreign_403(bench, testbed):
    _answers(bench, testbed, [(name, "GET") for name in METERING_RESOURCES], 403, client="foreign")


@then("a readings request with a malformed time range is answered 400 with a JSON error body")
def malformed_400(bench, testbed):
    home, _ = _clients(testbed)
    wrong = []
    for params in ({"start": "yesterday", "end": "now"}, {"start": "100"}, {"start": "200", "end": "100"}):
        response = _run_api(bench, home.request("readings", params), "a malformed readings request")
        if response.status != 400 or not is_error_body(response.json(), 400):
            wrong.append(f"{params}: {response.describe()}")
    check(not wrong, expected="HTTP 400 with the JSON error body", observed="; ".join(wrong) or "ok", rule=RULE_API)


@then("a request line that is not HTTP is answered 400")
def garbage_400(bench, testbed):
    home, _ = _clients(testbed)
    response = _run_api(bench, home.raw(b"\x16\x03\x01 NOT HTTP AT ALL\r\n\r\n"), "a request that is not HTTP")
    check(response.status == 400, expected="HTTP 400", observed=response.describe() or "no answer", rule=RULE_API)


@then("a request with an oversized header is answered with a 4xx status")
def oversized_4xx(bench, testbed):
    home, _ = _clients(testbed)
    request = (f"GET {home.path('summation')} HTTP/1.1\r\nHost: gateway\r\nX-Filler: {'A' * 65536}\r\n\r\n").encode()
    response = _run_api(bench, home.raw(request), "a request with a 64 KiB header")
    check(400 <= response.status < 500, expected="HTTP 400, 413 or 431", observed=response.describe() or "no answer",
          rule=RULE_API)


@then("the summation resource is still served afterwards")
def still_served(bench, testbed):
    home, _ = _clients(testbed)
    try:
        response = bench.run(home.request("summation"), 30, "GET summation after malformed requests")
        observed = response.describe()
        ok = response.status == 200
    except (ApiClientError, TimeoutError) as exc:
        observed, ok = str(exc), False
    check(ok, expected="HTTP 200 for the next well-formed request", observed=observed,
          rule="LBNL-182358 / " + RULE_API + ": malformed requests must not stop the gateway")


@then("unknown paths and the utility-control paths answer 404 with a JSON error body")
def unknown_404(bench, testbed):
    _answers(bench, testbed, [("/", "GET"), ("/api/v1/nothing-here", "GET"), ("/api/v1/meter/../price", "GET"),
                              *((name, "GET") for name in FILTERED)], 404)


@then("POST and DELETE on the metering resources answer 405 with a JSON error body")
def methods_405(bench, testbed):
    _answers(bench, testbed, [(name, method) for name in RESOURCES for method in ("POST", "DELETE")], 405)


@then("every client was answered 200")
def burst_ok(bench, testbed):
    results = testbed.notes["burst_results"]
    bad = [r if isinstance(r, Exception) else r.describe() for r in results
           if isinstance(r, Exception) or r.status != 200]
    check(not bad, expected=f"HTTP 200 for all {len(results)} requests", observed=f"{len(bad)} not: {bad[:2]}",
          rule=RULE_API)


@then("the DUT took in the meter's readings at the read interval plus tolerance throughout the burst")
def burst_reads(bench, testbed):
    slack = _interval(bench) + _tolerance(bench)
    # The readings the DUT cached from one read interval before the burst until it ended (no network time has
    # passed since): a gateway whose API holds up its meter traffic shows a gap here.
    end = testbed.notes["burst_to_unix"]
    start = end - (testbed.notes["burst_to"] - testbed.notes["burst_from"]) - slack
    home, _ = _clients(testbed)
    response = _run_api(bench, home.request("readings", {"start": int(start) - 1, "end": int(end) + 1}),
                        "GET readings of the burst")
    rows = _reading_rows(response)
    times = [float(r[0]) for r in rows] if response.status == 200 and rows is not None else []
    window = [t for t in times if start <= t <= end]
    edges = [max([t for t in times if t < start], default=start), *window]
    gaps = [b - a for a, b in zip(edges, edges[1:], strict=False) if b - a > slack]
    if window and end - window[-1] > slack:
        gaps.append(end - window[-1])
    check(bool(window) and not gaps, expected=f"a cached meter reading at least every {slack:g} s during the burst",
          observed=f"{response.describe() if not times else ''}{len(window)} readings; "
          f"gaps {[round(g, 1) for g in gaps[:3]]}",
          rule="LBNL-182358: the meter's data every 4 s, whatever the home network asks")

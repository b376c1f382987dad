"""Steps of features/openseg: the OpenSEG gateway's meter reads (golden meter access log), its role on the HAN
(beacons, what it sends on the air), its consumer API (docs/openseg-api.md) and its Green Button export, judged
from the golden side and the home network.

Every response a case sees is judged whole, by one judge per resource (_latest_problems, _meter_problems,
_readings_problems, _feed_problems): its status and content type, and each field of its body against what the
meter served the DUT (the golden meter's log, in bench time). A judge returns what is wrong, never raises; a
body that is not what the profile says is a finding with what the gateway sent.
"""

from __future__ import annotations

import asyncio
import bisect
import math
from decimal import Decimal
from typing import Any

import pytest
import zigpy.types as t
from pytest_bdd import given, parsers, then, when
from zigpy.zdo.types import LogicalType, ZDOCmd

from harness.bdd import certification_cases
from harness.errors import BenchFault, MalformedDutFrame
from harness.golden.esi.drlc import load_control_event
from harness.golden.esi.messaging import Message
from harness.golden.esi.price import PriceEvent
from harness.ke import KeEventKind
from harness.ke.faults import GoldenKeFaults
from harness.ke.frames import KeCommand
from harness.openseg import greenbutton as gb
from harness.openseg.api import (
    API_LATENCY,
    ATOM_XML,
    BODY_TIMEOUT,
    CACHE_HOURS,
    FILTERED,
    GREEN_BUTTON_INTERVAL,
    HEAD_TIMEOUT,
    JSON,
    MAX_BODY,
    MAX_HEAD,
    MAX_RANGE_SECONDS,
    READ_INTERVAL,
    READ_TOLERANCE,
    RESOURCES,
    SERVED_BODY,
    SERVED_HEAD,
    is_error_body,
)
from harness.openseg.client import ApiClientError, ApiResponse, OpenSegClient
from harness.se.clusters import Basic, Drlc, KeyEstablishment, Messaging, Metering, Price, Time
from harness.se.datamodel import Side, load_datamodel
from harness.se.metering import MeterFormatting
from harness.se.types import KeyEstablishmentStatus
from harness.verdict import check
from harness.wire.frames.aps import ApsFrameType
from harness.wire.frames.mac import MacFrameType
from harness.zcl import ZclError
from harness.zcl.store import AttributeKey

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
ESI_NWK = 0x0000  # the golden ESI is the Trust Center, the coordinator
ZDO_PROFILE = 0x0000
RULE_API = "docs/openseg-api.md (OpenSEG consumer API profile); LBNL-182358"
RULE_LIMITS = "docs/openseg-api.md \"Profile rules\" (request sizes); RFC 9110 15.5.14, RFC 6585 5: 413 and 431"
RULE_SLOW = "docs/openseg-api.md \"Profile rules\" (request-head timeout); RFC 9110 15.5.9: 408"
#: Digits 0-9 of other scripts, which a time parameter may carry instead of ASCII's (Python's str.isdigit takes
#: all of them, int() all but the superscripts): a time written in them is a well-formed range to such a parser.
UNICODE_DIGITS = {"superscript": "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079",
                  "Arabic-Indic": "".join(map(chr, range(0x0660, 0x066A))),
                  "Extended Arabic-Indic": "".join(map(chr, range(0x06F0, 0x06FA))),
                  "Devanagari": "".join(map(chr, range(0x0966, 0x0970))),
                  "fullwidth": "".join(map(chr, range(0xFF10, 0xFF1A))),
                  "mathematical bold": "".join(map(chr, range(0x1D7CE, 0x1D7D8)))}
SLOW_LINE_EVERY = 1.0  # seconds between the slow clients' header lines


def _interval(bench) -> float:
    return bench.pixit_seconds("meter_read_interval", READ_INTERVAL)


def _tolerance(bench) -> float:
    return bench.pixit_seconds("meter_read_tolerance", READ_TOLERANCE)


def _latency(bench) -> float:
    return bench.pixit_seconds("api_latency", API_LATENCY)


def _clients(testbed) -> tuple[OpenSegClient, OpenSegClient]:
    return testbed.notes["openseg_home"], testbed.notes["openseg_foreign"]


def _run_api(bench, coroutine, what: str):
    """An API exchange; a gateway that does not answer at all is judged, not a bench error."""
    try:
        return bench.run(coroutine, _latency(bench) + 30, what)
    except (ApiClientError, TimeoutError) as exc:
        check(False, expected=f"the gateway answers {what}", observed=str(exc), rule=RULE_API)


def _now(bench) -> float:
    return bench.clock.now().timestamp()


def _range(bench, seconds: int) -> dict[str, int]:
    now = int(_now(bench))
    return {"start": now - seconds, "end": now}


def _dut_accesses(testbed, since: float = 0.0):
    return testbed.golden.meter.accesses_from(dut_nwk(testbed), since)


def _metering_reads(testbed):
    """What the meter served the DUT, oldest first: answers to its reads and the reports it configured."""
    return testbed.golden.meter.served_to(dut_nwk(testbed))


def _is_number(value) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _cut(items: list[str], limit: int = 3) -> str:
    return "; ".join(items[:limit]) + (f"; and {len(items) - limit} more" if len(items) > limit else "")


class _MeterLog:
    """What the golden meter served the DUT, in Unix time (the bench clock), to judge what the API shows."""

    def __init__(self, bench, testbed) -> None:
        offset = _now(bench) - bench.clock.monotonic()
        services = _metering_reads(testbed)
        self.times = [s.time + offset for s in services]
        self.served = [s.served for s in services]  # ((attribute id, raw), ...) of each service
        self._first: dict[tuple[int, int], float] = {}
        for time, served in zip(self.times, self.served, strict=True):
            for pair in served:
                self._first.setdefault(pair, time)

    def first_served(self, attr: int, raw: int) -> float | None:
        """When the meter first served *raw* for *attr* (None: never)."""
        return self._first.get((attr, raw))

    def served_near(self, values: dict[int, int], moment: float, slack: float) -> bool:
        """Whether the meter served all of *values* together within *slack* seconds of *moment*."""
        pairs = tuple(values.items())
        for index in range(bisect.bisect_left(self.times, moment - slack), len(self.times)):
            if self.times[index] > moment + slack:
                return False
            served = self.served[index]
            if all(pair in served for pair in pairs):
                return True
        return False

    def times_of(self, attr: int, raw: int, since: float) -> list[float]:
        start = bisect.bisect_left(self.times, since)
        return [self.times[i] for i in range(start, len(self.times)) if (attr, raw) in self.served[i]]


# -- Judges: every field of a response, against the profile and what the meter served -----------------------

def _json_object(response: ApiResponse, key: str) -> tuple[dict | None, list[str]]:
    """The body's *key* object of a 200 JSON answer, else None with what is wrong."""
    if response.status != 200 or response.content_type != JSON:
        return None, [f"expected HTTP 200 {JSON}, got {response.describe()}"]
    body = response.json()
    item = body.get(key) if isinstance(body, dict) else None
    if not isinstance(item, dict):
        return None, [f"no {key!r} object in {response.describe()}"]
    return item, []


def _latest_problems(bench, testbed, resource: str, response: ApiResponse, log: _MeterLog) -> list[str]:
    """The summation or demand resource: the profile's fields, a raw value the meter served, value = raw x
    Multiplier / Divisor rounded as the formatting says, the unit, and a read_at neither before the meter first
    served that value nor after now (the moment of the reading is judged by _fresh_problems)."""
    item, problems = _json_object(response, resource)
    if item is None:
        return problems
    attr, unit = (SUMMATION, "kWh") if resource == "summation" else (DEMAND, "kW")
    fmt: MeterFormatting = testbed.golden.meter.formatting
    scale = fmt.summation_value if resource == "summation" else fmt.demand_value
    raw, value, shown_unit, read_at = (item.get(k) for k in ("raw", "value", "unit", "read_at"))
    first = log.first_served(attr, raw) if _is_int(raw) else None
    if first is None:
        problems.append(f"{resource} raw {raw!r} is no value the meter served the DUT")
    elif not _is_number(value) or Decimal(value) != scale(raw):
        problems.append(f"{resource} value {value!r}, but raw {raw} x {fmt.multiplier} / {fmt.divisor} rounded to the "
                        f"formatting's digits is {scale(raw)}")
    if shown_unit != unit:
        problems.append(f"{resource} unit {shown_unit!r}, expected {unit!r}")
    tolerance = _tolerance(bench)
    if not _is_number(read_at):
        problems.append(f"{resource} read_at {read_at!r} is not Unix seconds")
    elif first is not None and not first - tolerance <= float(read_at) <= _now(bench) + tolerance:
        problems.append(f"{resource} read_at {read_at} is before the meter first served raw {raw} (Unix "
                        f"{first:.3f}) or after now ({_now(bench):.3f})")
    return problems


def _fresh_problems(bench, resource: str, response: ApiResponse, log: _MeterLog) -> list[str]:
    """The value shown is the meter's newest (served within the read interval plus tolerance) and read_at is
    when the meter served it (within the tolerance), not when the API answered."""
    item, problems = _json_object(response, resource)
    if item is None:
        return problems
    attr = SUMMATION if resource == "summation" else DEMAND
    raw, read_at = item.get("raw"), item.get("read_at")
    if not _is_int(raw) or not _is_number(read_at):
        return [f"{resource} raw {raw!r} or read_at {read_at!r} is not a number"]
    now, fresh, tolerance = _now(bench), _interval(bench) + _tolerance(bench), _tolerance(bench)
    served = log.times_of(attr, raw, now - fresh - tolerance)
    if not [s for s in served if now - s <= fresh]:
        problems.append(f"{resource} raw {raw} was not served by the meter in the last {fresh:g} s")
    if not [s for s in served if abs(float(read_at) - s) <= tolerance]:
        problems.append(f"{resource} read_at {read_at} is {now - float(read_at):.1f} s ago, but the meter served raw "
                        f"{raw} at {', '.join(f'{now - s:.1f} s ago' for s in served[-3:]) or 'no time lately'}")
    elif now - float(read_at) > fresh:
        problems.append(f"{resource} read_at {read_at} is {now - float(read_at):.1f} s old, more than {fresh:g} s")
    return problems


def _meter_problems(testbed, response: ApiResponse) -> list[str]:
    """The meter resource: every field equals the golden meter's attribute (IEEE of the ESI, big-endian)."""
    item, problems = _json_object(response, "meter")
    if item is None:
        return problems
    meter = testbed.golden.meter
    fmt: MeterFormatting = meter.formatting
    store = testbed.golden.engine.store

    def attribute(attr_id: int):
        entry = store.entry(AttributeKey(meter.endpoint, Metering.cluster_id, Side.SERVER, attr_id))
        return None if entry is None else int(entry.value)

    expected = {"ieee": str(testbed.app.state.node_info.ieee).upper(), "unit_of_measure": fmt.unit_of_measure,
                "multiplier": fmt.multiplier, "divisor": fmt.divisor,
                "summation_formatting": fmt.summation_formatting, "demand_formatting": fmt.demand_formatting,
                "metering_device_type": attribute(Metering.AttributeDefs.metering_device_type.id),
                "status": attribute(Metering.AttributeDefs.status.id)}
    shown = {k: item.get(k) for k in expected}
    if isinstance(shown["ieee"], str):
        shown["ieee"] = shown["ieee"].upper()
    return [f"meter {k} {shown[k]!r}, expected {v!r}" for k, v in expected.items() if shown[k] != v]


def _readings_problems(bench, response: ApiResponse, start: int, end: int, log: _MeterLog, *, values: bool = True
                       ) -> tuple[list[list], list[str]]:
    """The readings resource: start and end as asked, the read interval, and rows [time, summation, demand]
    in time order, each inside [start, end] and (*values*) served together by the meter at that time."""
    if response.status != 200 or response.content_type != JSON:
        return [], [f"expected HTTP 200 {JSON}, got {response.describe()}"]
    body = response.json()
    if not isinstance(body, dict) or not isinstance(body.get("readings"), list):
        return [], [f"no readings list in {response.describe()}"]
    problems = [f"{k} {body.get(k)!r}, expected {v!r}" for k, v in (("start", start), ("end", end))
                if body.get(k) != v]
    interval = body.get("interval")
    if not _is_number(interval) or Decimal(interval) != Decimal(str(_interval(bench))):
        problems.append(f"interval {interval!r}, expected the read interval {_interval(bench):g}")
    rows = body["readings"]
    malformed = [r for r in rows if not (isinstance(r, list) and len(r) == 3 and _is_number(r[0])
                                         and _is_int(r[1]) and _is_int(r[2]))]
    if malformed:
        return [], [*problems, f"{len(malformed)} rows are not [time, summation, demand]: first {malformed[0]}"]
    outside = [r for r in rows if not start <= r[0] <= end]
    if outside:
        problems.append(f"{len(outside)} rows outside {start}..{end}, first {outside[0]}")
    disorder = [b for a, b in zip(rows, rows[1:], strict=False) if b[0] <= a[0]]
    if disorder:
        problems.append(f"rows not in time order: {disorder[0]} after an equal or later one")
    rows = [[float(r[0]), r[1], r[2]] for r in rows]
    return rows, problems + (_unserved(bench, rows, log) if values else [])


def _unserved(bench, rows: list[list], log: _MeterLog) -> list[str]:
    """Rows whose summation and demand the meter did not serve together within the tolerance of their time."""
    tolerance = _tolerance(bench)
    unknown = [r for r in rows if not log.served_near({SUMMATION: r[1], DEMAND: r[2]},
                                                      r[0], tolerance)]
    return [f"{len(unknown)} of {len(rows)} rows are no summation and demand the meter served within "
            f"{tolerance:g} s of their time; first {unknown[0]}"] if unknown else []


def _feed(response: ApiResponse) -> tuple[gb.GreenButtonFeed | None, list[str]]:
    if response.status != 200 or response.content_type != ATOM_XML:
        return None, [f"expected HTTP 200 {ATOM_XML}, got {response.describe()}"]
    problems = gb.schema_problems(response.body)
    try:
        return gb.parse_feed(response.body), problems
    except gb.GreenButtonError as exc:
        return None, [*problems, f"{exc}; first bytes {response.body[:64]!r}"]


def _feed_problems(response: ApiResponse, start: int, end: int, *, readings: bool | None) -> list[str]:
    """A Green Button answer: schema-valid ESPI, the ESI's LocalTimeParameters, Wh deltas, times inside the range
    (*readings*: intervals expected, none expected, or either)."""
    feed, problems = _feed(response)
    if feed is None:
        return problems
    problems += gb.local_time_problems(feed, gb.UTC_LOCAL_TIME) + gb.unit_problems(feed)
    if readings is not None or feed.readings:
        problems += gb.time_problems(feed, start, end, expect_readings=readings is not False)
    return problems


def _resource_problems(bench, testbed, name: str, response: ApiResponse, span: dict[str, int],
                       log: _MeterLog) -> list[str]:
    if name == "meter":
        return _meter_problems(testbed, response)
    if name in ("summation", "demand"):
        return _latest_problems(bench, testbed, name, response, log)
    if name == "readings":
        return _readings_problems(bench, response, span["start"], span["end"], log)[1]
    return _feed_problems(response, span["start"], span["end"], readings=None)


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


#: The wait the golden's Terminate asks for before the gateway tries key establishment again (s).
KE_REFUSAL_WAIT = 30


@given("the ESI refuses every key establishment with the DUT, its certificate's issuer unknown")
def ke_refused(bench, testbed):
    testbed.golden.ke.faults = GoldenKeFaults(terminate_on=KeCommand.INITIATE,
                                              terminate_status=KeyEstablishmentStatus.Unknown_Issuer,
                                              terminate_wait=KE_REFUSAL_WAIT)


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

    testbed.notes["utility_sent_from"] = bench.clock.monotonic()
    testbed.notes["utility_answers"] = bench.run(send(), 60, "the utility's DRLC, Price and Messaging commands")
    testbed.notes["utility_sent_at"] = bench.clock.monotonic()


@when(parsers.parse("a home client requests the Green Button export of the last {hours:d} hours"))
def request_green_button(bench, testbed, hours):
    home, _ = _clients(testbed)
    span = _range(bench, hours * 3600)
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
    testbed.notes["burst_to_unix"] = _now(bench)


@when(parsers.parse("{count:d} home clients request the summation at once"))
def burst_at_once(bench, testbed, count):
    home, _ = _clients(testbed)
    deadline = 60.0
    testbed.notes["burst_results"] = bench.run(home.burst(count, "summation", deadline), deadline + 30,
                                               f"{count} concurrent requests")


@when(parsers.parse("the Trust Center permits joining for {seconds:d} seconds"))
def trust_center_permits(bench, testbed, seconds):
    bench.run(testbed.app.permit(seconds), 10, "the Trust Center's permit-joining broadcast")


@when("the golden radio scans the channel for beacons")
def scan_beacons(bench, testbed):
    async def scan():
        channels = t.Channels.from_channel_list([bench.bench_profile.channel])
        return [beacon async for beacon in testbed.app.network_scan(channels, 3)]

    testbed.notes["beacons"] = bench.run(scan(), 30, "an active scan of the channel")


@when(parsers.parse("the DUT's power is cut for {minutes:d} minutes"))
def power_cycle(bench, testbed, minutes):
    home, _ = _clients(testbed)
    span = _range(bench, 3600)
    response = _run_api(bench, home.request("readings", span), "GET readings before the power cut")
    rows, problems = _readings_problems(bench, response, span["start"], span["end"], _MeterLog(bench, testbed))
    check(not problems and bool(rows), expected="the cached readings before the power cut",
          observed=_cut(problems) or "no readings", rule=RULE_API)
    testbed.notes["rows_before_cut"] = rows
    testbed.notes["power_off_at"] = _now(bench)
    bench.run(testbed.dut.power_off(), 60, "cutting the DUT's power")
    bench.run(bench.clock.sleep(minutes * 60))
    testbed.notes["power_on_at"] = _now(bench)
    bench.run(testbed.dut.power_on(), 60, "giving the DUT its power back")


@when(parsers.parse("two home clients send a summation request's head one line a second, one completing it after "
                    "{seconds:d} seconds"))
def slow_clients(bench, testbed, seconds):
    home, _ = _clients(testbed)
    head = home.head("summation")[:-2]  # all but the empty line that ends it
    watch = HEAD_TIMEOUT + _latency(bench) + 10

    async def both():
        return await asyncio.gather(home.slow(head, SLOW_LINE_EVERY, float(seconds), watch),
                                    home.slow(head, SLOW_LINE_EVERY, None, watch))

    testbed.notes["slow_completing"], testbed.notes["slow_never"] = _run_api(bench, both(), "two slow clients")
    testbed.notes["slow_complete_after"] = seconds


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


@then("the DUT completed no key establishment and sent the meter no Simple Metering frame")
def no_reads_without_key(bench, testbed):
    completed = [e for e in testbed.golden.ke.events if e.kind is KeEventKind.COMPLETED]
    check(not completed, expected="no completed key establishment (the ESI refused every one)",
          observed=f"completed: {completed[0]}" if completed else "none completed",
          rule="scenario precondition: the golden ESI terminates every key establishment")
    reads = [a for a in _dut_accesses(testbed) if a.cluster_id == Metering.cluster_id]
    check(not reads, expected="no Simple Metering frame from the DUT: it holds no CBKE link key with the ESI",
          observed=f"{len(reads)} frames; first: {reads[0].describe()}" if reads else "none",
          rule="SE 1.x 5.4.7: application clusters use the CBKE link key; LBNL-182358: the gateway reads the meter "
               "only once paired by CBKE")


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


# -- Then: the gateway's role on the HAN -----------------------------------------------------------------------

def _dut_beacons(bench, testbed) -> list:
    nwk = dut_nwk(testbed)
    pan = bench.bench_profile.pan_id
    # A radio that names each beacon's source (the simulated one) shows the DUT's own; one that does not
    # (EZSP) shows every beacon of the bench's PAN, where the DUT is the only other node.
    return [b for b in testbed.notes["beacons"] if int(b.pan_id) == pan and (b.src is None or int(b.src) == nwk)]


@then("the DUT answered the scan with a beacon if it is a router")
def router_beacons(bench, testbed):
    nwk = dut_nwk(testbed)
    try:
        answer = bench.run(testbed.golden.zdo_request(nwk, ZDOCmd.Node_Desc_req, [t.NWK(nwk)], 10.0), 30,
                           "the DUT's node descriptor")
        descriptor = answer.as_dict().get("NodeDescriptor")
        logical = getattr(descriptor, "logical_type", None)
    except TimeoutError as exc:
        check(False, expected="a Node_Desc_rsp from the DUT", observed=str(exc), rule="Zigbee 2.4.3.1.3")
    router = logical in (LogicalType.Router, LogicalType.Coordinator)
    beacons = _dut_beacons(bench, testbed)
    check(not router or bool(beacons), expected="a beacon from the DUT, a router, in answer to the Beacon Request",
          observed=f"logical type {logical!r}; {len(testbed.notes['beacons'])} beacons, none from the DUT",
          rule="IEEE 802.15.4 7.5.2.1.2 / Zigbee 3.6.1.3: a router answers a Beacon Request with its beacon")
    testbed.notes["dut_is_router"] = router


@then("no beacon of the DUT permits association")
def no_join_permitted(bench, testbed):
    beacons = _dut_beacons(bench, testbed)
    permitting = [b for b in beacons if b.permit_joining]
    check(not permitting, expected="every beacon of the DUT with Association Permit = 0, though the Trust Center "
          "permits joining", observed=f"{len(permitting)} of {len(beacons)} beacons permit association"
          + (f"; first {permitting[0]}" if permitting else ""),
          rule="LBNL-182358: the gateway is the only HAN device paired with the meter; docs/openseg-api.md "
               "\"Profile rules\": it permits no joins (it does not act on Mgmt_Permit_Joining_req)")


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
    found, answers = [], {}
    for name in (*METERING_RESOURCES, *FILTERED):
        params = span if name in ("readings", "greenbutton") else None
        response = answers[name] = _run_api(bench, home.request(name, params), f"GET {home.path(name)}")
        text = response.body.decode("utf-8", "replace")
        found += [f"{what} in {home.path(name)} (HTTP {response.status})"
                  for what, needles in _needles().items() if any(n in text for n in needles)]
    log = _MeterLog(bench, testbed)  # what the meter served until the last answer
    wrong = [p for name in METERING_RESOURCES for p in _resource_problems(bench, testbed, name, answers[name], span, log)]
    check(not found, expected="no trace of the utility's DRLC event, price or message on any API resource",
          observed="; ".join(found) or "none", rule="LBNL-182358: no utility command passes to the home network")
    check(not wrong, expected="each metering resource answers what the profile says", observed=_cut(wrong),
          rule=RULE_API)


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


@then("the DUT sent nothing to the HAN but to the ESI and the network's own ZDO and NWK traffic")
def nothing_to_the_han(bench, testbed):
    nwk = dut_nwk(testbed)
    since = testbed.notes["utility_sent_from"]
    relayed = []
    for frame in testbed.observed():
        if frame.timestamp < since or frame.mac is None or frame.mac.frame_type != MacFrameType.DATA:
            continue
        if frame.mac.src_addr != nwk or frame.nwk is None:
            continue
        if frame.nwk.src != nwk:
            relayed.append(f"a frame of 0x{frame.nwk.src:04X} forwarded: {frame.describe()}")
        elif frame.aps is not None and frame.aps.frame_type == ApsFrameType.DATA and frame.aps.profile != ZDO_PROFILE \
                and frame.nwk.dst != ESI_NWK:
            relayed.append(frame.describe())
    check(not relayed, expected="every application frame of the DUT addressed to the ESI (0x0000); nothing "
          "forwarded", observed=f"{len(relayed)} to other HAN devices: {_cut(relayed, 2)}" if relayed else "none",
          rule="LBNL-182358: no utility command passes through the gateway to home devices; docs/openseg-api.md "
               "\"Profile rules\": it relays nothing to the HAN")


# -- Then: values ---------------------------------------------------------------------------------------------

@then("the meter resource shows the meter's identity, unit, Multiplier, Divisor, formatting, type and status")
def meter_resource(bench, testbed):
    home, _ = _clients(testbed)
    response = _run_api(bench, home.request("meter"), "GET meter")
    problems = _meter_problems(testbed, response)
    check(not problems, expected="HTTP 200 with the meter's IEEE, UnitofMeasure, Multiplier, Divisor, "
          "Summation/DemandFormatting, MeteringDeviceType and Status", observed=_cut(problems, 8),
          rule="SE 1.x Simple Metering attributes 0x0200, 0x0300-0x0306; " + RULE_API)


def _value_matches(bench, testbed, resource: str) -> None:
    home, _ = _clients(testbed)
    response = _run_api(bench, home.request(resource), f"GET {resource}")
    log = _MeterLog(bench, testbed)
    problems = _latest_problems(bench, testbed, resource, response, log) + _fresh_problems(bench, resource,
                                                                                            response, log)
    fresh = _interval(bench) + _tolerance(bench)
    check(not problems, expected=f"{resource}: a raw value the meter served in the last {fresh:g} s, value = raw x "
          f"Multiplier / Divisor rounded as the formatting says, read_at when the meter served it",
          observed=f"{_cut(problems)}; {response.describe()}",
          rule="SE 1.x Simple Metering: value = raw x Multiplier / Divisor; LBNL-182358: reads every 4 s")


@then("the summation resource equals a summation the meter served within the read interval plus tolerance")
def summation_value(bench, testbed):
    _value_matches(bench, testbed, "summation")


@then("the demand resource equals a demand the meter served within the read interval plus tolerance")
def demand_value(bench, testbed):
    _value_matches(bench, testbed, "demand")


@then("over one read interval every summation and demand shown is the newest the meter served, at its read_at")
def fresh_over_an_interval(bench, testbed):
    home, _ = _clients(testbed)
    step = _interval(bench) / 8
    problems = []
    for sample in range(10):  # every phase of one read interval, and a little more
        for resource in ("summation", "demand"):
            response = _run_api(bench, home.request(resource), f"GET {resource}")
            log = _MeterLog(bench, testbed)
            problems += [f"sample {sample} ({sample * step:.1f} s): {p}"
                         for p in _latest_problems(bench, testbed, resource, response, log)
                         + _fresh_problems(bench, resource, response, log)]
        bench.run(bench.clock.sleep(step))
    fresh = _interval(bench) + _tolerance(bench)
    check(not problems, expected=f"at every moment, values the meter served in the last {fresh:g} s, each with "
          f"read_at the moment the meter served it (within {_tolerance(bench):g} s)", observed=_cut(problems),
          rule="docs/openseg-api.md \"Profile rules\": read_at is the meter's reading time, and the newest reading "
               "is at most one read interval (plus tolerance) old; LBNL-182358: the meter's data every 4 s")


# -- Reports in other layouts, and malformed ones ------------------------------------------------------------

STATUS = Metering.AttributeDefs.status.id
RECEIVED = Metering.AttributeDefs.current_summation_received.id
#: ZCL's "unknown" data type (0xFF): it gives no value size, so no record after it can be read.
UNKNOWN_DATA_TYPE = 0xFF
#: The energy the meter has received (exported), far from any summation it delivered, and a demand while exporting.
RECEIVED_RAW = 4_321
EXPORT_DEMAND = -1_234
RULE_REPORTS = ("ZCL 07-5123 2.4.11.1: a Report Attributes frame is attribute records, each its id, data type and "
                "value, in any order; docs/openseg-api.md \"Profile rules\": the API serves what the meter measured")


def _record(attr_id: int, raw: int) -> bytes:
    """One attribute record of a Report Attributes frame, typed from the data model."""
    model = load_datamodel().cluster(Metering.cluster_id).attribute(Side.SERVER, attr_id)
    assert model is not None and model.size is not None, f"the data model lacks Metering 0x{attr_id:04X}"
    return attr_id.to_bytes(2, "little") + bytes([model.type_id]) + raw.to_bytes(model.size, "little",
                                                                                 signed=model.signed)


Served = tuple[tuple[int, int], ...]


def _report_variants(summation: int, demand: int) -> list[tuple[str, bytes, Served | None]]:
    """(what it is, its records, the live values it carries: None when it is malformed) for the meter's values
    now."""
    summation_record = _record(SUMMATION, summation)
    both = ((SUMMATION, summation), (DEMAND, demand))
    return [
        ("demand before summation", _record(DEMAND, demand) + summation_record, both),
        (f"demand {EXPORT_DEMAND:,} (exporting) before summation", _record(DEMAND, EXPORT_DEMAND) + summation_record,
         ((SUMMATION, summation), (DEMAND, EXPORT_DEMAND))),
        ("summation, Status and demand", summation_record + _record(STATUS, 0) + _record(DEMAND, demand), both),
        # 15 bytes of a uint48 record then an int24 one, as the usual report, but no CurrentSummationDelivered.
        ("CurrentSummationReceived then demand", _record(RECEIVED, RECEIVED_RAW) + _record(DEMAND, demand),
         ((RECEIVED, RECEIVED_RAW), (DEMAND, demand))),
        ("demand, then a summation cut after 2 of its 6 value bytes", _record(DEMAND, demand) + summation_record[:5],
         None),
        ("a summation alone, cut after 4 of its 6 value bytes", summation_record[:7], None),
        ("a summation of the unknown data type 0xFF, then demand",
         summation_record[:2] + bytes([UNKNOWN_DATA_TYPE]) + summation_record[3:] + _record(DEMAND, demand), None),
        ("no attribute record at all", b"", None),
    ]


def _reading_of(served: Served | None) -> tuple[int, int] | None:
    """The reading a report carrying *served* is: its summation delivered and demand (None: it is no reading)."""
    values = dict(served or ())
    return (values[SUMMATION], values[DEMAND]) if SUMMATION in values and DEMAND in values else None


def _send_between_reports(bench, testbed, variants) -> None:
    """Send the DUT each of *variants* (called with the meter's summation and demand now: what it is, its
    records, and the live values it carries, None when malformed), each halfway between two of the meter's own
    reports, and note them for the Then steps."""
    meter, dut = testbed.golden.meter, dut_nwk(testbed)
    interval = _interval(bench)
    reports = [s.time for s in meter.served_to(dut) if s.report]
    check(bool(reports), expected="the DUT configured the meter's reports, so the meter reports to it",
          observed="no report sent to the DUT yet", rule=RULE_REPORTS)
    sent = []
    for variant in variants:
        # Halfway between two of the meter's own reports (every read interval from the last one), so each
        # reading belongs to one frame.
        now = bench.clock.monotonic()
        halfway = reports[-1] + interval / 2 + interval * max(0, math.ceil((now - reports[-1] - interval / 2) / interval))
        bench.run(bench.clock.sleep(halfway - now))
        what, records, served = variant(meter.summation_raw(), meter.demand_raw())
        sent.append((_now(bench), what, served is not None, _reading_of(served)))
        meter.send_report_records(dut, records, served)
        bench.run(bench.clock.sleep(interval / 4))
    testbed.notes["unusual_reports"] = sent


def _layout_variant(index: int):
    def variant(summation: int, demand: int):
        return _report_variants(summation, demand)[index]
    return variant


@when("the meter sends the DUT, between its own reports, reports in other legal layouts and malformed reports")
def unusual_reports(bench, testbed):
    _send_between_reports(bench, testbed, [_layout_variant(i) for i in range(len(_report_variants(0, 0)))])


#: InstantaneousDemand is int24 and CurrentSummationDelivered uint48 (SE 1.x Simple Metering); ZCL keeps
#: 0x800000 and all ones as their invalid values, so the legal limits are one short of them.
INT24_MAX, UINT48_MAX_LEGAL = (1 << 23) - 1, (1 << 48) - 2
RULE_VALUE_RANGES = ("SE 1.x Simple Metering: InstantaneousDemand (0x0400) is int24, CurrentSummationDelivered "
                     "(0x0000) uint48; ZCL 07-5123 2.5.2: every value of the type but its invalid value is legal; "
                     "docs/openseg-api.md \"Profile rules\": the API serves what the meter measured")


def _limit_variant(what: str, summation: int | None, demand: int | None):
    """The meter's usual report (summation, then demand) with *summation* or *demand* in place of its own."""
    def variant(own_summation: int, own_demand: int):
        values = (own_summation if summation is None else summation, own_demand if demand is None else demand)
        served = ((SUMMATION, values[0]), (DEMAND, values[1]))
        return what, _record(SUMMATION, values[0]) + _record(DEMAND, values[1]), served
    return variant


@when("the meter sends the DUT, between its own reports, usual reports of demands and a summation at their types' "
      "limits")
def limit_reports(bench, testbed):
    _send_between_reports(bench, testbed, [
        _limit_variant("demand 32,768 (one above a 16-bit integer's range)", None, 0x8000),
        _limit_variant("demand -32,769 (one below a 16-bit integer's range)", None, -0x8001),
        _limit_variant(f"demand {INT24_MAX:,} (int24's largest)", None, INT24_MAX),
        _limit_variant(f"demand -{INT24_MAX:,} (int24's smallest legal)", None, -INT24_MAX),
        _limit_variant(f"summation {UINT48_MAX_LEGAL:,} (uint48's largest legal)", UINT48_MAX_LEGAL, None),
    ])


def _readings_since_unusual(bench, testbed, *, values: bool) -> tuple[list[list], list[str], int]:
    first = math.floor(testbed.notes["unusual_reports"][0][0])
    end = int(_now(bench))
    home, _ = _clients(testbed)
    response = _run_api(bench, home.request("readings", {"start": first, "end": end}), "GET readings since the reports")
    rows, problems = _readings_problems(bench, response, first, end, _MeterLog(bench, testbed), values=values)
    return rows, problems, first


def _own_reading_time(bench) -> float:
    """How long after a report of the meter's the gateway's reading of it may be timed: the read tolerance, but
    before the meter's next own report, half a read interval later (which may carry the same values)."""
    return min(_tolerance(bench), _interval(bench) / 2)


def _each_legal_report_read(bench, testbed, which: str, rule: str) -> None:
    rows, problems, _ = _readings_since_unusual(bench, testbed, values=False)
    tolerance = _own_reading_time(bench)
    missing = [f"{what} at Unix {time:.1f} (summation {reading[0]}, demand {reading[1]})"
               for time, what, _legal, reading in testbed.notes["unusual_reports"] if reading is not None
               and not any(time <= row[0] < time + tolerance and row[1:] == list(reading) for row in rows)]
    check(not problems and not missing,
          expected=f"a reading within {tolerance:g} s of each {which}, with its values",
          observed=_cut(problems) or f"no such reading for: {'; '.join(missing)}", rule=rule)


@then("each report in another legal layout is a reading at its time with its summation and demand")
def legal_layouts_read(bench, testbed):
    _each_legal_report_read(bench, testbed, "report in another legal layout", RULE_REPORTS)


@then("each of those reports is a reading at its time with exactly its summation and demand")
def limit_values_read(bench, testbed):
    _each_legal_report_read(bench, testbed, "report of a value at its type's limit", RULE_VALUE_RANGES)


@then("every reading since the first of those reports is a summation and demand the meter served together")
def no_malformed_readings(bench, testbed):
    rows, problems, first = _readings_since_unusual(bench, testbed, values=True)
    malformed = [f"{what} at Unix {time:.1f}" for time, what, legal, _reading in testbed.notes["unusual_reports"]
                 if not legal]
    check(not problems and bool(rows),
          expected=f"readings since Unix {first}, each a summation and demand the meter served together at its "
          f"time, none from the malformed reports ({'; '.join(malformed)})",
          observed=_cut(problems) or "no reading at all", rule=RULE_REPORTS)


@then("no reading is timed at a malformed report, nor at one without CurrentSummationDelivered")
def no_reading_of_unread_reports(bench, testbed):
    rows, problems, _ = _readings_since_unusual(bench, testbed, values=False)
    tolerance = _own_reading_time(bench)
    taken = [f"{what} at Unix {time:.1f}: reading {row}" for time, what, _legal, reading
             in testbed.notes["unusual_reports"] if reading is None
             for row in rows if time <= row[0] < time + tolerance]
    check(not problems and not taken,
          expected=f"no reading within {tolerance:g} s after a malformed report or one that carries no "
          "CurrentSummationDelivered (the meter's own reports come half a read interval before and after each)",
          observed=_cut(problems) or _cut(taken), rule=RULE_REPORTS)


@then("the newest reading is at most one read interval plus tolerance old")
def newest_reading_fresh(bench, testbed):
    rows, problems, _ = _readings_since_unusual(bench, testbed, values=False)
    oldest_allowed = _now(bench) - _interval(bench) - _tolerance(bench)
    check(not problems and bool(rows) and rows[-1][0] >= oldest_allowed,
          expected=f"a reading at or after Unix {oldest_allowed:.1f}: the gateway still takes the meter's reports "
          "after malformed ones", observed=_cut(problems) or (f"newest reading {rows[-1]}" if rows else "no reading"),
          rule="docs/openseg-api.md \"Profile rules\": the newest reading is at most one read interval (plus "
               "tolerance) old")


# -- Then: readings ranges ------------------------------------------------------------------------------------

def _readings(bench, testbed, start: int, end: int, what: str) -> tuple[list[list], list[str], ApiResponse]:
    home, _ = _clients(testbed)
    response = _run_api(bench, home.request("readings", {"start": start, "end": end}), what)
    rows, problems = _readings_problems(bench, response, start, end, _MeterLog(bench, testbed))
    return rows, problems, response


def _whole_cache(bench, testbed) -> list[list]:
    now = int(_now(bench))
    rows, problems, response = _readings(bench, testbed, now - 3 * 3600, now, "GET readings of the last 3 hours")
    check(not problems and len(rows) >= 8, expected="HTTP 200 with the cached readings of the last 3 hours",
          observed=_cut(problems) or f"{len(rows)} readings", rule=RULE_API)
    return rows


@then("a readings range from one cached reading to another returns exactly the readings between, both included")
def range_between(bench, testbed):
    rows = _whole_cache(bench, testbed)
    first, last = rows[len(rows) // 4], rows[3 * len(rows) // 4]
    start, end = math.floor(first[0]), math.ceil(last[0])
    expected = [r for r in rows if start <= r[0] <= end]
    got, problems, response = _readings(bench, testbed, start, end, "GET readings between two cached readings")
    check(not problems and got == expected,
          expected=f"HTTP 200 with exactly the {len(expected)} cached readings from Unix {first[0]} to {last[0]} "
          f"(asked {start}..{end}), none of the readings just outside", observed=_cut(problems) or
          f"{len(got)} readings, from {got[0][0] if got else '-'} to {got[-1][0] if got else '-'}",
          rule="docs/openseg-api.md: readings with start <= time <= end, and no others")


@then("a readings range ending one second before the oldest cached reading returns no reading, with HTTP 200")
def range_before_cache(bench, testbed):
    oldest = _whole_cache(bench, testbed)[0]
    end = math.ceil(oldest[0])
    at_oldest, problems, _ = _readings(bench, testbed, end - 3600, end, "GET readings ending at the oldest")
    check(not problems and at_oldest == [oldest],
          expected=f"HTTP 200 with the oldest cached reading alone (Unix {oldest[0]}) for a range ending at {end}",
          observed=_cut(problems) or f"{len(at_oldest)} readings {at_oldest[:2]}",
          rule="docs/openseg-api.md: readings with start <= time <= end")
    before, problems, response = _readings(bench, testbed, end - 1 - 3600, end - 1, "GET readings before the cache")
    check(not problems and before == [],
          expected=f"HTTP 200 with an empty readings list for a range ending at {end - 1}, before the oldest reading",
          observed=_cut(problems) or f"{len(before)} readings", rule="docs/openseg-api.md \"Profile rules\": a range "
          "outside the cache is answered 200 with no readings")


@then("a Green Button export of a range outside the cache is a schema-valid feed without intervals")
def greenbutton_before_cache(bench, testbed):
    home, _ = _clients(testbed)
    oldest = _whole_cache(bench, testbed)[0]
    end = math.floor(oldest[0]) - 1
    span = {"start": end - 2 * 3600, "end": end}
    response = _run_api(bench, home.request("greenbutton", span), "a Green Button export before the cache")
    problems = _feed_problems(response, span["start"], span["end"], readings=False)
    check(not problems, expected="HTTP 200, an ESPI feed with its UsagePoint, LocalTimeParameters, MeterReading, "
          "ReadingType and an IntervalBlock without IntervalReading", observed=_cut(problems),
          rule="docs/openseg-api.md \"Profile rules\": a range outside the cache is answered 200 with no intervals; "
               "NAESB REQ.21 ESPI")


# -- Then: latency ---------------------------------------------------------------------------------------------

@then("every metering resource, asked 3 times, answers correctly within the PIXIT API latency")
def latency(bench, testbed):
    home, _ = _clients(testbed)
    bound = _latency(bench)
    slow, wrong = [], []
    for name in METERING_RESOURCES:
        for _ in range(3):
            span = _range(bench, 3600)
            params = span if name in ("readings", "greenbutton") else None
            response = _run_api(bench, home.request(name, params), f"GET {home.path(name)}")
            taken = max(response.seconds, response.wall_seconds)
            if taken > bound:
                slow.append(f"{name} in {response.seconds:.3f} s bench time, {response.wall_seconds:.3f} s wall time")
            wrong += _resource_problems(bench, testbed, name, response, span, _MeterLog(bench, testbed))
    observed = [f"{len(slow)} of {3 * len(METERING_RESOURCES)} late: {_cut(slow)}"] if slow else []
    check(not slow and not wrong, expected=f"every answer within {bound:g} s (bench clock and wall clock), each what "
          f"the profile says for its resource", observed="; ".join(observed + ([_cut(wrong)] if wrong else [])),
          rule="docs/openseg-api.md \"Profile rules\": the API answers within 1 s (PIXIT api_latency may tighten); "
               + RULE_API)


# -- Then: the cache ------------------------------------------------------------------------------------------

def _cached(bench, testbed) -> list[list]:
    """The cached readings of the last 50 hours, judged but for their values (cache_values judges those)."""
    if "cache_rows" not in testbed.notes:
        home, _ = _clients(testbed)
        span = _range(bench, 50 * 3600)
        response = _run_api(bench, home.request("readings", span), "GET readings")
        log = _MeterLog(bench, testbed)
        rows, problems = _readings_problems(bench, response, span["start"], span["end"], log, values=False)
        check(bool(rows) and not problems,
              expected=f"HTTP 200 with the cached readings of {span['start']}..{span['end']} as [unix time, raw "
              f"summation, raw demand] rows", observed=_cut(problems) or response.describe(), rule=RULE_API)
        testbed.notes["cache_rows"], testbed.notes["cache_unserved"] = rows, _unserved(bench, rows, log)
    return testbed.notes["cache_rows"]


@then("the cached readings of the last 50 hours begin 48 hours ago, within the read interval plus tolerance")
def cache_window(bench, testbed):
    rows = _cached(bench, testbed)
    now = _now(bench)
    slack = _interval(bench) + _tolerance(bench)
    oldest_age = now - float(rows[0][0])
    window = CACHE_HOURS * 3600
    check(window - slack <= oldest_age <= window, expected=f"the oldest cached reading 48 h old (up to "
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


@then("every cached reading is a value the meter served at its time")
def cache_values(bench, testbed):
    _cached(bench, testbed)
    problems = testbed.notes["cache_unserved"]
    check(not problems, expected="every cached reading a summation and demand the meter served the DUT at its time "
          f"(within {_tolerance(bench):g} s), inside the range asked", observed=_cut(problems),
          rule="docs/openseg-api.md: readings are the meter's raw values, at the meter's reading time")


@then("every reading cached before the power cut is still served, unchanged but for the newest")
def survived(bench, testbed):
    before = testbed.notes["rows_before_cut"]
    cut = testbed.notes["power_off_at"]
    rows = _cached(bench, testbed)
    kept = [r for r in rows if r[0] <= cut]
    whole = kept == before or kept == before[:-1]
    missing = [r for r in before[:-1] if r not in kept]
    check(whole, expected=f"the {len(before)} readings cached before the power cut (the newest may be lost with "
          f"the cut), unchanged", observed=f"{len(kept)} readings up to the cut; {len(missing)} of the earlier ones "
          f"missing or changed" + (f", first {missing[0]}" if missing else "")
          + (f"; newest before the cut {before[-1]}, now {kept[-1]}" if kept and kept[-1] != before[-1] else ""),
          rule="LBNL-182358: a secure 48-hour cache; docs/openseg-api.md \"Profile rules\": the cache survives a "
               "power cycle, stored safely (a record torn by the cut is dropped, never served)")


@then("the gap in the cached readings spans the outage plus at most the PIXIT rejoin time and a read interval")
def outage_gap(bench, testbed):
    rows = _cached(bench, testbed)
    off, on = testbed.notes["power_off_at"], testbed.notes["power_on_at"]
    resume = bench.pixit_seconds("rejoin_timeout", 30) + _interval(bench) + _tolerance(bench)
    slack = _interval(bench) + _tolerance(bench)
    before = [r[0] for r in rows if r[0] <= off]
    after = [r[0] for r in rows if r[0] > off]
    first_after = after[0] if after else None
    later_gaps = [b - a for a, b in zip(after, after[1:], strict=False) if b - a > slack]
    # The newest reading before the cut may be lost with it (a record the cut tore), so the last one kept may be
    # a read interval older.
    last_kept = slack + _interval(bench)
    ok = (bool(before) and off - before[-1] <= last_kept and first_after is not None and first_after - on <= resume
          and not later_gaps and _now(bench) - after[-1] <= slack)
    observed = (f"last reading {off - before[-1]:.1f} s before the cut; " if before else "no reading before the cut; ") + (
        f"first after it {first_after - on:.1f} s after the power returned (outage {on - off:.0f} s)"
        if first_after is not None else "no reading after the power returned") + (
        f"; then {len(later_gaps)} gaps over {slack:g} s" if later_gaps else "")
    check(ok, expected=f"readings up to the cut (the last at most {last_kept:g} s before it), again at most {resume:g} s "
          f"after the power returned, then at least every {slack:g} s", observed=observed,
          rule="docs/openseg-api.md \"Profile rules\": a gap no longer than the outage plus the time to rejoin "
               "and read; LBNL-182358: reads every 4 s")


# -- Then: Green Button --------------------------------------------------------------------------------------

def _gb(testbed) -> gb.GreenButtonFeed:
    response = testbed.notes["gb_response"]
    feed, problems = _feed(response)
    if feed is None:
        check(False, expected="a Green Button feed (an Atom feed of ESPI objects)", observed=_cut(problems),
              rule="NAESB REQ.21 ESPI")
    return feed


@then("the export is a schema-valid ESPI feed with the ESI's LocalTimeParameters")
def gb_schema(bench, testbed):
    response = testbed.notes["gb_response"]
    feed, problems = _feed(response)
    if feed is not None:
        problems += gb.local_time_problems(feed, gb.UTC_LOCAL_TIME)
    check(not problems, expected="HTTP 200, an Atom feed whose ESPI objects validate against espi.xsd, with one "
          "LocalTimeParameters of the ESI's time zone (UTC: tzOffset 0, dstOffset 0, DST rules FFFFFFFF)",
          observed=_cut(problems) or "valid", rule="NAESB REQ.21 ESPI schema (espi.xsd) and TimeConfiguration; "
          "docs/openseg-api.md: the export carries LocalTimeParameters")


@then("its interval times are Unix seconds inside the requested range")
def gb_times(bench, testbed):
    span = testbed.notes["gb_range"]
    problems = gb.time_problems(_gb(testbed), span["start"], span["end"])
    check(not problems, expected=f"contiguous intervals in Unix seconds within {span['start']}..{span['end']}",
          observed="; ".join(problems) or "ok", rule="NAESB REQ.21 ESPI: times are Unix seconds (1970 epoch)")


@then("its intervals cover the cache's 48 hours, from the first whole interval to the last")
def gb_coverage(bench, testbed):
    span = testbed.notes["gb_range"]
    oldest = _cached(bench, testbed)[0][0]
    step = GREEN_BUTTON_INTERVAL
    first, last = math.ceil(oldest / step) * step, span["end"] // step * step
    problems = gb.coverage_problems(_gb(testbed), first, last)
    check(not problems, expected=f"intervals from {first} (the first whole 15 minutes after the oldest cached "
          f"reading) to {last} (the last before the range's end): the whole 48-hour cache",
          observed="; ".join(problems) or "ok",
          rule="docs/openseg-api.md \"Profile rules\": the Green Button export covers the full 48 hours")


@then("its ReadingType is energy in Wh, as deltas, with an ESPI power of ten")
def gb_units(bench, testbed):
    problems = gb.unit_problems(_gb(testbed))
    check(not problems, expected="uom 72 (Wh), kind 12, accumulationBehaviour 4, a UnitMultiplierKind power",
          observed="; ".join(problems) or "ok", rule="NAESB REQ.21 ESPI ReadingType codes")


@then("its interval values add up to the meter's summation delta over the intervals")
def gb_sum(bench, testbed):
    feed = _gb(testbed)
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
        elif status == 405 and response.header("allow") != "GET":
            wrong.append(f"{method} {source.path(name)}: 405 with Allow {response.header('allow')!r}, expected 'GET'")
    check(not wrong, expected=f"HTTP {status} with the JSON error body for {len(requests)} requests from the "
          f"{client} client" + (", with Allow: GET" if status == 405 else ""),
          observed="; ".join(wrong[:3]) or "all as expected", rule=RULE_API)


@then("every metering resource answers a foreign client 403 with a JSON error body")
def foreign_403(bench, testbed):
    _answers(bench, testbed, [(name, "GET") for name in METERING_RESOURCES], 403, client="foreign")


def _refused(bench, testbed, cases: list[tuple[str, dict[str, Any]]], status: int = 400) -> list[str]:
    """Send readings requests with *cases* of parameters; what was not answered *status* with the JSON body."""
    home, _ = _clients(testbed)
    wrong = []
    for what, params in cases:
        response = _run_api(bench, home.request("readings", params), f"a readings request with {what}")
        if response.status != status or response.content_type != JSON or not is_error_body(response.json(), status):
            wrong.append(f"{what} {params}: {response.describe()}")
    return wrong


@then("a readings request with a malformed time range is answered 400 with a JSON error body")
def malformed_400(bench, testbed):
    now = int(_now(bench))
    wrong = _refused(bench, testbed, [
        ("words", {"start": "yesterday", "end": "now"}), ("no end", {"start": str(now - 60)}),
        ("no start", {"end": str(now)}), ("end before start", {"start": str(now), "end": str(now - 60)}),
        ("end equal to start", {"start": str(now), "end": str(now)}),
        ("a negative start", {"start": "-60", "end": str(now)}), ("a plus sign", {"start": f"+{now - 60}", "end": str(now)}),
        ("an exponent", {"start": "1e9", "end": str(now)}), ("a fraction", {"start": f"{now - 60}.5", "end": str(now)}),
        ("a space", {"start": f" {now - 60}", "end": str(now)}), ("an empty start", {"start": "", "end": str(now)}),
        ("start twice", [("start", str(now - 60)), ("start", str(now - 30)), ("end", str(now))]),
    ])
    check(not wrong, expected="HTTP 400 with the JSON error body for each malformed range",
          observed=_cut(wrong) or "ok", rule="docs/openseg-api.md: start and end are whole Unix seconds in ASCII "
          "digits, given once each, end > start, at most 7 days apart; anything else is 400")


@then("a readings request with non-ASCII digits in a time parameter is answered 400 with a JSON error body")
def unicode_digits_400(bench, testbed):
    now = int(_now(bench))
    def written(script: str, value: int) -> str:
        return str(value).translate(str.maketrans("0123456789", UNICODE_DIGITS[script]))

    cases = [(f"{script} digits in start", {"start": written(script, now - 60), "end": str(now)})
             for script in UNICODE_DIGITS]
    cases += [(f"{script} digits in end", {"start": str(now - 60), "end": written(script, now)})
              for script in UNICODE_DIGITS]
    wrong = _refused(bench, testbed, cases)
    check(not wrong, expected="HTTP 400 with the JSON error body: digits other than ASCII 0-9 are malformed, "
          "never read as a time and never a server error", observed=_cut(wrong) or "ok",
          rule="docs/openseg-api.md \"Profile rules\": time parameters are ASCII digits; non-ASCII digits give 400, "
               "not 500 or a silent reading")


@then("a readings range of exactly 7 days and one of 1 second are served, one of 7 days and 1 second is not")
def range_boundaries(bench, testbed):
    now = int(_now(bench))
    wrong = []
    # The one-second range lies an hour ahead, where no reading is: its answer is the same whatever the phase of
    # the meter's reads.
    for start, end in ((now - MAX_RANGE_SECONDS, now), (now + 3600, now + 3601)):
        rows, problems, response = _readings(bench, testbed, start, end, f"GET readings of {end - start} s")
        wrong += [f"{end - start} s: {p}" for p in problems]
    wrong += _refused(bench, testbed, [("a range of 7 days and 1 s", {"start": now - MAX_RANGE_SECONDS - 1,
                                                                      "end": now})])
    check(not wrong, expected="HTTP 200 with the readings for ranges of 7 days and of 1 s (the last legal), HTTP 400 "
          "with the JSON error body for 7 days and 1 s (the first illegal)", observed=_cut(wrong) or "ok",
          rule="docs/openseg-api.md: end > start, and the range is at most 7 days")


@then("a request line that is not HTTP is answered 400")
def garbage_400(bench, testbed):
    home, _ = _clients(testbed)
    response = _run_api(bench, home.raw(b"\x16\x03\x01 NOT HTTP AT ALL\r\n\r\n"), "a request that is not HTTP")
    check(response.status == 400, expected="HTTP 400", observed=response.describe() or "no answer", rule=RULE_API)


def _still_served(bench, testbed) -> None:
    home, _ = _clients(testbed)
    try:
        response = bench.run(home.request("summation"), 30, "GET summation after malformed requests")
        problems = _latest_problems(bench, testbed, "summation", response, _MeterLog(bench, testbed))
        observed = _cut(problems) if problems else response.describe()
    except (ApiClientError, TimeoutError) as exc:
        observed, problems = str(exc), [str(exc)]
    check(not problems, expected="HTTP 200 with the meter's summation for the next well-formed request",
          observed=observed, rule="LBNL-182358 / " + RULE_API + ": malformed requests must not stop the gateway")


# -- HTTP/1.1 framing: chunked bodies, absolute-form targets, a stalled body -------------------------------------

RULE_FRAMING = ("RFC 9112 7.1 (chunked transfer coding), 6.3 (a request's body is read to find the next request), "
                "3.2.2 (a server MUST accept the absolute-form); docs/openseg-api.md \"Profile rules\" (body timeout)")


@when("a home client sends a summation request with a chunked body, then a second one on the same connection")
def chunked_then_next(bench, testbed):
    home, _ = _clients(testbed)
    first = home.head("summation", extra=b"Transfer-Encoding: chunked\r\n").replace(b"Connection: close\r\n", b"")
    body = b"5\r\nhello\r\n7;note=x\r\n, world\r\n0\r\n\r\n"  # two chunks, a chunk extension, no trailer
    testbed.notes["pipelined"] = _run_api(bench, home.pipelined(first + body + home.head("summation")),
                                          "GET summation with a chunked body, then GET summation")


@then("both requests are answered 200 with the summation, in order")
def pipelined_answers(bench, testbed):
    responses = testbed.notes["pipelined"]
    log = _MeterLog(bench, testbed)
    problems = [f"answer {n + 1}: {p}" for n, r in enumerate(responses)
                for p in _latest_problems(bench, testbed, "summation", r, log)[:1]]
    check(len(responses) == 2 and not problems,
          expected="two answers on the connection, each HTTP 200 with the meter's summation",
          observed=f"{len(responses)} answers" + (f"; {_cut(problems, 2)}" if problems else ""), rule=RULE_FRAMING)


RULE_FRAMING_ERRORS = ("RFC 9112 7.1 (chunk data is followed by CRLF), 6.3 (a request whose final transfer coding is "
                       "not chunked: the server MUST answer 400 and close the connection); docs/openseg-api.md "
                       "\"Profile rules\" (request framing): a framing error is 400 with the JSON error body, and "
                       "the connection closes")


def _framing_refused(bench, testbed, request: bytes, body: bytes, what: str) -> None:
    """*request*, a summation request's head (keep-alive), with *body* after it and a second summation request
    after that on the same connection: one answer, 400 with the JSON error body, and the connection closed
    within the API latency; nothing after the head is read as a request."""
    home, _ = _clients(testbed)
    responses = _run_api(bench, home.pipelined(request + body + home.head("summation")),
                         f"{what}, then GET summation")
    first = responses[0] if responses else None
    refused = (first is not None and first.status == 400 and first.content_type == JSON
               and is_error_body(first.json(), 400))
    latency = _latency(bench)
    closed = first is not None and first.seconds <= latency
    check(len(responses) == 1 and refused and closed,
          expected=f"one answer, HTTP 400 with the JSON error body, to {what} ({body!r} after the head), and the "
          f"connection closed within {latency:g} s: the request after it unanswered",
          observed=f"{len(responses)} answers" + "".join(f"; answer {n + 1}: {r.describe()}"
                                                          for n, r in enumerate(responses[:2]))
          + (f"; the connection ended {first.seconds:.1f} s after the request" if first is not None else ""),
          rule=RULE_FRAMING_ERRORS)


@then("a chunk whose data runs past its size is answered 400 with a JSON error body, the connection closed and the "
      "request after it unanswered")
def chunk_past_its_size(bench, testbed):
    home, _ = _clients(testbed)
    request = home.head("summation", extra=b"Transfer-Encoding: chunked\r\n").replace(b"Connection: close\r\n", b"")
    # A chunk of 3 bytes with 6 before its CRLF: a reader that skips to the next CRLF takes "0" as the last chunk
    # and serves both requests.
    _framing_refused(bench, testbed, request, b"3\r\nabcdef\r\n0\r\n\r\n", "a chunk of size 3 with 6 data bytes")


@then("a request whose transfer coding is gzip, not chunked, is answered 400 with a JSON error body, the connection "
      "closed and the request after it unanswered")
def gzip_coding(bench, testbed):
    home, _ = _clients(testbed)
    request = home.head("summation", extra=b"Transfer-Encoding: gzip\r\n").replace(b"Connection: close\r\n", b"")
    # Its length cannot be known (RFC 9112 6.3): a reader that takes it as chunked finds an empty body in these
    # bytes and serves the request after them too.
    _framing_refused(bench, testbed, request, b"0\r\n\r\n", "a request with Transfer-Encoding: gzip")


@then("a summation request by its absolute URL is answered 200 with the summation")
def absolute_form(bench, testbed):
    home, _ = _clients(testbed)
    request = home.head("summation").replace(f" {home.path('summation')} ".encode(),
                                             f" http://{home.host}:{home.port}{home.path('summation')} ".encode(), 1)
    response = _run_api(bench, home.raw(request, "GET summation by its absolute URL"), "GET by absolute URL")
    problems = _latest_problems(bench, testbed, "summation", response, _MeterLog(bench, testbed))
    check(not problems, expected=f"HTTP 200 with the meter's summation for GET http://{home.host}:{home.port}"
          f"{home.path('summation')}", observed=_cut(problems) or response.describe(), rule=RULE_FRAMING)


@then("the gateway closes a connection whose announced body stalls within the body timeout and the PIXIT API latency")
def stalled_body(bench, testbed):
    home, _ = _clients(testbed)
    bound = BODY_TIMEOUT + _latency(bench)
    watch = bound + 10
    head = home.head("summation", extra=b"Content-Length: 100\r\n")
    # The whole head at once, then 10 of the 100 body bytes, then nothing (no header line follows: the head ended).
    client = _run_api(bench, home.slow(head + b"0123456789", watch + 1, None, watch), "a client whose body stalls")
    answer = client.answer
    closed = None if client.closed_at is None else client.closed_at - client.opened_at
    answered_ok = answer is None or (answer.status == 408 and answer.content_type == JSON
                                     and is_error_body(answer.json(), 408))
    check(closed is not None and closed <= bound and answered_ok,
          expected=f"the connection closed at most {bound:g} s after the head ({BODY_TIMEOUT:g} s body timeout, "
          f"{_latency(bench):g} s latency), with nothing or a 408 JSON error before",
          observed=(f"closed after {closed:.1f} s" if closed is not None else f"still open after {watch:g} s")
          + (f"; answered {answer.describe()}" if answer is not None else ""), rule=RULE_FRAMING)


# -- Request limits and framing at their edges -------------------------------------------------------------

RULE_TARGET = ("RFC 3986 2.5 (percent-encoded octets of UTF-8 text); docs/openseg-api.md \"Profile rules\": a "
               "malformed request is answered (400, or 404 for a path that names no resource) with the JSON error body")


@then("a request head that grows past 64 KiB without ending is answered 431 or 413 with a JSON error body within "
      "the PIXIT API latency")
def growing_head(bench, testbed):
    home, _ = _clients(testbed)
    every, latency = 1.0, _latency(bench)
    # A head 8 bytes short of 64 KiB without its empty line; a second later one more header line (13 bytes) takes
    # it past the limit, still without its end.
    unended = _padded(home, MAX_HEAD - 6)[:-2]
    client = _run_api(bench, home.slow(unended, every, None, every + latency + 1), "a head growing past 64 KiB")
    answer = client.answer
    past = client.opened_at + every
    answered_in_time = client.closed_at is not None and client.closed_at - past <= latency
    check(answer is not None and answer.status in (431, 413) and answer.content_type == JSON
          and is_error_body(answer.json(), answer.status) and answered_in_time,
          expected=f"HTTP 431 or 413 with the JSON error body, at most {latency:g} s after a header line took the "
          f"unended head past {MAX_HEAD} bytes",
          observed=(answer.describe() if answer is not None else "no answer")
          + (f"; closed {client.closed_at - past:.1f} s after that line" if client.closed_at is not None
             else f"; still open {latency + 1:g} s after that line"), rule=RULE_LIMITS)


@then("a request head of 64 KiB and 1 byte whose end comes in the write that takes it past 64 KiB is answered 431 "
      "or 413 with a JSON error body")
def head_ending_past_limit(bench, testbed):
    home, _ = _clients(testbed)
    every, latency = 1.0, _latency(bench)
    # 1 KiB of the head, which the gateway reads; a second later the rest, its end included, in one write: the
    # gateway reads the head's end with the bytes that take it past the limit.
    request = _padded(home, MAX_HEAD + 1)
    first, rest = request[:1024], request[1024:]
    client = _run_api(bench, home.slow(first, every, None, every + latency + 1, pieces=[rest]),
                      "a head ending in the write that takes it past 64 KiB")
    answer = client.answer
    check(client.lines_sent == 1 and answer is not None and answer.status in (431, 413)
          and answer.content_type == JSON and is_error_body(answer.json(), answer.status),
          expected=f"HTTP 431 or 413 with the JSON error body, within {latency:g} s, for a {MAX_HEAD + 1}-byte head "
          f"sent as {len(first)} bytes, then {every:g} s later the {len(rest)} bytes that end it; never the resource",
          observed=(answer.describe() if answer is not None else "no answer")
          + ("" if client.lines_sent == 1 else "; the connection closed before the rest was sent"),
          rule=RULE_LIMITS)


@then("a request with a chunked body of 64 KiB and 1 byte, each chunk under the limit, is answered 413 with a JSON "
      "error body")
def chunked_too_large(bench, testbed):
    home, _ = _clients(testbed)
    half = MAX_BODY // 2
    body = b"".join(f"{size:X}\r\n".encode() + b"c" * size + b"\r\n" for size in (half, half + 1)) + b"0\r\n\r\n"
    request = home.head("summation", extra=b"Transfer-Encoding: chunked\r\n") + body
    _too_large(bench, testbed, request, f"a chunked body of {MAX_BODY + 1} bytes in chunks of {half} and {half + 1}",
               (413,))


@then("a request whose body arrives in two pieces a second apart is answered 200 with the summation")
def body_in_pieces(bench, testbed):
    home, _ = _clients(testbed)
    every, latency = 1.0, _latency(bench)
    piece = b"X-Slow-1: 1\r\n"  # what the slow client sends a second after the head, here the body's second piece
    head = home.head("summation", extra=f"Content-Length: {10 + len(piece)}\r\n".encode())
    client = _run_api(bench, home.slow(head + b"0123456789", every, None, every + latency + 1),
                      "a request whose body arrives in two pieces")
    answer = client.answer
    problems = (_latest_problems(bench, testbed, "summation", answer, _MeterLog(bench, testbed))
                if answer is not None else ["no answer"])
    check(not problems and client.lines_sent >= 1,
          expected=f"HTTP 200 with the meter's summation once the body's second piece came, {every:g} s after the "
          f"head (within the {BODY_TIMEOUT:g} s body timeout)",
          observed=_cut(problems) if problems else f"the body's second piece was not sent ({client.lines_sent} sent)",
          rule=RULE_FRAMING)


@then("a request whose percent-decoded path is not UTF-8 is answered 400 or 404 with a JSON error body")
def non_utf8_target(bench, testbed):
    home, _ = _clients(testbed)
    path = home.path("summation")
    request = home.head("summation").replace(f" {path} ".encode(), f" {path}%C3%28 ".encode(), 1)
    response = _run_api(bench, home.raw(request, "a path that is not UTF-8"), "GET a path that is not UTF-8")
    check(response.status in (400, 404) and response.content_type == JSON
          and is_error_body(response.json(), response.status),
          expected=f"HTTP 400 or 404 with the JSON error body for GET {path}%C3%28 (0xC3 0x28 is no UTF-8 sequence)",
          observed=response.describe(), rule=RULE_TARGET)


@then("a request whose target holds a raw byte outside visible ASCII is answered 400 with a JSON error body, or "
      "redirected to the encoded target")
def raw_byte_target(bench, testbed):
    home, _ = _clients(testbed)
    path = home.path("summation")
    # The summation's own path with a raw 0x80 after it: no request-target (RFC 9112 3.2, RFC 3986 2: only
    # visible ASCII, anything else percent-encoded), so the request line is invalid whatever the path names.
    request = home.head("summation").replace(f" {path} ".encode(), f" {path}\x80 ".encode("latin-1"), 1)
    response = _run_api(bench, home.raw(request, "a target with a raw byte"), "GET a target with a raw 0x80 byte")
    refused = response.status == 400 and response.content_type == JSON and is_error_body(response.json(), 400)
    redirected = response.status == 301 and response.header("location") == f"{path}%80"
    check(refused or redirected,
          expected=f"HTTP 400 with the JSON error body for GET {path}<0x80> (docs/openseg-api.md: a malformed request is "
                   f"400), or 301 to {path}%80 (RFC 9112 3.2 allows either); never the resource",
          observed=response.describe(), rule="RFC 9112 3.2: recipients of an invalid request-line SHOULD respond "
                                             "400 or 301 with the request-target properly encoded")


@then("the summation resource is still served afterwards")
def still_served(bench, testbed):
    _still_served(bench, testbed)


@then("unknown paths and the utility-control paths answer 404 with a JSON error body")
def unknown_404(bench, testbed):
    _answers(bench, testbed, [("/", "GET"), ("/api/v1/nothing-here", "GET"), ("/api/v1/meter/../price", "GET"),
                              *((name, "GET") for name in FILTERED)], 404)


@then("POST and DELETE on the metering resources answer 405 with a JSON error body")
def methods_405(bench, testbed):
    _answers(bench, testbed, [(name, method) for name in RESOURCES for method in ("POST", "DELETE")], 405)


# -- Then: the API's address, and a hostile home-network client ----------------------------------------------

@then("the API's port answers on the gateway's home-network address")
def listens_at_home(bench, testbed):
    home, _ = _clients(testbed)
    answer = _run_api(bench, home.listening(home.host), "a connection to the API's address")
    check(answer is not None, expected=f"the API accepts connections at {home.host}:{home.port}",
          observed="refused or not answered", rule=RULE_API)


@then("nothing accepts a connection on the API's port at the gateway's address outside its home network")
def not_listening_outside(bench, testbed):
    home, _ = _clients(testbed)
    outside = bench.dut_profile.openseg.outside_address
    if outside is None:
        raise BenchFault("the DUT profile names no openseg.outside_address (an address of the gateway outside its "
                         "home network, as the bench reaches it): TC-OSEG-6.5 cannot be judged")
    answer = _run_api(bench, home.listening(outside), f"a connection to {outside}")
    check(answer is None, expected=f"no listener on {outside}:{home.port}, the gateway's address outside its home "
          f"network {bench.dut_profile.openseg.home_network}", observed=answer or "refused",
          rule="LBNL-182358: the gateway answers only requests from the same home network; docs/openseg-api.md "
               "\"Profile rules\": it listens only on home-network addresses")


def _padded(home: OpenSegClient, head_size: int, body: bytes = b"") -> bytes:
    """A summation request whose head is exactly *head_size* bytes (one padding header), then *body*."""
    extra = f"Content-Length: {len(body)}\r\n".encode() if body else b""
    bare = home.head("summation", extra=extra + b"X-Pad: \r\n")
    pad = head_size - len(bare)
    assert pad >= 0, f"a head of {head_size} bytes cannot hold the request itself ({len(bare)} bytes)"
    return home.head("summation", extra=extra + b"X-Pad: " + b"a" * pad + b"\r\n") + body


@then("a request with an 8 KiB head and a 1 KiB body is served")
def served_sizes(bench, testbed):
    home, _ = _clients(testbed)
    request = _padded(home, SERVED_HEAD, b"b" * SERVED_BODY)
    response = _run_api(bench, home.raw(request), "a request with an 8 KiB head and a 1 KiB body")
    problems = _latest_problems(bench, testbed, "summation", response, _MeterLog(bench, testbed))
    check(not problems, expected=f"HTTP 200 with the meter's summation for a {SERVED_HEAD}-byte head and a "
          f"{SERVED_BODY}-byte body (the largest the profile has every gateway serve)", observed=_cut(problems),
          rule=RULE_LIMITS)


def _too_large(bench, testbed, request: bytes, what: str, statuses: tuple[int, ...]) -> None:
    home, _ = _clients(testbed)
    response = _run_api(bench, home.raw(request), what)
    check(response.status in statuses and response.content_type == JSON and is_error_body(response.json(),
                                                                                          response.status),
          expected=f"HTTP {' or '.join(map(str, statuses))} with the JSON error body for {what}",
          observed=response.describe(), rule=RULE_LIMITS)


@then("a request whose head is 64 KiB and 1 byte is answered 431 or 413 with a JSON error body")
def head_too_large(bench, testbed):
    home, _ = _clients(testbed)
    _too_large(bench, testbed, _padded(home, MAX_HEAD + 1), f"a {MAX_HEAD + 1}-byte head", (431, 413))


@then("a request whose head holds 2,000 header fields over 64 KiB is answered 431 or 413 with a JSON error body")
def too_many_fields(bench, testbed):
    home, _ = _clients(testbed)
    fields = b"".join(f"X-Field-{n:04d}: {'f' * 24}\r\n".encode() for n in range(2000))
    request = home.head("summation", extra=fields)
    assert len(request) > MAX_HEAD
    _too_large(bench, testbed, request, f"a head of 2,000 fields ({len(request)} bytes)", (431, 413))


@then("a request with a body of 64 KiB and 1 byte is answered 413 with a JSON error body")
def body_too_large(bench, testbed):
    home, _ = _clients(testbed)
    body = b"b" * (MAX_BODY + 1)
    request = home.head("summation", extra=f"Content-Length: {len(body)}\r\n".encode()) + body
    _too_large(bench, testbed, request, f"a {len(body)}-byte body", (413,))


@then("the client that completed its head within the head timeout was served")
def slow_but_served(bench, testbed):
    client = testbed.notes["slow_completing"]
    after = testbed.notes["slow_complete_after"]
    response = client.answer
    problems = (_latest_problems(bench, testbed, "summation", response, _MeterLog(bench, testbed))
                if response is not None else ["no answer"])
    check(client.completed_at is not None and not problems,
          expected=f"HTTP 200 with the meter's summation for a head sent a line a second and completed after "
          f"{after} s, within the {HEAD_TIMEOUT:g} s head timeout",
          observed=(f"the connection closed {client.closed_at - client.opened_at:.1f} s after opening, before the "
                    f"head was complete; " if client.completed_at is None and client.closed_at is not None else "")
          + _cut(problems), rule=RULE_SLOW)


@then("the gateway closed the other client's connection within the head timeout and the PIXIT API latency")
def slow_cut_off(bench, testbed):
    client = testbed.notes["slow_never"]
    bound = HEAD_TIMEOUT + _latency(bench)
    answer = client.answer
    closed = None if client.closed_at is None else client.closed_at - client.opened_at
    answered_ok = answer is None or (answer.status == 408 and answer.content_type == JSON
                                     and is_error_body(answer.json(), 408))
    check(closed is not None and closed <= bound and answered_ok,
          expected=f"the connection closed at most {bound:g} s after it opened ({HEAD_TIMEOUT:g} s head timeout, "
          f"{_latency(bench):g} s latency), with nothing or a 408 JSON error before",
          observed=(f"closed after {closed:.1f} s" if closed is not None else f"still open after "
                    f"{HEAD_TIMEOUT + _latency(bench) + 10:g} s") + f", {client.lines_sent} header lines sent"
          + (f"; answered {answer.describe()}" if answer is not None else ""), rule=RULE_SLOW)


@then("every client was answered 200 with the meter's summation")
def burst_ok(bench, testbed):
    results = testbed.notes["burst_results"]
    log = _MeterLog(bench, testbed)
    bad = []
    for result in results:
        if isinstance(result, str | Exception):
            bad.append(str(result))
        else:
            bad += _latest_problems(bench, testbed, "summation", result, log)[:1]
    check(not bad, expected=f"HTTP 200 with the meter's summation for all {len(results)} requests",
          observed=f"{len(bad)} not: {_cut(sorted(set(bad)), 2)}", rule="docs/openseg-api.md \"Profile rules\": "
          f"1,000 concurrent requests from the home network are all answered; {RULE_API}")


@then("the DUT took in the meter's readings at the read interval plus tolerance throughout the burst")
def burst_reads(bench, testbed):
    slack = _interval(bench) + _tolerance(bench)
    # The readings the DUT cached from one read interval before the burst until it ended (no network time has
    # passed since): a gateway whose API holds up its meter traffic shows a gap here.
    end = testbed.notes["burst_to_unix"]
    start = end - (testbed.notes["burst_to"] - testbed.notes["burst_from"]) - slack
    rows, problems, response = _readings(bench, testbed, int(start) - 1, int(end) + 1, "GET readings of the burst")
    times = [r[0] for r in rows]
    window = [t for t in times if start <= t <= end]
    edges = [max([t for t in times if t < start], default=start), *window]
    gaps = [b - a for a, b in zip(edges, edges[1:], strict=False) if b - a > slack]
    if window and end - window[-1] > slack:
        gaps.append(end - window[-1])
    check(bool(window) and not gaps and not problems,
          expected=f"a cached meter reading at least every {slack:g} s during the burst",
          observed=f"{_cut(problems)}; " * bool(problems) + f"{len(window)} readings; gaps {[round(g, 1) for g in gaps[:3]]}",
          rule="LBNL-182358: the meter's data every 4 s, whatever the home network asks")

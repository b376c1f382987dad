"""The reference OpenSEG gateway (LBNL Open Smart Energy Gateway): a consumer-owned HAN device that pairs with
the utility meter and serves its data to the home network (docs/openseg-api.md).

It joins with its install code, completes CBKE, takes the time from the ESI, finds the meter by service
discovery (a broadcast Match_Desc for a Simple Metering server on the SE profile; the first answer is its
meter), reads the meter's formatting once, then has the meter report: Configure Reporting on Simple Metering
asks for CurrentSummationDelivered and InstantaneousDemand every ``meter_read_interval`` (a PIXIT, 4 s by
default; min = max interval), the way a Smart Energy client follows a meter without polling it. Each report
becomes a cached reading; if reports stop for three intervals (the meter restarted) it configures reporting
again. It never writes to or commands the meter, carries no DRLC/Price/Messaging client (utility control
frames get UNSUPPORTED_CLUSTER and go no further), lets no other device join the HAN through it (it ignores
Mgmt_Permit_Joining_req, so its beacons never permit association), keeps a 48-hour circular cache with a
CRC-checked copy in non-volatile memory that survives a power cut, and serves the consumer API (its own HTTP
server, harness/openseg/server.py) on the bench's loop, listening on its home-network address only. It
presents itself as an In-Premise Display (device id 0x0502), as commercial gateways do.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

import zigpy.types as t
from zigpy.zcl.foundation import DataTypeId, GeneralCommand, Status

from harness.ke.sim import ieee_resolver
from harness.openseg.api import CACHE_HOURS
from harness.openseg.cache import Reading, ReadingCache, from_records, to_records
from harness.openseg.network import HomeNetwork
from harness.openseg.server import GatewayApi, MeterInfo, Request, Response, ServerFaults
from harness.se.clusters import Basic, Drlc, KeyEstablishment, Messaging, Metering, Price, Time
from harness.se.datamodel import Side, load_datamodel
from harness.sim.discovery import RX_ON_WHEN_IDLE, DiscoveryError, find_se_server
from harness.zcl import ZclError
from harness.zcl.engine import report_reporting_config
from harness.zcl.peer import Peer

from .application import ESI, ApplicationDevice
from .faults import Behaviour, Fault, Setting, WatchedBehaviour
from .garbage import GREEN_BUTTON_FAULTS, green_button_rewrite

LOGGER = logging.getLogger(__name__)

_METER = Metering.AttributeDefs
FORMATTING_ATTRIBUTES = (_METER.unit_of_measure, _METER.multiplier, _METER.divisor, _METER.summation_formatting,
                         _METER.demand_formatting, _METER.metering_device_type, _METER.status)
LIVE_ATTRIBUTES = (_METER.current_summation_delivered.id, _METER.instantaneous_demand.id)
SUMMATION_ID, DEMAND_ID = LIVE_ATTRIBUTES
READ_TIMEOUT = 3.0  # a read or Configure Reporting not answered by then is tried again later
FORMATTING_RETRY = 30.0
METER_DISCOVERY_TSN = 0x4D  # its own ZDO sequence number, apart from the KE server discovery's
SILENT_INTERVALS = 3  # no report for this many intervals: configure reporting again
PRICE_READ_PERIOD = 900.0  # the reads-price fault reads the ESI's Price cluster every 15 minutes
UTILITY_CONTROL = (Price.cluster_id, Drlc.cluster_id, Messaging.cluster_id)
SLOW_BOOT = 600.0  # the slow-resume fault's application starts this long after the power returns


@dataclass(frozen=True)
class ServerSetting(Setting):
    """A rule the gateway's consumer API server breaks (harness.openseg.server.ServerFaults)."""

    of: ClassVar[type] = ServerFaults


# Cases that judge what they see of a resource, whatever else they are about (steps/test_openseg.py judges every
# response whole): a fault in a resource fails each of them.
VALUES_SEEN = ("TC-OSEG-3.1", "TC-OSEG-3.2", "TC-OSEG-3.4", "TC-OSEG-6.2", "TC-OSEG-6.6", "TC-OSEG-6.7",
               "TC-OSEG-6.8", "TC-OSEG-6.9", "TC-OSEG-7.1", "TC-OSEG-7.2")  # a summation or demand value
GREEN_BUTTON_SEEN = ("TC-OSEG-3.1", "TC-OSEG-3.3", "TC-OSEG-3.4", "TC-OSEG-4.1", "TC-OSEG-5.1")  # an export
GREEN_BUTTON_INTERVALS = ("TC-OSEG-4.1", "TC-OSEG-5.1")  # an export with intervals (the others' ranges have none)

# The gateway's own behaviours, which this module implements.
READS_BEFORE_KEY_ESTABLISHMENT = Fault(
    "reads-before-key-establishment", "starts reading the meter as soon as it joined, before CBKE completed",
    ("TC-OSEG-1.1", "TC-OSEG-1.2"), Behaviour())
READS_AFTER_FAILED_CBKE = Fault(
    "reads-after-failed-cbke", "starts reading the meter once key establishment ended, whether or not it succeeded",
    ("TC-OSEG-1.2",), WatchedBehaviour())
READS_PRICE = Fault("reads-price", "reads the Price cluster of the ESI as well as Simple Metering", ("TC-OSEG-2.1",),
                    Behaviour())
REQUESTS_FAST_POLL = Fault("requests-fast-poll", "sends Request Fast Poll Mode to the meter", ("TC-OSEG-2.2",),
                           Behaviour())
# A served utility-control path is no longer 404, which TC-OSEG-6.3 checks too.
EXPOSES_DRLC_EVENT = Fault(
    "exposes-drlc-event", "serves Load Control Events from the utility on the API's drlc path",
    ("TC-OSEG-3.1", "TC-OSEG-6.3"), ServerSetting("expose_utility_events"))
CACHE_47_HOURS = Fault("cache-47-hours", "keeps 47 hours of readings instead of 48", ("TC-OSEG-4.1",), Behaviour())
CACHE_49_HOURS = Fault("cache-49-hours", "keeps 49 hours of readings instead of 48", ("TC-OSEG-4.1",), Behaviour())
DROPS_READINGS_AT_WRAP = Fault(
    "drops-readings-at-wrap", "loses the newest reading each time the circular cache wraps around",
    ("TC-OSEG-4.1",), Behaviour())
API_BLOCKS_METER_READS = Fault(
    "api-blocks-meter-reads", "takes in meter reports and serves API requests under one lock, 0.8 s per "
    "request", ("TC-OSEG-7.1", "TC-OSEG-7.2"), Behaviour())
API_LOCK_HOLD = 0.8  # within the API latency, so only the cases of many requests at once see it
PERMITS_JOINS = Fault(
    "permits-joins", "obeys the Trust Center's Mgmt_Permit_Joining_req: its beacons permit association, so other "
    "devices could join the HAN through it", ("TC-OSEG-2.3",), Behaviour())
RELAYS_UTILITY_CONTROL = Fault(
    "relays-utility-control", "broadcasts each DRLC, Price or Messaging command the utility sends it on to the HAN",
    ("TC-OSEG-3.1",), Behaviour())
CACHE_IN_RAM = Fault("cache-in-ram", "keeps its cache in RAM only: a power cycle loses every reading",
                     ("TC-OSEG-4.2",), Behaviour())
# Seen only when the meter reports in another legal layout, or sends a malformed report (TC-OSEG-3.5).
REPORT_LAYOUT_FIXED = Fault(
    "report-layout-fixed", "takes any 15-byte Report Attributes as summation then demand, without reading the "
    "attribute ids and types (a report with demand first is misread)", ("TC-OSEG-3.5",), WatchedBehaviour())
PADS_TRUNCATED_REPORT = Fault(
    "pads-truncated-report", "takes a report whose value is cut short, zero-padding the value", ("TC-OSEG-3.5",),
    WatchedBehaviour())
SUMMATION_RECEIVED_AS_DELIVERED = Fault(
    "summation-received-as-delivered", "takes a 15-byte Report Attributes of a uint48 then an int24 record as "
    "summation then demand, reading the records' types but not their attribute ids (CurrentSummationReceived is "
    "taken as the summation delivered)", ("TC-OSEG-3.5",), WatchedBehaviour())
SHORT_SUMMATION_TAKEN = Fault(
    "short-summation-taken", "checks a summation's length as if it were a 32-bit value: a summation cut after 4 of "
    "its 6 value bytes is taken, zero-padded", ("TC-OSEG-3.5",), WatchedBehaviour())
DEMAND_UNSIGNED_IN_OTHER_LAYOUTS = Fault(
    "demand-unsigned-in-other-layouts", "decodes InstantaneousDemand (int24) unsigned in a report of another layout "
    "than the usual one: a negative demand before the summation is read as some 16 million", ("TC-OSEG-3.5",),
    WatchedBehaviour())
# Seen only when the meter reports a demand beyond a 16-bit integer's range (TC-OSEG-3.6).
DEMAND_16_BIT = Fault(
    "demand-16-bit", "keeps InstantaneousDemand (int24) in a 16-bit integer: a demand beyond -32,768..32,767 is "
    "misread as its low two bytes", ("TC-OSEG-3.6",), WatchedBehaviour())
TORN_RECORD_SERVED = Fault(
    "torn-record-served", "restores its cache after a power cut without checking each record, serving the record "
    "torn by the cut as a reading", ("TC-OSEG-4.2",), Behaviour())
SLOW_RESUME = Fault("slow-resume", f"takes in meter readings again only {SLOW_BOOT / 60:g} minutes after its power "
                    "returns", ("TC-OSEG-4.2",), Behaviour())

OPENSEG = [
    READS_BEFORE_KEY_ESTABLISHMENT,
    READS_AFTER_FAILED_CBKE,
    READS_PRICE,
    REQUESTS_FAST_POLL,
    EXPOSES_DRLC_EVENT,
    Fault("ignores-multiplier", "scales raw values by 1 / Divisor, ignoring the Multiplier",
          tuple(sorted({*VALUES_SEEN, *GREEN_BUTTON_INTERVALS})), ServerSetting("ignore_multiplier")),
    Fault("ignores-formatting", "rounds values to whole kWh / kW, ignoring the formatting's digits right",
          VALUES_SEEN, ServerSetting("ignore_formatting")),
    CACHE_47_HOURS,
    CACHE_49_HOURS,
    DROPS_READINGS_AT_WRAP,
    Fault("greenbutton-zcl-epoch", "writes Green Button times as ZCL UTC (seconds since 2000)",
          GREEN_BUTTON_INTERVALS, ServerSetting("zcl_epoch_greenbutton")),
    Fault("greenbutton-uom-w", "labels Green Button energy intervals with uom 38 (W) instead of 72 (Wh)",
          GREEN_BUTTON_SEEN, ServerSetting("greenbutton_uom_w")),
    Fault("answers-foreign-network", "serves clients outside its home network", ("TC-OSEG-6.1",),
          ServerSetting("answer_foreign")),
    Fault("dies-on-malformed", "stops serving after a malformed request", ("TC-OSEG-6.2",),
          ServerSetting("die_on_malformed")),
    # The utility-control paths are unknown paths to a conformant gateway; TC-OSEG-3.1 checks they answer 404.
    Fault("unknown-path-ok", "answers unknown paths 200 with its resource index", ("TC-OSEG-3.1", "TC-OSEG-6.3"),
          ServerSetting("unknown_path_ok")),
    Fault("accepts-any-method", "serves POST and DELETE like GET", ("TC-OSEG-6.4",), ServerSetting("any_method")),
    API_BLOCKS_METER_READS,
    # Issue 18 item 5: what the API serves, and how it holds up against a hostile home-network client.
    PERMITS_JOINS,
    RELAYS_UTILITY_CONTROL,
    Fault("read-at-served", "gives read_at as the time the API served the value, not when the meter measured it",
          ("TC-OSEG-3.2",), ServerSetting("read_at_served")),
    Fault("serves-previous-reading", "serves the reading before the newest on the summation and demand resources",
          ("TC-OSEG-3.2",), ServerSetting("stale_reading")),
    # TC-OSEG-7.1 asks for the readings of its burst, from before it began; TC-OSEG-3.5 for those since its
    # first report in another layout, so the reading before it is one too many.
    Fault("readings-range-slop", "answers a readings range with the readings one read interval beyond each end",
          ("TC-OSEG-3.3", "TC-OSEG-3.5", "TC-OSEG-3.6", "TC-OSEG-7.1"), ServerSetting("range_slop")),
    # TC-OSEG-6.2 asks for a range of one second, an hour ahead: served, and empty.
    Fault("no-data-404", "answers a range it holds no reading of 404 instead of an empty answer",
          ("TC-OSEG-3.3", "TC-OSEG-6.2"), ServerSetting("no_data_404")),
    Fault("slow-answers", "answers every request 1.5 s late", ("TC-OSEG-3.4",), ServerSetting("slow_answers")),
    CACHE_IN_RAM,
    TORN_RECORD_SERVED,
    SLOW_RESUME,
    REPORT_LAYOUT_FIXED,
    PADS_TRUNCATED_REPORT,
    SUMMATION_RECEIVED_AS_DELIVERED,
    SHORT_SUMMATION_TAKEN,
    DEMAND_UNSIGNED_IN_OTHER_LAYOUTS,
    DEMAND_16_BIT,
    Fault("greenbutton-no-local-time", "leaves LocalTimeParameters out of the Green Button export",
          GREEN_BUTTON_SEEN, ServerSetting("greenbutton_no_local_time")),
    Fault("greenbutton-last-day", "exports at most the last 24 hours, whatever range is asked for",
          ("TC-OSEG-4.1",), ServerSetting("greenbutton_last_day")),
    Fault("unicode-digits", "reads time parameters with str.isdigit and int(): a superscript digit answers 500, "
          "Arabic-Indic digits are taken as a time", ("TC-OSEG-6.2",), ServerSetting("unicode_digits")),
    Fault("range-second-too-long", "serves a range of 7 days and 1 s", ("TC-OSEG-6.2",),
          ServerSetting("range_second_too_long")),
    Fault("listens-everywhere", "listens on every address of its host (0.0.0.0), not only its home-network one",
          ("TC-OSEG-6.5",), ServerSetting("listen_everywhere")),
    Fault("oversized-answered-400", "answers an oversized request head or body 400 instead of 431 / 413",
          ("TC-OSEG-6.6", "TC-OSEG-6.9"), ServerSetting("oversized_answered_400")),
    Fault("idle-head-timeout", "times a request head out only after 10 s without a byte: a client that sends its "
          "head a line a second holds the connection for ever", ("TC-OSEG-6.7",), ServerSetting("idle_head_timeout")),
    Fault("ignores-chunked-body", "does not read a chunked request body: its chunks are taken as the next request",
          ("TC-OSEG-6.8", "TC-OSEG-6.9"), ServerSetting("ignore_chunked")),
    Fault("refuses-absolute-form", "answers a request target in absolute-form (http://host/path) 400",
          ("TC-OSEG-6.8",), ServerSetting("absolute_form_refused")),
    Fault("no-body-timeout", "waits for an announced request body for ever: a client that stalls holds the connection",
          ("TC-OSEG-6.8",), ServerSetting("no_body_timeout")),
    Fault("head-limit-at-end", "sizes a request head only once it ends: a head that grows past 64 KiB without "
          "ending is buffered, unanswered, until the head timeout", ("TC-OSEG-6.9",),
          ServerSetting("head_limit_at_end")),
    Fault("chunked-unlimited", "limits a Content-Length body to 64 KiB but reads a chunked body of any size",
          ("TC-OSEG-6.9",), ServerSetting("chunked_unlimited")),
    Fault("body-with-head-only", "reads only the body bytes that came with the head: a body that arrives later "
          "closes the connection unanswered", ("TC-OSEG-6.9",), ServerSetting("body_with_head_only")),
    Fault("non-utf8-target-500", "answers a target whose percent-decoding is not UTF-8 500, its decoder's error "
          "unhandled", ("TC-OSEG-6.9",), ServerSetting("non_utf8_target_500")),
    Fault("raw-target-bytes-dropped", "drops the bytes of a request target outside visible ASCII (a raw 0x80, a "
          "space's neighbours) and serves what is left, instead of refusing the request line", ("TC-OSEG-6.9",),
          ServerSetting("raw_target_bytes_dropped")),
    Fault("head-limit-checked-before-end", "checks the 64 KiB head limit only while a head has not ended: a head "
          "over 64 KiB whose end comes in the read that takes it past the limit is served", ("TC-OSEG-6.9",),
          ServerSetting("ended_head_unlimited")),
    Fault("chunk-crlf-unchecked", "takes whatever follows a chunk's data, up to the next CRLF, as the CRLF that ends "
          "it: a chunk longer than its size is taken, and what follows read as the body's next chunk",
          ("TC-OSEG-6.8",), ServerSetting("chunk_crlf_unchecked")),
    Fault("non-chunked-coding-read-as-chunked", "reads a request body of any transfer coding (Transfer-Encoding: gzip) "
          "as chunked, instead of answering 400 and closing the connection", ("TC-OSEG-6.8",),
          ServerSetting("any_coding_chunked")),
    Fault("connection-cap", "serves 128 connections at once and closes the rest unanswered", ("TC-OSEG-7.2",),
          ServerSetting("connection_cap")),
]


class MeterReadError(ValueError):
    """A Read Attributes Response or Report Attributes from the meter that does not decode (the message says why)."""


class TruncatedValue(MeterReadError):
    """A report whose last value is cut short after *came* of its *size* bytes; *lenient* is what a decoder that
    zero-pads it would take."""

    def __init__(self, message: str, lenient: dict[int, int], came: int, size: int) -> None:
        super().__init__(message)
        self.lenient = lenient
        self.came = came
        self.size = size


#: ZCL data types of the Metering attributes the gateway reads: type id -> (size, signed).
_TYPES: dict[int, tuple[int, bool]] = {
    DataTypeId.uint48: (6, False), DataTypeId.int24: (3, True), DataTypeId.uint24: (3, False),
    DataTypeId.map8: (1, False), DataTypeId.enum8: (1, False),
}


#: The meter's usual report: CurrentSummationDelivered (uint48) then InstantaneousDemand (int24).
_SUMMATION_AND_DEMAND = tuple(
    a.id.to_bytes(2, "little") + bytes([a.zcl_type])
    for a in (_METER.current_summation_delivered, _METER.instantaneous_demand))


def decode_report(payload: bytes) -> dict[int, int]:
    """attribute id -> value of a Report Attributes payload (attribute id, data type, value per record)."""
    if in_usual_layout(payload):
        return {SUMMATION_ID: int.from_bytes(payload[3:9], "little"),
                DEMAND_ID: int.from_bytes(payload[12:15], "little", signed=True)}
    values: dict[int, int] = {}
    i = 0
    while i < len(payload):
        if i + 3 > len(payload) or payload[i + 2] not in _TYPES:
            raise MeterReadError(f"report record at byte {i} is truncated or of an unexpected type: {payload.hex()}")
        attr_id = int.from_bytes(payload[i:i + 2], "little")
        size, signed = _TYPES[payload[i + 2]]
        if i + 3 + size > len(payload):
            raise TruncatedValue(f"attribute 0x{attr_id:04X}: value truncated in {payload.hex()}",
                                 {**values, attr_id: int.from_bytes(payload[i + 3:], "little", signed=signed)},
                                 len(payload) - i - 3, size)
        values[attr_id] = int.from_bytes(payload[i + 3:i + 3 + size], "little", signed=signed)
        i += 3 + size
    return values


def in_usual_layout(payload: bytes) -> bool:
    """Whether a Report Attributes payload is the meter's usual report: summation (uint48), then demand (int24)."""
    return len(payload) == 15 and payload[:3] == _SUMMATION_AND_DEMAND[0] and payload[9:12] == _SUMMATION_AND_DEMAND[1]


def _nothing() -> None:
    pass


def _call(note: Callable[[], None]) -> None:
    note()


class _WrapLosingCache(ReadingCache):
    """A circular cache with an off-by-one at wrap-around: the reading that wraps the ring is lost."""

    def __init__(self, window_seconds: float, capacity: int) -> None:
        super().__init__(window_seconds)
        self.capacity = max(1, capacity)
        self._appended = 0

    def append(self, reading: Reading) -> None:
        self._appended += 1
        if self._appended % self.capacity == 0:
            self.evict(reading.time)
            return
        super().append(reading)


class OpenSegGateway(ApplicationDevice):
    model = "openseg"
    device_id = load_datamodel().device_type("SE-IPD").device_id
    clusters = (
        (Basic.cluster_id, Side.SERVER), (KeyEstablishment.cluster_id, Side.SERVER),
        (KeyEstablishment.cluster_id, Side.CLIENT), (Time.cluster_id, Side.CLIENT), (Metering.cluster_id, Side.CLIENT),
    )
    # Only the gateway's own rules: the joining, attribute and key establishment cases it shares with the IHD
    # are shown able to fail by the IHD's faults (the same stack and KE engine; the fault matrix accepts a
    # shared case failed by any model's fault), so each gateway fault run tests something only it runs.
    faults_catalogue = {fault.name: fault for fault in (
        *OPENSEG, *(fault.aimed_at(*GREEN_BUTTON_SEEN) for fault in GREEN_BUTTON_FAULTS))}

    def attribute_values(self):
        # Its PICS claim Basic ManufacturerName and ModelIdentifier (TC-ATTR-1.9 reads what the PICS claim).
        return self.identity_attributes()

    def __init__(self, air, profile, clock, faults: tuple[str, ...] = (), *, rng=None) -> None:
        super().__init__(air, profile, clock, faults, rng=rng)
        pixit = profile.pixit.get("meter_read_interval")
        self.read_interval = pixit.seconds if pixit is not None else 4.0
        hours = 47 if self.faults.has(CACHE_47_HOURS) else 49 if self.faults.has(CACHE_49_HOURS) else CACHE_HOURS
        window = hours * 3600.0
        self.cache = (_WrapLosingCache(window, int(window / self.read_interval))
                      if self.faults.has(DROPS_READINGS_AT_WRAP) else ReadingCache(window))
        self._meter_info: MeterInfo | None = None
        self._meter: Peer | None = None  # found by service discovery after key establishment
        self._utility_events: list[dict[str, Any]] = []
        self._latest: dict[int, int] = {}  # the meter's last reported live values
        self._last_report = -float("inf")  # loop time of the last report (or of the last configuration)
        self._lock = asyncio.Lock()  # only the api-blocks-meter-reads fault shares it between API and reports
        self._blocking_api = self.faults.has(API_BLOCKS_METER_READS)
        # Where the report-decoding faults would act: a 15-byte report in another layout, a value cut short.
        layout_notes: list[Callable[[], None]] = []
        self._fixed_layout = self.faults.acts(REPORT_LAYOUT_FIXED, layout_notes.append)
        self._unusual_layout_seen = layout_notes[0] if layout_notes else _nothing
        truncation_notes: list[Callable[[], None]] = []
        self._pads_truncated = self.faults.acts(PADS_TRUNCATED_REPORT, truncation_notes.append)
        self._truncated_value_seen = truncation_notes[0] if truncation_notes else _nothing
        ids_notes: list[Callable[[], None]] = []
        self._ids_unread = self.faults.acts(SUMMATION_RECEIVED_AS_DELIVERED, ids_notes.append)
        self._usual_types_seen = ids_notes[0] if ids_notes else _nothing
        short_notes: list[Callable[[], None]] = []
        self._short_summation = self.faults.acts(SHORT_SUMMATION_TAKEN, short_notes.append)
        self._short_summation_seen = short_notes[0] if short_notes else _nothing
        unsigned_notes: list[Callable[[], None]] = []
        self._demand_unsigned = self.faults.acts(DEMAND_UNSIGNED_IN_OTHER_LAYOUTS, unsigned_notes.append)
        self._negative_demand_seen = unsigned_notes[0] if unsigned_notes else _nothing
        wide_demand_notes: list[Callable[[], None]] = []
        self._demand_16_bit = self.faults.acts(DEMAND_16_BIT, wide_demand_notes.append)
        self._wide_demand_seen = wide_demand_notes[0] if wide_demand_notes else _nothing
        self.reads_started = False
        api = profile.openseg
        if api is None:
            raise ValueError(f"sim:{self.model} needs an openseg section in its DUT profile")
        self._host = urlsplit(api.base_url).hostname or "127.0.0.1"
        self._port = urlsplit(api.base_url).port or 0
        self.api = GatewayApi(self, HomeNetwork([api.home_network]), dict(api.paths),
                              self.faults.settings(ServerFaults))
        if self.faults.has(API_BLOCKS_METER_READS):
            self.api.middlewares.append(self._serialised)
        self._garble_green_button = green_button_rewrite(self.faults)
        if self._garble_green_button is not None:
            self.api.middlewares.append(self._garbled_green_button)
        self.api_url: str | None = None
        # The cache's copy in non-volatile memory while the power is off (cache.to_records); None while on.
        self._flash: list[bytes] | None = None
        self.powered = True
        self._booted_at = -float("inf")  # loop time from which the application takes in readings
        # A gateway lets nobody join the HAN through it: it does not act on the Trust Center's permit broadcasts.
        self.node.zdo.ctx.permit_joining = self._permit_request
        # Not one of self._tasks: a factory reset stops the device's network work, not its web server.
        self._serving = self.node.loop.create_task(self._serve())

    # -- GatewayData for the API ----------------------------------------------------------------------

    def meter_info(self) -> MeterInfo | None:
        return self._meter_info

    def now_unix(self) -> float:
        return self.clock.now().timestamp()

    def utility_events(self) -> list[dict[str, Any]]:
        return list(self._utility_events)

    async def _serve(self) -> None:
        port = self._port = await self.api.start(self._host, self._port)  # the same port after a power cycle
        self.api_url = f"http://{self._host}:{port}"

    def _permit_request(self, duration: int) -> None:
        if self.faults.has(PERMITS_JOINS):
            self.node.permit_joining(duration)
            return
        LOGGER.info("reference openseg ignores a Mgmt_Permit_Joining_req (%d s): it permits no joins", duration)

    async def wait_api(self) -> str:
        """The API's base URL once it listens (the simulated gateway binds a free port)."""
        await asyncio.shield(self._serving)
        assert self.api_url is not None
        return self.api_url

    # -- on the network ---------------------------------------------------------------------------------

    async def start_applications(self) -> None:
        await super().start_applications()
        if self.ke is not None and not (self.ke_outcome is not None and self.ke_outcome.success):
            if not self.faults.acts(READS_AFTER_FAILED_CBKE, _call):  # consulted here only: where it would act
                LOGGER.info("reference openseg reads nothing: no CBKE link key with the ESI")
                return
        if not self.reads_started:
            self.reads_started = True
            self._spawn(self._read_meter())

    async def establish_key(self):
        if self.faults.has(READS_BEFORE_KEY_ESTABLISHMENT) and not self.reads_started and self.node.joined:
            self.reads_started = True
            self._spawn(self._read_meter())
        return await super().establish_key()

    async def _find_meter(self) -> Peer:
        """The meter this gateway pairs with: the first Simple Metering server that answers a broadcast Match_Desc."""
        while True:
            try:
                nwk, endpoint = await find_se_server(self.node, Metering.cluster_id, RX_ON_WHEN_IDLE, tsn=METER_DISCOVERY_TSN,
                                                     timeout=READ_TIMEOUT)
            except DiscoveryError as exc:
                LOGGER.info("reference openseg found no meter yet: %s", exc)
                await asyncio.sleep(FORMATTING_RETRY)
                continue
            LOGGER.info("reference openseg pairs with the meter at 0x%04X endpoint %d", nwk, endpoint)
            return Peer(nwk, endpoint)

    async def _read_formatting(self, meter: Peer) -> None:
        while self._meter_info is None:
            try:
                records = await self.engine.read_attributes(
                    meter.address, meter.endpoint, Metering.cluster_id, [a.id for a in FORMATTING_ATTRIBUTES],
                    src_ep=self.endpoint, timeout=READ_TIMEOUT)
                values = {int(r.attrid): int(r.value.value) for r in records if r.status == Status.SUCCESS}
                self._meter_info = MeterInfo(
                    ieee="00:00:00:00:00:00:00:00", unit_of_measure=values.get(_METER.unit_of_measure.id, 0),
                    multiplier=values.get(_METER.multiplier.id, 1) or 1, divisor=values.get(_METER.divisor.id, 1) or 1,
                    summation_formatting=values.get(_METER.summation_formatting.id, 0),
                    demand_formatting=values.get(_METER.demand_formatting.id, 0),
                    metering_device_type=values.get(_METER.metering_device_type.id, 0),
                    status=values.get(_METER.status.id, 0),
                )
                meter_ieee = ieee_resolver(self.node)(meter.address)
                if meter_ieee is not None:
                    self._meter_info = _with_ieee(self._meter_info, meter_ieee)
            except (ZclError, TimeoutError) as exc:
                LOGGER.info("reference openseg could not read the meter's formatting: %s", exc)
                await asyncio.sleep(FORMATTING_RETRY)

    async def _read_meter(self) -> None:
        """Formatting once, then reports every read interval; configure again whenever reports stop. After a
        power cycle it goes on with the meter (and the formatting) it kept in non-volatile memory."""
        meter = self._meter
        if meter is None:
            meter = self._meter = await self._find_meter()
        await self._read_formatting(meter)
        if self.faults.has(REQUESTS_FAST_POLL):
            await self.engine.command(meter.address, meter.endpoint, Metering.cluster_id,
                                      Metering.ServerCommandDefs.request_fast_poll_mode.id, bytes([2, 15]),
                                      src_ep=self.endpoint, timeout=READ_TIMEOUT)
        loop = asyncio.get_running_loop()
        watch = SILENT_INTERVALS * self.read_interval
        price_due = loop.time()
        while True:
            if loop.time() - self._last_report >= watch:
                await self._configure_reports(meter)
            if self.faults.has(READS_PRICE) and loop.time() >= price_due:
                price_due = loop.time() + PRICE_READ_PERIOD
                try:
                    await self.engine.read_attributes(ESI.address, ESI.endpoint, Price.cluster_id,
                                                      [Price.AttributeDefs.tier_1_price_label.id],
                                                      src_ep=self.endpoint, timeout=READ_TIMEOUT)
                except (ZclError, TimeoutError):
                    pass
            await asyncio.sleep(watch)

    async def _configure_reports(self, meter: Peer) -> None:
        """Configure Reporting: summation and demand, each every read interval (min = max interval)."""
        interval = max(1, round(self.read_interval))
        configs = [report_reporting_config(a.id, a.zcl_type, interval, interval, 0)
                   for a in (_METER.current_summation_delivered, _METER.instantaneous_demand)]
        try:
            records = await self.engine.configure_reporting(meter.address, meter.endpoint, Metering.cluster_id, configs,
                                                            src_ep=self.endpoint, timeout=READ_TIMEOUT)
        except (ZclError, TimeoutError) as exc:
            LOGGER.info("reference openseg could not configure the meter's reports: %s", exc)
            return
        if all(r.status == Status.SUCCESS for r in records):
            self._last_report = asyncio.get_running_loop().time()  # the first report is due promptly
        else:
            LOGGER.info("reference openseg: the meter refused reporting: %s", records)

    def _decode_report(self, payload: bytes) -> dict[int, int]:
        values = self._decode_records(payload)
        demand = values.get(DEMAND_ID)
        if demand is not None and not -0x8000 <= demand <= 0x7FFF:
            self._wide_demand_seen()
            if self._demand_16_bit:  # the fault: the demand's low two bytes, as a signed 16-bit integer
                values[DEMAND_ID] = ((demand & 0xFFFF) ^ 0x8000) - 0x8000
        return values

    def _decode_records(self, payload: bytes) -> dict[int, int]:
        usual = in_usual_layout(payload)
        if len(payload) == 15 and not usual:
            self._unusual_layout_seen()
            usual_types = payload[2] == DataTypeId.uint48 and payload[11] == DataTypeId.int24
            if usual_types:
                self._usual_types_seen()
            # The faults: summation and demand at the usual report's offsets, the records' ids unread (and their
            # types too, for report-layout-fixed)
            if self._fixed_layout or (usual_types and self._ids_unread):
                return {SUMMATION_ID: int.from_bytes(payload[3:9], "little"),
                        DEMAND_ID: int.from_bytes(payload[12:15], "little", signed=True)}
        try:
            values = decode_report(payload)
        except TruncatedValue as exc:
            self._truncated_value_seen()
            if self._pads_truncated:  # the fault
                return exc.lenient
            if exc.size == 6 and exc.came >= 4:  # a uint48 with a 32-bit value's bytes
                self._short_summation_seen()
                if self._short_summation:  # the fault: the length checked as a 32-bit value's
                    return exc.lenient
            raise
        demand = values.get(DEMAND_ID)
        if not usual and demand is not None and demand < 0:
            self._negative_demand_seen()
            if self._demand_unsigned:  # the fault: the int24 read unsigned
                values[DEMAND_ID] = demand & 0xFFFFFF
        return values

    def _take_report(self, values: dict[int, int]) -> None:
        # A report every read interval for days: the hot path of a long case, kept to plain lookups.
        now = self.node.loop.time()
        if not self.powered or now < self._booted_at:
            return  # the slow-resume fault's application is still starting
        self._last_report = now
        latest = self._latest
        for attr in LIVE_ATTRIBUTES:
            if attr in values:
                latest[attr] = values[attr]
        summation, demand = values.get(SUMMATION_ID), latest.get(DEMAND_ID)
        if summation is None or demand is None:
            return
        if self._blocking_api:
            self._spawn(self._take_report_locked(summation, demand))
            return
        self.cache.append(Reading(self.now_unix(), summation, demand))

    async def _take_report_locked(self, summation: int, demand: int) -> None:
        async with self._lock:
            self.cache.append(Reading(self.now_unix(), summation, demand))

    # -- utility control traffic ---------------------------------------------------------------------------

    def _packet(self, packet: t.ZigbeePacket) -> None:
        if int(packet.cluster_id) == Metering.cluster_id and self._meter is not None:
            data = packet.data.serialize()
            # A Report Attributes (global, server to client, no manufacturer code) from the meter, APS-secured.
            if (len(data) >= 3 and data[0] & 0x0F == 0x08 and data[2] == GeneralCommand.Report_Attributes
                    and packet.tx_options & t.TransmitOptions.APS_Encryption
                    and packet.src is not None and int(packet.src.address) == self._meter.address):
                try:
                    self._take_report(self._decode_report(data[3:]))
                except MeterReadError as exc:
                    LOGGER.info("reference openseg dropped a meter report: %s", exc)
                return
        if self.faults.has(RELAYS_UTILITY_CONTROL) and int(packet.cluster_id) in UTILITY_CONTROL:
            self._relay(packet)
        # Kept only by a gateway whose server serves them (the exposes-drlc-event fault).
        if self.api.faults.expose_utility_events and int(packet.cluster_id) == Drlc.cluster_id:
            data = packet.data.serialize()
            # ZCL header (no manufacturer code): frame control, sequence number, command id (Load Control Event).
            if len(data) >= 7 and data[0] & 0x03 == 0x01 and data[2] == Drlc.ClientCommandDefs.load_control_event.id:
                self._utility_events.append({"issuer_event_id": int.from_bytes(data[3:7], "little"),
                                             "payload": data[3:].hex()})
        super()._packet(packet)

    def _relay(self, packet: t.ZigbeePacket) -> None:
        """The relays-utility-control fault: the utility's cluster command, as received, to every HAN device."""
        data = packet.data.serialize()
        if len(data) < 3 or data[0] & 0x03 != 0x01:
            return  # only cluster-specific commands
        relayed = t.ZigbeePacket(
            dst=t.AddrModeAddress(addr_mode=t.AddrMode.Broadcast, address=t.BroadcastAddress.ALL_DEVICES),
            dst_ep=t.uint8_t(0xFF), src_ep=t.uint8_t(self.endpoint), tsn=packet.tsn,
            profile_id=packet.profile_id, cluster_id=packet.cluster_id, data=t.SerializableBytes(data),
            tx_options=t.TransmitOptions.NONE,
        )
        self._spawn(self.node.send_packet(relayed))

    # -- power (DUT control power_off / power_on) ---------------------------------------------------------

    def power_off(self) -> None:
        """The power fails: the radio and the API go silent, RAM is lost, the cache's flash copy stays (with the
        newest record torn by the cut); the network settings, keys and the paired meter are non-volatile."""
        if not self.powered:
            return
        LOGGER.info("reference openseg: power off")
        self.powered = False
        self._flash = None if self.faults.has(CACHE_IN_RAM) else to_records(self.cache)
        for task in list(self._tasks):
            task.cancel()
        self.api.stop_listening()
        self.api.drop_connections()
        self.node.power_off()  # the radio goes silent and deaf; the stack's non-volatile state stays
        self.cache = ReadingCache(self.cache.window)
        self._latest.clear()
        self._last_report = -float("inf")

    def power_on(self) -> None:
        """The power returns: the radio and the API come back, the cache is restored from flash (each record's
        CRC checked) and the gateway goes on reading the meter it is paired with."""
        if self.powered:
            return
        LOGGER.info("reference openseg: power on")
        self.powered = True
        self.node.power_on()
        if self._flash is not None:
            self.cache = from_records(self._flash, self.cache.window, checked=not self.faults.has(TORN_RECORD_SERVED))
            self._flash = None
        self._serving = self.node.loop.create_task(self._serve())
        boot = SLOW_BOOT if self.faults.has(SLOW_RESUME) else 0.0
        self._booted_at = asyncio.get_running_loop().time() + boot
        if self.reads_started:
            self._spawn(self._resume(boot))

    async def _resume(self, boot: float) -> None:
        await asyncio.sleep(boot)
        await self._read_meter()

    # -- the api-blocks-meter-reads fault ------------------------------------------------------------------

    async def _serialised(self, request: Request, handler: Callable[[Request], Awaitable[Response]]) -> Response:
        async with self._lock:
            await asyncio.sleep(API_LOCK_HOLD)
            return await handler(request)

    # -- Green Button garbage faults (garbage.py) --------------------------------------------------------------

    async def _garbled_green_button(self, request: Request,
                                    handler: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await handler(request)
        rewrite = self._garble_green_button
        if rewrite is None or request.path != self.api.paths["greenbutton"] or response.status != 200:
            return response
        return Response(response.status, rewrite(bytes(response.body)), response.content_type)

    def factory_reset(self) -> None:
        super().factory_reset()
        # A factory reset wipes the gateway's data too: no meter, no cached readings, no reads until it rejoins.
        self.cache = type(self.cache)(self.cache.window) if type(self.cache) is ReadingCache else _WrapLosingCache(
            self.cache.window, int(self.cache.window / self.read_interval))
        self._meter_info = None
        self._meter = None
        self._utility_events.clear()
        self._latest.clear()
        self._last_report = -float("inf")
        self.reads_started = False

    def close(self) -> None:
        self.api.stop_listening()
        self._spawn_cleanup()
        super().close()

    def _spawn_cleanup(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        loop.create_task(self.api.close())


def _with_ieee(info: MeterInfo, ieee: int) -> MeterInfo:
    import dataclasses

    text = ":".join(f"{b:02X}" for b in ieee.to_bytes(8, "big"))
    return dataclasses.replace(info, ieee=text)

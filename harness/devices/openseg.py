"""The reference OpenSEG gateway (LBNL Open Smart Energy Gateway): a consumer-owned HAN device that pairs with
the utility meter and serves its data to the home network (docs/openseg-api.md).

It joins with its install code, completes CBKE, takes the time from the ESI, finds the meter by service
discovery (a broadcast Match_Desc for a Simple Metering server on the SE profile; the first answer is its
meter), reads the meter's formatting once, then has the meter report: Configure Reporting on Simple Metering
asks for CurrentSummationDelivered and InstantaneousDemand every ``meter_read_interval`` (a PIXIT, 4 s by
default; min = max interval), the way a Smart Energy client follows a meter without polling it. Each report
becomes a cached reading; if reports stop for three intervals (the meter restarted) it configures reporting
again. It never writes to or commands the meter, carries no DRLC/Price/Messaging client (utility control
frames get UNSUPPORTED_CLUSTER and go no further), keeps a 48-hour circular cache and serves the consumer API
with aiohttp on the bench's loop, to its home network only. It presents itself as an In-Premise Display
(device id 0x0502), as commercial gateways do.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

import zigpy.types as t
from aiohttp import web
from zigpy.zcl.foundation import DataTypeId, GeneralCommand, Status

from harness.ke.sim import ieee_resolver
from harness.openseg.api import CACHE_HOURS
from harness.openseg.cache import Reading, ReadingCache
from harness.openseg.network import HomeNetwork
from harness.openseg.server import GatewayApi, MeterInfo, ServerFaults
from harness.se.clusters import Basic, Drlc, KeyEstablishment, Metering, Price, Time
from harness.se.datamodel import Side, load_datamodel
from harness.sim.discovery import RX_ON_WHEN_IDLE, DiscoveryError, find_se_server
from harness.zcl import ZclError
from harness.zcl.engine import report_reporting_config
from harness.zcl.peer import Peer

from .application import ESI, ApplicationDevice
from .faults import Behaviour, Fault, Setting
from .garbage import GREEN_BUTTON_FAULTS, green_button_rewrite

LOGGER = logging.getLogger(__name__)

_METER = Metering.AttributeDefs
FORMATTING_ATTRIBUTES = (_METER.unit_of_measure, _METER.multiplier, _METER.divisor, _METER.summation_formatting,
                         _METER.demand_formatting, _METER.metering_device_type, _METER.status)
LIVE_ATTRIBUTES = (_METER.current_summation_delivered.id, _METER.instantaneous_demand.id)
READ_TIMEOUT = 3.0  # a read or Configure Reporting not answered by then is tried again later
FORMATTING_RETRY = 30.0
METER_DISCOVERY_TSN = 0x4D  # its own ZDO sequence number, apart from the KE server discovery's
SILENT_INTERVALS = 3  # no report for this many intervals: configure reporting again
PRICE_READ_PERIOD = 900.0  # the reads-price fault reads the ESI's Price cluster every 15 minutes


@dataclass(frozen=True)
class ServerSetting(Setting):
    """A rule the gateway's consumer API server breaks (harness.openseg.server.ServerFaults)."""

    of: ClassVar[type] = ServerFaults


# The gateway's own behaviours, which this module implements.
READS_BEFORE_KEY_ESTABLISHMENT = Fault(
    "reads-before-key-establishment", "starts reading the meter as soon as it joined, before CBKE completed",
    ("TC-OSEG-1.1",), Behaviour())
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
    "api-blocks-meter-reads", "takes in meter reports and serves API requests under one lock, one second per "
    "request", ("TC-OSEG-7.1",), Behaviour())

OPENSEG = [
    READS_BEFORE_KEY_ESTABLISHMENT,
    READS_PRICE,
    REQUESTS_FAST_POLL,
    EXPOSES_DRLC_EVENT,
    Fault("ignores-multiplier", "scales raw values by 1 / Divisor, ignoring the Multiplier",
          ("TC-OSEG-3.2", "TC-OSEG-5.1"), ServerSetting("ignore_multiplier")),
    Fault("ignores-formatting", "rounds values to whole kWh / kW, ignoring the formatting's digits right",
          ("TC-OSEG-3.2",), ServerSetting("ignore_formatting")),
    CACHE_47_HOURS,
    CACHE_49_HOURS,
    DROPS_READINGS_AT_WRAP,
    Fault("greenbutton-zcl-epoch", "writes Green Button times as ZCL UTC (seconds since 2000)", ("TC-OSEG-5.1",),
          ServerSetting("zcl_epoch_greenbutton")),
    Fault("greenbutton-uom-w", "labels Green Button energy intervals with uom 38 (W) instead of 72 (Wh)",
          ("TC-OSEG-5.1",), ServerSetting("greenbutton_uom_w")),
    Fault("answers-foreign-network", "serves clients outside its home network", ("TC-OSEG-6.1",),
          ServerSetting("answer_foreign")),
    Fault("dies-on-malformed", "stops serving after a malformed request", ("TC-OSEG-6.2",),
          ServerSetting("die_on_malformed")),
    # The utility-control paths are unknown paths to a conformant gateway; TC-OSEG-3.1 checks they answer 404.
    Fault("unknown-path-ok", "answers unknown paths 200 with its resource index", ("TC-OSEG-3.1", "TC-OSEG-6.3"),
          ServerSetting("unknown_path_ok")),
    Fault("accepts-any-method", "serves POST and DELETE like GET", ("TC-OSEG-6.4",), ServerSetting("any_method")),
    API_BLOCKS_METER_READS,
]


class MeterReadError(ValueError):
    """A Read Attributes Response or Report Attributes from the meter that does not decode (the message says why)."""


#: ZCL data types of the Metering attributes the gateway reads: type id -> (size, signed).
_TYPES: dict[int, tuple[int, bool]] = {
    DataTypeId.uint48: (6, False), DataTypeId.int24: (3, True), DataTypeId.uint24: (3, False),
    DataTypeId.map8: (1, False), DataTypeId.enum8: (1, False),
}


def decode_read_response(payload: bytes) -> dict[int, int]:
    """attribute id -> value of the SUCCESS records of a Read Attributes Response payload."""
    values, i = {}, 0
    while i < len(payload):
        if i + 3 > len(payload):
            raise MeterReadError(f"read response record at byte {i} is truncated: {payload.hex()}")
        attr_id, status = int.from_bytes(payload[i:i + 2], "little"), payload[i + 2]
        i += 3
        if status != Status.SUCCESS:
            continue
        if i >= len(payload) or payload[i] not in _TYPES:
            raise MeterReadError(f"attribute 0x{attr_id:04X}: unexpected data type in {payload.hex()}")
        size, signed = _TYPES[payload[i]]
        if i + 1 + size > len(payload):
            raise MeterReadError(f"attribute 0x{attr_id:04X}: value truncated in {payload.hex()}")
        values[attr_id] = int.from_bytes(payload[i + 1:i + 1 + size], "little", signed=signed)
        i += 1 + size
    return values


def decode_report(payload: bytes) -> dict[int, int]:
    """attribute id -> value of a Report Attributes payload (attribute id, data type, value per record)."""
    values, i = {}, 0
    while i < len(payload):
        if i + 3 > len(payload) or payload[i + 2] not in _TYPES:
            raise MeterReadError(f"report record at byte {i} is truncated or of an unexpected type: {payload.hex()}")
        attr_id = int.from_bytes(payload[i:i + 2], "little")
        size, signed = _TYPES[payload[i + 2]]
        if i + 3 + size > len(payload):
            raise MeterReadError(f"attribute 0x{attr_id:04X}: value truncated in {payload.hex()}")
        values[attr_id] = int.from_bytes(payload[i + 3:i + 3 + size], "little", signed=signed)
        i += 3 + size
    return values


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
    faults_catalogue = {fault.name: fault for fault in (*OPENSEG, *GREEN_BUTTON_FAULTS)}

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
        self.reads_started = False
        api = profile.openseg
        if api is None:
            raise ValueError(f"sim:{self.model} needs an openseg section in its DUT profile")
        self._host = urlsplit(api.base_url).hostname or "127.0.0.1"
        self._port = urlsplit(api.base_url).port or 0
        self.api = GatewayApi(self, HomeNetwork([api.home_network]), dict(api.paths),
                              self.faults.settings(ServerFaults))
        if self.faults.has(API_BLOCKS_METER_READS):
            self.api.app.middlewares.append(self._serialised)
        self._garble_green_button = green_button_rewrite(self.faults)
        if self._garble_green_button is not None:
            self.api.app.middlewares.append(self._garbled_green_button)
        self.api_url: str | None = None
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
        port = await self.api.start(self._host, self._port)
        self.api_url = f"http://{self._host}:{port}"

    async def wait_api(self) -> str:
        """The API's base URL once it listens (the simulated gateway binds a free port)."""
        await asyncio.shield(self._serving)
        assert self.api_url is not None
        return self.api_url

    # -- on the network ---------------------------------------------------------------------------------

    async def start_applications(self) -> None:
        await super().start_applications()
        if self.ke is not None and not (self.ke_outcome is not None and self.ke_outcome.success):
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
        """Formatting once, then reports every read interval; configure again whenever reports stop."""
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

    def _take_report(self, values: dict[int, int]) -> None:
        self._last_report = asyncio.get_running_loop().time()
        self._latest.update((a, v) for a, v in values.items() if a in LIVE_ATTRIBUTES)
        summation, demand = LIVE_ATTRIBUTES
        if summation not in values or demand not in self._latest:
            return
        if self.faults.has(API_BLOCKS_METER_READS):
            self._spawn(self._take_report_locked(values[summation], self._latest[demand]))
            return
        self.cache.append(Reading(self.now_unix(), values[summation], self._latest[demand]))

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
                    self._take_report(decode_report(data[3:]))
                except MeterReadError as exc:
                    LOGGER.info("reference openseg dropped a meter report: %s", exc)
                return
        # Kept only by a gateway whose server serves them (the exposes-drlc-event fault).
        if self.api.faults.expose_utility_events and int(packet.cluster_id) == Drlc.cluster_id:
            data = packet.data.serialize()
            # ZCL header (no manufacturer code): frame control, sequence number, command id (Load Control Event).
            if len(data) >= 7 and data[0] & 0x03 == 0x01 and data[2] == Drlc.ClientCommandDefs.load_control_event.id:
                self._utility_events.append({"issuer_event_id": int.from_bytes(data[3:7], "little"),
                                             "payload": data[3:].hex()})
        super()._packet(packet)

    # -- the api-blocks-meter-reads fault ------------------------------------------------------------------

    @web.middleware
    async def _serialised(self, request: web.Request, handler) -> web.StreamResponse:
        async with self._lock:
            await asyncio.sleep(1.0)
            return await handler(request)

    # -- Green Button garbage faults (garbage.py) --------------------------------------------------------------

    @web.middleware
    async def _garbled_green_button(self, request: web.Request, handler) -> web.StreamResponse:
        response = await handler(request)
        rewrite = self._garble_green_button
        if (rewrite is None or request.path != self.api.paths["greenbutton"] or response.status != 200
                or not isinstance(response, web.Response) or response.body is None):
            return response
        return web.Response(status=response.status, body=rewrite(bytes(response.body)),
                            content_type=response.content_type)

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

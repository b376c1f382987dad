"""The reference gateway's side of the OpenSEG consumer API (docs/openseg-api.md): an aiohttp server on the
bench's loop that answers only its home network, serves the metering resources from a GatewayData source,
answers every error with the profile's JSON body, and never serves a utility-control resource.

Seeded faults (ServerFaults, set by a gateway fault's ``ServerSetting`` in harness/devices/openseg.py) make it
break one rule each, for the fault matrix.
"""

from __future__ import annotations

import asyncio
import bisect
import dataclasses
import json
import logging
import math
from decimal import Decimal
from typing import Any, Protocol

from aiohttp import web

from harness.clock import ZCL_UNIX_OFFSET
from harness.se.metering import MeterFormatting, digits_right

from . import greenbutton as gb
from .api import ATOM_XML, FILTERED, GREEN_BUTTON_INTERVAL, RANGE_RESOURCES, error_body, resolve_paths
from .cache import ReadingCache
from .network import HomeNetwork

LOGGER = logging.getLogger(__name__)
MAX_RANGE_SECONDS = 7 * 24 * 3600


@dataclasses.dataclass(frozen=True)
class MeterInfo:
    """What the gateway learned from the meter's formatting attributes."""

    ieee: str
    unit_of_measure: int
    multiplier: int
    divisor: int
    summation_formatting: int
    demand_formatting: int
    metering_device_type: int
    status: int = 0

    @property
    def formatting(self) -> MeterFormatting:
        return MeterFormatting(self.multiplier, self.divisor, self.summation_formatting, self.demand_formatting,
                               self.unit_of_measure)


class GatewayData(Protocol):
    """What the API serves: the gateway's view of the meter and its cache."""

    cache: ReadingCache
    read_interval: float

    def meter_info(self) -> MeterInfo | None: ...

    def now_unix(self) -> float: ...

    def utility_events(self) -> list[dict[str, Any]]: ...


@dataclasses.dataclass(frozen=True)
class ServerFaults:
    answer_foreign: bool = False  # serves clients outside the home network
    die_on_malformed: bool = False  # stops serving after a malformed request
    zcl_epoch_greenbutton: bool = False  # writes Green Button times as ZCL UTC (2000 epoch)
    unknown_path_ok: bool = False  # answers unknown paths 200 with an index
    any_method: bool = False  # serves POST/PUT/DELETE like GET
    ignore_multiplier: bool = False  # scales raw x 1 / Divisor
    ignore_formatting: bool = False  # rounds values to whole units, ignoring the formatting's digits right
    greenbutton_uom_w: bool = False  # labels energy intervals with uom 38 (W)
    expose_utility_events: bool = False  # serves DRLC events received from the utility on the drlc path


class BadRequest(ValueError):
    """A request the profile calls malformed; the message is the error body's reason."""


def _json(status: int, body: object) -> web.Response:
    return web.Response(status=status, text=json.dumps(body, separators=(",", ":")), content_type="application/json")


def _error(status: int, reason: str, **headers: str) -> web.Response:
    response = _json(status, error_body(status, reason))
    response.headers.update(headers)
    return response


def _time_range(request: web.Request) -> tuple[int, int]:
    values = {}
    for name in ("start", "end"):
        text = request.query.get(name)
        if text is None:
            raise BadRequest(f"query parameter {name} (Unix seconds) is missing")
        if not text.isdigit() or len(text) > 12:
            raise BadRequest(f"query parameter {name}={text[:40]!r} is not Unix seconds")
        values[name] = int(text)
    if values["end"] <= values["start"]:
        raise BadRequest(f"end {values['end']} is not after start {values['start']}")
    if values["end"] - values["start"] > MAX_RANGE_SECONDS:
        raise BadRequest(f"range of {values['end'] - values['start']} s exceeds {MAX_RANGE_SECONDS} s")
    return values["start"], values["end"]


class GatewayApi:
    """The aiohttp application and its listening site; ``await start(host, port)`` returns the bound port."""

    def __init__(self, data: GatewayData, home: HomeNetwork, paths: dict[str, str] | None = None,
                 faults: ServerFaults | None = None) -> None:
        self.data = data
        self.home = home
        self.paths = resolve_paths(paths)
        self.names = {path: name for name, path in self.paths.items()}
        self.faults = faults or ServerFaults()
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.requests_served = 0

    async def start(self, host: str, port: int = 0) -> int:
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, host, port)
        await self._site.start()
        server = self._site._server
        assert server is not None and server.sockets
        return int(server.sockets[0].getsockname()[1])

    def stop_listening(self) -> None:
        """Close the listening socket now (synchronous; used by close and by the die-on-malformed fault)."""
        if self._site is not None and self._site._server is not None:
            self._site._server.close()

    async def close(self) -> None:
        self.stop_listening()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- dispatch ------------------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests_served += 1
        if not self.home.contains(request.remote) and not self.faults.answer_foreign:
            return _error(403, f"client {request.remote} is outside the home network")
        name = self.names.get(request.path)
        if name is None or name in FILTERED:
            if name == "drlc" and self.faults.expose_utility_events:
                return _json(200, {"events": self.data.utility_events()})
            if self.faults.unknown_path_ok:
                return _json(200, {"resources": sorted(self.paths)})
            return _error(404, f"no resource {request.path[:80]!r}")
        if request.method != "GET" and not self.faults.any_method:
            return _error(405, f"{request.method} is not allowed on {request.path}", Allow="GET")
        try:
            return await getattr(self, f"_{name}")(request)
        except BadRequest as exc:
            if self.faults.die_on_malformed:
                # It still answers this request 400, as a conformant gateway does, so the fault seeds exactly
                # the rule "malformed requests must not stop the gateway" and nothing else.
                LOGGER.info("reference gateway (fault die-on-malformed) stops serving after this answer")
                asyncio.get_running_loop().call_soon(self.stop_listening)
            return _error(400, str(exc))

    # -- resources -----------------------------------------------------------------------------------

    def _info(self) -> MeterInfo:
        info = self.data.meter_info()
        if info is None:
            raise web.HTTPServiceUnavailable(text=json.dumps(error_body(503, "no meter data yet")),
                                             content_type="application/json")
        return info

    def _value(self, raw: int, info: MeterInfo, formatting: int) -> float:
        multiplier = 1 if self.faults.ignore_multiplier else info.multiplier
        value = Decimal(raw) * multiplier / Decimal(info.divisor)
        digits = 0 if self.faults.ignore_formatting else digits_right(formatting)
        return float(value.quantize(Decimal(1).scaleb(-digits)))

    async def _meter(self, request: web.Request) -> web.Response:
        info = self._info()
        return _json(200, {"meter": dataclasses.asdict(info)})

    def _latest(self, attribute: str, unit: str, formatting: int) -> web.Response:
        info = self._info()
        reading = self.data.cache.latest()
        if reading is None:
            return _error(503, "no meter data yet")
        raw = getattr(reading, attribute)
        return _json(200, {attribute: {"raw": raw, "value": self._value(raw, info, formatting), "unit": unit,
                                       "read_at": round(reading.time, 3)}})

    async def _demand(self, request: web.Request) -> web.Response:
        return self._latest("demand", "kW", self._info().demand_formatting)

    async def _summation(self, request: web.Request) -> web.Response:
        return self._latest("summation", "kWh", self._info().summation_formatting)

    async def _readings(self, request: web.Request) -> web.Response:
        start, end = _time_range(request)
        self.data.cache.evict(self.data.now_unix())  # the window is the last 48 h as of now, not of the last read
        rows = [[round(r.time, 3), r.summation, r.demand] for r in self.data.cache.between(start, end)]
        return _json(200, {"start": start, "end": end, "interval": self.data.read_interval, "readings": rows})

    async def _greenbutton(self, request: web.Request) -> web.Response:
        start, end = _time_range(request)
        info = self._info()
        self.data.cache.evict(self.data.now_unix())
        multiplier = 1 if self.faults.ignore_multiplier else info.multiplier
        power = gb.power_of_ten_for(multiplier, info.divisor)
        times, readings = self.data.cache.snapshot()

        def summation_at(moment: int) -> int | None:
            index = bisect.bisect_right(times, moment)
            return readings[index - 1].summation if index else None

        step = GREEN_BUTTON_INTERVAL
        intervals = []
        for begin in range(math.ceil(start / step) * step, end - step + 1, step):
            first, last = summation_at(begin), summation_at(begin + step)
            if first is None or last is None:
                continue  # no reading at or before the interval's start: the cache does not cover it
            stamp = begin - ZCL_UNIX_OFFSET if self.faults.zcl_epoch_greenbutton else begin
            intervals.append(gb.IntervalReading(stamp, step, gb.raw_to_value(last - first, multiplier, info.divisor, power)))
        reading_type = gb.ReadingType(
            uom=gb.UOM_W if self.faults.greenbutton_uom_w else gb.UOM_WH, power_of_ten=power,
            accumulation=gb.ACCUMULATION_DELTA, kind=gb.KIND_ENERGY, interval_length=step,
            commodity=gb.COMMODITY_ELECTRICITY_SECONDARY, flow_direction=gb.FLOW_FORWARD,
        )
        body = gb.build_feed(intervals, reading_type, updated=int(self.data.now_unix()),
                             base_url=f"http://{request.host}{self.paths['greenbutton']}")
        return web.Response(status=200, body=body, content_type=ATOM_XML)


__all__ = ["BadRequest", "GatewayApi", "GatewayData", "MeterInfo", "RANGE_RESOURCES", "ServerFaults"]

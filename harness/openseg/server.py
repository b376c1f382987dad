"""The reference gateway's side of the OpenSEG consumer API (docs/openseg-api.md): a small HTTP/1.1 server of its
own on the bench's loop (asyncio streams on real sockets) that answers only its home network, serves the
metering resources from a GatewayData source, answers every error with the profile's JSON body, never serves a
utility-control resource, and holds up against a hostile home-network client: a request head over the profile's
limit gets 431, a body over it 413, a head not complete within the head timeout closes the connection (after a
408), time parameters are ASCII digits only, and a thousand clients at once are all answered.

The server is the gateway's own rather than aiohttp's because aiohttp's server has no request-head timeout
(a slowloris connection stays open for ever) and answers an oversized head 400, both of which the profile
forbids.

Seeded faults (ServerFaults, set by a gateway fault's ``ServerSetting`` in harness/devices/openseg.py) make it
break one rule each, for the fault matrix.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import dataclasses
import json
import logging
import math
import re
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from harness.clock import ZCL_UNIX_OFFSET
from harness.se.metering import MeterFormatting, digits_right

from . import greenbutton as gb
from .api import (
    API_LATENCY,
    ATOM_XML,
    BODY_TIMEOUT,
    FILTERED,
    GREEN_BUTTON_INTERVAL,
    HEAD_TIMEOUT,
    JSON,
    MAX_BODY,
    MAX_HEAD,
    MAX_RANGE_SECONDS,
    MAX_TIME_DIGITS,
    RANGE_RESOURCES,
    error_body,
    resolve_paths,
)
from .cache import Reading, ReadingCache
from .network import HomeNetwork

LOGGER = logging.getLogger(__name__)

#: Connections the connection-cap fault serves at once (the rest are closed unanswered).
CAPPED_CONNECTIONS = 128
#: How late the slow-answers fault answers (half again the profile's latency).
SLOW_ANSWER = 1.5 * API_LATENCY
#: After an error answer the server reads (and drops) what the client still sends for at most this long before
#: it closes, so the client reads the answer instead of a reset.
LINGER = 2.0
BACKLOG = 2048
_CHUNK = 64 * 1024
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TARGET = re.compile(rb"[\x21-\x7e]+")  # visible ASCII: no spaces, controls or raw non-ASCII bytes
_UNIX_SECONDS = re.compile(f"[0-9]{{1,{MAX_TIME_DIGITS}}}")  # ASCII digits only (not str.isdigit's)
_HEX = re.compile(rb"[0-9A-Fa-f]{1,8}")
_SINGLE = ("host", "content-length", "transfer-encoding")  # fields a request carries once (RFC 9112 3.2, 6.3)
REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
           408: "Request Timeout", 413: "Content Too Large", 431: "Request Header Fields Too Large",
           500: "Internal Server Error", 503: "Service Unavailable"}


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
    unicode_digits: bool = False  # reads time parameters with str.isdigit and int(): 500 for '²', '٣' taken as 3
    range_second_too_long: bool = False  # serves a range of 7 days and 1 s
    oversized_answered_400: bool = False  # answers an oversized head or body 400 instead of 431 / 413
    idle_head_timeout: bool = False  # times a request head out only after that long without a byte
    connection_cap: bool = False  # serves CAPPED_CONNECTIONS connections at once, closes the rest unanswered
    read_at_served: bool = False  # read_at is when the API served the value, not when the meter measured it
    stale_reading: bool = False  # serves the reading before the newest
    range_slop: bool = False  # readings one read interval beyond each end of the requested range
    no_data_404: bool = False  # a range without cached readings answers 404
    slow_answers: bool = False  # answers every request SLOW_ANSWER seconds late
    listen_everywhere: bool = False  # listens on every address of the host (0.0.0.0), not only the home one
    greenbutton_no_local_time: bool = False  # leaves LocalTimeParameters out of the Green Button export
    greenbutton_last_day: bool = False  # exports at most the last 24 hours of a longer range
    ignore_chunked: bool = False  # does not read a chunked request body: its chunks are taken as the next request
    absolute_form_refused: bool = False  # answers an absolute-form request target (http://host/path) 400
    no_body_timeout: bool = False  # waits for an announced request body without a deadline
    head_limit_at_end: bool = False  # sizes a request head only once it ends: a head that never ends is buffered
    chunked_unlimited: bool = False  # reads a chunked request body of any size (the limit is on Content-Length)
    body_with_head_only: bool = False  # takes only the body bytes that came with the head, and waits for no more
    non_utf8_target_500: bool = False  # a percent-decoded target that is not UTF-8 breaks the handler: 500
    raw_target_bytes_dropped: bool = False  # drops a target's bytes outside visible ASCII and serves the rest
    ended_head_unlimited: bool = False  # serves a head over the limit that ended in the read that passed it
    chunk_crlf_unchecked: bool = False  # takes whatever follows a chunk's data, up to the next CRLF, as its CRLF
    any_coding_chunked: bool = False  # reads a body of any transfer coding (gzip, ...) as chunked


# -- HTTP messages ---------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Request:
    method: str
    path: str  # percent-decoded
    query: tuple[tuple[str, str], ...]  # decoded name, value pairs in order
    headers: dict[str, str]  # lower-case names
    remote: str | None
    host: str


@dataclasses.dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = JSON
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


Handler = Callable[[Request], Awaitable[Response]]
Middleware = Callable[[Request, Handler], Awaitable[Response]]


class BadRequest(ValueError):
    """A request the profile calls malformed; the message is the error body's reason."""


class NoMeterData(LookupError):
    """Nothing read from the meter yet (503)."""


class _HttpError(Exception):
    """A request the HTTP layer refuses before any resource sees it (the connection closes after the answer)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def _json(status: int, body: object) -> Response:
    return Response(status, json.dumps(body, separators=(",", ":")).encode(), JSON)


def _error(status: int, reason: str, **headers: str) -> Response:
    return Response(status, json.dumps(error_body(status, reason), separators=(",", ":")).encode(), JSON,
                    dict(headers))


def _encode(response: Response, close: bool) -> bytes:
    head = [f"HTTP/1.1 {response.status} {REASONS.get(response.status, 'Status')}",
            f"Content-Type: {response.content_type}", f"Content-Length: {len(response.body)}",
            f"Connection: {'close' if close else 'keep-alive'}",
            *(f"{name}: {value}" for name, value in response.headers.items()
              if name.lower() not in ("content-type", "content-length", "connection"))]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + bytes(response.body)


class _Connection:
    """One client connection: its reader and writer, and what was read beyond the last request."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.buffer = bytearray()
        peer = writer.get_extra_info("peername")
        self.remote: str | None = peer[0] if isinstance(peer, tuple) and peer else None

    async def fill(self, deadline: float | None) -> bool:
        """Read more into the buffer before *deadline* (loop time); False at the end of the stream."""
        if deadline is None:
            chunk = await self.reader.read(_CHUNK)
        else:
            async with asyncio.timeout_at(deadline):
                chunk = await self.reader.read(_CHUNK)
        self.buffer += chunk
        return bool(chunk)

    def take(self, count: int) -> bytes:
        data = bytes(self.buffer[:count])
        del self.buffer[:count]
        return data


# -- the API --------------------------------------------------------------------------------------------------

class GatewayApi:
    """The gateway's HTTP server and its resources; ``await start(host, port)`` returns the bound port."""

    def __init__(self, data: GatewayData, home: HomeNetwork, paths: dict[str, str] | None = None,
                 faults: ServerFaults | None = None) -> None:
        self.data = data
        self.home = home
        self.paths = resolve_paths(paths)
        self.names = {path: name for name, path in self.paths.items()}
        self.faults = faults or ServerFaults()
        #: Wrappers around the resources, outermost last (a device's fault behaviours).
        self.middlewares: list[Middleware] = []
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self.requests_served = 0

    async def start(self, host: str, port: int = 0) -> int:
        bind = "0.0.0.0" if self.faults.listen_everywhere else host
        self._server = await asyncio.start_server(self._accept, bind, port, backlog=BACKLOG, reuse_address=True)
        sockets = self._server.sockets
        assert sockets
        return int(sockets[0].getsockname()[1])

    def stop_listening(self) -> None:
        """Close the listening socket now (synchronous; used by close, a power cut and die-on-malformed)."""
        if self._server is not None:
            self._server.close()

    def drop_connections(self) -> None:
        """Cut every open connection (the power failed)."""
        for task in list(self._connections):
            task.cancel()

    async def close(self) -> None:
        self.stop_listening()
        self.drop_connections()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        self._server = None

    # -- HTTP ------------------------------------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if self.faults.connection_cap and len(self._connections) >= CAPPED_CONNECTIONS:
            writer.close()  # a full worker pool: the client gets no answer
            return
        self._connections.add(task)
        try:
            await self._serve(_Connection(reader, writer))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away
        finally:
            self._connections.discard(task)
            writer.close()

    async def _serve(self, connection: _Connection) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                request, close = await self._read_request(connection, loop.time() + HEAD_TIMEOUT)
            except EOFError:
                return  # the client closed between requests (or before its head was complete)
            except TimeoutError:
                LOGGER.info("reference gateway: request not complete in time (head %g s, body %g s), closing",
                            HEAD_TIMEOUT, BODY_TIMEOUT)
                await self._answer_and_close(connection, _error(408, f"request not complete within {HEAD_TIMEOUT:g} s "
                                                                    f"(head) or {BODY_TIMEOUT:g} s (body)"))
                return
            except _HttpError as exc:
                await self._answer_and_close(connection, _error(exc.status, str(exc)))
                return
            response = await self._handle(request)
            connection.writer.write(_encode(response, close))
            await connection.writer.drain()
            if close:
                return

    async def _answer_and_close(self, connection: _Connection, response: Response) -> None:
        """Answer, stop sending, and read what the client still sends until it closes (or LINGER passes), so a
        client that sent more than was read gets the answer rather than a connection reset."""
        writer = connection.writer
        with contextlib.suppress(ConnectionError):
            writer.write(_encode(response, True))
            await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(LINGER):
                    while await connection.reader.read(_CHUNK):
                        pass

    async def _read_head(self, connection: _Connection, deadline: float) -> bytes:
        """The request head up to its empty line; TimeoutError past the deadline, EOFError when the client closes,
        _HttpError 431 once the head is over MAX_HEAD bytes."""
        loop = asyncio.get_running_loop()
        searched = 0
        while True:
            end = connection.buffer.find(b"\r\n\r\n", max(0, searched - 3))
            if end >= 0:
                if end + 4 > MAX_HEAD and not self.faults.ended_head_unlimited:
                    raise self._oversized(431, f"request head of {end + 4} bytes exceeds {MAX_HEAD}")
                return connection.take(end + 4)
            searched = len(connection.buffer)
            if searched >= MAX_HEAD and not self.faults.head_limit_at_end:
                raise self._oversized(431, f"request head exceeds {MAX_HEAD} bytes")
            wait_until = loop.time() + HEAD_TIMEOUT if self.faults.idle_head_timeout else deadline
            if not await connection.fill(wait_until):
                raise EOFError

    def _oversized(self, status: int, reason: str) -> _HttpError:
        return _HttpError(400 if self.faults.oversized_answered_400 else status, reason)

    async def _read_request(self, connection: _Connection, deadline: float) -> tuple[Request, bool]:
        head = await self._read_head(connection, deadline)
        lines = head[:-4].split(b"\r\n")
        parts = lines[0].split(b" ")
        if len(parts) != 3 or not _TOKEN.fullmatch(parts[0]) or parts[2] not in (b"HTTP/1.1", b"HTTP/1.0"):
            raise _HttpError(400, f"request line {lines[0][:60]!r} is not 'METHOD target HTTP/1.1'")
        method, target, version = parts[0].decode(), parts[1], parts[2]
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon or not _TOKEN.fullmatch(name):
                raise _HttpError(400, f"header line {line[:60]!r} is not 'name: value'")
            key = name.decode().lower()
            text = value.strip(b" \t").decode("latin-1")
            if key not in headers:
                headers[key] = text
            elif key in _SINGLE:
                if headers[key] != text:
                    raise _HttpError(400, f"header {key} given twice with different values")
            else:
                headers[key] = f"{headers[key]}, {text}"  # a list-valued field (RFC 9110 5.3)
        if version == b"HTTP/1.1" and "host" not in headers:
            raise _HttpError(400, "HTTP/1.1 request without Host")
        path, query = self._target(target, self.faults)
        await self._read_body(connection, headers, asyncio.get_running_loop().time() + BODY_TIMEOUT)
        tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
        close = version == b"HTTP/1.0" or "close" in tokens
        return Request(method, path, query, headers, connection.remote, headers.get("host", "")), close

    @staticmethod
    def _target(target: bytes, faults: ServerFaults) -> tuple[str, tuple[tuple[str, str], ...]]:
        if faults.raw_target_bytes_dropped:
            target = bytes(b for b in target if 0x21 <= b <= 0x7E)
        if not _TARGET.fullmatch(target) or b"#" in target:
            raise _HttpError(400, f"request target {target[:60]!r} is not a visible-ASCII path")
        text = target.decode("ascii")
        if not text.startswith("/"):
            if faults.absolute_form_refused:
                raise _HttpError(400, f"request target {text[:60]!r} is not a path")
            parts = urlsplit(text)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise _HttpError(400, f"request target {text[:60]!r} is neither a path nor an absolute URL")
            text = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        raw_path, _, raw_query = text.partition("?")
        try:
            path = unquote(raw_path, errors="strict")
            query = tuple(parse_qsl(raw_query, keep_blank_values=True, errors="strict"))
        except (UnicodeDecodeError, ValueError):
            if faults.non_utf8_target_500:
                raise _HttpError(500, f"request target {text[:60]!r}: UnicodeDecodeError") from None
            raise _HttpError(400, f"request target {text[:60]!r} is not UTF-8 when percent-decoded") from None
        return path, query

    async def _read_body(self, connection: _Connection, headers: dict[str, str], deadline: float) -> None:
        """Read (and drop) the request's body: no resource takes one."""
        length_text = headers.get("content-length")
        coding = headers.get("transfer-encoding")
        if (coding is not None or length_text is not None) and self.faults.no_body_timeout:
            deadline = asyncio.get_running_loop().time() + 1e9  # the fault: in effect, never
        if coding is not None:
            if self.faults.ignore_chunked:
                return
            if length_text is not None or (coding.lower() != "chunked" and not self.faults.any_coding_chunked):
                raise _HttpError(400, "only 'Transfer-Encoding: chunked', without Content-Length, is understood")
            await self._read_chunked(connection, deadline)
            return
        if length_text is None:
            return
        if not re.fullmatch(r"[0-9]{1,19}", length_text):
            raise _HttpError(400, f"Content-Length {length_text[:30]!r} is not a number of bytes")
        length = int(length_text)
        if length > MAX_BODY:
            raise self._oversized(413, f"request body of {length} bytes exceeds {MAX_BODY}")
        await self._skip(connection, length, deadline)

    async def _skip(self, connection: _Connection, count: int, deadline: float) -> None:
        if self.faults.body_with_head_only and len(connection.buffer) < count:
            raise EOFError  # the fault: a body that did not come with its head is never read
        while len(connection.buffer) < count:
            if not await connection.fill(deadline):
                raise EOFError
        connection.take(count)

    async def _read_chunked(self, connection: _Connection, deadline: float) -> None:
        total = 0
        while True:
            line = await self._line(connection, deadline)
            size_text = line.split(b";", 1)[0].strip()
            if not _HEX.fullmatch(size_text):
                raise _HttpError(400, f"chunk size {size_text[:20]!r} is not hexadecimal")
            size = int(size_text, 16)
            total += size
            if total > MAX_BODY and not self.faults.chunked_unlimited:
                raise self._oversized(413, f"chunked request body exceeds {MAX_BODY} bytes")
            if size == 0:
                while await self._line(connection, deadline):
                    pass  # trailer fields, up to the empty line
                return
            await self._skip(connection, size, deadline)
            if await self._line(connection, deadline) != b"" and not self.faults.chunk_crlf_unchecked:
                raise _HttpError(400, "chunk data not followed by CRLF")

    async def _line(self, connection: _Connection, deadline: float) -> bytes:
        while (end := connection.buffer.find(b"\r\n")) < 0:
            if len(connection.buffer) > 1024:
                raise _HttpError(400, "chunk line too long")
            if not await connection.fill(deadline):
                raise EOFError
        return connection.take(end + 2)[:-2]

    # -- dispatch ------------------------------------------------------------------------------------------

    async def _handle(self, request: Request) -> Response:
        handler: Handler = self._dispatch
        for middleware in self.middlewares:
            handler = _wrap(middleware, handler)
        if self.faults.slow_answers:
            await asyncio.sleep(SLOW_ANSWER)
        try:
            return await handler(request)
        except Exception as exc:  # a broken resource answers 500, as a web framework would
            LOGGER.info("reference gateway: %s %s failed: %s: %s", request.method, request.path,
                        type(exc).__name__, exc)
            return _error(500, f"internal error: {type(exc).__name__}")

    async def _dispatch(self, request: Request) -> Response:
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
            response: Response = await getattr(self, f"_{name}")(request)
            return response
        except NoMeterData:
            return _error(503, "no meter data yet")
        except BadRequest as exc:
            if self.faults.die_on_malformed:
                # It still answers this request 400, as a conformant gateway does, so the fault seeds exactly
                # the rule "malformed requests must not stop the gateway" and nothing else.
                LOGGER.info("reference gateway (fault die-on-malformed) stops serving after this answer")
                asyncio.get_running_loop().call_soon(self.stop_listening)
            return _error(400, str(exc))

    # -- resources -----------------------------------------------------------------------------------------

    def _info(self) -> MeterInfo:
        info = self.data.meter_info()
        if info is None:
            raise NoMeterData()
        return info

    def _value(self, raw: int, info: MeterInfo, formatting: int) -> float:
        multiplier = 1 if self.faults.ignore_multiplier else info.multiplier
        value = Decimal(raw) * multiplier / Decimal(info.divisor)
        digits = 0 if self.faults.ignore_formatting else digits_right(formatting)
        return float(value.quantize(Decimal(1).scaleb(-digits)))

    def _time_range(self, request: Request) -> tuple[int, int]:
        values = {}
        for name in ("start", "end"):
            texts = [value for key, value in request.query if key == name]
            if not texts:
                raise BadRequest(f"query parameter {name} (Unix seconds) is missing")
            if len(texts) > 1:
                raise BadRequest(f"query parameter {name} is given {len(texts)} times")
            text = texts[0]
            if self.faults.unicode_digits:
                if not text.isdigit() or len(text) > MAX_TIME_DIGITS:
                    raise BadRequest(f"query parameter {name}={text[:40]!r} is not Unix seconds")
            elif not _UNIX_SECONDS.fullmatch(text):
                raise BadRequest(f"query parameter {name}={text[:40]!r} is not Unix seconds (ASCII digits)")
            values[name] = int(text)
        start, end = values["start"], values["end"]
        if end <= start:
            raise BadRequest(f"end {end} is not after start {start}")
        longest = MAX_RANGE_SECONDS + (1 if self.faults.range_second_too_long else 0)
        if end - start > longest:
            raise BadRequest(f"range of {end - start} s exceeds {MAX_RANGE_SECONDS} s")
        return start, end

    async def _meter(self, request: Request) -> Response:
        return _json(200, {"meter": dataclasses.asdict(self._info())})

    def _latest(self, attribute: str, unit: str, formatting: int) -> Response:
        info = self._info()
        readings = self.data.cache.snapshot()[1][-2:]
        if not readings:
            raise NoMeterData()
        reading: Reading = readings[0] if self.faults.stale_reading else readings[-1]
        raw = getattr(reading, attribute)
        read_at = self.data.now_unix() if self.faults.read_at_served else reading.time
        return _json(200, {attribute: {"raw": raw, "value": self._value(raw, info, formatting), "unit": unit,
                                       "read_at": round(read_at, 3)}})

    async def _demand(self, request: Request) -> Response:
        return self._latest("demand", "kW", self._info().demand_formatting)

    async def _summation(self, request: Request) -> Response:
        return self._latest("summation", "kWh", self._info().summation_formatting)

    def _between(self, start: int, end: int) -> list[Reading]:
        self.data.cache.evict(self.data.now_unix())  # the window is the last 48 h as of now, not of the last read
        slop = self.data.read_interval if self.faults.range_slop else 0.0
        return self.data.cache.between(start - slop, end + slop)

    async def _readings(self, request: Request) -> Response:
        start, end = self._time_range(request)
        rows = [[round(r.time, 3), r.summation, r.demand] for r in self._between(start, end)]
        if not rows and self.faults.no_data_404:
            return _error(404, f"no readings between {start} and {end}")
        return _json(200, {"start": start, "end": end, "interval": self.data.read_interval, "readings": rows})

    async def _greenbutton(self, request: Request) -> Response:
        start, end = self._time_range(request)
        info = self._info()
        if self.faults.greenbutton_last_day:
            start = max(start, end - 24 * 3600)
        if self.faults.no_data_404 and not self._between(start, end):
            return _error(404, f"no readings between {start} and {end}")
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
                             base_url=f"http://{request.host or 'gateway'}{self.paths['greenbutton']}",
                             local_time=None if self.faults.greenbutton_no_local_time else gb.UTC_LOCAL_TIME)
        return Response(200, body, ATOM_XML)


def _wrap(middleware: Middleware, handler: Handler) -> Handler:
    async def wrapped(request: Request) -> Response:
        return await middleware(request, handler)
    return wrapped


__all__ = ["BadRequest", "GatewayApi", "GatewayData", "MeterInfo", "Middleware", "RANGE_RESOURCES", "Request",
           "Response", "ServerFaults"]

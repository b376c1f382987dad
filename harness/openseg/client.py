"""The bench's OpenSEG API client: HTTP/1.1 over asyncio streams on the bench loop, from a home or a foreign
source address, one connection per request (Connection: close), and the requests a well-behaved client never
sends (malformed, oversized and slow ones, a thousand at once). It speaks HTTP itself rather than through a
library so that whatever the gateway answers reaches the steps as bytes: an answer that is not HTTP is a
finding with its bytes, not a library's exception.

HTTP runs over real loopback sockets while the loop's time is virtual. While any request is in flight the
client raises the loop's real_io_grace, so the selector waits (in wall time) for the socket instead of
letting virtual time jump to the next timer: an HTTP exchange costs no virtual time, as a LAN round trip
costs almost none next to a 4-second meter read interval. Each response records both its bench-clock and its
wall-clock duration: the profile's latency bound holds for both (a simulated gateway that waits on a timer
shows on the bench clock, one that computes for too long on the wall clock).

What the gateway answers is never trusted to be HTTP: a raw answer that does not parse is kept whole, with
the reason, for the step to report (status 0), never raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import math
import resource
import time
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode, urlsplit

from harness.errors import BenchFault

from .api import resolve_paths

#: Wall seconds the selector may wait for a pending socket before virtual time moves on.
REAL_IO_GRACE = 0.5
#: The grace while a slow client waits for the gateway to act on a virtual-time deadline (its head timeout):
#: short, so ten virtual seconds do not cost ten wall seconds; an in-process gateway's bytes are in the socket
#: before the next poll anyway.
SLOW_CLIENT_GRACE = 0.005
#: The most of an answer the client reads (a gateway cannot make the bench hold more; what reaches a report is cut
#: further by harness/limits.py): a profile's answer is at most some 2 MB (48 hours of readings).
MAX_ANSWER = 32 * 1024 * 1024
#: The most of each answer a burst of many clients reads (a summation answer is some 100 bytes).
MAX_BURST_ANSWER = 64 * 1024
#: The most of an unparseable answer a description shows.
SHOWN_RAW = 64 * 1024


class ApiClientError(ConnectionError):
    """The bench could not talk to the gateway at all (refused, reset, timed out): the message says which."""


@dataclasses.dataclass(frozen=True)
class ApiResponse:
    status: int  # 0: the answer was not an HTTP response (see problem and body)
    content_type: str
    body: bytes
    sent_at: float  # loop time
    received_at: float
    wall_seconds: float = 0.0  # wall-clock time from sending to the complete answer
    problem: str = ""  # why a raw answer is not an HTTP response
    headers: tuple[tuple[str, str], ...] = ()  # lower-case names

    @property
    def seconds(self) -> float:
        """The exchange's duration on the bench clock."""
        return self.received_at - self.sent_at

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key == name.lower()), None)

    def json(self) -> Any:
        """The body as JSON with exact decimals; None when it is not JSON."""
        try:
            return json.loads(self.body, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None

    def describe(self) -> str:
        text = self.body[:200].decode("utf-8", "replace")
        if self.status == 0:
            return f"no HTTP response ({self.problem}); {len(self.body)} bytes {self.body[:SHOWN_RAW]!r}"
        return f"HTTP {self.status} {self.content_type} {text!r}"


def parse_response(data: bytes, sent_at: float, received_at: float, wall_seconds: float, *,
                   limit: int | None = None) -> ApiResponse:
    """An HTTP/1.x response read to the end of the connection; status 0 with the reason when it is not one, or
    when it reached *limit*, the most the bench read of it."""
    def bad(problem: str) -> ApiResponse:
        return ApiResponse(0, "", data, sent_at, received_at, wall_seconds, problem)

    if limit is not None and len(data) >= limit:
        return bad(f"an answer of {limit} bytes or more, more than the bench reads of it")

    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        return bad("no complete response head" if data else "the connection closed without an answer")
    lines = head.split(b"\r\n")
    status_line = lines[0].split(b" ", 2)
    if len(status_line) < 2 or status_line[0] not in (b"HTTP/1.1", b"HTTP/1.0") or not (
            len(status_line[1]) == 3 and status_line[1].isascii() and status_line[1].isdigit()):
        return bad(f"status line {lines[0][:80]!r} is not 'HTTP/1.1 NNN reason'")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            return bad(f"header line {line[:80]!r} is not 'name: value'")
        headers.append((name.decode("latin-1").lower(), value.strip().decode("latin-1")))
    fields = dict(headers)
    if fields.get("transfer-encoding", "").lower() == "chunked":
        decoded = _dechunk(body)
        if decoded is None:
            return bad("a chunked body that does not decode")
        body = decoded
    elif "content-length" in fields:
        length = fields["content-length"]
        if not (length.isascii() and length.isdigit()) or int(length) != len(body):
            return bad(f"Content-Length {length[:20]!r} but {len(body)} body bytes")
    content_type = fields.get("content-type", "").split(";")[0].strip().lower()
    return ApiResponse(int(status_line[1]), content_type, body, sent_at, received_at, wall_seconds,
                       headers=tuple(headers))


def parse_responses(data: bytes, sent_at: float, received_at: float, wall_seconds: float) -> list[ApiResponse]:
    """The HTTP/1.x responses one connection carried, read to its end, in order: each is framed by its
    Content-Length; a response without one runs to the end of the connection."""
    responses = []
    rest = data
    while rest:
        head, separator, body = rest.partition(b"\r\n\r\n")
        lengths = [line.partition(b":")[2].strip() for line in head.split(b"\r\n")[1:]
                   if line.partition(b":")[0].strip().lower() == b"content-length"]
        if not separator or len(lengths) != 1 or not lengths[0].isdigit() or int(lengths[0]) > len(body):
            responses.append(parse_response(rest, sent_at, received_at, wall_seconds, limit=MAX_ANSWER))
            break
        end = len(head) + len(separator) + int(lengths[0])
        responses.append(parse_response(rest[:end], sent_at, received_at, wall_seconds))
        rest = rest[end:]
    return responses


def _dechunk(body: bytes) -> bytes | None:
    out, rest = bytearray(), body
    while True:
        line, crlf, rest = rest.partition(b"\r\n")
        size_text = line.split(b";", 1)[0].strip()
        if not crlf or not size_text or not all(c in b"0123456789abcdefABCDEF" for c in size_text):
            return None
        size = int(size_text, 16)
        if size == 0:
            return bytes(out)
        if len(rest) < size + 2 or rest[size:size + 2] != b"\r\n":
            return None
        out += rest[:size]
        rest = rest[size + 2:]


class _Grace:
    """Counts requests in flight on a loop and holds real_io_grace up while there are any (the largest grace
    any of them asked for)."""

    _active: dict[int, tuple[list[float], float]] = {}

    @classmethod
    @contextlib.contextmanager
    def held(cls, loop: asyncio.AbstractEventLoop, grace: float = REAL_IO_GRACE) -> Iterator[None]:
        key = id(loop)
        graces, saved = cls._active.get(key, ([], getattr(loop, "real_io_grace", 0.0)))
        graces.append(grace)
        cls._active[key] = (graces, saved)
        if hasattr(loop, "real_io_grace"):
            loop.real_io_grace = max(saved, *graces)
        try:
            yield
        finally:
            graces.remove(grace)
            if not graces:
                del cls._active[key]
            if hasattr(loop, "real_io_grace"):
                loop.real_io_grace = max(saved, *graces) if graces else saved


@dataclasses.dataclass(frozen=True)
class SlowClient:
    """What became of a client that sent its request head one line at a time."""

    opened_at: float  # bench clock
    closed_at: float | None  # when the gateway closed (or reset) the connection; None: still open at the end
    completed_at: float | None  # when the client sent the head's last (empty) line; None: it never did
    answer: ApiResponse | None  # what the gateway sent before closing (status 0 / empty when nothing)
    lines_sent: int


class OpenSegClient:
    """Requests to one gateway, from *source* (an address of the bench host, e.g. 127.0.0.2 = foreign)."""

    def __init__(self, base_url: str, paths: dict[str, str] | None = None, source: str | None = None,
                 timeout: float = 10.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ApiClientError(f"OpenSEG base URL {base_url!r} is not http://host:port")
        self.base_url = base_url.rstrip("/")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.paths = resolve_paths(paths)
        self.source = source
        self.timeout = timeout

    def path(self, resource: str) -> str:
        return self.paths.get(resource, resource)

    def target(self, resource: str, params: dict[str, Any] | list[tuple[str, Any]] | None = None) -> str:
        """The request target of *resource* with *params* percent-encoded as UTF-8."""
        return self.path(resource) + (f"?{urlencode(params)}" if params else "")

    def head(self, resource: str, params: dict[str, Any] | list[tuple[str, Any]] | None = None, extra: bytes = b"",
             method: str = "GET") -> bytes:
        """A complete request head for a raw exchange (Connection: close), with *extra* header lines."""
        return (f"{method} {self.target(resource, params)} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Connection: close\r\n").encode() + extra + b"\r\n"

    async def request(self, resource: str, params: dict[str, Any] | list[tuple[str, Any]] | None = None,
                      method: str = "GET") -> ApiResponse:
        """One request on a fresh connection (each call is a separate client of the gateway); *params* are
        percent-encoded as UTF-8."""
        return await self.raw(self.head(resource, params, method=method), what=f"{method} {self.path(resource)}")

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.wait_for(asyncio.open_connection(
            self.host, self.port, local_addr=(self.source, 0) if self.source else None), self.timeout)

    async def raw(self, data: bytes, what: str = "raw request") -> ApiResponse:
        """Send *data* as a request (well-formed, malformed or oversized), then read the answer to the end of the
        connection (at most MAX_ANSWER bytes); a reset after an answer keeps the answer."""
        answer, sent, received, wall = await self._exchange(data, what)
        return parse_response(answer, sent, received, wall, limit=MAX_ANSWER)

    async def pipelined(self, data: bytes, what: str = "pipelined requests") -> list[ApiResponse]:
        """Send *data*, several requests one after the other on one connection (the last asking to close it), and
        read the answers to the end of the connection: one response for each, in order."""
        answer, sent, received, wall = await self._exchange(data, what)
        return parse_responses(answer, sent, received, wall)

    async def _exchange(self, data: bytes, what: str) -> tuple[bytes, float, float, float]:
        loop = asyncio.get_running_loop()
        sent, wall = loop.time(), time.perf_counter()
        with _Grace.held(loop):
            try:
                reader, writer = await self._open()
            except (OSError, TimeoutError) as exc:
                raise ApiClientError(f"{what} from {self.source or 'default'}: {type(exc).__name__}: {exc}") \
                    from None
            answer = bytearray()
            try:
                with contextlib.suppress(ConnectionError):  # a gateway may answer (and close) before it read all
                    writer.write(data)
                    await writer.drain()
                async with asyncio.timeout(self.timeout):
                    while len(answer) < MAX_ANSWER and (chunk := await reader.read(65536)):
                        answer += chunk
                answer = answer[:MAX_ANSWER]
            except (ConnectionError, TimeoutError):
                if not answer:  # a gateway that answered and then reset has answered
                    raise ApiClientError(f"{what} from {self.source or 'default'}: no answer before the "
                                         f"connection failed or {self.timeout:g} s passed") from None
            finally:
                writer.close()
        return bytes(answer), sent, loop.time(), time.perf_counter() - wall

    async def burst(self, count: int, resource: str, deadline: float) -> list[ApiResponse | str]:
        """*count* requests for *resource* at once, each on its own connection; each result is the answer (of which
        the bench reads MAX_BURST_ANSWER bytes at most) or why there was none."""
        _enough_files(2 * count + 256)
        loop = asyncio.get_running_loop()
        request = self.head(resource)

        async def one() -> ApiResponse | str:
            sent, wall = loop.time(), time.perf_counter()
            try:
                reader, writer = await asyncio.open_connection(
                    self.host, self.port, local_addr=(self.source, 0) if self.source else None)
            except OSError as exc:
                return f"connection failed: {type(exc).__name__}: {exc}"
            answer = bytearray()
            try:
                writer.write(request)
                await writer.drain()
                while len(answer) < MAX_BURST_ANSWER and (chunk := await reader.read(65536)):
                    answer += chunk
            except ConnectionError as exc:
                if not answer:
                    return f"connection failed: {type(exc).__name__}: {exc}"
            finally:
                writer.close()
            return parse_response(bytes(answer[:MAX_BURST_ANSWER]), sent, loop.time(), time.perf_counter() - wall,
                                  limit=MAX_BURST_ANSWER)

        with _Grace.held(loop):
            tasks = [loop.create_task(one()) for _ in range(count)]
            done, pending = await asyncio.wait(tasks, timeout=deadline)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        return [task.result() if task in done else f"no answer within {deadline:g} s" for task in tasks]

    async def slow(self, request_line: bytes, every: float, complete_at: float | None, watch: float,
                   pieces: Sequence[bytes] | None = None) -> SlowClient:
        """A client that sends *request_line*, then one header line every *every* seconds (bench clock), or each of
        *pieces* in turn and then nothing; at *complete_at* seconds after opening (None: never) it sends the empty
        line that ends its head. It watches for *watch* seconds after opening, or until the gateway closed the
        connection, and keeps what came back."""
        loop = asyncio.get_running_loop()
        with _Grace.held(loop, SLOW_CLIENT_GRACE):
            try:
                reader, writer = await self._open()
            except (OSError, TimeoutError) as exc:
                raise ApiClientError(f"slow client from {self.source or 'default'}: {type(exc).__name__}: {exc}") \
                    from None
            opened = loop.time()
            answer = bytearray()
            closed_at: float | None = None
            completed_at: float | None = None
            lines = 0
            reading = loop.create_task(self._read_all(reader, answer))
            finish = opened + complete_at if complete_at is not None else None
            next_line = opened + every
            try:
                writer.write(request_line)
                while loop.time() < opened + watch:
                    wake = opened + watch
                    if completed_at is None:
                        wake = min(wake, next_line, finish if finish is not None else wake)
                    done, _ = await asyncio.wait({reading}, timeout=max(0.0, wake - loop.time()))
                    if done:
                        closed_at = loop.time()
                        break
                    now = loop.time()
                    if completed_at is None and finish is not None and now >= finish - 1e-9:
                        writer.write(b"\r\n")
                        completed_at = now
                    elif completed_at is None and now >= next_line - 1e-9:
                        lines += 1
                        writer.write(f"X-Slow-{lines}: {lines}\r\n".encode() if pieces is None else pieces[lines - 1])
                        next_line = next_line + every if pieces is None or lines < len(pieces) else math.inf
                    await writer.drain()
            except ConnectionError:
                closed_at = loop.time()
            finally:
                if not reading.done():
                    reading.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                    await reading
                writer.close()
        got = parse_response(bytes(answer[:MAX_ANSWER]), opened, loop.time(), 0.0, limit=MAX_ANSWER) if answer else None
        return SlowClient(opened, closed_at, completed_at, got, lines)

    @staticmethod
    async def _read_all(reader: asyncio.StreamReader, into: bytearray) -> None:
        with contextlib.suppress(ConnectionError):
            while len(into) < MAX_ANSWER and (chunk := await reader.read(65536)):
                into += chunk

    async def listening(self, address: str, timeout: float = 5.0) -> str | None:
        """Whether anything accepts a connection on the API's port at *address*: what it answered to a GET of
        the summation (or that it accepted), None when the connection was refused or not answered in time."""
        loop = asyncio.get_running_loop()
        with _Grace.held(loop):
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(address, self.port), timeout)
            except (OSError, TimeoutError):
                return None
            try:
                writer.write(self.head("summation"))
                await writer.drain()
                async with asyncio.timeout(timeout):
                    first = await reader.read(200)
            except (ConnectionError, TimeoutError):
                first = b""
            finally:
                writer.close()
        return f"accepted a connection on {address}:{self.port}" + (f" and answered {first[:80]!r}" if first else "")


class BenchFileLimit(BenchFault, OSError):
    """The bench process may not open as many sockets as a case needs (its open-file limit): a bench error."""


def _enough_files(needed: int) -> None:
    """Raise the process's open-file limit (up to its hard limit) for *needed* sockets, or say it cannot."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if soft != resource.RLIM_INFINITY and soft < needed:
            raise BenchFileLimit(f"the bench may open {soft} files, and {needed} concurrent requests need about "
                                 f"{needed} (raise `ulimit -n`, hard limit {hard})")

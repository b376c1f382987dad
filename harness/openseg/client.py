"""The bench's OpenSEG API client: aiohttp on the bench loop, from a home or a foreign source address.

HTTP runs over real loopback sockets while the loop's time is virtual. While any request is in flight the
client raises the loop's real_io_grace, so the selector waits (in wall time) for the socket instead of
letting virtual time jump to the next timer: an HTTP exchange costs no virtual time, as a LAN round trip
costs almost none next to a 4-second meter read interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from .api import resolve_paths

#: Wall seconds the selector may wait for a pending socket before virtual time moves on.
REAL_IO_GRACE = 0.5


class ApiClientError(ConnectionError):
    """The bench could not talk to the gateway at all (refused, reset, timed out): the message says which."""


@dataclasses.dataclass(frozen=True)
class ApiResponse:
    status: int
    content_type: str
    body: bytes
    sent_at: float  # loop time
    received_at: float

    def json(self) -> Any:
        """The body as JSON with exact decimals; None when it is not JSON."""
        try:
            return json.loads(self.body, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError):
            return None

    def describe(self) -> str:
        text = self.body[:200].decode("utf-8", "replace")
        return f"HTTP {self.status} {self.content_type} {text!r}"


class _Grace:
    """Counts requests in flight on a loop and holds real_io_grace up while there are any."""

    _active: dict[int, tuple[int, float]] = {}

    @classmethod
    @contextlib.contextmanager
    def held(cls, loop: asyncio.AbstractEventLoop):
        key = id(loop)
        count, saved = cls._active.get(key, (0, getattr(loop, "real_io_grace", 0.0)))
        cls._active[key] = (count + 1, saved)
        if hasattr(loop, "real_io_grace"):
            loop.real_io_grace = max(saved, REAL_IO_GRACE)
        try:
            yield
        finally:
            count, saved = cls._active[key]
            if count == 1:
                del cls._active[key]
                if hasattr(loop, "real_io_grace"):
                    loop.real_io_grace = saved
            else:
                cls._active[key] = (count - 1, saved)


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

    async def request(self, resource: str, params: dict[str, Any] | None = None, method: str = "GET") -> ApiResponse:
        """One request on a fresh connection (each call is a separate client of the gateway)."""
        loop = asyncio.get_running_loop()
        connector = aiohttp.TCPConnector(local_addr=(self.source, 0) if self.source else None, force_close=True)
        sent = loop.time()
        with _Grace.held(loop):
            try:
                async with aiohttp.ClientSession(connector=connector) as session, session.request(
                    method, self.base_url + self.path(resource), params=params,
                    timeout=aiohttp.ClientTimeout(total=self.timeout),
                ) as response:
                    body = await response.read()
                    return ApiResponse(response.status, response.content_type, body, sent, loop.time())
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                raise ApiClientError(f"{method} {self.path(resource)} from {self.source or 'default'}: "
                                     f"{type(exc).__name__}: {exc}") from None

    async def raw(self, data: bytes) -> ApiResponse:
        """Send raw bytes as a request (malformed or oversized) and read whatever comes back."""
        loop = asyncio.get_running_loop()
        sent = loop.time()
        with _Grace.held(loop):
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(
                    self.host, self.port, local_addr=(self.source, 0) if self.source else None), self.timeout)
                writer.write(data)
                await writer.drain()
                answer = await asyncio.wait_for(reader.read(65536), self.timeout)
                writer.close()
            except (OSError, TimeoutError) as exc:
                raise ApiClientError(f"raw request from {self.source or 'default'}: {type(exc).__name__}: {exc}") from None
        head, _, body = answer.partition(b"\r\n\r\n")
        status_line = head.split(b"\r\n", 1)[0].split()
        status = int(status_line[1]) if len(status_line) >= 2 and status_line[1].isdigit() else 0
        content_type = ""
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-type":
                content_type = value.strip().split(b";")[0].decode("latin-1")
        return ApiResponse(status, content_type, body, sent, loop.time())

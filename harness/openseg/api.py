"""The OpenSEG consumer API profile in code: resources, default paths, query rules, error bodies.

docs/openseg-api.md is the reader's version; both must say the same. A DUT profile maps the resource names
onto its own paths (DutProfile.openseg.paths); every name not mapped keeps its default path.
"""

from __future__ import annotations

from collections.abc import Mapping

#: Metering resources a gateway serves to its home network.
RESOURCES: dict[str, str] = {
    "meter": "/api/v1/meter",  # identity and formatting of the paired meter
    "demand": "/api/v1/demand",  # latest InstantaneousDemand
    "summation": "/api/v1/summation",  # latest CurrentSummationDelivered
    "readings": "/api/v1/readings",  # cached readings, ?start=&end= (Unix seconds)
    "greenbutton": "/api/v1/greenbutton",  # ESPI Atom export, ?start=&end=
}
#: Utility-control resources a gateway must NOT serve (404): the demarcation between utility and consumer.
FILTERED: dict[str, str] = {
    "drlc": "/api/v1/drlc",
    "price": "/api/v1/price",
    "messages": "/api/v1/messages",
}
RANGE_RESOURCES = ("readings", "greenbutton")
GREEN_BUTTON_INTERVAL = 900  # seconds per ESPI IntervalReading (15 minutes, the usual Green Button interval)
JSON = "application/json"
ATOM_XML = "application/atom+xml"

# -- The profile's requirements (docs/openseg-api.md "Profile rules"): bounds, not vendor choices ------------

#: The gateway's circular cache (LBNL-182358: a secure 48-hour circular data cache).
CACHE_HOURS = 48
#: The meter's data every 4 s (LBNL-182358); PIXIT meter_read_interval may only tighten it (harness/pixits.py).
READ_INTERVAL = 4.0
#: A reading is at most this late; PIXIT meter_read_tolerance may only tighten it.
READ_TOLERANCE = 2.0
#: The API answers within this time (bench clock, and wall time); PIXIT api_latency may only tighten it.
API_LATENCY = 1.0
#: A range request spans at most 7 days (end - start <= MAX_RANGE_SECONDS); one second more is 400.
MAX_RANGE_SECONDS = 7 * 24 * 3600
#: A time parameter is whole Unix seconds in ASCII digits 0-9, at most this many of them.
MAX_TIME_DIGITS = 12
#: A request head (request line and header fields) of up to this many bytes, and a body (which no resource
#: takes) of up to SERVED_BODY bytes, is served like any other request.
SERVED_HEAD = 8 * 1024
SERVED_BODY = 1024
#: A head over this many bytes is answered 431 (or 413), a body over MAX_BODY bytes 413; between the served
#: and the refused sizes the gateway may do either.
MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024
#: A connection whose request head is not complete this long after it opened (or after the previous answer
#: on it) is closed, with or without a 408 answer: a slow client cannot hold the gateway's connections.
HEAD_TIMEOUT = 10.0
#: A request whose body is not complete this long after its head was is closed the same way: a client that
#: announces a body and stalls cannot hold a connection either.
BODY_TIMEOUT = 10.0
#: This many requests from the home network at once are all answered.
CONCURRENT_REQUESTS = 1000

#: HTTP statuses of the profile's errors and what each means.
ERRORS: dict[int, str] = {
    400: "malformed request (bad query, bad time range, unparseable request)",
    403: "client outside the gateway's home network",
    404: "unknown resource, or a utility-control resource the gateway filters",
    405: "method other than GET on a resource",
    408: "request head not complete within the head timeout (the connection is closed)",
    413: "request body (or head) over the profile's limit",
    431: "request head over the profile's limit",
    503: "no meter data yet",
}


class ApiProfileError(ValueError):
    """A DUT profile maps a resource name the API profile does not define."""


def resolve_paths(mapping: Mapping[str, str] | None) -> dict[str, str]:
    """Default paths overridden by a DUT profile's mapping (names from RESOURCES or FILTERED)."""
    paths = {**RESOURCES, **FILTERED}
    for name, path in (mapping or {}).items():
        if name not in paths:
            raise ApiProfileError(f"openseg.paths.{name}: not a resource of the OpenSEG API profile "
                                  f"({', '.join(sorted(paths))})")
        if not path.startswith("/"):
            raise ApiProfileError(f"openseg.paths.{name}: {path!r} must start with '/'")
        paths[name] = path
    return paths


def error_body(status: int, reason: str) -> dict[str, dict[str, object]]:
    return {"error": {"status": status, "reason": reason}}


def is_error_body(body: object, status: int) -> bool:
    """True when *body* is the profile's JSON error object for *status*."""
    return (
        isinstance(body, dict) and isinstance(body.get("error"), dict)
        and body["error"].get("status") == status and isinstance(body["error"].get("reason"), str)
    )

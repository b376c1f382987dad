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
CACHE_HOURS = 48  # the gateway's circular cache (LBNL OpenSEG design)
JSON = "application/json"
ATOM_XML = "application/atom+xml"

#: HTTP statuses of the profile's errors and what each means.
ERRORS: dict[int, str] = {
    400: "malformed request (bad query, bad time range, unparseable request)",
    403: "client outside the gateway's home network",
    404: "unknown resource, or a utility-control resource the gateway filters",
    405: "method other than GET on a resource",
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

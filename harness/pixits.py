"""PIXIT bounds: every PIXIT the suite reads, with its unit, default, minimum, maximum and the source of each bound.

A PIXIT outside its bound would let a run judge less than the case states (a tolerance of an hour passes an
event status an hour off) or fail a conformant device (a negative timeout), so a profile or a --pixit value
outside is refused, with one line naming the PIXIT, the bound and its source. Values inside the bounds that
still make a check more lenient than the default (a longer tolerance, a shorter silence, fewer samples) are
listed in the run info and the report ("PIXITs that widen a check"). The table is documented in
docs/profiles.md ("PIXIT bounds"); "program rule" there means a rule of this suite, not of the SE spec.

This module is the base of PIXIT handling: harness.profiles parses values with its UNITS.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

#: Units a PIXIT may carry, with their factor to seconds (None: not a duration).
UNITS: dict[str, float | None] = {"ms": 0.001, "s": 1.0, "min": 60.0, "h": 3600.0, "": None, "count": None,
                                  "bytes": None, "%": None}
DURATION_UNITS = ("ms", "s", "min", "h")

PROGRAM_RULE = "program rule: docs/profiles.md, PIXIT bounds"

Kind = Literal["duration", "count"]
#: Which way a value makes its check more lenient than the default: a longer wait or tolerance, a shorter
#: observation window, fewer samples; None for PIXITs that shape the stimulus rather than the judgement.
Widens = Literal["longer", "shorter", "fewer"] | None


class PixitBoundError(ValueError):
    """A PIXIT value is unknown, of the wrong kind or outside its bound; the message names the bound and source.

    ``names`` are the PIXITs a bound between PIXITs involves (empty for a single PIXIT's bound).
    """

    def __init__(self, message: str, names: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.names = names


@dataclass(frozen=True)
class Limit:
    """One end of a bound: a value in the PIXIT's unit as text ("254 s") and where it comes from."""

    text: str
    source: str

    @property
    def value(self) -> float:
        return magnitude(self.text)


@dataclass(frozen=True)
class PixitBound:
    name: str
    kind: Kind
    default: str
    min: Limit
    max: Limit
    widens: Widens
    meaning: str

    @property
    def default_value(self) -> float:
        return magnitude(self.default)


def _d(name: str, default: str, lo: tuple[str, str], hi: tuple[str, str], widens: Widens, meaning: str,
       kind: Kind = "duration") -> PixitBound:
    return PixitBound(name, kind, default, Limit(*lo), Limit(*hi), widens, meaning)


_POSITIVE = "a wait is positive; " + PROGRAM_RULE
_PERMIT_JOIN = "ZigBee 05-3474 Mgmt_Permit_Joining_req: the Trust Center opens the network for at most 0xFE s"
_KE_TIMES = "SE 1.x Key Establishment (07-5356 Annex C): generate times are a u8 number of seconds"
_DRLC_MINUTES = "SE 1.x DRLC (07-5356): event times, durations and randomization are whole minutes"
_OPENSEG_PROFILE = "docs/openseg-api.md (the OpenSEG profile's requirement; a PIXIT may only tighten it)"

#: Every PIXIT the suite reads. Defaults are the values the steps fall back to (checked by a unit test).
BOUNDS: dict[str, PixitBound] = {b.name: b for b in (
    _d("join_timeout", "30 s", ("1 s", _POSITIVE), ("254 s", _PERMIT_JOIN), "longer",
       "the DUT is admitted and answers ZDO within this time after it is told to join"),
    _d("rejoin_timeout", "30 s", ("1 s", _POSITIVE),
       ("254 s", "no longer than a join may take (join_timeout's bound); " + PROGRAM_RULE), "longer",
       "the DUT is back within this time after it is told to rejoin"),
    _d("tc_permit_window", "60 s", ("10 s", "long enough to join in and to probe both ends of; " + PROGRAM_RULE),
       ("254 s", _PERMIT_JOIN + " (0xFF would mean no end)"), None,
       "a DUT that forms the network: the permit-join window it opens when told to (TC-TC-2.x probe both ends)"),
    _d("tc_key_update_time", "30 s", ("1 s", _POSITIVE), ("300 s", PROGRAM_RULE), "longer",
       "a DUT that forms the network: its network key update (Transport Key to each device, then Switch Key) is "
       "done within this time after it is told to update"),
    _d("golden_silence_time", "60 s", ("1 s", _POSITIVE), ("1 h", PROGRAM_RULE), "shorter",
       "TC-JOIN-1.6: how long the restarted golden radio stays silent (a shorter outage is easier to survive)"),
    _d("leave_silence_time", "600 s", ("10 s", "watched beyond the leave exchange itself; " + PROGRAM_RULE),
       ("1 h", PROGRAM_RULE), "shorter", "TC-JOIN-1.7: how long the DUT must stay silent after leaving"),
    _d("ke_timeout", "20 s", ("1 s", _POSITIVE),
       ("540 s", _KE_TIMES + " (2 x 255 s) plus 30 s of network margin"), "longer",
       "CBKE completes within this time after joining (or after the golden initiates)"),
    _d("ke_retry_timeout", "120 s", ("1 s", _POSITIVE), ("300 s", PROGRAM_RULE), "longer",
       "after NO_RESOURCES (past its wait time) or an unanswered exchange, the DUT starts again within this time"),
    _d("ke_transit_time", "1 s", ("100 ms", _POSITIVE), ("10 s", PROGRAM_RULE + ": the Key Establishment plugin's "
       "network margin (KEY_ESTABLISHMENT_TIMEOUT_BASE_SECONDS, 10 s) is what an initiator allows on top of the "
       "advertised times"), "longer",
       "TC-KE-4.10: the air and APS retries on top of a generate time the DUT advertised, to its answer"),
    _d("ephemeral_data_generate_time", "10 s", ("1 s", _KE_TIMES), ("255 s", _KE_TIMES), None,
       "what a reference DUT advertises in its Initiate Key Establishment frames"),
    _d("confirm_key_generate_time", "10 s", ("1 s", _KE_TIMES), ("255 s", _KE_TIMES), None,
       "what a reference DUT advertises in its Initiate Key Establishment frames"),
    _d("poll_period", "7.5 s", ("1 s", PROGRAM_RULE), ("1 h", PROGRAM_RULE), None,
       "how often a sleepy DUT polls its parent (informational: the simulated network has no sleepy devices)"),
    _d("app_start_time", "10 s", ("1 s", _POSITIVE),
       ("120 s", "registration retries with backoff (Silicon Labs: 4 s, then 32 s); " + PROGRAM_RULE), "longer",
       "after joining and CBKE the DUT has made its start-up requests"),
    _d("response_time", "5 s", ("100 ms", _POSITIVE), ("30 s", PROGRAM_RULE), "longer",
       "a response, acknowledgement or confirmation the DUT owes arrives within this time"),
    _d("timing_tolerance", "2 s", ("1 s", "ZCL UTCTime counts whole seconds (07-5123)"),
       ("30 s", _DRLC_MINUTES + ": a wider tolerance could take one event minute for the next"), "longer",
       "allowed difference between an observed event time and the expected one"),
    _d("time_resync_period", "24 h", ("1 min", _POSITIVE),
       ("24 h", "a device's own clock drifts between readings (a 20 ppm crystal: 1.7 s a day, the timing tolerance); "
                + PROGRAM_RULE), "longer",
       "after taking the ESI's time the DUT takes it again within this time (resynchronisation)"),
    _d("drlc_start_lead", "120 s", ("10 s", "the DUT reports the event received before it starts; "
                                    + PROGRAM_RULE), ("1 h", PROGRAM_RULE), None,
       "how far ahead of its start a scheduled DRLC event is issued"),
    _d("drlc_event_duration", "30 min", ("1 min", _DRLC_MINUTES),
       ("1440 min", "SE 1.x DRLC Load Control Event: Duration in minutes, at most 1440"), None,
       "duration of the DRLC events the cases issue"),
    _d("drlc_randomization", "5 min", ("1 min", _DRLC_MINUTES + " (0 would turn randomization off)"),
       ("60 min", "SE 1.x DRLC client: Start/DurationRandomizationMinutes at most 0x3C"), "longer",
       "the randomization windows the cases write (a wider window accepts more offsets)"),
    _d("drlc_randomized_events", "6 count", ("1 count", PROGRAM_RULE), ("60 count", PROGRAM_RULE), "fewer",
       "events issued to check that every randomized offset stays inside its window", kind="count"),
    _d("drlc_schedule_span", "24 h", ("2 min", _DRLC_MINUTES + " (one event of 1 min in a 2-min slot)"),
       ("24 h", "the case judges a day of events; " + PROGRAM_RULE), "shorter",
       "the span of the day-long DRLC schedule case"),
    _d("drlc_schedule_events", "12 count", ("1 count", PROGRAM_RULE), ("48 count", PROGRAM_RULE), "fewer",
       "events in that schedule", kind="count"),
    _d("meter_read_interval", "4 s", ("1 s", "ZCL 2.5.7.1.5: reporting intervals are whole seconds; a shorter "
                                      "interval only tightens the profile's"),
       ("4 s", _OPENSEG_PROFILE + ": the meter's data every 4 s (LBNL-182358)"), "longer",
       "OpenSEG: how often the gateway takes in meter data"),
    _d("meter_read_tolerance", "2 s", ("1 s", "ZCL UTCTime, the gateway's clock from the ESI, counts whole seconds "
                                       "(07-5123)"),
       ("2 s", _OPENSEG_PROFILE + ": a reading is at most 2 s late"), "longer",
       "OpenSEG: allowed lateness of a reading, and the age limit of API values beyond the interval"),
    _d("summation_watch_period", "6 h", ("1 h", "a meter's register must be seen through several profile intervals "
                                          "(60 min at most); " + PROGRAM_RULE),
       ("48 h", PROGRAM_RULE), "shorter",
       "Simple Metering server: how long the case watches CurrentSummationDelivered (TC-MET-1.3)"),
    _d("meter_update_period", "30 s", ("1 s", _POSITIVE),
       ("15 min", "a meter updates its registers at least once per shortest profile interval; " + PROGRAM_RULE),
       "longer", "Simple Metering server: how often the DUT updates its registers, where its PICS do not claim "
       "DefaultUpdatePeriod (0x000A)"),
    _d("esi_clock_tolerance", "10 s", ("1 s", "ZCL UTCTime counts whole seconds (07-5123)"),
       ("5 min", "an ESI's clock is set from the utility's head end; " + PROGRAM_RULE), "longer",
       "ESI Time server: allowed difference between the DUT's UTC and the bench clock"),
    _d("api_latency", "1 s", ("100 ms", _POSITIVE), ("1 s", _OPENSEG_PROFILE + ": the API answers within 1 s"),
       "longer", "OpenSEG: the API answers within this time"),
)}


@dataclass(frozen=True)
class Relation:
    """A bound between two PIXITs: ``left <= factor * right``, stated as ``rule``."""

    left: str
    right: str
    factor: float
    rule: str
    source: str


RELATIONS: tuple[Relation, ...] = (
    Relation("meter_read_tolerance", "meter_read_interval", 1.0, "the tolerance is at most the read interval",
             "a tolerance of a whole interval would let a missed read pass; " + PROGRAM_RULE),
    Relation("drlc_schedule_events", "drlc_schedule_span", 1 / 120, "the span holds at least 2 min per event",
             "each event fills half its slot and lasts whole minutes, and overlapping events supersede each other "
             "(SE 1.x DRLC)"),
)

_QUANTITY_RE = re.compile(r"^\s*(?P<value>-?\d+(?:\.\d+)?)\s*(?P<unit>[a-z%]*)\s*$")


def split(text: str) -> tuple[float, str]:
    """'30 s' -> (30.0, 's'); ValueError says what is expected."""
    match = _QUANTITY_RE.match(text)
    if not match:
        raise ValueError(f"expected a number with a unit such as '30 s', got {text!r}")
    if match["unit"] not in UNITS:
        raise ValueError(f"unknown unit {match['unit']!r} in {text!r}; use one of ms, s, min, h, count, bytes, %")
    return float(match["value"]), match["unit"]


def magnitude(text: str) -> float:
    """Seconds for a duration, the number for a count ('6 count' -> 6.0)."""
    value, unit = split(text)
    factor = UNITS[unit]
    return value * factor if factor is not None else value


def _show(value: float, unit: str) -> str:
    return f"{value:g} {unit}".strip()


def known(name: str) -> PixitBound:
    """The bound of a PIXIT; PixitBoundError names the closest known PIXIT for a misspelt one."""
    bound = BOUNDS.get(name)
    if bound is None:
        close = difflib.get_close_matches(name, BOUNDS, n=1)
        if close:
            raise PixitBoundError(f"unknown PIXIT; did you mean {close[0]}? (docs/profiles.md lists them)")
        raise PixitBoundError(f"unknown PIXIT; the suite reads {', '.join(BOUNDS)} (docs/profiles.md)")
    return bound


def check(name: str, value: float, unit: str) -> float:
    """Check one PIXIT value (number and unit as written) and return it in base units (seconds or count).

    A bare number ('' unit) is seconds for a duration and a count for a count, as on the command line.
    """
    bound = known(name)
    if bound.kind == "duration":
        if unit not in ("", *DURATION_UNITS):
            raise PixitBoundError(f"{_show(value, unit)} is not a duration; give a time such as {bound.default}")
        amount = value * (UNITS[unit] or 1.0)
        shown = _show(value, unit or "s")
    else:
        if unit not in ("", "count"):
            raise PixitBoundError(f"{_show(value, unit)} is not a count; give a number such as {bound.default}")
        if value != int(value):
            raise PixitBoundError(f"{value:g} is not a whole count; give a number such as {bound.default}")
        amount = value
        shown = _show(value, "count")
    if amount < bound.min.value:
        raise PixitBoundError(f"{shown} is below its minimum {bound.min.text} ({bound.min.source}); "
                              f"give {bound.min.text} to {bound.max.text}")
    if amount > bound.max.value:
        raise PixitBoundError(f"{shown} is above its maximum {bound.max.text} ({bound.max.source}); "
                              f"give {bound.min.text} to {bound.max.text}")
    return amount


def check_text(name: str, text: str) -> float:
    """Check a PIXIT given as text (a --pixit value or a profile's string)."""
    value, unit = split(text)
    return check(name, value, unit)


def check_relations(values: Mapping[str, float]) -> None:
    """Check the bounds between PIXITs over the values in force (base units; absent ones take their default).

    PixitBoundError's message starts with the PIXIT at fault and ':'.
    """
    for rel in RELATIONS:
        if rel.left not in values and rel.right not in values:
            continue
        left = values.get(rel.left, BOUNDS[rel.left].default_value)
        right = values.get(rel.right, BOUNDS[rel.right].default_value)
        if left > rel.factor * right + 1e-9:
            name = rel.left if rel.left in values else rel.right
            raise PixitBoundError(f"{name}: {rel.left} {_base(rel.left, left)} with {rel.right} "
                                  f"{_base(rel.right, right)}: {rel.rule} ({rel.source}); change one of them",
                                  (rel.left, rel.right))


def _base(name: str, amount: float) -> str:
    return _show(amount, "s" if BOUNDS[name].kind == "duration" else "count")


def widened(values: Mapping[str, tuple[float, str]]) -> dict[str, str]:
    """The PIXITs whose value makes a check more lenient than the default, name -> 'value (default ...; why)'.

    ``values`` holds the PIXITs in force as (number, unit) as written; they are assumed checked.
    """
    out: dict[str, str] = {}
    for name, (value, unit) in sorted(values.items()):
        bound = BOUNDS.get(name)
        if bound is None or bound.widens is None:
            continue
        amount = value * (UNITS[unit] or 1.0) if bound.kind == "duration" else value
        default = bound.default_value
        lenient = {"longer": amount > default, "shorter": amount < default, "fewer": amount < default}[bound.widens]
        if lenient:
            why = {"longer": "longer than the default", "shorter": "shorter than the default",
                   "fewer": "fewer than the default"}[bound.widens]
            shown = _show(value, unit or ("s" if bound.kind == "duration" else "count"))
            out[name] = f"{shown} ({why} {bound.default}: {bound.meaning})"
    return out

"""Green Button (NAESB REQ.21 ESPI) energy exports: build one, parse one, and check it.

An export is an Atom feed (http://www.w3.org/2005/Atom) whose entries carry ESPI objects
(http://naesb.org/espi) in their content: UsagePoint, LocalTimeParameters, MeterReading, ReadingType and
IntervalBlock (SE-FACTS "Green Button"). ESPI times are Unix seconds (1970 epoch), never ZCL time.

ReadingType codes used here: uom 72 = Wh; powerOfTenMultiplier in the UnitMultiplierKind steps;
accumulationBehaviour 4 = deltaData; kind 12 = energy; flowDirection 1 = forward; commodity 1 = electricity
secondary metered; ServiceCategory kind 0 = electricity.

The ESPI objects are validated against the NAESB schema shipped beside this module (harness/openseg/espi.xsd,
Apache-2.0); the Atom envelope (whose schema NAESB does not ship) is checked structurally here.
"""

from __future__ import annotations

import dataclasses
import uuid
import warnings
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from functools import cache
from pathlib import Path
from xml.etree import ElementTree as ET

ATOM = "http://www.w3.org/2005/Atom"
ESPI = "http://naesb.org/espi"
SCHEMA_PATH = Path(__file__).with_name("espi.xsd")

UOM_WH = 72
UOM_W = 38
ACCUMULATION_DELTA = 4
KIND_ENERGY = 12
FLOW_FORWARD = 1
COMMODITY_ELECTRICITY_SECONDARY = 1
SERVICE_ELECTRICITY = 0
#: UnitMultiplierKind: the powers of ten ESPI allows.
POWERS_OF_TEN = (12, 9, 6, 3, 2, 1, 0, -1, -2, -3, -6, -9, -12)
#: Times before this are not plausible Unix times for a meter export (e.g. ZCL-epoch seconds written as Unix).
EARLIEST_PLAUSIBLE_UNIX = 946_684_800  # 2000-01-01T00:00:00Z


class GreenButtonError(ValueError):
    """An export that is not a Green Button feed this module can read (the message names what is wrong)."""


@dataclasses.dataclass(frozen=True)
class IntervalReading:
    start: int  # Unix seconds
    duration: int  # seconds
    value: int  # in uom x 10^powerOfTenMultiplier


@dataclasses.dataclass(frozen=True)
class IntervalBlock:
    start: int
    duration: int
    readings: tuple[IntervalReading, ...]


@dataclasses.dataclass(frozen=True)
class ReadingType:
    uom: int
    power_of_ten: int
    accumulation: int
    kind: int
    interval_length: int | None = None
    commodity: int | None = None
    flow_direction: int | None = None


@dataclasses.dataclass(frozen=True)
class LocalTimeParameters:
    """ESPI LocalTimeParameters (TimeConfiguration): the local time the export's Unix times are shown in."""

    dst_end_rule: str  # DstRuleType, 8 hex digits; FFFFFFFF = no DST correction
    dst_offset: int  # seconds
    dst_start_rule: str
    tz_offset: int  # seconds from UTC


#: A gateway whose ESI gives no time zone and no DST (the golden ESI serves UTC): offsets 0, DST disabled
#: (DstRuleType 0xFFFFFFFF: "rule processing/DST correction is disabled", espi.xsd).
DST_DISABLED = "FFFFFFFF"
UTC_LOCAL_TIME = LocalTimeParameters(DST_DISABLED, 0, DST_DISABLED, 0)


@dataclasses.dataclass(frozen=True)
class GreenButtonFeed:
    reading_type: ReadingType
    blocks: tuple[IntervalBlock, ...]
    titles: tuple[str, ...]  # the entry titles, in order
    local_time: tuple[LocalTimeParameters, ...] = ()  # every LocalTimeParameters entry

    @property
    def readings(self) -> list[IntervalReading]:
        return [r for block in self.blocks for r in block.readings]

    def energy_wh(self) -> Decimal:
        """The sum of every interval value in Wh."""
        total = sum(r.value for r in self.readings)
        return Decimal(total).scaleb(self.reading_type.power_of_ten)


def power_of_ten_for(multiplier: int, divisor: int) -> int:
    """The largest ESPI power of ten in which raw x Multiplier / Divisor kWh is a whole number of Wh units."""
    wh_per_raw = Fraction(multiplier * 1000, divisor)
    for power in POWERS_OF_TEN:
        if (wh_per_raw / Fraction(10) ** power).denominator == 1:
            return power
    raise GreenButtonError(f"Multiplier {multiplier} / Divisor {divisor} has no exact ESPI power of ten")


def raw_to_value(raw_delta: int, multiplier: int, divisor: int, power: int) -> int:
    """A raw summation delta as an ESPI value in Wh x 10^power (exact; power from power_of_ten_for)."""
    value = Fraction(raw_delta * multiplier * 1000, divisor) / Fraction(10) ** power
    if value.denominator != 1:
        raise GreenButtonError(f"raw delta {raw_delta} is not a whole number of 10^{power} Wh")
    return int(value)


# -- building ------------------------------------------------------------------------------------------

def _sub(parent: ET.Element, tag: str, text: object | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    if text is not None:
        element.text = str(text)
    return element


def _iso(unix: int) -> str:
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_feed(
    intervals: list[IntervalReading],
    reading_type: ReadingType,
    *,
    updated: int,
    base_url: str = "http://localhost/espi",
    local_time: LocalTimeParameters | None = UTC_LOCAL_TIME,
) -> bytes:
    """An Atom feed with one UsagePoint, its LocalTimeParameters (*local_time*; None leaves them out),
    MeterReading, ReadingType and one IntervalBlock holding *intervals* (Unix times)."""
    ET.register_namespace("", ATOM)
    ET.register_namespace("espi", ESPI)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _sub(feed, f"{{{ATOM}}}id", f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, base_url)}")
    _sub(feed, f"{{{ATOM}}}title", "OpenSEG Green Button export")
    _sub(feed, f"{{{ATOM}}}updated", _iso(updated))

    def entry(name: str, path: str) -> ET.Element:
        item = _sub(feed, f"{{{ATOM}}}entry")
        _sub(item, f"{{{ATOM}}}id", f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, base_url + path)}")
        _sub(item, f"{{{ATOM}}}title", name)
        link = _sub(item, f"{{{ATOM}}}link")
        link.set("rel", "self")
        link.set("href", base_url + path)
        _sub(item, f"{{{ATOM}}}updated", _iso(updated))
        content = _sub(item, f"{{{ATOM}}}content")
        return _sub(content, f"{{{ESPI}}}{name}")

    usage_point = entry("UsagePoint", "/UsagePoint/1")
    category = _sub(usage_point, f"{{{ESPI}}}ServiceCategory")
    _sub(category, f"{{{ESPI}}}kind", SERVICE_ELECTRICITY)
    if local_time is not None:
        local = entry("LocalTimeParameters", "/LocalTimeParameters/1")
        for tag, text in (("dstEndRule", local_time.dst_end_rule), ("dstOffset", local_time.dst_offset),
                          ("dstStartRule", local_time.dst_start_rule), ("tzOffset", local_time.tz_offset)):
            _sub(local, f"{{{ESPI}}}{tag}", text)
    entry("MeterReading", "/UsagePoint/1/MeterReading/1")
    rt = entry("ReadingType", "/ReadingType/1")
    for tag, value in (
        ("accumulationBehaviour", reading_type.accumulation), ("commodity", reading_type.commodity),
        ("flowDirection", reading_type.flow_direction), ("intervalLength", reading_type.interval_length),
        ("kind", reading_type.kind), ("powerOfTenMultiplier", reading_type.power_of_ten), ("uom", reading_type.uom),
    ):
        if value is not None:
            _sub(rt, f"{{{ESPI}}}{tag}", value)
    block = entry("IntervalBlock", "/UsagePoint/1/MeterReading/1/IntervalBlock/1")
    if intervals:
        interval = _sub(block, f"{{{ESPI}}}interval")
        start = intervals[0].start
        _sub(interval, f"{{{ESPI}}}duration", intervals[-1].start + intervals[-1].duration - start)
        _sub(interval, f"{{{ESPI}}}start", start)
    for reading in intervals:
        item = _sub(block, f"{{{ESPI}}}IntervalReading")
        period = _sub(item, f"{{{ESPI}}}timePeriod")
        _sub(period, f"{{{ESPI}}}duration", reading.duration)
        _sub(period, f"{{{ESPI}}}start", reading.start)
        _sub(item, f"{{{ESPI}}}value", reading.value)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


# -- parsing and schema validation -------------------------------------------------------------------------

@cache
def espi_schema():
    import xmlschema

    with warnings.catch_warnings():
        # espi.xsd imports atom.xsd, which NAESB does not ship; no ESPI type this module validates uses it.
        warnings.simplefilter("ignore", xmlschema.XMLSchemaImportWarning)
        return xmlschema.XMLSchema(str(SCHEMA_PATH))


def _root(document: bytes) -> ET.Element:
    # The document is the DUT's: an XML declaration naming an unknown encoding makes expat raise LookupError,
    # a bad one ValueError or UnicodeError; each is a malformed feed, reported as GreenButtonError.
    try:
        root = ET.fromstring(document)
    except ET.ParseError as exc:
        raise GreenButtonError(f"not well-formed XML: {exc}") from None
    except (LookupError, ValueError, UnicodeError, TypeError) as exc:
        raise GreenButtonError(f"not readable XML: {type(exc).__name__}: {exc}") from None
    if root.tag != f"{{{ATOM}}}feed":
        raise GreenButtonError(f"root element is {root.tag}, expected an Atom feed {{{ATOM}}}feed")
    return root


def _espi_objects(root: ET.Element) -> list[tuple[str, ET.Element]]:
    objects = []
    for number, item in enumerate(root.findall(f"{{{ATOM}}}entry"), 1):
        content = item.find(f"{{{ATOM}}}content")
        if content is None or len(content) != 1:
            raise GreenButtonError(f"Atom entry {number} has no content holding exactly one ESPI object")
        title = item.findtext(f"{{{ATOM}}}title") or ""
        objects.append((title, content[0]))
    return objects


def schema_problems(document: bytes) -> list[str]:
    """Why *document* is not a schema-valid ESPI feed (empty when it is)."""
    try:
        root = _root(document)
        objects = _espi_objects(root)
    except GreenButtonError as exc:
        return [str(exc)]
    problems = []
    for tag in ("id", "title", "updated"):
        if root.find(f"{{{ATOM}}}{tag}") is None:
            problems.append(f"Atom feed lacks {tag}")
    schema = espi_schema()
    from xmlschema import XMLSchemaException
    for title, element in objects:
        if not element.tag.startswith(f"{{{ESPI}}}"):
            problems.append(f"entry {title!r} content {element.tag} is not in the ESPI namespace")
            continue
        name = element.tag.split('}')[1]
        try:
            for error in schema.iter_errors(element):
                problems.append(f"{name}: {error.reason} at {error.path}")
        except XMLSchemaException as exc:  # content the validator itself cannot take is a problem too
            problems.append(f"{name}: cannot be validated: {type(exc).__name__}: {exc}")
    return problems


def _int(element: ET.Element | None, what: str) -> int:
    if element is None or element.text is None:
        raise GreenButtonError(f"{what} is missing")
    try:
        return int(element.text.strip())
    except ValueError:
        raise GreenButtonError(f"{what} {element.text!r} is not an integer") from None


def _optional_int(parent: ET.Element, tag: str) -> int | None:
    element = parent.find(f"{{{ESPI}}}{tag}")
    return None if element is None else _int(element, f"ReadingType {tag}")


def parse_feed(document: bytes) -> GreenButtonFeed:
    """The ReadingType and IntervalBlocks of an export; GreenButtonError names what is missing or malformed."""
    objects = _espi_objects(_root(document))
    reading_types = [e for _, e in objects if e.tag == f"{{{ESPI}}}ReadingType"]
    if len(reading_types) != 1:
        raise GreenButtonError(f"expected one ReadingType, found {len(reading_types)}")
    rt = reading_types[0]
    reading_type = ReadingType(
        uom=_int(rt.find(f"{{{ESPI}}}uom"), "ReadingType uom"),
        power_of_ten=_optional_int(rt, "powerOfTenMultiplier") or 0,
        accumulation=_int(rt.find(f"{{{ESPI}}}accumulationBehaviour"), "ReadingType accumulationBehaviour"),
        kind=_int(rt.find(f"{{{ESPI}}}kind"), "ReadingType kind"),
        interval_length=_optional_int(rt, "intervalLength"),
        commodity=_optional_int(rt, "commodity"),
        flow_direction=_optional_int(rt, "flowDirection"),
    )
    blocks = []
    for _, element in objects:
        if element.tag != f"{{{ESPI}}}IntervalBlock":
            continue
        interval = element.find(f"{{{ESPI}}}interval")
        readings = tuple(
            IntervalReading(
                start=_int(r.find(f"{{{ESPI}}}timePeriod/{{{ESPI}}}start"), "IntervalReading timePeriod start"),
                duration=_int(r.find(f"{{{ESPI}}}timePeriod/{{{ESPI}}}duration"), "IntervalReading timePeriod duration"),
                value=_int(r.find(f"{{{ESPI}}}value"), "IntervalReading value"),
            )
            for r in element.findall(f"{{{ESPI}}}IntervalReading")
        )
        start = _int(interval.find(f"{{{ESPI}}}start"), "IntervalBlock interval start") if interval is not None else 0
        duration = _int(interval.find(f"{{{ESPI}}}duration"), "IntervalBlock interval duration") if interval is not None else 0
        blocks.append(IntervalBlock(start, duration, readings))
    if not blocks:
        raise GreenButtonError("the feed holds no IntervalBlock")
    local_time = tuple(_local_time(e) for _, e in objects if e.tag == f"{{{ESPI}}}LocalTimeParameters")
    return GreenButtonFeed(reading_type, tuple(blocks), tuple(title for title, _ in objects), local_time)


def _local_time(element: ET.Element) -> LocalTimeParameters:
    def text(tag: str) -> str:
        found = element.find(f"{{{ESPI}}}{tag}")
        if found is None or found.text is None:
            raise GreenButtonError(f"LocalTimeParameters {tag} is missing")
        return found.text.strip()

    return LocalTimeParameters(text("dstEndRule"), _int(element.find(f"{{{ESPI}}}dstOffset"),
                                                           "LocalTimeParameters dstOffset"),
                               text("dstStartRule"), _int(element.find(f"{{{ESPI}}}tzOffset"),
                                                          "LocalTimeParameters tzOffset"))


# -- checks ------------------------------------------------------------------------------------------------

def time_problems(feed: GreenButtonFeed, start: int, end: int, *, expect_readings: bool = True) -> list[str]:
    """Interval times must be Unix seconds inside [start, end], contiguous and in order (and present, unless
    *expect_readings* is False: a range the gateway holds no reading of)."""
    problems = []
    readings = feed.readings
    if not readings:
        return ["the IntervalBlock holds no IntervalReading"] if expect_readings else []
    if not expect_readings:
        problems.append(f"{len(readings)} IntervalReadings, first {readings[0].start}+{readings[0].duration}s, "
                        f"where the gateway holds no reading")
    for reading in readings:
        if reading.start < EARLIEST_PLAUSIBLE_UNIX:
            problems.append(f"interval start {reading.start} is before 2000 - not Unix time (ZCL epoch?)")
            break
        if reading.start < start or reading.start + reading.duration > end:
            problems.append(f"interval {reading.start}+{reading.duration}s lies outside the requested {start}..{end}")
            break
    for before, after in zip(readings, readings[1:], strict=False):
        if after.start != before.start + before.duration:
            problems.append(f"intervals not contiguous: {before.start}+{before.duration}s then {after.start}")
            break
    for block in feed.blocks:
        if block.readings and (block.start, block.duration) != (
            block.readings[0].start, block.readings[-1].start + block.readings[-1].duration - block.readings[0].start
        ):
            problems.append(f"IntervalBlock interval {block.start}+{block.duration}s does not span its readings")
    return problems


def local_time_problems(feed: GreenButtonFeed, expected: LocalTimeParameters) -> list[str]:
    """The feed must carry exactly one LocalTimeParameters, equal to *expected* (the ESI's time zone)."""
    if len(feed.local_time) != 1:
        return [f"{len(feed.local_time)} LocalTimeParameters entries, expected one"]
    found = feed.local_time[0]
    return [f"LocalTimeParameters {field.name} {getattr(found, field.name)!r}, expected {getattr(expected, field.name)!r}"
            for field in dataclasses.fields(LocalTimeParameters)
            if str(getattr(found, field.name)).upper() != str(getattr(expected, field.name)).upper()]


def coverage_problems(feed: GreenButtonFeed, first: int, last: int) -> list[str]:
    """The intervals must run from *first* (the start of the first interval) to *last* (the end of the last)."""
    readings = feed.readings
    if not readings:
        return ["the IntervalBlock holds no IntervalReading"]
    problems = []
    if readings[0].start != first:
        problems.append(f"the first interval starts at {readings[0].start}, expected {first} "
                        f"({(first - readings[0].start) / 3600:+.2f} h)")
    end = readings[-1].start + readings[-1].duration
    if end != last:
        problems.append(f"the last interval ends at {end}, expected {last} ({(last - end) / 3600:+.2f} h)")
    return problems


def unit_problems(feed: GreenButtonFeed) -> list[str]:
    """Energy deltas must be Wh (uom 72), kind energy, accumulation deltaData, an ESPI power of ten."""
    rt = feed.reading_type
    problems = []
    if rt.uom != UOM_WH:
        problems.append(f"ReadingType uom {rt.uom}, expected {UOM_WH} (Wh) for energy intervals")
    if rt.kind != KIND_ENERGY:
        problems.append(f"ReadingType kind {rt.kind}, expected {KIND_ENERGY} (energy)")
    if rt.accumulation != ACCUMULATION_DELTA:
        problems.append(f"ReadingType accumulationBehaviour {rt.accumulation}, expected {ACCUMULATION_DELTA} (deltaData)")
    if rt.power_of_ten not in POWERS_OF_TEN:
        problems.append(f"ReadingType powerOfTenMultiplier {rt.power_of_ten} is not an ESPI UnitMultiplierKind")
    lengths = {r.duration for r in feed.readings}
    if rt.interval_length is not None and lengths - {rt.interval_length}:
        problems.append(f"ReadingType intervalLength {rt.interval_length} but interval durations {sorted(lengths)}")
    return problems


__all__ = [
    "GreenButtonError",
    "GreenButtonFeed",
    "IntervalBlock",
    "IntervalReading",
    "LocalTimeParameters",
    "ReadingType",
    "build_feed",
    "coverage_problems",
    "local_time_problems",
    "parse_feed",
    "power_of_ten_for",
    "raw_to_value",
    "schema_problems",
    "time_problems",
    "unit_problems",
]

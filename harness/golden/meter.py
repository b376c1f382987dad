"""The golden electric meter: a Simple Metering server (cluster 0x0702) on the golden ESI endpoint.

A household demand profile drives it: a base load, a daily shape, a refrigerator cycle and deterministic
appliance events, piecewise constant per minute. CurrentSummationDelivered is the exact integral of that
demand (watt-seconds, at one-second resolution), so summation always grows consistently with demand.
Both live attributes are computed from the bench clock when they are read (like the golden Time server),
so 50 simulated hours cost no timer wakeups.

Formatting (SE-FACTS "Metering"): value = raw x Multiplier / Divisor in UnitofMeasure (0 = kWh / kW);
formatting byte bits 0-2 = digits right of the point, bits 3-6 = digits left, bit 7 = suppress leading
zeros. The defaults use a Multiplier other than 1 so that a consumer ignoring it shows wrong values.

Every ZCL frame the golden receives is offered to :meth:`GoldenMeter.observe`, which keeps an access log
(time, source, cluster, command, attribute ids; for Metering reads also the values served), so cases can
assert what the DUT asked the meter for.
"""

from __future__ import annotations

import dataclasses
import math
from decimal import Decimal

import zigpy.types as t
from zigpy.zcl.foundation import GeneralCommand

from harness.clock import Clock
from harness.golden.esi.common import ObservationLog
from harness.se.datamodel import Side
from harness.zcl.errors import MalformedFrame
from harness.zcl.frame import DECODE_ERRORS, decode_general, parse_frame
from harness.zcl.store import AttributeEntry, AttributeKey, AttributeStore

METERING = 0x0702

# Simple Metering server attribute ids (SE-FACTS "Metering").
CURRENT_SUMMATION_DELIVERED = 0x0000
DEFAULT_UPDATE_PERIOD = 0x000A
STATUS = 0x0200
UNIT_OF_MEASURE = 0x0300
MULTIPLIER = 0x0301
DIVISOR = 0x0302
SUMMATION_FORMATTING = 0x0303
DEMAND_FORMATTING = 0x0304
METERING_DEVICE_TYPE = 0x0306
INSTANTANEOUS_DEMAND = 0x0400

UNIT_KWH = 0  # UnitofMeasure 0: kWh (summation) and kW (demand)
ELECTRIC_METERING = 0  # MeteringDeviceType 0


class MeterError(ValueError):
    """A golden meter setting that cannot describe a meter (zero divisor, formatting out of range)."""


def formatting_byte(digits_left: int, digits_right: int, suppress_leading_zeros: bool = True) -> int:
    """The SummationFormatting / DemandFormatting byte (bits 0-2 right, 3-6 left, 7 suppress zeros)."""
    if not (0 <= digits_right <= 7 and 0 <= digits_left <= 15):
        raise MeterError(f"formatting digits left {digits_left} / right {digits_right} out of 0-15 / 0-7")
    return (0x80 if suppress_leading_zeros else 0) | (digits_left << 3) | digits_right


def digits_right(formatting: int) -> int:
    return formatting & 0x07


def digits_left(formatting: int) -> int:
    return (formatting >> 3) & 0x0F


@dataclasses.dataclass(frozen=True)
class MeterFormatting:
    """How raw Metering values become kWh / kW."""

    multiplier: int = 5
    divisor: int = 10_000
    summation_formatting: int = formatting_byte(7, 4)
    demand_formatting: int = formatting_byte(5, 4)
    unit_of_measure: int = UNIT_KWH

    def __post_init__(self) -> None:
        if not (1 <= self.multiplier <= 0xFFFFFF and 1 <= self.divisor <= 0xFFFFFF):
            raise MeterError(f"Multiplier {self.multiplier} and Divisor {self.divisor} must be 1..0xFFFFFF")

    def scaled(self, raw: int) -> Decimal:
        """raw x Multiplier / Divisor, exact (kWh for summation, kW for demand)."""
        return Decimal(raw) * self.multiplier / Decimal(self.divisor)

    def summation_value(self, raw: int) -> Decimal:
        """The summation as a consumer shows it: scaled and rounded to the formatting's digits right."""
        return self.scaled(raw).quantize(Decimal(1).scaleb(-digits_right(self.summation_formatting)))

    def demand_value(self, raw: int) -> Decimal:
        return self.scaled(raw).quantize(Decimal(1).scaleb(-digits_right(self.demand_formatting)))

    @property
    def watt_seconds_per_raw(self) -> Decimal:
        """Energy of one raw summation unit: Multiplier / Divisor kWh in watt-seconds."""
        return Decimal(self.multiplier) * 3_600_000 / self.divisor


def _mix(value: int) -> int:
    """splitmix64: a cheap, stable hash so the profile is the same in every process and run."""
    value = (value + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return value ^ (value >> 31)


@dataclasses.dataclass(frozen=True)
class DemandProfile:
    """A household's demand in watts, constant within each UTC minute (a function of the Unix minute)."""

    seed: int = 0x0702
    base_watts: int = 240
    daily_peak_watts: int = 900  # added at 19:00 UTC, none from 01:00 to 13:00
    fridge_watts: int = 130  # 15 minutes on, 30 off
    appliance_watts: int = 2_000  # a kettle or oven: about one start an hour, 3 minutes long
    noise_watts: int = 25

    def watts(self, unix_minute: int) -> int:
        hour = (unix_minute // 60) % 24 + (unix_minute % 60) / 60
        evening = max(0.0, math.cos((hour - 19) / 12 * math.pi)) ** 2 if 13 <= hour or hour < 1 else 0.0
        demand = self.base_watts + round(self.daily_peak_watts * evening)
        if unix_minute % 45 < 15:
            demand += self.fridge_watts
        if any(_mix(self.seed * 1_000_003 + start) % 60 == 0 for start in range(unix_minute - 2, unix_minute + 1)):
            demand += self.appliance_watts
        noise = _mix(self.seed ^ unix_minute) % (2 * self.noise_watts + 1)
        return demand + noise - self.noise_watts


class _Energy:
    """Watt-seconds delivered since a start second, with per-minute prefix sums grown on demand."""

    def __init__(self, profile: DemandProfile, start_unix: int) -> None:
        self.profile = profile
        self.start = start_unix
        self._minute0 = start_unix // 60
        self._prefix = [0]  # watt-seconds from start to the beginning of minute0 + i (i >= 1)

    def _minute_start(self, index: int) -> int:
        return (self._minute0 + index) * 60

    def watt_seconds(self, unix_second: int) -> int:
        if unix_second <= self.start:
            return 0
        index = unix_second // 60 - self._minute0
        while len(self._prefix) <= index:
            i = len(self._prefix) - 1
            begin = max(self.start, self._minute_start(i))
            self._prefix.append(self._prefix[-1] + self.profile.watts(self._minute0 + i) * (self._minute_start(i + 1) - begin))
        begin = max(self.start, self._minute_start(index))
        return self._prefix[index] + self.profile.watts(self._minute0 + index) * (unix_second - begin)


@dataclasses.dataclass(frozen=True)
class MeterAccess:
    """One ZCL frame a node sent to the golden ESI: what it touched, and what a Metering read was served."""

    time: float  # bench clock (monotonic) seconds
    source: int | None  # NWK address
    cluster_id: int
    general: bool
    command_id: int
    attr_ids: tuple[int, ...] = ()  # Read/Write Attributes: the attributes named
    served: tuple[tuple[int, int], ...] = ()  # Metering reads: (attribute id, raw value served)
    malformed: str | None = None

    @property
    def is_read(self) -> bool:
        return self.general and self.command_id == GeneralCommand.Read_Attributes

    @property
    def is_write(self) -> bool:
        return self.general and self.command_id in (
            GeneralCommand.Write_Attributes, GeneralCommand.Write_Attributes_Undivided,
            GeneralCommand.Write_Attributes_No_Response,
        )

    def describe(self) -> str:
        try:
            kind = GeneralCommand(self.command_id).name if self.general else f"cluster command 0x{self.command_id:02X}"
        except ValueError:
            kind = f"general command 0x{self.command_id:02X}"
        if self.malformed:
            kind = f"malformed frame ({self.malformed})"
        attrs = f" attributes {', '.join(f'0x{a:04X}' for a in self.attr_ids)}" if self.attr_ids else ""
        source = f"0x{self.source:04X}" if self.source is not None else "?"
        return f"t={self.time:.1f}s from {source}: cluster 0x{self.cluster_id:04X} {kind}{attrs}"


def _plain_read_attribute_ids(raw: bytes) -> tuple[int, ...] | None:
    """Attribute ids of a Read Attributes command (global, client to server, no manufacturer code), else None."""
    if len(raw) < 5 or raw[0] & 0x0F != 0x00 or raw[2] != GeneralCommand.Read_Attributes or (len(raw) - 3) % 2:
        return None
    return tuple(int.from_bytes(raw[i:i + 2], "little") for i in range(3, len(raw), 2))


class _LiveEntry(AttributeEntry):
    """A Metering attribute whose value is computed from the meter model whenever it is read."""

    meter: GoldenMeter
    attr_id: int

    @property  # type: ignore[override]
    def value(self) -> int:
        return self.python_type(self.meter.raw_value(self.attr_id))

    @value.setter
    def value(self, new: int) -> None:
        pass  # the model owns the value; AttributeStore's initial assignment is ignored


class GoldenMeter:
    """The golden Simple Metering server on *endpoint* of *store*, driven by *profile* on *clock*."""

    LIVE = (CURRENT_SUMMATION_DELIVERED, INSTANTANEOUS_DEMAND)

    def __init__(
        self,
        store: AttributeStore,
        clock: Clock,
        *,
        endpoint: int = 1,
        formatting: MeterFormatting | None = None,
        profile: DemandProfile | None = None,
        initial_summation: int = 12_345_678,
    ) -> None:
        self.clock = clock
        self.endpoint = endpoint
        self.formatting = formatting or MeterFormatting()
        self.profile = profile or DemandProfile()
        self.initial_summation = initial_summation
        self._energy = _Energy(self.profile, self._unix_second())
        self.accesses: ObservationLog[MeterAccess] = ObservationLog(clock)
        fmt = self.formatting
        values = {
            STATUS: 0, UNIT_OF_MEASURE: fmt.unit_of_measure, MULTIPLIER: fmt.multiplier, DIVISOR: fmt.divisor,
            SUMMATION_FORMATTING: fmt.summation_formatting, DEMAND_FORMATTING: fmt.demand_formatting,
            METERING_DEVICE_TYPE: ELECTRIC_METERING, DEFAULT_UPDATE_PERIOD: 4,
        }
        store.add_cluster(endpoint, METERING, Side.SERVER, attributes=[*values, *self.LIVE], values=values)
        for attr_id in self.LIVE:
            entry = store.entry(AttributeKey(endpoint, METERING, Side.SERVER, attr_id))
            if entry is None:
                raise MeterError(f"the data model lacks Metering attribute 0x{attr_id:04X}")
            entry.__class__ = _LiveEntry
            live: _LiveEntry = entry  # type: ignore[assignment]
            live.meter, live.attr_id = self, attr_id

    # -- the model -------------------------------------------------------------------------------------

    def _unix_second(self) -> int:
        return math.floor(self.clock.now().timestamp())

    def demand_watts(self, unix_second: int | None = None) -> int:
        second = self._unix_second() if unix_second is None else unix_second
        return self.profile.watts(second // 60)

    def summation_raw(self, unix_second: int | None = None) -> int:
        """CurrentSummationDelivered at *unix_second* (default now): the integral of demand, in raw units."""
        second = self._unix_second() if unix_second is None else unix_second
        energy = self._energy.watt_seconds(second)
        return self.initial_summation + int(Decimal(energy) / self.formatting.watt_seconds_per_raw)

    def demand_raw(self, unix_second: int | None = None) -> int:
        """InstantaneousDemand in raw units (W -> kW -> / (Multiplier / Divisor))."""
        watts = self.demand_watts(unix_second)
        return round(Decimal(watts) * self.formatting.divisor / (1000 * self.formatting.multiplier))

    def raw_value(self, attr_id: int) -> int:
        if attr_id == CURRENT_SUMMATION_DELIVERED:
            return self.summation_raw()
        if attr_id == INSTANTANEOUS_DEMAND:
            return self.demand_raw()
        raise MeterError(f"Metering attribute 0x{attr_id:04X} is not a live value of the model")

    # -- observation -----------------------------------------------------------------------------------

    def observe(self, packet: t.ZigbeePacket) -> None:
        """Log one received SE-profile packet (called from the golden's packet tap; never raises)."""
        raw = packet.data.serialize() if hasattr(packet.data, "serialize") else bytes(packet.data)
        source = int(packet.src.address) if packet.src is not None and packet.src.addr_mode == t.AddrMode.NWK else None
        cluster_id = int(packet.cluster_id)
        now = self.clock.monotonic()
        attr_ids = _plain_read_attribute_ids(raw)
        if attr_ids is not None:
            # The hot path (a read every few seconds for days): no zigpy header decoding.
            served = tuple((a, self.raw_value(a)) for a in attr_ids if a in self.LIVE) \
                if cluster_id == METERING and int(packet.dst_ep or 0) == self.endpoint else ()
            self.accesses.append(MeterAccess(now, source, cluster_id, True, GeneralCommand.Read_Attributes,
                                             attr_ids, served))
            return
        try:
            frame = parse_frame(raw)
        except MalformedFrame as exc:
            self.accesses.append(MeterAccess(now, source, cluster_id, False, -1, malformed=exc.reason))
            return
        attr_ids: tuple[int, ...] = ()
        served: tuple[tuple[int, int], ...] = ()
        if frame.is_general and frame.command_id in (
            GeneralCommand.Read_Attributes, GeneralCommand.Write_Attributes,
            GeneralCommand.Write_Attributes_Undivided, GeneralCommand.Write_Attributes_No_Response,
        ):
            try:
                decoded = decode_general(frame)
            except (MalformedFrame, *DECODE_ERRORS):
                decoded = None
            if decoded is not None and frame.command_id == GeneralCommand.Read_Attributes:
                attr_ids = tuple(int(a) for a in decoded.attribute_ids)
                if cluster_id == METERING and int(packet.dst_ep or 0) == self.endpoint:
                    served = tuple((a, self.raw_value(a)) for a in attr_ids if a in self.LIVE)
            elif decoded is not None:
                attr_ids = tuple(int(r.attrid) for r in decoded.attributes)
        self.accesses.append(MeterAccess(now, source, cluster_id, frame.is_general, frame.command_id, attr_ids, served))

    def fast_reply(self, packet: t.ZigbeePacket) -> t.ZigbeePacket | None:
        """The Read Attributes Response to a plain, APS-secured read of the live Metering attributes, built
        without the ZCL engine (the same bytes the engine would send); None leaves the frame to the engine.

        A gateway reads every 4 s for days; this keeps 45,000 reads affordable in simulation. The reply asks
        for no APS ack: the response itself completes the exchange, and the reader simply reads again."""
        if int(packet.cluster_id) != METERING or int(packet.dst_ep or 0) != self.endpoint:
            return None
        if not packet.tx_options & t.TransmitOptions.APS_Encryption:
            return None  # the engine records the missing APS security as a finding
        raw = packet.data.serialize() if hasattr(packet.data, "serialize") else bytes(packet.data)
        attr_ids = _plain_read_attribute_ids(raw)
        if not attr_ids or any(a not in self.LIVE for a in attr_ids):
            return None
        body = bytearray([0x18, raw[1], GeneralCommand.Read_Attributes_rsp])  # server->client, no default rsp
        for attr_id in attr_ids:
            value = self.raw_value(attr_id)
            if attr_id == CURRENT_SUMMATION_DELIVERED:
                body += attr_id.to_bytes(2, "little") + bytes([0x00, 0x25]) + value.to_bytes(6, "little")
            else:
                body += attr_id.to_bytes(2, "little") + bytes([0x00, 0x2A]) + value.to_bytes(3, "little", signed=True)
        options = t.TransmitOptions.APS_Encryption
        return t.ZigbeePacket(
            dst=packet.src, dst_ep=packet.src_ep, src_ep=packet.dst_ep, tsn=raw[1], profile_id=packet.profile_id,
            cluster_id=packet.cluster_id, data=t.SerializableBytes(bytes(body)), tx_options=options,
        )

    def accesses_from(self, source: int, since: float = 0.0) -> list[MeterAccess]:
        return [a for a in self.accesses if a.source == source and a.time >= since]


__all__ = [
    "CURRENT_SUMMATION_DELIVERED",
    "DEMAND_FORMATTING",
    "DIVISOR",
    "DemandProfile",
    "GoldenMeter",
    "INSTANTANEOUS_DEMAND",
    "METERING",
    "MULTIPLIER",
    "MeterAccess",
    "MeterError",
    "MeterFormatting",
    "SUMMATION_FORMATTING",
    "UNIT_OF_MEASURE",
    "digits_left",
    "digits_right",
    "formatting_byte",
]

"""The golden electric meter: a Simple Metering server (cluster 0x0702) on the golden ESI endpoint.

A household demand profile drives it: a base load, a daily shape, a refrigerator cycle and deterministic
appliance events, piecewise constant per minute. CurrentSummationDelivered is the exact integral of that
demand (watt-seconds, at one-second resolution), so summation always grows consistently with demand.
Both live attributes are computed from the bench clock when they are read (like the golden Time server),
so 50 simulated hours cost no timer wakeups.

Formatting (harness.se.metering, SE-FACTS "Metering"): value = raw x Multiplier / Divisor in UnitofMeasure
(0 = kWh / kW). The defaults use a Multiplier other than 1 so that a consumer ignoring it shows wrong values.

Every ZCL frame the golden receives is offered to :meth:`GoldenMeter.observe`, which keeps an access log
(time, source, cluster, command, attribute ids; for Metering reads also the values served), so cases can
assert what the DUT asked the meter for.

Attribute reporting (ZCL 2.5.7 / 2.5.11): a node that sends Configure Reporting for the live attributes gets
one Report Attributes frame carrying every attribute due at that moment (a real meter reports summation and
demand together), promptly after the configuration and then every max interval, or on a change of at least
the reportable change once min interval has passed (checked at min-interval steps). Reports go to the node
that configured them, APS-secured, without an APS ack request (a lost report is replaced one interval later).
Every value the meter served, by a read or a report, is in :attr:`GoldenMeter.services`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import weakref
from collections.abc import Awaitable, Callable

import zigpy.exceptions
import zigpy.types as t
from zigpy.zcl.foundation import GeneralCommand, Status

from harness.clock import Clock
from harness.golden.esi.common import ObservationLog
from harness.se.clusters import Metering
from harness.se.datamodel import SE_PROFILE_ID, Side, load_datamodel
from harness.se.metering import ELECTRIC_METERING, MeterError, MeterFormatting
from harness.zcl.errors import MalformedFrame
from harness.zcl.frame import DECODE_ERRORS, decode_general, parse_frame
from harness.zcl.store import AttributeEntry, AttributeKey, AttributeStore

LOGGER = logging.getLogger(__name__)

#: The live attributes, computed from the model whenever they are read or reported.
LIVE_ATTRIBUTES = (Metering.AttributeDefs.current_summation_delivered.id, Metering.AttributeDefs.instantaneous_demand.id)


def _wire_type(attr_id: int) -> tuple[int, int, bool]:
    model = load_datamodel().cluster(Metering.cluster_id).attribute(Side.SERVER, attr_id)
    if model is None or model.size is None:
        raise MeterError(f"the data model lacks a fixed-size Metering attribute 0x{attr_id:04X}")
    return model.type_id, model.size, model.signed


#: ZCL data types of the live attributes, from the data model: attribute id -> (type id, value size, signed).
LIVE_TYPES = {attr_id: _wire_type(attr_id) for attr_id in LIVE_ATTRIBUTES}
REPORTING_OFF = 0xFFFF  # max interval 0xFFFF: stop reporting the attribute (ZCL 2.5.7.1.7)


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
        self._watts_minute, self._watts = None, 0  # the last minute's demand: reads come every few seconds

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
        minute = self._minute0 + index
        if self._watts_minute != minute:
            self._watts_minute, self._watts = minute, self.profile.watts(minute)
        return self._prefix[index] + self._watts * (unix_second - begin)


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


@dataclasses.dataclass(frozen=True)
class MeterService:
    """Live values the meter served a node: the answer to a read, or a report it sent."""

    time: float  # bench clock (monotonic) seconds
    destination: int | None  # NWK address
    served: tuple[tuple[int, int], ...]  # (attribute id, raw value)
    report: bool


@dataclasses.dataclass(frozen=True)
class ReportingConfig:
    """One live attribute's reporting configuration (Configure Reporting, direction 0)."""

    attr_id: int
    min_interval: int
    max_interval: int
    reportable_change: int


@dataclasses.dataclass
class _Subscriber:
    """A node the meter reports to, with its configurations and what it was last sent."""

    destination: t.AddrModeAddress
    endpoint: int
    configs: dict[int, ReportingConfig]
    last: dict[int, tuple[float, int]] = dataclasses.field(default_factory=dict)  # attr -> (time, value)
    timer: asyncio.TimerHandle | None = None


def parse_live_reporting(payload: bytes) -> list[ReportingConfig] | None:
    """The records of a Configure Reporting payload when every one configures a live attribute's reports with
    its own data type and sane intervals; None for anything else (the ZCL engine answers that, with statuses)."""
    configs, i = [], 0
    while i < len(payload):
        if payload[i] != 0x00 or i + 8 > len(payload):
            return None
        attr_id = int.from_bytes(payload[i + 1:i + 3], "little")
        live = LIVE_TYPES.get(attr_id)
        if live is None or payload[i + 3] != live[0]:
            return None
        min_interval = int.from_bytes(payload[i + 4:i + 6], "little")
        max_interval = int.from_bytes(payload[i + 6:i + 8], "little")
        size = live[1]
        if i + 8 + size > len(payload):
            return None
        change = int.from_bytes(payload[i + 8:i + 8 + size], "little")
        if max_interval not in (0, REPORTING_OFF) and min_interval > max_interval:
            return None
        configs.append(ReportingConfig(attr_id, min_interval, max_interval, change))
        i += 8 + size
    return configs or None


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

    LIVE = LIVE_ATTRIBUTES

    def __init__(
        self,
        store: AttributeStore,
        clock: Clock,
        *,
        endpoint: int = 1,
        formatting: MeterFormatting | None = None,
        profile: DemandProfile | None = None,
        initial_summation: int = 12_345_678,
        send: Callable[[t.ZigbeePacket], Awaitable[None]] | None = None,
        next_tsn: Callable[[], int] | None = None,
    ) -> None:
        self.clock = clock
        self._send = send  # how reports leave (the golden radio); without it reporting is the ZCL engine's
        self._next_tsn = next_tsn or self._own_tsn
        self._tsn = 0
        self._subscribers: dict[tuple[int, int], _Subscriber] = {}
        self._tasks: weakref.WeakSet[asyncio.Task] = weakref.WeakSet()
        self.services: ObservationLog[MeterService] = ObservationLog(clock)
        self.endpoint = endpoint
        self.formatting = formatting or MeterFormatting()
        self.profile = profile or DemandProfile()
        self.initial_summation = initial_summation
        self._energy = _Energy(self.profile, self._unix_second())
        self._watts_minute, self._watts = None, 0
        self.accesses: ObservationLog[MeterAccess] = ObservationLog(clock)
        fmt, attrs = self.formatting, Metering.AttributeDefs
        values = {
            attrs.status.id: 0, attrs.unit_of_measure.id: fmt.unit_of_measure, attrs.multiplier.id: fmt.multiplier,
            attrs.divisor.id: fmt.divisor, attrs.summation_formatting.id: fmt.summation_formatting,
            attrs.demand_formatting.id: fmt.demand_formatting, attrs.metering_device_type.id: ELECTRIC_METERING,
            attrs.default_update_period.id: 4,
        }
        store.add_cluster(endpoint, Metering.cluster_id, Side.SERVER, attributes=[*values, *self.LIVE], values=values)
        for attr_id in self.LIVE:
            entry = store.entry(AttributeKey(endpoint, Metering.cluster_id, Side.SERVER, attr_id))
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
        minute = second // 60
        if self._watts_minute != minute:  # constant within a minute; read every few seconds for days
            self._watts_minute, self._watts = minute, self.profile.watts(minute)
        return self._watts

    def summation_raw(self, unix_second: int | None = None) -> int:
        """CurrentSummationDelivered at *unix_second* (default now): the integral of demand, in raw units.

        Raw units of Multiplier / Divisor kWh: energy [W s] x Divisor // (Multiplier x 3,600,000), truncated,
        in exact integer arithmetic."""
        second = self._unix_second() if unix_second is None else unix_second
        energy = self._energy.watt_seconds(second)
        fmt = self.formatting
        return self.initial_summation + energy * fmt.divisor // (fmt.multiplier * 3_600_000)

    def demand_raw(self, unix_second: int | None = None) -> int:
        """InstantaneousDemand in raw units (W -> kW -> / (Multiplier / Divisor)), rounded half to even."""
        watts = self.demand_watts(unix_second)
        fmt = self.formatting
        quotient, remainder = divmod(watts * fmt.divisor, 1000 * fmt.multiplier)
        twice = 2 * remainder
        if twice > 1000 * fmt.multiplier or (twice == 1000 * fmt.multiplier and quotient % 2):
            quotient += 1
        return quotient

    def raw_value(self, attr_id: int, unix_second: int | None = None) -> int:
        if attr_id == Metering.AttributeDefs.current_summation_delivered.id:
            return self.summation_raw(unix_second)
        if attr_id == Metering.AttributeDefs.instantaneous_demand.id:
            return self.demand_raw(unix_second)
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
                if cluster_id == Metering.cluster_id and int(packet.dst_ep or 0) == self.endpoint else ()
            self.accesses.append(MeterAccess(now, source, cluster_id, True, GeneralCommand.Read_Attributes,
                                             attr_ids, served))
            if served:
                self.services.append(MeterService(now, source, served, False))
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
                if cluster_id == Metering.cluster_id and int(packet.dst_ep or 0) == self.endpoint:
                    served = tuple((a, self.raw_value(a)) for a in attr_ids if a in self.LIVE)
            elif decoded is not None:
                attr_ids = tuple(int(r.attrid) for r in decoded.attributes)
        elif frame.is_general and frame.command_id == GeneralCommand.Configure_Reporting:
            configs = parse_live_reporting(frame.payload)
            attr_ids = tuple(c.attr_id for c in configs) if configs else ()
        self.accesses.append(MeterAccess(now, source, cluster_id, frame.is_general, frame.command_id, attr_ids, served))
        if served:
            self.services.append(MeterService(now, source, served, False))

    def fast_reply(self, packet: t.ZigbeePacket) -> t.ZigbeePacket | None:
        """The Read Attributes Response to a plain, APS-secured read of the live Metering attributes, built
        without the ZCL engine (the same bytes the engine would send); None leaves the frame to the engine.

        A gateway reads every 4 s for days; this keeps 45,000 reads affordable in simulation. The reply asks
        for no APS ack: the response itself completes the exchange, and the reader simply reads again."""
        if int(packet.cluster_id) != Metering.cluster_id or int(packet.dst_ep or 0) != self.endpoint:
            return None
        if not packet.tx_options & t.TransmitOptions.APS_Encryption:
            return None  # the engine records the missing APS security as a finding
        raw = packet.data.serialize() if hasattr(packet.data, "serialize") else bytes(packet.data)
        if len(raw) >= 3 and raw[0] & 0x0F == 0x00 and raw[2] == GeneralCommand.Configure_Reporting:
            return self._configure_reporting(packet, raw)
        attr_ids = _plain_read_attribute_ids(raw)
        if not attr_ids or any(a not in self.LIVE for a in attr_ids):
            return None
        body = bytearray([0x18, raw[1], GeneralCommand.Read_Attributes_rsp])  # server->client, no default rsp
        for attr_id in attr_ids:
            type_id, size, signed = LIVE_TYPES[attr_id]
            body += attr_id.to_bytes(2, "little") + bytes([Status.SUCCESS, type_id])
            body += self.raw_value(attr_id).to_bytes(size, "little", signed=signed)
        options = t.TransmitOptions.APS_Encryption
        return t.ZigbeePacket(
            dst=packet.src, dst_ep=packet.src_ep, src_ep=packet.dst_ep, tsn=raw[1], profile_id=packet.profile_id,
            cluster_id=packet.cluster_id, data=t.SerializableBytes(bytes(body)), tx_options=options,
        )

    def accesses_from(self, source: int, since: float = 0.0) -> list[MeterAccess]:
        return [a for a in self.accesses if a.source == source and a.time >= since]

    def served_to(self, destination: int, since: float = 0.0) -> list[MeterService]:
        """Every live value the meter served *destination* (reads answered and reports sent), oldest first."""
        return [s for s in self.services if s.destination == destination and s.time >= since]

    # -- attribute reporting ---------------------------------------------------------------------------

    def _own_tsn(self) -> int:
        self._tsn = (self._tsn + 1) & 0xFF
        return self._tsn

    def _configure_reporting(self, packet: t.ZigbeePacket, raw: bytes) -> t.ZigbeePacket | None:
        """Take a Configure Reporting of the live attributes (None: not one, the engine answers it)."""
        if self._send is None or packet.src is None or packet.src.addr_mode != t.AddrMode.NWK:
            return None
        configs = parse_live_reporting(raw[3:])
        if configs is None:
            return None
        key = (int(packet.src.address), int(packet.src_ep))
        subscriber = self._subscribers.get(key)
        if subscriber is None:
            subscriber = self._subscribers[key] = _Subscriber(packet.src, int(packet.src_ep), {})
        for config in configs:
            subscriber.last.pop(config.attr_id, None)
            if config.max_interval == REPORTING_OFF:
                subscriber.configs.pop(config.attr_id, None)
            else:
                subscriber.configs[config.attr_id] = config
        self._schedule(subscriber, 0.0)  # a newly configured attribute reports promptly, then on schedule
        # All records succeeded: the response is one SUCCESS status (ZCL 2.5.8.1.1).
        body = bytes([0x18, raw[1], GeneralCommand.Configure_Reporting_rsp, Status.SUCCESS])
        return t.ZigbeePacket(
            dst=packet.src, dst_ep=packet.src_ep, src_ep=packet.dst_ep, tsn=raw[1], profile_id=packet.profile_id,
            cluster_id=packet.cluster_id, data=t.SerializableBytes(body), tx_options=t.TransmitOptions.APS_Encryption,
        )

    def _schedule(self, subscriber: _Subscriber, delay: float) -> None:
        if subscriber.timer is not None:
            subscriber.timer.cancel()
        subscriber.timer = None
        if subscriber.configs:
            subscriber.timer = self.clock.loop.call_later(delay, self._report_due, subscriber)

    def _report_due(self, subscriber: _Subscriber) -> None:
        subscriber.timer = None
        now = self.clock.monotonic()
        second = self._unix_second()
        due: list[tuple[int, int]] = []
        next_check = math.inf
        for attr_id, config in subscriber.configs.items():
            value = self.raw_value(attr_id, second)
            last = subscriber.last.get(attr_id)
            step = max(1, config.min_interval)
            if last is None:
                report = True
            else:
                elapsed = now - last[0] + 1e-6
                periodic = config.max_interval != 0 and elapsed >= config.max_interval
                changed = elapsed >= config.min_interval and abs(value - last[1]) >= max(1, config.reportable_change)
                report = periodic or changed
            if report:
                due.append((attr_id, value))
                subscriber.last[attr_id] = (now, value)
                since = 0.0
            else:
                since = now - last[0]
            # Next look: the periodic report, or the next min-interval step when a change may trigger one.
            wait = config.max_interval - since if config.max_interval else step
            if config.min_interval < config.max_interval or not config.max_interval:
                wait = min(wait, step)
            next_check = min(next_check, max(wait, 0.0))
        if due:
            self._send_report(subscriber, due, now)
        if next_check < math.inf:
            self._schedule(subscriber, next_check)

    def _send_report(self, subscriber: _Subscriber, values: list[tuple[int, int]], now: float) -> None:
        records = bytearray()
        for attr_id, value in values:
            type_id, size, signed = LIVE_TYPES[attr_id]
            records += attr_id.to_bytes(2, "little") + bytes([type_id]) + value.to_bytes(size, "little", signed=signed)
        self._send_records(subscriber, bytes(records), tuple(values), now)

    def send_report_records(self, destination: int, records: bytes, served: tuple[tuple[int, int], ...] | None) -> None:
        """Send *destination* (a node that configured reporting) a Report Attributes frame of *records* as given:
        another legal layout, or a malformed one. *served* names the live values it carries for the record of
        what the meter served (None: a malformed frame, which serves nothing)."""
        subscriber = next((s for s in self._subscribers.values() if int(s.destination.address) == destination), None)
        if subscriber is None:
            raise MeterError(f"node 0x{destination:04X} configured no reporting: the meter has nowhere to report")
        self._send_records(subscriber, records, served, self.clock.monotonic())

    def _send_records(self, subscriber: _Subscriber, records: bytes, served: tuple[tuple[int, int], ...] | None,
                      now: float) -> None:
        body = bytes([0x18, self._next_tsn() & 0xFF, GeneralCommand.Report_Attributes]) + records
        packet = t.ZigbeePacket(
            dst=subscriber.destination, dst_ep=subscriber.endpoint, src_ep=self.endpoint, tsn=body[1],
            profile_id=SE_PROFILE_ID, cluster_id=Metering.cluster_id, data=t.SerializableBytes(body),
            tx_options=t.TransmitOptions.APS_Encryption,
        )
        if served is not None:
            self.services.append(MeterService(now, int(subscriber.destination.address), served, True))
        assert self._send is not None
        # Tracked weakly (the loop holds a running task): no done callback, which would cost a loop iteration
        # per report, only so close() can cancel what is still in flight.
        self._tasks.add(self.clock.loop.create_task(self._deliver(packet)))

    async def _deliver(self, packet: t.ZigbeePacket) -> None:
        assert self._send is not None
        try:
            await self._send(packet)
        except zigpy.exceptions.DeliveryError as exc:
            # The subscriber is gone (left, no key any more): a report nobody can take is simply not sent.
            LOGGER.debug("golden meter report to %s not delivered: %s", packet.dst, exc)

    def close(self) -> None:
        """Stop reporting (the golden radio is going away)."""
        for subscriber in self._subscribers.values():
            if subscriber.timer is not None:
                subscriber.timer.cancel()
        self._subscribers.clear()
        for task in list(self._tasks):
            task.cancel()


__all__ = [
    "LIVE_ATTRIBUTES",
    "DemandProfile",
    "GoldenMeter",
    "MeterAccess",
    "MeterError",
    "MeterService",
    "ReportingConfig",
    "parse_live_reporting",
]

"""The reference Simple Metering server (cluster 0x0702), device side: an electric meter's registers, its load
profile, reporting as configured, Get Profile and Request Fast Poll Mode.

The meter measures a household's load of its own (a seeded pattern, per minute) and updates its registers every
DefaultUpdatePeriod seconds, or every applied fast poll period while fast poll mode lasts, as a meter's
metrology does; a read between updates serves the last update. While nothing listens (no reporting configured,
no fast poll) it makes each update when the registers are next looked at, as of the update's own instant: the
same registers, without a wake-up every 5 s through weeks of virtual time. CurrentSummationDelivered is the integral of the
load in 0.1 Wh (Multiplier 1, Divisor 10 000: kWh), InstantaneousDemand the load in 0.1 W. At each boundary of
its profile interval (15 minutes, aligned to UTC) it records the interval's consumption; Get Profile serves the
latest MaxNumberOfPeriodsDelivered of them.

Rules (SE-FACTS "Metering"; SE 1.x Annex D.3; Silicon Labs simple-metering-server): Get Profile answers the
block of intervals whose end is the most recent at or before EndTime (0 = now), most recent first, at most
MaxNumberOfPeriodsDelivered; Status SUCCESS when it delivers every interval requested, 0x04 when it delivers
fewer, 0x05 when none ends by EndTime, 0x01 for an undefined channel, 0x02 for the received channel it does not
measure. Request Fast Poll Mode applies max(requested, FastPollUpdatePeriod) for at most 15 minutes.

Written apart from the golden meter (harness/golden/meter.py): it shares the data model and the frame codecs only.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from harness.se.clusters import Metering
from harness.se.metering import (
    ELECTRIC_METERING,
    FAST_POLL_MAX_MINUTES,
    PROFILE_INTERVAL_SECONDS,
    UNIT_KWH,
    formatting_byte,
)
from harness.se.types import GetProfileStatus, IntervalChannel
from harness.zcl import ZclRequest
from harness.zcl.reporting import ReportingConfig, ReportScheduler

from ..faults import FaultSet
from ..server_faults import (
    DEMAND_OF_ANOTHER_MINUTE,
    FAST_POLL_BELOW_MINIMUM,
    FAST_POLL_NOT_APPLIED,
    FAST_POLL_PERIOD_KEPT,
    FAST_POLL_UNCAPPED,
    FORMATTING_TOO_NARROW,
    PEAK_TIER_UNREGISTERED,
    PROFILE_IGNORES_MAX_PERIODS,
    PROFILE_OLDEST_FIRST,
    PROFILE_STATUS_SUCCESS_WHEN_SHORT,
    PROFILE_TAKES_ANY_CHANNEL,
    PROFILE_WRONG_PERIOD,
    REPORTS_BEFORE_MIN_INTERVAL,
    REPORTS_IGNORE_CHANGE,
    REPORTS_MISS_MAX_INTERVAL,
    STATUS_RESERVED_BIT,
    SUMMATION_FORMATTING_MISSING,
    SUMMATION_SCALED_WRONG,
    SUMMATION_STEPS_BACK,
    UNIT_NOT_FOR_DEVICE_TYPE,
)
from .base import ServerCluster, ServerHost

LOGGER = logging.getLogger(__name__)

ATTRS = Metering.AttributeDefs
#: Raw summation units per kWh (Divisor 10 000, Multiplier 1): one raw unit is 0.1 Wh.
DIVISOR = 10_000
#: Watt-seconds in one raw summation unit (0.1 Wh).
WATT_SECONDS_PER_RAW = 360
#: Where the register stands when the meter leaves the factory for this household: 12 345.6789 kWh.
START_SUMMATION = 123_456_789
#: ProfileIntervalPeriod 3: 15-minute intervals.
INTERVAL_PERIOD = 3
#: How many intervals one Get Profile Response carries at most (MaxNumberOfPeriodsDelivered): 12 intervals of
#: 3 bytes keep the response inside one APS frame with APS security.
MAX_PERIODS = 12
#: How many intervals the meter keeps.
HISTORY = 96
#: Time-of-use registers: tier 2 (peak) is in force one hour in four (UTC hours 3, 7, 11, ...), tier 1 otherwise;
#: where the two registers stood when the meter left the factory (their sum is START_SUMMATION).
PEAK_TIER, OFF_PEAK_TIER = 2, 1
TIER_START = {OFF_PEAK_TIER: 98_765_432, PEAK_TIER: 24_691_357}
TIER_ATTRS = {OFF_PEAK_TIER: ATTRS.current_tier_1_summation_delivered, PEAK_TIER: ATTRS.current_tier_2_summation_delivered}
#: The uptime at which a meter with SUMMATION_STEPS_BACK loses 1 kWh, and how much it loses.
STEP_BACK_AFTER, STEP_BACK = 7_200.0, 10_000


@dataclass(frozen=True)
class Interval:
    end: int  # ZCL UTC of its end
    consumption: int  # raw summation units


def tier_at(unix_minute: int) -> int:
    """The tier in force in a minute: peak one UTC hour in four."""
    return PEAK_TIER if (unix_minute // 60) % 4 == 3 else OFF_PEAK_TIER


def household_watts(seed: int, unix_minute: int) -> int:
    """The household's load in watts, constant within each minute: a base load, a 20-minute heating block every
    hour, and an appliance (2 kW, 6 minutes) at a seeded minute of each hour."""
    base = 300 + seed % 200
    hour_minute = unix_minute % 60
    heating = 800 if hour_minute < 20 else 0
    appliance_start = (seed // 7 + unix_minute // 60 * 13) % 54
    appliance = 2_000 if appliance_start <= hour_minute < appliance_start + 6 else 0
    return base + heating + appliance


class MeterReports(ReportScheduler):
    """The engine's report schedule with the meter's reporting faults."""

    def __init__(self, scheduler: ReportScheduler, faults: FaultSet) -> None:
        super().__init__(scheduler._send_report)  # the engine's report sender (one scheduler per engine)
        self.faults = faults
        self.on_configure: list[Any] = []  # called after each Configure Reporting record is taken

    def configure(self, config: ReportingConfig, current_value) -> None:
        super().configure(config, current_value)
        for listener in list(self.on_configure):
            listener()

    def reporting(self, cluster_id: int) -> bool:
        """Whether any attribute of the cluster has reporting configured."""
        return any(key.cluster_id == cluster_id for key in self._configs)

    def value_changed(self, key, new_value) -> None:
        config = self.get(key)
        if config is not None and self._significant(config, new_value) and self.faults.has(REPORTS_BEFORE_MIN_INTERVAL):
            self._schedule(config, 0.0)
            return
        super().value_changed(key, new_value)

    def _significant(self, config: ReportingConfig, new_value) -> bool:
        if self.faults.has(REPORTS_IGNORE_CHANGE):
            return new_value != config.last_value
        return super()._significant(config, new_value)

    def _fire(self, config: ReportingConfig) -> None:
        super()._fire(config)
        if config.max_interval and config.timer is not None and self.faults.has(REPORTS_MISS_MAX_INTERVAL):
            self._schedule(config, 2.0 * config.max_interval)


class MeteringServer(ServerCluster):
    """The Simple Metering server of an electric meter."""

    cluster = Metering

    def __init__(self, faults: FaultSet, endpoint: int, *, seed: int = 0) -> None:
        super().__init__(faults, endpoint, seed=seed)
        self.default_update_period = 5
        self.fast_poll_update_period = 2
        self.intervals: list[Interval] = []
        self._watt_seconds = 0  # measured since power up, beyond START_SUMMATION
        self._tier_watt_seconds = {tier: 0 for tier in TIER_START}  # the same, by the tier in force
        self._measured_to: int | None = None  # Unix second the integral reaches
        self._started_at = 0.0
        self._fast_poll_until = 0.0
        self._applied_period = self.fast_poll_update_period
        self._fast_polled = False  # whether a fast poll mode was ever applied
        self._stepped_back = False
        self._boundary_raw: int | None = None  # the register at the last interval boundary passed
        self._step_back_notes: list[Any] = []
        self._task: asyncio.Task[None] | None = None
        self._reports: MeterReports | None = None
        # The metrology's schedule: the instant (monotonic) of the update it last made, and of the registers'
        # last update by any path (started, Get Profile, a catch-up).
        self._tick = 0.0
        self._updated_at = 0.0
        #: Set while nothing listens between reads: the updates the schedule has due are then made when the
        #: registers are next looked at (catch_up), not by waking every update period.
        self._on_demand = False
        self._listening = asyncio.Event()  # set when something starts to listen (reporting, fast poll)

    # -- the attribute table ---------------------------------------------------------------------------

    def attribute_values(self) -> dict[int, object]:
        summation_formatting = formatting_byte(6, 4)
        return {
            ATTRS.current_summation_delivered.id: START_SUMMATION,
            ATTRS.status.id: 0x00,
            ATTRS.unit_of_measure.id: UNIT_KWH,
            ATTRS.multiplier.id: 1,
            ATTRS.divisor.id: DIVISOR,
            ATTRS.summation_formatting.id: summation_formatting,
            ATTRS.demand_formatting.id: formatting_byte(3, 4),
            ATTRS.metering_device_type.id: ELECTRIC_METERING,
            ATTRS.instantaneous_demand.id: 0,
            ATTRS.default_update_period.id: self.default_update_period,
            ATTRS.fast_poll_update_period.id: self.fast_poll_update_period,
            ATTRS.profile_interval_period.id: INTERVAL_PERIOD,
            ATTRS.max_number_of_periods_delivered.id: MAX_PERIODS,
            ATTRS.active_register_tier_delivered.id: OFF_PEAK_TIER,
            **{attr.id: TIER_START[tier] for tier, attr in TIER_ATTRS.items()},
        }

    def seed_attribute_faults(self, store) -> None:
        """Alter the attribute table as the attribute faults say; each is then watched where it would be seen (the
        watch is set after the change, so making it is no access)."""
        unit, formatting, status = (self.key(a.id) for a in (ATTRS.unit_of_measure, ATTRS.summation_formatting,
                                                               ATTRS.status))
        watches: list[tuple[Any, Any]] = []

        def seeded(fault, key) -> bool:
            return self.faults.acts(fault, lambda note: watches.append((key, note)))

        if seeded(UNIT_NOT_FOR_DEVICE_TYPE, unit):
            store.set(unit, 0x01)  # cubic metres: a gas or water meter's unit
        if seeded(FORMATTING_TOO_NARROW, formatting):
            store.set(formatting, formatting_byte(3, 4))
        if seeded(STATUS_RESERVED_BIT, status):
            store.set(status, 0x80)
        if seeded(SUMMATION_FORMATTING_MISSING, formatting):
            store.remove_attribute(formatting)
        for key, note in watches:
            store.watch(key, note)

    # -- running -----------------------------------------------------------------------------------------

    def attach(self, host: ServerHost) -> None:
        super().attach(host)
        defs = Metering.ServerCommandDefs
        host.engine.register_handler(Metering.cluster_id, self._side, defs.get_profile.id, self._on_get_profile,
                                     endpoint=self.endpoint)
        host.engine.register_handler(Metering.cluster_id, self._side, defs.request_fast_poll_mode.id,
                                     self._on_fast_poll, endpoint=self.endpoint)
        self._reports = host.engine.reports = MeterReports(host.engine.reports, self.faults)
        self._reports.on_configure.append(self._listening.set)
        host.store.before_access(self.endpoint, int(Metering.cluster_id), self._side, self.catch_up)
        self.faults.acts(SUMMATION_STEPS_BACK, self._step_back_notes.append)
        self._started_at = host.clock.monotonic()
        self._measured_to = self._unix_now()
        self.started()

    @property
    def _side(self):
        return self.key(0).side

    def started(self) -> None:
        host = self.attached
        self.update()  # the registers as the metrology has them (a factory reset of the radio keeps them)
        if self._task is None or self._task.done():
            self._task = host.spawn(self._run())

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def _unix_now(self) -> int:
        return self.attached.clock.zcl_utc() + 946_684_800

    def update_period(self) -> float:
        if self.attached.clock.monotonic() < self._fast_poll_until:
            if self.faults.has(FAST_POLL_NOT_APPLIED):
                return float(self.default_update_period)
            return float(self._applied_period)
        if self._fast_polled and self.faults.has(FAST_POLL_PERIOD_KEPT):
            return float(self._applied_period)
        return float(self.default_update_period)

    def _listened(self) -> bool:
        """Whether something hears each update as it is made: reporting configured on the meter's attributes
        (a report follows a change), or fast poll mode; or the registers update at another period than
        DefaultUpdatePeriod, the only one the on-demand schedule (catch_up) keeps."""
        return (self.attached.clock.monotonic() < self._fast_poll_until
                or self.update_period() != float(self.default_update_period)
                or (self._reports is not None and self._reports.reporting(int(Metering.cluster_id))))

    async def _run(self) -> None:
        """The metrology: update the registers every update period, record intervals at their boundaries.

        While nothing listens (no reporting configured on its attributes, no fast poll), the loop does not wake
        every period: the update the schedule has due is made when the registers are next looked at (catch_up,
        the store's access hook), as of its own instant. A read sees what it would have seen with a wake-up
        every period, and weeks of network time (TC-ESI-2.5: 46 days, 800 000 periods) cost no work."""
        clock = self.attached.clock
        self._tick = clock.monotonic()  # the schedule counts from the update started() just made
        try:
            while True:
                period = self.update_period()
                if not self._listened():
                    self._listening.clear()
                    self._on_demand = True
                    await self._listening.wait()
                    self.catch_up()  # the last update due before something started to listen
                    self._on_demand = False
                    period = self._tick + self.default_update_period - clock.monotonic()  # the next one due
                await clock.sleep(period)
                self._tick = clock.monotonic()
                self.update()
        finally:
            self._on_demand = False

    def catch_up(self) -> None:
        """While the metrology updates on demand: make the last update its schedule has due by now (one every
        DefaultUpdatePeriod from the last one made), as of that update's instant; nothing when none is due."""
        if not self._on_demand:
            return
        now = self.attached.clock.monotonic()
        period = float(self.default_update_period)
        tick = self._tick
        if tick + period > now:
            return
        while tick + period <= now:  # the instants the sleeps would have woken at, added up the same way
            tick += period
        self._tick = tick
        if tick > self._updated_at:
            self._on_demand = False  # the update's own accesses to the store are no reads to catch up for
            try:
                self.update(at=tick)
            finally:
                self._on_demand = True

    def update(self, at: float | None = None) -> None:
        """Integrate the load up to now (or to the monotonic instant *at*, a catch-up's), recording each interval
        boundary passed, and set the registers."""
        clock = self.attached.clock
        at = clock.monotonic() if at is None else at
        self._updated_at = at
        now = clock.zcl_utc_at(at) + 946_684_800
        seconds = PROFILE_INTERVAL_SECONDS[INTERVAL_PERIOD]
        assert self._measured_to is not None
        first_boundary = (self._measured_to // seconds + 1) * seconds
        for boundary in range(first_boundary, now + 1, seconds):
            self._integrate(boundary)
            if self._boundary_raw is not None:  # the interval the meter powered up in is not whole: not recorded
                consumption = max(0, self._raw_at_measured() - self._boundary_raw)
                self.intervals.append(Interval(boundary - 946_684_800, consumption))
                del self.intervals[:-HISTORY]
            self._boundary_raw = self._raw_at_measured()
        self._integrate(now)
        store = self.attached.store
        uptime = at - self._started_at
        if uptime >= STEP_BACK_AFTER and not self._stepped_back:
            for note in self._step_back_notes:  # where the fault acts (a recording run)
                note()
            if self.faults.has(SUMMATION_STEPS_BACK):
                self._watt_seconds -= STEP_BACK * WATT_SECONDS_PER_RAW
            self._stepped_back = True
        store.set(self.key(ATTRS.current_summation_delivered.id), self._raw_at_measured())
        for tier, attr in TIER_ATTRS.items():
            store.set(self.key(attr.id), TIER_START[tier] + self._tier_watt_seconds[tier] // WATT_SECONDS_PER_RAW)
        store.set(self.key(ATTRS.active_register_tier_delivered.id), tier_at(now // 60))
        minute = now % 60 if self.faults.has(DEMAND_OF_ANOTHER_MINUTE) else now // 60
        store.set(self.key(ATTRS.instantaneous_demand.id), household_watts(self.seed, minute) * 10)

    def _raw_at_measured(self) -> int:
        return START_SUMMATION + self._watt_seconds // WATT_SECONDS_PER_RAW

    def _integrate(self, to: int) -> None:
        assert self._measured_to is not None
        second = self._measured_to
        while second < to:
            minute_end = min(to, (second // 60 + 1) * 60)
            watts = household_watts(self.seed, second // 60)
            if self.faults.has(SUMMATION_SCALED_WRONG):
                energy = watts // (minute_end - second)
            else:
                energy = watts * (minute_end - second)
            self._watt_seconds += energy
            tier = tier_at(second // 60)
            if not (tier == PEAK_TIER and self.faults.has(PEAK_TIER_UNREGISTERED)):
                self._tier_watt_seconds[tier] += energy
            second = minute_end
        self._measured_to = max(self._measured_to, to)

    # -- commands ------------------------------------------------------------------------------------------

    async def _on_get_profile(self, request: ZclRequest):
        self.update()
        command = request.command
        channel, end_time, wanted = int(command.interval_channel), int(command.end_time), int(command.number_of_periods)
        intervals: list[Interval] = []
        chosen_end = end_time
        if channel not in set(IntervalChannel) and not self.faults.has(PROFILE_TAKES_ANY_CHANNEL):
            status = GetProfileStatus.UNDEFINED_INTERVAL_CHANNEL
        elif channel == IntervalChannel.CONSUMPTION_RECEIVED and not self.faults.has(PROFILE_TAKES_ANY_CHANNEL):
            status = GetProfileStatus.INTERVAL_CHANNEL_NOT_SUPPORTED  # it measures delivered energy only
        else:
            held = [i for i in self.intervals if end_time == 0 or i.end <= end_time]
            limit = wanted if self.faults.has(PROFILE_IGNORES_MAX_PERIODS) else min(wanted, MAX_PERIODS)
            intervals = list(reversed(held))[:limit]  # most recent first
            if not held:
                status = GetProfileStatus.NO_INTERVALS_AVAILABLE
            elif len(intervals) == wanted or self.faults.has(PROFILE_STATUS_SUCCESS_WHEN_SHORT):
                status = GetProfileStatus.SUCCESS
            else:
                status = GetProfileStatus.MORE_PERIODS_REQUESTED_THAN_CAN_BE_RETURNED
            if held:
                chosen_end = held[-1].end
            if self.faults.has(PROFILE_OLDEST_FIRST):
                intervals.reverse()
        if not intervals and status == GetProfileStatus.NO_INTERVALS_AVAILABLE and \
                self.faults.has(PROFILE_STATUS_SUCCESS_WHEN_SHORT):
            status = GetProfileStatus.SUCCESS
        response = Metering.ClientCommandDefs.get_profile_response.schema(
            end_time=chosen_end, status=int(status),
            profile_interval_period=1 if self.faults.has(PROFILE_WRONG_PERIOD) else INTERVAL_PERIOD,
            number_of_periods_delivered=len(intervals), intervals=[i.consumption for i in intervals])
        await request.respond(Metering.ClientCommandDefs.get_profile_response.id, response)

    async def _on_fast_poll(self, request: ZclRequest):
        command = request.command
        requested, duration = int(command.fast_poll_update_period), int(command.duration)
        applied = requested if self.faults.has(FAST_POLL_BELOW_MINIMUM) else max(requested, self.fast_poll_update_period)
        minutes = duration if self.faults.has(FAST_POLL_UNCAPPED) else min(duration, FAST_POLL_MAX_MINUTES)
        clock = self.attached.clock
        self._applied_period = max(1, applied)
        self._fast_poll_until = clock.monotonic() + minutes * 60
        self._listening.set()
        self._fast_polled = True
        response = Metering.ClientCommandDefs.request_fast_poll_mode_response.schema(
            applied_update_period=applied, fast_poll_mode_endtime=clock.zcl_utc() + minutes * 60)
        await request.respond(Metering.ClientCommandDefs.request_fast_poll_mode_response.id, response)


"""Steps of features/metering: the golden plays the Metering client (harness/golden/metering_client.py) and judges
the DUT's Simple Metering server (harness/verify/metering.py)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from pytest_bdd import parsers, then, when
from zigpy.zcl.foundation import Status

from harness.bdd import certification_cases
from harness.errors import BenchFault
from harness.golden.esi.common import utc_seconds
from harness.golden.golden import ESI_ENDPOINT
from harness.golden.metering_client import SUMMATION, MeteringClient, sample_while
from harness.se.clusters import Metering
from harness.se.datamodel import Side, load_datamodel
from harness.se.metering import (
    ELECTRIC_STATUS_DEFINED_BITS,
    METERING_DEVICE_TYPES,
    PROFILE_INTERVAL_SECONDS,
    UNITS_BY_DEVICE_TYPE,
    digits_left,
    digits_right,
)
from harness.se.types import GetProfileStatus, IntervalChannel
from harness.verdict import check
from harness.verify.metering import (
    EnergyMismatch,
    ReportingRule,
    decreases,
    interval_bounds,
    judge_energy,
    reporting_problems,
)
from harness.zcl.engine import report_reporting_config

from .conftest import configure_reporting_succeeded, dut_nwk

certification_cases("../features/metering")

ZCL_TIMEOUT = 10.0
ATTRS = Metering.AttributeDefs
MODEL = load_datamodel().cluster(Metering.cluster_id)
RULE = "SE 1.x Annex D.3 (Simple Metering server; SE-FACTS \"Metering\")"
REPORTING_RULE = "ZCL 07-5123 2.5.7-2.5.11 (attribute reporting)"
PROFILE_RULE = ("SE 1.x Annex D.3.3.2.1 / D.3.3.3.1 (Get Profile and its response; Silicon Labs, Freescale and "
                "Microchip reference meters for the statuses)")
#: How often the golden reads the register while it waits for a profile (s), and while it judges reporting.
PROFILE_SAMPLING, REPORTING_SAMPLING = 30.0, 5.0
#: How often TC-MET-1.3 reads the register (s), and TC-MET-1.8 the tier registers.
WATCH_SAMPLING, TIER_SAMPLING = 300.0, 900.0
#: Get Profile IntervalChannel 0x02: the first value SE 1.x leaves undefined.
UNDEFINED_CHANNEL = 0x02
#: A Get Profile EndTime no meter holds an interval by: 2000-01-01T00:00:01Z.
BEFORE_ANY_INTERVAL = 1


def _client(bench, testbed) -> MeteringClient:
    return MeteringClient(testbed.golden, bench.clock, dut_nwk(testbed), bench.dut_profile.endpoint,
                          src_ep=ESI_ENDPOINT, timeout=ZCL_TIMEOUT)


def _claimed(bench, attr) -> bool:
    return bench.claims(f"SE.MTR.S.A{attr.id:04X}") or MODEL.attribute(Side.SERVER, attr.id).mandatory


def _read_values(bench, testbed, attrs) -> dict[int, object]:
    """Read *attrs* the DUT claims; a record that is not SUCCESS fails the case. Returns id -> value."""
    wanted = [a.id for a in attrs if _claimed(bench, a)]
    records = bench.run(_client(bench, testbed).read(wanted))
    bad = [f"0x{a:04X}: {records[a].status.name if a in records else 'no record'}" for a in wanted
           if a not in records or records[a].status != Status.SUCCESS]
    check(not bad, expected=f"SUCCESS records for {[f'0x{a:04X}' for a in wanted]}", observed="; ".join(bad),
          rule=f"ZCL 07-5123 2.5.2; {RULE}: the mandatory and claimed attributes are served")
    testbed.notes.setdefault("metering_records", {}).update(records)
    return {a: records[a].value.value for a in wanted}


def _update_period(bench, testbed) -> float:
    """How often the DUT updates its registers: DefaultUpdatePeriod where claimed, else the PIXIT."""
    if bench.claims(f"SE.MTR.S.A{ATTRS.default_update_period.id:04X}"):
        return float(_read_values(bench, testbed, [ATTRS.default_update_period])[ATTRS.default_update_period.id])
    return bench.pixit_seconds("meter_update_period", 30)


def _tolerance(bench) -> float:
    return bench.pixit_seconds("timing_tolerance", 2)


# -- mandatory attributes, formatting, status -------------------------------------------------------------------

@when("the golden reads the mandatory Simple Metering server attributes")
def read_mandatory(bench, testbed):
    mandatory = [a for a in MODEL.attributes_of(Side.SERVER) if a.mandatory]
    records = bench.run(_client(bench, testbed).read([a.id for a in mandatory]))
    testbed.notes["mandatory"] = (mandatory, records)


@then("every mandatory Metering attribute is served with the data model's type")
def mandatory_served(testbed):
    mandatory, records = testbed.notes["mandatory"]
    bad = []
    for attr in mandatory:
        record = records.get(attr.id)
        if record is None or record.status != Status.SUCCESS:
            bad.append(f"0x{attr.id:04X} {attr.name}: {record.status.name if record else 'no record'}")
        elif int(record.value.type) != attr.type_id:
            bad.append(f"0x{attr.id:04X} {attr.name}: type 0x{int(record.value.type):02X}, model 0x{attr.type_id:02X}")
    check(not bad, expected="SUCCESS with the data model's type for " + ", ".join(f"0x{a.id:04X} {a.name}"
                                                                                     for a in mandatory),
          observed="; ".join(bad), rule=f"{RULE}: mandatory server attributes")


def _mandatory_value(testbed, attr) -> int:
    _, records = testbed.notes["mandatory"]
    return int(records[attr.id].value.value)


@then("MeteringDeviceType is a defined device type")
def device_type_defined(testbed):
    device_type = _mandatory_value(testbed, ATTRS.metering_device_type)
    check(device_type in METERING_DEVICE_TYPES, expected=f"one of {sorted(METERING_DEVICE_TYPES)}",
          observed=f"MeteringDeviceType {device_type}", rule=f"{RULE}: MeteringDeviceType (D.3.2.2.4.6)")


@then("UnitofMeasure suits the MeteringDeviceType")
def unit_suits_type(testbed):
    device_type = _mandatory_value(testbed, ATTRS.metering_device_type)
    unit = _mandatory_value(testbed, ATTRS.unit_of_measure)
    allowed = UNITS_BY_DEVICE_TYPE.get(device_type, frozenset(range(0x00, 0x09)) | frozenset(range(0x80, 0x89)))
    check(unit in allowed, expected=f"UnitofMeasure in {sorted(f'0x{u:02X}' for u in allowed)} for "
                                    f"{METERING_DEVICE_TYPES.get(device_type, device_type)} metering",
          observed=f"UnitofMeasure 0x{unit:02X}", rule=f"{RULE}: UnitofMeasure (D.3.2.2.4.1)")


@when("the golden reads the register and its formatting attributes")
def read_formatting(bench, testbed):
    testbed.notes["formatting"] = _read_values(bench, testbed, [
        ATTRS.current_summation_delivered, ATTRS.unit_of_measure, ATTRS.multiplier, ATTRS.divisor,
        ATTRS.summation_formatting, ATTRS.demand_formatting, ATTRS.instantaneous_demand])


def _scale(values) -> tuple[int, int]:
    return int(values.get(ATTRS.multiplier.id, 1)), int(values.get(ATTRS.divisor.id, 1))


@then("Multiplier and Divisor are not zero")
def scale_not_zero(testbed):
    multiplier, divisor = _scale(testbed.notes["formatting"])
    check(multiplier != 0 and divisor != 0, expected="Multiplier and Divisor of at least 1",
          observed=f"Multiplier {multiplier}, Divisor {divisor}",
          rule=f"{RULE}: value = raw x Multiplier / Divisor (D.3.2.2.4.2-3)")


def _fits(testbed, raw_attr, formatting_attr, what: str) -> None:
    values = testbed.notes["formatting"]
    if raw_attr.id not in values or formatting_attr.id not in values:
        check(formatting_attr.id in values or raw_attr.id not in values,
              expected=f"{formatting_attr.name} served beside {raw_attr.name}", observed="not served",
              rule=f"{RULE}: formatting attributes")
        return
    multiplier, divisor = _scale(values)
    formatting = int(values[formatting_attr.id])
    value = abs(Decimal(int(values[raw_attr.id])) * multiplier / Decimal(max(divisor, 1)))
    integer_digits = len(str(int(value))) if int(value) else 0
    check(integer_digits <= digits_left(formatting) and digits_left(formatting) + digits_right(formatting) > 0,
          expected=f"the {what} {value} fits {formatting_attr.name} 0x{formatting:02X} ({digits_left(formatting)} "
                   f"digits left, {digits_right(formatting)} right of the point)",
          observed=f"{integer_digits} digits left of the point (raw {values[raw_attr.id]}, Multiplier {multiplier}, "
                   f"Divisor {divisor})", rule=f"{RULE}: SummationFormatting / DemandFormatting (D.3.2.2.4.4-5)")


@then("the summation served fits the digits of SummationFormatting")
def summation_fits(testbed):
    _fits(testbed, ATTRS.current_summation_delivered, ATTRS.summation_formatting, "summation")


@then("the demand served fits the digits of DemandFormatting")
def demand_fits(testbed):
    _fits(testbed, ATTRS.instantaneous_demand, ATTRS.demand_formatting, "demand")


@when("the golden reads Status and MeteringDeviceType")
def read_status(bench, testbed):
    testbed.notes["status"] = _read_values(bench, testbed, [ATTRS.status, ATTRS.metering_device_type])


@then("Status sets no bit its MeteringDeviceType leaves reserved")
def status_bits(testbed):
    values = testbed.notes["status"]
    device_type, status = int(values[ATTRS.metering_device_type.id]), int(values[ATTRS.status.id])
    if device_type != 0:
        raise BenchFault(f"the suite knows the Status bits of electric meters only; this DUT is "
                         f"{METERING_DEVICE_TYPES.get(device_type, device_type)} metering")
    check(not status & ~ELECTRIC_STATUS_DEFINED_BITS, expected="Status bit 7 (reserved for electric meters) clear",
          observed=f"Status 0x{status:02X}", rule=f"{RULE}: Status of an electric meter (D.3.2.2.2.1)")


# -- the register over time ----------------------------------------------------------------------------------------

@when("the golden reads CurrentSummationDelivered every 5 minutes for the PIXIT summation watch period")
def watch_summation(bench, testbed):
    period = bench.pixit_seconds("summation_watch_period", 6 * 3600)
    readings = bench.run(sample_while(_client(bench, testbed), period, WATCH_SAMPLING), period + 600)
    testbed.notes["watch"] = readings


@then("no reading is lower than the one before it")
def never_decreases(testbed):
    readings = testbed.notes["watch"]
    bad = decreases(readings)
    check(len(readings) >= 2 and not bad, expected=f"{len(readings)} readings, none lower than the one before",
          observed="; ".join(bad) or "fewer than two readings",
          rule=f"{RULE}: CurrentSummationDelivered counts the energy delivered; it never goes back")


# -- reporting -----------------------------------------------------------------------------------------------------

@when(parsers.parse("the golden configures reporting of CurrentSummationDelivered with min {low:d} s, max {high:d} s "
                    "and change {change:d}"))
def configure(bench, testbed, low, high, change):
    client = _client(bench, testbed)
    attr = MODEL.attribute(Side.SERVER, SUMMATION)
    testbed.notes["update"] = _update_period(bench, testbed)
    reports: list = []
    testbed.notes["unsubscribe"] = client.collect_reports(reports)
    testbed.notes.update(reports=reports, reporting=(low, high, change), configured_at=utc_seconds(bench.clock))
    testbed.notes["configure_records"] = bench.run(testbed.golden.engine.configure_reporting(
        client.nwk, client.endpoint, Metering.cluster_id,
        [report_reporting_config(attr.id, attr.type_id, low, high, change)], src_ep=ESI_ENDPOINT, timeout=ZCL_TIMEOUT))


@then("the DUT answers Configure Reporting Response with status SUCCESS for the summation")
def configured(testbed):
    configure_reporting_succeeded(testbed.notes["configure_records"])


@then(parsers.parse("Read Reporting Configuration returns min {low:d} s, max {high:d} s and change {change:d}"))
def read_back(bench, testbed, low, high, change):
    attr = MODEL.attribute(Side.SERVER, SUMMATION)
    client = _client(bench, testbed)
    records = bench.run(testbed.golden.engine.read_reporting_configuration(
        client.nwk, client.endpoint, Metering.cluster_id, [attr.id], src_ep=ESI_ENDPOINT, timeout=ZCL_TIMEOUT))
    seen = [(r.status, int(r.config.direction), int(r.config.attrid), getattr(r.config, "datatype", None),
             getattr(r.config, "min_interval", None), getattr(r.config, "max_interval", None),
             getattr(r.config, "reportable_change", None)) for r in records]
    wanted = (Status.SUCCESS, 0, attr.id, attr.type_id, low, high, change)
    check(len(seen) == 1 and tuple(int(v) if v is not None else None for v in seen[0]) == wanted,
          expected="one record (status, direction, attribute, type, min, max, change) = "
                   f"(SUCCESS, 0, 0x{attr.id:04X}, 0x{attr.type_id:02X}, {low}, {high}, {change})",
          observed="; ".join(str(s) for s in seen) or "no record",
          rule="ZCL 07-5123 2.5.10: Read Reporting Configuration Response (the configuration in force)")


@when("the golden watches the reports while it reads the register every 5 s")
def watch_reports(bench, testbed):
    low, high, _ = testbed.notes["reporting"]
    window = max(3.0 * high, 300.0)
    end = testbed.notes["configured_at"] + window
    try:
        readings = bench.run(sample_while(_client(bench, testbed), max(0.0, end - utc_seconds(bench.clock)),
                                          REPORTING_SAMPLING), window + 120)
    finally:
        testbed.notes.pop("unsubscribe")()
    testbed.notes.update(readings=readings, watched_until=utc_seconds(bench.clock))
    low, high, change = testbed.notes["reporting"]
    rule = ReportingRule(low, high, change, _tolerance(bench), testbed.notes["update"])
    testbed.notes["problems"] = reporting_problems(rule, testbed.notes["reports"], readings,
                                                   testbed.notes["configured_at"], testbed.notes["watched_until"])
    attr = MODEL.attribute(Side.SERVER, SUMMATION)
    wrong_type = [r for r in testbed.notes["reports"] if r.type_id != attr.type_id]
    check(not wrong_type, expected=f"every report of 0x{attr.id:04X} with data type 0x{attr.type_id:02X}",
          observed="; ".join(f"type 0x{r.type_id:02X}" for r in wrong_type), rule="ZCL 07-5123 2.5.11; SE data model")


def _reporting_check(testbed, kind: str, expected: str) -> None:
    problems = testbed.notes["problems"][kind]
    reports = testbed.notes["reports"]
    check(not problems, expected=expected, observed="; ".join(problems) + f" ({len(reports)} reports)",
          rule=REPORTING_RULE)


@then("no two reports are closer than the minimum interval")
def min_interval(testbed):
    _reporting_check(testbed, "min", "consecutive reports at least the minimum interval apart")


@then("a report follows the one before it within the maximum interval")
def max_interval(testbed):
    _reporting_check(testbed, "max", "a report at the latest every maximum interval")


@then("every report sent before the maximum interval carries the reportable change")
def carries_change(testbed):
    _reporting_check(testbed, "change", "a report before the maximum interval only for a reportable change")


@then("every reportable change is reported once the minimum interval allows")
def change_reported(testbed):
    _reporting_check(testbed, "late", "a reportable change reported once the minimum interval has passed")


# -- Get Profile -------------------------------------------------------------------------------------------------

def _profile_settings(bench, testbed) -> tuple[int, int]:
    """MaxNumberOfPeriodsDelivered (the data model's default 24 unless claimed) and ProfileIntervalPeriod (None
    unless claimed)."""
    attrs = [a for a in (ATTRS.max_number_of_periods_delivered, ATTRS.profile_interval_period) if _claimed(bench, a)]
    values = _read_values(bench, testbed, attrs) if attrs else {}
    max_periods = int(values.get(ATTRS.max_number_of_periods_delivered.id, 24))
    return max_periods, values.get(ATTRS.profile_interval_period.id)


def _periods(text: str, max_periods: int) -> int:
    return {"max": max_periods, "max + 1": max_periods + 1}.get(text) or int(text)


@when(parsers.parse("the golden lets the meter record enough intervals for {periods} periods while it reads the "
                    "register"))
def record_intervals(bench, testbed, periods):
    max_periods, claimed_period = _profile_settings(bench, testbed)
    # The longest interval a meter may record by is 60 minutes but for daily ones: wait for the one it claims.
    interval = PROFILE_INTERVAL_SECONDS.get(claimed_period, 3600) if claimed_period is not None else 3600
    wanted = _periods(periods, max_periods)
    wait = (max(wanted, 1) + 2) * interval
    testbed.notes.update(max_periods=max_periods, claimed_period=claimed_period, wanted=wanted,
                         update=_update_period(bench, testbed))
    testbed.notes["readings"] = bench.run(sample_while(_client(bench, testbed), wait, PROFILE_SAMPLING), wait + 600)


@when(parsers.parse("the golden sends Get Profile for {request} with {periods} periods"))
def get_profile(bench, testbed, request, periods):
    channel = {"undefined channel": UNDEFINED_CHANNEL,
               "received channel": IntervalChannel.CONSUMPTION_RECEIVED}.get(request, IntervalChannel.CONSUMPTION_DELIVERED)
    end_time = BEFORE_ANY_INTERVAL if request == "before the first interval" else 0
    testbed.notes.update(request=request, asked_at=utc_seconds(bench.clock))
    testbed.notes["profile"] = bench.run(_client(bench, testbed).get_profile(int(channel), end_time,
                                                                              testbed.notes["wanted"]))


def _expected_status(bench, testbed) -> tuple[set[int], int]:
    """The statuses the request calls for, and how many intervals."""
    request, wanted, max_periods = testbed.notes["request"], testbed.notes["wanted"], testbed.notes["max_periods"]
    if request == "undefined channel":
        return {GetProfileStatus.UNDEFINED_INTERVAL_CHANNEL}, 0
    if request == "received channel" and not bench.claims("SE.MTR.S.A0001"):
        return {GetProfileStatus.INTERVAL_CHANNEL_NOT_SUPPORTED}, 0
    if request == "before the first interval":
        return {GetProfileStatus.NO_INTERVALS_AVAILABLE}, 0
    if wanted > max_periods:
        return {GetProfileStatus.MORE_PERIODS_REQUESTED_THAN_CAN_BE_RETURNED}, max_periods
    return {GetProfileStatus.SUCCESS}, wanted


@then("the DUT answers Get Profile Response with the status the request calls for")
def profile_status(bench, testbed):
    response = testbed.notes["profile"]
    statuses, count = _expected_status(bench, testbed)
    check(int(response.status) in statuses and int(response.number_of_periods_delivered) == count,
          expected=f"Status {', '.join(f'0x{s:02X} ({GetProfileStatus(s).name})' for s in statuses)} with {count} "
                   f"periods delivered (asked {testbed.notes['wanted']}, MaxNumberOfPeriodsDelivered "
                   f"{testbed.notes['max_periods']})",
          observed=f"Status 0x{int(response.status):02X}, {int(response.number_of_periods_delivered)} periods",
          rule=PROFILE_RULE)


@then("the response delivers as many intervals as it says, most recent first, ending at the block's end")
def profile_layout(bench, testbed):
    response = testbed.notes["profile"]
    intervals = list(response.intervals)
    check(len(intervals) == int(response.number_of_periods_delivered),
          expected=f"{int(response.number_of_periods_delivered)} intervals (NumberOfPeriodsDelivered)",
          observed=f"{len(intervals)} intervals", rule=PROFILE_RULE)
    if int(response.status) not in (GetProfileStatus.SUCCESS, GetProfileStatus.MORE_PERIODS_REQUESTED_THAN_CAN_BE_RETURNED):
        return  # an error status: only the status and the empty list are judged (feature decision)
    period = int(response.profile_interval_period)
    claimed = testbed.notes["claimed_period"]
    check(period in PROFILE_INTERVAL_SECONDS and (claimed is None or period == int(claimed)),
          expected="ProfileIntervalPeriod defined (0-7)" + (f" and equal to the attribute's {claimed}"
                                                            if claimed is not None else ""),
          observed=f"ProfileIntervalPeriod {period}", rule=PROFILE_RULE)
    seconds = PROFILE_INTERVAL_SECONDS[period]
    asked, update, tol = testbed.notes["asked_at"], testbed.notes["update"], _tolerance(bench)
    end = int(response.end_time)
    check(asked - seconds - update - tol <= end <= asked + tol,
          expected=f"EndTime of the most recent complete interval: between {asked - seconds - update - tol:.0f} and "
                   f"{asked + tol:.0f} (asked at {asked:.0f}, {seconds} s intervals, update period {update:g} s)",
          observed=f"EndTime {end}", rule=PROFILE_RULE)


@then("every interval delivered is the consumption the register showed in its period")
def profile_values(bench, testbed):
    response = testbed.notes["profile"]
    if testbed.notes["request"] != "latest" or not list(response.intervals):
        return  # intervals of another channel, or none: nothing to compare with the delivered register
    seconds = PROFILE_INTERVAL_SECONDS[int(response.profile_interval_period)]
    end, readings = int(response.end_time), testbed.notes["readings"]
    judged, bad = 0, []
    for index, value in enumerate(response.intervals):  # most recent first: interval i ends i periods before
        stop = end - index * seconds
        bounds = interval_bounds(readings, stop - seconds, stop, testbed.notes["update"], _tolerance(bench))
        if bounds is None:
            continue
        judged += 1
        if int(value) not in bounds:
            bad.append(f"interval {index} ({stop - seconds}-{stop}): {int(value)}, the register allows "
                       f"{bounds.low}..{bounds.high}")
    check(judged and not bad, expected="each interval, taken most recent first, within what the register's "
                                       "readings allow for its period",
          observed="; ".join(bad) or f"{judged} intervals judged",
          rule=PROFILE_RULE + ": Intervals in reverse chronological order, each the consumption of its period")


# -- Fast Poll -----------------------------------------------------------------------------------------------------

@when("the golden reads FastPollUpdatePeriod")
def read_fast_poll_period(bench, testbed):
    values = _read_values(bench, testbed, [ATTRS.fast_poll_update_period])
    testbed.notes["fast_poll_period"] = int(values[ATTRS.fast_poll_update_period.id])


@when(parsers.parse("the golden requests fast poll mode every {period:d} s for {duration:d} minutes"))
def request_fast_poll(bench, testbed, period, duration):
    testbed.notes["asked_at"] = utc_seconds(bench.clock)
    testbed.notes["fast_poll"] = bench.run(_client(bench, testbed).request_fast_poll(period, duration))
    testbed.notes["answered_at"] = utc_seconds(bench.clock)


@then(parsers.parse("the applied update period is the larger of {period:d} s and FastPollUpdatePeriod"))
def applied_period(testbed, period):
    response, minimum = testbed.notes["fast_poll"], testbed.notes["fast_poll_period"]
    check(int(response.applied_update_period) == max(period, minimum),
          expected=f"AppliedUpdatePeriod max({period}, FastPollUpdatePeriod {minimum}) = {max(period, minimum)} s",
          observed=f"AppliedUpdatePeriod {int(response.applied_update_period)} s",
          rule=f"{RULE}: Request Fast Poll Mode (D.3.3.2.4; Silicon Labs simple-metering-server)")


@then(parsers.parse("fast poll mode ends {duration:d} minutes away, at most 15 minutes away"))
def fast_poll_end(bench, testbed, duration):
    end = int(testbed.notes["fast_poll"].fast_poll_mode_endtime)
    asked, answered, tol = testbed.notes["asked_at"], testbed.notes["answered_at"], _tolerance(bench)
    minutes = min(duration, 15)
    low, high = asked + minutes * 60 - tol, answered + minutes * 60 + tol
    check(low <= end <= high and end <= answered + 15 * 60 + tol,
          expected=f"FastPollModeEndTime {minutes} min after the request ({low:.0f}..{high:.0f}), never beyond "
                   f"15 minutes", observed=f"FastPollModeEndTime {end} ({end - asked:+.0f} s after the request)",
          rule=f"{RULE}: Request Fast Poll Mode, duration capped at 15 minutes (D.3.3.2.4)")


# -- time-of-use registers --------------------------------------------------------------------------------------

def _tier_attrs(bench):
    """The CurrentTierNSummationDelivered attributes the DUT claims (0x0100, 0x0102, ... up to tier 48)."""
    tiers = [MODEL.attribute(Side.SERVER, 0x0100 + 2 * n) for n in range(48)]
    return [a for a in tiers if a is not None and bench.claims(f"SE.MTR.S.A{a.id:04X}")]


@when("the golden reads the summation and the claimed tier registers every 15 minutes for the PIXIT summation "
      "watch period")
def watch_tiers(bench, testbed):
    period = bench.pixit_seconds("summation_watch_period", 6 * 3600)
    attrs = [MODEL.attribute(Side.SERVER, SUMMATION), *_tier_attrs(bench)]
    client = _client(bench, testbed)

    async def watch() -> list[dict[int, int]]:
        readings = []
        end = bench.clock.monotonic() + period
        while True:
            records = await client.read([a.id for a in attrs])  # one request: the registers of one moment
            readings.append({a.id: int(records[a.id].value.value) for a in attrs
                             if a.id in records and records[a.id].status == Status.SUCCESS})
            if bench.clock.monotonic() >= end:
                return readings
            await bench.clock.sleep(TIER_SAMPLING, "reading the tier registers")

    testbed.notes["tiers"] = (attrs, bench.run(watch(), period + 600))


@then("no tier register is lower than at the reading before")
def tiers_never_decrease(testbed):
    attrs, readings = testbed.notes["tiers"]
    missing = [f"0x{a.id:04X}" for a in attrs if any(a.id not in r for r in readings)]
    check(not missing, expected="every claimed tier register served at every reading", observed=f"missing {missing}",
          rule=f"{RULE}: the DUT's PICS claim the tier registers")
    bad = [f"0x{a.id:04X}: {earlier[a.id]} then {later[a.id]}" for earlier, later in zip(readings, readings[1:],
                                                                                       strict=False)
           for a in attrs[1:] if later[a.id] < earlier[a.id]]
    check(not bad, expected="each tier register never lower than before", observed="; ".join(bad),
          rule=f"{RULE}: CurrentTierNSummationDelivered counts energy delivered in tier N")


@then("between readings the tier registers together grow by what the summation grows")
def tiers_add_up(testbed):
    attrs, readings = testbed.notes["tiers"]
    tiers = attrs[1:]
    bad = []
    for earlier, later in zip(readings, readings[1:], strict=False):
        summation = later[SUMMATION] - earlier[SUMMATION]
        in_tiers = sum(later[a.id] - earlier[a.id] for a in tiers)
        if abs(summation - in_tiers) > len(tiers):  # each register counts whole units: one off each
            bad.append(f"summation +{summation}, tiers +{in_tiers}")
    check(len(readings) >= 2 and not bad,
          expected=f"the {len(tiers)} tier registers together grow by the summation's growth (one unit per register)",
          observed="; ".join(bad) or f"{len(readings)} readings, all consistent",
          rule=f"{RULE}: time-of-use registers (D.3.2.2.1.2: energy delivered while each tier is in force)")


# -- the summation against the demand served; update periods ----------------------------------------------------

#: How long TC-MET-1.9 reads the registers (s), and how often TC-MET-1.10 does.
DEMAND_WATCH, UPDATE_SAMPLING = 600.0, 1.0
#: UnitofMeasure values whose demand is the summation's unit per hour, in pure binary, with the summation's and the
#: demand's unit; the BCD forms (0x80-) and pressure (0x08) are not judged against each other.
RATE_UNITS = {0x00: ("kWh", "kW"), 0x01: ("m3", "m3/h"), 0x02: ("ft3", "ft3/h"), 0x03: ("ccf", "ccf/h"),
              0x04: ("US gal", "US gal/h"), 0x05: ("IMP gal", "IMP gal/h"), 0x06: ("BTU", "BTU/h"), 0x07: ("l", "l/h")}
DEMAND_RULE = (f"{RULE}: CurrentSummationDelivered counts the energy delivered, updated continuously (D.3.2.2.1.1); "
               "InstantaneousDemand at least every update period in force (D.3.2.2.1 DefaultUpdatePeriod, "
               "FastPollUpdatePeriod); one Multiplier and Divisor for summation and demand (D.3.2.2.4.2-3)")
FAST_POLL_RULE = (f"{RULE}: Request Fast Poll Mode Response: AppliedUpdatePeriod \"the period at which metering data "
                  "shall be updated\"; at FastPollModeEndTime the server \"will terminate fast poll mode and resume "
                  "updating at the rate specified by DefaultUpdatePeriod\"")


@when("the golden reads UnitofMeasure, Multiplier and Divisor")
def read_scale(bench, testbed):
    testbed.notes["scale"] = _read_values(bench, testbed, [ATTRS.unit_of_measure, ATTRS.multiplier, ATTRS.divisor])


def _judged_scale(testbed) -> tuple[int, int, tuple[str, str]]:
    """Multiplier and Divisor (1 where not served) and the units, once UnitofMeasure is one whose demand is the
    summation's rate per hour. The judge works in raw units (the scale is the same on both sides); the scale only
    says the findings in the units served (TC-MET-1.2 judges a zero Multiplier or Divisor)."""
    values = testbed.notes["scale"]
    unit = int(values[ATTRS.unit_of_measure.id])
    if unit not in RATE_UNITS:
        raise BenchFault(f"the suite judges the demand against the summation for the pure binary rate units "
                         f"0x00-0x07 only; this DUT serves UnitofMeasure 0x{unit:02X}")
    multiplier, divisor = _scale(values)
    return multiplier, divisor, RATE_UNITS[unit]


def _read_with_demand(bench, testbed, seconds: float, every: float) -> list:
    readings = bench.run(sample_while(_client(bench, testbed), seconds, every, demand=True), seconds + 600)
    testbed.notes.setdefault("demand_readings", []).extend(readings)
    return readings


@when("the golden reads CurrentSummationDelivered and InstantaneousDemand every update period for 10 minutes")
def watch_demand(bench, testbed):
    testbed.notes["update"] = _update_period(bench, testbed)
    testbed.notes["watch"] = _read_with_demand(bench, testbed, DEMAND_WATCH, testbed.notes["update"])


def _mismatch_text(testbed, mismatches: list[EnergyMismatch], origin: float) -> str:
    """The first mismatches, scaled to the units served (the summation's raw units in brackets), times from
    *origin*."""
    multiplier, divisor, (summation_unit, demand_unit) = _judged_scale(testbed)

    def scaled(raw: float) -> str:
        return f"{raw * multiplier / divisor:.6g}" if divisor else f"{raw:.6g} raw"

    shown = []
    for m in mismatches[:3]:
        span = m.last.arrived - m.first.arrived
        shown.append(f"{m.first.arrived - origin:.1f}-{m.last.arrived - origin:.1f} s ({span:.1f} s): the summation "
                     f"rose {scaled(m.rise)} {summation_unit} (raw {m.rise}), the demand served "
                     f"({scaled(m.first.demand)} then {scaled(m.last.demand)} {demand_unit} at the ends) allows "
                     f"{scaled(max(0.0, m.low))} to {scaled(m.high)} {summation_unit}")
    more = len(mismatches) - len(shown)
    return "; ".join(shown) + (f"; {more} more spans" if more > 0 else "")


def _energy_check(testbed, period, within, expected: str, rule: str) -> None:
    readings = testbed.notes["demand_readings"]
    _judged_scale(testbed)
    judgement = judge_energy(readings, period, within)
    check(judgement.spans > 0 and not judgement.mismatches, expected=expected,
          observed=_mismatch_text(testbed, judgement.mismatches, readings[0].arrived)
          or f"no span of readings judged ({len(readings)} readings)", rule=rule)


@then("between any two readings the summation rises by the demand served times the time, within one update "
      "period's load")
def summation_follows_demand(testbed):
    update = testbed.notes["update"]
    _energy_check(testbed, lambda _t: update, None,
                  f"over every span of readings a rise of the demand served x the time, within one update period's "
                  f"load ({update:g} s) at each end", DEMAND_RULE)


@when("the golden reads DefaultUpdatePeriod and FastPollUpdatePeriod")
def read_update_periods(bench, testbed):
    values = _read_values(bench, testbed, [ATTRS.default_update_period, ATTRS.fast_poll_update_period])
    testbed.notes["default_period"] = int(values[ATTRS.default_update_period.id])
    testbed.notes["fast_poll_period"] = int(values[ATTRS.fast_poll_update_period.id])


def _watch_time(testbed) -> float:
    """Six DefaultUpdatePeriods, at least a minute."""
    return max(60.0, 6.0 * testbed.notes["default_period"])


@when("the golden reads CurrentSummationDelivered and InstantaneousDemand every second for six "
      "DefaultUpdatePeriods, at least a minute")
def watch_before_fast_poll(bench, testbed):
    _read_with_demand(bench, testbed, _watch_time(testbed), UPDATE_SAMPLING)


#: The fast poll periods TC-MET-1.10 requests, from DefaultUpdatePeriod and FastPollUpdatePeriod.
REQUESTED = {"FastPollUpdatePeriod": lambda default, fast: fast,
             "three DefaultUpdatePeriods": lambda default, fast: min(0xFF, 3 * default)}


@when(parsers.parse("the golden requests fast poll mode at {requested} for 1 minute"))
def request_fast_poll_at(bench, testbed, requested):
    period = REQUESTED[requested](testbed.notes["default_period"], testbed.notes["fast_poll_period"])
    request_fast_poll(bench, testbed, period, 1)


@when("the golden reads CurrentSummationDelivered and InstantaneousDemand every second until six "
      "DefaultUpdatePeriods, at least a minute, after fast poll mode ends")
def watch_after_fast_poll(bench, testbed):
    end = int(testbed.notes["fast_poll"].fast_poll_mode_endtime)
    applied = int(testbed.notes["fast_poll"].applied_update_period)
    until = end + max(applied, testbed.notes["default_period"]) + _tolerance(bench) + _watch_time(testbed)
    _read_with_demand(bench, testbed, max(0.0, until - utc_seconds(bench.clock)), UPDATE_SAMPLING)


def _phases(bench, testbed) -> tuple[dict[str, tuple[float, float, float]], Callable[[float], float]]:
    """The stretches each step judges (bench time, with the period in force there) and the period in force at each
    moment: DefaultUpdatePeriod before the request; the applied period from a DefaultUpdatePeriod after the answer
    (the update due when it came may follow the default period) to FastPollModeEndTime; DefaultUpdatePeriod again
    from an applied period after it (the update due at the end may follow the fast poll period); the longer of the
    two in between. Each edge is widened by the timing tolerance (the meter's clock)."""
    default, tol = float(testbed.notes["default_period"]), _tolerance(bench)
    response = testbed.notes["fast_poll"]
    applied, end = float(int(response.applied_update_period)), float(int(response.fast_poll_mode_endtime))
    asked, answered = testbed.notes["asked_at"], testbed.notes["answered_at"]
    fast_from, default_from = answered + default + tol, end + applied + tol

    def period(at: float) -> float:
        if at < asked:
            return default
        if fast_from <= at < end - tol:
            return applied
        if at >= default_from:
            return default
        return max(default, applied)

    stretches = {"before": (float("-inf"), asked, default), "during": (fast_from, end - tol, applied),
                 "after": (default_from, float("inf"), default)}
    return stretches, period


def _period_check(bench, testbed, stretch: str, what: str) -> None:
    stretches, period = _phases(bench, testbed)
    start, end, seconds = stretches[stretch]
    _energy_check(testbed, period, (start, end),
                  f"{stretch} fast poll, registers at most {what} ({seconds:g} s) old: over every span of readings a "
                  f"rise of the demand served x the time, within {seconds:g} s of load at each end", FAST_POLL_RULE)


@then("before fast poll the registers are at most DefaultUpdatePeriod old")
def fresh_before_fast_poll(bench, testbed):
    _period_check(bench, testbed, "before", "DefaultUpdatePeriod")


@then("during fast poll the registers are at most the applied update period old")
def fresh_during_fast_poll(bench, testbed):
    _period_check(bench, testbed, "during", "the applied update period")


@then("after fast poll mode ends the registers are at most DefaultUpdatePeriod old again")
def fresh_after_fast_poll(bench, testbed):
    _period_check(bench, testbed, "after", "DefaultUpdatePeriod")

"""Fault catalogues of the reference SE servers (harness/devices/servers): the Simple Metering server of the meter
and the ESI's Time, Price, DRLC and Messaging servers.

Each fault names the rule it breaks, the case keys it must fail (the fault matrix checks both ways) and what it
seeds (harness/devices/faults.py). The server code asks ``faults.has(FAULT)`` (or ``faults.acts`` where an
attribute it alters is watched) with the constants below; a model lists the groups whose servers it carries, so
the groups move with the servers (METERING with the Metering server, ESI_SERVERS with the ESI's).
"""

from __future__ import annotations

from .faults import AttributeBehaviour, Behaviour, Fault, WatchedBehaviour
from .foundation import REPORTING_FAULTS

# -- Simple Metering server (harness/devices/servers/metering.py) -------------------------------------------

#: The Get Profile examples of TC-MET-1.5 (their case keys).
GET_PROFILE = "TC-MET-1.5"

UNIT_NOT_FOR_DEVICE_TYPE = Fault(
    "unit-not-for-device-type", "serves UnitofMeasure 0x01 (cubic metres) while its MeteringDeviceType says electric",
    ("TC-MET-1.1",), AttributeBehaviour())
SUMMATION_FORMATTING_MISSING = Fault(
    "summation-formatting-missing", "lacks the mandatory SummationFormatting attribute",
    ("TC-ATTR-1.2[Simple Metering]", "TC-ATTR-1.9", "TC-ATTR-1.10", "TC-MET-1.1", "TC-MET-1.2"), AttributeBehaviour())
FORMATTING_TOO_NARROW = Fault(
    "formatting-too-narrow", "SummationFormatting gives 3 digits left of the point while it serves over 12 000 kWh",
    ("TC-MET-1.2",), AttributeBehaviour())
SUMMATION_STEPS_BACK = Fault(
    "summation-steps-back", "its CurrentSummationDelivered register steps back by 1 kWh two hours after power up",
    # The profile's intervals and the tier registers are judged against the register: a step back shows there too.
    ("TC-MET-1.3", "TC-MET-1.5[latest-max]", "TC-MET-1.5[latest-max + 1]", "TC-MET-1.8"), WatchedBehaviour())
REPORTS_BEFORE_MIN_INTERVAL = Fault(
    "reports-before-min-interval", "reports a changed value at once, ignoring the configured minimum interval",
    ("TC-MET-1.4[60-300-1]", "TC-MET-1.4[10-60-1]"), Behaviour())
REPORTS_MISS_MAX_INTERVAL = Fault(
    "reports-miss-max-interval", "sends its periodic report only every second maximum interval",
    ("TC-MET-1.4[10-60-1000000]",), Behaviour())
REPORTS_IGNORE_CHANGE = Fault(
    "reports-ignore-reportable-change", "reports every change, however small the configured reportable change",
    ("TC-MET-1.4[10-60-1000000]",), Behaviour())
PROFILE_OLDEST_FIRST = Fault(
    "profile-oldest-first", "sends Get Profile intervals oldest first",
    (f"{GET_PROFILE}[latest-max]", f"{GET_PROFILE}[latest-max + 1]"), Behaviour())
PROFILE_IGNORES_MAX_PERIODS = Fault(
    "profile-ignores-max-periods", "delivers more intervals than MaxNumberOfPeriodsDelivered when asked for more",
    (f"{GET_PROFILE}[latest-max + 1]",), Behaviour())
PROFILE_TAKES_ANY_CHANNEL = Fault(
    "profile-takes-any-channel", "answers a Get Profile on any interval channel, undefined or not measured, with "
    "the delivered energy's intervals", (f"{GET_PROFILE}[undefined channel-1]", f"{GET_PROFILE}[received channel-1]"),
    Behaviour())
PROFILE_STATUS_SUCCESS_WHEN_SHORT = Fault(
    "profile-success-when-short", "answers Get Profile with SUCCESS although it delivers fewer intervals than "
    "requested, none included", (f"{GET_PROFILE}[latest-max + 1]", f"{GET_PROFILE}[before the first interval-1]"),
    Behaviour())
PROFILE_WRONG_PERIOD = Fault(
    "profile-wrong-period", "answers Get Profile with ProfileIntervalPeriod 1 (60 minutes) although it records "
    "15-minute intervals", tuple(f"{GET_PROFILE}[latest-{n}]" for n in ("0", "1", "max", "max + 1")), Behaviour())
FAST_POLL_BELOW_MINIMUM = Fault(
    "fast-poll-below-minimum", "applies a requested fast poll period shorter than its FastPollUpdatePeriod",
    ("TC-MET-1.6[0-1]", "TC-MET-1.6[1-15]"), Behaviour())
FAST_POLL_UNCAPPED = Fault(
    "fast-poll-uncapped", "stays in fast poll mode for the requested duration beyond 15 minutes",
    ("TC-MET-1.6[3-16]", "TC-MET-1.6[255-255]"), Behaviour())
PEAK_TIER_UNREGISTERED = Fault(
    "peak-tier-unregistered", "counts peak-hour energy in CurrentSummationDelivered but in no tier register",
    ("TC-MET-1.8",), Behaviour())
STATUS_RESERVED_BIT = Fault(
    "status-reserved-bit", "sets the reserved bit 7 of an electric meter's Status", ("TC-MET-1.7",),
    AttributeBehaviour())
#: The examples of TC-MET-1.10 (the registers' updates before, during and after a fast poll), by the fast poll
#: period requested.
FAST_POLL_AT_MINIMUM, FAST_POLL_SLOWER = "TC-MET-1.10[FastPollUpdatePeriod]", "TC-MET-1.10[three DefaultUpdatePeriods]"
#: The cases that judge the summation's rise against the demand served (TC-MET-1.10 with the period in force).
DEMAND_AND_SUMMATION = ("TC-MET-1.9", FAST_POLL_AT_MINIMUM, FAST_POLL_SLOWER)
DEMAND_OF_ANOTHER_MINUTE = Fault(
    "demand-of-another-minute", "serves as InstantaneousDemand the load of another minute than the one its "
    "summation integrates (the second of the minute taken for the minute)", DEMAND_AND_SUMMATION, Behaviour())
SUMMATION_SCALED_WRONG = Fault(
    "summation-scaled-wrong", "integrates the load divided by the seconds instead of multiplied: "
    "CurrentSummationDelivered grows by almost nothing", DEMAND_AND_SUMMATION, Behaviour())
FAST_POLL_NOT_APPLIED = Fault(
    "fast-poll-not-applied", "answers Request Fast Poll Mode with the period it applies but keeps updating its "
    "registers every DefaultUpdatePeriod", (FAST_POLL_AT_MINIMUM,), Behaviour())
FAST_POLL_PERIOD_KEPT = Fault(
    "fast-poll-period-kept", "once its fast poll mode has ended, keeps updating its registers at the applied fast "
    "poll period instead of DefaultUpdatePeriod", (FAST_POLL_SLOWER,), Behaviour())

METERING = [UNIT_NOT_FOR_DEVICE_TYPE, SUMMATION_FORMATTING_MISSING, FORMATTING_TOO_NARROW, SUMMATION_STEPS_BACK,
            REPORTS_BEFORE_MIN_INTERVAL, REPORTS_MISS_MAX_INTERVAL, REPORTS_IGNORE_CHANGE, PROFILE_OLDEST_FIRST, PROFILE_IGNORES_MAX_PERIODS,
            PROFILE_TAKES_ANY_CHANNEL, PROFILE_STATUS_SUCCESS_WHEN_SHORT, PROFILE_WRONG_PERIOD, FAST_POLL_BELOW_MINIMUM,
            FAST_POLL_UNCAPPED, STATUS_RESERVED_BIT, PEAK_TIER_UNREGISTERED, DEMAND_OF_ANOTHER_MINUTE,
            SUMMATION_SCALED_WRONG, FAST_POLL_NOT_APPLIED, FAST_POLL_PERIOD_KEPT]


# -- the ESI's servers (harness/devices/servers/time.py, price.py, drlc.py, messaging.py) ------------------------

TIME_STATUS_SYNCHRONIZED_WITH_MASTER = Fault(
    "time-status-synchronized-with-master", "sets TimeStatus Synchronized beside Master", ("TC-ESI-1.1",),
    Behaviour())
CLOCK_BEHIND = Fault("clock-behind", "its Time runs 5 minutes behind UTC", ("TC-ESI-1.1",), Behaviour())
LOCAL_TIME_IGNORES_DST = Fault(
    "local-time-ignores-dst", "serves LocalTime without DstShift while daylight saving is in force", ("TC-ESI-1.2",),
    Behaviour())

TIME_STATUS_MISSING = Fault(
    "time-status-missing", "its Time server lacks the mandatory TimeStatus attribute",
    ("TC-ATTR-1.2[Time]", "TC-ATTR-1.9", "TC-ATTR-1.10", "TC-ESI-1.1"), AttributeBehaviour())

DST_SEASON_SPANS_YEARS = Fault(
    "dst-season-spans-years", "serves DstEnd a year late: the season it gives runs from this year's start to the "
    "end after next", ("TC-ESI-1.2",), Behaviour())

TIME_SERVER = [TIME_STATUS_SYNCHRONIZED_WITH_MASTER, CLOCK_BEHIND, LOCAL_TIME_IGNORES_DST, TIME_STATUS_MISSING,
               DST_SEASON_SPANS_YEARS]

#: The Publish Price answers the cases judge field by field.
PUBLISHED_PRICES = ("TC-ESI-2.1", "TC-ESI-2.2[0]", "TC-ESI-2.2[1]", "TC-ESI-2.4", "TC-ESI-2.5")
PUBLISH_PRICE_STALE_TIME = Fault(
    "publish-price-stale-time", "sends Publish Price with CurrentTime 0 instead of its time", PUBLISHED_PRICES,
    Behaviour())
RATE_LABEL_TOO_LONG = Fault(
    "rate-label-too-long", "sends a RateLabel of 13 bytes (at most 11)", PUBLISHED_PRICES, Behaviour())
CURRENT_PRICE_NOT_CURRENT = Fault(
    "current-price-not-current", "answers Get Current Price with its latest published price, not yet in force",
    # TC-ESI-2.2 compares the scheduled prices with what Get Current Price gave.
    ("TC-ESI-2.1", "TC-ESI-2.2[0]", "TC-ESI-2.2[1]"), Behaviour())
SCHEDULED_PRICES_IGNORE_COUNT = Fault(
    "scheduled-prices-ignore-count", "answers Get Scheduled Prices with every price whatever NumberOfEvents asks",
    ("TC-ESI-2.2[1]",), Behaviour())
SCHEDULED_PRICES_SKIP_CURRENT = Fault(
    "scheduled-prices-skip-current", "answers Get Scheduled Prices with the prices to come only, not the one in force",
    ("TC-ESI-2.2[0]", "TC-ESI-2.2[1]"), Behaviour())
PRICE_ACK_REFUSED = Fault(
    "price-ack-refused", "answers a Price Acknowledgement with Default Response FAILURE", ("TC-ESI-2.3",), Behaviour())
PRICE_SERVER_NOT_CARRIED = Fault(
    "price-server-not-carried", "lists the Price server in its descriptor but answers it with UNSUPPORTED_CLUSTER",
    # The key establishment cases probe the new link key with a read of the first SE cluster claimed: Price.
    ("TC-ATTR-1.2[Price]", "TC-ATTR-1.10", *PUBLISHED_PRICES, "TC-ESI-2.3", "TC-KE-4.1"),
    WatchedBehaviour())
CURRENT_PRICE_STANDING_ONLY = Fault(
    "current-price-standing-only", "answers Get Current Price with its standing (until changed) price even while a "
    "price it published is in force", ("TC-ESI-2.4",), Behaviour())
UNTIL_CHANGED_PRICE_EXPIRES = Fault(
    "until-changed-price-expires", "reads a price's Duration 0xFFFF (until changed) as 65535 minutes: its standing "
    "price ends 45.5 days after its start, and Get Current Price then answers NOT_FOUND", ("TC-ESI-2.5",),
    Behaviour())
PRICE_CONTROL_CLAIMS_EXTENDED_TIERS = Fault(
    "price-control-claims-extended-tiers", "sends Publish Price with PriceControl bit 1 (Total Tiers exceeds 15) set "
    "although it names 3 tiers and carries no ExtendedNumberOfPriceTiers", ("TC-ESI-2.1",), Behaviour())
PRICE_SERVER = [PRICE_SERVER_NOT_CARRIED, SCHEDULED_PRICES_SKIP_CURRENT, PUBLISH_PRICE_STALE_TIME, RATE_LABEL_TOO_LONG, CURRENT_PRICE_NOT_CURRENT, SCHEDULED_PRICES_IGNORE_COUNT,
                PRICE_ACK_REFUSED, CURRENT_PRICE_STANDING_ONLY, UNTIL_CHANGED_PRICE_EXPIRES, PRICE_CONTROL_CLAIMS_EXTENDED_TIERS]

EVENT_DURATION_TOO_LONG = Fault(
    "event-duration-too-long", "issues Load Control Events of 1441 minutes (at most 1440)",
    # TC-ESI-3.3: by its 1441 minutes the first event is still to end when the ESI, by its own 60, has dropped it.
    ("TC-ESI-3.1[0]", "TC-ESI-3.1[1]", "TC-ESI-3.3"), Behaviour())
SCHEDULED_EVENTS_IGNORE_COUNT = Fault(
    "scheduled-events-ignore-count", "answers Get Scheduled Events with every event whatever NumberOfEvents asks",
    ("TC-ESI-3.1[1]",), Behaviour())
REPORT_EVENT_STATUS_REFUSED = Fault(
    "report-event-status-refused", "answers a Report Event Status with Default Response FAILURE", ("TC-ESI-3.2",),
    Behaviour())
DRLC_SERVER_NOT_CARRIED = Fault(
    "drlc-server-not-carried", "lists the DRLC server in its descriptor but answers it with UNSUPPORTED_CLUSTER",
    ("TC-ATTR-1.2[Demand Response and Load Control]", "TC-ATTR-1.10", "TC-ESI-3.1[0]", "TC-ESI-3.1[1]",
     "TC-ESI-3.2", "TC-ESI-3.3"), WatchedBehaviour())
ENDED_EVENTS_KEPT = Fault(
    "ended-events-kept", "answers Get Scheduled Events with every event it issued, those that have ended included",
    ("TC-ESI-3.3",), Behaviour())
DRLC_SERVER = [DRLC_SERVER_NOT_CARRIED, EVENT_DURATION_TOO_LONG, SCHEDULED_EVENTS_IGNORE_COUNT, REPORT_EVENT_STATUS_REFUSED,
               ENDED_EVENTS_KEPT]

MESSAGE_CONTROL_RESERVED_BITS = Fault(
    "message-control-reserved-bits", "sends Display Message with the reserved MessageControl bits 4-6 set",
    ("TC-ESI-4.1",), Behaviour())
MESSAGE_CONFIRMATION_REFUSED = Fault(
    "message-confirmation-refused", "answers a Message Confirmation with Default Response FAILURE", ("TC-ESI-4.2",),
    Behaviour())
MESSAGING_SERVER_NOT_CARRIED = Fault(
    "messaging-server-not-carried", "lists the Messaging server in its descriptor but answers it with "
    "UNSUPPORTED_CLUSTER", ("TC-ATTR-1.2[Messaging]", "TC-ATTR-1.10", "TC-ESI-4.1", "TC-ESI-4.2"),
    WatchedBehaviour())
MESSAGING_SERVER = [MESSAGING_SERVER_NOT_CARRIED, MESSAGE_CONTROL_RESERVED_BITS, MESSAGE_CONFIRMATION_REFUSED]

#: Every fault of the ESI's servers, for the catalogue of a model that carries them all.
ESI_SERVERS = [*TIME_SERVER, *PRICE_SERVER, *DRLC_SERVER, *MESSAGING_SERVER]

#: The examples of TC-MET-1.4 (reporting as configured): min interval, max interval, reportable change.
REPORTING_CASES = tuple(f"TC-MET-1.4[{example}]" for example in ("0-120-1", "60-300-1", "10-60-1", "10-60-1000000"))


#: The reporting faults of the shared engine (harness/devices/foundation.py), aimed at every reporting case a
#: Metering server runs: TC-ZCL-1.8 and the TC-MET-1.4 examples.
METERING_REPORTING = [fault.aimed_at("TC-ZCL-1.8", *REPORTING_CASES) for fault in REPORTING_FAULTS]


def catalogue(*groups: list[Fault]) -> dict[str, Fault]:
    return {fault.name: fault for group in groups for fault in group}

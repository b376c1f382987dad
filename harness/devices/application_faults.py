"""Fault catalogues of the reference devices' stack, attribute table and SE application clients (DRLC, Price,
Messaging, Time).

Each fault names the rule it breaks, the case keys it must fail (the fault matrix checks both ways) and what it
seeds (harness/devices/faults.py). The faults the device code branches on are module constants, imported where
the code asks ``self.faults.has(FAULT)``; the groups below are shared by the models, and a model lists the
groups whose cases it runs (its PICS decide which). The PCT, LCD and appliance leave joining, attribute and key
establishment faults to the IHD's catalogue (the fault matrix accepts a case shared by several device types
failed by any model's fault).
"""

from __future__ import annotations

from .faults import AttributeBehaviour, Behaviour, ClientSetting, Fault, StackSetting, WatchedBehaviour

#: The TimeStatus values of the TC-TIME-1.5 examples that make a time source, and those that do not.
TIME_SOURCES, NOT_TIME_SOURCES = ("0x01", "0x02", "0x0B"), ("0x00", "0x0C")


def stamped_cases(stamp: str, statuses: tuple[str, ...] = TIME_SOURCES) -> tuple[str, ...]:
    """The TC-TIME-1.5 (of *statuses*) and TC-TIME-1.7 examples a model runs with *stamp* ("price acknowledgement"
    or "event status"): by default those in which it must run on the ESI's time."""
    return (*(f"TC-TIME-1.5[{status}-{stamp}]" for status in statuses),
            *(f"TC-TIME-1.7[{direction}-{stamp}]" for direction in ("forward", "back")))


#: Every example stamped with a Report Event Status (a Price Acknowledgement): a fault that spoils the stamp fails
#: them all.
EVENT_STAMPED = (*stamped_cases("event status", (*NOT_TIME_SOURCES, *TIME_SOURCES)), "TC-TIME-1.10[event status]")
PRICE_STAMPED = (*stamped_cases("price acknowledgement", (*NOT_TIME_SOURCES, *TIME_SOURCES)),
                 "TC-TIME-1.10[price acknowledgement]")

# -- joining (the node's stack) -------------------------------------------------------------------------------

WRONG_KEY_SEQUENCE_NUMBER = Fault(
    "wrong-key-sequence-number", "writes key sequence 1 in its NWK auxiliary headers while key 0 is active",
    ("TC-JOIN-1.1", "TC-JOIN-1.6", "TC-JOIN-1.8", "TC-JOIN-1.14"), StackSetting("correct_key_sequence_number"))
ANNOUNCES_WITHOUT_NETWORK_KEY = Fault(
    "announces-without-network-key", "announces itself although no network key could be authenticated",
    ("TC-JOIN-1.2", "TC-JOIN-1.4"), StackSetting("stay_silent_without_network_key"))
JOINS_WITHOUT_PERMIT = Fault(
    "joins-without-permit", "associates with a network whose beacons do not permit joining", ("TC-JOIN-1.3",),
    StackSetting("associate_only_when_permitted"))
NO_DEVICE_ANNCE = Fault("no-device-annce", "does not send ZDO Device_annce after joining",
                        ("TC-JOIN-1.5", "TC-JOIN-1.10"), StackSetting("send_device_annce"))
IGNORES_LEAVE = Fault("ignores-leave", "ignores Mgmt_Leave_req and stays on the network",
                      ("TC-JOIN-1.7", "TC-JOIN-1.12"), StackSetting("obey_leave"))
ANNOUNCES_OTHER_CAPABILITY = Fault(
    "announces-other-capability", "announces itself as battery powered (Device_annce capability) although its "
    "association request said mains powered", ("TC-JOIN-1.10",), StackSetting("announce_association_capability"))
POWER_DESCRIPTOR_BATTERY = Fault(
    "power-descriptor-battery", "answers Power_Desc_req with a disposable battery at 33 % although it is mains "
    "powered", ("TC-JOIN-1.10",), StackSetting("power_descriptor_as_capability"))
NO_NWK_REPLAY_CHECK = Fault(
    "no-nwk-replay-check", "takes NWK frames whose frame counter it has seen before (no replay check)",
    ("TC-JOIN-1.11",), StackSetting("replay_check"))
NO_APS_REPLAY_CHECK = Fault(
    "no-aps-replay-check", "takes APS-secured frames whose APS frame counter it has seen before, when they come in "
    "a fresh NWK frame", ("TC-JOIN-1.11",), StackSetting("aps_replay_check"))
DELIVERS_APS_DUPLICATES = Fault(
    "delivers-aps-duplicates", "delivers an APS frame that arrives twice (same source and APS counter) twice",
    ("TC-JOIN-1.11",), StackSetting("aps_duplicate_rejection"))
IGNORES_REJOIN_BIT = Fault(
    "ignores-rejoin-bit", "takes Mgmt_Leave_req with Rejoin set as a plain leave: leaves for good", ("TC-JOIN-1.12",),
    StackSetting("rejoin_after_leave"))
REFUSES_REMOVE_CHILDREN = Fault(
    "refuses-remove-children", "answers Mgmt_Leave_req with Remove Children set NOT_SUPPORTED and stays",
    ("TC-JOIN-1.12",), StackSetting("accept_remove_children"))
FRAME_COUNTER_RESET = Fault(
    "frame-counter-reset", "keeps its outgoing NWK frame counter in RAM: after a power cycle it starts again at 0",
    ("TC-JOIN-1.13",), StackSetting("persist_nwk_frame_counter"))
NO_TRUST_CENTER_REJOIN = Fault(
    "no-trust-center-rejoin", "when its secured rejoin goes unanswered, repeats it under the old network key and "
    "never rejoins through the Trust Center", ("TC-JOIN-1.14",), StackSetting("trust_center_rejoin_fallback"))
IGNORES_REMOVE_DEVICE = Fault(
    "ignores-remove-device", "acknowledges the Trust Center's APS Remove Device naming itself and stays on the "
    "network", ("TC-JOIN-1.15",), StackSetting("obey_remove_device"))

JOINING = [WRONG_KEY_SEQUENCE_NUMBER, ANNOUNCES_WITHOUT_NETWORK_KEY, JOINS_WITHOUT_PERMIT, NO_DEVICE_ANNCE,
           IGNORES_LEAVE, ANNOUNCES_OTHER_CAPABILITY, POWER_DESCRIPTOR_BATTERY, NO_NWK_REPLAY_CHECK,
           NO_APS_REPLAY_CHECK, DELIVERS_APS_DUPLICATES, IGNORES_REJOIN_BIT, REFUSES_REMOVE_CHILDREN,
           FRAME_COUNTER_RESET, NO_TRUST_CENTER_REJOIN, IGNORES_REMOVE_DEVICE]

# -- the attribute table and descriptor (ApplicationDevice.build_store, simple_descriptor) --------------------

DESCRIPTOR_OMITS_KEY_ESTABLISHMENT = Fault(
    "descriptor-omits-key-establishment", "simple descriptor leaves out the Key Establishment server",
    ("TC-ATTR-1.1",), Behaviour())
BASIC_POWER_SOURCE_UINT8 = Fault(
    "basic-power-source-uint8", "Basic PowerSource reported as uint8 instead of enum8",
    ("TC-ATTR-1.2[Basic]", "TC-ATTR-1.6[Basic]", "TC-ATTR-1.9", "TC-ATTR-1.10"), AttributeBehaviour())
KE_SERVER_SUITE_MISSING = Fault(
    "ke-server-suite-missing", "Key Establishment server lacks KeyEstablishmentSuite",
    ("TC-ATTR-1.2[Key Establishment]", "TC-ATTR-1.6[Key Establishment]", "TC-ATTR-1.9", "TC-ATTR-1.10", "TC-KE-3.5[server]"),
    AttributeBehaviour())
KE_CLIENT_SUITE_MISSING = Fault(
    "ke-client-suite-missing", "Key Establishment client lacks KeyEstablishmentSuite",
    ("TC-ATTR-1.3[Key Establishment]", "TC-ATTR-1.9", "TC-ATTR-1.10", "TC-KE-3.5[client]"), AttributeBehaviour())
ZCL_VERSION_WRITABLE = Fault("zcl-version-writable", "Basic ZCLVersion accepts writes", ("TC-ATTR-1.4",), AttributeBehaviour())
UNSUPPORTED_ATTRIBUTE_FAILURE = Fault(
    "unsupported-attribute-failure", "answers an unsupported attribute with FAILURE", ("TC-ATTR-1.5",), AttributeBehaviour())

ATTRIBUTES = [DESCRIPTOR_OMITS_KEY_ESTABLISHMENT, BASIC_POWER_SOURCE_UINT8, KE_SERVER_SUITE_MISSING,
              KE_CLIENT_SUITE_MISSING, ZCL_VERSION_WRITABLE, UNSUPPORTED_ATTRIBUTE_FAILURE]

# -- DRLC -----------------------------------------------------------------------------------------------------

#: The DRLC cases of a device with the event lifecycle.
#: The examples of TC-DRLC-1.33: an event with a reserved duty cycle or average load adjustment.
RESERVED_CONTROL_CASES = tuple(f"TC-DRLC-1.33[{control}]" for control in (
    "duty cycle 0x65", "duty cycle 0xFE", "load adjustment 101", "load adjustment -101"))
DRLC_CASES = (*(f"TC-DRLC-1.{n}" for n in range(1, 20) if n != 4), "TC-DRLC-1.4[device class]",
              "TC-DRLC-1.4[enrollment group]", "TC-DRLC-1.20[its install-code link key]",
              "TC-DRLC-1.20[no APS security]", "TC-DRLC-1.22", *(f"TC-DRLC-1.{n}" for n in range(23, 33)),
              *RESERVED_CONTROL_CASES, "TC-DRLC-1.34", "TC-DRLC-1.35", "TC-DRLC-1.36",
              "TC-DRLC-1.38", "TC-DRLC-1.39")
#: The DRLC cases of a device whose control interface shows set points (a thermostat: the reference PCT).
THERMOSTAT_CASES = ("TC-DRLC-1.37",)
#: The DRLC cases in which the DUT must report a status (all but TC-DRLC-1.4, which expects none): each judges
#: every field of every Report Event Status it sees (harness/verify/drlc.py).
DRLC_REPORTING_CASES = tuple(c for c in DRLC_CASES if not c.startswith("TC-DRLC-1.4["))

ACTS_ON_FOREIGN_DEVICE_CLASS = Fault(
    "acts-on-foreign-device-class", "acts on events for a device class it does not have",
    ("TC-DRLC-1.4[device class]", "TC-DRLC-1.30"), ClientSetting(client="drlc", field="ignore_device_class"))
ACTS_ON_FOREIGN_ENROLLMENT_GROUP = Fault(
    "acts-on-foreign-enrollment-group", "acts on events for another utility enrollment group",
    ("TC-DRLC-1.4[enrollment group]", "TC-DRLC-1.38"), ClientSetting(client="drlc", field="ignore_enrollment_group"))
CLAMPS_OVERSIZED_DURATION = Fault(
    "clamps-oversized-duration", "clamps a duration above 1440 minutes instead of rejecting the event with FE",
    ("TC-DRLC-1.6",), Behaviour())
START_NOW_TAKEN_LITERALLY = Fault(
    "start-now-taken-literally", "takes StartTime 0 as 2000-01-01 instead of now and rejects the event as expired",
    ("TC-DRLC-1.2", "TC-DRLC-1.9", "TC-DRLC-1.15", "TC-DRLC-1.16", "TC-DRLC-1.18",
     "TC-DRLC-1.20[its install-code link key]", "TC-DRLC-1.20[no APS security]", "TC-DRLC-1.23", "TC-DRLC-1.26",
     "TC-DRLC-1.28", "TC-DRLC-1.29", "TC-DRLC-1.32", "TC-DRLC-1.34", "TC-DRLC-1.35", "TC-DRLC-1.36",
     *THERMOSTAT_CASES, *EVENT_STAMPED),
    Behaviour())  # TC-DRLC-1.33 passes: its reserved controls are rejected (FE) before the expiry is looked at
NO_COMPLETION_REPORT = Fault(
    "no-completion-report", "never reports 03 when an event completes",
    ("TC-DRLC-1.1", "TC-DRLC-1.2", "TC-DRLC-1.3", "TC-DRLC-1.19", "TC-DRLC-1.23", "TC-DRLC-1.27", "TC-DRLC-1.30",
     "TC-DRLC-1.36", "TC-DRLC-1.38", "TC-DRLC-1.39"), Behaviour())
IGNORES_OPT_OUT = Fault("ignores-opt-out", "the user's opt-out changes nothing",
                        ("TC-DRLC-1.14", "TC-DRLC-1.15", "TC-DRLC-1.16"), Behaviour())
SILENT_OPT_IN = Fault("silent-opt-in", "the user's opt-in is applied but never reported (no 05, no 09)",
                      ("TC-DRLC-1.16",), Behaviour())
NO_GET_SCHEDULED_EVENTS = Fault(
    "no-get-scheduled-events", "does not ask for scheduled events after joining or rejoining",
    ("TC-DRLC-1.17", "TC-DRLC-1.31"),
    Behaviour())
# Boundaries, value classes and overlaps (issue 18), seeded by FaultyDrlcClient and ApplicationDevice.
REJECTS_LONGEST_DURATION = Fault(
    "rejects-longest-duration", "rejects an event of 1440 minutes (duration >= 1440 instead of > 1440) with FE",
    ("TC-DRLC-1.23",), Behaviour())
TAKES_INVALID_START_TIME = Fault(
    "takes-invalid-start-time", "schedules an event with StartTime 0xFFFFFFFF instead of rejecting it with FE",
    ("TC-DRLC-1.24",), Behaviour())
IGNORES_UTILITY_DEFINED_CRITICALITY = Fault(
    "ignores-utility-defined-criticality", "takes the utility-defined criticality levels 0x0A-0x0F as reserved and "
    "ignores their events", ("TC-DRLC-1.25",), Behaviour())
ACTS_ON_RESERVED_CRITICALITY = Fault(
    "acts-on-reserved-criticality", "schedules events at the reserved criticality levels 0x00 and 0x10-0xFF",
    ("TC-DRLC-1.26",), Behaviour())
GET_SCHEDULED_EVENTS_ONLY_ON_REJOIN = Fault(
    "get-scheduled-events-only-on-rejoin", "asks for scheduled events after a rejoin but not when it first joins",
    ("TC-DRLC-1.31",), Behaviour())
ACTUATION_IGNORES_EVENT = Fault(
    "actuation-ignores-event", "reports the event's controls as applied while its thermostat or load switch keeps "
    "its own state", ("TC-DRLC-1.32",), Behaviour())
# Out-of-range values and reserved bits (issue 18), seeded by FaultyDrlcClient and the reference PCT.
APPLIES_RESERVED_CONTROLS = Fault(
    "applies-reserved-controls", "takes an event with a reserved duty cycle (0x65-0xFE) or average load adjustment "
    "(beyond +/-100 %) and reports the value applied, as a client that neither checks nor clamps them does",
    RESERVED_CONTROL_CASES, Behaviour())
APPLIES_UNUSED_SET_POINT = Fault(
    "applies-unused-set-point", "its thermostat takes a set point of 0x8000 (\"not used\") as -327.68 degrees C",
    ("TC-DRLC-1.34", *THERMOSTAT_CASES), Behaviour())
TEMPERATURE_OFFSETS_IN_DEGREES = Fault(
    "temperature-offsets-in-degrees", "its thermostat takes the event's temperature offsets (0.1 degree C units) "
    "for whole degrees C: an offset of 2.5 degrees C moves its set point by 25", ("TC-DRLC-1.37",), Behaviour())
REJECTS_RESERVED_BITS = Fault(
    "rejects-reserved-bits", "rejects an event with reserved DeviceClass (12-15) or EventControl (2-7) bits set "
    "with FE instead of ignoring the bits", ("TC-DRLC-1.35",), Behaviour())
#: Every DRLC case in which the DUT must report a status (all but TC-DRLC-1.4, which expects none).
NO_REPORT_EVENT_STATUS = Fault(
    "no-report-event-status", "never sends Report Event Status (nor a Default Response to events)",
    (*DRLC_REPORTING_CASES, "TC-TIME-1.2", *EVENT_STAMPED), Behaviour())

DRLC = [
    Fault("reports-start-before-randomized-start", "reports 02 at the nominal start although EventControl asks for "
          "a randomized start", ("TC-DRLC-1.3", "TC-DRLC-1.27"), ClientSetting(client="drlc", field="early_start_report")),
    Fault("randomizes-outside-window", "draws randomization offsets from [window, 2 x window)",
          ("TC-DRLC-1.3", "TC-DRLC-1.27", "TC-DRLC-1.28"),
          ClientSetting(client="drlc", field="randomize_outside_window")),
    Fault("ignores-cancel", "acts on no Cancel Load Control Event or Cancel All",
          ("TC-DRLC-1.8", "TC-DRLC-1.9", "TC-DRLC-1.10", "TC-DRLC-1.11", "TC-DRLC-1.12", "TC-DRLC-1.28",
           "TC-DRLC-1.32", "TC-DRLC-1.36"),
          ClientSetting(client="drlc", field="ignore_cancel")),
    Fault("misses-supersession", "lets overlapping events run side by side and never reports 07",
          ("TC-DRLC-1.13", "TC-DRLC-1.29"),
          ClientSetting(client="drlc", field="miss_supersession")),
    Fault("wrong-event-status-time", "EventStatusTime one hour off the network time",
          (*DRLC_REPORTING_CASES, *THERMOSTAT_CASES, "TC-DRLC-1.21", "TC-TIME-1.2", *EVENT_STAMPED),
          ClientSetting(client="drlc", field="wrong_event_status_time")),
    # EventStatusTime is judged on every report, randomized starts and ends too (issue 18).
    Fault("status-time-of-nominal-schedule", "EventStatusTime of a randomized start or end is the nominal start or "
          "end, not when the status changed", ("TC-DRLC-1.3", "TC-DRLC-1.27", "TC-DRLC-1.39"),
          ClientSetting(client="drlc", field="nominal_status_time")),
    ACTS_ON_FOREIGN_DEVICE_CLASS,
    ACTS_ON_FOREIGN_ENROLLMENT_GROUP,
    Fault("accepts-expired-event", "schedules an event that already ended instead of rejecting it with FB",
          ("TC-DRLC-1.5",), ClientSetting(client="drlc", field="accept_expired")),
    CLAMPS_OVERSIZED_DURATION,
    Fault("processes-duplicate-event", "processes a repeated IssuerEventID a second time", ("TC-DRLC-1.7",),
          ClientSetting(client="drlc", field="process_duplicate")),
    START_NOW_TAKEN_LITERALLY,
    NO_COMPLETION_REPORT,
    IGNORES_OPT_OUT,
    SILENT_OPT_IN,
    NO_GET_SCHEDULED_EVENTS,
    REJECTS_LONGEST_DURATION,
    TAKES_INVALID_START_TIME,
    APPLIES_RESERVED_CONTROLS,
    REJECTS_RESERVED_BITS,
    IGNORES_UTILITY_DEFINED_CRITICALITY,
    ACTS_ON_RESERVED_CRITICALITY,
    GET_SCHEDULED_EVENTS_ONLY_ON_REJOIN,
    ACTUATION_IGNORES_EVENT,
    Fault("randomizes-end-unasked", "randomizes the end of every event when DurationRandomizationMinutes is set, "
          "whatever EventControl bit 1 says", ("TC-DRLC-1.27",),
          ClientSetting(client="drlc", field="randomize_end_unasked")),
    Fault("never-randomizes-end", "ignores EventControl bit 1: every end at the nominal end (and so a cancel with "
          "randomization has no end offset to apply)", ("TC-DRLC-1.27", "TC-DRLC-1.28"),
          ClientSetting(client="drlc", field="never_randomize_end")),
    Fault("cancel-ignores-randomization", "ignores CancelControl bit 0: every cancel at its effective time",
          ("TC-DRLC-1.28",), ClientSetting(client="drlc", field="cancel_without_randomization")),
    Fault("randomizes-every-cancel", "delays every cancel by the event's randomization, CancelControl bit 0 or not",
          ("TC-DRLC-1.28",), ClientSetting(client="drlc", field="randomize_every_cancel")),
    Fault("supersedes-running-event-at-once", "reports a running event superseded on receipt of the newer event, "
          "not when the newer one starts", ("TC-DRLC-1.29",),
          ClientSetting(client="drlc", field="supersede_running_at_once")),
    Fault("opted-out-event-completes", "completes an event the user opted out of before its start with 03 (Event "
          "Completed) instead of 0A (Event Completed, No User Participation)", ("TC-DRLC-1.14",),
          ClientSetting(client="drlc", field="opted_out_completes_03")),
    Fault("tick-ends-running-event", "takes any tick of its event scheduler (another event's cancel falling due) for "
          "the running event's end, and reports it completed early", ("TC-DRLC-1.36",),
          ClientSetting(client="drlc", field="tick_ends_running")),
    Fault("supersedes-across-device-classes", "lets an overlapping event for another device class supersede its own "
          "event (checks overlaps before the device class)", ("TC-DRLC-1.30", "TC-DRLC-1.38"),
          ClientSetting(client="drlc", field="supersede_before_filter")),
    # Utility enrollment groups (a mutation survivor: every event the suite sent was for group 0).
    Fault("supersedes-across-enrollment-groups", "lets an overlapping event for its device class but another utility "
          "enrollment group supersede its own event (checks overlaps before the group)", ("TC-DRLC-1.38",),
          ClientSetting(client="drlc", field="supersede_before_group_filter")),
    Fault("enrollment-groups-always-overlap", "takes any two events' enrollment groups for overlapping, as if every "
          "group were 0: a newer overlapping event of another device class and another group supersedes its own",
          ("TC-DRLC-1.39",), ClientSetting(client="drlc", field="groups_always_overlap")),
]

#: A device whose PICS claim SE.DRLC.C.SIGN (the reference PCT): its signed Report Event Status.
SIGNS_WITH_TYPE_BYTE = Fault(
    "signs-with-type-byte", "signs Report Event Status over the SignatureType byte too, so the ECDSA signature "
    "does not verify", ("TC-DRLC-1.21", *DRLC_REPORTING_CASES, *THERMOSTAT_CASES), Behaviour())
DRLC_SIGNING = [SIGNS_WITH_TYPE_BYTE]

#: What a Report Event Status says the device applied (TC-DRLC-1.22), seeded one by one in the reference PCT.
DRLC_APPLIED_FIELDS = [
    # TC-DRLC-1.10: its 0xFD for an undefined event claims level 1 (and an off share of 100) applied.
    Fault("constant-criticality-applied", "reports CriticalityLevelApplied 1 (green) whatever the event's level",
          ("TC-DRLC-1.10", "TC-DRLC-1.22", "TC-DRLC-1.25", "TC-DRLC-1.32"), ClientSetting(client="drlc", field="constant_criticality_applied")),
    Fault("set-points-applied-swapped", "reports the cooling and heating set points applied swapped",
          ("TC-DRLC-1.22", "TC-DRLC-1.32"), ClientSetting(client="drlc", field="swap_set_points_applied")),
    # TC-DRLC-1.33: its 0xFE for an event of -101 % claims +101 %, neither the event's value nor "not used".
    Fault("load-adjustment-sign-lost", "reports the average load adjustment applied without its sign (-25 % as 25)",
          ("TC-DRLC-1.22", "TC-DRLC-1.32", "TC-DRLC-1.33[load adjustment -101]"), ClientSetting(client="drlc", field="load_adjustment_sign_lost")),
    Fault("duty-cycle-applied-as-off-share", "reports the duty cycle applied as the off share (100 - duty cycle)",
          ("TC-DRLC-1.10", "TC-DRLC-1.22", "TC-DRLC-1.32"), ClientSetting(client="drlc", field="duty_cycle_off_share")),
    Fault("drops-event-control", "reports EventControl 0 whatever the event's",
          ("TC-DRLC-1.3", "TC-DRLC-1.22", "TC-DRLC-1.27", "TC-DRLC-1.28", "TC-DRLC-1.32", "TC-DRLC-1.35"),
          ClientSetting(client="drlc", field="drop_event_control")),
]

#: The signature of a device that does not sign (PICS without SE.DRLC.C.SIGN, the reference LCD): TC-DRLC-1.22.
DRLC_UNSIGNED = [
    Fault("unsigned-signature-not-blank", "sends unsigned reports (type 0x00) with whatever its buffer held as Signature "
          "instead of a uniform fill", DRLC_REPORTING_CASES, ClientSetting(client="drlc", field="garbage_signature_fill")),
    Fault("unsigned-as-ecdsa", "names SignatureType 0x01 (ECDSA) on reports it does not sign", DRLC_REPORTING_CASES,
          ClientSetting(client="drlc", field="unsigned_as_ecdsa")),
]

# -- Price ----------------------------------------------------------------------------------------------------

NO_GET_CURRENT_PRICE = Fault("no-get-current-price", "does not ask for the current price after joining",
                             ("TC-PRICE-1.1",), Behaviour())
#: The Price cases in which the DUT must acknowledge a price (each new case has a positive control).
_ACKNOWLEDGING_CASES = ("TC-PRICE-1.2", "TC-PRICE-1.3", "TC-PRICE-1.4", "TC-PRICE-1.5[0x01]", "TC-PRICE-1.5[0xFF]",
                        "TC-PRICE-1.6", "TC-PRICE-1.7", "TC-PRICE-1.9[SE 1.1]", "TC-PRICE-1.9[SE 1.2]",
                        "TC-PRICE-1.9[SE 1.2 and 8 unknown bytes]", "TC-PRICE-1.10", "TC-PRICE-1.11", "TC-PRICE-1.12")
NO_PRICE_ACKNOWLEDGEMENT = Fault(
    "no-price-acknowledgement", "never sends Price Acknowledgement, even when PriceControl asks",
    (*_ACKNOWLEDGING_CASES, "TC-TIME-1.3", *PRICE_STAMPED),
    ClientSetting(client="price", field="no_acknowledgement"))
STORES_DUPLICATE_PRICE = Fault(
    "stores-duplicate-price", "takes a repeated IssuerEventID as a new price and acknowledges it again",
    ("TC-PRICE-1.3", "TC-PRICE-1.8"), Behaviour())
LAST_PRICE_WINS = Fault("last-price-wins", "accepts a price older than the one it overlaps (the last received wins)",
                        ("TC-PRICE-1.4", "TC-PRICE-1.7", "TC-PRICE-1.8", "TC-PRICE-1.10", "TC-PRICE-1.13"), Behaviour())

#: Block pricing (issue 18 item 3), for a device whose PICS claim SE.PRICE.C.BLOCK.
REFUSES_BLOCK_PRICE = Fault(
    "refuses-block-price", "refuses a price with block thresholds (NumberOfBlockThresholds other than 0xFF) with "
    "FAILURE, as a flat-rate client does, although its PICS claim block pricing", ("TC-PRICE-1.12",), Behaviour())

NO_GET_SCHEDULED_PRICES = Fault("no-get-scheduled-prices", "does not ask for the scheduled prices after joining "
                                "although it claims Get Scheduled Prices", ("TC-PRICE-1.11",), Behaviour())


def _price(field: str) -> ClientSetting:
    return ClientSetting(client="price", field=field)


#: Issue 18 item 2: PriceControl, expiry, overlap boundaries, refusal statuses, layouts, windows, scheduled prices.
PRICE_WINDOWS = [
    Fault("acknowledges-unasked-price", "acknowledges every price it takes, whatever PriceControl says",
          ("TC-PRICE-1.5[absent]", "TC-PRICE-1.5[0x00]", "TC-PRICE-1.5[0xFE]", "TC-PRICE-1.8"),
          _price("acknowledge_unasked")),
    Fault("price-ack-bit-by-equality", "acknowledges a price only when PriceControl is exactly 0x01, so other "
          "bits hide bit 0", ("TC-PRICE-1.5[0xFF]",), _price("acknowledgement_bit_by_equality")),
    Fault("price-ack-control-zero", "sends Control 0x00 in its Price Acknowledgements instead of the price's "
          "PriceControl", _ACKNOWLEDGING_CASES, _price("acknowledgement_control_zero")),
    Fault("accepts-expired-price", "takes a price that has already ended", ("TC-PRICE-1.6", "TC-PRICE-1.8"),
          _price("accept_expired")),
    Fault("price-never-expires", "takes every Duration as \"until changed\"",
          ("TC-PRICE-1.6", "TC-PRICE-1.7", "TC-PRICE-1.8", "TC-PRICE-1.10", "TC-PRICE-1.13"), _price("never_expire")),
    Fault("price-starts-on-arrival", "takes every StartTime as \"now\"",
          ("TC-PRICE-1.6", "TC-PRICE-1.7", "TC-PRICE-1.8", "TC-PRICE-1.10", "TC-PRICE-1.13"), _price("start_on_arrival")),
    Fault("price-duration-in-seconds", "reads DurationInMinutes as seconds",
          ("TC-PRICE-1.6", "TC-PRICE-1.7", "TC-PRICE-1.10", "TC-PRICE-1.13"), _price("duration_in_seconds")),
    Fault("price-overlap-when-touching", "takes a price that starts when another ends as overlapping it",
          ("TC-PRICE-1.7", "TC-PRICE-1.10"),
          _price("overlap_when_touching")),
    Fault("refuses-older-price-anywhere", "refuses every price older than the newest it holds, overlapping or not",
          ("TC-PRICE-1.7", "TC-PRICE-1.10"), _price("refuse_older_anywhere")),
    Fault("price-refusals-answered-success", "answers a price it does not take with a Default Response SUCCESS",
          ("TC-PRICE-1.8",), _price("refusals_answered_success")),
    Fault("price-layout-se11-only", "answers MALFORMED_COMMAND to a Publish Price with the SE 1.2 fields",
          ("TC-PRICE-1.9[SE 1.2]", "TC-PRICE-1.9[SE 1.2 and 8 unknown bytes]"), _price("se11_layout_only")),
    Fault("rejects-unknown-price-fields", "answers MALFORMED_COMMAND to bytes after the Publish Price fields it knows",
          ("TC-PRICE-1.9[SE 1.2 and 8 unknown bytes]",), _price("reject_unknown_fields")),
    Fault("scheduled-prices-from-tomorrow", "asks Get Scheduled Prices from a day after now, missing the running price",
          ("TC-PRICE-1.11",), _price("scheduled_prices_from_tomorrow")),
    # The current price it shows (mutation survivors: read through the control interface since TC-PRICE-1.13).
    Fault("price-shown-through-end-second", "shows a price as current in the second it ends too (its window taken as "
          "[start, end] instead of [start, end))", ("TC-PRICE-1.13",), _price("shown_through_end_second")),
    Fault("keeps-start-of-superseded-price", "cuts an older price not yet in force at the start of a newer price "
          "that overlaps it, and shows it until then, instead of dropping it", ("TC-PRICE-1.13",),
          _price("keeps_superseded_start")),
    NO_GET_SCHEDULED_PRICES,
]

PRICE = [NO_GET_CURRENT_PRICE, NO_PRICE_ACKNOWLEDGEMENT, STORES_DUPLICATE_PRICE, LAST_PRICE_WINS, *PRICE_WINDOWS]

# -- Messaging ------------------------------------------------------------------------------------------------

CONFIRMS_UNASKED = Fault("confirms-unasked", "sends Message Confirmation for a message that did not ask for one",
                         ("TC-MSG-1.2",), Behaviour())
IGNORES_CANCEL_MESSAGE = Fault(
    "ignores-cancel-message", "keeps showing a cancelled message, so the user can still confirm it",
    ("TC-MSG-1.3",), Behaviour())
NO_GET_LAST_MESSAGE = Fault("no-get-last-message", "does not ask for the last message after joining",
                            ("TC-MSG-1.4", "TC-MSG-1.11"), Behaviour())
#: The Messaging cases in which the user's confirmation must go out (each new case has a positive control).
_CONFIRMING_CASES = ("TC-MSG-1.1", "TC-MSG-1.5", "TC-MSG-1.6", "TC-MSG-1.7", "TC-MSG-1.8", "TC-MSG-1.9",
                     "TC-MSG-1.10", "TC-MSG-1.11", "TC-MSG-1.12[low-normal]", "TC-MSG-1.12[medium-normal]",
                     "TC-MSG-1.12[high-normal]", "TC-MSG-1.12[critical-normal]",
                     "TC-MSG-1.12[critical-normal and Inter-PAN]")

MESSAGING = [
    Fault("no-message-confirmation", "the user's confirmation never goes out as Message Confirmation",
          (*_CONFIRMING_CASES, "TC-TIME-1.4"), ClientSetting(client="messaging", field="no_confirmation")),
    CONFIRMS_UNASKED,
    IGNORES_CANCEL_MESSAGE,
    NO_GET_LAST_MESSAGE,
    # What is on display (issue 18): StartTime, Duration, replacement, cancels, ConfirmationTime, MessageControl.
    Fault("shows-message-before-start", "shows every message on arrival, whatever its StartTime",
          ("TC-MSG-1.5", "TC-MSG-1.7"), ClientSetting(client="messaging", field="show_before_start")),
    Fault("message-never-expires", "takes every Duration as \"until changed\"", ("TC-MSG-1.6", "TC-MSG-1.7"),
          ClientSetting(client="messaging", field="never_expire")),
    Fault("keeps-shown-message", "a Display Message with a new MessageID does not replace the message on display",
          ("TC-MSG-1.8",), ClientSetting(client="messaging", field="keep_shown_message")),
    Fault("cancel-clears-any-message", "a Cancel Message naming another message takes the shown one away",
          ("TC-MSG-1.9",), ClientSetting(client="messaging", field="cancel_any_message")),
    Fault("confirmation-time-of-display", "ConfirmationTime is when the message appeared, not when the user "
          "confirmed it", ("TC-MSG-1.10",), ClientSetting(client="messaging", field="confirmation_time_of_display")),
    Fault("confirmation-bit-by-equality", "asks for a confirmation only when MessageControl is exactly 0x80, so "
          "importance or transmission bits hide bit 7",
          ("TC-MSG-1.12[medium-normal]", "TC-MSG-1.12[high-normal]", "TC-MSG-1.12[critical-normal]",
           "TC-MSG-1.12[critical-normal and Inter-PAN]"),
          ClientSetting(client="messaging", field="confirmation_bit_by_equality")),
    Fault("retries-get-last-message", "takes the ESI's NOT_FOUND to Get Last Message as a failure and asks again",
          ("TC-MSG-1.11",), ClientSetting(client="messaging", field="retry_get_last_message")),
]

# -- Time -----------------------------------------------------------------------------------------------------

NEVER_READS_TIME = Fault("never-reads-time", "never reads Time from the ESI and runs on its own clock",
                         ("TC-TIME-1.1", "TC-TIME-1.6", "TC-TIME-1.9[in force]", "TC-TIME-1.9[ended]"), Behaviour())
IGNORES_ESI_TIME = Fault("ignores-esi-time", "reads the ESI's Time but keeps running on its own clock", (),
                         ClientSetting(client="time", field="ignore_esi_time"))


def _time(field: str) -> ClientSetting:
    return ClientSetting(client="time", field=field)


#: Issue 18 item 4: TimeStatus, resynchronisation, steps of the ESI's clock, local time. The TC-TIME-1.5 and
#: TC-TIME-1.7 examples a model runs are those of its stamp (time_source_faults).
TAKES_TIME_FROM_ANY_SERVER = Fault("takes-time-from-any-server", "takes the time from a server whose TimeStatus is "
                                   "neither master nor synchronized", (), _time("ignore_time_status"))
TIME_NEEDS_MASTER_AND_SYNCHRONIZED = Fault(
    "time-needs-master-and-synchronized", "takes the time only from a server whose TimeStatus has both the Master "
    "and the Synchronized bit", (), _time("require_master_and_synchronized"))
NEVER_RESYNCS_TIME = Fault("never-resyncs-time", "takes the ESI's time once, after joining, and never again", (),
                           _time("no_resync"))
RESYNCS_WITHOUT_TIME_STATUS = Fault(
    "resyncs-without-time-status", "reads Time alone when it takes the time again, trusting the TimeStatus it read "
    "when it joined", ("TC-TIME-1.6",), _time("resync_without_status"))
IGNORES_BACKWARD_TIME_STEP = Fault(
    "ignores-backward-time-step", "keeps its clock when the ESI's time went back (takes forward steps only)", (),
    _time("forward_only"))
LOCAL_TIME_WITHOUT_DST = Fault("local-time-without-dst", "shows local time from TimeZone alone: never reads "
                               "DstStart, DstEnd, DstShift", ("TC-TIME-1.8", "TC-TIME-1.9[in force]"),
                               _time("local_time_without_dst"))
LOCAL_TIME_ZONE_SIGN_INVERTED = Fault(
    "local-time-zone-sign-inverted", "shows local time with TimeZone subtracted instead of added",
    ("TC-TIME-1.9[in force]", "TC-TIME-1.9[ended]"), _time("zone_sign_inverted"))


MISSING_TIME_STATUS_TAKEN = Fault(
    "missing-time-status-taken", "takes the time from a Time server that does not carry TimeStatus, as if it were "
    "master", (), _time("missing_status_is_master"))


def time_source_faults(stamp: str) -> list[Fault]:
    """The TimeStatus and resynchronisation faults of a model whose TC-TIME-1.5/1.7 examples stamp with *stamp*
    ("price acknowledgement" or "event status")."""
    def examples(case: str, *values: str) -> tuple[str, ...]:
        return tuple(f"{case}[{value}-{stamp}]" for value in values)

    return [TAKES_TIME_FROM_ANY_SERVER.aimed_at(*examples("TC-TIME-1.5", "0x00", "0x0C"), f"TC-TIME-1.10[{stamp}]"),
            MISSING_TIME_STATUS_TAKEN.aimed_at(f"TC-TIME-1.10[{stamp}]"),
            TIME_NEEDS_MASTER_AND_SYNCHRONIZED.aimed_at(*examples("TC-TIME-1.5", "0x01", "0x02")),
            NEVER_RESYNCS_TIME.aimed_at("TC-TIME-1.6", *examples("TC-TIME-1.7", "forward", "back")),
            RESYNCS_WITHOUT_TIME_STATUS,
            IGNORES_BACKWARD_TIME_STEP.aimed_at(*examples("TC-TIME-1.7", "back"))]


def time_faults(*timestamp_cases: str, reads: tuple[str, ...] = ()) -> list[Fault]:
    """Time faults; `timestamp_cases` are the TC-TIME cases a model runs that judge its timestamps, `reads` the
    other cases that judge what it reads of the Time server (TC-TIME-1.8 for a device that shows local time)."""
    return [NEVER_READS_TIME.aimed_at(*NEVER_READS_TIME.targets, *timestamp_cases, *reads),
            IGNORES_ESI_TIME.aimed_at(*timestamp_cases)]


# -- protection of SE application frames (ApplicationDevice) ---------------------------------------------------

ACTS_ON_UNPROTECTED_SE_COMMANDS = Fault(
    "acts-on-unprotected-se-commands", "processes SE application commands that arrive without APS security",
    ("TC-KE-3.3[no APS security]",), WatchedBehaviour())
KE_ACCEPTS_INSTALL_CODE_KEY_AFTER_CBKE = Fault(
    "ke-accepts-install-code-key-after-cbke", "after CBKE still accepts SE frames under its install-code key",
    ("TC-KE-3.3[its install-code link key]",), WatchedBehaviour())


def protection_faults(*, drlc: bool) -> list[Fault]:
    """Acting on SE commands that are not secured with the CBKE link key (TC-KE-3.3, and TC-DRLC-1.20 for a
    device with the DRLC lifecycle)."""
    def with_drlc(fault: Fault, example: str) -> Fault:
        return fault.aimed_at(*fault.targets, *((f"TC-DRLC-1.20[{example}]",) if drlc else ()))

    return [with_drlc(ACTS_ON_UNPROTECTED_SE_COMMANDS, "no APS security"),
            with_drlc(KE_ACCEPTS_INSTALL_CODE_KEY_AFTER_CBKE, "its install-code link key")]


def catalogue(*groups: list[Fault]) -> dict[str, Fault]:
    faults = [fault for group in groups for fault in group]
    names = [f.name for f in faults]
    duplicated = {n for n in names if names.count(n) > 1}
    if duplicated:
        raise ValueError(f"fault names listed twice: {sorted(duplicated)}")
    return {f.name: f for f in faults}

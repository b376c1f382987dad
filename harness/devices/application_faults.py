"""Fault catalogues of the SE application clients (DRLC, Price, Messaging, Time) of the reference devices.

Each fault names the rule it breaks and the case keys it must fail (the fault matrix checks both ways). The
groups below are shared by the models; a model lists the groups whose cases it runs (its PICS decide which).
Client faults set a field of a client's faults dataclass (ApplicationDevice.client_faults); the rest are
implemented in application.py (DEVICE_FAULTS); joining faults set a StackBehaviour field
(ReferenceDevice.stack_faults). The PCT, LCD and appliance leave joining, attribute and key establishment
faults to the IHD's catalogue (the fault matrix accepts a case shared by several device types failed by any
model's fault); the OpenSEG gateway uses the JOINING and ATTRIBUTES groups.
"""

from __future__ import annotations

from .faults import Fault

#: fault name -> StackBehaviour field it turns off.
STACK_FAULTS = {
    "wrong-key-sequence-number": "correct_key_sequence_number",
    "announces-without-network-key": "stay_silent_without_network_key",
    "joins-without-permit": "associate_only_when_permitted",
    "no-device-annce": "send_device_annce",
    "ignores-leave": "obey_leave",
}

JOINING = [
    Fault("wrong-key-sequence-number", "writes key sequence 1 in its NWK auxiliary headers while key 0 is active",
          ("TC-JOIN-1.1", "TC-JOIN-1.6", "TC-JOIN-1.8")),
    Fault("announces-without-network-key", "announces itself although no network key could be authenticated",
          ("TC-JOIN-1.2", "TC-JOIN-1.4")),
    Fault("joins-without-permit", "associates with a network whose beacons do not permit joining", ("TC-JOIN-1.3",)),
    Fault("no-device-annce", "does not send ZDO Device_annce after joining", ("TC-JOIN-1.5",)),
    Fault("ignores-leave", "ignores Mgmt_Leave_req and stays on the network", ("TC-JOIN-1.7",)),
]

ATTRIBUTES = [
    Fault("descriptor-omits-key-establishment", "simple descriptor leaves out the Key Establishment server",
          ("TC-ATTR-1.1",)),
    Fault("basic-power-source-uint8", "Basic PowerSource reported as uint8 instead of enum8",
          ("TC-ATTR-1.2[Basic]", "TC-ATTR-1.6[Basic]")),
    Fault("ke-server-suite-missing", "Key Establishment server lacks KeyEstablishmentSuite",
          ("TC-ATTR-1.2[Key Establishment]", "TC-ATTR-1.6[Key Establishment]", "TC-KE-3.5[server]")),
    Fault("ke-client-suite-missing", "Key Establishment client lacks KeyEstablishmentSuite",
          ("TC-ATTR-1.3[Key Establishment]", "TC-KE-3.5[client]")),
    Fault("zcl-version-writable", "Basic ZCLVersion accepts writes", ("TC-ATTR-1.4",)),
    Fault("unsupported-attribute-failure", "answers an unsupported attribute with FAILURE", ("TC-ATTR-1.5",)),
]

#: Client-library faults: fault name -> (client, field of its faults dataclass).
CLIENT_FAULTS = {
    "reports-start-before-randomized-start": ("drlc", "early_start_report"),
    "ignores-cancel": ("drlc", "ignore_cancel"),
    "misses-supersession": ("drlc", "miss_supersession"),
    "wrong-event-status-time": ("drlc", "wrong_event_status_time"),
    "acts-on-foreign-device-class": ("drlc", "ignore_device_class"),
    "acts-on-foreign-enrollment-group": ("drlc", "ignore_enrollment_group"),
    "randomizes-outside-window": ("drlc", "randomize_outside_window"),
    "accepts-expired-event": ("drlc", "accept_expired"),
    "processes-duplicate-event": ("drlc", "process_duplicate"),
    "no-price-acknowledgement": ("price", "no_acknowledgement"),
    "no-message-confirmation": ("messaging", "no_confirmation"),
    "ignores-esi-time": ("time", "ignore_esi_time"),
}

DRLC = [
    Fault("reports-start-before-randomized-start", "reports 02 at the nominal start although EventControl asks for "
          "a randomized start", ("TC-DRLC-1.3",)),
    Fault("randomizes-outside-window", "draws randomization offsets from [window, 2 x window)", ("TC-DRLC-1.3",)),
    Fault("ignores-cancel", "acts on no Cancel Load Control Event or Cancel All",
          ("TC-DRLC-1.8", "TC-DRLC-1.9", "TC-DRLC-1.10", "TC-DRLC-1.11", "TC-DRLC-1.12")),
    Fault("misses-supersession", "lets overlapping events run side by side and never reports 07", ("TC-DRLC-1.13",)),
    Fault("wrong-event-status-time", "EventStatusTime one hour off the network time",
          ("TC-DRLC-1.18", "TC-TIME-1.2")),
    Fault("acts-on-foreign-device-class", "acts on events for a device class it does not have",
          ("TC-DRLC-1.4[device class]",)),
    Fault("acts-on-foreign-enrollment-group", "acts on events for another utility enrollment group",
          ("TC-DRLC-1.4[enrollment group]",)),
    Fault("accepts-expired-event", "schedules an event that already ended instead of rejecting it with FB",
          ("TC-DRLC-1.5",)),
    Fault("clamps-oversized-duration", "clamps a duration above 1440 minutes instead of rejecting the event with FE",
          ("TC-DRLC-1.6",)),
    Fault("processes-duplicate-event", "processes a repeated IssuerEventID a second time", ("TC-DRLC-1.7",)),
    Fault("start-now-taken-literally", "takes StartTime 0 as 2000-01-01 instead of now and rejects the event as "
          "expired", ("TC-DRLC-1.2", "TC-DRLC-1.9", "TC-DRLC-1.15", "TC-DRLC-1.16", "TC-DRLC-1.18",
                        "TC-DRLC-1.20[its install-code link key]", "TC-DRLC-1.20[no APS security]")),
    Fault("no-completion-report", "never reports 03 when an event completes",
          ("TC-DRLC-1.1", "TC-DRLC-1.2", "TC-DRLC-1.3", "TC-DRLC-1.19")),
    Fault("ignores-opt-out", "the user's opt-out changes nothing", ("TC-DRLC-1.14", "TC-DRLC-1.15", "TC-DRLC-1.16")),
    Fault("silent-opt-in", "the user's opt-in is applied but never reported (no 05, no 09)", ("TC-DRLC-1.16",)),
    Fault("no-get-scheduled-events", "does not ask for scheduled events after joining or rejoining",
          ("TC-DRLC-1.17",)),
]

PRICE = [
    Fault("no-get-current-price", "does not ask for the current price after joining", ("TC-PRICE-1.1",)),
    Fault("no-price-acknowledgement", "never sends Price Acknowledgement, even when PriceControl asks",
          ("TC-PRICE-1.2", "TC-PRICE-1.3", "TC-PRICE-1.4", "TC-TIME-1.3")),
    Fault("stores-duplicate-price", "takes a repeated IssuerEventID as a new price and acknowledges it again",
          ("TC-PRICE-1.3",)),
    Fault("last-price-wins", "accepts a price older than the one it overlaps (the last received wins)",
          ("TC-PRICE-1.4",)),
]

MESSAGING = [
    Fault("no-message-confirmation", "the user's confirmation never goes out as Message Confirmation",
          ("TC-MSG-1.1", "TC-TIME-1.4")),
    Fault("confirms-unasked", "sends Message Confirmation for a message that did not ask for one", ("TC-MSG-1.2",)),
    Fault("ignores-cancel-message", "keeps showing a cancelled message, so the user can still confirm it",
          ("TC-MSG-1.3",)),
    Fault("no-get-last-message", "does not ask for the last message after joining", ("TC-MSG-1.4",)),
]


def time_faults(*timestamp_cases: str) -> list[Fault]:
    """Time faults; `timestamp_cases` are the TC-TIME cases a model runs that judge its timestamps."""
    return [
        Fault("never-reads-time", "never reads Time from the ESI and runs on its own clock",
              ("TC-TIME-1.1", *timestamp_cases)),
        Fault("ignores-esi-time", "reads the ESI's Time but keeps running on its own clock", timestamp_cases),
    ]


def protection_faults(*, drlc: bool) -> list[Fault]:
    """Acting on SE commands that are not secured with the CBKE link key (TC-KE-3.3, and TC-DRLC-1.20 for a
    device with the DRLC lifecycle)."""
    def targets(example: str) -> tuple[str, ...]:
        return (f"TC-KE-3.3[{example}]", *((f"TC-DRLC-1.20[{example}]",) if drlc else ()))

    return [
        Fault("acts-on-unprotected-se-commands", "processes SE application commands that arrive without APS security",
              targets("no APS security")),
        Fault("ke-accepts-install-code-key-after-cbke", "after CBKE still accepts SE frames under its install-code key",
              targets("its install-code link key")),
    ]


#: The DRLC cases of a device with the event lifecycle.
DRLC_CASES = (*(f"TC-DRLC-1.{n}" for n in range(1, 20) if n != 4), "TC-DRLC-1.4[device class]",
              "TC-DRLC-1.4[enrollment group]", "TC-DRLC-1.20[its install-code link key]",
              "TC-DRLC-1.20[no APS security]")



#: A device whose PICS claim SE.DRLC.C.SIGN (the reference PCT): its signed Report Event Status.
DRLC_SIGNING = [
    Fault("signs-with-type-byte", "signs Report Event Status over the SignatureType byte too, so the ECDSA "
          "signature does not verify", ("TC-DRLC-1.21",)),
]


def catalogue(*groups: list[Fault]) -> dict[str, Fault]:
    faults = [fault for group in groups for fault in group]
    names = [f.name for f in faults]
    duplicated = {n for n in names if names.count(n) > 1}
    if duplicated:
        raise ValueError(f"fault names listed twice: {sorted(duplicated)}")
    return {f.name: f for f in faults}

"""Is a Report Event Status right in every field? The judging side of the DRLC client's reports.

One helper judges every Report Event Status a DRLC case sees (``judge_report``), against the Load Control
Event it is about and the DUT's claims, so each case applies the same rules to each report, whatever the
status (received, started, completed, cancelled, superseded, rejected):

- EventStatus is a defined code (SE 1.x Annex D.2.3.3.1, the Event Status table);
- EventStatusTime is the network time of the status, within the PIXIT tolerance of the report's arrival on the
  golden clock (the UTC time the status change occurred), randomized starts and ends included;
- CriticalityLevelApplied is the event's level; each set point, the average load adjustment and the duty cycle
  applied are the event's value or the field's "not used" value (0x8000, 0x80, 0xFF: the profile holds no claim
  of which controls a DUT applies, so either passes, nothing else); EventControl is the event's (reference
  client behaviour: Silicon Labs gecko_sdk plugin/drlc fillReportEventData echoes the event);
- a status about an event the DUT never held (0xFD, a cancel of an undefined event) has no event to echo: its
  applied fields carry either zero (what the reference client sends: initEventData clears the event) or the
  field's "not used" value, criticality level 0 and EventControl 0 (decided here: the rule says nothing
  more, and anything else would claim an event the DUT says it does not know);
- SignatureType is 0x01 (ECDSA) when the PICS claim SE.DRLC.C.SIGN and 0x00 otherwise; an unsigned report's
  42-byte Signature is a uniform fill, 0xFF (what SE 1.1 and later reference code sends: addSignature) or 0x00;
  a signed report's signature verifies with the DUT's certificate when the bench could check it.

The judge reads the report's fields only (the golden ESI's EventStatusReport): the judging side does not
import the reference devices, and not the golden either.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from harness.se.types import (
    AVERAGE_LOAD_ADJUSTMENT_UNUSED,
    DUTY_CYCLE_UNUSED,
    TEMPERATURE_SET_POINT_UNUSED,
    EventStatus,
    SignatureType,
)

RULE_STATUS = "SE 1.x Annex D.2.3.3.1 (Report Event Status): Event Status is one of the codes of the Event Status table"
RULE_TIME = ("SE 1.x Annex D.2.3.3.1 (Report Event Status): Event Status Time is the UTC time (network time) "
             "the status change occurred, randomized starts and ends included")
RULE_APPLIED = ("SE 1.x Annex D.2.3.3.1 (Report Event Status): Criticality Level Applied is the event's level; "
                "each set point, average load adjustment and duty cycle applied is the event's value the device "
                "applied, or its \"not used\" value (set points 0x8000, average load adjustment 0x80, duty cycle "
                "0xFF); Event Control is the event's; reference client behaviour (Silicon Labs gecko_sdk "
                "plugin/drlc fillReportEventData: the event's values; an undefined event's are zero)")
RULE_SIGNATURE = ("SE 1.x Annex D.2.3.3.1 (Report Event Status): SignatureType 0x01 (ECDSA) when the device "
                  "signs, 0x00 when it does not (signing optional since SE 1.1); reference client behaviour "
                  "(Silicon Labs drlc addSignature: type 0x00 and 42 x 0xFF): an unused Signature is a uniform "
                  "fill; SE 1.x C.6: a signature verifies with the device's own certificate")

#: The uniform fills an unsigned report's Signature may carry: 0xFF (reference code) or 0x00.
BLANK_SIGNATURES = (b"\xff" * 42, bytes(42))

#: Report field -> (event field, the field's "not used" value as it travels in the report).
#: Set points travel as uint16 in Report Event Status, so the event's int16 set point is compared as uint16.
APPLIED_CONTROLS: dict[str, tuple[str, int]] = {
    "cooling_temperature_set_point_applied": ("cooling_temperature_set_point", TEMPERATURE_SET_POINT_UNUSED & 0xFFFF),
    "heating_temperature_set_point_applied": ("heating_temperature_set_point", TEMPERATURE_SET_POINT_UNUSED & 0xFFFF),
    "average_load_adjustment_percentage_applied": ("average_load_adjustment_percentage",
                                                   AVERAGE_LOAD_ADJUSTMENT_UNUSED),
    "duty_cycle_applied": ("duty_cycle", DUTY_CYCLE_UNUSED),
}
#: The field groups a finding belongs to, for cases that judge one group (TC-DRLC-1.22).
STATUS, TIME, CRITICALITY, CONTROLS, EVENT_CONTROL, SIGNATURE = (
    "status", "time", "criticality", "controls", "event control", "signature")


class Report(Protocol):
    """The fields of one received Report Event Status the judge reads (golden.esi.drlc.EventStatusReport)."""

    issuer_event_id: int
    status: Any
    event_status_time: int
    criticality_level_applied: int
    cooling_temperature_set_point_applied: int
    heating_temperature_set_point_applied: int
    average_load_adjustment_percentage_applied: int
    duty_cycle_applied: int
    event_control: int
    signature_type: int
    signature: bytes
    signature_valid: bool | None


@dataclass(frozen=True)
class Finding:
    """One field of one report that breaks its rule."""

    group: str  # STATUS, TIME, CRITICALITY, CONTROLS, EVENT_CONTROL or SIGNATURE
    event_id: int
    status: int
    field: str
    observed: str
    expected: str
    rule: str

    def __str__(self) -> str:
        return (f"event {self.event_id} {status_name(self.status)}: {self.field} {self.observed} "
                f"(expected {self.expected})")


def status_name(status: int) -> str:
    """``0x07 (Event_Superseded)``; an undefined code says so."""
    try:
        name = EventStatus(int(status)).name
    except ValueError:
        name = "undefined"
    return f"0x{int(status):02X} ({name})"


def _defined(status: int) -> bool:
    try:
        return not EventStatus(int(status)).name.startswith("undefined")
    except ValueError:
        return False


def _u16(value: int) -> int:
    return int(value) & 0xFFFF


def judge_report(report: Report, event: Any | None, *, arrival: float, tolerance: float, signs: bool) -> list[Finding]:
    """Every field of *report* that breaks its rule (none: the report is right).

    *event* is the Load Control Event payload the report is about (the one the ESI sent), or None for a status
    about an event the DUT cannot know (0xFD: a cancel naming an undefined event); *arrival* is the report's
    arrival in network (ESI) time; *tolerance* the PIXIT timing tolerance in seconds; *signs* the DUT's claim
    SE.DRLC.C.SIGN.
    """
    status = int(report.status)
    found: list[Finding] = []

    def finding(group: str, field: str, observed: str, expected: str, rule: str) -> None:
        found.append(Finding(group, int(report.issuer_event_id), status, field, observed, expected, rule))

    if not _defined(status):
        finding(STATUS, "EventStatus", f"0x{status:02X}", "a code of the Event Status table", RULE_STATUS)
    skew = int(report.event_status_time) - arrival
    if abs(skew) > tolerance:
        finding(TIME, "EventStatusTime", f"{int(report.event_status_time)} ({skew:+.1f} s off its arrival)",
                f"the network time of its arrival ({arrival:.1f}) +/- {tolerance:g} s", RULE_TIME)

    if event is None:
        level, controls, control = 0, {name: (0, unused) for name, (_f, unused) in APPLIED_CONTROLS.items()}, 0
        level_text, control_text = "0 (an undefined event has no level)", "0x00 (an undefined event has none)"
    else:
        level, control = int(event.criticality_level), int(event.event_control)
        controls = {name: (_norm(name, getattr(event, source)), unused)
                    for name, (source, unused) in APPLIED_CONTROLS.items()}
        level_text, control_text = f"{level} (the event's)", f"0x{control:02X} (the event's)"
    if int(report.criticality_level_applied) != level:
        finding(CRITICALITY, "CriticalityLevelApplied", str(int(report.criticality_level_applied)), level_text,
                RULE_APPLIED)
    for name, (sent, unused) in controls.items():
        applied = _norm(name, getattr(report, name))
        if applied not in (sent, unused):
            origin = "zero" if event is None else "the event's"
            finding(CONTROLS, _camel(name), str(applied), f"{sent} ({origin}) or {unused} (not used)", RULE_APPLIED)
    if int(report.event_control) != control:
        finding(EVENT_CONTROL, "EventControl", f"0x{int(report.event_control):02X}", control_text, RULE_APPLIED)

    claimed = SignatureType.ECDSA if signs else SignatureType.No_Signature
    claim = f"PICS SE.DRLC.C.SIGN is {str(signs).lower()}"
    if int(report.signature_type) != claimed:
        finding(SIGNATURE, "SignatureType", f"0x{int(report.signature_type):02X}", f"0x{int(claimed):02X} ({claim})",
                RULE_SIGNATURE)
    elif claimed == SignatureType.No_Signature and bytes(report.signature) not in BLANK_SIGNATURES:
        finding(SIGNATURE, "Signature", bytes(report.signature).hex(), "42 x 0xFF (or 42 x 0x00) when unsigned",
                RULE_SIGNATURE)
    elif claimed == SignatureType.ECDSA and report.signature_valid is False:
        finding(SIGNATURE, "Signature", "does not verify", "an ECDSA signature that verifies with the DUT's "
                "certificate", RULE_SIGNATURE)
    return found


def _norm(name: str, value: int) -> int:
    return _u16(value) if name.endswith("set_point_applied") else int(value)


def _camel(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def describe(findings: Iterable[Finding]) -> str:
    return "; ".join(str(f) for f in findings)

"""Simple Metering formatting: how a meter's raw summation and demand values read as kWh / kW.

SE-FACTS "Metering": value = raw x Multiplier / Divisor in UnitofMeasure (0 = kWh / kW); the SummationFormatting
and DemandFormatting bytes give bits 0-2 = digits right of the point, bits 3-6 = digits left, bit 7 = suppress
leading zeros. Data-model knowledge shared by the golden meter (which serves values so formatted), the steps
that judge a consumer's figures, and the reference gateway (which shows them).
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

#: UnitofMeasure 0: kWh (summation) and kW (demand).
UNIT_KWH = 0
#: MeteringDeviceType 0: electric metering.
ELECTRIC_METERING = 0


class MeterError(ValueError):
    """A meter setting that cannot describe a meter (zero divisor, formatting out of range)."""


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



# -- Simple Metering server rules (SE-FACTS "Metering"; SE 1.x Annex D.3) -------------------------------------

#: MeteringDeviceType (attribute 0x0306) values of SE 1.1: 0 electric ... 6 cooling; 127-134 their mirrors.
METERING_DEVICE_TYPES = {0: "electric", 1: "gas", 2: "water", 3: "thermal", 4: "pressure", 5: "heat", 6: "cooling",
                         127: "mirrored gas", 128: "mirrored water", 129: "mirrored thermal",
                         130: "mirrored pressure", 131: "mirrored heat", 132: "mirrored cooling"}

#: UnitofMeasure (attribute 0x0300) values a meter of each MeteringDeviceType can serve its summation in (pure
#: binary 0x00-0x08 and their BCD forms 0x80-0x88: kWh, m3, ft3, ccf, US gal, IMP gal, BTU, litres, kPa): an
#: electric meter kWh; gas m3, ft3, ccf or BTU; water m3, ft3, US/IMP gallons or litres (SE 1.x Annex D.3.2.2.4
#: UnitofMeasure, Wireshark packet-zbee-zcl-se.c zbee_zcl_se_met_unit_of_measure_names).
UNITS_BY_DEVICE_TYPE: dict[int, frozenset[int]] = {
    0: frozenset({0x00, 0x80}),
    1: frozenset({0x01, 0x02, 0x03, 0x06, 0x81, 0x82, 0x83, 0x86}),
    2: frozenset({0x01, 0x02, 0x04, 0x05, 0x07, 0x81, 0x82, 0x84, 0x85, 0x87}),
}

#: Status (attribute 0x0200) of an electric meter: bits 0-6 Check Meter, Low Battery, Tamper Detect, Power Failure,
#: Power Quality, Leak Detect, Service Disconnect Open; bit 7 reserved (SE 1.x Annex D.3.2.2.2, DSR ZBOSS
#: zb_zcl_metering_status_electricity_t).
ELECTRIC_STATUS_DEFINED_BITS = 0x7F

#: Request Fast Poll Mode: the server stays in fast poll at most 15 minutes (SE-FACTS "Metering"; Silicon Labs
#: simple-metering-server MAX_FAST_POLLING_PERIOD).
FAST_POLL_MAX_MINUTES = 15


#: ProfileIntervalPeriod (the Get Profile Response field and attribute 0x000F) -> interval length in seconds
#: (0 daily, 1 60 min, 2 30 min, 3 15 min, 4 10 min, 5 7.5 min, 6 5 min, 7 2.5 min).
PROFILE_INTERVAL_SECONDS = {0: 86_400, 1: 3_600, 2: 1_800, 3: 900, 4: 600, 5: 450, 6: 300, 7: 150}

#: An interval the meter could not measure is served as 0xFFFFFF (SE 1.x Annex D.3.3.3.1, Intervals).
INVALID_INTERVAL = 0xFFFFFF


__all__ = [
    "ELECTRIC_METERING",
    "ELECTRIC_STATUS_DEFINED_BITS",
    "FAST_POLL_MAX_MINUTES",
    "INVALID_INTERVAL",
    "METERING_DEVICE_TYPES",
    "PROFILE_INTERVAL_SECONDS",
    "UNITS_BY_DEVICE_TYPE",
    "UNIT_KWH",
    "MeterError",
    "MeterFormatting",
    "digits_left",
    "digits_right",
    "formatting_byte",
]

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


__all__ = [
    "ELECTRIC_METERING",
    "UNIT_KWH",
    "MeterError",
    "MeterFormatting",
    "digits_left",
    "digits_right",
    "formatting_byte",
]

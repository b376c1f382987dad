"""The reference Load Control Device (SE device id 0x0504): a water-heater switch.

The same clusters and DRLC lifecycle as the PCT (Basic and Key Establishment servers; Key Establishment,
DRLC and Time clients), for device class bit 2 (water heater). Its fault catalogue is coarse where the code
is shared with the PCT, whose catalogue seeds the lifecycle faults one by one: one fault silences every
Report Event Status, two act on events for others, two get the signature of its unsigned reports wrong
(the PCT signs, so only a device like this one shows them) and one leaves its load as it is during an event,
so the fault matrix reruns the suite six times.
"""

from __future__ import annotations

from harness.se.datamodel import load_datamodel
from harness.se.types import AVERAGE_LOAD_ADJUSTMENT_UNUSED, DUTY_CYCLE_UNUSED, DeviceClass

from .application_faults import (
    ACTS_ON_FOREIGN_DEVICE_CLASS,
    ACTS_ON_FOREIGN_ENROLLMENT_GROUP,
    ACTUATION_IGNORES_EVENT,
    DRLC_UNSIGNED,
    NO_REPORT_EVENT_STATUS,
    catalogue,
)
from .pct import DrlcDevice


class LoadControlDevice(DrlcDevice):
    model = "lcd"
    device_id = load_datamodel().device_type("SE-LC").device_id
    device_class = DeviceClass.Water_Heater
    drlc_seed = 0x1CD
    faults_catalogue = catalogue(
        [ACTS_ON_FOREIGN_DEVICE_CLASS, ACTS_ON_FOREIGN_ENROLLMENT_GROUP],
        [NO_REPORT_EVENT_STATUS, ACTUATION_IGNORES_EVENT],
        DRLC_UNSIGNED,  # it does not sign (no SE.DRLC.C.SIGN): its unsigned reports' type and fill
    )

    def applies(self, event) -> dict[str, int]:
        """Its load: the share of the time it lets the heater run (duty cycle, %) and its load adjustment (%)."""
        duty, adjustment = 100, 0
        if event is not None:
            if int(event.duty_cycle) != DUTY_CYCLE_UNUSED:
                duty = int(event.duty_cycle)
            if int(event.average_load_adjustment_percentage) != AVERAGE_LOAD_ADJUSTMENT_UNUSED:
                adjustment = int(event.average_load_adjustment_percentage)
        return {"duty_cycle": duty, "average_load_adjustment": adjustment}

"""The reference Load Control Device (SE device id 0x0504): a water-heater switch.

The same clusters and DRLC lifecycle as the PCT (Basic and Key Establishment servers; Key Establishment,
DRLC and Time clients), for device class bit 2 (water heater). Its fault catalogue is coarse where the code
is shared with the PCT, whose catalogue seeds the lifecycle faults one by one: one fault silences every
Report Event Status, two act on events for others, so the fault matrix reruns the suite only three times.
"""

from __future__ import annotations

from .application_faults import DRLC, DRLC_CASES, catalogue
from .faults import Fault
from .pct import DrlcDevice

#: DeviceClass bit 2: water heater.
WATER_HEATER = 0x0004

#: Every DRLC case in which the DUT must report a status (all but TC-DRLC-1.4, which expects none).
_REPORTING_CASES = (*(c for c in DRLC_CASES if not c.startswith("TC-DRLC-1.4[")), "TC-TIME-1.2")
_FOREIGN = ("acts-on-foreign-device-class", "acts-on-foreign-enrollment-group")


class LoadControlDevice(DrlcDevice):
    model = "lcd"
    device_id = 0x0504
    device_class = WATER_HEATER
    drlc_seed = 0x1CD
    faults_catalogue = catalogue(
        [f for f in DRLC if f.name in _FOREIGN],
        [Fault("no-report-event-status", "never sends Report Event Status (nor a Default Response to events)",
               _REPORTING_CASES)],
    )

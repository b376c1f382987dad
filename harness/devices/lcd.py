"""The reference Load Control Device (SE device id 0x0504): a water-heater switch.

The same clusters and DRLC lifecycle as the PCT (Basic and Key Establishment servers; Key Establishment,
DRLC and Time clients), for device class bit 2 (water heater). Its fault catalogue is coarser than the PCT's
where the code is shared: one fault silences every Report Event Status, so the fault matrix reruns the suite
fewer times for a model whose lifecycle faults the PCT already seeds one by one.
"""

from __future__ import annotations

from .application_faults import (
    ATTRIBUTES,
    DRLC,
    DRLC_ATTRIBUTES,
    DRLC_CASES,
    JOINING,
    catalogue,
    cbke_faults,
    protection_faults,
    time_faults,
)
from .faults import Fault
from .pct import DrlcDevice

#: DeviceClass bit 2: water heater.
WATER_HEATER = 0x0004

#: Every DRLC case in which the DUT must report a status (all but TC-DRLC-1.4, which expects none).
_REPORTING_CASES = tuple(f"TC-DRLC-1.{n}" for n in range(1, 20) if n != 4) + (
    "TC-DRLC-1.20[its install-code link key]", "TC-DRLC-1.20[no APS security]", "TC-TIME-1.2",
)
_FOREIGN = ("acts-on-foreign-device-class", "acts-on-foreign-enrollment-group")


class LoadControlDevice(DrlcDevice):
    model = "lcd"
    device_id = 0x0504
    device_class = WATER_HEATER
    drlc_seed = 0x1CD
    faults_catalogue = catalogue(
        JOINING, ATTRIBUTES, DRLC_ATTRIBUTES, cbke_faults(*DRLC_CASES, "TC-TIME-1.1", "TC-TIME-1.2"),
        protection_faults(drlc=True), time_faults("TC-TIME-1.2"),
        [f for f in DRLC if f.name in _FOREIGN],
        [Fault("no-report-event-status", "never sends Report Event Status (nor a Default Response to events)",
               _REPORTING_CASES)],
    )

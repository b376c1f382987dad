"""The reference Load Control Device (SE device id 0x0504): a water-heater switch.

The same clusters and DRLC lifecycle as the PCT (Basic and Key Establishment servers; Key Establishment,
DRLC and Time clients), for device class bit 2 (water heater).
"""

from __future__ import annotations

from .pct import DrlcDevice

#: DeviceClass bit 2: water heater.
WATER_HEATER = 0x0004


class LoadControlDevice(DrlcDevice):
    model = "lcd"
    device_id = 0x0504
    device_class = WATER_HEATER
    drlc_seed = 0x1CD

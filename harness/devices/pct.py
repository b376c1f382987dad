"""The reference Programmable Communicating Thermostat (SE device id 0x0503).

Basic and Key Establishment servers; Key Establishment, DRLC and Time clients (the PCT's mandatory set,
SE-FACTS "Basics"). Its DRLC client runs the whole load control event lifecycle for device class bit 0
(HVAC compressor or furnace); after joining it takes the time from the ESI and asks for scheduled events.

Its fault catalogue seeds the DRLC lifecycle faults one by one. It signs its Report Event Status (its PICS
claim SE.DRLC.C.SIGN) with its suite-1 certificate's key. Joining, attribute and key establishment
cases are shared with the IHD, whose catalogue seeds their faults (the fault matrix accepts a shared case
shown able to fail by any model's fault), so each PCT fault run tests something only the PCT runs.
"""

from __future__ import annotations

from harness.se.datamodel import Side

from .application import ApplicationDevice
from .application_faults import (
    DRLC,
    DRLC_APPLIED_FIELDS,
    DRLC_SIGNING,
    IGNORES_ESI_TIME,
    catalogue,
    protection_faults,
    stamped_cases,
    time_source_faults,
)

BASIC, TIME, DRLC_CLUSTER, KEY_ESTABLISHMENT = 0x0000, 0x000A, 0x0701, 0x0800
#: DeviceClass bit 0: HVAC compressor or furnace.
HVAC_COMPRESSOR_OR_FURNACE = 0x0001


class DrlcDevice(ApplicationDevice):
    """What the PCT and the Load Control Device share: a DRLC client timed by a Time client."""

    clusters = (
        (BASIC, Side.SERVER), (KEY_ESTABLISHMENT, Side.SERVER), (KEY_ESTABLISHMENT, Side.CLIENT),
        (TIME, Side.CLIENT), (DRLC_CLUSTER, Side.CLIENT),
    )
    faults_catalogue = catalogue(
        DRLC, protection_faults(drlc=True), [IGNORES_ESI_TIME.aimed_at("TC-TIME-1.2", *stamped_cases("event status"))],
        time_source_faults("event status"),
    )

    def attribute_values(self):
        identity = self.profile.identity
        return {
            (BASIC, Side.SERVER): {0x0000: 0x01, 0x0004: identity.manufacturer[:32], 0x0005: identity.model[:32],
                                   0x0007: 0x01},
            (KEY_ESTABLISHMENT, Side.SERVER): {0x0000: 0x0001},
            (KEY_ESTABLISHMENT, Side.CLIENT): {0x0000: 0x0001},
            (DRLC_CLUSTER, Side.CLIENT): {0x0003: self.device_class},
        }

    def compose_clients(self) -> None:
        self.add_drlc_client()


class ProgrammableThermostat(DrlcDevice):
    model = "pct"
    device_id = 0x0503
    device_class = HVAC_COMPRESSOR_OR_FURNACE
    # Its profile claims SE.DRLC.C.SIGN: it signs every Report Event Status (ApplicationDevice._sign_report).
    faults_catalogue = {**DrlcDevice.faults_catalogue, **catalogue(DRLC_SIGNING, DRLC_APPLIED_FIELDS)}

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

from harness.se.clusters import Basic, Drlc, KeyEstablishment, Time
from harness.se.datamodel import Side, load_datamodel
from harness.se.types import DeviceClass

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


class DrlcDevice(ApplicationDevice):
    """What the PCT and the Load Control Device share: a DRLC client timed by a Time client."""

    clusters = (
        (Basic.cluster_id, Side.SERVER), (KeyEstablishment.cluster_id, Side.SERVER),
        (KeyEstablishment.cluster_id, Side.CLIENT), (Time.cluster_id, Side.CLIENT), (Drlc.cluster_id, Side.CLIENT),
    )
    faults_catalogue = catalogue(
        DRLC, protection_faults(drlc=True), [IGNORES_ESI_TIME.aimed_at("TC-TIME-1.2", *stamped_cases("event status"))],
        time_source_faults("event status"),
    )

    def attribute_values(self):
        identity = self.profile.identity
        basic, suite = Basic.AttributeDefs, KeyEstablishment.AttributeDefs.key_establishment_suite
        return {
            (Basic.cluster_id, Side.SERVER): {
                basic.zcl_version.id: 0x01, basic.manufacturer_name.id: identity.manufacturer[:32],
                basic.model_identifier.id: identity.model[:32], basic.power_source.id: 0x01},
            (KeyEstablishment.cluster_id, Side.SERVER): {suite.id: 0x0001},
            (KeyEstablishment.cluster_id, Side.CLIENT): {suite.id: 0x0001},
            (Drlc.cluster_id, Side.CLIENT): {Drlc.ClientAttributeDefs.device_class_value.id: self.device_class},
        }

    def compose_clients(self) -> None:
        self.add_drlc_client()


class ProgrammableThermostat(DrlcDevice):
    model = "pct"
    device_id = load_datamodel().device_type("SE-PCT").device_id
    device_class = DeviceClass.HVAC_Compressor_or_Furnace
    # Its profile claims SE.DRLC.C.SIGN: it signs every Report Event Status (ApplicationDevice._sign_report).
    faults_catalogue = {**DrlcDevice.faults_catalogue, **catalogue(DRLC_SIGNING, DRLC_APPLIED_FIELDS)}

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

from typing import ClassVar

from harness.se.clusters import Basic, Drlc, KeyEstablishment, Time
from harness.se.datamodel import Side, load_datamodel
from harness.se.types import TEMPERATURE_OFFSET_UNUSED, TEMPERATURE_SET_POINT_UNUSED, DeviceClass

from .application import ApplicationDevice
from .application_faults import (
    ACTUATION_IGNORES_EVENT,
    APPLIES_UNUSED_SET_POINT,
    DRLC,
    DRLC_APPLIED_FIELDS,
    DRLC_SIGNING,
    IGNORES_ESI_TIME,
    TEMPERATURE_OFFSETS_IN_DEGREES,
    catalogue,
    protection_faults,
    stamped_cases,
    time_source_faults,
)

#: The thermostat's own set points (0.01 degrees C) when no event runs.
OWN_COOLING_SET_POINT, OWN_HEATING_SET_POINT = 2400, 2000


class DrlcDevice(ApplicationDevice):
    """What the PCT and the Load Control Device share: a DRLC client timed by a Time client."""

    clusters: ClassVar[tuple[tuple[int, Side], ...]] = (
        (Basic.cluster_id, Side.SERVER), (KeyEstablishment.cluster_id, Side.SERVER),
        (KeyEstablishment.cluster_id, Side.CLIENT), (Time.cluster_id, Side.CLIENT), (Drlc.cluster_id, Side.CLIENT),
    )
    faults_catalogue = catalogue(
        DRLC, protection_faults(drlc=True), [IGNORES_ESI_TIME.aimed_at("TC-TIME-1.2", *stamped_cases("event status"))],
        time_source_faults("event status"),
    )

    def attribute_values(self):
        values = self.identity_attributes()
        values[(Drlc.cluster_id, Side.CLIENT)] = {Drlc.ClientAttributeDefs.device_class_value.id: self.device_class}
        return values

    def compose_clients(self) -> None:
        self.add_drlc_client()

    def actuation(self) -> dict[str, int]:
        """What the device applies now, as its control interface shows it (DutControl.read_actuation)."""
        running = self.drlc.running_event() if self.drlc is not None else None
        if self.faults.has(ACTUATION_IGNORES_EVENT):
            running = None
        return self.applies(running)

    def applies(self, event) -> dict[str, int]:
        """The controls in effect under *event* (None: the device's own state); overridden by models."""
        return {}


class ProgrammableThermostat(DrlcDevice):
    model = "pct"
    device_id = load_datamodel().device_type("SE-PCT").device_id
    device_class = DeviceClass.HVAC_Compressor_or_Furnace
    # Its profile claims SE.DRLC.C.SIGN: it signs every Report Event Status (ApplicationDevice._sign_report).
    # Its control interface shows set points, so a thermostat that ignores the event fails TC-DRLC-1.37 too.
    faults_catalogue = {**DrlcDevice.faults_catalogue,
                        **catalogue(DRLC_SIGNING, DRLC_APPLIED_FIELDS,
                                    [APPLIES_UNUSED_SET_POINT, TEMPERATURE_OFFSETS_IN_DEGREES],
                                    [ACTUATION_IGNORES_EVENT.aimed_at(*ACTUATION_IGNORES_EVENT.targets,
                                                                      "TC-DRLC-1.37")])}

    def applies(self, event) -> dict[str, int]:
        """Its set points: the event's where it sets them, else its own moved by the event's offsets (0.1 degree
        C: cooling up, heating down)."""
        cooling, heating = OWN_COOLING_SET_POINT, OWN_HEATING_SET_POINT
        # A thermostat that takes 0x8000 for a temperature (-327.68 degrees C) knows no "not used" set point.
        unused = None if event is not None and self.faults.has(APPLIES_UNUSED_SET_POINT) else TEMPERATURE_SET_POINT_UNUSED
        if event is not None:
            if int(event.cooling_temperature_set_point) != unused:
                cooling = int(event.cooling_temperature_set_point)
            elif int(event.cooling_temperature_offset) != TEMPERATURE_OFFSET_UNUSED:
                cooling += self._offset_scale() * int(event.cooling_temperature_offset)
            if int(event.heating_temperature_set_point) != unused:
                heating = int(event.heating_temperature_set_point)
            elif int(event.heating_temperature_offset) != TEMPERATURE_OFFSET_UNUSED:
                heating -= self._offset_scale() * int(event.heating_temperature_offset)
        return {"cooling_set_point": cooling, "heating_set_point": heating}

    def _offset_scale(self) -> int:
        """Set points are in 0.01 degree C, offsets in 0.1 degree C: 10 set-point units per offset unit."""
        return 1 if self.faults.has(TEMPERATURE_OFFSETS_IN_DEGREES) else 10

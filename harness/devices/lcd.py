"""The reference Load Control Device (SE device id 0x0504): a water-heater switch.

The same clusters and DRLC lifecycle as the PCT (Basic and Key Establishment servers; Key Establishment,
DRLC and Time clients), for device class bit 2 (water heater). Its fault catalogue is coarse where the code
is shared with the PCT, whose catalogue seeds the lifecycle faults one by one: one fault silences every
Report Event Status, two act on events for others, two get the signature of its unsigned reports wrong
(the PCT signs, so only a device like this one shows them) and one leaves its load as it is during an event,
so the fault matrix reruns the suite six times.
"""

from __future__ import annotations

import functools

from harness.se.clusters import Metering
from harness.se.datamodel import Side, load_datamodel
from harness.se.types import AVERAGE_LOAD_ADJUSTMENT_UNUSED, DUTY_CYCLE_UNUSED, DeviceClass
from harness.zcl.store import AttributeKey, AttributeStore

from .application_faults import (
    ACTS_ON_FOREIGN_DEVICE_CLASS,
    ACTS_ON_FOREIGN_ENROLLMENT_GROUP,
    ACTUATION_IGNORES_EVENT,
    DRLC_UNSIGNED,
    NO_REPORT_EVENT_STATUS,
    catalogue,
)
from .faults import AttributeBehaviour, Fault
from .pct import DrlcDevice
from .server_faults import METERING_REPORTING

METERING_DEVICE_TYPE_MISSING = Fault(
    "metering-device-type-missing", "its Metering server lacks the mandatory MeteringDeviceType attribute",
    ("TC-ATTR-1.2[Simple Metering]", "TC-ATTR-1.9", "TC-ATTR-1.10", "TC-MET-1.1", "TC-MET-1.7"), AttributeBehaviour())

#: The energy its water heater has drawn when it leaves the factory (Wh, as CurrentSummationDelivered counts).
FACTORY_SUMMATION = 0


class LoadControlDevice(DrlcDevice):
    model = "lcd"
    device_id = load_datamodel().device_type("SE-LC").device_id
    device_class = DeviceClass.Water_Heater
    drlc_seed = 0x1CD
    # It sub-meters the heater it switches: a Simple Metering server whose CurrentSummationDelivered it reports
    # when configured to (its PICS: SE.MTR.S, SE.MTR.S.REPORTING), the suite's reference for attribute reporting.
    clusters = (*DrlcDevice.clusters, (Metering.cluster_id, Side.SERVER))
    faults_catalogue = catalogue(
        [ACTS_ON_FOREIGN_DEVICE_CLASS, ACTS_ON_FOREIGN_ENROLLMENT_GROUP],
        [NO_REPORT_EVENT_STATUS, ACTUATION_IGNORES_EVENT],
        DRLC_UNSIGNED,  # it does not sign (no SE.DRLC.C.SIGN): its unsigned reports' type and fill
        METERING_REPORTING,  # Configure Reporting and reports on its Metering server (TC-ZCL-1.8, TC-MET-1.4)
        [METERING_DEVICE_TYPE_MISSING],
    )

    def attribute_values(self):
        values = super().attribute_values()
        attrs = Metering.AttributeDefs
        # kWh (UnitOfMeasure 0x00) with three digits right of the point, an electric meter (device type 0x00).
        values[(Metering.cluster_id, Side.SERVER)] = {
            attrs.current_summation_delivered.id: FACTORY_SUMMATION, attrs.unit_of_measure.id: 0x00,
            attrs.summation_formatting.id: 0x03, attrs.metering_device_type.id: 0x00}
        return values

    def applies(self, event) -> dict[str, int]:
        """Its load: the share of the time it lets the heater run (duty cycle, %) and its load adjustment (%)."""
        duty, adjustment = 100, 0
        if event is not None:
            if int(event.duty_cycle) != DUTY_CYCLE_UNUSED:
                duty = int(event.duty_cycle)
            if int(event.average_load_adjustment_percentage) != AVERAGE_LOAD_ADJUSTMENT_UNUSED:
                adjustment = int(event.average_load_adjustment_percentage)
        return {"duty_cycle": duty, "average_load_adjustment": adjustment}

    def build_store(self) -> AttributeStore:
        store = super().build_store()
        device_type = AttributeKey(self.endpoint, Metering.cluster_id, Side.SERVER,
                                   Metering.AttributeDefs.metering_device_type.id)
        if self.faults.acts(METERING_DEVICE_TYPE_MISSING, functools.partial(store.watch, device_type)):
            store.remove_attribute(device_type)
        return store

"""The reference Smart Appliance (SE device id 0x0505).

Basic and Key Establishment servers; Key Establishment, Price and Time clients (the Smart Appliance's
mandatory set, SE-FACTS "Basics"). After joining it takes the time from the ESI and asks for the current
price; it acknowledges every price whose PriceControl asks for it.
"""

from __future__ import annotations

from harness.se.clusters import Basic, KeyEstablishment, Price, Time
from harness.se.datamodel import Side, load_datamodel

from .application import ApplicationDevice
from .application_faults import NO_GET_CURRENT_PRICE, NO_PRICE_ACKNOWLEDGEMENT, catalogue


class SmartAppliance(ApplicationDevice):
    model = "appliance"
    device_id = load_datamodel().device_type("SE-SA").device_id
    clusters = (
        (Basic.cluster_id, Side.SERVER), (KeyEstablishment.cluster_id, Side.SERVER),
        (KeyEstablishment.cluster_id, Side.CLIENT), (Time.cluster_id, Side.CLIENT), (Price.cluster_id, Side.CLIENT),
    )
    # The Price cases are shared with the IHD, whose catalogue seeds every Price fault; the appliance seeds
    # the two its device type is bought for (SE-FACTS: Smart Appliance = Price client with acknowledgements).
    faults_catalogue = catalogue([NO_GET_CURRENT_PRICE, NO_PRICE_ACKNOWLEDGEMENT])

    def attribute_values(self):
        return self.identity_attributes()

    def compose_clients(self) -> None:
        self.add_price_client()

"""The reference Smart Appliance (SE device id 0x0505).

Basic and Key Establishment servers; Key Establishment, Price and Time clients (the Smart Appliance's
mandatory set, SE-FACTS "Basics"). After joining it takes the time from the ESI and asks for the current
price; it acknowledges every price whose PriceControl asks for it.
"""

from __future__ import annotations

from harness.se.datamodel import Side

from .application import ApplicationDevice
from .application_faults import NO_GET_CURRENT_PRICE, NO_PRICE_ACKNOWLEDGEMENT, catalogue

BASIC, TIME, PRICE_CLUSTER, KEY_ESTABLISHMENT = 0x0000, 0x000A, 0x0700, 0x0800


class SmartAppliance(ApplicationDevice):
    model = "appliance"
    device_id = 0x0505
    clusters = (
        (BASIC, Side.SERVER), (KEY_ESTABLISHMENT, Side.SERVER), (KEY_ESTABLISHMENT, Side.CLIENT),
        (TIME, Side.CLIENT), (PRICE_CLUSTER, Side.CLIENT),
    )
    # The Price cases are shared with the IHD, whose catalogue seeds every Price fault; the appliance seeds
    # the two its device type is bought for (SE-FACTS: Smart Appliance = Price client with acknowledgements).
    faults_catalogue = catalogue([NO_GET_CURRENT_PRICE, NO_PRICE_ACKNOWLEDGEMENT])

    def attribute_values(self):
        identity = self.profile.identity
        return {
            (BASIC, Side.SERVER): {0x0000: 0x01, 0x0004: identity.manufacturer[:32], 0x0005: identity.model[:32],
                                   0x0007: 0x01},
            (KEY_ESTABLISHMENT, Side.SERVER): {0x0000: 0x0001},
            (KEY_ESTABLISHMENT, Side.CLIENT): {0x0000: 0x0001},
        }

    def compose_clients(self) -> None:
        self.add_price_client()

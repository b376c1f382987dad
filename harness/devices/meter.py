"""The reference meter (SE device id 0x0501): an electric meter that joins the ESI's network, completes CBKE and
serves Simple Metering.

Basic and Key Establishment servers, the Key Establishment client, and the Simple Metering server of
harness/devices/servers/metering.py (registers, load profile, reporting, Get Profile, Fast Poll). Its catalogue
seeds the Metering faults (harness/devices/server_faults.py) and the reporting faults of the shared engine
(harness/devices/foundation.py); joining, attribute and key establishment cases are shared with the IHD, whose
catalogue seeds their faults.
"""

from __future__ import annotations

from harness.se.clusters import Basic, KeyEstablishment, Metering
from harness.se.datamodel import Side, load_datamodel

from .server_faults import METERING, METERING_REPORTING, catalogue
from .servers.host import ServerDevice
from .servers.metering import MeteringServer


class ElectricMeter(ServerDevice):
    model = "meter"
    device_id = load_datamodel().device_type("SE-Meter").device_id
    clusters = (
        (Basic.cluster_id, Side.SERVER), (KeyEstablishment.cluster_id, Side.SERVER),
        (KeyEstablishment.cluster_id, Side.CLIENT), (Metering.cluster_id, Side.SERVER),
    )
    servers = (MeteringServer,)
    faults_catalogue = catalogue(METERING, METERING_REPORTING)

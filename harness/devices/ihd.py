"""The reference In-Home Display (SE device id 0x0502).

Basic, Identify and Key Establishment servers; Key Establishment, Time, Price, Metering, Messaging and DRLC
clients (an IHD's application clients are optional in SE 1.x; this one claims them all so the attribute
cases have a client cluster with writable attributes to judge).
"""

from __future__ import annotations

from zigpy.zcl.foundation import ReadAttributeRecord, Status

from harness.se.datamodel import Side
from harness.zcl.store import AttributeKey, AttributeStore

from .base import ReferenceDevice, replace_model
from .faults import Fault

BASIC, IDENTIFY, TIME, PRICE, DRLC, METERING, MESSAGING, KEY_ESTABLISHMENT = (
    0x0000, 0x0003, 0x000A, 0x0700, 0x0701, 0x0702, 0x0703, 0x0800,
)

_FAULTS = [
    Fault("accepts-default-tc-key", "takes a network key sent under the well-known TC link key ZigBeeAlliance09",
          ("TC-JOIN-1.4",)),
    Fault("announces-without-network-key", "announces itself although no network key could be authenticated",
          ("TC-JOIN-1.2", "TC-JOIN-1.4")),
    Fault("joins-without-permit", "associates with a network whose beacons do not permit joining", ("TC-JOIN-1.3",)),
    Fault("no-device-annce", "does not send ZDO Device_annce after joining", ("TC-JOIN-1.5",)),
    Fault("rejoin-by-association", "after losing its parent associates afresh instead of a secured NWK rejoin",
          ("TC-JOIN-1.6",)),
    Fault("ignores-leave", "ignores Mgmt_Leave_req and stays on the network", ("TC-JOIN-1.7",)),
    Fault("ignores-switch-key", "ignores APS Switch Key and keeps the old network key", ("TC-JOIN-1.8",)),
    Fault("descriptor-omits-key-establishment", "simple descriptor leaves out the Key Establishment server",
          ("TC-ATTR-1.1",)),
    Fault("wrong-key-sequence-number", "writes key sequence 1 in its NWK auxiliary headers while key 0 is active",
          ("TC-JOIN-1.1", "TC-JOIN-1.6", "TC-JOIN-1.8")),
    Fault("basic-power-source-uint8", "Basic PowerSource reported as uint8 instead of enum8",
          ("TC-ATTR-1.2[Basic]", "TC-ATTR-1.6[Basic]")),
    Fault("ke-server-suite-missing", "Key Establishment server lacks KeyEstablishmentSuite",
          ("TC-ATTR-1.2[Key Establishment]", "TC-ATTR-1.6[Key Establishment]")),
    Fault("drlc-device-class-missing", "DRLC client lacks the mandatory DeviceClassValue attribute",
          ("TC-ATTR-1.3[Demand Response and Load Control]",)),
    Fault("identify-time-missing", "Identify server lacks the mandatory IdentifyTime attribute",
          ("TC-ATTR-1.2[Identify]", "TC-ATTR-1.6[Identify]")),
    Fault("ke-client-suite-missing", "Key Establishment client lacks KeyEstablishmentSuite",
          ("TC-ATTR-1.3[Key Establishment]",)),
    Fault("zcl-version-writable", "Basic ZCLVersion accepts writes", ("TC-ATTR-1.4",)),
    Fault("unsupported-attribute-failure", "answers an unsupported attribute with FAILURE", ("TC-ATTR-1.5",)),
    Fault("discover-omits-zcl-version", "Discover Attributes leaves out Basic ZCLVersion", ("TC-ATTR-1.6[Basic]",)),
    Fault("drlc-randomization-unbounded", "accepts StartRandomizationMinutes above 0x3C", ("TC-ATTR-1.7",)),
]


class _FaultyStore(AttributeStore):
    """An attribute store with the ZCL-level faults a device's attribute table can have."""

    def __init__(self, faults: frozenset[str]) -> None:
        super().__init__()
        self._faults = faults

    def read_record(self, key: AttributeKey) -> ReadAttributeRecord:
        record = super().read_record(key)
        if "unsupported-attribute-failure" in self._faults and record.status == Status.UNSUPPORTED_ATTRIBUTE:
            return ReadAttributeRecord(attrid=key.attr_id, status=Status.FAILURE)
        return record

    def entries(self, endpoint, cluster_id, side):
        listed = super().entries(endpoint, cluster_id, side)
        if "discover-omits-zcl-version" in self._faults and cluster_id == BASIC and side == Side.SERVER:
            return [(a, e) for a, e in listed if a != 0x0000]
        return listed


class InHomeDisplay(ReferenceDevice):
    model = "ihd"
    device_id = 0x0502
    clusters = (
        (BASIC, Side.SERVER), (IDENTIFY, Side.SERVER), (KEY_ESTABLISHMENT, Side.SERVER),
        (KEY_ESTABLISHMENT, Side.CLIENT), (TIME, Side.CLIENT), (PRICE, Side.CLIENT), (METERING, Side.CLIENT),
        (MESSAGING, Side.CLIENT), (DRLC, Side.CLIENT),
    )
    faults_catalogue = {f.name: f for f in _FAULTS}
    stack_faults = {
        "accepts-default-tc-key": "accept_well_known_tc_key",
        "announces-without-network-key": "stay_silent_without_network_key",
        "joins-without-permit": "associate_only_when_permitted",
        "no-device-annce": "send_device_annce",
        "ignores-leave": "obey_leave",
        "ignores-switch-key": "obey_switch_key",
        "wrong-key-sequence-number": "correct_key_sequence_number",
    }

    def attribute_values(self):
        identity = self.profile.identity
        return {
            (BASIC, Side.SERVER): {0x0000: 0x01, 0x0004: identity.manufacturer[:32], 0x0005: identity.model[:32],
                                   0x0006: "20261122", 0x0007: 0x01},
            (KEY_ESTABLISHMENT, Side.SERVER): {0x0000: 0x0001},
            (KEY_ESTABLISHMENT, Side.CLIENT): {0x0000: 0x0001},
            (DRLC, Side.CLIENT): {0x0003: 0x0FFF},
        }

    def build_store(self) -> AttributeStore:
        store = _FaultyStore(self.faults)
        values = self.attribute_values()
        for cluster_id, side in self.clusters:
            store.add_cluster(self.endpoint, cluster_id, side, values=values.get((cluster_id, side)))
        ep = self.endpoint
        if self.has_fault("basic-power-source-uint8"):
            replace_model(store, ep, BASIC, Side.SERVER, 0x0007, type="INT8U")
        if self.has_fault("identify-time-missing"):
            store.remove_attribute(AttributeKey(ep, IDENTIFY, Side.SERVER, 0x0000))
        if self.has_fault("ke-server-suite-missing"):
            store.remove_attribute(AttributeKey(ep, KEY_ESTABLISHMENT, Side.SERVER, 0x0000))
        if self.has_fault("drlc-device-class-missing"):
            store.remove_attribute(AttributeKey(ep, DRLC, Side.CLIENT, 0x0003))
        if self.has_fault("ke-client-suite-missing"):
            store.remove_attribute(AttributeKey(ep, KEY_ESTABLISHMENT, Side.CLIENT, 0x0000))
        if self.has_fault("zcl-version-writable"):
            replace_model(store, ep, BASIC, Side.SERVER, 0x0000, writable=True)
        if self.has_fault("drlc-randomization-unbounded"):
            replace_model(store, ep, DRLC, Side.CLIENT, 0x0001, max=0xFF)
        return store

    def simple_descriptor(self):
        descriptor = super().simple_descriptor()
        if self.has_fault("descriptor-omits-key-establishment"):
            descriptor.input_clusters = [c for c in descriptor.input_clusters if c != KEY_ESTABLISHMENT]
        return descriptor

    async def _rejoin(self, deadline: float) -> None:
        if self.has_fault("rejoin-by-association"):
            self.node._reset_network(forget_keys=True)
            await self._join(deadline)
            return
        await super()._rejoin(deadline)

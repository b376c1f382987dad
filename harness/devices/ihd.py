"""The reference In-Home Display (SE device id 0x0502).

Basic, Identify and Key Establishment servers; Key Establishment, Time, Price, Metering, Messaging and DRLC
clients (an IHD's application clients are optional in SE 1.x; this one claims them all so the attribute
cases have a client cluster with writable attributes to judge). The Price, Messaging and Time clients run
(harness/devices/application.py): after joining it takes the ESI's time and asks for the current price and
the last message; the DRLC client has its attributes but no event lifecycle (its PICS say so).
"""

from __future__ import annotations

from zigpy.zcl.foundation import ReadAttributeRecord, Status

from harness.se.datamodel import Side
from harness.zcl.store import AttributeKey, AttributeStore

from .application import ApplicationDevice
from .application_faults import CLIENT_FAULTS, time_faults
from .application_faults import MESSAGING as MESSAGING_FAULTS
from .application_faults import PRICE as PRICE_FAULTS
from .base import replace_model
from .faults import Fault
from .garbage import GARBAGE_FAULTS

BASIC, IDENTIFY, TIME, PRICE, DRLC, METERING, MESSAGING, KEY_ESTABLISHMENT = (
    0x0000, 0x0003, 0x000A, 0x0700, 0x0701, 0x0702, 0x0703, 0x0800,
)

#: The IHD's Price, Messaging and Time cases: each starts after CBKE, so a DUT whose CBKE fails fails them.
_APPLICATION_AFTER_CBKE = ("TC-MSG-1.1", "TC-MSG-1.2", "TC-MSG-1.3", "TC-MSG-1.4", "TC-PRICE-1.1", "TC-PRICE-1.2",
                           "TC-PRICE-1.3", "TC-PRICE-1.4", "TC-TIME-1.1", "TC-TIME-1.3", "TC-TIME-1.4")

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
          ("TC-ATTR-1.2[Key Establishment]", "TC-ATTR-1.6[Key Establishment]", "TC-KE-3.5[server]")),
    Fault("drlc-device-class-missing", "DRLC client lacks the mandatory DeviceClassValue attribute",
          ("TC-ATTR-1.3[Demand Response and Load Control]",)),
    Fault("identify-time-missing", "Identify server lacks the mandatory IdentifyTime attribute",
          ("TC-ATTR-1.2[Identify]", "TC-ATTR-1.6[Identify]")),
    Fault("ke-client-suite-missing", "Key Establishment client lacks KeyEstablishmentSuite",
          ("TC-ATTR-1.3[Key Establishment]", "TC-KE-3.5[client]")),
    Fault("zcl-version-writable", "Basic ZCLVersion accepts writes", ("TC-ATTR-1.4",)),
    Fault("unsupported-attribute-failure", "answers an unsupported attribute with FAILURE", ("TC-ATTR-1.5",)),
    Fault("discover-omits-zcl-version", "Discover Attributes leaves out Basic ZCLVersion", ("TC-ATTR-1.6[Basic]",)),
    Fault("drlc-randomization-unbounded", "accepts StartRandomizationMinutes above 0x3C", ("TC-ATTR-1.7",)),
    # Certificate-Based Key Establishment (harness.ke.faults.DeviceKeFaults and the device's key handling).
    Fault("ke-accepts-unknown-issuer", "carries on with a certificate whose issuer is not a trusted CA",
          ("TC-KE-2.1",)),
    Fault("ke-ignores-bad-macv", "keeps and uses the link key although the responder's MACV does not verify",
          ("TC-KE-2.2",)),
    Fault("ke-skips-subject-check", "accepts a certificate whose subject is not the partner's IEEE address",
          ("TC-KE-2.6",)),
    Fault("ke-ignores-out-of-sequence", "silently ignores KE frames out of sequence instead of BAD_MESSAGE",
          ("TC-KE-2.3",)),
    Fault("ke-accepts-any-suite", "carries on when the partner names a suite it did not ask for or support",
          ("TC-KE-2.4", "TC-KE-4.2")),
    Fault("ke-silent-on-bad-certificate", "drops a bad or malformed certificate without Terminate",
          ("TC-KE-2.1", "TC-KE-2.5[one byte short]", "TC-KE-2.5[not a valid public point]", "TC-KE-2.6")),
    Fault("ke-retries-before-wait-time", "after NO_RESOURCES starts again after half the advertised wait time",
          ("TC-KE-3.1",)),
    Fault("ke-never-retries-after-timeout", "gives up key establishment for good after the first timeout",
          ("TC-KE-3.2",)),
    # Its Terminate after a bad MACV is then secured with a key the golden no longer holds (TC-KE-2.2).
    Fault("ke-aps-encrypts-ke-frames", "APS-encrypts its Key Establishment frames with its link key",
          ("TC-KE-2.2", "TC-KE-3.4")),
    Fault("ke-advertises-wrong-suite", "KeyEstablishmentSuite names suite 2 while it implements suite 1",
          ("TC-KE-3.5[server]", "TC-KE-3.5[client]", "TC-KE-4.1")),
    # Every exchange the DUT starts fails, so every case that needs one to reach Confirm Key fails, the
    # application cases too (they start from "the DUT has joined and completed key establishment").
    Fault("ke-wrong-mac", "sends a wrong MACU (initiator) or MACV (responder)",
          ("TC-KE-1.1[1]", "TC-KE-1.3", "TC-KE-2.2", "TC-KE-3.1", "TC-KE-3.3[its install-code link key]",
           "TC-KE-3.3[no APS security]", "TC-KE-3.4", "TC-KE-4.1", "TC-KE-4.2", *_APPLICATION_AFTER_CBKE)),
    # The golden refuses its certificate at Initiate, so no case gets past the first step of an exchange.
    Fault("ke-foreign-subject", "presents a certificate issued for another IEEE address",
          ("TC-KE-1.1[1]", "TC-KE-1.2", "TC-KE-1.3", "TC-KE-2.1", "TC-KE-2.2", "TC-KE-2.3", "TC-KE-2.4",
           "TC-KE-2.5[not a valid public point]", "TC-KE-2.5[one byte short]", "TC-KE-2.6", "TC-KE-3.1",
           "TC-KE-3.2", "TC-KE-3.3[its install-code link key]", "TC-KE-3.3[no APS security]", "TC-KE-3.4",
           "TC-KE-4.1", "TC-KE-4.2", *_APPLICATION_AFTER_CBKE)),
    # Its application requests and answers go out under a key the golden no longer holds (TC-TIME-1.1 only
    # reads the Time server, which needs no APS security, so it still passes).
    Fault("ke-keeps-install-code-key", "completes CBKE but keeps securing SE frames with its install-code key",
          ("TC-KE-1.1[1]", "TC-KE-3.3[its install-code link key]", "TC-KE-4.1",
           *(c for c in _APPLICATION_AFTER_CBKE if c != "TC-TIME-1.1"))),
    Fault("ke-accepts-install-code-key-after-cbke", "after CBKE still accepts SE frames under its install-code key",
          ("TC-KE-3.3[its install-code link key]",)),
    Fault("acts-on-unprotected-se-commands", "processes SE application commands that arrive without APS security",
          ("TC-KE-3.3[no APS security]",)),
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


# Its Price, Messaging and Time clients (issue 6): the cases of features/price, messaging and time it runs.
_FAULTS += [*PRICE_FAULTS, *MESSAGING_FAULTS, *time_faults("TC-TIME-1.3", "TC-TIME-1.4")]
# Garbage on the air (issue 15): malformed ZCL, KE, ZDO, APS and NWK frames; each must fail, never err.
_FAULTS += GARBAGE_FAULTS


class InHomeDisplay(ApplicationDevice):
    model = "ihd"
    device_id = 0x0502
    clusters = (
        (BASIC, Side.SERVER), (IDENTIFY, Side.SERVER), (KEY_ESTABLISHMENT, Side.SERVER),
        (KEY_ESTABLISHMENT, Side.CLIENT), (TIME, Side.CLIENT), (PRICE, Side.CLIENT), (METERING, Side.CLIENT),
        (MESSAGING, Side.CLIENT), (DRLC, Side.CLIENT),
    )
    faults_catalogue = {f.name: f for f in _FAULTS}
    client_faults = {name: client for name, client in CLIENT_FAULTS.items() if client[0] != "drlc"}
    stack_faults = {
        "accepts-default-tc-key": "accept_well_known_tc_key",
        "announces-without-network-key": "stay_silent_without_network_key",
        "joins-without-permit": "associate_only_when_permitted",
        "no-device-annce": "send_device_annce",
        "ignores-leave": "obey_leave",
        "ignores-switch-key": "obey_switch_key",
        "wrong-key-sequence-number": "correct_key_sequence_number",
    }
    ke_faults = {
        "ke-accepts-unknown-issuer": "accept_unknown_issuer",
        "ke-ignores-bad-macv": "ignore_bad_macv",
        "ke-skips-subject-check": "skip_subject_check",
        "ke-ignores-out-of-sequence": "accept_out_of_sequence",
        "ke-accepts-any-suite": "accept_any_suite",
        "ke-silent-on-bad-certificate": "silent_on_bad_certificate",
        "ke-retries-before-wait-time": "retry_before_wait_time",
        "ke-never-retries-after-timeout": "never_retry_after_timeout",
        "ke-aps-encrypts-ke-frames": "aps_encrypt_ke_frames",
        "ke-advertises-wrong-suite": "advertise_wrong_suite",
        "ke-wrong-mac": "wrong_mac",
        "ke-foreign-subject": "foreign_subject",
    }

    # "acts-on-unprotected-se-commands" and "ke-accepts-install-code-key-after-cbke" are seeded by
    # ApplicationDevice (harness/devices/application.py), shared with the PCT.

    def _install_link_key(self, partner_ieee: int, key: bytes) -> None:
        if self.has_fault("ke-keeps-install-code-key"):
            return  # completes the exchange, then goes on with the install-code key
        super()._install_link_key(partner_ieee, key)

    def attribute_values(self):
        identity = self.profile.identity
        return {
            (BASIC, Side.SERVER): {0x0000: 0x01, 0x0004: identity.manufacturer[:32], 0x0005: identity.model[:32],
                                   0x0006: "20261122", 0x0007: 0x01},
            (KEY_ESTABLISHMENT, Side.SERVER): {0x0000: 0x0001},
            (KEY_ESTABLISHMENT, Side.CLIENT): {0x0000: 0x0001},
            (DRLC, Side.CLIENT): {0x0003: 0x0FFF},
        }

    def compose_clients(self) -> None:
        # The DRLC client carries its attributes only (its PICS claim no Load Control Event): no lifecycle.
        self.add_price_client()
        self.add_messaging_client()

    def build_store(self) -> AttributeStore:
        store = _FaultyStore(self.faults)
        values = self.attribute_values()
        for cluster_id, side in self.clusters:
            store.add_cluster(self.endpoint, cluster_id, side, values=values.get((cluster_id, side)))
        self.seed_store_faults(store)  # the attribute-table faults every application device shares
        ep = self.endpoint
        if self.has_fault("identify-time-missing"):
            store.remove_attribute(AttributeKey(ep, IDENTIFY, Side.SERVER, 0x0000))
        if self.has_fault("drlc-device-class-missing"):
            store.remove_attribute(AttributeKey(ep, DRLC, Side.CLIENT, 0x0003))
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

"""The reference In-Home Display (SE device id 0x0502).

Basic, Identify and Key Establishment servers; Key Establishment, Time, Price, Metering, Messaging and DRLC
clients (an IHD's application clients are optional in SE 1.x; this one claims them all so the attribute
cases have a client cluster with writable attributes to judge). The Price, Messaging and Time clients run
(harness/devices/application.py): after joining it takes the ESI's time and asks for the current price and
the last message; the DRLC client has its attributes but no event lifecycle (its PICS say so).
"""

from __future__ import annotations

import dataclasses
import functools

from harness.se.clusters import Basic, Drlc, Identify, KeyEstablishment, Messaging, Metering, Price, Time
from harness.se.datamodel import Side, load_datamodel
from harness.zcl.store import AttributeKey, AttributeStore

from .application import ApplicationDevice, FaultyStore
from .application_faults import (
    ACTS_ON_UNPROTECTED_SE_COMMANDS,
    ANNOUNCES_OTHER_CAPABILITY,
    ANNOUNCES_WITHOUT_NETWORK_KEY,
    BASIC_POWER_SOURCE_UINT8,
    DELIVERS_APS_DUPLICATES,
    DESCRIPTOR_OMITS_KEY_ESTABLISHMENT,
    FRAME_COUNTER_RESET,
    IGNORES_LEAVE,
    IGNORES_REJOIN_BIT,
    IGNORES_REMOVE_DEVICE,
    JOINS_WITHOUT_PERMIT,
    KE_ACCEPTS_INSTALL_CODE_KEY_AFTER_CBKE,
    KE_CLIENT_SUITE_MISSING,
    KE_SERVER_SUITE_MISSING,
    LOCAL_TIME_WITHOUT_DST,
    LOCAL_TIME_ZONE_SIGN_INVERTED,
    NO_APS_REPLAY_CHECK,
    NO_DEVICE_ANNCE,
    NO_NWK_REPLAY_CHECK,
    NO_TRUST_CENTER_REJOIN,
    POWER_DESCRIPTOR_BATTERY,
    PRICE_STAMPED,
    REFUSES_BLOCK_PRICE,
    REFUSES_REMOVE_CHILDREN,
    UNSUPPORTED_ATTRIBUTE_FAILURE,
    WRONG_KEY_SEQUENCE_NUMBER,
    ZCL_VERSION_WRITABLE,
    catalogue,
    stamped_cases,
    time_faults,
    time_source_faults,
)
from .application_faults import MESSAGING as MESSAGING_FAULTS
from .application_faults import PRICE as PRICE_FAULTS
from .base import replace_model
from .faults import AttributeBehaviour, Behaviour, Fault, FaultSet, KeSetting, StackSetting
from .foundation import FOUNDATION_FAULTS
from .garbage import GARBAGE_FAULTS

#: The IHD's Price, Messaging and Time cases: each starts after CBKE, so a DUT whose CBKE fails fails them.
_APPLICATION_AFTER_CBKE = ("TC-MSG-1.1", "TC-MSG-1.2", "TC-MSG-1.3", "TC-MSG-1.4", "TC-PRICE-1.1", "TC-PRICE-1.2",
                           "TC-PRICE-1.3", "TC-PRICE-1.4", "TC-TIME-1.1", "TC-TIME-1.3", "TC-TIME-1.4",
                           *(f"TC-MSG-1.{n}" for n in range(5, 12)),
                           *(f"TC-PRICE-1.5[{control}]" for control in ("absent", "0x00", "0xFE", "0x01", "0xFF")),
                           "TC-PRICE-1.6", "TC-PRICE-1.7", "TC-PRICE-1.8", "TC-PRICE-1.10", "TC-PRICE-1.11",
                           "TC-PRICE-1.12", "TC-PRICE-1.13",
                           *(f"TC-PRICE-1.9[{layout}]" for layout in ("SE 1.1", "SE 1.2", "SE 1.2 and 8 unknown bytes")),
                           *PRICE_STAMPED,
                           "TC-TIME-1.6", "TC-TIME-1.8", "TC-TIME-1.9[in force]", "TC-TIME-1.9[ended]",
                           # Every attribute the PICS claim, read and discovered after CBKE (SE clusters need
                           # the CBKE key; a key changing under the reads would lose them).
                           "TC-ATTR-1.9", "TC-ATTR-1.10",
                           *(f"TC-MSG-1.12[{bits}]" for bits in ("low-normal", "medium-normal", "high-normal",
                                                                 "critical-normal", "critical-normal and Inter-PAN")))

#: The cases with the DUT as CBKE responder on the golden's negative paths (features/key_establishment, issue 17):
#: the refusals at Initiate, and those that get past the DUT's Initiate Key Establishment Response.
_KE_RESPONDER_REFUSES_INITIATE = ("TC-KE-4.3", "TC-KE-4.4", "TC-KE-4.5[one byte short]",
                                  "TC-KE-4.5[not a valid public point]", "TC-KE-4.7[Ephemeral Data before Initiate]")
_KE_RESPONDER_PAST_INITIATE = ("TC-KE-4.6", "TC-KE-4.7[Confirm Key before Ephemeral Data]", "TC-KE-4.8[one byte short]",
                               "TC-KE-4.8[not a point on the curve]")
_KE_RESPONDER_COMPLETES = ("TC-KE-4.9", "TC-KE-4.10", "TC-KE-4.11", "TC-KE-4.13")
_KE_RESPONDER = (*_KE_RESPONDER_REFUSES_INITIATE, *_KE_RESPONDER_PAST_INITIATE, *_KE_RESPONDER_COMPLETES, "TC-KE-4.12[1]")

# The IHD's own behaviours (the shared ones are in application_faults.py).
REJOIN_BY_ASSOCIATION = Fault(
    "rejoin-by-association", "after losing its parent associates afresh instead of a secured NWK rejoin",
    ("TC-JOIN-1.6", "TC-JOIN-1.14"), Behaviour())
DRLC_DEVICE_CLASS_MISSING = Fault(
    "drlc-device-class-missing", "DRLC client lacks the mandatory DeviceClassValue attribute",
    ("TC-ATTR-1.3[Demand Response and Load Control]", "TC-ATTR-1.9", "TC-ATTR-1.10"), AttributeBehaviour())
IDENTIFY_TIME_MISSING = Fault(
    "identify-time-missing", "Identify server lacks the mandatory IdentifyTime attribute",
    ("TC-ATTR-1.2[Identify]", "TC-ATTR-1.6[Identify]", "TC-ATTR-1.9", "TC-ATTR-1.10", "TC-ZCL-1.9"),
    AttributeBehaviour())
ZCL_VERSION_ZERO = Fault(
    "zcl-version-zero", "Basic ZCLVersion 0x00, which names no published ZCL revision", ("TC-ATTR-1.9",),
    AttributeBehaviour())
DISCOVER_OMITS_ZCL_VERSION = Fault(
    "discover-omits-zcl-version", "Discover Attributes leaves out Basic ZCLVersion",
    ("TC-ATTR-1.6[Basic]", "TC-ATTR-1.10"),
    AttributeBehaviour())
# Attribute bounds of the data model (issue 17): an enumeration's reserved value, a string past its length.
POWER_SOURCE_RESERVED = Fault(
    "power-source-reserved", "serves Basic PowerSource 0x07, a reserved value of the enumeration",
    ("TC-ATTR-1.2[Basic]", "TC-ATTR-1.9"), AttributeBehaviour())
DATE_CODE_TOO_LONG = Fault(
    "date-code-too-long", "serves a 17-character Basic DateCode (build suffix appended; at most 16)",
    ("TC-ATTR-1.9",), AttributeBehaviour())
DISCOVER_RANDOMIZATION_UINT16 = Fault(
    "discover-randomization-uint16", "Discover Attributes on its DRLC client lists StartRandomizationMinutes as "
    "uint16 (0x21) while it serves it, as the data model says, as uint8 (0x20)", ("TC-ATTR-1.10",),
    AttributeBehaviour())
DRLC_RANDOMIZATION_UNBOUNDED = Fault(
    "drlc-randomization-unbounded", "accepts StartRandomizationMinutes above 0x3C", ("TC-ATTR-1.7",), AttributeBehaviour())
DRLC_DURATION_RANDOMIZATION_UNBOUNDED = Fault(
    "drlc-duration-randomization-unbounded", "accepts DurationRandomizationMinutes above 0x3C (bounds only the "
    "start randomization)", ("TC-ATTR-1.8",), AttributeBehaviour())
# Its application requests and answers go out under a key the golden no longer holds (TC-TIME-1.1, 1.6 and 1.8
# only judge its reads of the Time server, which need no APS security, so they still pass).
# The Time cluster needs no APS security, so the cases that judge only the time the DUT took from it pass
# whatever key the DUT secures its SE frames with.
_TIME_READ_INSECURE = ("TC-TIME-1.1", "TC-TIME-1.6", "TC-TIME-1.8", "TC-TIME-1.9[in force]", "TC-TIME-1.9[ended]")
KE_KEEPS_INSTALL_CODE_KEY = Fault(
    "ke-keeps-install-code-key", "completes CBKE but keeps securing SE frames with its install-code key",
    ("TC-KE-1.1[1]", "TC-KE-3.3[its install-code link key]", "TC-KE-4.1",
     *(c for c in _APPLICATION_AFTER_CBKE if c not in _TIME_READ_INSECURE)), Behaviour())

_FAULTS = [
    Fault("accepts-default-tc-key", "takes a network key sent under the well-known TC link key ZigBeeAlliance09",
          ("TC-JOIN-1.4",), StackSetting("accept_well_known_tc_key")),
    ANNOUNCES_WITHOUT_NETWORK_KEY,
    JOINS_WITHOUT_PERMIT,
    NO_DEVICE_ANNCE,
    REJOIN_BY_ASSOCIATION,
    IGNORES_LEAVE,
    ANNOUNCES_OTHER_CAPABILITY,
    POWER_DESCRIPTOR_BATTERY,
    NO_NWK_REPLAY_CHECK,
    NO_APS_REPLAY_CHECK,
    DELIVERS_APS_DUPLICATES,
    IGNORES_REJOIN_BIT,
    REFUSES_REMOVE_CHILDREN,
    FRAME_COUNTER_RESET,
    NO_TRUST_CENTER_REJOIN,
    IGNORES_REMOVE_DEVICE,
    Fault("ignores-switch-key", "ignores APS Switch Key and keeps the old network key", ("TC-JOIN-1.8",),
          StackSetting("obey_switch_key")),
    DESCRIPTOR_OMITS_KEY_ESTABLISHMENT,
    WRONG_KEY_SEQUENCE_NUMBER,
    BASIC_POWER_SOURCE_UINT8,
    KE_SERVER_SUITE_MISSING,
    DRLC_DEVICE_CLASS_MISSING,
    IDENTIFY_TIME_MISSING,
    ZCL_VERSION_ZERO,
    POWER_SOURCE_RESERVED,
    DATE_CODE_TOO_LONG,
    DISCOVER_RANDOMIZATION_UINT16,
    KE_CLIENT_SUITE_MISSING,
    ZCL_VERSION_WRITABLE,
    UNSUPPORTED_ATTRIBUTE_FAILURE,
    DISCOVER_OMITS_ZCL_VERSION,
    DRLC_RANDOMIZATION_UNBOUNDED,
    DRLC_DURATION_RANDOMIZATION_UNBOUNDED,
    # Certificate-Based Key Establishment (harness.ke.faults.DeviceKeFaults and the device's key handling).
    Fault("ke-accepts-unknown-issuer", "carries on with a certificate whose issuer is not a trusted CA",
          ("TC-KE-2.1", "TC-KE-4.3"), KeSetting("accept_unknown_issuer")),
    Fault("ke-ignores-bad-macv", "keeps and uses the link key although the responder's MACV does not verify",
          ("TC-KE-2.2",), KeSetting("ignore_bad_macv")),
    Fault("ke-skips-subject-check", "accepts a certificate whose subject is not the partner's IEEE address",
          ("TC-KE-2.6", "TC-KE-4.4"), KeSetting("skip_subject_check")),
    Fault("ke-ignores-out-of-sequence", "silently ignores KE frames out of sequence instead of BAD_MESSAGE",
          ("TC-KE-2.3", "TC-KE-4.7[Ephemeral Data before Initiate]", "TC-KE-4.7[Confirm Key before Ephemeral Data]"),
          KeSetting("accept_out_of_sequence")),
    Fault("ke-accepts-any-suite", "carries on when the partner names a suite it did not ask for or support",
          ("TC-KE-2.4", "TC-KE-4.2"), KeSetting("accept_any_suite")),
    Fault("ke-silent-on-bad-certificate", "drops a bad or malformed certificate without Terminate",
          ("TC-KE-2.1", "TC-KE-2.5[one byte short]", "TC-KE-2.5[not a valid public point]", "TC-KE-2.6",
           *_KE_RESPONDER_REFUSES_INITIATE[:4]), KeSetting("silent_on_bad_certificate")),
    Fault("ke-retries-before-wait-time", "after NO_RESOURCES starts again after half the advertised wait time",
          ("TC-KE-3.1",), KeSetting("retry_before_wait_time")),
    Fault("ke-never-retries-after-timeout", "gives up key establishment for good after the first timeout",
          ("TC-KE-3.2",), KeSetting("never_retry_after_timeout")),
    # Its Terminate after a bad MACV is then secured with a key the golden no longer holds (TC-KE-2.2), and its
    # NO_RESOURCES to a second initiator with a link key that node does not share with it (TC-KE-4.13).
    Fault("ke-aps-encrypts-ke-frames", "APS-encrypts its Key Establishment frames with its link key",
          ("TC-KE-2.2", "TC-KE-3.4", "TC-KE-4.13"), KeSetting("aps_encrypt_ke_frames")),
    Fault("ke-advertises-wrong-suite", "KeyEstablishmentSuite names suite 2 while it implements suite 1",
          ("TC-KE-3.5[server]", "TC-KE-3.5[client]", "TC-KE-4.1", "TC-KE-4.3", "TC-KE-4.5[not a valid public point]",
           *_KE_RESPONDER_PAST_INITIATE, *_KE_RESPONDER_COMPLETES), KeSetting("advertise_wrong_suite")),
    # Every exchange the DUT starts fails, so every case that needs one to reach Confirm Key fails, the
    # application cases too (they start from "the DUT has joined and completed key establishment").
    Fault("ke-wrong-mac", "sends a wrong MACU (initiator) or MACV (responder)",
          ("TC-KE-1.1[1]", "TC-KE-1.3", "TC-KE-2.2", "TC-KE-3.1", "TC-KE-3.3[its install-code link key]",
           "TC-KE-3.3[no APS security]", "TC-KE-3.4", "TC-KE-4.1", "TC-KE-4.2", *_KE_RESPONDER, *_APPLICATION_AFTER_CBKE),
          KeSetting("wrong_mac")),
    # The golden refuses its certificate at Initiate, so no case gets past the first step of an exchange.
    Fault("ke-foreign-subject", "presents a certificate issued for another IEEE address",
          ("TC-KE-1.1[1]", "TC-KE-1.2", "TC-KE-1.3", "TC-KE-2.1", "TC-KE-2.2", "TC-KE-2.3", "TC-KE-2.4",
           "TC-KE-2.5[not a valid public point]", "TC-KE-2.5[one byte short]", "TC-KE-2.6", "TC-KE-3.1",
           "TC-KE-3.2", "TC-KE-3.3[its install-code link key]", "TC-KE-3.3[no APS security]", "TC-KE-3.4",
           "TC-KE-4.1", "TC-KE-4.2", *_KE_RESPONDER, *_APPLICATION_AFTER_CBKE), KeSetting("foreign_subject")),
    KE_KEEPS_INSTALL_CODE_KEY,
    # As responder (the Trust Center initiates; harness.ke.faults.DeviceKeFaults, TC-KE-4.3 .. 4.12).
    Fault("ke-responder-ignores-bad-macu", "as responder keeps and uses the link key although the initiator's "
          "MACU does not verify, and answers with its MACV", ("TC-KE-4.6",), KeSetting("ignore_bad_macu")),
    Fault("ke-reuses-ephemeral-key", "draws one ephemeral key pair and uses it again in every later exchange",
          ("TC-KE-4.9",), KeSetting("reuse_ephemeral_key")),
    Fault("ke-slow-confirm-key", "as responder answers Confirm Key 2 s after the Confirm Key Generate Time it "
          "advertised", ("TC-KE-4.10",), KeSetting("slow_confirm_key")),
    Fault("ke-responses-fresh-tsn", "as responder gives its responses a new ZCL sequence number instead of the "
          "request's", ("TC-KE-4.11",), KeSetting("fresh_response_tsn")),
    Fault("ke-suite-big-endian", "as responder writes the suite of its Initiate Key Establishment Response most "
          "significant byte first (0x0100 for suite 1), so a conformant initiator refuses every exchange it starts",
          ("TC-KE-4.1", *_KE_RESPONDER_PAST_INITIATE, *_KE_RESPONDER_COMPLETES, "TC-KE-4.12[1]"),
          KeSetting("suite_big_endian")),
    Fault("ke-skips-ephemeral-check", "as responder answers Ephemeral Data before it validates the initiator's "
          "ephemeral point (and finds it bad only at Confirm Key)", ("TC-KE-4.8[not a point on the curve]",),
          KeSetting("skip_ephemeral_check")),
    Fault("ke-silent-on-malformed", "drops an Ephemeral Data or Confirm Key too short for its command without "
          "Terminate, and lets the exchange time out", ("TC-KE-4.8[one byte short]",), KeSetting("silent_on_malformed")),
    Fault("ke-accepts-second-partner", "as responder drops its running exchange for a second initiator instead of "
          "answering it NO_RESOURCES", ("TC-KE-4.13",), KeSetting("accept_second_partner")),
    # Seeded by ApplicationDevice (harness/devices/application.py), shared with the PCT.
    KE_ACCEPTS_INSTALL_CODE_KEY_AFTER_CBKE,
    ACTS_ON_UNPROTECTED_SE_COMMANDS,
]


class _FaultyStore(FaultyStore):
    """The application devices' faulty store, whose Discover Attributes can also leave out Basic ZCLVersion or
    list the DRLC client's StartRandomizationMinutes with the wrong type."""

    def __init__(self, faults: FaultSet, endpoint: int) -> None:
        super().__init__(faults)
        zcl_version = AttributeKey(endpoint, Basic.cluster_id, Side.SERVER, Basic.AttributeDefs.zcl_version.id)
        self._omit_zcl_version = faults.acts(DISCOVER_OMITS_ZCL_VERSION, functools.partial(self.watch, zcl_version))
        randomization = AttributeKey(endpoint, Drlc.cluster_id, Side.CLIENT,
                                     Drlc.ClientAttributeDefs.start_randomization_minutes.id)
        self._randomization_uint16 = faults.acts(DISCOVER_RANDOMIZATION_UINT16,
                                                 functools.partial(self.watch, randomization))

    def entries(self, endpoint, cluster_id, side):
        listed = super().entries(endpoint, cluster_id, side)
        if self._omit_zcl_version and cluster_id == Basic.cluster_id and side == Side.SERVER:
            return [(a, e) for a, e in listed if a != Basic.AttributeDefs.zcl_version.id]
        if self._randomization_uint16 and cluster_id == Drlc.cluster_id and side == Side.CLIENT:
            start = Drlc.ClientAttributeDefs.start_randomization_minutes.id
            return [(a, dataclasses.replace(e, model=dataclasses.replace(e.model, type="INT16U")) if a == start else e)
                    for a, e in listed]
        return listed


# Its Price, Messaging and Time clients (issue 6): the cases of features/price, messaging and time it runs.
_FAULTS += [*PRICE_FAULTS, REFUSES_BLOCK_PRICE, *MESSAGING_FAULTS, *time_faults("TC-TIME-1.3", "TC-TIME-1.4", *stamped_cases("price acknowledgement"),
                                                  reads=("TC-TIME-1.8",)),
            *time_source_faults("price acknowledgement"), LOCAL_TIME_WITHOUT_DST,
            LOCAL_TIME_ZONE_SIGN_INVERTED]
# The ZCL foundation's Default Response rules (issue 17): the engine every reference device shares
# (foundation.py), so the IHD's faults show each case of features/foundation able to fail.
_FAULTS += FOUNDATION_FAULTS
# Garbage on the air (issue 15): malformed ZCL, KE, ZDO, APS and NWK frames; each must fail, never err.
_FAULTS += GARBAGE_FAULTS
# Security levels on the air (issue 17), judged at the network's nwkSecurityLevel 5 by TC-JOIN-1.9.
_FAULTS += [
    # Receivers overwrite the subfield, so the golden takes its frames: only the case that judges it sees it.
    Fault("security-level-on-air", "writes its security level (5) into the level subfield of its NWK and APS "
          "auxiliary headers instead of 0", ("TC-JOIN-1.9",), StackSetting("zero_level_on_air")),
    # Its broadcasts (Device_annce, NWK Leave) fail their MIC: the golden drops its Device_annce (TC-JOIN-1.5,
    # TC-JOIN-1.10), the one after its rejoin is a frame the network key does not open (TC-JOIN-1.6), and so is
    # the NWK leave it announces (TC-JOIN-1.12, TC-JOIN-1.15); the unicasts every other case needs authenticate.
    Fault("nwk-security-level-4", "secures its NWK broadcasts at level 4 (ENC, no MIC) instead of 5 (ENC-MIC-32)",
          ("TC-JOIN-1.5", "TC-JOIN-1.6", "TC-JOIN-1.9", "TC-JOIN-1.10", "TC-JOIN-1.12", "TC-JOIN-1.15"),
          StackSetting("mic_on_broadcasts")),
]


class InHomeDisplay(ApplicationDevice):
    model = "ihd"
    device_id = load_datamodel().device_type("SE-IPD").device_id
    clusters = (
        (Basic.cluster_id, Side.SERVER), (Identify.cluster_id, Side.SERVER), (KeyEstablishment.cluster_id, Side.SERVER),
        (KeyEstablishment.cluster_id, Side.CLIENT), (Time.cluster_id, Side.CLIENT), (Price.cluster_id, Side.CLIENT),
        (Metering.cluster_id, Side.CLIENT), (Messaging.cluster_id, Side.CLIENT), (Drlc.cluster_id, Side.CLIENT),
    )
    faults_catalogue = catalogue(_FAULTS)

    def _install_link_key(self, partner_ieee: int, key: bytes) -> None:
        if self.faults.has(KE_KEEPS_INSTALL_CODE_KEY):
            return  # completes the exchange, then goes on with the install-code key
        super()._install_link_key(partner_ieee, key)

    def attribute_values(self):
        values = self.identity_attributes(date_code="20261122")
        values[(Drlc.cluster_id, Side.CLIENT)] = {Drlc.ClientAttributeDefs.device_class_value.id: 0x0FFF}
        return values

    def compose_clients(self) -> None:
        # The DRLC client carries its attributes only (its PICS claim no Load Control Event): no lifecycle.
        self.add_price_client()
        self.add_messaging_client()

    def empty_store(self) -> AttributeStore:
        return _FaultyStore(self.faults, self.endpoint)

    def build_store(self) -> AttributeStore:
        store = super().build_store()  # with the attribute-table faults every application device shares
        ep = self.endpoint
        power_source = AttributeKey(ep, Basic.cluster_id, Side.SERVER, Basic.AttributeDefs.power_source.id)
        if self.faults.acts(POWER_SOURCE_RESERVED, functools.partial(store.watch, power_source)):
            store.set(power_source, 0x07)
        date_code = AttributeKey(ep, Basic.cluster_id, Side.SERVER, Basic.AttributeDefs.date_code.id)
        if self.faults.acts(DATE_CODE_TOO_LONG, functools.partial(store.watch, date_code)):
            store.set(date_code, "20261122-build-42")
        zcl_version = AttributeKey(ep, Basic.cluster_id, Side.SERVER, Basic.AttributeDefs.zcl_version.id)
        if self.faults.acts(ZCL_VERSION_ZERO, functools.partial(store.watch, zcl_version)):
            store.set(zcl_version, 0x00)
        identify_time = AttributeKey(ep, Identify.cluster_id, Side.SERVER, Identify.AttributeDefs.identify_time.id)
        if self.faults.acts(IDENTIFY_TIME_MISSING, functools.partial(store.watch, identify_time)):
            store.remove_attribute(identify_time)
        device_class = AttributeKey(ep, Drlc.cluster_id, Side.CLIENT, Drlc.ClientAttributeDefs.device_class_value.id)
        if self.faults.acts(DRLC_DEVICE_CLASS_MISSING, functools.partial(store.watch, device_class)):
            store.remove_attribute(device_class)
        randomization = AttributeKey(ep, Drlc.cluster_id, Side.CLIENT,
                                     Drlc.ClientAttributeDefs.start_randomization_minutes.id)
        if self.faults.acts(DRLC_RANDOMIZATION_UNBOUNDED, functools.partial(store.watch, randomization)):
            replace_model(store, ep, Drlc.cluster_id, Side.CLIENT, Drlc.ClientAttributeDefs.start_randomization_minutes.id,
                          max=0xFF)
        duration_randomization = AttributeKey(ep, Drlc.cluster_id, Side.CLIENT,
                                              Drlc.ClientAttributeDefs.duration_randomization_minutes.id)
        if self.faults.acts(DRLC_DURATION_RANDOMIZATION_UNBOUNDED,
                              functools.partial(store.watch, duration_randomization)):
            replace_model(store, ep, Drlc.cluster_id, Side.CLIENT,
                          Drlc.ClientAttributeDefs.duration_randomization_minutes.id, max=0xFF)
        return store

    async def _rejoin(self, deadline: float) -> None:
        if self.faults.has(REJOIN_BY_ASSOCIATION):
            self.node._reset_network(forget_keys=True)
            await self._join(deadline)
            return
        await super()._rejoin(deadline)

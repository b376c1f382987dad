"""The reference Energy Service Interface (SE device id 0x0500): it forms the HAN and is its Trust Center.

A meter's or a utility gateway's ESI, as most SE deployments have it: the coordinator of the home area network,
its Trust Center (harness/devices/esi_trust_center.py, its own policy) and the Key Establishment server the HAN
devices run CBKE with. Its SE endpoint carries the Basic, Identify and Key Establishment (both sides) clusters, the
ESI's mandatory servers, Time, Price, DRLC and Messaging (SE 1.x device descriptions), and the Simple Metering
server of the meter it holds. The servers are the reference server components of harness/devices/servers (a
ServerDevice lists them in ``servers``), written apart from the golden's ESI; the ESI's operator actions
(publish_price, issue_event, display_message) call them, as its head end would.

Driven like any ESI through its head end's actions (DutControl: add_install_code, permit_joining,
update_network_key, remove_device); judged only by what it puts on the air.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from random import Random
from typing import ClassVar, TypeVar

from harness.clock import Clock
from harness.crypto.install_code import InstallCode
from harness.profiles import DutProfile
from harness.rng import CaseRandom
from harness.se.clusters import Basic, Identify, KeyEstablishment
from harness.se.datamodel import Side, load_datamodel
from harness.se.types import TimeStatus
from harness.sim.air import Air
from harness.sim.node import NodeError, Role
from harness.zcl.store import AttributeStore

from .esi_trust_center import EsiTrustCenter, TrustCenterFaults
from .faults import Behaviour, Fault, KeSetting
from .server_faults import ESI_SERVERS
from .servers.base import LiveStore, ServerCluster
from .servers.drlc import DrlcServer
from .servers.host import ServerDevice
from .servers.messaging import MessagingServer
from .servers.metering import MeteringServer
from .servers.price import PriceServer
from .servers.time import TimeServer

S = TypeVar("S", bound=ServerCluster)

LOGGER = logging.getLogger(__name__)


# -- the catalogue: each Trust Center fault fails the cases named (features/trust_center) -----------------------

ADMITS_UNKNOWN = Fault(
    "tc-admits-unknown-device", "admits a device it holds no install code for, sending it the network key under "
    "the well-known key ZigBeeAlliance09 (SE 1.x 5.4.1: install-code link keys only)",
    ("TC-TC-1.3",), Behaviour())
#: The cases that start with the golden joining the ESI's network as a HAN device (strategy.commission) and running
#: CBKE with it: a Trust Center whose network key no HAN device can open fails every one of them.
_COMMISSIONED = (
    "TC-ATTR-1.1", "TC-ATTR-1.10", "TC-ATTR-1.2[Basic]", "TC-ATTR-1.2[Demand Response and Load Control]",
    "TC-ATTR-1.2[Identify]", "TC-ATTR-1.2[Key Establishment]", "TC-ATTR-1.2[Messaging]", "TC-ATTR-1.2[Price]",
    "TC-ATTR-1.2[Time]", "TC-ATTR-1.3[Key Establishment]", "TC-ATTR-1.4", "TC-ATTR-1.5", "TC-ATTR-1.6[Basic]",
    "TC-ATTR-1.6[Identify]", "TC-ATTR-1.6[Key Establishment]", "TC-ATTR-1.9",
    "TC-KE-4.1", "TC-KE-4.2", "TC-KE-4.3", "TC-KE-4.4", "TC-KE-4.5[not a valid public point]",
    "TC-KE-4.5[one byte short]", "TC-KE-4.6", "TC-KE-4.7[Confirm Key before Ephemeral Data]",
    "TC-KE-4.7[Ephemeral Data before Initiate]", "TC-KE-4.8[not a point on the curve]", "TC-KE-4.8[one byte short]",
    "TC-KE-4.9", "TC-KE-4.10", "TC-KE-4.11", "TC-KE-4.12[1]", "TC-KE-4.13",
    "TC-ZCL-1.3", "TC-ZCL-1.4[clear]", "TC-ZCL-1.4[set]", "TC-ZCL-1.5", "TC-ZCL-1.8",
    # Its servers' cases (features/esi, features/metering): the golden reads them as a commissioned HAN device.
    "TC-ATTR-1.2[Simple Metering]",
    "TC-ESI-1.1", "TC-ESI-1.2", "TC-ESI-2.1", "TC-ESI-2.2[0]", "TC-ESI-2.2[1]", "TC-ESI-2.3", "TC-ESI-2.4",
    "TC-ESI-2.5", "TC-ESI-3.1[0]", "TC-ESI-3.1[1]", "TC-ESI-3.2", "TC-ESI-3.3", "TC-ESI-4.1", "TC-ESI-4.2",
    "TC-MET-1.1", "TC-MET-1.2", "TC-MET-1.3", "TC-MET-1.4[0-120-1]", "TC-MET-1.4[10-60-1000000]",
    "TC-MET-1.4[10-60-1]", "TC-MET-1.4[60-300-1]", "TC-MET-1.5[before the first interval-1]",
    "TC-MET-1.5[latest-0]", "TC-MET-1.5[latest-1]", "TC-MET-1.5[latest-max + 1]", "TC-MET-1.5[latest-max]",
    "TC-MET-1.5[received channel-1]", "TC-MET-1.5[undefined channel-1]", "TC-MET-1.6[0-1]", "TC-MET-1.6[1-15]",
    "TC-MET-1.6[255-255]", "TC-MET-1.6[3-16]", "TC-MET-1.7", "TC-MET-1.8", "TC-MET-1.9",
    "TC-MET-1.10[FastPollUpdatePeriod]", "TC-MET-1.10[three DefaultUpdatePeriods]",
)
WELL_KNOWN_KEY = Fault(
    "tc-network-key-under-well-known-key", "secures every Transport Key of the network key with the well-known "
    "key's key-transport key, not the device's install-code link key (SE 1.x 5.4.1, Zigbee 4.6.3.2)",
    # Every case in which the Trust Center sends a network key: none may go under the well-known key; and no HAN
    # device can then join, so every case that commissions the golden fails too.
    ("TC-TC-1.1", "TC-TC-1.2", "TC-TC-1.4", "TC-TC-2.2", "TC-TC-3.1", "TC-TC-4.1", "TC-TC-4.2", "TC-TC-4.3", "TC-TC-5.1",
     "TC-TC-5.3", "TC-TC-6.1", "TC-TC-1.5[6]", "TC-TC-1.5[8]", "TC-TC-1.5[12]", "TC-TC-1.5[16]",
     *_COMMISSIONED), Behaviour())
TRANSPORT_KEY_SOURCE_ZERO = Fault(
    "tc-transport-key-source-zero", "writes 0 into the Transport Key's source address field instead of its own "
    "IEEE address (Zigbee 4.4.10.1.3: the Trust Center's address)",
    # Every case that judges a Transport Key's fields.
    ("TC-TC-1.1", "TC-TC-2.2", "TC-TC-3.1", "TC-TC-4.3", "TC-TC-5.1", "TC-TC-6.1", "TC-TC-1.5[6]", "TC-TC-1.5[8]",
     "TC-TC-1.5[12]", "TC-TC-1.5[16]"), Behaviour())
SHORT_CODES_PADDED = Fault(
    "tc-short-install-codes-padded", "pads a 6-, 8- or 12-byte install code with zeros to 16 bytes before it "
    "derives the link key (SE 1.x 5.4.8.1: the hash of the code as it is, with its CRC)",
    ("TC-TC-1.5[6]", "TC-TC-1.5[8]", "TC-TC-1.5[12]"), Behaviour())
IGNORES_PERMIT_WINDOW = Fault(
    "tc-ignores-permit-window", "admits a device that associates while its permit-join window is closed (Zigbee "
    "3.6.1.4.1; 802.15.4 7.5.3.1)", ("TC-TC-2.1",), Behaviour())
PERMIT_WINDOW_SHORT = Fault(
    "tc-permit-window-short", "closes its permit-join window after half the time it was told to open it",
    ("TC-TC-2.2",), Behaviour())
KEY_UPDATE_SAME_SEQ = Fault(
    "tc-key-update-same-sequence-number", "distributes a new network key under the active key sequence number "
    "(Zigbee 4.6.3.4: a new key gets a new sequence number)",
    # TC-TC-4.3: a device that joins after the update gets its key, which must carry the next sequence number.
    ("TC-TC-3.1", "TC-TC-4.3"), Behaviour())
NO_SWITCH_KEY = Fault(
    "tc-no-switch-key", "distributes a new network key and switches to it without sending Switch Key (Zigbee "
    "4.6.3.4)", ("TC-TC-3.1",), Behaviour())
REMOVE_DEVICE_UNSECURED = Fault(
    "tc-remove-device-unsecured", "sends APS Remove Device without APS security (Zigbee 4.4.5.1: secured with the "
    "device's link key)", ("TC-TC-4.1",), Behaviour())
LEAVE_REQUEST_REJOIN = Fault(
    "tc-leave-request-with-rejoin", "removes an end device with a NWK leave request whose rejoin bit is set, so the "
    "device comes back (Zigbee 4.4.5.1: removal is a leave without rejoin)", ("TC-TC-4.2",), Behaviour())
REFUSES_KNOWN_REJOIN = Fault(
    "tc-refuses-known-rejoin", "ignores the Trust Center rejoin of a device it admitted (Zigbee 4.6.3.6.1)",
    ("TC-TC-5.1", "TC-TC-6.1"), Behaviour())
REJOIN_RESPONSE_UNSECURED = Fault(
    "tc-rejoin-response-unsecured", "answers a NWK-secured rejoin with a Rejoin Response without NWK security "
    "(Zigbee 3.6.1.4.2: a secured rejoin is answered secured)", ("TC-TC-5.3",), Behaviour())
REJOIN_ADMITS_UNKNOWN = Fault(
    "tc-rejoin-admits-unknown-device", "answers the Trust Center rejoin of a device it never admitted with the "
    "network key under the well-known key", ("TC-TC-5.2",), Behaviour())
SMALL_KEY_TABLE = Fault(
    "tc-small-key-table", "keeps 32 link keys and drops its oldest for a 33rd install code", ("TC-TC-6.1",),
    Behaviour())
LEFT_DEVICE_KEPT_JOINED = Fault(
    "tc-left-device-kept-joined", "takes no notice of a device's own NWK Leave: it keeps the device joined, sends it "
    "the next network key, and keeps its incoming NWK frame counter, so that the device, factory reset and joined "
    "again from counter 0, is not heard (Zigbee 3.4.4, 3.6.1.10, 4.6.3.4)", ("TC-TC-4.3",), Behaviour())
LEFT_DEVICE_COUNTER_KEPT = Fault(
    "tc-left-device-counter-kept", "takes a device that left as gone but keeps its incoming NWK frame counter: the "
    "device, factory reset and joined again from counter 0, is dropped as a replay (Zigbee 3.6.1.10: its parent "
    "forgets it)", ("TC-TC-4.3",), Behaviour())

TRUST_CENTER_FAULTS = TrustCenterFaults(
    admits_unknown=ADMITS_UNKNOWN, well_known_key=WELL_KNOWN_KEY, transport_key_source_zero=TRANSPORT_KEY_SOURCE_ZERO,
    ignores_permit_window=IGNORES_PERMIT_WINDOW, permit_window_short=PERMIT_WINDOW_SHORT,
    key_update_same_seq=KEY_UPDATE_SAME_SEQ, no_switch_key=NO_SWITCH_KEY,
    remove_device_unsecured=REMOVE_DEVICE_UNSECURED, leave_request_rejoin=LEAVE_REQUEST_REJOIN,
    refuses_known_rejoin=REFUSES_KNOWN_REJOIN,
    rejoin_admits_unknown=REJOIN_ADMITS_UNKNOWN, rejoin_response_unsecured=REJOIN_RESPONSE_UNSECURED,
    small_key_table=SMALL_KEY_TABLE, left_device_kept_joined=LEFT_DEVICE_KEPT_JOINED,
    left_device_counter_kept=LEFT_DEVICE_COUNTER_KEPT,
)


# Its Key Establishment server, which every HAN device runs CBKE with (harness.ke.faults.DeviceKeFaults): the golden
# joins as a HAN device and initiates with each of its test hooks (TC-KE-4.x).
_KE_REFUSES_INITIATE = ("TC-KE-4.3", "TC-KE-4.4", "TC-KE-4.5[one byte short]", "TC-KE-4.5[not a valid public point]")
KE_SERVER_FAULTS = (
    Fault("ke-accepts-unknown-issuer", "as the Trust Center's Key Establishment server carries on with a certificate "
          "whose issuer is not a trusted CA", ("TC-KE-4.3",), KeSetting("accept_unknown_issuer")),
    Fault("ke-skips-subject-check", "accepts a certificate whose subject is not the initiator's IEEE address",
          ("TC-KE-4.4",), KeSetting("skip_subject_check")),
    Fault("ke-silent-on-bad-certificate", "drops a bad or malformed certificate without Terminate",
          _KE_REFUSES_INITIATE, KeSetting("silent_on_bad_certificate")),
    Fault("ke-accepts-any-suite", "carries on with an Initiate naming a suite it does not support",
          ("TC-KE-4.2",), KeSetting("accept_any_suite")),
    Fault("ke-ignores-out-of-sequence", "silently ignores Key Establishment frames out of sequence instead of "
          "BAD_MESSAGE", ("TC-KE-4.7[Ephemeral Data before Initiate]", "TC-KE-4.7[Confirm Key before Ephemeral Data]"),
          KeSetting("accept_out_of_sequence")),
    Fault("ke-responder-ignores-bad-macu", "keeps and uses the link key although the initiator's MACU does not "
          "verify, and answers with its MACV", ("TC-KE-4.6",), KeSetting("ignore_bad_macu")),
    Fault("ke-skips-ephemeral-check", "answers Ephemeral Data before it validates the initiator's ephemeral point",
          ("TC-KE-4.8[not a point on the curve]",), KeSetting("skip_ephemeral_check")),
    Fault("ke-silent-on-malformed", "drops an Ephemeral Data or Confirm Key too short for its command without "
          "Terminate", ("TC-KE-4.8[one byte short]",), KeSetting("silent_on_malformed")),
    Fault("ke-reuses-ephemeral-key", "draws one ephemeral key pair and uses it again in every later exchange",
          ("TC-KE-4.9",), KeSetting("reuse_ephemeral_key")),
    Fault("ke-slow-confirm-key", "answers Confirm Key 2 s after the Confirm Key Generate Time it advertised",
          ("TC-KE-4.10",), KeSetting("slow_confirm_key")),
    Fault("ke-responses-fresh-tsn", "gives its responses a new ZCL sequence number instead of the request's",
          ("TC-KE-4.11",), KeSetting("fresh_response_tsn")),
    Fault("ke-accepts-second-partner", "drops its running exchange for a second initiator instead of answering it "
          "NO_RESOURCES", ("TC-KE-4.13",), KeSetting("accept_second_partner")),
)


def _catalogue(*faults: Fault) -> dict[str, Fault]:
    return {fault.name: fault for fault in faults}


class ReferenceEsi(ServerDevice):
    model = "esi"
    device_id = load_datamodel().device_type("SE-ESP").device_id
    node_role = Role.COORDINATOR
    #: The ESI's mandatory servers (SE 1.x device descriptions) and the meter it holds.
    servers = (TimeServer, PriceServer, DrlcServer, MessagingServer, MeteringServer)
    clusters: ClassVar[tuple[tuple[int, Side], ...]] = (
        (Basic.cluster_id, Side.SERVER), (Identify.cluster_id, Side.SERVER),
        (KeyEstablishment.cluster_id, Side.SERVER), (KeyEstablishment.cluster_id, Side.CLIENT),
        *((server.cluster.cluster_id, Side.SERVER) for server in servers),
    )
    faults_catalogue: ClassVar[Mapping[str, Fault]] = _catalogue(
        ADMITS_UNKNOWN, WELL_KNOWN_KEY, TRANSPORT_KEY_SOURCE_ZERO, SHORT_CODES_PADDED, IGNORES_PERMIT_WINDOW,
        PERMIT_WINDOW_SHORT, KEY_UPDATE_SAME_SEQ, NO_SWITCH_KEY, REMOVE_DEVICE_UNSECURED, LEAVE_REQUEST_REJOIN,
        REFUSES_KNOWN_REJOIN, REJOIN_RESPONSE_UNSECURED, REJOIN_ADMITS_UNKNOWN, SMALL_KEY_TABLE,
        LEFT_DEVICE_KEPT_JOINED, LEFT_DEVICE_COUNTER_KEPT, *ESI_SERVERS,
        *KE_SERVER_FAULTS,
    )

    def __init__(self, air: Air, profile: DutProfile, clock: Clock, faults: tuple[str, ...] = (), *,
                 rng: CaseRandom | None = None) -> None:
        super().__init__(air, profile, clock, faults, rng=rng)
        # Its network's PAN id, addresses and keys are its own choices, drawn per case (a real ESI's are random).
        self._network_rng = Random(self.seed_for("esi:network", 0xE51))
        self.trust_center = EsiTrustCenter(self.node, self.faults, TRUST_CENTER_FAULTS,
                                           Random(self.seed_for("esi:addresses", 0xE52)))
        self.form_network()

    def empty_store(self) -> AttributeStore:
        return LiveStore()  # the Time server serves its clock at each read

    def build_store(self) -> AttributeStore:
        store = super().build_store()
        # TimeStatus as the profile claims it (PICS options SE.TIME.S.MASTER, .SYNCHRONIZED, .MASTERZONEDST).
        pics = self.profile.pics
        status = ((TimeStatus.Master if pics.get("SE.TIME.S.MASTER") else 0)
                  | (TimeStatus.Synchronized if pics.get("SE.TIME.S.SYNCHRONIZED") else 0)
                  | (TimeStatus.MasterZoneDst if pics.get("SE.TIME.S.MASTERZONEDST") else 0))
        self.server(TimeServer).status = status
        return store

    def server(self, cls: type[S]) -> S:
        return next(s for s in self.server_clusters if isinstance(s, cls))

    # -- its head end's actions for its servers (DutControl) ------------------------------------------------

    def publish_price(self) -> int:
        return self.server(PriceServer).publish_price().issuer_event_id

    def issue_event(self) -> int:
        return self.server(DrlcServer).issue_event().issuer_event_id

    def display_message(self) -> int:
        return self.server(MessagingServer).display_message().message_id

    # -- its network ---------------------------------------------------------------------------------------------

    def form_network(self) -> None:
        """Form a network on the air's channel: a PAN id and network key of its own, its IEEE as extended PAN id."""
        pan_id = self._network_rng.randint(0x0001, 0xFFFE)
        key = bytes(self._network_rng.getrandbits(8) for _ in range(16))
        self.node.form(pan_id, self.ieee, key, key_seq=0)
        LOGGER.info("reference esi formed PAN 0x%04X", pan_id)

    # -- its head end's actions (DutControl) ------------------------------------------------------------------

    def add_install_code(self, ieee: int, install_code: InstallCode) -> None:
        if len(install_code.code) < 16 and self.faults.has(SHORT_CODES_PADDED):
            install_code = InstallCode(install_code.code.ljust(16, b"\x00"))  # the seeded fault
        try:
            self.trust_center.add_install_code_key(ieee, install_code.link_key)
        except NodeError as exc:  # a full table: the head end is told, as a real ESI's would be
            LOGGER.info("reference esi refused an install code: %s", exc)

    def permit_joining(self, seconds: int) -> None:
        self.trust_center.permit_joining(seconds)

    def update_network_key(self) -> None:
        key = bytes(self._network_rng.getrandbits(8) for _ in range(16))
        self._spawn(self.trust_center.update_network_key(key))

    def remove_device(self, ieee: int) -> None:
        self._spawn(self.trust_center.remove_device(ieee))

    def start_joining(self, deadline: float = 60.0) -> None:
        """An ESI does not join: it formed its network when it powered up."""
        LOGGER.info("reference esi: told to join, but it forms its own network")

    def start_rejoin(self, deadline: float = 60.0) -> None:
        LOGGER.info("reference esi: told to rejoin, but it is the coordinator of its own network")

    def factory_reset(self) -> None:
        LOGGER.info("reference esi factory reset")
        self.power_on()
        for task in list(self._tasks):
            task.cancel()
        if self.ke is not None:
            self.ke.close()
        self.trust_center.forget_all()
        self.node._reset_network(forget_keys=True)
        self.store.restore(self._factory_values)
        self.form_network()
        self._restart_servers()  # its metrology and clock run on across a reset of its radio

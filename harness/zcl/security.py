"""Which clusters need APS (link-key) encryption, and what to do with a frame that arrives without it.

SE-FACTS "Basics": SE application clusters are APS-encrypted with the CBKE-derived link key; Key
Establishment uses only network-layer security. The application clusters are the SE range 0x0700-0x07FF
(Price, DRLC, Metering, Messaging, Tunneling, Prepayment, ...). Basic, Identify, Time and Key Establishment
are accepted with network security alone; a bench that wants Time under the link key adds it.
"""

from __future__ import annotations

import dataclasses
import enum

from zigpy.types import TransmitOptions
from zigpy.zcl.foundation import Status

from harness.se.datamodel import SE_APPLICATION_CLUSTERS


class InsecureFrameAction(enum.StrEnum):
    DROP = "drop"  # record a finding and do not process the frame (what a conformant device does)
    # Record a finding, do not process the frame, and answer it with a Default Response of the policy's
    # refusal_status sent without APS security: what EmberZNet's application framework does (Silicon Labs
    # gecko_sdk protocol/zigbee/app/framework/util/util.c, emberAfProcessMessage: "Drop clus ... due to no aps
    # security", FAILURE in SE builds, NOT_AUTHORIZED with WWAH and in some releases). Conformant too: the
    # command is not acted on.
    REFUSE = "refuse"
    FLAG = "flag"  # record a finding and process the frame anyway (to observe what follows)


@dataclasses.dataclass(frozen=True)
class SecurityPolicy:
    aps_required: frozenset[int] = frozenset(SE_APPLICATION_CLUSTERS)
    on_missing: InsecureFrameAction = InsecureFrameAction.DROP
    refusal_status: Status = Status.NOT_AUTHORIZED  # the Default Response status of InsecureFrameAction.REFUSE

    def requires_aps(self, cluster_id: int) -> bool:
        return cluster_id in self.aps_required

    def tx_options(self, cluster_id: int, *, unicast: bool) -> TransmitOptions:
        """Options for an outgoing frame: APS encryption where required, APS ack for unicasts."""
        opts = TransmitOptions.NONE
        if unicast:
            opts |= TransmitOptions.ACK
        if self.requires_aps(cluster_id):
            opts |= TransmitOptions.APS_Encryption
        return opts

    def accepts(self, cluster_id: int, tx_options: TransmitOptions) -> bool:
        """True when a received frame has the security its cluster requires."""
        return not self.requires_aps(cluster_id) or TransmitOptions.APS_Encryption in tx_options


SE_SECURITY_POLICY = SecurityPolicy()

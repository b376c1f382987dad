"""Stack behaviour knobs of a simulated node, in one place.

The default is a conformant Zigbee PRO / Smart Energy stack. Reference devices flip knobs to seed a
non-conformance (their fault catalogues), so each knob names the rule it breaks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from harness.wire.frames.aps import ApsFrame


@dataclass(frozen=True)
class StackBehaviour:
    # Joining: SE devices must refuse a network key offered under the well-known TC link key
    # "ZigBeeAlliance09" when they are commissioned with an install code (SE 1.x 5.4.1).
    accept_well_known_tc_key: bool = False
    # Joining: a device associates only with a parent whose beacon has Association Permit set
    # (Zigbee 3.6.1.4.1: a suitable parent permits joining).
    associate_only_when_permitted: bool = True
    # Joining: a device that received no network key it could authenticate stays off the network and sends no
    # NWK frame (Zigbee 4.6.3.2: the join is complete only once the network key is received).
    stay_silent_without_network_key: bool = True
    # NWK security: the auxiliary header names the sequence number of the key that secured the frame
    # (Zigbee 4.5.1.1.2); a device that writes another number makes receivers pick the wrong key.
    correct_key_sequence_number: bool = True
    # Joining: a device announces itself with ZDO Device_annce after joining or rejoining (Zigbee 2.4.3.1.11).
    send_device_annce: bool = True
    # Joining: Device_annce carries the capability the device sent in its association request (Zigbee
    # 2.4.3.1.11: the local device's capability, in the MAC capability format of 802.15.4-2006 7.3.1.2); without
    # it the stack announces "battery powered" (power source bit clear) although it associated as mains powered.
    announce_association_capability: bool = True
    # ZDO: the Power Descriptor names the power source the capability field announces (Zigbee 2.3.2.4.3): a
    # mains-powered device's current power source is constant (mains) power; without it the stack answers
    # Power_Desc_req with a disposable battery at 33 %, a descriptor left over from a battery product.
    power_descriptor_as_capability: bool = True
    # Leave: a device obeys a NWK leave request / ZDO Mgmt_Leave_req addressed to it (Zigbee 3.6.1.10).
    obey_leave: bool = True
    # Leave: a router obeys APS Remove Device from the Trust Center naming itself (Zigbee 4.4.5: parent and target
    # the same), APS-secured with its link key, by leaving without rejoin.
    obey_remove_device: bool = True
    # Leave: a device told to leave with Rejoin set (Mgmt_Leave_req, NWK leave) leaves and rejoins the network
    # (Zigbee 2.4.3.3.5, 3.6.1.10); without it the stack drops the Rejoin bit and stays gone.
    rejoin_after_leave: bool = True
    # Leave: Mgmt_Leave_req with Remove Children set is taken like any leave request, by a router (whose children
    # leave with it) and by an end device (which has none) alike (Zigbee 2.4.3.3.5); without it the stack answers
    # NOT_SUPPORTED and stays.
    accept_remove_children: bool = True
    # NWK security: broadcasts are secured at nwkSecurityLevel 5, ENC-MIC-32, like every frame (Zigbee 4.5.1.1.1
    # Table 4.38, 4.3.1.1; SE 1.x 5.4: a Zigbee PRO network at level 5); without it the stack's broadcast path
    # secures at level 4 (ENC, no MIC), which no receiver can authenticate.
    mic_on_broadcasts: bool = True
    # NWK and APS security: the sender overwrites the security level subfield with 0 before transmission
    # (Zigbee 4.3.1.1 / 4.4.1.1); receivers use nwkSecurityLevel instead (4.3.1.2 / 4.4.1.2).
    zero_level_on_air: bool = True
    # NWK security: frames whose frame counter is not above the last one seen from that source are dropped
    # (Zigbee 4.3.1.2 step 5).
    replay_check: bool = True
    # APS security: frames whose APS frame counter is not above the last one seen under that link key are dropped
    # (Zigbee 4.4.1.2), even when they come in a fresh NWK frame.
    aps_replay_check: bool = True
    # NWK security: the outgoing frame counter is kept in non-volatile memory, so after a power cycle it goes on
    # above every value sent before (Zigbee 4.3.1.1: a frame counter is never reused with the same key; receivers
    # drop a counter they have seen, 4.3.1.2). Without it the stack boots with the counter at 0.
    persist_nwk_frame_counter: bool = True
    # APS: duplicate frames (same source and APS counter) are acknowledged but not delivered twice (2.2.8.4.2).
    aps_duplicate_rejection: bool = True
    # APS: received frames requesting an ack get one (2.2.8.4.2).
    send_aps_acks: bool = True
    # MAC: received unicast frames requesting an ack get a MAC ack frame.
    send_mac_acks: bool = True
    # Rejoin: a device whose secured rejoin gets no answer (it missed a network key update: nobody can read its
    # frames any more) falls back to a Trust Center rejoin, unsecured at the NWK layer, and takes the current
    # network key under its Trust Center link key (Zigbee 3.6.1.4.2, 4.6.3.3; SE 1.x 5.4). Without it the stack
    # repeats its secured rejoin under the old key until it gives up.
    trust_center_rejoin_fallback: bool = True
    # Network key update: a device switches to the new key on Switch Key (Zigbee 4.4.7).
    obey_switch_key: bool = True
    # ZDO: the ZDO server answers requests at all.
    zdo_server: bool = True


CONFORMANT = StackBehaviour()


class Garbler(Protocol):
    """Garbage a broken stack puts on the air: a reference device's garbage faults (harness/devices/garbage.py)
    rewrite the bytes of the APS frames its node sends, at the layer each breaks. A conformant node has none.

    Each method gets the APS frame as the node built it (to pick the frames it garbles) and returns the bytes
    to send instead: its APS payload (before APS security, so the receiver decrypts garbage), its APS frame
    (before NWK security) or its NWK frame (after NWK security, so the receiver cannot even parse it)."""

    def payload(self, frame: ApsFrame) -> bytes: ...

    def aps(self, frame: ApsFrame, aps_bytes: bytes) -> bytes: ...

    def nwk(self, frame: ApsFrame, nwk_bytes: bytes) -> bytes: ...

"""Byte-exact Zigbee frames: IEEE 802.15.4-2006 MAC, Zigbee PRO NWK and APS, ZDO on zigpy's schemas.

API (stable; only additions from here on):

- Every frame/command is a slots dataclass with ``serialize() -> bytes``; frames have a classmethod
  ``deserialize(data)``; command bodies are decoded with ``parse_mac_command`` / ``parse_nwk_command`` /
  ``parse_aps_command`` from the payload (command id first). Malformed bytes raise :class:`FrameError`
  (a ValueError) naming layer, problem and offset.
- Addresses are ints: short addresses/PAN ids 0..0xFFFF, IEEE addresses the 64-bit value (sent
  little-endian); ``ieee_to_eui64`` / ``eui64_to_ieee`` convert to and from zigpy's EUI64.
- ``payload`` of each layer is the bytes after its header, so layers nest as bytes:
  ``MacFrame.data(seq, pan, dst, src, nwk_bytes).serialize()`` appends the FCS;
  ``MacFrame.deserialize(psdu)`` checks it. ``NwkFrame(NwkFrameType.DATA, dst, src, seq, aps_bytes)``;
  ``ApsFrame.data(counter, profile, cluster, src_ep, dst_ep, asdu)``; ``ApsFrame.command(counter, cmd)``;
  ``frame.ack_for()`` builds the APS ack.
- Security lives in :mod:`harness.wire.security`: ``secure_nwk(frame, nwk_key, counter, src_ieee, key_seq)``,
  ``unsecure_nwk(data, nwk_key) -> (frame, aux)``, ``secure_aps(frame, link_key, counter, src_ieee,
  KeyId.DATA | KeyId.KEY_TRANSPORT | ...)``, ``unsecure_aps(data, link_key, source_ieee) -> (frame, aux)``.
- Beacons: ``Beacon(association_permit, payload=ZigbeeBeaconPayload(ext_pan_id).serialize())`` as the MSDU
  of a MacFrame of type BEACON; ``beacon_request_frame(seq)``.
- ZDO: ``serialize_zdo(ZDOCmd.X, tsn, fields)`` / ``deserialize_zdo(cluster, data) -> ZdoMessage``.

Sending order on the air: APS (secure_aps) -> NWK payload -> secure_nwk -> MAC payload -> MacFrame.serialize.
"""

from .aps import (
    ApsCommand,
    ApsCommandId,
    ApsFrame,
    ApsFrameType,
    ConfirmKey,
    DeliveryMode,
    KeyType,
    RemoveDevice,
    RequestKey,
    SwitchKey,
    TransportKey,
    UpdateDevice,
    UpdateDeviceStatus,
    VerifyKey,
    parse_aps_command,
)
from .errors import FrameError
from .mac import (
    AddrMode,
    AssociationRequest,
    AssociationResponse,
    AssociationStatus,
    Beacon,
    BeaconRequest,
    CapabilityInformation,
    DataRequest,
    DisassociationNotification,
    MacCommand,
    MacCommandId,
    MacFrame,
    MacFrameType,
    ZigbeeBeaconPayload,
    beacon_request_frame,
    fcs,
    parse_mac_command,
)
from .nwk import (
    DiscoverRoute,
    Leave,
    NetworkStatus,
    NwkCommand,
    NwkCommandId,
    NwkFrame,
    NwkFrameType,
    RejoinRequest,
    RejoinResponse,
    RejoinStatus,
    RouteReply,
    RouteRequest,
    parse_nwk_command,
)
from .types import (
    BROADCAST_ADDR,
    BROADCAST_ROUTERS,
    BROADCAST_RX_ON_WHEN_IDLE,
    NO_SHORT_ADDRESS,
    eui64_to_ieee,
    format_ieee,
    ieee_from_bytes,
    ieee_to_bytes,
    ieee_to_eui64,
)
from .zdo import ZDO_ENDPOINT, ZDO_PROFILE, ZdoMessage, deserialize_zdo, serialize_zdo

__all__ = [
    "AddrMode",
    "ApsCommand",
    "ApsCommandId",
    "ApsFrame",
    "ApsFrameType",
    "AssociationRequest",
    "AssociationResponse",
    "AssociationStatus",
    "BROADCAST_ADDR",
    "BROADCAST_ROUTERS",
    "BROADCAST_RX_ON_WHEN_IDLE",
    "Beacon",
    "BeaconRequest",
    "CapabilityInformation",
    "ConfirmKey",
    "DataRequest",
    "DeliveryMode",
    "DisassociationNotification",
    "DiscoverRoute",
    "FrameError",
    "KeyType",
    "Leave",
    "MacCommand",
    "MacCommandId",
    "MacFrame",
    "MacFrameType",
    "NO_SHORT_ADDRESS",
    "NetworkStatus",
    "NwkCommand",
    "NwkCommandId",
    "NwkFrame",
    "NwkFrameType",
    "RejoinRequest",
    "RejoinResponse",
    "RejoinStatus",
    "RemoveDevice",
    "RequestKey",
    "RouteReply",
    "RouteRequest",
    "SwitchKey",
    "TransportKey",
    "UpdateDevice",
    "UpdateDeviceStatus",
    "VerifyKey",
    "ZDO_ENDPOINT",
    "ZDO_PROFILE",
    "ZdoMessage",
    "ZigbeeBeaconPayload",
    "beacon_request_frame",
    "deserialize_zdo",
    "eui64_to_ieee",
    "fcs",
    "format_ieee",
    "ieee_from_bytes",
    "ieee_to_bytes",
    "ieee_to_eui64",
    "parse_aps_command",
    "parse_mac_command",
    "parse_nwk_command",
    "serialize_zdo",
]

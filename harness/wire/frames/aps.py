"""Zigbee APS frames (Zigbee PRO, spec 2.2.5) and APS commands (4.4.10).

Frame control (1 byte): bits 0-1 frame type (data, command, ack, inter-PAN), 2-3 delivery mode (unicast,
-, broadcast, group), 4 ack format (ack frames: 1 = command ack without endpoint fields), 5 security,
6 ack request, 7 extended header present.
Data: fc | dst endpoint (unicast/broadcast) or group (2) | cluster (2) | profile (2) | src endpoint | counter.
Command: fc | counter | command id | body.  Ack: fc | [dst ep | cluster | profile | src ep] | counter.

``ApsFrame.payload`` is what follows the header: the ASDU of a data frame, the command id and body of a
command frame (that is exactly what APS security encrypts), or, while ``security`` is set and the frame
is still secured, the auxiliary security header, ciphertext and MIC.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from struct import Struct

from .errors import FrameError, need

LAYER = "APS"


class ApsFrameType(IntEnum):
    DATA = 0
    COMMAND = 1
    ACK = 2
    INTER_PAN = 3


class DeliveryMode(IntEnum):
    UNICAST = 0
    BROADCAST = 2
    GROUP = 3


_FRAME_TYPES = tuple(ApsFrameType)
# Delivery mode 1 (indirect) is reserved and refused before this lookup.
_DELIVERY_MODES = {0: DeliveryMode.UNICAST, 2: DeliveryMode.BROADCAST, 3: DeliveryMode.GROUP}
_U16 = Struct("<H")
_U64 = Struct("<Q")
_UNICAST_DATA = Struct("<BBHHBB")  # fc, dst ep, cluster, profile, src ep, counter
_GROUP_DATA = Struct("<BHHHBB")  # fc, group, cluster, profile, src ep, counter
_ACK_FIELDS = Struct("<BHHBB")  # dst ep, cluster, profile, src ep, counter


@dataclass(slots=True)
class ApsFrame:
    frame_type: ApsFrameType
    counter: int
    payload: bytes = b""
    delivery_mode: DeliveryMode = DeliveryMode.UNICAST
    dst_endpoint: int | None = None
    group: int | None = None
    cluster: int | None = None
    profile: int | None = None
    src_endpoint: int | None = None
    ack_request: bool = False
    security: bool = False
    ack_format: bool = False  # ack frames only: acknowledges a command (no endpoint/cluster/profile)
    extended_header: bytes | None = None  # fragmentation sub-frame, kept raw

    @classmethod
    def data(
        cls, counter: int, profile: int, cluster: int, src_endpoint: int, dst_endpoint: int, payload: bytes, *,
        ack_request: bool = False, delivery_mode: DeliveryMode = DeliveryMode.UNICAST,
    ) -> ApsFrame:
        return cls(
            ApsFrameType.DATA, counter, payload, delivery_mode, dst_endpoint, None, cluster, profile, src_endpoint,
            ack_request,
        )

    @classmethod
    def command(cls, counter: int, command: ApsCommand, *, ack_request: bool = False) -> ApsFrame:
        return cls(ApsFrameType.COMMAND, counter, command.serialize(), ack_request=ack_request)

    def ack_for(self) -> ApsFrame:
        """The APS ack answering this frame (endpoints swapped; a command ack has ack format set)."""
        if self.frame_type == ApsFrameType.COMMAND:
            return ApsFrame(ApsFrameType.ACK, self.counter, ack_format=True)
        return ApsFrame(
            ApsFrameType.ACK, self.counter, b"", DeliveryMode.UNICAST, self.src_endpoint, None, self.cluster,
            self.profile, self.dst_endpoint,
        )

    def serialize_header(self, security: bool | None = None) -> bytes:
        if security is None:
            security = self.security
        ext = self.extended_header
        fc = (
            self.frame_type
            | (self.delivery_mode << 2)
            | (self.ack_format << 4)
            | (security << 5)
            | (self.ack_request << 6)
            | ((ext is not None) << 7)
        )
        frame_type = self.frame_type
        if frame_type == ApsFrameType.DATA:
            if self.delivery_mode == DeliveryMode.GROUP:
                header = _GROUP_DATA.pack(
                    fc, self.group, self.cluster, self.profile, self.src_endpoint, self.counter & 0xFF
                )
            else:
                header = _UNICAST_DATA.pack(
                    fc, self.dst_endpoint, self.cluster, self.profile, self.src_endpoint, self.counter & 0xFF
                )
        elif frame_type == ApsFrameType.COMMAND:
            header = bytes([fc, self.counter & 0xFF])
        elif frame_type == ApsFrameType.ACK:
            if self.ack_format:
                header = bytes([fc, self.counter & 0xFF])
            else:
                header = bytes([fc]) + _ACK_FIELDS.pack(
                    self.dst_endpoint, self.cluster, self.profile, self.src_endpoint, self.counter & 0xFF
                )
        else:
            raise FrameError(LAYER, "inter-PAN APS frames are not supported")
        return header + ext if ext is not None else header

    def serialize(self) -> bytes:
        return self.serialize_header() + self.payload

    @classmethod
    def deserialize(cls, data: bytes) -> ApsFrame:
        frame, offset = cls.deserialize_header(data)
        frame.payload = bytes(data[offset:])
        return frame

    @classmethod
    def deserialize_header(cls, data: bytes) -> tuple[ApsFrame, int]:
        """The header (payload left empty) and the offset where the payload starts."""
        need(LAYER, data, 0, 1, "frame control")
        fc = data[0]
        frame_type, mode = fc & 0b11, (fc >> 2) & 0b11
        if mode == 1:
            raise FrameError(LAYER, "reserved delivery mode 1 (indirect)", 0)
        if frame_type == ApsFrameType.INTER_PAN:
            raise FrameError(LAYER, "inter-PAN APS frames are not supported", 0)
        frame = cls(
            _FRAME_TYPES[frame_type], 0, b"", _DELIVERY_MODES[mode], ack_request=bool(fc & 0x40),
            security=bool(fc & 0x20), ack_format=bool(fc & 0x10),
        )
        if frame_type == ApsFrameType.DATA:
            if mode == DeliveryMode.GROUP:
                need(LAYER, data, 0, _GROUP_DATA.size, "data frame addressing fields and counter")
                _, frame.group, frame.cluster, frame.profile, frame.src_endpoint, frame.counter = (
                    _GROUP_DATA.unpack_from(data, 0)
                )
                offset = _GROUP_DATA.size
            else:
                need(LAYER, data, 0, _UNICAST_DATA.size, "data frame addressing fields and counter")
                _, frame.dst_endpoint, frame.cluster, frame.profile, frame.src_endpoint, frame.counter = (
                    _UNICAST_DATA.unpack_from(data, 0)
                )
                offset = _UNICAST_DATA.size
        elif frame_type == ApsFrameType.COMMAND or frame.ack_format:
            need(LAYER, data, 1, 1, "APS counter")
            frame.counter = data[1]
            offset = 2
        else:
            need(LAYER, data, 1, _ACK_FIELDS.size, "ack addressing fields and counter")
            frame.dst_endpoint, frame.cluster, frame.profile, frame.src_endpoint, frame.counter = (
                _ACK_FIELDS.unpack_from(data, 1)
            )
            offset = 1 + _ACK_FIELDS.size
        if fc & 0x80:
            need(LAYER, data, offset, 1, "extended frame control")
            fragmentation = data[offset] & 0b11
            if fragmentation == 3:
                raise FrameError(LAYER, "reserved fragmentation value 3", offset)
            size = 1 + (1 if fragmentation else 0) + (1 if fragmentation and frame_type == ApsFrameType.ACK else 0)
            need(LAYER, data, offset, size, "extended header")
            frame.extended_header = bytes(data[offset : offset + size])
            offset += size
        return frame, offset


# --- APS commands ---------------------------------------------------------------------------------------

class ApsCommandId(IntEnum):
    TRANSPORT_KEY = 0x05
    UPDATE_DEVICE = 0x06
    REMOVE_DEVICE = 0x07
    REQUEST_KEY = 0x08
    SWITCH_KEY = 0x09
    TUNNEL = 0x0E
    VERIFY_KEY = 0x0F
    CONFIRM_KEY = 0x10


class KeyType(IntEnum):
    """Key types of Transport Key and Request Key (Zigbee PRO r21 Table 4.12)."""

    STANDARD_NETWORK_KEY = 0x01
    APPLICATION_LINK_KEY = 0x03
    TRUST_CENTER_LINK_KEY = 0x04


class UpdateDeviceStatus(IntEnum):
    STANDARD_SECURED_REJOIN = 0x00
    STANDARD_UNSECURED_JOIN = 0x01
    DEVICE_LEFT = 0x02
    STANDARD_UNSECURED_REJOIN = 0x03


def _key_type(value: int, offset: int) -> KeyType:
    try:
        return KeyType(value)
    except ValueError:
        raise FrameError(LAYER, f"unsupported key type 0x{value:02X}", offset) from None


@dataclass(slots=True, repr=False)
class TransportKey:
    """Transport Key (4.4.10.1). Which fields are present depends on the key type:

    - standard network key: key sequence number, destination IEEE, source IEEE;
    - trust center link key: destination IEEE, source IEEE;
    - application link key: partner IEEE, initiator flag.
    """

    key_type: KeyType
    key: bytes
    key_seq: int | None = None
    dst_ieee: int | None = None
    src_ieee: int | None = None
    partner_ieee: int | None = None
    initiator: bool = False
    command_id = ApsCommandId.TRANSPORT_KEY

    def __repr__(self) -> str:  # never print the key
        return (
            f"TransportKey(key_type={self.key_type.name}, key=<redacted>, key_seq={self.key_seq}, "
            f"dst_ieee={self.dst_ieee}, src_ieee={self.src_ieee}, partner_ieee={self.partner_ieee})"
        )

    def serialize(self) -> bytes:
        if len(self.key) != 16:
            raise FrameError(LAYER, f"Transport Key key is {len(self.key)} bytes, not 16")
        out = bytes([self.command_id, self.key_type]) + self.key
        if self.key_type == KeyType.STANDARD_NETWORK_KEY:
            return out + bytes([self.key_seq or 0]) + _U64.pack(self.dst_ieee or 0) + _U64.pack(self.src_ieee or 0)
        if self.key_type == KeyType.TRUST_CENTER_LINK_KEY:
            return out + _U64.pack(self.dst_ieee or 0) + _U64.pack(self.src_ieee or 0)
        return out + _U64.pack(self.partner_ieee or 0) + bytes([self.initiator])

    @classmethod
    def deserialize_body(cls, body: bytes, offset: int) -> TransportKey:
        need(LAYER, body, offset, 17, "Transport Key key type and key")
        key_type = _key_type(body[offset], offset)
        key = bytes(body[offset + 1 : offset + 17])
        pos = offset + 17
        if key_type == KeyType.STANDARD_NETWORK_KEY:
            need(LAYER, body, pos, 17, "network key sequence number and addresses")
            return cls(key_type, key, body[pos], _U64.unpack_from(body, pos + 1)[0], _U64.unpack_from(body, pos + 9)[0])
        if key_type == KeyType.TRUST_CENTER_LINK_KEY:
            need(LAYER, body, pos, 16, "trust center link key addresses")
            return cls(key_type, key, None, _U64.unpack_from(body, pos)[0], _U64.unpack_from(body, pos + 8)[0])
        need(LAYER, body, pos, 9, "application link key partner address and initiator flag")
        return cls(key_type, key, partner_ieee=_U64.unpack_from(body, pos)[0], initiator=bool(body[pos + 8]))


@dataclass(slots=True)
class UpdateDevice:
    """Update Device (4.4.10.2): a router tells the Trust Center a device joined, rejoined or left."""

    device_ieee: int
    device_short: int
    status: UpdateDeviceStatus
    command_id = ApsCommandId.UPDATE_DEVICE

    def serialize(self) -> bytes:
        return bytes([self.command_id]) + _U64.pack(self.device_ieee) + _U16.pack(self.device_short) + bytes([self.status])

    @classmethod
    def deserialize_body(cls, body: bytes, offset: int) -> UpdateDevice:
        need(LAYER, body, offset, 11, "Update Device fields")
        status = body[offset + 10]
        try:
            status = UpdateDeviceStatus(status)
        except ValueError:
            raise FrameError(LAYER, f"reserved Update Device status 0x{status:02X}", offset + 10) from None
        return cls(_U64.unpack_from(body, offset)[0], _U16.unpack_from(body, offset + 8)[0], status)


@dataclass(slots=True)
class RemoveDevice:
    """Remove Device (4.4.10.3): the Trust Center asks a parent to remove a child."""

    target_ieee: int
    command_id = ApsCommandId.REMOVE_DEVICE

    def serialize(self) -> bytes:
        return bytes([self.command_id]) + _U64.pack(self.target_ieee)

    @classmethod
    def deserialize_body(cls, body: bytes, offset: int) -> RemoveDevice:
        need(LAYER, body, offset, 8, "Remove Device target address")
        return cls(_U64.unpack_from(body, offset)[0])


@dataclass(slots=True)
class RequestKey:
    """Request Key (4.4.10.4): key type 0x02 (application link key, with partner) or 0x04 (TC link key)."""

    key_type: int
    partner_ieee: int | None = None
    command_id = ApsCommandId.REQUEST_KEY

    APPLICATION_LINK_KEY = 0x02
    TRUST_CENTER_LINK_KEY = 0x04

    def serialize(self) -> bytes:
        out = bytes([self.command_id, self.key_type])
        if self.key_type == self.APPLICATION_LINK_KEY:
            out += _U64.pack(self.partner_ieee or 0)
        return out

    @classmethod
    def deserialize_body(cls, body: bytes, offset: int) -> RequestKey:
        need(LAYER, body, offset, 1, "Request Key key type")
        key_type = body[offset]
        if key_type == cls.APPLICATION_LINK_KEY:
            need(LAYER, body, offset + 1, 8, "Request Key partner address")
            return cls(key_type, _U64.unpack_from(body, offset + 1)[0])
        if key_type != cls.TRUST_CENTER_LINK_KEY:
            raise FrameError(LAYER, f"unsupported Request Key key type 0x{key_type:02X}", offset)
        return cls(key_type)


@dataclass(slots=True)
class SwitchKey:
    """Switch Key (4.4.10.5): make the network key with this sequence number the active one."""

    key_seq: int
    command_id = ApsCommandId.SWITCH_KEY

    def serialize(self) -> bytes:
        return bytes([self.command_id, self.key_seq])

    @classmethod
    def deserialize_body(cls, body: bytes, offset: int) -> SwitchKey:
        need(LAYER, body, offset, 1, "Switch Key sequence number")
        return cls(body[offset])


@dataclass(slots=True)
class VerifyKey:
    """Verify Key (r21, 4.4.10.7): a device proves it holds its TC link key (hash = HMAC-MMO(key, 0x03))."""

    key_type: int
    src_ieee: int
    hash: bytes
    command_id = ApsCommandId.VERIFY_KEY

    def serialize(self) -> bytes:
        return bytes([self.command_id, self.key_type]) + _U64.pack(self.src_ieee) + self.hash

    @classmethod
    def deserialize_body(cls, body: bytes, offset: int) -> VerifyKey:
        need(LAYER, body, offset, 25, "Verify Key fields")
        return cls(body[offset], _U64.unpack_from(body, offset + 1)[0], bytes(body[offset + 9 : offset + 25]))


@dataclass(slots=True)
class ConfirmKey:
    """Confirm Key (r21, 4.4.10.8): the Trust Center's answer to Verify Key."""

    status: int
    key_type: int
    dst_ieee: int
    command_id = ApsCommandId.CONFIRM_KEY

    def serialize(self) -> bytes:
        return bytes([self.command_id, self.status, self.key_type]) + _U64.pack(self.dst_ieee)

    @classmethod
    def deserialize_body(cls, body: bytes, offset: int) -> ConfirmKey:
        need(LAYER, body, offset, 10, "Confirm Key fields")
        return cls(body[offset], body[offset + 1], _U64.unpack_from(body, offset + 2)[0])


ApsCommand = TransportKey | UpdateDevice | RemoveDevice | RequestKey | SwitchKey | VerifyKey | ConfirmKey

#: Body decoders by command identifier.
_COMMANDS: dict[int, Callable[[bytes, int], ApsCommand]] = {
    cls.command_id: cls.deserialize_body
    for cls in (TransportKey, UpdateDevice, RemoveDevice, RequestKey, SwitchKey, VerifyKey, ConfirmKey)
}


def parse_aps_command(payload: bytes) -> ApsCommand:
    """Decode a command frame's (unsecured) payload: command id and body."""
    need(LAYER, payload, 0, 1, "command identifier")
    decode = _COMMANDS.get(payload[0])
    if decode is None:
        raise FrameError(LAYER, f"unsupported APS command 0x{payload[0]:02X}", 0)
    return decode(payload, 1)

"""Zigbee NWK frames (Zigbee PRO, spec 3.3): header and the NWK commands.

Header: frame control (2, LE) | destination (2) | source (2) | radius (1) | sequence (1) |
destination IEEE (0/8) | source IEEE (0/8) | multicast control (0/1) | source route subframe (0/2+2n).
Frame control bits: 0-1 frame type, 2-5 protocol version (2 for PRO), 6-7 discover route, 8 multicast,
9 security, 10 source route, 11 destination IEEE present, 12 source IEEE present, 13 end device initiator.

``NwkFrame.payload`` is everything after the header: the APS frame of a data frame, the command id and
body of a command frame, or, while ``security`` is set and the frame is still secured, the auxiliary
security header, ciphertext and MIC (harness.wire.security turns that into plaintext).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from struct import Struct

from .errors import FrameError, need
from .mac import CapabilityInformation

LAYER = "NWK"
PROTOCOL_VERSION = 2  # Zigbee 2006 and PRO


class NwkFrameType(IntEnum):
    DATA = 0
    COMMAND = 1
    INTER_PAN = 3


class DiscoverRoute(IntEnum):
    SUPPRESS = 0
    ENABLE = 1


# Frame type 2 is reserved and refused before this lookup.
_FRAME_TYPES = {0: NwkFrameType.DATA, 1: NwkFrameType.COMMAND, 3: NwkFrameType.INTER_PAN}
_DISCOVER = tuple(DiscoverRoute)
_HEADER = Struct("<HHHBB")  # fc, dst, src, radius, seq
_U16 = Struct("<H")
_U64 = Struct("<Q")


@dataclass(slots=True)
class NwkFrame:
    frame_type: NwkFrameType
    dst: int
    src: int
    seq: int
    payload: bytes = b""
    radius: int = 30
    discover_route: DiscoverRoute = DiscoverRoute.SUPPRESS
    security: bool = False
    dst_ieee: int | None = None
    src_ieee: int | None = None
    multicast_control: int | None = None  # present iff the multicast flag is set
    source_route: tuple[int, ...] | None = None  # relay list; present iff the source route flag is set
    relay_index: int = 0
    end_device_initiator: bool = False
    protocol_version: int = PROTOCOL_VERSION

    def serialize_header(self, security: bool | None = None) -> bytes:
        """The header alone; *security* overrides the security flag (used while securing)."""
        if security is None:
            security = self.security
        dst_ieee, src_ieee = self.dst_ieee, self.src_ieee
        fc = (
            self.frame_type
            | ((self.protocol_version & 0x0F) << 2)
            | ((self.discover_route & 0b11) << 6)
            | ((self.multicast_control is not None) << 8)
            | (security << 9)
            | ((self.source_route is not None) << 10)
            | ((dst_ieee is not None) << 11)
            | ((src_ieee is not None) << 12)
            | (self.end_device_initiator << 13)
        )
        header = _HEADER.pack(fc, self.dst, self.src, self.radius & 0xFF, self.seq & 0xFF)
        if dst_ieee is None and src_ieee is None and self.multicast_control is None and self.source_route is None:
            return header
        parts = [header]
        if dst_ieee is not None:
            parts.append(_U64.pack(dst_ieee))
        if src_ieee is not None:
            parts.append(_U64.pack(src_ieee))
        if self.multicast_control is not None:
            parts.append(bytes([self.multicast_control]))
        if self.source_route is not None:
            relays = self.source_route
            parts.append(bytes([len(relays), self.relay_index]))
            parts.extend(_U16.pack(r) for r in relays)
        return b"".join(parts)

    def serialize(self) -> bytes:
        return self.serialize_header() + self.payload

    @classmethod
    def deserialize(cls, data: bytes) -> NwkFrame:
        frame, offset = cls.deserialize_header(data)
        frame.payload = bytes(data[offset:])
        return frame

    @classmethod
    def deserialize_header(cls, data: bytes) -> tuple[NwkFrame, int]:
        """The header (payload left empty) and the offset where the payload starts."""
        need(LAYER, data, 0, 8, "NWK header")
        fc, dst, src, radius, seq = _HEADER.unpack_from(data, 0)
        frame_type = fc & 0b11
        if frame_type == 2:
            raise FrameError(LAYER, "reserved frame type 2", 0)
        version = (fc >> 2) & 0x0F
        discover = (fc >> 6) & 0b11
        if discover > 1:
            raise FrameError(LAYER, f"reserved discover route value {discover}", 0)
        frame = cls(_FRAME_TYPES[frame_type], dst, src, seq, b"", radius, _DISCOVER[discover], bool(fc & 0x0200))
        frame.protocol_version = version
        frame.end_device_initiator = bool(fc & 0x2000)
        offset = 8
        if fc & 0x0800:
            need(LAYER, data, offset, 8, "destination IEEE address")
            frame.dst_ieee = _U64.unpack_from(data, offset)[0]
            offset += 8
        if fc & 0x1000:
            need(LAYER, data, offset, 8, "source IEEE address")
            frame.src_ieee = _U64.unpack_from(data, offset)[0]
            offset += 8
        if fc & 0x0100:
            need(LAYER, data, offset, 1, "multicast control")
            frame.multicast_control = data[offset]
            offset += 1
        if fc & 0x0400:
            need(LAYER, data, offset, 2, "source route relay count and index")
            count, frame.relay_index = data[offset], data[offset + 1]
            offset += 2
            need(LAYER, data, offset, 2 * count, "source route relay list")
            frame.source_route = tuple(_U16.unpack_from(data, offset + 2 * i)[0] for i in range(count))
            offset += 2 * count
        return frame, offset


# --- NWK commands ---------------------------------------------------------------------------------------

class NwkCommandId(IntEnum):
    ROUTE_REQUEST = 0x01
    ROUTE_REPLY = 0x02
    NETWORK_STATUS = 0x03
    LEAVE = 0x04
    ROUTE_RECORD = 0x05
    REJOIN_REQUEST = 0x06
    REJOIN_RESPONSE = 0x07
    LINK_STATUS = 0x08
    NETWORK_REPORT = 0x09
    NETWORK_UPDATE = 0x0A
    END_DEVICE_TIMEOUT_REQUEST = 0x0B
    END_DEVICE_TIMEOUT_RESPONSE = 0x0C


class RejoinStatus(IntEnum):
    SUCCESS = 0x00
    PAN_AT_CAPACITY = 0x01
    PAN_ACCESS_DENIED = 0x02


@dataclass(slots=True)
class Leave:
    """Leave (3.4.4): options bit 5 rejoin, bit 6 request (sent to a child), bit 7 remove children."""

    rejoin: bool = False
    request: bool = False
    remove_children: bool = False
    command_id = NwkCommandId.LEAVE

    def serialize(self) -> bytes:
        return bytes([self.command_id, (self.rejoin << 5) | (self.request << 6) | (self.remove_children << 7)])

    @classmethod
    def deserialize_body(cls, body: bytes, offset: int) -> Leave:
        need(LAYER, body, offset, 1, "leave command options")
        options = body[offset]
        return cls(bool(options & 0x20), bool(options & 0x40), bool(options & 0x80))


@dataclass(slots=True)
class RejoinRequest:
    """Rejoin request (3.4.6): the capability information byte of association."""

    capability: CapabilityInformation = field(default_factory=CapabilityInformation)
    command_id = NwkCommandId.REJOIN_REQUEST

    def serialize(self) -> bytes:
        return bytes([self.command_id, self.capability.to_byte()])

    @classmethod
    def deserialize_body(cls, body: bytes, offset: int) -> RejoinRequest:
        need(LAYER, body, offset, 1, "rejoin request capability information")
        return cls(CapabilityInformation.from_byte(body[offset]))


@dataclass(slots=True)
class RejoinResponse:
    """Rejoin response (3.4.7): the (possibly new) network address and a status."""

    network_address: int
    status: RejoinStatus = RejoinStatus.SUCCESS
    command_id = NwkCommandId.REJOIN_RESPONSE

    def serialize(self) -> bytes:
        return bytes([self.command_id]) + _U16.pack(self.network_address) + bytes([self.status])

    @classmethod
    def deserialize_body(cls, body: bytes, offset: int) -> RejoinResponse:
        need(LAYER, body, offset, 3, "rejoin response")
        status = body[offset + 2]
        try:
            status = RejoinStatus(status)
        except ValueError:
            raise FrameError(LAYER, f"reserved rejoin status 0x{status:02X}", offset + 2) from None
        return cls(_U16.unpack_from(body, offset)[0], status)


@dataclass(slots=True)
class NetworkStatus:
    """Network status (3.4.3): a status code about a destination (e.g. 0x0B no route available)."""

    status: int
    destination: int
    command_id = NwkCommandId.NETWORK_STATUS

    def serialize(self) -> bytes:
        return bytes([self.command_id, self.status]) + _U16.pack(self.destination)

    @classmethod
    def deserialize_body(cls, body: bytes, offset: int) -> NetworkStatus:
        need(LAYER, body, offset, 3, "network status")
        return cls(body[offset], _U16.unpack_from(body, offset + 1)[0])


@dataclass(slots=True)
class RouteRequest:
    """Route request (3.4.1): options bits 3-4 many-to-one, bit 5 destination IEEE, bit 6 multicast."""

    request_id: int
    destination: int
    path_cost: int = 0
    many_to_one: int = 0
    multicast: bool = False
    destination_ieee: int | None = None
    command_id = NwkCommandId.ROUTE_REQUEST

    def serialize(self) -> bytes:
        options = ((self.many_to_one & 0b11) << 3) | ((self.destination_ieee is not None) << 5) | (self.multicast << 6)
        out = bytes([self.command_id, options, self.request_id]) + _U16.pack(self.destination) + bytes([self.path_cost])
        if self.destination_ieee is not None:
            out += _U64.pack(self.destination_ieee)
        return out

    @classmethod
    def deserialize_body(cls, body: bytes, offset: int) -> RouteRequest:
        need(LAYER, body, offset, 5, "route request")
        options, request_id = body[offset], body[offset + 1]
        (destination,) = _U16.unpack_from(body, offset + 2)
        ieee = None
        if options & 0x20:
            need(LAYER, body, offset + 5, 8, "route request destination IEEE address")
            ieee = _U64.unpack_from(body, offset + 5)[0]
        return cls(request_id, destination, body[offset + 4], (options >> 3) & 0b11, bool(options & 0x40), ieee)


@dataclass(slots=True)
class RouteReply:
    """Route reply (3.4.2): options bit 4 originator IEEE, bit 5 responder IEEE, bit 6 multicast."""

    request_id: int
    originator: int
    responder: int
    path_cost: int = 0
    multicast: bool = False
    originator_ieee: int | None = None
    responder_ieee: int | None = None
    command_id = NwkCommandId.ROUTE_REPLY

    def serialize(self) -> bytes:
        options = (
            ((self.originator_ieee is not None) << 4) | ((self.responder_ieee is not None) << 5) | (self.multicast << 6)
        )
        out = (
            bytes([self.command_id, options, self.request_id])
            + _U16.pack(self.originator)
            + _U16.pack(self.responder)
            + bytes([self.path_cost])
        )
        if self.originator_ieee is not None:
            out += _U64.pack(self.originator_ieee)
        if self.responder_ieee is not None:
            out += _U64.pack(self.responder_ieee)
        return out

    @classmethod
    def deserialize_body(cls, body: bytes, offset: int) -> RouteReply:
        need(LAYER, body, offset, 7, "route reply")
        options, request_id = body[offset], body[offset + 1]
        originator, responder = _U16.unpack_from(body, offset + 2)[0], _U16.unpack_from(body, offset + 4)[0]
        cost = body[offset + 6]
        pos = offset + 7
        originator_ieee = responder_ieee = None
        if options & 0x10:
            need(LAYER, body, pos, 8, "route reply originator IEEE address")
            originator_ieee = _U64.unpack_from(body, pos)[0]
            pos += 8
        if options & 0x20:
            need(LAYER, body, pos, 8, "route reply responder IEEE address")
            responder_ieee = _U64.unpack_from(body, pos)[0]
        return cls(request_id, originator, responder, cost, bool(options & 0x40), originator_ieee, responder_ieee)


NwkCommand = Leave | RejoinRequest | RejoinResponse | NetworkStatus | RouteRequest | RouteReply

#: Body decoders by command identifier.
_COMMANDS: dict[int, Callable[[bytes, int], NwkCommand]] = {
    cls.command_id: cls.deserialize_body
    for cls in (Leave, RejoinRequest, RejoinResponse, NetworkStatus, RouteRequest, RouteReply)
}


def parse_nwk_command(payload: bytes) -> NwkCommand:
    """Decode a command frame's (unsecured) payload: command id and body."""
    need(LAYER, payload, 0, 1, "command identifier")
    decode = _COMMANDS.get(payload[0])
    if decode is None:
        raise FrameError(LAYER, f"unsupported NWK command 0x{payload[0]:02X}", 0)
    return decode(payload, 1)

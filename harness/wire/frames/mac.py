"""IEEE 802.15.4-2006 MAC frames as Zigbee uses them: beacon, data, ack and command frames.

Layout (802.15.4-2006 7.2.1): frame control (2, LE) | sequence number (1) | destination PAN (0/2) |
destination address (0/2/8) | source PAN (0/2) | source address (0/2/8) | MSDU | FCS (2, LE).
The source PAN is omitted when PAN-id compression is set (both addresses present, same PAN).
The FCS is the ITU-T CRC-16 as 802.15.4 computes it (reflected 0x1021, init 0: CRC-16/KERMIT).

:class:`MacFrame` carries the MSDU as bytes; beacon and command bodies have their own codecs
(:class:`Beacon`, :class:`ZigbeeBeaconPayload`, the ``Mac*`` commands and :func:`parse_mac_command`) so the
data path (the hot one) never pays for them. MAC-layer security is not used by Zigbee and is rejected.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from struct import Struct
from typing import ClassVar, Self

from .errors import FrameError, need
from .types import BROADCAST_ADDR

LAYER = "MAC"


# --- FCS ------------------------------------------------------------------------------------------------

def _reverse_bits(byte: int) -> int:
    return int(f"{byte:08b}"[::-1], 2)


_REVERSE = bytes(_reverse_bits(b) for b in range(256))


def fcs(data: bytes) -> int:
    """802.15.4 FCS (CRC-16/KERMIT; check value of b"123456789" is 0x2189).

    A reflected CRC equals the bit-reversed plain CRC of the bit-reversed bytes, so this runs on
    binascii.crc_hqx (C) instead of a Python loop: the FCS is on every frame of the hot path.
    """
    crc = binascii.crc_hqx(data.translate(_REVERSE), 0)
    return (_REVERSE[crc & 0xFF] << 8) | _REVERSE[crc >> 8]


# --- frame ----------------------------------------------------------------------------------------------

class MacFrameType(IntEnum):
    BEACON = 0
    DATA = 1
    ACK = 2
    COMMAND = 3


class AddrMode(IntEnum):
    NONE = 0
    SHORT = 2
    EXTENDED = 3


# Lookups instead of Enum(value) calls: decoding runs once per frame on the hot path.
_FRAME_TYPES = tuple(MacFrameType)
# Addressing mode 1 is reserved and refused before this lookup.
_ADDR_MODES = {0: AddrMode.NONE, 2: AddrMode.SHORT, 3: AddrMode.EXTENDED}
_DATA, _SHORT = MacFrameType.DATA, AddrMode.SHORT


_FC_SEQ = Struct("<HB")
_U16 = Struct("<H")
_U64 = Struct("<Q")
_SHORT_DATA = Struct("<HBHHH")  # fc, seq, dst PAN, dst short, src short: the Zigbee data frame header
# Frame control of that header: type data, no security, PAN-id compression, short/short, version 0 (the
# frame-pending and ack-request bits may vary).
_SHORT_DATA_MASK, _SHORT_DATA_FC = 0xFFCF, 0x8841


@dataclass(slots=True)
class MacFrame:
    """One MAC frame. Addresses are ints; the address modes say whether they are short or extended.

    ``payload`` is the MSDU: the NWK frame of a data frame, the command id and body of a command frame,
    the superframe spec through beacon payload of a beacon. ``pan_id_compression`` None means "set it when
    both addresses are present and the PANs are equal" (what Zigbee devices send).
    """

    frame_type: MacFrameType
    seq: int
    dst_mode: AddrMode = AddrMode.NONE
    dst_pan: int | None = None
    dst_addr: int | None = None
    src_mode: AddrMode = AddrMode.NONE
    src_pan: int | None = None
    src_addr: int | None = None
    payload: bytes = b""
    ack_request: bool = False
    frame_pending: bool = False
    pan_id_compression: bool | None = None
    frame_version: int = 0

    # -- convenience constructors for what Zigbee sends --

    @classmethod
    def data(cls, seq: int, pan: int, dst: int, src: int, payload: bytes, *, ack_request: bool | None = None) -> MacFrame:
        """A data frame between short addresses on one PAN; unicasts request an ack by default."""
        if ack_request is None:
            ack_request = dst != BROADCAST_ADDR
        return cls(MacFrameType.DATA, seq, AddrMode.SHORT, pan, dst, AddrMode.SHORT, pan, src, payload, ack_request)

    @classmethod
    def ack(cls, seq: int, *, frame_pending: bool = False) -> MacFrame:
        return cls(MacFrameType.ACK, seq, frame_pending=frame_pending)

    @property
    def fcs_valid(self) -> bool:  # a decoded frame always passed its FCS check
        return True

    # -- codec --

    def serialize(self) -> bytes:
        """The PSDU: header, MSDU and FCS."""
        dst_mode, src_mode = self.dst_mode, self.src_mode
        compress = self.pan_id_compression
        if compress is None:
            compress = dst_mode != 0 and src_mode != 0 and self.src_pan in (None, self.dst_pan)
        fc = (
            self.frame_type
            | (self.frame_pending << 4)
            | (self.ack_request << 5)
            | (compress << 6)
            | (dst_mode << 10)
            | ((self.frame_version & 0b11) << 12)
            | (src_mode << 14)
        )
        if dst_mode == AddrMode.SHORT and src_mode == AddrMode.SHORT and compress:
            body = _SHORT_DATA.pack(fc, self.seq & 0xFF, self.dst_pan, self.dst_addr, self.src_addr) + self.payload
            return body + _U16.pack(fcs(body))
        parts = [_FC_SEQ.pack(fc, self.seq & 0xFF)]
        if dst_mode != AddrMode.NONE:
            if self.dst_pan is None or self.dst_addr is None:
                raise FrameError(LAYER, "destination address mode set but PAN or address missing")
            parts.append(_U16.pack(self.dst_pan))
            parts.append(_U16.pack(self.dst_addr) if dst_mode == AddrMode.SHORT else _U64.pack(self.dst_addr))
        if src_mode != AddrMode.NONE:
            if self.src_addr is None:
                raise FrameError(LAYER, "source address mode set but address missing")
            if not compress:
                if self.src_pan is None:
                    raise FrameError(LAYER, "source PAN missing and PAN-id compression off")
                parts.append(_U16.pack(self.src_pan))
            parts.append(_U16.pack(self.src_addr) if src_mode == AddrMode.SHORT else _U64.pack(self.src_addr))
        parts.append(self.payload)
        body = b"".join(parts)
        return body + _U16.pack(fcs(body))

    @classmethod
    def deserialize(cls, data: bytes, *, check_fcs: bool = True) -> MacFrame:
        """Decode a PSDU with its FCS; a wrong FCS raises FrameError (a receiver drops such frames)."""
        if type(data) is not bytes:
            data = bytes(data)
        if len(data) < 5:
            raise FrameError(LAYER, f"frame of {len(data)} bytes is shorter than the 5-byte minimum (fc, seq, FCS)", 0)
        body, (received,) = data[:-2], _U16.unpack_from(data, len(data) - 2)
        if check_fcs:
            computed = fcs(body)
            if computed != received:
                raise FrameError(LAYER, f"FCS 0x{received:04X} does not match computed 0x{computed:04X}", len(data) - 2)
        fc, seq = _FC_SEQ.unpack_from(body, 0)
        if fc & _SHORT_DATA_MASK == _SHORT_DATA_FC and len(body) >= _SHORT_DATA.size:
            # The Zigbee data frame (short addresses, PAN-id compression, version 0): one unpack, no branches.
            _fc, seq, pan, dst, src = _SHORT_DATA.unpack_from(body, 0)
            return cls(_DATA, seq, _SHORT, pan, dst, _SHORT, pan, src, body[_SHORT_DATA.size:], bool(fc & 0x20),
                       bool(fc & 0x10), True, 0)
        frame_type = fc & 0b111
        if frame_type > 3:
            raise FrameError(LAYER, f"reserved frame type {frame_type}", 0)
        if fc & 0x08:
            raise FrameError(LAYER, "MAC security is not used by Zigbee and not supported", 0)
        compress = bool(fc & 0x40)
        dst_mode, version, src_mode = (fc >> 10) & 0b11, (fc >> 12) & 0b11, (fc >> 14) & 0b11
        if dst_mode == 1 or src_mode == 1:
            raise FrameError(LAYER, "reserved addressing mode 1", 0)
        offset = 3
        dst_pan = dst_addr = src_pan = src_addr = None
        if dst_mode:
            size = 2 if dst_mode == AddrMode.SHORT else 8
            need(LAYER, body, offset, 2 + size, "destination PAN and address")
            (dst_pan,) = _U16.unpack_from(body, offset)
            dst_addr = int.from_bytes(body[offset + 2 : offset + 2 + size], "little")
            offset += 2 + size
        if src_mode:
            if compress:
                if not dst_mode:
                    raise FrameError(LAYER, "PAN-id compression set without a destination PAN", 0)
                src_pan = dst_pan
            else:
                need(LAYER, body, offset, 2, "source PAN")
                (src_pan,) = _U16.unpack_from(body, offset)
                offset += 2
            size = 2 if src_mode == AddrMode.SHORT else 8
            need(LAYER, body, offset, size, "source address")
            src_addr = int.from_bytes(body[offset : offset + size], "little")
            offset += size
        return cls(
            _FRAME_TYPES[frame_type],
            seq,
            _ADDR_MODES[dst_mode],
            dst_pan,
            dst_addr,
            _ADDR_MODES[src_mode],
            src_pan,
            src_addr,
            body[offset:],
            bool(fc & 0x20),
            bool(fc & 0x10),
            compress,
            version,
        )


#: The PSDU of the MAC ack for each sequence number (frame pending clear): every acked frame needs one.
ACK_PSDUS: tuple[bytes, ...] = tuple(MacFrame.ack(seq).serialize() for seq in range(256))


def ack_psdu(seq: int) -> bytes:
    """The 5-byte ack PSDU for *seq* (fc 0x0002, seq, FCS), the same bytes ``MacFrame.ack(seq).serialize()`` gives."""
    return ACK_PSDUS[seq & 0xFF]


# --- beacon ---------------------------------------------------------------------------------------------

@dataclass(slots=True)
class ZigbeeBeaconPayload:
    """The 15-byte Zigbee beacon payload (Zigbee spec 3.6.7, Table 3.56)."""

    extended_pan_id: int
    stack_profile: int = 2  # Zigbee PRO
    protocol_version: int = 2
    router_capacity: bool = True
    device_depth: int = 0
    end_device_capacity: bool = True
    tx_offset: int = 0xFFFFFF
    update_id: int = 0
    protocol_id: int = 0

    SIZE = 15

    def serialize(self) -> bytes:
        return (
            bytes(
                [
                    self.protocol_id,
                    (self.stack_profile & 0x0F) | ((self.protocol_version & 0x0F) << 4),
                    (self.router_capacity << 2) | ((self.device_depth & 0x0F) << 3) | (self.end_device_capacity << 7),
                ]
            )
            + _U64.pack(self.extended_pan_id)
            + self.tx_offset.to_bytes(3, "little")
            + bytes([self.update_id])
        )

    @classmethod
    def deserialize(cls, data: bytes, offset: int = 0) -> ZigbeeBeaconPayload:
        need("Zigbee beacon", data, offset, cls.SIZE, "beacon payload")
        b0, b1, b2 = data[offset : offset + 3]
        return cls(
            extended_pan_id=_U64.unpack_from(data, offset + 3)[0],
            stack_profile=b1 & 0x0F,
            protocol_version=b1 >> 4,
            router_capacity=bool(b2 & 0x04),
            device_depth=(b2 >> 3) & 0x0F,
            end_device_capacity=bool(b2 & 0x80),
            tx_offset=int.from_bytes(data[offset + 11 : offset + 14], "little"),
            update_id=data[offset + 14],
            protocol_id=b0,
        )


@dataclass(slots=True)
class Beacon:
    """A beacon MSDU (802.15.4-2006 7.2.2.1): superframe spec, GTS, pending addresses, beacon payload.

    Zigbee networks are beaconless (beacon order 15) without GTS; GTS and pending address lists are kept
    as raw bytes because nothing here uses them.
    """

    association_permit: bool
    pan_coordinator: bool = True
    beacon_order: int = 15
    superframe_order: int = 15
    final_cap_slot: int = 15
    battery_life_extension: bool = False
    gts: bytes = b"\x00"
    pending_addresses: bytes = b"\x00"
    payload: bytes = b""

    def serialize(self) -> bytes:
        spec = (
            (self.beacon_order & 0x0F)
            | ((self.superframe_order & 0x0F) << 4)
            | ((self.final_cap_slot & 0x0F) << 8)
            | (self.battery_life_extension << 12)
            | (self.pan_coordinator << 14)
            | (self.association_permit << 15)
        )
        return _U16.pack(spec) + self.gts + self.pending_addresses + self.payload

    @property
    def zigbee(self) -> ZigbeeBeaconPayload:
        """The beacon payload as Zigbee's; FrameError when it is not one."""
        return ZigbeeBeaconPayload.deserialize(self.payload)

    @classmethod
    def deserialize(cls, data: bytes) -> Beacon:
        need(LAYER, data, 0, 4, "superframe, GTS and pending address specs")
        (spec,) = _U16.unpack_from(data, 0)
        offset = 2
        gts_count = data[offset] & 0b111
        gts_len = 1 + (1 + 3 * gts_count if gts_count else 0)
        need(LAYER, data, offset, gts_len, "GTS fields")
        gts = data[offset : offset + gts_len]
        offset += gts_len
        need(LAYER, data, offset, 1, "pending address spec")
        pending = data[offset]
        pending_len = 1 + 2 * (pending & 0b111) + 8 * ((pending >> 4) & 0b111)
        need(LAYER, data, offset, pending_len, "pending address list")
        pending_addresses = data[offset : offset + pending_len]
        offset += pending_len
        return cls(
            association_permit=bool(spec & 0x8000),
            pan_coordinator=bool(spec & 0x4000),
            beacon_order=spec & 0x0F,
            superframe_order=(spec >> 4) & 0x0F,
            final_cap_slot=(spec >> 8) & 0x0F,
            battery_life_extension=bool(spec & 0x1000),
            gts=gts,
            pending_addresses=pending_addresses,
            payload=data[offset:],
        )


# --- MAC commands ---------------------------------------------------------------------------------------

class MacCommandId(IntEnum):
    ASSOCIATION_REQUEST = 0x01
    ASSOCIATION_RESPONSE = 0x02
    DISASSOCIATION_NOTIFICATION = 0x03
    DATA_REQUEST = 0x04
    PAN_ID_CONFLICT_NOTIFICATION = 0x05
    ORPHAN_NOTIFICATION = 0x06
    BEACON_REQUEST = 0x07
    COORDINATOR_REALIGNMENT = 0x08


class AssociationStatus(IntEnum):
    SUCCESS = 0x00
    PAN_AT_CAPACITY = 0x01
    PAN_ACCESS_DENIED = 0x02


@dataclass(slots=True)
class CapabilityInformation:
    """Capability information (802.15.4-2006 7.3.1.2; also the NWK rejoin request's payload)."""

    alternate_pan_coordinator: bool = False
    full_function_device: bool = False  # a router
    mains_powered: bool = False
    rx_on_when_idle: bool = False
    security_capable: bool = False
    allocate_address: bool = True

    def to_byte(self) -> int:
        return (
            self.alternate_pan_coordinator
            | (self.full_function_device << 1)
            | (self.mains_powered << 2)
            | (self.rx_on_when_idle << 3)
            | (self.security_capable << 6)
            | (self.allocate_address << 7)
        )

    @classmethod
    def from_byte(cls, value: int) -> CapabilityInformation:
        return cls(
            bool(value & 0x01), bool(value & 0x02), bool(value & 0x04), bool(value & 0x08), bool(value & 0x40),
            bool(value & 0x80),
        )


@dataclass(slots=True)
class AssociationRequest:
    capability: CapabilityInformation = field(default_factory=CapabilityInformation)
    command_id = MacCommandId.ASSOCIATION_REQUEST

    def serialize(self) -> bytes:
        return bytes([self.command_id, self.capability.to_byte()])

    @classmethod
    def deserialize_body(cls, body: bytes, offset: int) -> AssociationRequest:
        need(LAYER, body, offset, 1, "capability information")
        return cls(CapabilityInformation.from_byte(body[offset]))


@dataclass(slots=True)
class AssociationResponse:
    short_address: int
    status: AssociationStatus = AssociationStatus.SUCCESS
    command_id = MacCommandId.ASSOCIATION_RESPONSE

    def serialize(self) -> bytes:
        return bytes([self.command_id]) + _U16.pack(self.short_address) + bytes([self.status])

    @classmethod
    def deserialize_body(cls, body: bytes, offset: int) -> AssociationResponse:
        need(LAYER, body, offset, 3, "association response")
        status = body[offset + 2]
        try:
            status = AssociationStatus(status)
        except ValueError:
            raise FrameError(LAYER, f"reserved association status 0x{status:02X}", offset + 2) from None
        return cls(_U16.unpack_from(body, offset)[0], status)


@dataclass(slots=True)
class DisassociationNotification:
    reason: int
    command_id = MacCommandId.DISASSOCIATION_NOTIFICATION

    def serialize(self) -> bytes:
        return bytes([self.command_id, self.reason])

    @classmethod
    def deserialize_body(cls, body: bytes, offset: int) -> DisassociationNotification:
        need(LAYER, body, offset, 1, "disassociation reason")
        return cls(body[offset])


@dataclass(slots=True)
class _EmptyCommand:
    command_id: ClassVar[MacCommandId]

    def serialize(self) -> bytes:
        return bytes([self.command_id])

    @classmethod
    def deserialize_body(cls, body: bytes, offset: int) -> Self:
        return cls()


@dataclass(slots=True)
class DataRequest(_EmptyCommand):
    command_id = MacCommandId.DATA_REQUEST


@dataclass(slots=True)
class BeaconRequest(_EmptyCommand):
    command_id = MacCommandId.BEACON_REQUEST


@dataclass(slots=True)
class OrphanNotification(_EmptyCommand):
    command_id = MacCommandId.ORPHAN_NOTIFICATION


@dataclass(slots=True)
class PanIdConflictNotification(_EmptyCommand):
    command_id = MacCommandId.PAN_ID_CONFLICT_NOTIFICATION


MacCommand = (
    AssociationRequest
    | AssociationResponse
    | DisassociationNotification
    | DataRequest
    | BeaconRequest
    | OrphanNotification
    | PanIdConflictNotification
)

#: Body decoders by command identifier.
_COMMANDS: dict[int, Callable[[bytes, int], MacCommand]] = {
    cls.command_id: cls.deserialize_body
    for cls in (
        AssociationRequest,
        AssociationResponse,
        DisassociationNotification,
        DataRequest,
        BeaconRequest,
        OrphanNotification,
        PanIdConflictNotification,
    )
}


def parse_mac_command(payload: bytes) -> MacCommand:
    """Decode a command frame's MSDU (command id and body)."""
    need(LAYER, payload, 0, 1, "command identifier")
    decode = _COMMANDS.get(payload[0])
    if decode is None:
        raise FrameError(LAYER, f"unsupported MAC command 0x{payload[0]:02X}", 0)
    return decode(payload, 1)


def beacon_request_frame(seq: int) -> MacFrame:
    """Beacon request: broadcast to PAN 0xFFFF, no source address (802.15.4-2006 7.3.7)."""
    return MacFrame(
        MacFrameType.COMMAND, seq, AddrMode.SHORT, BROADCAST_ADDR, BROADCAST_ADDR, payload=BeaconRequest().serialize()
    )

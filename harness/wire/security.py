"""Zigbee NWK and APS frame security (Zigbee spec 4.5.1, 4.3.1, 4.4.1) on CCM*.

Auxiliary security header, right after the NWK or APS header:
security control (1) | frame counter (4, LE) | source IEEE (8, iff extended nonce) | key sequence (1, iff
key id = network). Security control: bits 0-2 level, 3-4 key identifier (data, network, key-transport,
key-load), bit 5 extended nonce.

Over the air the level field is 0 (Zigbee 4.3.1.1 / 4.4.1.1: the sender overwrites it with 0b000 once the
frame is secured); the receiver overwrites it with nwkSecurityLevel (4.3.1.2 / 4.4.1.2), 5 (ENC-MIC-32) in
every Zigbee PRO and Smart Energy network, and uses that level both in the nonce and in the authenticated
data, which is the frame header through the auxiliary header with the level written back in. So the level a
receiver decodes with is the network's, never the frame's own subfield: a frame secured at another level
(4, ENC without MIC) then fails its MIC, which is how a receiver finds it (harness/verify/capture.py says
at which level such a frame was secured). The encrypted part is the frame payload (for APS commands: command
id and body); the MIC follows it.

Keys: NWK frames use the network key. APS frames are keyed by the link key the caller holds; the key id
says which key derives from it: data = the link key itself, key-transport = HMAC-MMO(link key, 0x00)
(Transport Key of a network or TC link key), key-load = HMAC-MMO(link key, 0x02); network = the network
key. Derived keys and AESCCM objects are cached per key: both are on the hot path.

Failures: a MIC that does not verify raises harness.crypto.AuthenticationError; malformed bytes raise
FrameError.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from functools import lru_cache
from struct import Struct
from typing import NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESCCM

from harness.crypto import AuthenticationError, SecurityLevel, key_load_key, key_transport_key
from harness.crypto import ccm as _ccm
from harness.wire.frames.aps import ApsFrame
from harness.wire.frames.errors import FrameError, need
from harness.wire.frames.nwk import NwkFrame

DEFAULT_LEVEL = SecurityLevel.ENC_MIC_32  # nwkSecurityLevel of every Zigbee PRO network


class KeyId(IntEnum):
    DATA = 0  # a link key
    NETWORK = 1
    KEY_TRANSPORT = 2
    KEY_LOAD = 3


_KEY_IDS = tuple(KeyId)
_LEVELS = tuple(SecurityLevel)
_COUNTER = Struct("<I")
_COUNTER_IEEE = Struct("<IQ")
_IEEE = Struct("<Q")
_NONCE = Struct("<QIB")  # CCM* nonce: source IEEE, frame counter, security control (Zigbee 4.5.2.2)


class AuxHeader(NamedTuple):
    """The auxiliary security header. ``level`` is the real level (nonce, MIC): the network's
    nwkSecurityLevel on receipt; ``on_air_level`` is the level subfield as it was on the air (0 from a
    conformant sender; the receiver does not use it).

    A NamedTuple (immutable, compares by value): two are decoded or built per secured frame."""

    key_id: KeyId
    frame_counter: int
    source_ieee: int | None = None  # present iff the extended nonce bit is set
    key_seq: int | None = None  # present iff key_id is NETWORK
    level: SecurityLevel = DEFAULT_LEVEL
    on_air_level: int = 0

    @property
    def extended_nonce(self) -> bool:
        return self.source_ieee is not None

    def control(self, level: int) -> int:
        return level | (self.key_id << 3) | ((self.source_ieee is not None) << 5)

    def _fields_after_control(self) -> bytes:
        """Frame counter, source address and key sequence number: the header after its control byte."""
        if self.source_ieee is not None:
            out = _COUNTER_IEEE.pack(self.frame_counter, self.source_ieee)
        else:
            out = _COUNTER.pack(self.frame_counter)
        if self.key_id == KeyId.NETWORK:
            if self.key_seq is None:
                raise FrameError("security", "network key id needs a key sequence number")
            out += bytes((self.key_seq,))
        return out

    def serialize(self, level: int = 0) -> bytes:
        """On-air bytes (level 0); pass ``self.level`` to get the form used in the MIC's a-data."""
        return bytes((self.control(level),)) + self._fields_after_control()

    @classmethod
    def deserialize(cls, data: bytes, offset: int = 0, level: SecurityLevel = DEFAULT_LEVEL) -> tuple[AuxHeader, int]:
        """The header at *offset* and the offset after it. Its level is *level* (the network's nwkSecurityLevel)
        whatever the level subfield says: Zigbee 4.3.1.2 step 1 overwrites the subfield with nwkSecurityLevel,
        so a frame cannot choose a weaker level (4, no MIC) for itself. The subfield is kept as on_air_level."""
        if len(data) < offset + 5:
            need("security", data, offset, 5, "auxiliary security header")
        control = data[offset]
        if control & 0xC0:
            raise FrameError("security", f"reserved bits set in security control 0x{control:02X}", offset)
        on_air_level = control & 0b111
        key_id = _KEY_IDS[(control >> 3) & 0b11]
        (counter,) = _COUNTER.unpack_from(data, offset + 1)
        pos = offset + 5
        source = key_seq = None
        if control & 0x20:
            need("security", data, pos, 8, "auxiliary header source address")
            (source,) = _IEEE.unpack_from(data, pos)
            pos += 8
        if key_id == KeyId.NETWORK:
            need("security", data, pos, 1, "auxiliary header key sequence number")
            key_seq = data[pos]
            pos += 1
        return cls(key_id, counter, source, key_seq, _LEVELS[level], on_air_level), pos


class Unsecured(NamedTuple):
    """A decrypted frame (its ``payload`` now plaintext, ``security`` still True) and its aux header."""

    frame: NwkFrame | ApsFrame
    aux: AuxHeader


# --- CCM* with cached cipher objects --------------------------------------------------------------------

@lru_cache(maxsize=256)
def _aesccm(key: bytes, mic_length: int) -> AESCCM:
    return AESCCM(key, tag_length=mic_length)


@lru_cache(maxsize=256)
def _derived(link_key: bytes, key_id: KeyId) -> bytes:
    if key_id == KeyId.KEY_TRANSPORT:
        return key_transport_key(link_key)
    if key_id == KeyId.KEY_LOAD:
        return key_load_key(link_key)
    return link_key


def derived_key(link_key: bytes, key_id: KeyId) -> bytes:
    """The key that secures an APS frame with *key_id* under *link_key* (Zigbee 4.5.3: key-transport and
    key-load keys are hashed from the link key; data and network keys are used as they are)."""
    return _derived(_check_key(link_key), key_id)


def _check_key(key: bytes) -> bytes:
    if type(key) is bytes and len(key) == 16:
        return key
    if not isinstance(key, bytes | bytearray) or len(key) != 16:
        raise FrameError("security", "a Zigbee key is 16 bytes")
    return bytes(key)


def _encrypt(key: bytes, nonce: bytes, adata: bytes, payload: bytes, level: SecurityLevel) -> bytes:
    if level.encrypts and level.mic_length:
        return _aesccm(key, level.mic_length).encrypt(nonce, payload, adata)
    return _ccm.encrypt(key, nonce, adata, payload, level)


def _decrypt(key: bytes, nonce: bytes, adata: bytes, secured: bytes, level: SecurityLevel) -> bytes:
    if level.encrypts and level.mic_length:
        if len(secured) < level.mic_length:
            raise AuthenticationError(f"secured payload of {len(secured)} bytes is shorter than its MIC")
        try:
            return _aesccm(key, level.mic_length).decrypt(nonce, secured, adata)
        except InvalidTag:
            raise AuthenticationError(
                f"CCM* MIC ({level.mic_length} bytes) did not verify: wrong key, nonce or tampered frame"
            ) from None
    return _ccm.decrypt(key, nonce, adata, secured, level)


def secure(header: bytes, aux: AuxHeader, payload: bytes, key: bytes, source_ieee: int) -> bytes:
    """header | aux (level 0) | encrypted payload | MIC. *source_ieee* is the nonce's address (the sender)."""
    level = aux.level
    control = aux.control(level)
    nonce = _NONCE.pack(source_ieee, aux.frame_counter, control)
    fields = aux._fields_after_control()
    adata = header + bytes((control,)) + fields
    # On the air the level subfield is 0 (Zigbee 4.3.1.1); aux.on_air_level is non-zero only for a seeded fault.
    on_air = (control & 0xF8) | (aux.on_air_level & 0b111)
    return header + bytes((on_air,)) + fields + _encrypt(key, nonce, adata, payload, level)


def unsecure(
    data: bytes, header_length: int, key: bytes | Callable[[AuxHeader], bytes], source_ieee: int | None = None,
    level: SecurityLevel = DEFAULT_LEVEL,
) -> tuple[AuxHeader, bytes]:
    """Split and decrypt what :func:`secure` produced; *key* may be chosen from the aux header by a callable.

    The nonce address is the aux header's source when present, else *source_ieee* (which the receiver
    looks up from the sender's short address).
    """
    aux, pos = AuxHeader.deserialize(data, header_length, level)
    source = aux.source_ieee if aux.source_ieee is not None else source_ieee
    if source is None:
        raise FrameError("security", "no extended nonce in the aux header and no source IEEE address given")
    if callable(key):
        key = key(aux)
    key = _check_key(key)
    real = aux.level
    control = aux.control(real)
    nonce = _NONCE.pack(source, aux.frame_counter, control)
    data = bytes(data)
    # The a-data is the header through the aux header with the real level written into the control byte.
    adata = data[:header_length] + bytes((control,)) + data[header_length + 1 : pos]
    return aux, _decrypt(key, nonce, adata, data[pos:], real)


# --- NWK ------------------------------------------------------------------------------------------------

def secure_nwk(
    frame: NwkFrame, network_key: bytes, frame_counter: int, source_ieee: int, key_seq: int,
    level: SecurityLevel = DEFAULT_LEVEL, *, on_air_level: int = 0,
) -> bytes:
    """The NWK frame with security on: aux header (network key id, extended nonce) and encrypted payload.
    *level* and *on_air_level* (the subfield sent) differ from 5 and 0 only for a seeded fault."""
    header = frame.serialize_header(security=True)
    aux = AuxHeader(KeyId.NETWORK, frame_counter & 0xFFFFFFFF, source_ieee, key_seq, level, on_air_level)
    return secure(header, aux, frame.payload, network_key, source_ieee)


def unsecure_nwk(
    data: bytes, network_key: bytes | Callable[[AuxHeader], bytes], level: SecurityLevel = DEFAULT_LEVEL,
    header: tuple[NwkFrame, int] | None = None,
) -> Unsecured:
    """Decode and decrypt a secured NWK frame. Replay checks are the caller's (compare ``aux.frame_counter``).

    *header* is ``NwkFrame.deserialize_header(data)`` when the caller already decoded it (a receiver does, to
    filter on addresses first); its frame gets the plaintext payload."""
    frame, offset = header if header is not None else NwkFrame.deserialize_header(data)
    if not frame.security:
        raise FrameError("NWK", "frame is not secured (security flag clear)", 0)
    aux, payload = unsecure(data, offset, network_key, frame.src_ieee, level)
    if aux.key_id != KeyId.NETWORK:
        raise FrameError("NWK", f"NWK frame secured with key id {aux.key_id.name}, expected NETWORK", offset)
    frame.payload = payload
    return Unsecured(frame, aux)


# --- APS ------------------------------------------------------------------------------------------------

def secure_aps(
    frame: ApsFrame, key: bytes, frame_counter: int, source_ieee: int, key_id: KeyId = KeyId.DATA, *,
    extended_nonce: bool | None = None, key_seq: int | None = None, level: SecurityLevel = DEFAULT_LEVEL,
    on_air_level: int = 0,
) -> bytes:
    """The APS frame with security on. *key* is the link key (or the network key for key id NETWORK).

    The extended nonce (source IEEE in the aux header) defaults to on for key-transport and key-load
    keys, which a joining device needs because it cannot map the sender's short address yet.
    """
    key = _check_key(key)
    if extended_nonce is None:
        extended_nonce = key_id in (KeyId.KEY_TRANSPORT, KeyId.KEY_LOAD)
    header = frame.serialize_header(security=True)
    aux = AuxHeader(key_id, frame_counter & 0xFFFFFFFF, source_ieee if extended_nonce else None, key_seq, level,
                    on_air_level)
    return secure(header, aux, frame.payload, _derived(key, key_id), source_ieee)


def unsecure_aps(
    data: bytes, key: bytes | Callable[[AuxHeader], bytes], source_ieee: int | None = None,
    level: SecurityLevel = DEFAULT_LEVEL, header: tuple[ApsFrame, int] | None = None,
) -> Unsecured:
    """Decode and decrypt a secured APS frame; *key* as for :func:`secure_aps` (derivation by key id).

    *header* is ``ApsFrame.deserialize_header(data)`` when the caller already decoded it; its frame gets the
    plaintext payload once a key verifies (a failed attempt leaves it untouched, so it can be tried again)."""
    frame, offset = header if header is not None else ApsFrame.deserialize_header(data)
    if not frame.security:
        raise FrameError("APS", "frame is not secured (security flag clear)", 0)

    def pick(aux: AuxHeader) -> bytes:
        chosen = _check_key(key(aux) if callable(key) else key)
        return _derived(chosen, aux.key_id)

    aux, payload = unsecure(data, offset, pick, source_ieee, level)
    frame.payload = payload
    return Unsecured(frame, aux)

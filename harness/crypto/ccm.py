"""CCM* as Zigbee uses it for NWK and APS frame security (Zigbee spec 4.5.1, Annex A).

The 13-byte nonce is the source IEEE address (little-endian, as sent) || frame counter (little-endian) ||
security control, with the real security level written into the control byte: over the air the level
field is 0 and the receiver restores it before it computes the nonce and the MIC.

Levels with a MIC run on cryptography's AESCCM (tag 4, 8 or 16 bytes). The MIC-only levels authenticate
header and payload and leave the payload in the clear; ENC (level 4) is CCM* without a MIC, i.e. AES-CTR
with CCM's counter blocks starting at 1.
"""

from __future__ import annotations

from enum import IntEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM

from .errors import AuthenticationError, CryptoError


class SecurityLevel(IntEnum):
    NONE = 0
    MIC_32 = 1
    MIC_64 = 2
    MIC_128 = 3
    ENC = 4
    ENC_MIC_32 = 5
    ENC_MIC_64 = 6
    ENC_MIC_128 = 7

    @property
    def mic_length(self) -> int:
        return (0, 4, 8, 16)[self & 0b11]

    @property
    def encrypts(self) -> bool:
        return bool(self & 0b100)


SECURITY_LEVEL_MASK = 0b111


def ieee_bytes(ieee: int | bytes) -> bytes:
    """An IEEE address as its 8 over-the-air bytes (little-endian); ints are the 64-bit value."""
    if isinstance(ieee, int):
        return ieee.to_bytes(8, "little")
    raw = bytes(ieee)
    if len(raw) != 8:
        raise CryptoError(f"an IEEE address is 8 bytes, got {len(raw)}")
    return raw


def nonce(source_ieee: int | bytes, frame_counter: int, security_control: int) -> bytes:
    """The CCM* nonce. *security_control* must already carry the real security level."""
    return ieee_bytes(source_ieee) + (frame_counter & 0xFFFFFFFF).to_bytes(4, "little") + bytes(
        [security_control & 0xFF]
    )


def _check(key: bytes, nonce_: bytes) -> None:
    if len(key) != 16:
        raise CryptoError(f"a CCM* key is 16 bytes, got {len(key)}")
    if len(nonce_) != 13:
        raise CryptoError(f"a CCM* nonce is 13 bytes, got {len(nonce_)}")


def _ctr(key: bytes, nonce_: bytes, data: bytes) -> bytes:
    # CCM counter block A_i = flags (L-1 = 1) || nonce || i (2 bytes); payload encryption starts at i = 1.
    counter = bytes([0x01]) + nonce_ + (1).to_bytes(2, "big")
    encryptor = Cipher(algorithms.AES(key), modes.CTR(counter)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def encrypt(key: bytes, nonce_: bytes, header: bytes, payload: bytes, level: SecurityLevel | int) -> bytes:
    """Secure *payload*: returns what follows the auxiliary header (payload or ciphertext, then the MIC).

    *header* is the authenticated-only part: the frame header through the auxiliary security header.
    """
    level = SecurityLevel(level)
    _check(key, nonce_)
    if level == SecurityLevel.NONE:
        return bytes(payload)
    if level == SecurityLevel.ENC:
        return _ctr(key, nonce_, bytes(payload))
    ccm = AESCCM(key, tag_length=level.mic_length)
    if level.encrypts:
        return ccm.encrypt(nonce_, bytes(payload), bytes(header))
    return bytes(payload) + ccm.encrypt(nonce_, b"", bytes(header) + bytes(payload))


def decrypt(key: bytes, nonce_: bytes, header: bytes, secured: bytes, level: SecurityLevel | int) -> bytes:
    """Undo :func:`encrypt`; raises AuthenticationError when the MIC does not verify."""
    level = SecurityLevel(level)
    _check(key, nonce_)
    secured = bytes(secured)
    if level == SecurityLevel.NONE:
        return secured
    if level == SecurityLevel.ENC:
        return _ctr(key, nonce_, secured)
    mic = level.mic_length
    if len(secured) < mic:
        raise AuthenticationError(f"secured payload of {len(secured)} bytes is shorter than its {mic}-byte MIC")
    ccm = AESCCM(key, tag_length=mic)
    try:
        if level.encrypts:
            return ccm.decrypt(nonce_, secured, bytes(header))
        payload = secured[:-mic]
        ccm.decrypt(nonce_, secured[-mic:], bytes(header) + payload)
        return payload
    except InvalidTag:
        raise AuthenticationError(f"CCM* MIC ({mic} bytes) did not verify: wrong key, nonce or tampered frame") from None

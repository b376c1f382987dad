"""CCM* for Zigbee NWK/APS security: RFC 3610 vector, an independent from-scratch CCM*, nonce layout, tamper."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from harness.crypto.ccm import SecurityLevel, decrypt, encrypt, nonce
from harness.crypto.errors import AuthenticationError, CryptoError

KEY = bytes.fromhex("C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF")
SOURCE_IEEE = 0x0011223344556677
HEADER = bytes.fromhex("4802FCFF00001E0028") + bytes(5)  # NWK header + aux header shape (content is arbitrary)
PAYLOAD = bytes(range(0x20, 0x37))


def reference_ccm_star(key: bytes, nonce_: bytes, a: bytes, m: bytes, mic_length: int) -> bytes:
    """CCM* written out from Zigbee spec Annex A / RFC 3610 on raw AES: CBC-MAC, then CTR. Returns c || U."""
    aes = Cipher(algorithms.AES(key), modes.ECB()).encryptor()

    def e(block: bytes) -> bytes:
        return aes.update(block)

    def xor(x: bytes, y: bytes) -> bytes:
        return bytes(i ^ j for i, j in zip(x, y, strict=True))

    def blocks(data: bytes) -> list[bytes]:
        data += bytes(-len(data) % 16)
        return [data[i : i + 16] for i in range(0, len(data), 16)]

    tag = b""
    if mic_length:
        flags = (0x40 if a else 0) | ((mic_length - 2) // 2) << 3 | 1
        x = e(bytes([flags]) + nonce_ + len(m).to_bytes(2, "big"))
        auth = (len(a).to_bytes(2, "big") + a) if a else b""
        for block in blocks(auth) + (blocks(m) if m else []):
            x = e(xor(x, block))
        tag = x[:mic_length]
    counter = [e(bytes([1]) + nonce_ + i.to_bytes(2, "big")) for i in range(len(m) // 16 + 2)]
    stream = b"".join(counter[1:])
    c = xor(m, stream[: len(m)])
    return c + (xor(tag, counter[0][:mic_length]) if mic_length else b"")


def test_rfc3610_packet_vector_1_at_enc_mic_64() -> None:
    n = bytes.fromhex("00000003020100A0A1A2A3A4A5")
    header = bytes.fromhex("0001020304050607")
    payload = bytes.fromhex("08090A0B0C0D0E0F101112131415161718191A1B1C1D1E")
    secured = encrypt(KEY, n, header, payload, SecurityLevel.ENC_MIC_64)
    assert secured.hex().upper() == "588C979A61C663D2F066D0C2C0F989806D5F6B61DAC38417E8D12CFDF926E0"
    assert decrypt(KEY, n, header, secured, SecurityLevel.ENC_MIC_64) == payload


def test_nonce_layout() -> None:
    n = nonce(SOURCE_IEEE, 0x01020304, 0x2D)
    assert n == bytes.fromhex("7766554433221100") + bytes.fromhex("04030201") + b"\x2d"
    assert nonce(bytes.fromhex("7766554433221100"), 0x01020304, 0x2D) == n
    with pytest.raises(CryptoError, match="8 bytes, got 7"):
        nonce(bytes(7), 0, 0)


@pytest.mark.parametrize("level", [lvl for lvl in SecurityLevel if lvl != SecurityLevel.NONE], ids=lambda lv: lv.name)
def test_levels_match_independent_ccm_star_and_round_trip(level: SecurityLevel) -> None:
    n = nonce(SOURCE_IEEE, 0x00000142, 0x28 | level)
    secured = encrypt(KEY, n, HEADER, PAYLOAD, level)
    mic = level.mic_length
    if level.encrypts:
        expected = reference_ccm_star(KEY, n, HEADER, PAYLOAD, mic)
    else:  # MIC-only levels authenticate header || payload and send the payload in the clear
        expected = PAYLOAD + reference_ccm_star(KEY, n, HEADER + PAYLOAD, b"", mic)
    assert secured == expected
    assert len(secured) == len(PAYLOAD) + mic
    assert decrypt(KEY, n, HEADER, secured, level) == PAYLOAD


@pytest.mark.parametrize("level", [SecurityLevel.MIC_32, SecurityLevel.ENC_MIC_32, SecurityLevel.ENC_MIC_128])
def test_tampering_is_rejected(level: SecurityLevel) -> None:
    n = nonce(SOURCE_IEEE, 7, 0x28 | level)
    secured = encrypt(KEY, n, HEADER, PAYLOAD, level)
    flipped_payload = bytes([secured[0] ^ 1]) + secured[1:]
    flipped_mic = secured[:-1] + bytes([secured[-1] ^ 0x80])
    flipped_header = bytes([HEADER[0] ^ 1]) + HEADER[1:]
    other_counter = nonce(SOURCE_IEEE, 8, 0x28 | level)
    for key, nonce_, header, data in (
        (KEY, n, HEADER, flipped_payload),
        (KEY, n, HEADER, flipped_mic),
        (KEY, n, flipped_header, secured),
        (KEY, other_counter, HEADER, secured),
        (bytes(16), n, HEADER, secured),
    ):
        with pytest.raises(AuthenticationError, match="did not verify"):
            decrypt(key, nonce_, header, data, level)
    with pytest.raises(AuthenticationError, match="shorter than its"):
        decrypt(KEY, n, HEADER, secured[: level.mic_length - 1], level)


def test_bad_key_and_nonce_lengths() -> None:
    with pytest.raises(CryptoError, match="key is 16 bytes, got 15"):
        encrypt(bytes(15), bytes(13), b"", b"", SecurityLevel.ENC_MIC_32)
    with pytest.raises(CryptoError, match="nonce is 13 bytes, got 12"):
        decrypt(KEY, bytes(12), b"", bytes(4), SecurityLevel.ENC_MIC_32)

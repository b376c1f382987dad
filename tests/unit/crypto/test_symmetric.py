"""AES-MMO, HMAC-MMO (with its inner digest), CRC-16/X-25, install codes and key derivations."""

from __future__ import annotations

import pytest

from harness.crypto.crc import crc16_x25
from harness.crypto.errors import InstallCodeError
from harness.crypto.install_code import InstallCode
from harness.crypto.keys import key_load_key, key_transport_key
from harness.crypto.mmo import _pad, aes_mmo, hmac_mmo

from .vectors import (
    AES_MMO,
    CRC16_X25_CHECK,
    HMAC_MMO_INNER_DIGEST,
    HMAC_MMO_KEY,
    HMAC_MMO_MAC,
    HMAC_MMO_MESSAGE,
    INSTALL_CODE,
    INSTALL_CODE_CRC_LE,
    INSTALL_CODE_LINK_KEY,
)


@pytest.mark.parametrize(("message", "digest"), AES_MMO)
def test_aes_mmo_vectors(message: str, digest: str) -> None:
    assert aes_mmo(bytes.fromhex(message)).hex().upper() == digest


def test_aes_mmo_long_padding_form() -> None:
    # 2^13 bytes and more use the 32-bit length followed by 16 zero bits, padded to 10 mod 16 first
    short = _pad(bytes(8191))
    long = _pad(bytes(8192))
    assert len(short) % 16 == 0 and short[-2:] == (8191 * 8).to_bytes(2, "big")
    assert len(long) % 16 == 0 and long[-6:] == (8192 * 8).to_bytes(4, "big") + b"\x00\x00"
    assert long[8192] == 0x80 and not any(long[8193:-6])
    assert aes_mmo(bytes(8192)) != aes_mmo(bytes(8191))


def test_hmac_mmo_vector_and_inner_digest() -> None:
    key = bytes.fromhex(HMAC_MMO_KEY)
    message = bytes.fromhex(HMAC_MMO_MESSAGE)
    inner = aes_mmo(bytes(k ^ 0x36 for k in key) + message)
    assert inner.hex().upper() == HMAC_MMO_INNER_DIGEST
    assert aes_mmo(bytes(k ^ 0x5C for k in key) + inner).hex().upper() == HMAC_MMO_MAC
    assert hmac_mmo(key, message).hex().upper() == HMAC_MMO_MAC


def test_crc16_x25_check_value() -> None:
    data, check = CRC16_X25_CHECK
    assert crc16_x25(data) == check


def test_install_code_crc_and_link_key() -> None:
    code = InstallCode.parse(INSTALL_CODE)
    assert code.crc.to_bytes(2, "little").hex().upper() == INSTALL_CODE_CRC_LE
    assert code.link_key.hex().upper() == INSTALL_CODE_LINK_KEY
    with_crc = InstallCode.parse(INSTALL_CODE + INSTALL_CODE_CRC_LE)
    assert with_crc == code
    assert with_crc.with_crc.hex().upper() == INSTALL_CODE + INSTALL_CODE_CRC_LE
    assert INSTALL_CODE not in repr(code) and "redacted" in repr(code)


@pytest.mark.parametrize("length", [6, 8, 12, 16])
def test_install_code_lengths_round_trip(length: int) -> None:
    code = InstallCode(bytes(range(1, length + 1)))
    assert InstallCode.parse(code.with_crc, has_crc=True) == code
    assert InstallCode.parse(code.code, has_crc=False) == code
    assert len(code.link_key) == 16


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("83FED3407A93", None),  # 6 bytes, valid: control case
        ("83FED3407A9397", "is 7 bytes"),
        ("83FED3407A939723A5C639B26916D505C3", "is 17 bytes"),
        ("83FED3407A939723A5C639B26916D505C3B6", "CRC mismatch: the code ends in C3B6 but its CRC-16/X-25 is C3B5"),
        ("83FED3407A939723A5C639B26916D5G5", "not hexadecimal"),
        ("", "is 0 bytes"),
    ],
)
def test_install_code_errors(value: str, message: str | None) -> None:
    if message is None:
        assert len(InstallCode.parse(value).code) == 6
        return
    with pytest.raises(InstallCodeError, match=message):
        InstallCode.parse(value)


def test_install_code_declared_crc_on_wrong_length() -> None:
    with pytest.raises(InstallCodeError, match="with CRC is 12 bytes"):
        InstallCode.parse(bytes(12), has_crc=True)


def test_key_transport_and_key_load_keys_are_hmac_mmo_of_their_tag() -> None:
    link_key = bytes.fromhex(INSTALL_CODE_LINK_KEY)
    assert key_transport_key(link_key) == hmac_mmo(link_key, b"\x00")
    assert key_load_key(link_key) == hmac_mmo(link_key, b"\x02")
    assert key_transport_key(link_key) != key_load_key(link_key)

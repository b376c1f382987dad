"""NWK and APS frame security against real frames (kristian/zbtk test data) and by construction."""

from __future__ import annotations

import pytest

from harness.crypto import AuthenticationError, InstallCode, SecurityLevel, key_transport_key
from harness.crypto import ccm as reference_ccm
from harness.wire.frames import (
    ApsFrame,
    ApsFrameType,
    FrameError,
    KeyType,
    Leave,
    MacFrame,
    NwkFrame,
    NwkFrameType,
    RejoinRequest,
    RejoinResponse,
    TransportKey,
    parse_aps_command,
    parse_nwk_command,
)
from harness.wire.security import (
    AuxHeader,
    KeyId,
    secure_aps,
    secure_nwk,
    unsecure,
    unsecure_aps,
    unsecure_nwk,
)

from .vectors import INSTALL_CODE, INSTALL_CODE_LINK_KEY, NETWORK_KEY, with_fcs

TC = 0x00124B0000000001
DEVICE = 0x00124B0000000002
NWK_KEY = bytes.fromhex("01030507090B0D0F00020406080A0C0D")
LINK_KEY = InstallCode.parse("83FED3407A939723A5C639B26916D505C3B5").link_key


def _nwk_payload(name: str) -> bytes:
    return MacFrame.deserialize(with_fcs(name)).payload


def test_vector_install_code_gives_the_published_link_key():
    assert InstallCode.parse(INSTALL_CODE).link_key == INSTALL_CODE_LINK_KEY


def test_real_transport_key_decrypts_with_the_install_code_key():
    nwk = NwkFrame.deserialize(_nwk_payload("transport_key"))
    assert not nwk.security  # the joining device has no network key yet
    frame, aux = unsecure_aps(nwk.payload, INSTALL_CODE_LINK_KEY)
    assert aux.key_id == KeyId.KEY_TRANSPORT and aux.extended_nonce
    assert aux.frame_counter == 110718 and aux.source_ieee == 0x3C2EF5FFFE48596C
    command = parse_aps_command(frame.payload)
    assert isinstance(command, TransportKey) and command.key_type == KeyType.STANDARD_NETWORK_KEY
    assert command.key == NETWORK_KEY and command.key_seq == 0
    assert command.dst_ieee == 0x28DBA7FFFE23B07D and command.src_ieee == 0x3C2EF5FFFE48596C
    # Re-securing the decrypted frame with the same inputs reproduces the captured bytes exactly.
    plain = ApsFrame.command(frame.counter, command)
    assert secure_aps(plain, INSTALL_CODE_LINK_KEY, aux.frame_counter, aux.source_ieee, KeyId.KEY_TRANSPORT) == (
        nwk.payload
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("leave", Leave(rejoin=True)),
        ("rejoin_request", RejoinRequest()),
        ("rejoin_response", RejoinResponse(0x2027)),
    ],
)
def test_real_nwk_commands_decrypt_and_re_encrypt_byte_exact(name, expected):
    raw = _nwk_payload(name)
    frame, aux = unsecure_nwk(raw, NETWORK_KEY)
    assert aux.key_id == KeyId.NETWORK and aux.key_seq == 0 and aux.level == SecurityLevel.ENC_MIC_32
    assert raw[len(frame.serialize_header())] & 0b111 == 0  # level 0 on air
    assert parse_nwk_command(frame.payload) == expected
    assert secure_nwk(frame, NETWORK_KEY, aux.frame_counter, aux.source_ieee, aux.key_seq) == raw


def test_real_source_routed_aps_ack_decrypts():
    frame, aux = unsecure_nwk(_nwk_payload("aps_ack"), NETWORK_KEY)
    assert aux.source_ieee == 0x3C2EF5FFFE48596C and aux.frame_counter == 7928600
    ack = ApsFrame.deserialize(frame.payload)
    assert ack.frame_type == ApsFrameType.ACK and ack.counter == 0xD0


def test_wrong_network_key_fails_authentication():
    with pytest.raises(AuthenticationError):
        unsecure_nwk(_nwk_payload("leave"), bytes(16))


def test_tampered_header_fails_authentication():
    raw = bytearray(_nwk_payload("leave"))
    raw[6] ^= 0x01  # radius is authenticated, not encrypted
    with pytest.raises(AuthenticationError):
        unsecure_nwk(bytes(raw), NETWORK_KEY)


def test_secure_nwk_matches_the_reference_ccm():
    frame = NwkFrame(NwkFrameType.DATA, 0x0000, 0x1234, 9, b"payload bytes")
    raw = secure_nwk(frame, NWK_KEY, 0x01020304, DEVICE, 3)
    header = frame.serialize_header(security=True)
    aux = raw[len(header) : len(header) + 14]
    assert aux == bytes([0x28]) + (0x01020304).to_bytes(4, "little") + DEVICE.to_bytes(8, "little") + b"\x03"
    # harness.crypto.ccm, with level 5 restored in the a-data and the nonce, computes the same ciphertext.
    adata = header + bytes([0x2D]) + aux[1:]
    nonce = reference_ccm.nonce(DEVICE, 0x01020304, 0x2D)
    assert raw[len(header) + 14 :] == reference_ccm.encrypt(NWK_KEY, nonce, adata, frame.payload, 5)


def test_aps_data_round_trip_needs_the_source_ieee_without_extended_nonce():
    frame = ApsFrame.data(4, 0x0109, 0x0702, 1, 1, b"\x00\x01\x00\x00\x00")
    raw = secure_aps(frame, LINK_KEY, 77, DEVICE)
    assert raw[8] == 0x00  # security control: level 0, data key, no extended nonce
    with pytest.raises(FrameError, match="no source IEEE"):
        unsecure_aps(raw, LINK_KEY)
    decoded, aux = unsecure_aps(raw, LINK_KEY, DEVICE)
    assert decoded.payload == frame.payload and decoded.cluster == 0x0702 and aux.frame_counter == 77
    with pytest.raises(AuthenticationError):
        unsecure_aps(raw, LINK_KEY, TC)  # wrong nonce address


def test_transport_key_uses_the_key_transport_key():
    command = TransportKey(KeyType.STANDARD_NETWORK_KEY, NWK_KEY, 0, DEVICE, TC)
    raw = secure_aps(ApsFrame.command(1, command), LINK_KEY, 0, TC, KeyId.KEY_TRANSPORT)
    assert raw[2] == 0x30  # key-transport key id, extended nonce
    assert unsecure_aps(raw, LINK_KEY).frame.payload == command.serialize()
    # The frame is keyed by HMAC-MMO(link key, 0x00) itself, not by the link key.
    aux, payload = unsecure(raw, 2, key_transport_key(LINK_KEY))
    assert payload == command.serialize() and aux.source_ieee == TC
    with pytest.raises(AuthenticationError):
        unsecure(raw, 2, LINK_KEY)


def test_default_tc_key_cannot_open_an_install_code_transport_key():
    command = TransportKey(KeyType.STANDARD_NETWORK_KEY, NWK_KEY, 0, DEVICE, TC)
    raw = secure_aps(ApsFrame.command(1, command), LINK_KEY, 0, TC, KeyId.KEY_TRANSPORT)
    with pytest.raises(AuthenticationError):
        unsecure_aps(raw, b"ZigBeeAlliance09")


def test_key_callable_and_aux_header_codec():
    aux = AuxHeader(KeyId.NETWORK, 5, DEVICE, 7)
    encoded = aux.serialize()
    assert encoded[0] == 0x28 and aux.serialize(5)[0] == 0x2D
    assert AuxHeader.deserialize(encoded) == (aux, 14)
    raw = secure_nwk(NwkFrame(NwkFrameType.DATA, 0, 1, 2, b"x"), NWK_KEY, 5, DEVICE, 7)
    chosen = []
    frame, _ = unsecure_nwk(raw, lambda a: chosen.append(a.key_seq) or NWK_KEY)
    assert chosen == [7] and frame.payload == b"x"


def test_malformed_secured_frames():
    raw = secure_nwk(NwkFrame(NwkFrameType.DATA, 0, 1, 2, b"abc"), NWK_KEY, 5, DEVICE, 0)
    for cut in range(8, 8 + 14):
        with pytest.raises(FrameError):
            unsecure_nwk(raw[:cut], NWK_KEY)
    with pytest.raises(AuthenticationError):
        unsecure_nwk(raw[: 8 + 14 + 2], NWK_KEY)  # shorter than the MIC
    with pytest.raises(FrameError, match="not secured"):
        unsecure_nwk(NwkFrame(NwkFrameType.DATA, 0, 1, 2, b"abc").serialize(), NWK_KEY)
    with pytest.raises(FrameError, match="16 bytes"):
        unsecure_nwk(raw, b"short")

"""CBKE: Annex C.5 (suite 1) and C.6 (suite 2) reproduced from each side, and MAC verification."""

from __future__ import annotations

import pytest

from harness.crypto.cbke import CbkeParty, Role, avf, kdf, verify_mac
from harness.crypto.curves import SECT163K1, SECT283K1, Point, curve_for_suite
from harness.crypto.errors import AuthenticationError, InvalidKeyError, InvalidPointError

from .vectors import SUITES


def party_from_vectors(suite: int, role: Role) -> CbkeParty:
    vectors = SUITES[suite]
    own = vectors[role.value]
    curve = curve_for_suite(suite)
    party = CbkeParty(
        suite,
        bytes.fromhex(vectors["ca_public_key"]),
        bytes.fromhex(own["certificate"]),
        bytes.fromhex(own["static_private"]),
    )
    ephemeral = curve.decode_private_key(bytes.fromhex(own["ephemeral_private"]), reduce=True)
    assert party.ephemeral(ephemeral).hex().upper() == own["ephemeral_public"]
    return party


@pytest.mark.parametrize("suite", [1, 2])
@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_annex_c_from_both_sides(suite: int, role: Role) -> None:
    vectors = SUITES[suite]
    party = party_from_vectors(suite, role)
    party.verify_key_pair()
    peer = vectors[role.peer.value]
    keys = party.derive(bytes.fromhex(peer["certificate"]), bytes.fromhex(peer["ephemeral_public"]), role)
    assert keys.z.hex().upper() == vectors["shared_secret_z"]
    assert keys.mac_key.hex().upper() == vectors["mac_key"]
    assert keys.key_data.hex().upper() == vectors["key_data"]
    assert keys.mac_u.hex().upper() == vectors["mac_u"]
    assert keys.mac_v.hex().upper() == vectors["mac_v"]
    # the MAC the peer sends verifies; a flipped bit does not
    received = bytes.fromhex(vectors["mac_v" if role is Role.INITIATOR else "mac_u"])
    keys.verify_mac(received, role.peer)
    with pytest.raises(AuthenticationError, match="does not match"):
        keys.verify_mac(bytes([received[0] ^ 1]) + received[1:], role.peer)
    assert vectors["mac_key"] not in repr(keys).upper()


def test_kdf_of_annex_c_suite1_z() -> None:
    mac_key, key_data = kdf(bytes.fromhex(SUITES[1]["shared_secret_z"]))
    assert mac_key.hex().upper() == SUITES[1]["mac_key"]
    assert key_data.hex().upper() == SUITES[1]["key_data"]


def test_avf_widths() -> None:
    p = Point((1 << 162) | 0xFFFF, 0)
    assert avf(SECT163K1, p) == (1 << 82) | 0xFFFF
    p = Point((1 << 200) | (1 << 141) | 5, 0)
    assert avf(SECT283K1, p) == (1 << 141) | 5


def test_derive_rejects_bad_peer_material() -> None:
    party = party_from_vectors(1, Role.INITIATOR)
    peer = SUITES[1]["responder"]
    cert = bytes.fromhex(peer["certificate"])
    with pytest.raises(InvalidPointError, match="peer ephemeral public key: prefix 00"):
        party.derive(cert, bytes(22), Role.INITIATOR)
    with pytest.raises(InvalidPointError, match="peer ephemeral public key: a compressed sect163k1 point is 22"):
        party.derive(cert, bytes.fromhex(peer["ephemeral_public"])[:-1], Role.INITIATOR)
    # a tampered certificate reconstructs another key, so both MACs change
    tampered = cert[:22] + bytes([cert[22] ^ 0x80]) + cert[23:]
    keys = party.derive(tampered, bytes.fromhex(peer["ephemeral_public"]), Role.INITIATOR)
    with pytest.raises(AuthenticationError):
        keys.verify_mac(bytes.fromhex(SUITES[1]["mac_v"]), Role.RESPONDER)


def test_verify_mac_length_and_ordering() -> None:
    with pytest.raises(AuthenticationError, match="MACV is 15 bytes, expected 16"):
        verify_mac(bytes(16), bytes(15), "MACV")
    party = party_from_vectors(1, Role.RESPONDER)
    with pytest.raises(RuntimeError, match="ephemeral"):
        CbkeParty(1, bytes.fromhex(SUITES[1]["ca_public_key"]), bytes.fromhex(SUITES[1]["responder"]["certificate"]),
                  1).derive(b"", b"", Role.RESPONDER)
    assert "CbkeParty(suite=1" in repr(party)


def test_bad_keys_rejected() -> None:
    vectors = SUITES[1]
    with pytest.raises(InvalidKeyError, match="static private key"):
        CbkeParty(1, bytes.fromhex(vectors["ca_public_key"]), bytes.fromhex(vectors["responder"]["certificate"]), 0)
    party = party_from_vectors(1, Role.RESPONDER)
    with pytest.raises(InvalidKeyError, match="ephemeral private key"):
        party.ephemeral(SECT163K1.n)

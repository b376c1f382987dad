"""Implicit certificates: Annex C parsing, digests and public-key reconstruction; test CA; bad input."""

from __future__ import annotations

import random

import pytest
import zigpy.types as t

from harness.crypto.curves import curve_for_suite
from harness.crypto.ecqv import (
    Suite1Certificate,
    Suite2Certificate,
    TestCA,
    ieee_msb_first,
    parse_certificate,
)
from harness.crypto.errors import InvalidCertificateError, InvalidKeyError, InvalidPointError
from harness.crypto.mmo import aes_mmo

from .vectors import SUITE1, SUITE2, SUITES


@pytest.mark.parametrize("role", ["initiator", "responder"])
def test_suite1_digest_and_reconstruction(role: str) -> None:
    party = SUITE1[role]
    cert = parse_certificate(bytes.fromhex(party["certificate"]))
    assert isinstance(cert, Suite1Certificate)
    assert cert.digest() == int(party["cert_digest_e"], 16)
    q = cert.public_key(bytes.fromhex(SUITE1["ca_public_key"]))
    assert cert.curve.encode_point(q).hex().upper() == party["static_public"]


@pytest.mark.parametrize("role", ["initiator", "responder"])
def test_suite2_reconstruction(role: str) -> None:
    party = SUITE2[role]
    cert = parse_certificate(bytes.fromhex(party["certificate"]))
    assert isinstance(cert, Suite2Certificate)
    assert cert.digest() == int.from_bytes(aes_mmo(bytes.fromhex(party["certificate"])), "big")
    q = cert.public_key(bytes.fromhex(SUITE2["ca_public_key"]))
    assert cert.curve.encode_point(q).hex().upper() == party["static_public"]


def test_suite1_fields() -> None:
    cert = parse_certificate(bytes.fromhex(SUITE1["responder"]["certificate"]), suite=1)
    assert cert.public_reconstruction.hex().upper() == "03045FDFC8D85FFB8B3993CB72DDCAA55F00B3E87D6D"
    assert cert.subject == bytes.fromhex("0000000000000001")
    assert cert.subject_ieee == t.EUI64.convert("00:00:00:00:00:00:00:01")
    assert cert.issuer == b"TESTSECA"
    assert cert.profile_data == bytes.fromhex("01090006000000000000")


def test_suite2_fields() -> None:
    cert = parse_certificate(bytes.fromhex(SUITE2["initiator"]["certificate"]))
    assert cert.type == 0 and cert.curve_id == 0x0D and cert.hash_id == 0x08
    assert cert.serial == bytes.fromhex("84A933B37F018DEC")  # the 8 bytes after the type byte
    assert cert.issuer == bytes.fromhex("1112131415161718")
    assert cert.valid_from == 0x005292A38A
    assert cert.valid_to == 0xFFFFFFFF and cert.expires is None
    assert cert.subject == bytes.fromhex("0A0B0C0D0E0F1012")
    assert str(cert.subject_ieee) == "0a:0b:0c:0d:0e:0f:10:12"
    assert cert.key_usage == 0x88
    assert cert.public_reconstruction[0] in (2, 3) and len(cert.public_reconstruction) == 37
    fields = cert.to_dict()
    assert fields["subject"] == "0A0B0C0D0E0F1012" and fields["valid_from"] == 0x005292A38A


def test_malformed_certificates_are_named() -> None:
    suite2 = bytearray(bytes.fromhex(SUITE2["initiator"]["certificate"]))
    with pytest.raises(InvalidCertificateError, match="expected 48 .* or 74"):
        parse_certificate(bytes(47))
    with pytest.raises(InvalidCertificateError, match="suite 1 certificate is 48 bytes, got 74"):
        parse_certificate(bytes(suite2), suite=1)
    for offset, value, message in ((0, 1, "type"), (9, 0x0C, "curve"), (10, 0x07, "hash")):
        bad = bytearray(suite2)
        bad[offset] = value
        with pytest.raises(InvalidCertificateError, match=message):
            parse_certificate(bytes(bad))
    # a reconstruction point that does not decompress
    suite1 = bytearray(bytes.fromhex(SUITE1["initiator"]["certificate"]))
    suite1[0] = 0x07
    with pytest.raises(InvalidPointError, match="certificate public reconstruction data: bad prefix 0x07"):
        parse_certificate(bytes(suite1)).public_key(bytes.fromhex(SUITE1["ca_public_key"]))
    with pytest.raises(InvalidPointError, match="CA public key"):
        parse_certificate(bytes.fromhex(SUITE1["initiator"]["certificate"])).public_key(b"\x02" + bytes(21))


@pytest.mark.parametrize("suite", [1, 2])
def test_test_ca_issues_consistent_key_pairs(suite: int) -> None:
    ca = TestCA.generate(random.Random(suite))
    subject = t.EUI64.convert("00:0d:6f:00:0a:90:69:e8")
    issued = ca.issue(subject, suite, rng=random.Random(99))
    cert = issued.parsed()
    assert len(issued.certificate) == (48 if suite == 1 else 74)
    assert cert.subject == bytes.fromhex("000D6F000A9069E8")
    assert cert.subject_ieee == subject
    curve = curve_for_suite(suite)
    assert curve.base_multiply(issued.private_key) == cert.public_key(ca.public_key_bytes(suite))
    assert "private_key" not in repr(issued) and "redacted" in repr(ca)
    # reproducible with a seeded rng (the simulated bench relies on it)
    assert ca.issue(subject, suite, rng=random.Random(99)) == issued


def test_issue_rejects_bad_fields() -> None:
    ca = TestCA(12345)
    with pytest.raises(InvalidCertificateError, match="subject is 8 bytes, got 7"):
        ca.issue(bytes(7))
    with pytest.raises(InvalidCertificateError, match="profile attribute data is 10 bytes"):
        ca.issue(1, profile_data=b"\x00")
    with pytest.raises(InvalidCertificateError, match="serial number is 8 bytes"):
        ca.issue(1, 2, serial=b"\x00")
    with pytest.raises(InvalidKeyError):
        TestCA(0)
    with pytest.raises(InvalidKeyError, match="suite 1"):
        TestCA(curve_for_suite(1).n).public_key(1)


def test_ieee_msb_first_forms() -> None:
    assert ieee_msb_first(0x000D6F000A9069E8) == bytes.fromhex("000D6F000A9069E8")
    assert ieee_msb_first(t.EUI64.convert("00:0d:6f:00:0a:90:69:e8")) == bytes.fromhex("000D6F000A9069E8")
    with pytest.raises(InvalidCertificateError, match="64 bits"):
        ieee_msb_first(1 << 64)


def test_vectors_cover_both_suites() -> None:
    assert set(SUITES) == {1, 2}

"""Checks on what a Key Establishment partner sends, each mapped to the Terminate status it earns.

Status choices (SE spec 10.7.4 / Table 10-53 statuses; mapping checked against the Silicon Labs
key-establishment plugin, app/framework/plugin/key-establishment/key-establishment.c):
- certificate of the wrong length or type/curve/hash for the suite, no key-agreement usage (suite 2), or a
  public reconstruction point that is not a valid point: INVALID_CERTIFICATE;
- issuer not one we trust: UNKNOWN_ISSUER (plugin: checkIssuer -> BAD_CERTIFICATE_ISSUER -> UNKNOWN_ISSUER);
- subject differs from the sender's IEEE address (or the sender's IEEE is unknown): BAD_MESSAGE. The plugin's
  checkKeyTable compares the certificate subject with the Trust Center link key's partner EUI64 (device
  side) or its key table (Trust Center side) and on a mismatch stops with INVALID_PARTNER_MESSAGE, which its
  appNotifyMessageToKeyEstablishStatus table sends as BAD_MESSAGE; the spec has no dedicated status;
- ephemeral public key of the wrong length or not a valid point: BAD_MESSAGE.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.crypto import CryptoError, curve_for_suite, parse_certificate
from harness.crypto.ecqv import Suite2Certificate
from harness.se.types import KeyEstablishmentStatus as Status

from .frames import CERTIFICATE_LENGTHS, EPHEMERAL_LENGTHS

# Key usage bit "key agreement" in a suite 2 certificate (SE 1.2 C.4.2.1; the plugin's KEY_USAGE_BYTE check).
KEY_USAGE_KEY_AGREEMENT = 0x08


@dataclass(frozen=True)
class Problem:
    """Why a partner's message is refused, and the Terminate status that says so."""

    status: int
    reason: str


def certificate_problem(
    certificate: bytes,
    suite: int,
    known_issuers: frozenset[bytes],
    sender_ieee: int | None,
    *,
    check_issuer: bool = True,
    check_subject: bool = True,
) -> Problem | None:
    """The first thing wrong with a partner's certificate, in the order the plugin checks, or None."""
    expected = CERTIFICATE_LENGTHS[suite]
    if len(certificate) != expected:
        return Problem(Status.Invalid_Certificate, f"certificate is {len(certificate)} bytes, suite {suite} needs {expected}")
    try:
        parsed = parse_certificate(certificate, suite)
    except CryptoError as exc:
        return Problem(Status.Invalid_Certificate, str(exc))
    if isinstance(parsed, Suite2Certificate) and not parsed.key_usage & KEY_USAGE_KEY_AGREEMENT:
        return Problem(Status.Invalid_Certificate, f"key usage 0x{parsed.key_usage:02X} lacks key agreement (0x08)")
    if check_issuer and parsed.issuer not in known_issuers:
        return Problem(Status.Unknown_Issuer, f"issuer {parsed.issuer.hex().upper()} is not a trusted CA")
    if check_subject:
        if sender_ieee is None:
            return Problem(Status.Bad_Message, "the sender's IEEE address is unknown, so the subject cannot match")
        if parsed.subject != sender_ieee.to_bytes(8, "big"):
            return Problem(
                Status.Bad_Message,
                f"subject {parsed.subject.hex().upper()} is not the sender's IEEE {sender_ieee:016X}",
            )
    try:
        parsed.reconstruction_point()
    except CryptoError as exc:
        return Problem(Status.Invalid_Certificate, str(exc))
    return None


def ephemeral_problem(public_key: bytes, suite: int) -> Problem | None:
    """What is wrong with a received ephemeral public key (length for the suite, point validity), or None."""
    expected = EPHEMERAL_LENGTHS[suite]
    if len(public_key) != expected:
        return Problem(Status.Bad_Message, f"ephemeral key is {len(public_key)} bytes, suite {suite} needs {expected}")
    try:
        curve_for_suite(suite).decode_point(public_key, "ephemeral public key")
    except CryptoError as exc:
        return Problem(Status.Bad_Message, str(exc))
    return None

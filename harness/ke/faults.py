"""Deliberate misbehaviour of the Key Establishment state machine, off by default.

GoldenKeFaults are the golden unit's test hooks: what the golden ESI/Trust Center does wrong on purpose so
a step can check that the DUT reacts as the SE spec demands. DeviceKeFaults are the ways real devices get
CBKE wrong; reference devices expose them as seeded faults (a Fault seeding ``KeSetting(field=...)``,
harness/devices/faults.py) so the suite can show it catches each one.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from random import Random

from harness.crypto import CryptoError, TestCA, curve_for_suite
from harness.crypto.ecqv import TEST_ISSUER
from harness.se.types import KeyEstablishmentStatus

from .engine import SoftwareKeEngine
from .frames import CERTIFICATE_LENGTHS, EPHEMERAL_LENGTHS

#: An issuer no bench CA uses ("FOREIGN!"), for mangled certificates.
FOREIGN_ISSUER = b"FOREIGN!"
#: A subject that is nobody on the bench, for mangled certificates.
FOREIGN_SUBJECT = bytes.fromhex("00DEADBEEF000001")
# Offsets (MSB-first fields) inside the certificates, SE spec C.4 / harness.crypto.ecqv.
_ISSUER_OFFSET = {1: 30, 2: 11}
_SUBJECT_OFFSET = {1: 22, 2: 28}
_RECONSTRUCTION_OFFSET = {1: 0, 2: 37}


class CertificateMangle(enum.Enum):
    ISSUER = "issuer"  # issuer replaced by FOREIGN_ISSUER -> UNKNOWN_ISSUER expected
    SUBJECT = "subject"  # subject replaced by FOREIGN_SUBJECT -> the subject check must fire
    LENGTH = "length"  # one byte short of the suite's length -> INVALID_CERTIFICATE or BAD_MESSAGE
    CORRUPT_BYTE = "corrupt-byte"  # one byte of the public reconstruction point flipped


def mangle_certificate(certificate: bytes, suite: int, how: CertificateMangle, corrupt_index: int = 0) -> bytes:
    """The certificate as the golden sends it under fault *how*."""
    raw = bytearray(certificate)
    if how is CertificateMangle.ISSUER:
        start = _ISSUER_OFFSET[suite]
        raw[start : start + 8] = FOREIGN_ISSUER
    elif how is CertificateMangle.SUBJECT:
        start = _SUBJECT_OFFSET[suite]
        raw[start : start + 8] = FOREIGN_SUBJECT
    elif how is CertificateMangle.LENGTH:
        del raw[CERTIFICATE_LENGTHS[suite] - 1 :]
    elif how is CertificateMangle.CORRUPT_BYTE:
        # Index 0 of the reconstruction data is the compressed-point prefix (02/03): flipping it makes an
        # encoding no valid point has, so the fault is deterministic; other indexes give another key.
        raw[_RECONSTRUCTION_OFFSET[suite] + corrupt_index] ^= 0xFF
    return bytes(raw)


class EphemeralMangle(enum.Enum):
    SHORT = "short"  # one byte short of the suite's compressed point -> a malformed Ephemeral Data (BAD_MESSAGE)
    OFF_CURVE = "off-curve"  # a well-formed compressed point whose x has no y on the curve (BAD_MESSAGE)


def mangle_ephemeral(public_key: bytes, suite: int, how: EphemeralMangle) -> bytes:
    """The ephemeral public key as the golden sends it under fault *how*."""
    if how is EphemeralMangle.SHORT:
        return bytes(public_key)[: EPHEMERAL_LENGTHS[suite] - 1]
    # About half of all x values have no point (the trace condition of y^2 + xy = x^3 + ax^2 + b): step x up
    # from the real key's until one fails full validation, so the frame is well formed but names no point.
    curve = curve_for_suite(suite)
    raw = bytearray(public_key)
    for _ in range(256):
        raw[-1] = (raw[-1] + 1) & 0xFF
        try:
            curve.decode_point(bytes(raw), "ephemeral public key")
        except CryptoError:
            return bytes(raw)
    raise RuntimeError("no off-curve x found next to the ephemeral key")  # practically impossible (2^-256)


@dataclass(frozen=True)
class GoldenKeFaults:
    """Test hooks of the golden side. Command ids are harness.ke.frames.KeCommand values."""

    certificate: CertificateMangle | None = None
    corrupt_index: int = 0  # byte of the reconstruction point flipped by CORRUPT_BYTE
    wrong_mac: bool = False  # send a wrong MACV (as responder) or MACU (as initiator)
    out_of_sequence: bool = False  # responder: Ephemeral Data instead of Initiate response; initiator:
    # Confirm Key instead of Ephemeral Data
    ephemeral_first: bool = False  # initiator: Ephemeral Data as the first frame, no Initiate request before it
    ephemeral: EphemeralMangle | None = None  # the ephemeral public key we send, mangled
    delay_command: int | None = None  # delay our answer to this received command ...
    delay_seconds: float = 0.0  # ... by this long (past the time we advertised, to provoke a timeout)
    no_resources_wait: int | None = None  # answer Initiate with NO_RESOURCES and this wait time ...
    no_resources_count: int = 1  # ... this many times, then accept
    offer_suite: int | None = None  # suite bitmap value put in our Initiate request/response
    terminate_on: int | None = None  # on receiving this command from the partner, terminate ...
    terminate_status: int = KeyEstablishmentStatus.Bad_Message  # ... with this status ...
    terminate_wait: int = 0  # ... and this wait time
    withhold_aps_acks: bool = False  # the golden stack sends no APS acks while an exchange runs
    silent_from: int | None = None  # ignore partner commands with this id or later (0: entirely silent)

    def silent_for(self, command: int) -> bool:
        return self.silent_from is not None and command >= self.silent_from


@dataclass(frozen=True)
class DeviceKeFaults:
    """Non-conformances a reference device can be seeded with."""

    accept_unknown_issuer: bool = False
    ignore_bad_macv: bool = False  # keeps and uses the key although the responder's MACV is wrong
    skip_subject_check: bool = False
    accept_out_of_sequence: bool = False  # unexpected frames are silently ignored instead of terminated
    retry_before_wait_time: bool = False  # after NO_RESOURCES, retries after half the wait time
    never_retry_after_timeout: bool = False
    aps_encrypt_ke_frames: bool = False
    advertise_wrong_suite: bool = False  # the KeyEstablishmentSuite attribute names the other suite
    wrong_mac: bool = False  # sends a wrong MACU (as initiator) or MACV (as responder)
    foreign_subject: bool = False  # presents a certificate issued for another IEEE (see build_device_engine)
    accept_any_suite: bool = False  # carries on when the partner names a suite we did not ask for / support
    silent_on_bad_certificate: bool = False  # drops a bad or malformed certificate without sending Terminate
    # As responder (the partner initiated):
    ignore_bad_macu: bool = False  # keeps and uses the link key although the initiator's MACU does not verify
    reuse_ephemeral_key: bool = False  # one ephemeral key pair for every exchange (drawn once, then kept)
    slow_confirm_key: bool = False  # answers Confirm Key later than the Confirm Key Generate Time it advertised
    fresh_response_tsn: bool = False  # its responses take a new ZCL sequence number, not the request's
    suite_big_endian: bool = False  # writes the suite of its Initiate response most significant byte first
    skip_ephemeral_check: bool = False  # answers Ephemeral Data before validating the partner's point
    silent_on_malformed: bool = False  # drops a malformed Ephemeral Data or Confirm Key without Terminate
    accept_second_partner: bool = False  # drops the running exchange for a second initiator (no NO_RESOURCES)


NO_GOLDEN_FAULTS = GoldenKeFaults()
NO_DEVICE_FAULTS = DeviceKeFaults()


def flip_mac(mac: bytes) -> bytes:
    """A MAC with its last bit flipped: wrong, and recognisably derived from the right one."""
    return mac[:-1] + bytes([mac[-1] ^ 0x01])


def device_engine(
    ca: TestCA, ieee: int, suites: Iterable[int] = (1,), faults: DeviceKeFaults = NO_DEVICE_FAULTS,
    rng: Random | None = None,
    issuer: bytes = TEST_ISSUER,
) -> SoftwareKeEngine:
    """A reference device's engine: certificates from the bench's test CA for its IEEE, or for a foreign
    subject when the device is seeded with ``foreign_subject``."""
    subject = int.from_bytes(FOREIGN_SUBJECT, "big") if faults.foreign_subject else ieee
    return SoftwareKeEngine.issue(ca, subject, suites, rng=rng, issuer=issuer)

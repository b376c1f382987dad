"""The Smart Energy security library.

- mmo: AES-MMO and HMAC-MMO; crc: CRC-16/X-25; install_code: install codes and their link keys;
  keys: key-transport/key-load derivation and the well-known TC link key; ccm: CCM* for NWK/APS security.
- gf2m, curves, ecqv, cbke, ecdsa: GF(2^m), sect163k1/sect283k1, implicit certificates and a test CA,
  CBKE and ECDSA. `python -m harness.crypto` is a lab tool over all of it.

Every rejection raises a subclass of :class:`CryptoError` whose message names the problem.
"""

from .cbke import CbkeKeys, CbkeParty, Role
from .ccm import SecurityLevel
from .crc import crc16_x25
from .curves import SECT163K1, SECT283K1, KoblitzCurve, Point, curve_for_suite
from .ecdsa import sign, verify
from .ecqv import (
    ImplicitCertificate,
    IssuedCertificate,
    Suite1Certificate,
    Suite2Certificate,
    TestCA,
    parse_certificate,
)
from .errors import (
    AuthenticationError,
    CryptoError,
    InstallCodeError,
    InvalidCertificateError,
    InvalidKeyError,
    InvalidPointError,
)
from .install_code import InstallCode
from .keys import WELL_KNOWN_TC_LINK_KEY, key_load_key, key_transport_key
from .mmo import aes_mmo, hmac_mmo

__all__ = [
    "AuthenticationError",
    "CbkeKeys",
    "CbkeParty",
    "CryptoError",
    "ImplicitCertificate",
    "InstallCode",
    "InstallCodeError",
    "InvalidCertificateError",
    "InvalidKeyError",
    "InvalidPointError",
    "IssuedCertificate",
    "KoblitzCurve",
    "Point",
    "Role",
    "SECT163K1",
    "SECT283K1",
    "SecurityLevel",
    "Suite1Certificate",
    "Suite2Certificate",
    "TestCA",
    "WELL_KNOWN_TC_LINK_KEY",
    "aes_mmo",
    "crc16_x25",
    "curve_for_suite",
    "hmac_mmo",
    "key_load_key",
    "key_transport_key",
    "parse_certificate",
    "sign",
    "verify",
]

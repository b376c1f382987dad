"""Typed failures of the Smart Energy security library.

Every check that rejects received material raises a subclass of CryptoError whose message names the
problem, so a step can turn it into a finding ("DUT certificate: subject ... differs from sender ...").
"""

from __future__ import annotations


class CryptoError(ValueError):
    """Base class: received or configured security material was rejected."""


class InstallCodeError(CryptoError):
    """An install code has a bad length, bad hex or a CRC that does not match."""


class AuthenticationError(CryptoError):
    """A MIC, MAC or signature did not verify."""


class InvalidPointError(CryptoError):
    """A curve point failed validation (not on the curve, bad encoding, infinity, wrong order)."""


class InvalidCertificateError(CryptoError):
    """An implicit certificate has the wrong length, type or fields for its suite."""


class InvalidKeyError(CryptoError):
    """A private key is out of range for its curve."""

"""The emulated NCP's CBKE library: EmberZNet's one-exchange temporary store on harness.crypto.cbke.

Per suite the NCP holds its preinstalled data (CA public key, implicit certificate, static private key). An
exchange is: :meth:`generate` (new ephemeral key pair, replacing any earlier temporary data), :meth:`calculate`
(ECMQV with the partner's certificate and ephemeral key: both SMACs, the link key kept in temporary storage
with the partner's IEEE from its certificate) and :meth:`clear` (hand the key over for the key table, or drop
it). Errors are :class:`CbkeLibraryError` with the EmberStatus the NCP would report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import bellows.types as t

from harness.crypto import CbkeParty, Role, parse_certificate
from harness.crypto.errors import CryptoError


@dataclass(frozen=True)
class CbkeData:
    """The NCP's preinstalled CBKE material for one suite: CA public key, its certificate, its private key."""

    ca_public: bytes
    certificate: bytes
    private_key: bytes = field(repr=False)
    suite: int = 1


class CbkeLibraryError(RuntimeError):
    """A CBKE call the library refuses; ``status`` is the EmberStatus the NCP answers with."""

    def __init__(self, status: t.EmberStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass
class _Temporary:
    suite: int
    party: CbkeParty
    key: bytes | None = field(default=None, repr=False)
    partner_ieee: int | None = None


class CbkeLibrary:
    """One NCP's CBKE library; ``data`` maps suite -> :class:`CbkeData` (suites absent are stubs)."""

    def __init__(self, data: dict[int, CbkeData]) -> None:
        self.data = dict(data)
        self._temporary: _Temporary | None = None

    def __repr__(self) -> str:
        return f"CbkeLibrary(suites={sorted(self.data)}, private keys redacted)"

    def has(self, suite: int) -> bool:
        return suite in self.data

    def install(self, data: CbkeData) -> None:
        self.data[data.suite] = data

    def certificate(self, suite: int) -> bytes:
        return self._data(suite).certificate

    def _data(self, suite: int) -> CbkeData:
        if suite not in self.data:
            raise CbkeLibraryError(t.EmberStatus.LIBRARY_NOT_PRESENT, f"no suite {suite} CBKE data on this NCP")
        return self.data[suite]

    def generate(self, suite: int) -> bytes:
        """A new ephemeral key pair; returns the public key (the private half stays in temporary storage)."""
        data = self._data(suite)
        party = CbkeParty(suite, data.ca_public, data.certificate, data.private_key)
        self._temporary = _Temporary(suite, party)
        return party.ephemeral()

    def calculate(self, suite: int, am_initiator: bool, partner_certificate: bytes,
                  partner_ephemeral: bytes) -> tuple[bytes, bytes]:
        """Derive with the generated ephemeral key; returns (initiator SMAC, responder SMAC)."""
        temporary = self._temporary
        if temporary is None or temporary.suite != suite:
            raise CbkeLibraryError(t.EmberStatus.INVALID_CALL, f"calculateSmacs before generateCbkeKeys (suite {suite})")
        try:
            keys = temporary.party.derive(partner_certificate, partner_ephemeral,
                                          Role.INITIATOR if am_initiator else Role.RESPONDER)
        except CryptoError as exc:
            raise CbkeLibraryError(t.EmberStatus.ERR_FATAL, f"key derivation failed: {exc}") from None
        temporary.key = keys.key_data
        temporary.partner_ieee = int.from_bytes(parse_certificate(partner_certificate, suite).subject, "big")
        return keys.mac_u, keys.mac_v

    def clear(self, suite: int, store: bool) -> tuple[int, bytes] | None:
        """End the exchange: (partner IEEE, link key) to store when *store* and a key was derived, else None."""
        temporary, self._temporary = self._temporary, None
        if not store:
            return None
        if temporary is None or temporary.suite != suite or temporary.key is None or temporary.partner_ieee is None:
            raise CbkeLibraryError(t.EmberStatus.INVALID_CALL, "no derived link key to store")
        return temporary.partner_ieee, temporary.key

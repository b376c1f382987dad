"""The key-establishment engine on an EZSP NCP: the private keys never leave the Silicon Labs stick.

The NCP's CBKE library does the cryptography (EZSP, UG100 / ezsp.h):

    generateCbkeKeys[283k1]                  -> OPERATION_IN_PROGRESS, then generateCbkeKeysHandler[283k1]
                                                (status, ephemeral public key); the private half stays inside
    calculateSmacs[283k1](amInitiator, partner certificate, partner ephemeral key)
                                             -> OPERATION_IN_PROGRESS, then calculateSmacsHandler[283k1]
                                                (status, initiator SMAC = MACU, responder SMAC = MACV); the
                                                new link key waits in the NCP's temporary storage
    clearTemporaryDataMaybeStoreLinkKey[283k1](store) -> the key goes to the NCP's key table for the partner
                                                named in its certificate (or is dropped)
    getCertificate[283k1]                    -> the NCP's own implicit certificate

The NCP holds ONE exchange's temporary data at a time, so :class:`EzspKeEngine` runs one session at a time:
starting a new exchange ends the previous one (its key is dropped), as a golden ESI serving one DUT needs.
After storing a key the engine reads it back from the key table (findKeyTableEntry + getKeyTableEntry) so the
bench's keyring can decrypt the capture; an NCP that refuses to reveal keys yields None (nothing decrypts).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import bellows.types as bt
import zigpy.types as zt

from harness.crypto import Role, parse_certificate
from harness.crypto.errors import CryptoError

from .engine import ConfirmationMacs, KeEngine, KeSession

LOGGER = logging.getLogger(__name__)

#: Seconds the NCP may take for a CBKE callback. EmberZNet's key-establishment plugin advertises 10 s (+1 s APS
#: ack) for ephemeral key generation and 15 s (+1 s) for the shared secret (key-establishment.h).
GENERATE_TIMEOUT = 11.0
CALCULATE_TIMEOUT = 16.0
NO_KEY_TABLE_ENTRY = 0xFF

#: Per suite: EZSP command names and the byte sizes of certificate, public key (SE 1.x C.4.2, EmberZNet types).
_COMMANDS = {
    1: {"generate": "generateCbkeKeys", "generated": "generateCbkeKeysHandler", "calculate": "calculateSmacs",
        "calculated": "calculateSmacsHandler", "clear": "clearTemporaryDataMaybeStoreLinkKey",
        "certificate": "getCertificate", "cert_type": bt.EmberCertificateData, "key_type": bt.EmberPublicKeyData},
    2: {"generate": "generateCbkeKeys283k1", "generated": "generateCbkeKeysHandler283k1",
        "calculate": "calculateSmacs283k1", "calculated": "calculateSmacsHandler283k1",
        "clear": "clearTemporaryDataMaybeStoreLinkKey283k1", "certificate": "getCertificate283k1",
        "cert_type": bt.EmberCertificate283k1Data, "key_type": bt.EmberPublicKey283k1Data},
}


class EzspKeError(CryptoError):
    """The NCP's CBKE library refused or did not answer: the exchange ends like a failed derivation."""


def _ok(status: Any) -> bool:
    return bt.sl_Status.from_ember_status(status) == bt.sl_Status.OK


def _in_progress(status: Any) -> bool:
    return status == bt.EmberStatus.OPERATION_IN_PROGRESS or _ok(status)


class _EzspSession(KeSession):
    def __init__(self, engine: EzspKeEngine, suite: int, ephemeral_public: bytes) -> None:
        self._engine = engine
        self.suite = suite
        self.ephemeral_public = ephemeral_public
        self._macs_value: ConfirmationMacs | None = None
        self._role_value: Role | None = None
        self._partner_ieee: int | None = None
        self.open = True

    def __repr__(self) -> str:
        return f"EzspKeSession(suite={self.suite}, derived={self._macs_value is not None}, open={self.open})"

    async def compute(self, role: Role, peer_certificate: bytes, peer_ephemeral: bytes) -> ConfirmationMacs:
        self._engine._check_current(self)
        self._partner_ieee = int.from_bytes(parse_certificate(bytes(peer_certificate), self.suite).subject, "big")
        names = _COMMANDS[self.suite]
        status, smacs = await self._engine._call_with_callback(
            names["calculate"], names["calculated"], CALCULATE_TIMEOUT,
            amInitiator=bt.Bool.true if role is Role.INITIATOR else bt.Bool.false,
            partnerCertificate=names["cert_type"](bytes(peer_certificate)),
            partnerEphemeralPublicKey=names["key_type"](bytes(peer_ephemeral)))
        if not _ok(status):
            raise EzspKeError(f"the NCP's {names['calculate']} failed: {status!r}")
        initiator_smac, responder_smac = smacs
        self._macs_value = ConfirmationMacs(bytes(initiator_smac), bytes(responder_smac))
        self._role_value = role
        return self._macs_value

    def _macs(self) -> ConfirmationMacs:
        if self._macs_value is None:
            raise RuntimeError("compute() must run before the MACs are known")
        return self._macs_value

    def _role(self) -> Role:
        if self._role_value is None:
            raise RuntimeError("compute() must run before the role is known")
        return self._role_value

    async def conclude(self, keep: bool) -> bytes | None:
        if not self.open:
            return None
        self.open = False
        keep = keep and self._macs_value is not None and self._partner_ieee is not None
        await self._engine._clear(self.suite, keep)
        if not keep:
            return None
        return await self._engine.read_link_key(self._partner_ieee)


class EzspKeEngine(KeEngine):
    """CBKE on the NCP behind *ezsp* (bellows' EZSP object) with the certificates it holds per suite.

    Build it with :meth:`ControllerApplication.ke_engine` (harness.radio.ezsp), which checks the libraries and
    reads the certificates first.
    """

    def __init__(self, ezsp: Any, certificates: Mapping[int, bytes]) -> None:
        if not certificates:
            raise ValueError("an EZSP key establishment engine needs the NCP's certificate for suite 1 or 2")
        unknown = set(certificates) - set(_COMMANDS)
        if unknown:
            raise ValueError(f"unknown key establishment suites {sorted(unknown)}: expected 1 or 2")
        self._ezsp = ezsp
        self._certificates = {suite: bytes(cert) for suite, cert in certificates.items()}
        self._waiters: dict[str, asyncio.Future] = {}
        self._current: _EzspSession | None = None
        self._lock = asyncio.Lock()  # one EZSP CBKE operation in flight: the NCP has one temporary store
        self._offered: frozenset[int] | None = None
        self._owner: EzspKeEngine | None = None
        self._callback_id = ezsp.add_callback(self._callback)

    def __repr__(self) -> str:
        return f"EzspKeEngine(suites={sorted(self.suites)}, private keys in the NCP)"

    def close(self) -> None:
        if self._owner is not None:
            return  # a restricted view: the engine it came from owns the callback
        if self._callback_id is not None:
            self._ezsp.remove_callback(self._callback_id)
            self._callback_id = None
        for waiter in self._waiters.values():
            waiter.cancel()

    @property
    def suites(self) -> frozenset[int]:
        return frozenset(self._offered or self._certificates)

    def restricted(self, suites) -> EzspKeEngine:
        """This engine offering only *suites* (same NCP, same temporary store; e.g. "only suite 1")."""
        view = object.__new__(EzspKeEngine)
        view.__dict__.update(self.__dict__)  # shares the waiters, lock and callback registration
        view._offered = frozenset(suites) & frozenset(self._certificates)
        view._owner = self
        return view

    async def certificate(self, suite: int) -> bytes:
        if suite not in self._certificates:
            raise ValueError(f"the NCP has no suite {suite} certificate")
        return self._certificates[suite]

    async def start(self, suite: int) -> KeSession:
        names = _COMMANDS[suite] if suite in self.suites else None
        if names is None:
            raise ValueError(f"the NCP has no suite {suite} certificate")
        if self._current is not None and self._current.open:
            LOGGER.info("a new exchange replaces %r in the NCP's temporary storage", self._current)
            await self._current.conclude(False)
        status, (ephemeral,) = await self._call_with_callback(names["generate"], names["generated"], GENERATE_TIMEOUT)
        if not _ok(status):
            raise EzspKeError(f"the NCP's {names['generate']} failed: {status!r}")
        self._current = _EzspSession(self, suite, bytes(ephemeral))
        return self._current

    async def read_link_key(self, partner_ieee: int) -> bytes | None:
        """The link key the NCP's key table holds for *partner_ieee*, None when absent or not readable."""
        eui64 = zt.EUI64(partner_ieee.to_bytes(8, "little"))
        (index,) = await self._ezsp.findKeyTableEntry(address=eui64, linkKey=bt.Bool.true)
        if index == NO_KEY_TABLE_ENTRY:
            LOGGER.warning("the NCP stored no key for %s after CBKE", eui64)
            return None
        status, entry = await self._ezsp.getKeyTableEntry(index=index)
        if not _ok(status):
            LOGGER.info("the NCP does not reveal key table entry %d (%r): captures stay encrypted", index, status)
            return None
        key = bytes(entry.key)
        return None if key == bytes(16) else key

    # -- EZSP plumbing -----------------------------------------------------------------------------------

    def _check_current(self, session: _EzspSession) -> None:
        if session is not self._current or not session.open:
            raise EzspKeError("this exchange's temporary data was replaced on the NCP by a newer exchange")

    async def _clear(self, suite: int, store: bool) -> None:
        name = _COMMANDS[suite]["clear"]
        async with self._lock:
            (status,) = await getattr(self._ezsp, name)(storeLinkKey=bt.Bool.true if store else bt.Bool.false)
        if not _ok(status):
            raise EzspKeError(f"the NCP's {name}(store={store}) failed: {status!r}")

    async def _call_with_callback(self, command: str, callback: str, timeout: float, **params: Any):
        """Send *command*, expect OPERATION_IN_PROGRESS, await *callback*; returns (status, other fields)."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            waiter = self._waiters[callback] = loop.create_future()
            try:
                (status,) = await getattr(self._ezsp, command)(**params)
                if not _in_progress(status):
                    raise EzspKeError(f"the NCP refused {command}: {status!r}")
                try:
                    async with asyncio.timeout(timeout):
                        fields = await waiter
                except TimeoutError:
                    raise EzspKeError(f"no {callback} from the NCP within {timeout:g} s") from None
            finally:
                self._waiters.pop(callback, None)
        return fields[0], fields[1:]

    def _callback(self, frame_name: str, args: list) -> None:
        waiter = self._waiters.get(frame_name)
        if waiter is not None and not waiter.done():
            waiter.set_result(list(args))

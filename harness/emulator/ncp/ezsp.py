"""EZSP framing and dispatch on the NCP side, with bellows' own command tables (EZSP v8).

After a reset the host speaks the legacy frame format (sequence, frame control, one-byte frame id) for the
``version`` command; the NCP answers with protocol version 8 and from then on both ends use the extended
format (sequence, two frame-control bytes, two-byte frame id). Request parameters are decoded with the
command's request schema from ``bellows.ezsp.v8.commands`` and responses encoded with its response schema,
so the bytes are exactly what bellows expects. A command the stack does not implement is answered with
``invalidCommand`` (EzspStatus ERROR_INVALID_FRAME_ID), as a real NCP does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import bellows.types as t
import zigpy.types as zt
from bellows.ezsp.v8.commands import COMMANDS

LOGGER = logging.getLogger(__name__)

EZSP_VERSION = 8
STACK_TYPE = 2  # mesh stack
STACK_VERSION = 0x6A30  # EmberZNet 6.10.3 speaks EZSP v8

_FC_RESPONSE = 0x80
_FC_ASYNC_CALLBACK = 0x90  # response bit + callback type "asynchronous" (bits 4..3 = 0b10)
_FC_HIGH_EXTENDED = 0x01
_BY_ID = {cmd_id: name for name, (cmd_id, _tx, _rx) in COMMANDS.items()}


class EzspFrameError(ValueError):
    """An EZSP frame from the host that cannot be decoded."""


Handler = Callable[..., dict[str, Any]]


class EzspNcp:
    """Decodes host frames, calls ``stack.cmd_<name>(**params)`` and sends its response.

    *send* puts one EZSP frame on the ASH link. Callbacks go out through :meth:`callback`.
    """

    def __init__(self, send: Callable[[bytes], None], stack: Any) -> None:
        self._send = send
        self.stack = stack
        self.extended = False
        self._last_seq = 0
        self.unknown_commands: list[str] = []
        stack.attach(self)

    def reset(self) -> None:
        self.extended = False

    # -- host -> NCP -----------------------------------------------------------------------------------

    def frame_received(self, data: bytes) -> None:
        try:
            seq, frame_id, params, extended = self._split(data)
        except EzspFrameError as exc:
            LOGGER.warning("EZSP: %s", exc)
            return
        self._last_seq = seq
        name = _BY_ID.get(frame_id)
        if name is None:
            self._respond(seq, "invalidCommand", {"status": t.EzspStatus.ERROR_INVALID_FRAME_ID}, extended,
                          frame_id=COMMANDS["invalidCommand"][0])
            return
        try:
            kwargs = self.decode_parameters(name, params)
        except EzspFrameError as exc:
            LOGGER.warning("EZSP: %s", exc)
            self._respond(seq, "invalidCommand", {"status": t.EzspStatus.ERROR_INVALID_CALL}, extended)
            return
        handler: Handler | None = getattr(self.stack, f"cmd_{name}", None)
        if handler is None:
            LOGGER.info("EZSP: %s is not implemented by the emulator", name)
            self.unknown_commands.append(name)
            self._respond(seq, "invalidCommand", {"status": t.EzspStatus.ERROR_INVALID_FRAME_ID}, extended)
            return
        LOGGER.debug("EZSP <- %s %s", name, _redacted(name, kwargs))
        result = handler(**kwargs)
        if name == "version":
            self._respond(seq, name, result, extended)
            self.extended = True  # after the handshake the host speaks the extended format
            return
        self._respond(seq, name, result, extended)

    def _split(self, data: bytes) -> tuple[int, int, bytes, bool]:
        if len(data) < 3:
            raise EzspFrameError(f"frame of {len(data)} bytes is shorter than an EZSP header")
        if len(data) >= 5 and data[2] == _FC_HIGH_EXTENDED:
            return data[0], int.from_bytes(data[3:5], "little"), data[5:], True
        if data[2] == COMMANDS["version"][0]:
            return data[0], data[2], data[3:], False  # legacy format: only the version handshake uses it
        raise EzspFrameError(f"frame {data.hex()} is neither extended nor a legacy version command")

    @classmethod
    def decode_parameters(cls, name: str, params: bytes) -> dict[str, Any]:
        """The parameters of host command *name*; EzspFrameError when *params* do not decode."""
        try:
            return cls._decode(name, params)
        except (ValueError, KeyError, IndexError, TypeError, OverflowError) as exc:  # bellows' and zigpy's types
            raise EzspFrameError(f"{name} parameters {bytes(params).hex()} do not decode: {exc}") from None

    @staticmethod
    def _decode(name: str, params: bytes) -> dict[str, Any]:
        _id, schema, _rx = COMMANDS[name]
        if name == "addEndpoint":
            # Two counted cluster lists: bellows' AnonymousList would swallow both.
            fixed = dict(list(schema.items())[:6])
            values, rest = t.deserialize_dict(params, fixed)
            clusters = [zt.uint16_t.deserialize(rest[i:i + 2])[0] for i in range(0, len(rest) - 1, 2)]
            n_in = int(values["inputClusterCount"])
            values["inputClusterList"] = clusters[:n_in]
            values["outputClusterList"] = clusters[n_in:n_in + int(values["outputClusterCount"])]
            return values
        values, _rest = t.deserialize_dict(params, schema)
        return values

    # -- NCP -> host -----------------------------------------------------------------------------------

    def _respond(self, seq: int, name: str, fields: dict[str, Any], extended: bool, frame_id: int | None = None) -> None:
        cmd_id, _tx, schema = COMMANDS[name]
        payload = t.serialize_dict((), fields, schema)
        if extended:
            header = bytes([seq, _FC_RESPONSE, _FC_HIGH_EXTENDED]) + cmd_id.to_bytes(2, "little")
        else:
            header = bytes([seq, _FC_RESPONSE, cmd_id])
        LOGGER.debug("EZSP -> %s %s", name, _redacted(name, fields))
        self._send(header + payload)

    def callback(self, name: str, **fields: Any) -> None:
        """Send an asynchronous callback (e.g. stackStatusHandler) to the host."""
        if not self.extended:
            LOGGER.debug("EZSP: callback %s before the version handshake dropped", name)
            return
        cmd_id, _tx, schema = COMMANDS[name]
        # The sequence of the last answered command: never one the host still awaits.
        header = bytes([self._last_seq, _FC_ASYNC_CALLBACK, _FC_HIGH_EXTENDED]) + cmd_id.to_bytes(2, "little")
        LOGGER.debug("EZSP => %s %s", name, _redacted(name, fields))
        self._send(header + t.serialize_dict((), fields, schema))


_SECRET_COMMANDS = {"getKey", "setInitialSecurityState", "addTransientLinkKey", "addOrUpdateKeyTableEntry",
                    "getKeyTableEntry", "unicastNwkKeyUpdate", "broadcastNextNetworkKey",
                    "setPreinstalledCbkeData", "calculateSmacsHandler", "calculateSmacsHandler283k1",
                    "setValue", "getValue"}  # setValue carries the 283k1 private key


def _redacted(name: str, fields: dict[str, Any]) -> str:
    # Keys never reach the log (common rules): only the field names of key-bearing commands.
    if name in _SECRET_COMMANDS:
        return "{" + ", ".join(f"{k}=<redacted>" for k in fields) + "}"
    return str(fields)

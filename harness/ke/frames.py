"""Key Establishment (0x0800) command payloads: build them, and parse them strictly with typed errors.

Layouts (SE spec 10.7.2.3/10.7.2.4, checked against Wireshark's packet-zbee-zcl-se.c): the Initiate Key
Establishment request and response carry suite (uint16 LE), ephemeral data generate time (uint8, s),
confirm key generate time (uint8, s) and the identity (the implicit certificate, 48 bytes for suite 1,
74 for suite 2); Ephemeral Data carries the compressed ephemeral public key (22 or 37 bytes); Confirm Key
Data the 16-byte MAC; Terminate carries status (uint8), wait time (uint8, s) and suite (uint16 LE).
The command ids are the same in both directions: 0 initiate, 1 ephemeral data, 2 confirm key, 3 terminate.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from harness.se.clusters import KeyEstablishment
from harness.se.types import KeyEstablishmentStatus

CERTIFICATE_LENGTHS = {1: 48, 2: 74}
EPHEMERAL_LENGTHS = {1: 22, 2: 37}
MAC_LENGTH = 16


class KeCommand(enum.IntEnum):
    """Command ids, the same for requests (client to server) and responses (server to client): those of the
    generated definitions (each request's id is its response's, harness.se.clusters.KeyEstablishment)."""

    INITIATE = KeyEstablishment.ServerCommandDefs.initiate_key_establishment_request.id
    EPHEMERAL_DATA = KeyEstablishment.ServerCommandDefs.ephemeral_data_request.id
    CONFIRM_KEY = KeyEstablishment.ServerCommandDefs.confirm_key_data_request.id
    TERMINATE = KeyEstablishment.ServerCommandDefs.terminate_key_establishment.id


class KeFrameError(ValueError):
    """A Key Establishment payload that does not have the layout of its command."""


@dataclass(frozen=True)
class Initiate:
    suite: int  # the KeyEstablishmentSuite bitmap value as sent
    ephemeral_data_generate_time: int
    confirm_key_generate_time: int
    identity: bytes = field(repr=False)

    def serialize(self) -> bytes:
        return (
            self.suite.to_bytes(2, "little")
            + bytes([self.ephemeral_data_generate_time, self.confirm_key_generate_time])
            + bytes(self.identity)
        )


@dataclass(frozen=True)
class EphemeralData:
    public_key: bytes

    def serialize(self) -> bytes:
        return bytes(self.public_key)


@dataclass(frozen=True)
class ConfirmKey:
    mac: bytes = field(repr=False)

    def serialize(self) -> bytes:
        return bytes(self.mac)


@dataclass(frozen=True)
class Terminate:
    status: int
    wait_time: int
    suite: int

    def serialize(self) -> bytes:
        return bytes([self.status, self.wait_time]) + self.suite.to_bytes(2, "little")

    @property
    def status_name(self) -> str:
        return status_name(self.status)


KePayload = Initiate | EphemeralData | ConfirmKey | Terminate


def status_name(status: int) -> str:
    try:
        return KeyEstablishmentStatus(status).name.upper()
    except ValueError:
        return f"0x{status:02X}"


def parse_payload(command: int, payload: bytes) -> KePayload:
    """Decode one KE command payload; KeFrameError names what is wrong (length, unknown command)."""
    data = bytes(payload)
    if command == KeCommand.INITIATE:
        if len(data) < 4:
            raise KeFrameError(f"Initiate Key Establishment payload is {len(data)} bytes, needs at least 4")
        identity = data[4:]
        if len(identity) not in CERTIFICATE_LENGTHS.values():
            raise KeFrameError(f"Initiate Key Establishment identity is {len(identity)} bytes, expected 48 or 74")
        return Initiate(int.from_bytes(data[0:2], "little"), data[2], data[3], identity)
    if command == KeCommand.EPHEMERAL_DATA:
        if len(data) not in EPHEMERAL_LENGTHS.values():
            raise KeFrameError(f"Ephemeral Data is {len(data)} bytes, expected 22 or 37")
        return EphemeralData(data)
    if command == KeCommand.CONFIRM_KEY:
        if len(data) != MAC_LENGTH:
            raise KeFrameError(f"Confirm Key Data MAC is {len(data)} bytes, expected {MAC_LENGTH}")
        return ConfirmKey(data)
    if command == KeCommand.TERMINATE:
        if len(data) < 4:
            raise KeFrameError(f"Terminate Key Establishment payload is {len(data)} bytes, needs 4")
        return Terminate(data[0], data[1], int.from_bytes(data[2:4], "little"))
    raise KeFrameError(f"Key Establishment has no command 0x{command:02X}")

"""ZDO payloads on zigpy's own schemas (zigpy.zdo.types): a transaction sequence number, then fields.

ZDO frames are APS data frames on endpoint 0, profile 0x0000, cluster = the ZDO command id; zigpy already
knows every request and response layout (ZDOCmd, CLUSTERS, NodeDescriptor, SimpleDescriptor, ...), so this
module only adds the tsn and turns zigpy's failures into FrameError.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import zigpy.types as t
from zigpy.zdo.types import CLUSTERS, ZDOCmd

from .errors import FrameError, need

#: One ZDO field: a value of zigpy's schema type for it (NWK, EUI64, NodeDescriptor, a list, ...). Readers
#: take what the command's schema declares, which zigpy does not type per command: a library edge.
ZdoField = Any

LAYER = "ZDO"
ZDO_ENDPOINT = 0
ZDO_PROFILE = 0x0000


@dataclass(slots=True)
class ZdoMessage:
    """One decoded ZDO frame: ``fields`` in zigpy's order (``names`` gives them)."""

    command: ZDOCmd
    tsn: int
    fields: list[ZdoField]

    @property
    def names(self) -> list[str]:
        return list(CLUSTERS[self.command][0])

    def as_dict(self) -> dict[str, ZdoField]:
        return dict(zip(self.names, self.fields, strict=True))

    def serialize(self) -> bytes:
        return serialize_zdo(self.command, self.tsn, self.fields)


def _schema(command: int) -> tuple[ZDOCmd, list[type[t.Serializable]]]:
    try:
        cmd = ZDOCmd(command)
    except ValueError:
        raise FrameError(LAYER, f"unknown ZDO cluster 0x{command:04X}") from None
    if cmd not in CLUSTERS:
        raise FrameError(LAYER, f"ZDO cluster 0x{command:04X} has no schema in zigpy")
    # zigpy annotates CLUSTERS loosely; entry [1] holds the field types.
    return cmd, cast(list[type[t.Serializable]], list(CLUSTERS[cmd][1]))


def serialize_zdo(command: int, tsn: int, fields: Sequence[ZdoField]) -> bytes:
    """tsn followed by *fields* encoded with zigpy's schema for *command* (a ZDOCmd / cluster id)."""
    cmd, schema = _schema(command)
    if len(fields) != len(schema):
        raise FrameError(LAYER, f"{cmd.name} takes {len(schema)} fields, got {len(fields)}")
    return bytes([tsn & 0xFF]) + b"".join(ftype(v).serialize() for ftype, v in zip(schema, fields, strict=True))


def deserialize_zdo(command: int, data: bytes) -> ZdoMessage:
    """Decode the APS payload of ZDO cluster *command*. Trailing bytes are tolerated, as zigpy does, but an
    optional field (a response's descriptor) whose bytes are there and do not decode is malformed."""
    cmd, schema = _schema(command)
    need(LAYER, data, 0, 1, "transaction sequence number")
    fields, rest = [], bytes(data[1:])
    for name, field_type in zip(CLUSTERS[cmd][0], schema, strict=True):
        before = rest
        try:
            value, rest = field_type.deserialize(rest)
        except (ValueError, KeyError, IndexError, TypeError, OverflowError) as exc:  # zigpy raises ValueError
            # on short data; the rest is defence against bytes no schema was written for
            raise FrameError(LAYER, f"{cmd.name} payload does not decode: {exc}", 1) from None
        if value is None and before:
            # zigpy's Optional turns a field that does not decode into None and drops its bytes: a
            # Simple_Desc_rsp cut short inside its descriptor would read as SUCCESS without a descriptor.
            raise FrameError(LAYER, f"{cmd.name} {name} does not decode from the {len(before)} bytes left "
                             f"({before.hex()})", len(data) - len(before))
        fields.append(value)
    return ZdoMessage(cmd, data[0], fields)

"""The Smart Energy 1.x data model as typed objects, loaded from harness/se/datamodel.yaml.

The YAML is a copy of the suite's reference data model (cluster, attribute and command ids, wire types,
mandatory/optional, revision that introduced an item; "mandatory" as the Silicon Labs reference
implementation marks it). Everything that needs ids, types, ranges or device-type requirements reads them
from here: the zigpy cluster schemas (harness.se.clusters), the attribute store (harness.zcl.store), the
PICS scheme (harness.pics) and the data-driven attribute cases.

The suite adds to the copy (the end of the YAML) where the device types' mandatory clusters come from
(claim_sources) and the application profiles that add mandatory clusters (application_profiles: OpenSEG),
so a refused PICS claim can name its rule.
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DATAMODEL_PATH = Path(__file__).with_name("datamodel.yaml")

#: A mapping as PyYAML parsed it from datamodel.yaml: its values are whatever the document holds (library
#: edge), and the loaders below check and convert each one into the typed model.
YamlMapping = dict[str, Any]

#: Smart Energy application profile id (SE-FACTS "Basics").
SE_PROFILE_ID = 0x0109
#: The SE application cluster range (Price, DRLC, Metering, Messaging, Tunneling, Prepayment, ...): APS-encrypted
#: with the CBKE link key (SE-FACTS "Basics").
SE_APPLICATION_CLUSTERS = range(0x0700, 0x0800)


class DataModelError(ValueError):
    """The data-model file is missing a field or holds a value of the wrong shape."""


class Side(enum.StrEnum):
    """Which side of a cluster an attribute lives on (ZCL client/server model)."""

    SERVER = "server"
    CLIENT = "client"

    @property
    def letter(self) -> str:
        """PICS letter: S for server, C for client."""
        return "S" if self is Side.SERVER else "C"


# ZCL wire types as the data model names them -> (ZCL data type id, size in bytes or None if variable,
# signed). The ids are from the ZCL specification's data type table (07-5123 Table 2-10); zigpy's
# foundation.DataTypeId holds the same values.
ZCL_TYPES: dict[str, tuple[int, int | None, bool]] = {
    "BOOLEAN": (0x10, 1, False),
    "BITMAP8": (0x18, 1, False),
    "BITMAP16": (0x19, 2, False),
    "BITMAP24": (0x1A, 3, False),
    "BITMAP32": (0x1B, 4, False),
    "BITMAP48": (0x1D, 6, False),
    "BITMAP64": (0x1F, 8, False),
    "INT8U": (0x20, 1, False),
    "INT16U": (0x21, 2, False),
    "INT24U": (0x22, 3, False),
    "INT32U": (0x23, 4, False),
    "INT48U": (0x25, 6, False),
    "INT56U": (0x26, 7, False),
    "INT64U": (0x27, 8, False),
    "INT8S": (0x28, 1, True),
    "INT16S": (0x29, 2, True),
    "INT24S": (0x2A, 3, True),
    "INT32S": (0x2B, 4, True),
    "INT48S": (0x2D, 6, True),
    "ENUM8": (0x30, 1, False),
    "ENUM16": (0x31, 2, False),
    "OCTET_STRING": (0x41, None, False),
    "CHAR_STRING": (0x42, None, False),
    "UTC_TIME": (0xE2, 4, False),
}


def _int(text: object, where: str) -> int:
    if isinstance(text, int):
        return text
    try:
        return int(str(text), 0)
    except ValueError:
        raise DataModelError(f"{where}: expected an integer, got {text!r}") from None


def _to_signed(value: int, size: int) -> int:
    # The model writes signed bounds either as decimals (-100) or as two's complement hex (0xFFFEAE80).
    bits = size * 8
    return value - (1 << bits) if value >= 1 << (bits - 1) else value


def snake_name(name: str) -> str:
    """'key establishment suite (server)' / 'LoadControlEvent' -> a Python identifier in snake case."""
    text = re.sub(r"\(.*?\)", "", name)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    text = re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_").lower()
    if not text or text[0].isdigit():
        text = f"a_{text}"
    return text


@dataclass(frozen=True)
class AttributeModel:
    """One attribute of one side of a cluster."""

    id: int
    side: Side
    name: str
    type: str
    mandatory: bool
    writable: bool
    default: str | int | None = None
    min: int | None = None
    max: int | None = None
    length: int | None = None
    since: str | None = None
    #: The defined values of an enumeration (the rest of its range is reserved), where the data model lists them.
    values: tuple[int, ...] | None = None

    @property
    def type_id(self) -> int:
        return ZCL_TYPES[self.type][0]

    @property
    def size(self) -> int | None:
        return ZCL_TYPES[self.type][1]

    @property
    def signed(self) -> bool:
        return ZCL_TYPES[self.type][2]

    @property
    def python_name(self) -> str:
        return snake_name(self.name)

    def in_range(self, value: int) -> bool:
        """True when an integer value lies within the model's [min, max] and, for an enumeration whose defined
        values the model lists, is one of them (ZCL status INVALID_VALUE: out of range or a reserved value)."""
        if self.values is not None and value not in self.values:
            return False
        if self.min is not None and value < self.min:
            return False
        return not (self.max is not None and value > self.max)

    def bounds(self) -> str:
        """The model's bounds in words, for a verdict's expectation."""
        if self.values is not None:
            return "one of " + ", ".join(f"0x{v:02X}" for v in self.values)
        if self.length is not None:
            return f"at most {self.length} long"
        return f"within [{self.min}, {self.max}]"


@dataclass(frozen=True)
class FieldModel:
    """One payload field of a command: name, wire type (ZCL or SE named type), flags."""

    name: str
    type: str
    is_array: bool = False
    since: str | None = None


@dataclass(frozen=True)
class CommandModel:
    """A cluster-specific command. sent_by is 'client', 'server' or 'either'."""

    id: int
    sent_by: str
    name: str
    mandatory: bool
    fields: tuple[FieldModel, ...] = ()
    since: str | None = None

    @property
    def python_name(self) -> str:
        return snake_name(self.name)

    def received_by(self) -> tuple[Side, ...]:
        """The sides that receive this command (the opposite of the sender)."""
        return {
            "client": (Side.SERVER,),
            "server": (Side.CLIENT,),
            "either": (Side.SERVER, Side.CLIENT),
        }[self.sent_by]


@dataclass(frozen=True)
class ClusterModel:
    id: int
    name: str
    attributes: tuple[AttributeModel, ...]
    commands: tuple[CommandModel, ...]

    def attributes_of(self, side: Side) -> tuple[AttributeModel, ...]:
        return tuple(a for a in self.attributes if a.side is side)

    def attribute(self, side: Side, attr_id: int) -> AttributeModel | None:
        for attr in self.attributes:
            if attr.side is side and attr.id == attr_id:
                return attr
        return None

    def commands_received_by(self, side: Side) -> tuple[CommandModel, ...]:
        return tuple(c for c in self.commands if side in c.received_by())

    def commands_sent_by(self, side: Side) -> tuple[CommandModel, ...]:
        return tuple(c for c in self.commands if c.sent_by in (side.value, "either"))


@dataclass(frozen=True)
class DeviceTypeModel:
    """A device type: its id and the clusters it must carry on each side (by cluster id)."""

    name: str
    device_id: int
    mandatory_server: tuple[int, ...]
    mandatory_client: tuple[int, ...]
    #: Where the type's own mandatory clusters come from (claim_sources.device_types); "" in a bare model.
    source: str = ""


@dataclass(frozen=True)
class ClaimSet:
    """Cluster sides a device must carry, with the rule that says so: the clusters of every SE device, or an
    application profile's additions (OpenSEG: Simple Metering client)."""

    name: str
    mandatory_server: tuple[int, ...]
    mandatory_client: tuple[int, ...]
    source: str
    title: str = ""
    applies: str = ""


@dataclass(frozen=True)
class DataModel:
    clusters: dict[int, ClusterModel]
    device_types: tuple[DeviceTypeModel, ...] = field(default=())
    #: Clusters a device type names that the model does not define (e.g. Prepayment), kept by name.
    undefined_cluster_names: frozenset[str] = frozenset()
    #: The clusters of every SE device and their rule (claim_sources.every_device).
    every_device: ClaimSet | None = None
    #: Where the mandatory attributes and commands of a mandatory cluster side come from.
    items_source: str = ""
    #: Application profiles that add mandatory clusters (by name, e.g. "openseg").
    application_profiles: tuple[ClaimSet, ...] = ()

    def cluster(self, cluster_id: int) -> ClusterModel:
        try:
            return self.clusters[cluster_id]
        except KeyError:
            raise DataModelError(f"cluster 0x{cluster_id:04X} is not in the SE data model") from None

    def cluster_by_name(self, name: str) -> ClusterModel:
        for cluster in self.clusters.values():
            if cluster.name == name:
                return cluster
        raise DataModelError(f"cluster {name!r} is not in the SE data model")

    def device_type(self, name: str) -> DeviceTypeModel:
        for dev in self.device_types:
            if dev.name == name:
                return dev
        raise DataModelError(f"device type {name!r} is not in the SE data model")

    def application_profile(self, name: str) -> ClaimSet:
        for app in self.application_profiles:
            if app.name == name:
                return app
        known = ", ".join(a.name for a in self.application_profiles) or "none"
        raise DataModelError(f"application profile {name!r} is not in the SE data model (known: {known})")


def _attribute(raw: YamlMapping, where: str) -> AttributeModel:
    try:
        type_name = raw["type"]
        size, signed = ZCL_TYPES[type_name][1], ZCL_TYPES[type_name][2]
    except KeyError:
        raise DataModelError(f"{where}: unknown or missing type {raw.get('type')!r}") from None
    lo = _int(raw["min"], where) if "min" in raw else None
    hi = _int(raw["max"], where) if "max" in raw else None
    if signed and size:
        lo = _to_signed(lo, size) if lo is not None else None
        hi = _to_signed(hi, size) if hi is not None else None
    return AttributeModel(
        id=_int(raw["id"], where),
        side=Side(raw["side"]),
        name=raw["name"],
        type=type_name,
        mandatory=bool(raw["mandatory"]),
        writable=bool(raw["writable"]),
        default=raw.get("default"),
        min=lo,
        max=hi,
        length=_int(raw["length"], where) if "length" in raw else None,
        since=raw.get("since"),
        values=tuple(_int(v, where) for v in raw["values"]) if "values" in raw else None,
    )


def _command(raw: YamlMapping, where: str) -> CommandModel:
    fields = []
    for item in raw.get("fields", []):
        name, type_name, *flags = item
        fields.append(
            FieldModel(
                name=name,
                type=type_name,
                is_array="array" in flags,
                since=next((f for f in flags if f != "array"), None),
            )
        )
    return CommandModel(
        id=_int(raw["id"], where),
        sent_by=raw["sent_by"],
        name=raw["name"],
        mandatory=bool(raw["mandatory"]),
        fields=tuple(fields),
        since=raw.get("since"),
    )


def parse_datamodel(doc: YamlMapping) -> DataModel:
    """Build the typed model from the parsed YAML document; DataModelError names a bad entry."""
    clusters: dict[int, ClusterModel] = {}
    for raw in doc.get("clusters", []):
        cid = _int(raw["id"], "cluster")
        where = f"cluster {raw.get('name')} (0x{cid:04X})"
        attrs = tuple(_attribute(a, f"{where} attribute {a.get('id')}") for a in raw.get("attributes") or [])
        cmds = tuple(_command(c, f"{where} command {c.get('name')}") for c in raw.get("commands") or [])
        clusters[cid] = ClusterModel(id=cid, name=raw["name"], attributes=attrs, commands=cmds)
    by_name = {c.name: c.id for c in clusters.values()}
    undefined: set[str] = set()
    claims = doc.get("claim_sources") or {}
    type_sources = {_int(k, "claim_sources.device_types"): v for k, v in (claims.get("device_types") or {}).items()}
    device_types = []
    for raw in doc.get("device_types", []):
        ids = {}
        for key in ("mandatory_server", "mandatory_client"):
            names = raw.get(key, [])
            undefined.update(n for n in names if n not in by_name)
            ids[key] = tuple(by_name[n] for n in names if n in by_name)
        device_id = _int(raw["device_id"], f"device type {raw['name']}")
        device_types.append(
            DeviceTypeModel(
                name=raw["name"],
                device_id=device_id,
                mandatory_server=ids["mandatory_server"],
                mandatory_client=ids["mandatory_client"],
                source=type_sources.get(device_id, ""),
            )
        )
    every = _claim_set(claims["every_device"], "every_device", by_name) if "every_device" in claims else None
    if every is not None:
        # The every-device rule must hold for each device type, or its source would be cited for a cluster the
        # type does not carry.
        for dev in device_types:
            if not (set(every.mandatory_server) <= set(dev.mandatory_server)
                    and set(every.mandatory_client) <= set(dev.mandatory_client)):
                raise DataModelError(f"device type {dev.name} lacks a cluster of claim_sources.every_device")
    apps = tuple(_claim_set(raw, raw.get("name", "?"), by_name) for raw in doc.get("application_profiles") or [])
    return DataModel(clusters=clusters, device_types=tuple(device_types), undefined_cluster_names=frozenset(undefined),
                     every_device=every, items_source=str(claims.get("items", "")), application_profiles=apps)


def _claim_set(raw: YamlMapping, name: str, by_name: dict[str, int]) -> ClaimSet:
    ids = {}
    for key in ("mandatory_server", "mandatory_client"):
        names = raw.get(key) or []
        missing = [n for n in names if n not in by_name]
        if missing:
            raise DataModelError(f"claim set {name}: {key} names cluster {missing[0]!r}, which the model lacks")
        ids[key] = tuple(by_name[n] for n in names)
    if not raw.get("source"):
        raise DataModelError(f"claim set {name}: a source (the rule that makes the clusters mandatory) is required")
    return ClaimSet(name=str(raw.get("name", name)), mandatory_server=ids["mandatory_server"],
                    mandatory_client=ids["mandatory_client"], source=str(raw["source"]),
                    title=str(raw.get("title", "")), applies=str(raw.get("applies", "")))


@functools.cache
def load_datamodel(path: Path = DATAMODEL_PATH) -> DataModel:
    """The project's SE data model (parsed once per process)."""
    with open(path, encoding="utf-8") as fh:
        # The C loader parses the 2000-line model about ten times faster than the pure-Python one.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return parse_datamodel(yaml.load(fh, Loader=loader))  # noqa: S506 - a safe loader

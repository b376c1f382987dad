"""Attribute store: per endpoint, cluster and side, the attributes a device carries, with their types,
access (readable, writable, reportable) and ranges from the SE data model, and the ZCL checks of reads and
writes (UNSUPPORTED_ATTRIBUTE, READ_ONLY, INVALID_DATA_TYPE, INVALID_VALUE).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

import zigpy.types as t
from zigpy.zcl.foundation import ReadAttributeRecord, Status, TypeValue

from harness.se.datamodel import AttributeModel, DataModel, Side, load_datamodel
from harness.se.types import field_type

#: An attribute's value: an instance of its zigpy type (harness.se.types), each an int (integers, enums,
#: bitmaps, UTC time), str (character string) or bytes (octet string) subclass.
AttributeValue = int | str | bytes


class AttributeKey(NamedTuple):
    endpoint: int
    cluster_id: int
    side: Side
    attr_id: int

    def __str__(self) -> str:
        return f"ep {self.endpoint} cluster 0x{self.cluster_id:04X} {self.side} attribute 0x{self.attr_id:04X}"


class StoreError(KeyError):
    """A local lookup named an endpoint/cluster/attribute the store does not hold."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclasses.dataclass
class AttributeEntry:
    model: AttributeModel
    python_type: type
    value: AttributeValue
    writable: bool
    reportable: bool = True
    readable: bool = True

    @property
    def type_id(self) -> int:
        return self.model.type_id

    def type_value(self) -> TypeValue:
        return TypeValue(type=t.uint8_t(self.model.type_id), value=self.value)


def as_attribute_value(python_type: type, value: object) -> AttributeValue:
    """*value* converted to the attribute's zigpy type; TypeError if that type is not an attribute type."""
    converted = python_type(value)
    if not isinstance(converted, int | str | bytes):
        raise TypeError(f"{python_type.__name__} is not an attribute value type (int, str or bytes)")
    return converted


def default_value(model: AttributeModel, python_type: type) -> AttributeValue:
    """The model's default as a typed value (0 / empty when the model gives none)."""
    raw = model.default
    if model.type in ("OCTET_STRING", "CHAR_STRING"):
        text = "" if raw is None else str(raw)
        return as_attribute_value(python_type, text.encode() if model.type == "OCTET_STRING" else text)
    if raw is None or raw == "":
        value = 0
    else:
        value = int(str(raw), 0)
        if model.signed and model.size and value >= 1 << (model.size * 8 - 1):
            value -= 1 << (model.size * 8)
    return as_attribute_value(python_type, value)


def value_status(model: AttributeModel, value: object) -> Status:
    """SUCCESS if a value fits the attribute's range or length, else INVALID_VALUE."""
    if model.type in ("OCTET_STRING", "CHAR_STRING"):
        if not isinstance(value, str | bytes):
            return Status.INVALID_VALUE
        length = len(value.encode() if isinstance(value, str) else value)
        return Status.INVALID_VALUE if model.length is not None and length > model.length else Status.SUCCESS
    if isinstance(value, int) and not model.in_range(int(value)):
        return Status.INVALID_VALUE
    return Status.SUCCESS


#: Told of each change: (key, old value, new value).
ChangeListener = Callable[[AttributeKey, AttributeValue, AttributeValue], None]


class AttributeStore:
    """Attributes of the clusters on a device's endpoints."""

    def __init__(self, datamodel: DataModel | None = None) -> None:
        self._model = datamodel or load_datamodel()
        self._clusters: dict[tuple[int, int, Side], dict[int, AttributeEntry]] = {}
        self._listeners: list[ChangeListener] = []
        # Calls made on each access to an attribute (by cluster, then attribute id): a reference device
        # recording where its faults can act (harness/devices/faults.py) watches the attributes they alter.
        self._watches: dict[tuple[int, int, Side], list[tuple[int, Callable[[], None]]]] = {}
        # Called before any access to a cluster side's attributes: a server that brings its values up to date
        # only when someone looks (the reference meter's metrology while nothing listens between reads).
        self._access_hooks: dict[tuple[int, int, Side], Callable[[], None]] = {}

    # --- layout -------------------------------------------------------------------------------------

    def add_cluster(
        self,
        endpoint: int,
        cluster_id: int,
        side: Side,
        *,
        attributes: Iterable[int] | None = None,
        all_optional: bool = False,
        values: Mapping[int, AttributeValue] | None = None,
    ) -> None:
        """Carry a cluster: its mandatory attributes, plus `attributes`, plus those given in `values`."""
        cluster = self._model.cluster(cluster_id)
        values = dict(values or {})
        wanted = {a.id for a in cluster.attributes_of(side) if a.mandatory or all_optional}
        wanted |= set(attributes or ()) | set(values)
        table = self._clusters.setdefault((endpoint, cluster_id, side), {})
        for attr_id in sorted(wanted):
            model = cluster.attribute(side, attr_id)
            if model is None:
                raise StoreError(f"cluster 0x{cluster_id:04X} {side} has no attribute 0x{attr_id:04X} in the model")
            ptype = field_type(model.type)
            value = as_attribute_value(ptype, values[attr_id]) if attr_id in values else default_value(model, ptype)
            table[attr_id] = AttributeEntry(model=model, python_type=ptype, value=value, writable=model.writable)

    def has_cluster(self, endpoint: int, cluster_id: int, side: Side) -> bool:
        return (endpoint, cluster_id, side) in self._clusters

    def clusters(self, endpoint: int) -> list[tuple[int, Side]]:
        return sorted((c, s) for (ep, c, s) in self._clusters if ep == endpoint)

    def endpoints(self) -> list[int]:
        return sorted({ep for (ep, _, _) in self._clusters})

    def entries(self, endpoint: int, cluster_id: int, side: Side) -> list[tuple[int, AttributeEntry]]:
        if self._access_hooks:
            self._accessed((endpoint, cluster_id, side))
        if self._watches:
            for _attr_id, note in self._watches.get((endpoint, cluster_id, side), ()):
                note()
        return sorted(self._clusters.get((endpoint, cluster_id, side), {}).items())

    def entry(self, key: AttributeKey) -> AttributeEntry | None:
        if self._access_hooks:
            self._accessed((key.endpoint, key.cluster_id, key.side))
        if self._watches:
            for attr_id, note in self._watches.get((key.endpoint, key.cluster_id, key.side), ()):
                if attr_id == key.attr_id:
                    note()
        return self._clusters.get((key.endpoint, key.cluster_id, key.side), {}).get(key.attr_id)

    def before_access(self, endpoint: int, cluster_id: int, side: Side, hook: Callable[[], None]) -> None:
        """Call *hook* before each access to an attribute of that cluster side (read, reported or set): the
        owner brings the values up to date there (one hook per cluster side)."""
        self._access_hooks[(endpoint, cluster_id, side)] = hook

    def _accessed(self, cluster: tuple[int, int, Side]) -> None:
        hook = self._access_hooks.get(cluster)
        if hook is not None:
            hook()

    def watch(self, key: AttributeKey, note: Callable[[], None]) -> None:
        """Call *note* on each access to *key*: its entry, or the entries of its cluster."""
        self._watches.setdefault((key.endpoint, key.cluster_id, key.side), []).append((key.attr_id, note))

    def remove_attribute(self, key: AttributeKey) -> None:
        """Drop an attribute (a reference device fault: 'mandatory attribute missing')."""
        self._clusters.get((key.endpoint, key.cluster_id, key.side), {}).pop(key.attr_id, None)

    # --- local access (the device itself, bypassing ZCL access rules) --------------------------------

    def get(self, key: AttributeKey) -> AttributeValue:
        entry = self.entry(key)
        if entry is None:
            raise StoreError(f"no {key}")
        return entry.value

    def set(self, key: AttributeKey, value: AttributeValue) -> None:
        """Update a value as the device's application does (no access check); listeners are told."""
        entry = self.entry(key)
        if entry is None:
            raise StoreError(f"no {key}")
        old, entry.value = entry.value, as_attribute_value(entry.python_type, value)
        for listener in list(self._listeners):
            listener(key, old, entry.value)

    def snapshot(self) -> dict[AttributeKey, AttributeValue]:
        """Every attribute's value now (a reference device keeps its factory values to restore on reset)."""
        return {AttributeKey(ep, cluster_id, side, attr_id): entry.value
                for (ep, cluster_id, side), table in self._clusters.items() for attr_id, entry in table.items()}

    def restore(self, values: Mapping[AttributeKey, AttributeValue]) -> None:
        """Put back a snapshot's values through `set`, so reporting hears of each change; attributes added
        since the snapshot keep theirs."""
        for key, value in values.items():
            entry = self.entry(key)
            if entry is not None and entry.value != value:
                self.set(key, value)

    def subscribe(self, listener: ChangeListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # --- ZCL access ----------------------------------------------------------------------------------

    def read_record(self, key: AttributeKey) -> ReadAttributeRecord:
        """The Read Attributes response record for one attribute."""
        entry = self.entry(key)
        if entry is None or not entry.readable:
            return ReadAttributeRecord(attrid=t.uint16_t(key.attr_id), status=Status.UNSUPPORTED_ATTRIBUTE)
        return ReadAttributeRecord(attrid=t.uint16_t(key.attr_id), status=Status.SUCCESS, value=entry.type_value())

    def check_write(self, key: AttributeKey, value: TypeValue) -> Status:
        """The status a Write Attributes record gets, checked in the ZCL order."""
        entry = self.entry(key)
        if entry is None:
            return Status.UNSUPPORTED_ATTRIBUTE
        if not entry.writable:
            return Status.READ_ONLY
        if int(value.type) != entry.type_id:
            return Status.INVALID_DATA_TYPE
        return value_status(entry.model, value.value)

    def write(self, key: AttributeKey, value: TypeValue) -> None:
        """Store a value that passed check_write."""
        self.set(key, value.value)

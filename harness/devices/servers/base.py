"""What a reference server cluster is: attribute values for the device's store, then handlers on its ZCL engine.

A device builds its attribute store before its ZCL engine exists, so a server comes in two steps: the model
creates it with its faults (``attribute_values`` fills the store), then attaches it to the engine and clock
(``attach``: handlers, timers). The model closes it with the device.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, ClassVar

from harness.clock import Clock
from harness.se.clusters import SeCluster
from harness.se.datamodel import Side
from harness.zcl import AttributeKey, ZclEngine
from harness.zcl.store import AttributeStore

from ..faults import FaultSet


class LiveStore(AttributeStore):
    """An attribute store whose live attributes (a clock, say) take their value from the device when read, so a
    server needs no once-a-second timer to keep them current."""

    def __init__(self) -> None:
        super().__init__()
        self._live: dict[AttributeKey, Callable[[], object]] = {}
        # Cluster sides the device answers as not carried (a seeded fault), and who notes each look at one.
        self._hidden: set[tuple[int, int, Side]] = set()
        self._side_watches: dict[tuple[int, int, Side], list[Callable[[], None]]] = {}

    def hide(self, endpoint: int, cluster_id: int, side: Side) -> None:
        """Answer a cluster side as not carried (the engine then refuses it with UNSUPPORTED_CLUSTER)."""
        self._hidden.add((endpoint, cluster_id, side))

    def watch_side(self, endpoint: int, cluster_id: int, side: Side, note: Callable[[], None]) -> None:
        """Call *note* each time the engine asks whether the side is carried (where a hiding fault acts)."""
        self._side_watches.setdefault((endpoint, cluster_id, side), []).append(note)

    def has_cluster(self, endpoint: int, cluster_id: int, side: Side) -> bool:
        for note in self._side_watches.get((endpoint, cluster_id, side), ()):
            note()
        return (endpoint, cluster_id, side) not in self._hidden and super().has_cluster(endpoint, cluster_id, side)

    def live(self, key: AttributeKey, value: Callable[[], object]) -> None:
        """Serve *key* with what *value* returns at each read."""
        self._live[key] = value

    def read_record(self, key: AttributeKey):
        value = self._live.get(key)
        entry = self.entry(key) if value is not None else None
        if value is not None and entry is not None:
            entry.value = entry.python_type(value())  # set directly: a read is no change to report
        return super().read_record(key)


@dataclass
class ServerHost:
    """What a server cluster gets from the device that carries it."""

    engine: ZclEngine
    store: AttributeStore
    endpoint: int
    clock: Clock
    #: Starts a background task the device cancels when it powers off, resets or closes.
    spawn: Callable[[Coroutine[Any, Any, None]], asyncio.Task[None]]


class ServerCluster:
    """One SE server cluster of a reference device (subclasses: one per cluster)."""

    cluster: ClassVar[type[SeCluster]]

    def __init__(self, faults: FaultSet, endpoint: int, *, seed: int = 0) -> None:
        self.faults = faults
        self.endpoint = endpoint
        self.seed = seed
        self.host: ServerHost | None = None

    def attribute_values(self) -> dict[int, object]:
        """The server's attributes (id -> value) as the device's store carries them from the factory."""
        return {}

    def seed_attribute_faults(self, store: AttributeStore) -> None:
        """Alter the device's attribute table as the server's attribute faults say (after the store is built)."""

    def seed_not_carried(self, store: AttributeStore, fault) -> None:
        """A fault that answers this server as not carried although the descriptor lists it (needs a LiveStore)."""
        notes: list[Callable[[], None]] = []
        if not isinstance(store, LiveStore):
            return
        side = (self.endpoint, int(self.cluster.cluster_id), Side.SERVER)
        if self.faults.acts(fault, notes.append):
            store.hide(*side)
        for note in notes:
            store.watch_side(*side, note)

    def key(self, attr_id: int) -> AttributeKey:
        return AttributeKey(self.endpoint, int(self.cluster.cluster_id), Side.SERVER, attr_id)

    def attach(self, host: ServerHost) -> None:
        """Register the server's command handlers on the device's engine and start what runs on its own."""
        self.host = host

    def started(self) -> None:
        """The device is powered and on the network (after a join or power on): restart what runs on its own."""

    def close(self) -> None:
        """The device goes away: stop what runs."""

    @property
    def attached(self) -> ServerHost:
        if self.host is None:
            raise RuntimeError(f"{type(self).__name__} is not attached to a device")
        return self.host

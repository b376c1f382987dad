"""A reference device that carries SE server clusters (harness/devices/servers) on its SE endpoint.

A model lists its server classes in ``servers`` (and their clusters in ``clusters``); this class creates them
with the device's faults, puts their attributes in its store, attaches them to its engine and clock, and keeps
what they run going across a factory reset and a power cycle (a meter's metrology does not stop when its HAN
radio is reset).
"""

from __future__ import annotations

from typing import ClassVar

from harness.se.datamodel import Side
from harness.zcl.store import AttributeStore

from ..base import ReferenceDevice
from .base import ServerCluster, ServerHost


class ServerDevice(ReferenceDevice):
    """Base of the models built from server components."""

    servers: ClassVar[tuple[type[ServerCluster], ...]] = ()

    def __init__(self, air, profile, clock, faults: tuple[str, ...] = (), *, rng=None) -> None:
        super().__init__(air, profile, clock, faults, rng=rng)
        host = ServerHost(self.engine, self.store, self.endpoint, self.clock, self._spawn)
        for server in self.server_clusters:
            server.attach(host)

    def attribute_values(self) -> dict[tuple[int, Side], dict[int, object]]:
        values = self.identity_attributes()
        for server in self.server_clusters:
            values[(int(server.cluster.cluster_id), Side.SERVER)] = server.attribute_values()
        return values

    def build_store(self) -> AttributeStore:
        # Each server draws its randomness from the case's stream of its own (harness/rng.py).
        self.server_clusters = [cls(self.faults, self.endpoint,
                                    seed=self.seed_for(f"server:{cls.cluster.ep_attribute}", int(cls.cluster.cluster_id)))
                                for cls in self.servers]
        store = super().build_store()
        for server in self.server_clusters:
            server.seed_attribute_faults(store)
        return store

    def _restart_servers(self) -> None:
        for server in self.server_clusters:
            server.started()

    def factory_reset(self) -> None:
        super().factory_reset()
        self._restart_servers()

    def power_on(self) -> None:
        super().power_on()
        self._restart_servers()

    def close(self) -> None:
        for server in self.server_clusters:
            server.close()
        super().close()

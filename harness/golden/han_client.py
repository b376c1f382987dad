"""The golden's HAN client roles towards an ESI under test: the Price, DRLC and Messaging clients an IHD, a PCT or a
load control device would be, on the golden's ESI endpoint.

Attached to a scenario's golden when a case first needs it (features/esi), it carries the client sides of those
clusters and records every Publish Price, Load Control Event and Display Message the DUT sends (with the bench
time of arrival, the sequence number, the decoded command and its bytes), answering each as a conformant client
does (the engine's Default Response rules). A command that does not decode is the engine's finding, which fails
the case with its bytes (Golden._zcl_finding).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import zigpy.types as t
from zigpy.zcl.foundation import Status

from harness.clock import Clock
from harness.se.clusters import Drlc, Messaging, Price
from harness.se.datamodel import Side
from harness.zcl import ZclRequest
from harness.zcl.peer import peer_of

from .esi.common import ObservationLog, utc_seconds

#: The commands the client roles take from an ESI: (cluster, command definition).
RECEIVED = ((Price, Price.ClientCommandDefs.publish_price), (Drlc, Drlc.ClientCommandDefs.load_control_event),
            (Messaging, Messaging.ClientCommandDefs.display_message))


@dataclasses.dataclass(frozen=True)
class Received:
    at: float  # ZCL UTC (fractional) of arrival
    source: int | None
    cluster_id: int
    command_id: int
    tsn: int
    command: Any  # the decoded payload (a zigpy command schema)
    raw: bytes


class HanClient:
    """The client roles on *endpoint* of the golden's engine."""

    def __init__(self, engine, clock: Clock, endpoint: int) -> None:
        self.clock = clock
        self.received: ObservationLog[Received] = ObservationLog(clock)
        for cluster, command in RECEIVED:
            if not engine.store.has_cluster(endpoint, cluster.cluster_id, Side.CLIENT):
                engine.store.add_cluster(endpoint, cluster.cluster_id, Side.CLIENT)
            engine.register_handler(cluster.cluster_id, Side.CLIENT, command.id, self._take, endpoint=endpoint)

    def _take(self, request: ZclRequest) -> Status:
        source = peer_of(request.packet).address
        address = source.address if isinstance(source, t.AddrModeAddress) else source
        self.received.append(Received(utc_seconds(self.clock), int(address) if isinstance(address, int) else None,
                                      request.cluster_id, request.frame.command_id, request.frame.tsn,
                                      request.command, request.frame.raw))
        return Status.SUCCESS


def han_client(golden, clock: Clock, endpoint: int) -> HanClient:
    """The golden's client roles, attached on first use (one per golden)."""
    client = getattr(golden, "han_client", None)
    if client is None:
        client = HanClient(golden.engine, clock, endpoint)
        golden.han_client = client
    return client

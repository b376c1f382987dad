"""Shared pieces of the DUT-side SE clients: the ESI peer they answer, and fire-and-forget sends."""

from __future__ import annotations

import dataclasses
from typing import Any

import zigpy.types as t

from harness.se.datamodel import Side
from harness.zcl import ZclEngine

Address = t.AddrModeAddress | t.NWK | t.EUI64 | int


@dataclasses.dataclass(frozen=True)
class Peer:
    """An ESI endpoint a client sends to (the address as the ZCL engine's send path understands it)."""

    address: Address
    endpoint: int = 1


def peer_of(packet: t.ZigbeePacket) -> Peer:
    """The sender of a received packet, to send later reports back to."""
    return Peer(packet.src, int(packet.src_ep))


async def send_to_server(engine: ZclEngine, peer: Peer, cluster_id: int, command_id: int, payload: Any,
                         *, src_ep: int) -> None:
    """Send a client-to-server cluster command without waiting: the ESI's Default Response needs no answer."""
    await engine.request(
        peer.address, peer.endpoint, cluster_id, command_id, payload, src_ep=src_ep, general=False,
        target=Side.SERVER, expect=None,
    )

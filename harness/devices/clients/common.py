"""Shared pieces of the DUT-side SE clients: the ESI peer they answer, and fire-and-forget sends."""

from __future__ import annotations

from typing import Any

from harness.se.datamodel import Side
from harness.zcl import ZclEngine
from harness.zcl.peer import Address, Peer, peer_of

__all__ = ["Address", "Peer", "peer_of", "send_to_server"]


async def send_to_server(engine: ZclEngine, peer: Peer, cluster_id: int, command_id: int, payload: Any,
                         *, src_ep: int) -> None:
    """Send a client-to-server cluster command without waiting: the ESI's Default Response needs no answer."""
    await engine.request(
        peer.address, peer.endpoint, cluster_id, command_id, payload, src_ep=src_ep, general=False,
        target=Side.SERVER, expect=None,
    )

"""Wiring a KeyEstablishment to a simulated node (harness.sim.Node, also the golden radio's app.node).

The state machine needs four things from its host: who an NWK address is (for the certificate subject
check), where the new link key goes, a switch for APS acks (a golden test hook) and the node's packets.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

import zigpy.types as t

from harness.se.clusters import KeyEstablishment as KeyEstablishmentCluster
from harness.sim.discovery import find_se_server
from harness.sim.node import Node
from harness.zcl import ZclEngine

from .engine import KeEngine
from .state_machine import KeyEstablishment

TRUST_CENTER_NWK = 0x0000


def ieee_resolver(node: Node) -> Callable[[int], int | None]:
    """NWK -> IEEE from what the node knows: its address map, its Trust Center, the TC's device table."""

    def resolve(nwk: int) -> int | None:
        if nwk in node.address_map:
            return node.address_map[nwk]
        if nwk == 0x0000 and node.security.trust_center_ieee is not None:
            return node.security.trust_center_ieee
        trust_center = node.trust_center
        if trust_center is not None:
            for ieee, record in trust_center.devices.items():
                if record.nwk == nwk:
                    return ieee
        return None

    return resolve


def aps_ack_switch(node: Node) -> Callable[[bool], None]:
    """Turn the node's APS acks on or off (StackBehaviour.send_aps_acks) for GoldenKeFaults.withhold_aps_acks."""

    def switch(on: bool) -> None:
        node.behaviour = dataclasses.replace(node.behaviour, send_aps_acks=on)

    return switch


def route_packets(node: Node, ke: KeyEstablishment) -> Callable[[], None]:
    """Deliver the node's SE-profile packets to *ke* (which passes non-KE ones on to its ZclEngine).

    Returns the function that detaches the route.
    """
    tasks: set[asyncio.Task] = set()

    def listener(packet: t.ZigbeePacket) -> None:
        if int(packet.profile_id) != ke.zcl.profile_id:
            return
        task = node.loop.create_task(ke.handle(packet))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    return node.add_packet_listener(listener)


def attach(
    node: Node, zcl: ZclEngine, endpoint: int, engine: KeEngine, **kwargs: Any
) -> tuple[KeyEstablishment, Callable[[], None]]:
    """A KeyEstablishment on *node* (resolver, key installer, APS-ack switch and send taken from the node
    unless given in kwargs), with the node's packets routed through it. Returns it and the detach function."""
    kwargs.setdefault("send", node.send_packet)
    kwargs.setdefault("ieee_of", ieee_resolver(node))
    kwargs.setdefault("install_key", node.set_link_key)
    kwargs.setdefault("set_aps_acks", aps_ack_switch(node))
    ke = KeyEstablishment(zcl, endpoint, engine, **kwargs)
    return ke, route_packets(node, ke)


async def find_key_establishment_server(
    node: Node, nwk: int = TRUST_CENTER_NWK, *, tsn: int = 0x42, timeout: float = 10.0
) -> tuple[int, int]:
    """Match_Desc_req to *nwk* for profile 0x0109 with input cluster 0x0800 (SE 1.x 5.4.7: a device finds
    the Trust Center's Key Establishment endpoint by service discovery); returns (nwk, first endpoint)."""
    return await find_se_server(node, KeyEstablishmentCluster.cluster_id, nwk, tsn=tsn, timeout=timeout)

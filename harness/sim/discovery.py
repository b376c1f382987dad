"""SE service discovery on a simulated node: Match_Desc_req for profile 0x0109 and one server cluster.

SE 1.x devices find their partners by service discovery rather than by assumed addresses: a device finds the
Trust Center's Key Establishment endpoint (SE 1.x 5.4.7) and a meter reader its Simple Metering server
(Match_Desc_req, Zigbee 2.4.3.1.7), unicast to a known node or broadcast to every node with its receiver on.
"""

from __future__ import annotations

import asyncio

import zigpy.types as t
import zigpy.zdo.types as zdo_t
from zigpy.zdo.types import ZDOCmd

from harness.se.datamodel import SE_PROFILE_ID

from . import zdo
from .node import Node

#: Broadcast to every node whose receiver is on when idle (Zigbee 3.6.5): where a meter or ESI lives.
RX_ON_WHEN_IDLE = 0xFFFD


class DiscoveryError(RuntimeError):
    """Match_Desc found no server (no answer, a failure status or no endpoint): the message says which."""


async def find_se_server(node: Node, cluster_id: int, nwk: int, *, tsn: int, timeout: float = 10.0) -> tuple[int, int]:
    """(NWK address, first endpoint) of a node with *cluster_id* as an input (server) cluster on the SE profile.

    *nwk* is the node asked, or RX_ON_WHEN_IDLE to ask every powered node; then the first answer naming an
    endpoint wins (2.4.4.2.7: only matching devices answer a broadcast)."""
    loop = node.loop
    answer: asyncio.Future[t.ZigbeePacket] = loop.create_future()
    broadcast = nwk >= 0xFFF8

    def listener(packet: t.ZigbeePacket) -> None:
        if int(packet.profile_id) != 0 or int(packet.cluster_id) != ZDOCmd.Match_Desc_rsp or answer.done():
            return
        data = packet.data.serialize()
        if data[:1] == bytes([tsn]):
            answer.set_result(packet)

    remove = node.add_packet_listener(listener)
    mode = t.AddrMode.Broadcast if broadcast else t.AddrMode.NWK
    try:
        request = zdo.encode(ZDOCmd.Match_Desc_req, tsn, t.NWK(nwk), SE_PROFILE_ID, [cluster_id], [])
        await node.send_packet(t.ZigbeePacket(
            src_ep=0, dst=t.AddrModeAddress(addr_mode=mode, address=t.NWK(nwk)), dst_ep=0,
            profile_id=0, cluster_id=ZDOCmd.Match_Desc_req, data=t.SerializableBytes(request),
            tx_options=t.TransmitOptions.NONE if broadcast else t.TransmitOptions.ACK))
        try:
            async with asyncio.timeout(timeout):
                packet = await answer
        except TimeoutError:
            raise DiscoveryError(f"no Match_Desc_rsp for cluster 0x{cluster_id:04X} from 0x{nwk:04X} "
                                 f"within {timeout:g} s") from None
    finally:
        remove()
    try:
        _tsn, (status, responder, endpoints) = zdo.decode(ZDOCmd.Match_Desc_rsp, packet.data.serialize())
    except zdo.ZdoError as exc:
        raise DiscoveryError(f"undecodable Match_Desc_rsp from 0x{nwk:04X}: {exc}") from None
    if status != zdo_t.Status.SUCCESS or not endpoints:
        raise DiscoveryError(f"Match_Desc_rsp for cluster 0x{cluster_id:04X} from 0x{int(responder):04X}: "
                             f"status {status!r}, endpoints {list(endpoints)}")
    return int(responder), int(endpoints[0])

"""Fixtures for the ZCL engine tests: an engine wired to a list of sent packets, on a virtual-time loop."""

from __future__ import annotations

import pytest
import zigpy.types as t

from harness.clock import new_virtual_loop
from harness.se.datamodel import Side
from harness.zcl import AttributeStore, ZclEngine

DUT_NWK = 0x1234
ESI_NWK = 0x0000


def packet(data: str | bytes, cluster: int, *, aps: bool = True, dst=DUT_NWK, dst_ep: int = 1, src=ESI_NWK,
           dst_mode=t.AddrMode.NWK, profile: int = 0x0109) -> t.ZigbeePacket:
    raw = bytes.fromhex(data) if isinstance(data, str) else data
    return t.ZigbeePacket(
        src=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=src),
        src_ep=1,
        dst=t.AddrModeAddress(addr_mode=dst_mode, address=dst),
        dst_ep=dst_ep,
        profile_id=profile,
        cluster_id=cluster,
        data=t.SerializableBytes(raw),
        tx_options=t.TransmitOptions.APS_Encryption if aps else t.TransmitOptions.NONE,
    )


class Node:
    """An engine plus everything it sent."""

    def __init__(self, store: AttributeStore | None = None) -> None:
        self.sent: list[t.ZigbeePacket] = []
        self.engine = ZclEngine(self._send, store=store)

    async def _send(self, pkt: t.ZigbeePacket) -> None:
        self.sent.append(pkt)

    def sent_hex(self) -> list[str]:
        return [p.data.serialize().hex() for p in self.sent]


def ihd_store() -> AttributeStore:
    store = AttributeStore()
    store.add_cluster(1, 0x0000, Side.SERVER, values={0x0004: "Acme"})
    store.add_cluster(1, 0x0701, Side.CLIENT)
    store.add_cluster(1, 0x0702, Side.SERVER)
    store.add_cluster(1, 0x0800, Side.SERVER, values={0x0000: 1})
    return store


@pytest.fixture
def loop():
    loop = new_virtual_loop()
    yield loop
    loop.close()


@pytest.fixture
def dut(loop):
    node = Node(ihd_store())
    yield node
    node.engine.close()

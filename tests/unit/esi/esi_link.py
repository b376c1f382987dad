"""A golden ESI and a DUT, each a ZclEngine, on an in-memory link in virtual time.

The ESI carries the golden Time, DRLC, Price and Messaging servers; the DUT carries the Time, DRLC, Price and
Messaging clients. `dut_skew` starts the DUT's own clock that many seconds off the bench clock, so that
taking time from the ESI is observable.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import zigpy.types as t

from harness.clock import ZCL_EPOCH, VirtualClock, VirtualTimeLoop
from harness.devices.clients import (
    DrlcClient,
    DrlcClientFaults,
    MessagingClient,
    MessagingClientFaults,
    PriceClient,
    PriceClientFaults,
    TimeClient,
    TimeClientFaults,
)
from harness.devices.clients import Peer as EsiPeer
from harness.golden.esi import DrlcServer, MessagingServer, Peer, PriceServer, TimeServer
from harness.zcl import ZclEngine

ESI_NWK = 0x0000
DUT_NWK = 0x4F2A
EPOCH = datetime(2024, 6, 1, tzinfo=UTC)
#: ZCL UTC of EPOCH: the bench clock's reading when a link is made (virtual loop time 0).
T0 = int((EPOCH - ZCL_EPOCH).total_seconds())


class EsiLink:
    def __init__(
        self,
        loop: VirtualTimeLoop,
        *,
        dut_skew: float = 0.0,
        seed: int = 1,
        drlc_faults: DrlcClientFaults | None = None,
        price_faults: PriceClientFaults | None = None,
        messaging_faults: MessagingClientFaults | None = None,
        time_faults: TimeClientFaults | None = None,
        confirm_after: float | None = 0.0,
        **drlc: Any,
    ) -> None:
        self.loop = loop
        self.up = True
        self.esi_clock = VirtualClock(loop, epoch=EPOCH, origin=loop.time())
        self.dut_clock = VirtualClock(loop, epoch=EPOCH + timedelta(seconds=dut_skew), origin=loop.time())
        self.esi = ZclEngine(self._sender(ESI_NWK, lambda: self.dut))
        self.dut = ZclEngine(self._sender(DUT_NWK, lambda: self.esi))
        self.esi_sent: list[t.ZigbeePacket] = []
        self.dut_sent: list[t.ZigbeePacket] = []
        self.time_server = TimeServer(self.esi, self.esi_clock)
        self.drlc = DrlcServer(self.esi, self.esi_clock)
        self.price = PriceServer(self.esi, self.esi_clock)
        self.messaging = MessagingServer(self.esi, self.esi_clock)
        self.time_client = TimeClient(self.dut, self.dut_clock, faults=time_faults)
        self.drlc_client = DrlcClient(self.dut, self.time_client, seed=seed, faults=drlc_faults, **drlc)
        self.price_client = PriceClient(self.dut, self.time_client, faults=price_faults)
        self.messaging_client = MessagingClient(self.dut, self.time_client, faults=messaging_faults,
                                                confirm_after=confirm_after)
        self.dut_peer = Peer(DUT_NWK, 1)
        self.esi_peer = EsiPeer(ESI_NWK, 1)

    def _sender(self, src: int, peer):
        async def send(pkt: t.ZigbeePacket) -> None:
            (self.esi_sent if src == ESI_NWK else self.dut_sent).append(pkt)
            if not self.up:
                return
            pkt = pkt.replace(src=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=src))
            # Delivery takes one loop turn, as a radio would.
            self.loop.call_soon(lambda: self.loop.create_task(peer().handle(pkt)))

        return send

    def now(self) -> int:
        """The bench (ESI) clock as ZCL UTC."""
        return self.esi_clock.zcl_utc()

    def run(self, awaitable: Any) -> Any:
        return self.loop.run_until_complete(awaitable)

    def advance(self, seconds: float) -> None:
        """Let `seconds` of virtual time pass with everything scheduled in them."""
        self.run(asyncio.sleep(seconds))

    def close(self) -> None:
        self.drlc_client.close()
        self.messaging_client.close()
        self.esi.close()
        self.dut.close()

"""DUT-side Price client (cluster 0x0700): keeps the published prices, acknowledges them when asked, and
asks for the current price after joining.

Rules (SE-FACTS "Price 0x0700"; table rules checked against Silicon Labs gecko_sdk
plugin/price-client/price-client.c, emberAfPriceClusterPublishPriceCallback):
- StartTime 0 = now; Duration 0xFFFF = until changed.
- A price already ended -> Default Response FAILURE; a known IssuerEventID -> DUPLICATE_EXISTS (not stored
  twice).
- Overlap: a newer IssuerEventID wins; an active older price that the new one starts after is cut at the new
  start, any other overlapped older price is dropped; a price older than one it overlaps -> FAILURE.
- PriceControl bit0 (acknowledgement required) -> Price Acknowledgement as the response (same sequence
  number) with PriceAckTime = now; otherwise Default Response SUCCESS.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from zigpy.zcl.foundation import Status

from harness.devices.clients.common import Peer, peer_of
from harness.devices.clients.time import TimeClient
from harness.se.clusters import Price
from harness.se.datamodel import Side
from harness.se.types import UNTIL_CHANGED, PriceControl
from harness.zcl import ZclEngine, ZclRequest, ZclTimeout

NEVER = 0xFFFFFFFF

GetCurrentPrice = Price.ServerCommandDefs.get_current_price.schema
GetScheduledPrices = Price.ServerCommandDefs.get_scheduled_prices.schema
PriceAcknowledgement = Price.ServerCommandDefs.price_acknowledgement.schema


@dataclasses.dataclass
class PriceClientFaults:
    """Seeded non-conformances (all off = conformant)."""

    no_acknowledgement: bool = False  # never sends Price Acknowledgement, even when PriceControl asks


@dataclasses.dataclass
class ReceivedPrice:
    """A stored price: the Publish Price payload, its resolved start/end (network UTC) and its sender."""

    publish: Any
    start: int
    end: int
    esi: Peer

    @property
    def issuer_event_id(self) -> int:
        return int(self.publish.issuer_event_id)

    def active_at(self, now: int) -> bool:
        return self.start <= now < self.end


class PriceClient:
    """The Price client on `endpoint` of a device's `engine`."""

    def __init__(self, engine: ZclEngine, time: TimeClient, *, endpoint: int = 1,
                 faults: PriceClientFaults | None = None) -> None:
        self.engine = engine
        self.time = time
        self.endpoint = endpoint
        self.faults = faults or PriceClientFaults()
        self.prices: list[ReceivedPrice] = []
        #: Every Publish Price received (accepted or not), in order.
        self.received: list[Any] = []
        if not engine.store.has_cluster(endpoint, Price.cluster_id, Side.CLIENT):
            engine.store.add_cluster(endpoint, Price.cluster_id, Side.CLIENT)
        engine.register_handler(Price.cluster_id, Side.CLIENT, Price.ClientCommandDefs.publish_price.id,
                                self._on_publish_price, endpoint=endpoint)

    def current_price(self) -> ReceivedPrice | None:
        now = self.time.utc()
        return next((p for p in self.prices if p.active_at(now)), None)

    def _store(self, publish: Any, esi: Peer) -> Status:
        now = self.time.utc()
        start = now if int(publish.start_time) == 0 else int(publish.start_time)
        duration = int(publish.duration_in_minutes)
        end = NEVER if duration == UNTIL_CHANGED else start + duration * 60
        if end <= now:
            return Status.FAILURE
        event_id = int(publish.issuer_event_id)
        if any(p.issuer_event_id == event_id for p in self.prices):
            return Status.DUPLICATE_EXISTS
        kept: list[ReceivedPrice] = []
        for old in self.prices:
            if not (old.start < end and old.end > start):
                kept.append(old)
            elif old.issuer_event_id > event_id:
                return Status.FAILURE
            elif old.active_at(now) and now < start:
                old.end = start
                kept.append(old)
        self.prices = sorted([*kept, ReceivedPrice(publish, start, end, esi)], key=lambda p: p.start)
        return Status.SUCCESS

    async def _on_publish_price(self, request: ZclRequest) -> Status | None:
        publish = request.command
        self.received.append(publish)
        status = self._store(publish, peer_of(request.packet))
        control = int(publish.price_control or 0)
        if status != Status.SUCCESS or not control & PriceControl.Acknowledgement_Required:
            return status
        if self.faults.no_acknowledgement:
            return Status.SUCCESS
        ack = PriceAcknowledgement(
            provider_id=int(publish.provider_id), issuer_event_id=int(publish.issuer_event_id),
            price_ack_time=self.time.utc(), control=PriceControl(control),
        )
        await request.respond(Price.ServerCommandDefs.price_acknowledgement.id, ack)
        return None

    async def get_current_price(self, esi: Peer, *, timeout: float = 5.0) -> bool:
        """Ask for the current price (after joining); True when the ESI answered with a Publish Price."""
        try:
            frame = await self.engine.command(
                esi.address, esi.endpoint, Price.cluster_id, Price.ServerCommandDefs.get_current_price.id,
                GetCurrentPrice(command_options=0), src_ep=self.endpoint, response=Price.ClientCommandDefs.publish_price.id,
                timeout=timeout,
            )
        except ZclTimeout:
            return False
        return frame is not None and not frame.is_general

    async def get_scheduled_prices(self, esi: Peer, *, start_time: int = 0, number_of_events: int = 0,
                                   timeout: float = 5.0) -> bool:
        """Ask for the scheduled prices; they arrive (and are stored) as Publish Price commands."""
        try:
            frame = await self.engine.command(
                esi.address, esi.endpoint, Price.cluster_id, Price.ServerCommandDefs.get_scheduled_prices.id,
                GetScheduledPrices(start_time=start_time, number_of_events=number_of_events),
                src_ep=self.endpoint, response=Price.ClientCommandDefs.publish_price.id, timeout=timeout,
            )
        except ZclTimeout:
            return False
        return frame is not None and not frame.is_general

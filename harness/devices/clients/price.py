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
  number) with PriceAckTime = now and Control = the price's PriceControl; otherwise Default Response SUCCESS.
  The other PriceControl bits (reserved in SE 1.1) ask for nothing.
- Overlap is strict: a price that starts when another ends does not overlap it.
- Fields after the ones it knows (a later revision's) are ignored (forward compatibility).
- Get Scheduled Prices (after Get Current Price, when the device claims it) asks from now (StartTime: the
  earliest end time of the prices to send) for every price (NumberOfEvents 0).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from zigpy.zcl.foundation import Status

from harness.devices.clients.common import Peer, peer_of
from harness.devices.clients.time import TimeClient
from harness.se.clusters import Price
from harness.se.datamodel import Side
from harness.se.types import START_NOW, UNTIL_CHANGED, PriceControl
from harness.zcl import ZclEngine, ZclRequest, ZclTimeout

NEVER = 0xFFFFFFFF

GetCurrentPrice = Price.ServerCommandDefs.get_current_price.schema
GetScheduledPrices = Price.ServerCommandDefs.get_scheduled_prices.schema
PriceAcknowledgement = Price.ServerCommandDefs.price_acknowledgement.schema


@dataclasses.dataclass
class PriceClientFaults:
    """Seeded non-conformances (all off = conformant)."""

    no_acknowledgement: bool = False  # never sends Price Acknowledgement, even when PriceControl asks
    acknowledge_unasked: bool = False  # acknowledges every price it takes, whatever PriceControl says
    acknowledgement_bit_by_equality: bool = False  # acknowledges only when PriceControl is exactly 0x01
    acknowledgement_control_zero: bool = False  # Control 0x00 in its acknowledgements
    accept_expired: bool = False  # takes a price that has already ended
    never_expire: bool = False  # takes every Duration as "until changed"
    start_on_arrival: bool = False  # takes every StartTime as "now"
    duration_in_seconds: bool = False  # reads DurationInMinutes as seconds
    overlap_when_touching: bool = False  # a price starting where another ends overlaps it
    refuse_older_anywhere: bool = False  # refuses a price older than the newest it holds, overlapping or not
    refusals_answered_success: bool = False  # answers a price it does not take with Default Response SUCCESS
    se11_layout_only: bool = False  # answers MALFORMED_COMMAND to a Publish Price longer than SE 1.1's
    reject_unknown_fields: bool = False  # answers MALFORMED_COMMAND to bytes after the fields it knows
    scheduled_prices_from_tomorrow: bool = False  # Get Scheduled Prices asks from a day after now
    shown_through_end_second: bool = False  # shows a price as current in its end second too ([start, end])
    keeps_superseded_start: bool = False  # cuts an older price not yet in force at a newer one's start, not dropped


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

    def current_price(self, now: int | None = None) -> ReceivedPrice | None:
        """The price in force at network time *now* (by default the device's time now): what its display shows."""
        now = self.time.utc() if now is None else now
        if self.faults.shown_through_end_second:
            return next((p for p in self.prices if p.start <= now <= p.end), None)
        return next((p for p in self.prices if p.active_at(now)), None)

    def _store(self, publish: Any, esi: Peer) -> Status:
        faults = self.faults
        now = self.time.utc()
        start = now if int(publish.start_time) == START_NOW or faults.start_on_arrival else int(publish.start_time)
        duration = int(publish.duration_in_minutes)
        seconds = duration if faults.duration_in_seconds else duration * 60
        end = NEVER if duration == UNTIL_CHANGED or faults.never_expire else start + seconds
        if end <= now and not faults.accept_expired:
            return Status.FAILURE
        event_id = int(publish.issuer_event_id)
        if any(p.issuer_event_id == event_id for p in self.prices):
            return Status.DUPLICATE_EXISTS
        if faults.refuse_older_anywhere and any(p.issuer_event_id > event_id for p in self.prices):
            return Status.FAILURE
        kept: list[ReceivedPrice] = []
        for old in self.prices:
            touching = faults.overlap_when_touching and (old.start == end or old.end == start)
            if not (old.start < end and old.end > start) and not touching:
                kept.append(old)
            elif old.issuer_event_id > event_id:
                return Status.FAILURE
            elif (old.active_at(now) or faults.keeps_superseded_start) and now < start:
                old.end = start
                kept.append(old)
        self.prices = sorted([*kept, ReceivedPrice(publish, start, end, esi)], key=lambda p: p.start)
        return Status.SUCCESS

    def _layout_refused(self, request: ZclRequest) -> bool:
        """A seeded strict parser: a Publish Price longer than the layout it was written for is malformed."""
        publish = request.command
        if self.faults.se11_layout_only and publish.number_of_generation_tiers is not None:
            return True
        return self.faults.reject_unknown_fields and len(request.frame.payload) > len(publish.serialize())

    def _asks_acknowledgement(self, control: int) -> bool:
        if self.faults.acknowledge_unasked:
            return True
        if self.faults.acknowledgement_bit_by_equality:
            return control == PriceControl.Acknowledgement_Required
        return bool(control & PriceControl.Acknowledgement_Required)

    async def _on_publish_price(self, request: ZclRequest) -> Status | None:
        publish = request.command
        if self._layout_refused(request):
            return Status.MALFORMED_COMMAND
        self.received.append(publish)
        status = self._store(publish, peer_of(request.packet))
        control = int(publish.price_control or 0)
        if status != Status.SUCCESS and self.faults.refusals_answered_success:
            return Status.SUCCESS
        if status != Status.SUCCESS or not self._asks_acknowledgement(control):
            return status
        if self.faults.no_acknowledgement:
            return Status.SUCCESS
        ack = PriceAcknowledgement(
            provider_id=int(publish.provider_id), issuer_event_id=int(publish.issuer_event_id),
            price_ack_time=self.time.utc(),
            control=PriceControl(0 if self.faults.acknowledgement_control_zero else control),
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

    async def get_scheduled_prices(self, esi: Peer, *, start_time: int | None = None, number_of_events: int = 0,
                                   timeout: float = 5.0) -> bool:
        """Ask for the scheduled prices (by default those ending after now, all of them); they arrive (and are
        stored) as Publish Price commands."""
        if start_time is None:
            start_time = self.time.utc() + (86400 if self.faults.scheduled_prices_from_tomorrow else 0)
        try:
            frame = await self.engine.command(
                esi.address, esi.endpoint, Price.cluster_id, Price.ServerCommandDefs.get_scheduled_prices.id,
                GetScheduledPrices(start_time=start_time, number_of_events=number_of_events),
                src_ep=self.endpoint, response=Price.ClientCommandDefs.publish_price.id, timeout=timeout,
            )
        except ZclTimeout:
            return False
        return frame is not None and not frame.is_general

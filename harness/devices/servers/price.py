"""The reference Price server (cluster 0x0700), device side: the ESI's tariff.

It holds a current price (started half an hour before the device came up, until changed) and whatever prices its
operator publishes (each the next hour, for an hour: DUT control ``publish_price``). Get Current Price is answered
with a Publish Price of the price in force; Get Scheduled Prices with one Publish Price per price in force or to
come (ending after StartTime, 0 = now), at most NumberOfEvents of them (0 = all), earliest first; a Price
Acknowledgement is taken with SUCCESS. Every Publish Price carries the ESI's time in CurrentTime.

Rules (SE-FACTS "Price"; SE 1.x Annex D.4.2; Silicon Labs price-server): RateLabel at most 11 bytes;
Duration 0xFFFF = until changed; the price in force is the latest started whose duration has not run out.
Written apart from the golden's Price server (harness/golden/esi/price.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from zigpy.zcl.foundation import Status

from harness.se.clusters import Price
from harness.se.types import UNTIL_CHANGED, PriceControl
from harness.zcl import ZclRequest

from ..server_faults import (
    CURRENT_PRICE_NOT_CURRENT,
    CURRENT_PRICE_STANDING_ONLY,
    PRICE_ACK_REFUSED,
    PRICE_CONTROL_CLAIMS_EXTENDED_TIERS,
    PRICE_SERVER_NOT_CARRIED,
    PUBLISH_PRICE_STALE_TIME,
    RATE_LABEL_TOO_LONG,
    SCHEDULED_PRICES_IGNORE_COUNT,
    SCHEDULED_PRICES_SKIP_CURRENT,
    UNTIL_CHANGED_PRICE_EXPIRES,
)
from .base import ServerCluster, ServerHost

#: The utility's provider id, its currency (ISO 4217 840, US dollar) and the kWh unit of its prices.
PROVIDER_ID, CURRENCY, UNIT_KWH = 0x00C0FFEE, 840, 0x00
#: Prices in 1/10 000 of a dollar (trailing digit 4): off-peak 0.1250, on-peak 0.2650.
TRAILING_DIGIT, OFF_PEAK, ON_PEAK, TIERS = 4, 1250, 2650, 3


@dataclass
class PriceEntry:
    issuer_event_id: int
    rate_label: bytes
    tier: int
    start: int  # ZCL UTC
    duration: int  # minutes, UNTIL_CHANGED = until changed
    price: int
    price_control: int = 0

    def ends(self) -> float:
        return float("inf") if self.duration == UNTIL_CHANGED else self.start + 60 * self.duration


class PriceServer(ServerCluster):
    cluster = Price

    def __init__(self, faults, endpoint: int, *, seed: int = 0) -> None:
        super().__init__(faults, endpoint, seed=seed)
        self.prices: list[PriceEntry] = []
        self.acknowledgements: list[tuple[int, int]] = []  # (issuer event id, PriceAckTime)
        self.now = lambda: 0

    def seed_attribute_faults(self, store) -> None:
        self.seed_not_carried(store, PRICE_SERVER_NOT_CARRIED)

    def attach(self, host: ServerHost) -> None:
        super().attach(host)
        self.now = host.clock.zcl_utc
        defs = Price.ServerCommandDefs
        for command, handler in ((defs.get_current_price, self._on_current), (defs.get_scheduled_prices,
                                 self._on_scheduled), (defs.price_acknowledgement, self._on_ack)):
            host.engine.register_handler(Price.cluster_id, self.key(0).side, command.id, handler, endpoint=self.endpoint)
        if not self.prices:
            self.prices.append(PriceEntry(1001, b"Off-Peak", 1, self.now() - 1800, UNTIL_CHANGED, OFF_PEAK))

    def publish_price(self) -> PriceEntry:
        """The operator publishes the next hour's on-peak price (its ESI asks for acknowledgement)."""
        now = self.now()
        start = (now // 3600 + 1) * 3600
        entry = PriceEntry(1001 + len(self.prices), b"On-Peak", 2, start, 60, ON_PEAK,
                           int(PriceControl.Acknowledgement_Required))
        self.prices.append(entry)
        return entry

    def ends(self, entry: PriceEntry) -> float:
        """When a price ends in the server's own view."""
        if entry.duration == UNTIL_CHANGED and self.faults.has(UNTIL_CHANGED_PRICE_EXPIRES):
            return entry.start + 60 * entry.duration  # the seeded fault: 0xFFFF read as a number of minutes
        return entry.ends()

    def in_force(self, at: int) -> PriceEntry | None:
        started = [p for p in self.prices if p.start <= at < self.ends(p)]
        return max(started, key=lambda p: p.start, default=None)

    def payload(self, entry: PriceEntry):
        label = entry.rate_label + (b"-Rate" if self.faults.has(RATE_LABEL_TOO_LONG) else b"")
        current_time = 0 if self.faults.has(PUBLISH_PRICE_STALE_TIME) else self.now()
        control = entry.price_control
        if self.faults.has(PRICE_CONTROL_CLAIMS_EXTENDED_TIERS):
            control |= int(PriceControl.Total_Tiers_Exceeds_15)
        return Price.ClientCommandDefs.publish_price.schema(
            provider_id=PROVIDER_ID, rate_label=label, issuer_event_id=entry.issuer_event_id,
            current_time=current_time, unit_of_measure=UNIT_KWH, currency=CURRENCY,
            price_trailing_digit_and_price_tier=(TRAILING_DIGIT << 4) | entry.tier,
            number_of_price_tiers_and_register_tier=(TIERS << 4) | entry.tier, start_time=entry.start,
            duration_in_minutes=entry.duration, price=entry.price, price_ratio=0xFF, generation_price=0xFFFFFFFF,
            generation_price_ratio=0xFF, alternate_cost_delivered=0xFFFFFFFF, alternate_cost_unit=0xFF,
            alternate_cost_trailing_digit=0xFF, number_of_block_thresholds=0xFF, price_control=control)

    async def _on_current(self, request: ZclRequest):
        now = self.now()
        entry = max(self.prices, key=lambda p: p.start) if self.faults.has(CURRENT_PRICE_NOT_CURRENT) \
            else self.in_force(now)
        if entry is not None and entry.duration != UNTIL_CHANGED and self.faults.has(CURRENT_PRICE_STANDING_ONLY):
            entry = max((p for p in self.prices if p.duration == UNTIL_CHANGED and p.start <= now),
                        key=lambda p: p.start, default=entry)
        if entry is None:
            return Status.NOT_FOUND
        await request.respond(Price.ClientCommandDefs.publish_price.id, self.payload(entry))
        return None

    async def _on_scheduled(self, request: ZclRequest):
        start = int(request.command.start_time) or self.now()
        wanted = int(request.command.number_of_events)
        due = sorted((p for p in self.prices if self.ends(p) > start), key=lambda p: p.start)
        if self.faults.has(SCHEDULED_PRICES_SKIP_CURRENT):
            due = [p for p in due if p.start > start]
        if wanted and not self.faults.has(SCHEDULED_PRICES_IGNORE_COUNT):
            due = due[:wanted]
        if not due:
            return Status.NOT_FOUND
        for entry in due:
            await request.respond(Price.ClientCommandDefs.publish_price.id, self.payload(entry))
        return None

    def _on_ack(self, request: ZclRequest):
        self.acknowledgements.append((int(request.command.issuer_event_id), int(request.command.price_ack_time)))
        return Status.FAILURE if self.faults.has(PRICE_ACK_REFUSED) else Status.SUCCESS

"""Golden Price server (cluster 0x0700): publishes prices, answers Get Current Price and Get Scheduled
Prices, and keeps every Price Acknowledgement a DUT sends with its arrival time.

SE-FACTS "Price 0x0700": Publish Price carries ProviderID, RateLabel, IssuerEventID, CurrentTime, ..., StartTime
(0 = now), Duration (0xFFFF = until changed), Price, then optional fields ending with PriceControl (bit0 =
acknowledgement required). Client commands: Get Current Price (0x00), Get Scheduled Prices (0x01), Price
Acknowledgement (0x02). Answers to Get Current Price / Get Scheduled Prices are Publish Price commands with
the request's sequence number; with nothing to publish the answer is a Default Response NOT_FOUND. Get
Scheduled Prices' StartTime is the earliest end time of the prices to send (an active price ends after it), and
NumberOfEvents 0 asks for them all (SE 1.1 Annex D.4.2.3.2).

A later revision appends fields to Publish Price (SE 1.2: NumberOfGenerationTiers, GenerationTier,
ExtendedNumberOfPriceTiers, ExtendedPriceTier, ExtendedRegisterTier); `PriceEvent.se12_fields` sends them and
`PriceEvent.trailing` appends bytes no revision defines yet, which a device must ignore (ZCL forward
compatibility: a receiver ignores the fields it does not know at the end of a command).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from zigpy.zcl.foundation import Status

from harness.clock import Clock
from harness.golden.esi.common import EsiFinding, ObservationLog, Peer, utc_seconds
from harness.se.clusters import Price
from harness.se.datamodel import Side
from harness.se.types import (
    BLOCK_THRESHOLDS_UNUSED,
    START_NOW,
    UNTIL_CHANGED,
    NumberOfPriceTiersAndRegisterTier,
    PriceControl,
    PriceTrailingDigitAndPriceTier,
)
from harness.zcl import MalformedFrame, ZclEngine, ZclRequest, ZclTimeout
from harness.zcl.frame import DECODE_ERRORS, decode_general

#: ISO 4217 numeric code of the US dollar, the default currency of the golden's prices.
CURRENCY_USD = 840

PublishPrice = Price.ClientCommandDefs.publish_price.schema


@dataclasses.dataclass
class PriceEvent:
    """A price the golden publishes; `price_control` bit0 asks the client for an acknowledgement."""

    issuer_event_id: int
    price: int
    start_time: int = START_NOW
    duration_minutes: int = UNTIL_CHANGED
    provider_id: int = 1
    rate_label: bytes = b"BASE"
    unit_of_measure: int = 0  # kWh (SE-FACTS "Metering": 0 = kWh/kW)
    currency: int = CURRENCY_USD
    trailing_digit: int = 2
    price_tier: int = 1
    number_of_price_tiers: int = 1
    register_tier: int = 1
    price_control: int | None = None
    issued_at: int = 0
    #: Send the SE 1.2 fields after PriceControl (which is then sent too, 0 unless set).
    se12_fields: bool = False
    #: Bytes after the last field the golden knows (a later revision's fields).
    trailing: bytes = b""
    #: SE 1.1 NumberOfBlockThresholds (block pricing); None: "not used" (0xFF) when the SE 1.1 fields go out.
    number_of_block_thresholds: int | None = None

    @property
    def start(self) -> int:
        return self.issued_at if self.start_time == START_NOW else self.start_time

    @property
    def end(self) -> int | None:
        """When the price ends (None: until changed)."""
        return None if self.duration_minutes == UNTIL_CHANGED else self.start + self.duration_minutes * 60

    def active_at(self, now: int) -> bool:
        if self.start > now:
            return False
        return self.end is None or now < self.end

    def payload(self, current_time: int) -> Any:
        fields: dict[str, Any] = {
            "provider_id": self.provider_id,
            "rate_label": self.rate_label,
            "issuer_event_id": self.issuer_event_id,
            "current_time": current_time,
            "unit_of_measure": self.unit_of_measure,
            "currency": self.currency,
            "price_trailing_digit_and_price_tier": PriceTrailingDigitAndPriceTier(
                (self.trailing_digit << 4) | self.price_tier),
            "number_of_price_tiers_and_register_tier": NumberOfPriceTiersAndRegisterTier(
                (self.number_of_price_tiers << 4) | self.register_tier),
            "start_time": self.start_time,
            "duration_in_minutes": self.duration_minutes,
            "price": self.price,
        }
        if self.price_control is not None or self.se12_fields or self.number_of_block_thresholds is not None:
            # PriceControl is the last SE 1.1 field: everything before it goes out with "not used" values.
            fields.update(
                price_ratio=0xFF, generation_price=0xFFFFFFFF, generation_price_ratio=0xFF,
                alternate_cost_delivered=0xFFFFFFFF, alternate_cost_unit=0xFF, alternate_cost_trailing_digit=0xFF,
                number_of_block_thresholds=(BLOCK_THRESHOLDS_UNUSED if self.number_of_block_thresholds is None
                                            else self.number_of_block_thresholds),
                price_control=PriceControl(self.price_control or 0),
            )
        if self.se12_fields:
            # One generation tier; the extended tier fields 0: the tiers of the SE 1.1 fields stand.
            fields.update(number_of_generation_tiers=1, generation_tier=1, extended_number_of_price_tiers=0,
                          extended_price_tier=0, extended_register_tier=0)
        return PublishPrice(**fields)

    def encode(self, current_time: int) -> bytes:
        """The Publish Price payload as sent: the fields, then `trailing`."""
        return bytes(self.payload(current_time).serialize()) + self.trailing


@dataclasses.dataclass(frozen=True)
class PublishAnswer:
    """What the DUT answered a Publish Price with (same sequence number): a Default Response (its status and the
    command id it names) or a cluster command (Price Acknowledgement); `arrival` on the bench clock."""

    issuer_event_id: int
    arrival: float
    default_response: Status | None = None
    answered_command: int | None = None  # a Default Response's CommandIdentifier field
    cluster_command: int | None = None


@dataclasses.dataclass(frozen=True)
class ScheduledAnswer:
    """A Get Scheduled Prices the DUT sent and the prices the golden answered it with."""

    arrival: float
    start_time: int
    number_of_events: int
    issuer_event_ids: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class PriceAcknowledgement:
    provider_id: int
    issuer_event_id: int
    price_ack_time: int
    control: int
    arrival: float
    source: Peer


class PriceServer:
    """The ESI's Price server on `endpoint` of `engine`; acknowledgements are in `acknowledgements`."""

    def __init__(self, engine: ZclEngine, clock: Clock, *, endpoint: int = 1) -> None:
        self.engine = engine
        self.clock = clock
        self.endpoint = endpoint
        self.prices: list[PriceEvent] = []
        self.acknowledgements: ObservationLog[PriceAcknowledgement] = ObservationLog(clock)
        self.scheduled_requests: ObservationLog[ScheduledAnswer] = ObservationLog(clock)
        self.findings: list[EsiFinding] = []
        if not engine.store.has_cluster(endpoint, Price.cluster_id, Side.SERVER):
            engine.store.add_cluster(endpoint, Price.cluster_id, Side.SERVER)
        for command_id, handler in (
            (Price.ServerCommandDefs.get_current_price.id, self._on_get_current_price),
            (Price.ServerCommandDefs.get_scheduled_prices.id, self._on_get_scheduled_prices),
            (Price.ServerCommandDefs.price_acknowledgement.id, self._on_acknowledgement),
        ):
            engine.register_handler(Price.cluster_id, Side.SERVER, command_id, handler, endpoint=endpoint)

    def add_price(self, price: PriceEvent) -> PriceEvent:
        """Keep a price in the schedule (without sending it); start-now prices start at the current time."""
        if price.start_time == START_NOW:
            price.issued_at = self.clock.zcl_utc()
        self.prices = [p for p in self.prices if p.issuer_event_id != price.issuer_event_id] + [price]
        return price

    async def publish(self, dut: Peer, price: PriceEvent, *, schedule: bool = True,
                      answer_timeout: float | None = None) -> PublishAnswer | None:
        """Send Publish Price unsolicited (and keep it for Get Current/Scheduled Prices). With `answer_timeout`,
        wait that long for the DUT's answer (a Default Response or a Price Acknowledgement with the same sequence
        number) and return it, None when none came; without, return at once."""
        if schedule:
            self.add_price(price)
        payload = price.encode(self.clock.zcl_utc())
        publish = (dut.address, dut.endpoint, Price.cluster_id, Price.ClientCommandDefs.publish_price.id, payload)
        if answer_timeout is None:
            await self.engine.request(*publish, src_ep=self.endpoint, general=False, target=Side.CLIENT, expect=None)
            return None
        try:
            frame = await self.engine.request(
                *publish, src_ep=self.endpoint, general=False, target=Side.CLIENT,
                expect=[Price.ServerCommandDefs.price_acknowledgement.id], timeout=answer_timeout)
        except ZclTimeout:
            return None
        assert frame is not None
        arrival = utc_seconds(self.clock)
        if frame.is_general:
            try:
                default = decode_general(frame)
            except (MalformedFrame, *DECODE_ERRORS):
                return PublishAnswer(price.issuer_event_id, arrival)
            return PublishAnswer(price.issuer_event_id, arrival, default_response=Status(default.status),
                                 answered_command=int(default.command_id))
        return PublishAnswer(price.issuer_event_id, arrival, cluster_command=frame.command_id)

    def current_price(self) -> PriceEvent | None:
        """The active price with the latest start (a newer price replaces an older one from its start)."""
        now = self.clock.zcl_utc()
        active = [p for p in self.prices if p.active_at(now)]
        return max(active, key=lambda p: (p.start, p.issuer_event_id)) if active else None

    def scheduled_prices(self, start_time: int, number_of_events: int) -> list[PriceEvent]:
        """The active and later prices that end after `start_time` (the earliest end time asked for), first
        starting first; `number_of_events` of them (0: all)."""
        now = self.clock.zcl_utc()
        ordered = sorted(self.prices, key=lambda p: (p.start, p.issuer_event_id))
        chosen = [p for p in ordered if (p.end is None or p.end > start_time) and (p.active_at(now) or p.start > now)]
        return chosen[:number_of_events] if number_of_events else chosen

    def acknowledged(self, issuer_event_id: int) -> list[PriceAcknowledgement]:
        return [a for a in self.acknowledgements if a.issuer_event_id == issuer_event_id]

    async def wait_for_acknowledgement(self, issuer_event_id: int, timeout: float) -> PriceAcknowledgement:
        return await self.acknowledgements.wait(
            lambda a: a.issuer_event_id == issuer_event_id, timeout,
            f"Price Acknowledgement for price event {issuer_event_id}",
        )

    async def _on_get_current_price(self, request: ZclRequest) -> Status | None:
        price = self.current_price()
        if price is None:
            return Status.NOT_FOUND
        await request.respond(Price.ClientCommandDefs.publish_price.id, price.payload(self.clock.zcl_utc()))
        return None

    async def _on_get_scheduled_prices(self, request: ZclRequest) -> Status | None:
        cmd = request.command
        prices = self.scheduled_prices(int(cmd.start_time), int(cmd.number_of_events))
        self.scheduled_requests.append(ScheduledAnswer(utc_seconds(self.clock), int(cmd.start_time),
                                                       int(cmd.number_of_events),
                                                       tuple(p.issuer_event_id for p in prices)))
        if not prices:
            return Status.NOT_FOUND
        for price in prices:
            await request.respond(Price.ClientCommandDefs.publish_price.id, price.encode(self.clock.zcl_utc()))
        return None

    def _on_acknowledgement(self, request: ZclRequest) -> Status:
        cmd = request.command
        source = Peer(request.packet.src, int(request.packet.src_ep))
        event_id = int(cmd.issuer_event_id)
        if not any(p.issuer_event_id == event_id for p in self.prices):
            self.findings.append(EsiFinding(
                "Price", f"acknowledgement of unknown price event {event_id}", request.frame.raw,
                str(request.packet.src.address)))
        self.acknowledgements.append(PriceAcknowledgement(
            provider_id=int(cmd.provider_id), issuer_event_id=event_id, price_ack_time=int(cmd.price_ack_time),
            control=int(cmd.control), arrival=utc_seconds(self.clock), source=source,
        ))
        return Status.SUCCESS

"""Golden Messaging server (cluster 0x0703): displays and cancels messages on a DUT, keeps every Message
Confirmation with its arrival time, and answers Get Last Message.

SE-FACTS "Price 0x0700 and Messaging 0x0703": Display Message (server 0x00: MessageID u32, MessageControl map8
with bits 0-1 transmission, 2-3 importance, bit 7 confirmation required, StartTime, Duration, Message);
Cancel Message (0x01); client Get Last Message (0x00, answered with a Display Message of the last message,
Default Response NOT_FOUND when there is none) and Message Confirmation (0x01: MessageID, ConfirmationTime).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from zigpy.zcl.foundation import Status

from harness.clock import Clock
from harness.golden.esi.common import EsiFinding, ObservationLog, Peer, utc_seconds
from harness.se.clusters import Messaging
from harness.se.datamodel import Side
from harness.se.types import CONFIRMATION_REQUIRED, START_NOW, UNTIL_CHANGED, MessageControl
from harness.zcl import ZclEngine, ZclRequest

DisplayMessage = Messaging.ClientCommandDefs.display_message.schema
CancelMessage = Messaging.ClientCommandDefs.cancel_message.schema


@dataclasses.dataclass
class Message:
    message_id: int
    text: str
    message_control: int = 0
    start_time: int = START_NOW
    duration_minutes: int = UNTIL_CHANGED

    @property
    def confirmation_required(self) -> bool:
        return bool(self.message_control & CONFIRMATION_REQUIRED)

    def payload(self) -> Any:
        return DisplayMessage(
            message_id=self.message_id, message_control=MessageControl(self.message_control),
            start_time=self.start_time, duration_in_minutes=self.duration_minutes, message=self.text,
        )


@dataclasses.dataclass(frozen=True)
class MessageConfirmation:
    message_id: int
    confirmation_time: int
    arrival: float
    source: Peer


class MessagingServer:
    """The ESI's Messaging server on `endpoint` of `engine`; confirmations are in `confirmations`."""

    def __init__(self, engine: ZclEngine, clock: Clock, *, endpoint: int = 1) -> None:
        self.engine = engine
        self.clock = clock
        self.endpoint = endpoint
        self.last_message: Message | None = None
        self.sent: dict[int, Message] = {}
        self.confirmations: ObservationLog[MessageConfirmation] = ObservationLog(clock)
        self.findings: list[EsiFinding] = []
        if not engine.store.has_cluster(endpoint, Messaging.cluster_id, Side.SERVER):
            engine.store.add_cluster(endpoint, Messaging.cluster_id, Side.SERVER)
        received = Messaging.ServerCommandDefs
        engine.register_handler(
            Messaging.cluster_id, Side.SERVER, received.get_last_message.id, self._on_get_last_message, endpoint=endpoint)
        engine.register_handler(
            Messaging.cluster_id, Side.SERVER, received.message_confirmation.id, self._on_confirmation, endpoint=endpoint)

    async def _send(self, dut: Peer, command_id: int, payload: Any) -> None:
        await self.engine.request(
            dut.address, dut.endpoint, Messaging.cluster_id, command_id, payload, src_ep=self.endpoint,
            general=False, target=Side.CLIENT, expect=None,
        )

    async def display(self, dut: Peer, message: Message) -> None:
        self.last_message = message
        self.sent[message.message_id] = message
        await self._send(dut, Messaging.ClientCommandDefs.display_message.id, message.payload())

    async def cancel(self, dut: Peer, message_id: int, *, message_control: int = 0) -> None:
        if self.last_message is not None and self.last_message.message_id == message_id:
            self.last_message = None
        await self._send(dut, Messaging.ClientCommandDefs.cancel_message.id, CancelMessage(
            message_id=message_id, message_control=MessageControl(message_control)))

    def confirmed(self, message_id: int) -> list[MessageConfirmation]:
        return [c for c in self.confirmations if c.message_id == message_id]

    async def wait_for_confirmation(self, message_id: int, timeout: float) -> MessageConfirmation:
        return await self.confirmations.wait(
            lambda c: c.message_id == message_id, timeout, f"Message Confirmation for message {message_id}")

    async def _on_get_last_message(self, request: ZclRequest) -> Status | None:
        if self.last_message is None:
            return Status.NOT_FOUND
        await request.respond(Messaging.ClientCommandDefs.display_message.id, self.last_message.payload())
        return None

    def _on_confirmation(self, request: ZclRequest) -> Status:
        cmd = request.command
        message_id = int(cmd.message_id)
        message = self.sent.get(message_id)
        source = str(request.packet.src.address)
        if message is None:
            self.findings.append(EsiFinding("Messaging", f"confirmation of unknown message {message_id}",
                                            request.frame.raw, source))
        elif not message.confirmation_required:
            self.findings.append(EsiFinding(
                "Messaging", f"confirmation of message {message_id}, which did not ask for one",
                request.frame.raw, source))
        self.confirmations.append(MessageConfirmation(
            message_id=message_id, confirmation_time=int(cmd.confirmation_time), arrival=utc_seconds(self.clock),
            source=Peer(request.packet.src, int(request.packet.src_ep)),
        ))
        return Status.SUCCESS

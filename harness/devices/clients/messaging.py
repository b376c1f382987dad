"""DUT-side Messaging client (cluster 0x0703): shows the ESI's messages, confirms them when MessageControl
bit 7 asks and the user confirms, cancels them, and asks for the last message.

SE-FACTS "Price 0x0700 and Messaging 0x0703": Display Message (MessageID, MessageControl bit 7 = confirmation
required, StartTime, Duration, Message), Cancel Message; client Get Last Message (0x00) and Message
Confirmation (0x01: MessageID, ConfirmationTime). The confirmation is a user action (`confirm_message`); a
simulated user who confirms `confirm_after` seconds after the message appears stands in for a person.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from zigpy.zcl.foundation import Status

from harness.devices.clients.common import Peer, peer_of, send_to_server
from harness.devices.clients.time import TimeClient
from harness.se.clusters import Messaging
from harness.se.datamodel import Side
from harness.zcl import ZclEngine, ZclRequest, ZclTimeout

MESSAGING_CLUSTER = 0x0703
CMD_DISPLAY_MESSAGE = 0x00
CMD_CANCEL_MESSAGE = 0x01
CMD_GET_LAST_MESSAGE = 0x00
CMD_MESSAGE_CONFIRMATION = 0x01

MessageConfirmation = Messaging.server_commands[CMD_MESSAGE_CONFIRMATION].schema
GetLastMessage = Messaging.server_commands[CMD_GET_LAST_MESSAGE].schema


@dataclasses.dataclass
class MessagingClientFaults:
    """Seeded non-conformances (all off = conformant)."""

    no_confirmation: bool = False  # the user's confirmation never goes out as Message Confirmation


@dataclasses.dataclass
class ShownMessage:
    display: Any
    esi: Peer
    received_at: int
    confirmed_at: int | None = None

    @property
    def message_id(self) -> int:
        return int(self.display.message_id)

    @property
    def confirmation_required(self) -> bool:
        return bool(self.display.message_control.confirmation_required)


class MessagingClient:
    """The Messaging client on `endpoint` of a device's `engine`; `message` is what the display shows."""

    def __init__(self, engine: ZclEngine, time: TimeClient, *, endpoint: int = 1, confirm_after: float | None = 0.0,
                 faults: MessagingClientFaults | None = None) -> None:
        self.engine = engine
        self.time = time
        self.endpoint = endpoint
        self.confirm_after = confirm_after
        self.faults = faults or MessagingClientFaults()
        self.message: ShownMessage | None = None
        self.history: list[ShownMessage] = []
        self._tasks: set[asyncio.Task] = set()
        if not engine.store.has_cluster(endpoint, MESSAGING_CLUSTER, Side.CLIENT):
            engine.store.add_cluster(endpoint, MESSAGING_CLUSTER, Side.CLIENT)
        engine.register_handler(MESSAGING_CLUSTER, Side.CLIENT, CMD_DISPLAY_MESSAGE, self._on_display,
                                endpoint=endpoint)
        engine.register_handler(MESSAGING_CLUSTER, Side.CLIENT, CMD_CANCEL_MESSAGE, self._on_cancel,
                                endpoint=endpoint)

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()

    def _on_display(self, request: ZclRequest) -> Status:
        shown = ShownMessage(request.command, peer_of(request.packet), self.time.utc())
        self.message = shown
        self.history.append(shown)
        if shown.confirmation_required and self.confirm_after is not None:
            self.time.clock.loop.call_later(self.confirm_after, self._user_confirms, shown.message_id)
        return Status.SUCCESS

    def _on_cancel(self, request: ZclRequest) -> Status:
        if self.message is not None and self.message.message_id == int(request.command.message_id):
            self.message = None
        return Status.SUCCESS

    def _user_confirms(self, message_id: int) -> None:
        task = self.time.clock.loop.create_task(self.confirm_message(message_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def confirm_message(self, message_id: int) -> bool:
        """The user confirms the message on the display; True when a Message Confirmation was sent."""
        shown = self.message
        if shown is None or shown.message_id != message_id or shown.confirmed_at is not None:
            return False
        shown.confirmed_at = self.time.utc()
        if self.faults.no_confirmation or not shown.confirmation_required:
            return False
        payload = MessageConfirmation(message_id=message_id, confirmation_time=shown.confirmed_at)
        await send_to_server(self.engine, shown.esi, MESSAGING_CLUSTER, CMD_MESSAGE_CONFIRMATION, payload,
                             src_ep=self.endpoint)
        return True

    async def get_last_message(self, esi: Peer, *, timeout: float = 5.0) -> bool:
        """Ask the ESI for its last message; True when it answered with a Display Message (then shown)."""
        try:
            frame = await self.engine.command(
                esi.address, esi.endpoint, MESSAGING_CLUSTER, CMD_GET_LAST_MESSAGE, GetLastMessage(),
                src_ep=self.endpoint, response=CMD_DISPLAY_MESSAGE, timeout=timeout,
            )
        except ZclTimeout:
            return False
        return frame is not None and not frame.is_general

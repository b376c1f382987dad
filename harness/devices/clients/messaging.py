"""DUT-side Messaging client (cluster 0x0703): shows the ESI's messages inside their time window, confirms them
when MessageControl bit 7 asks and the user confirms, cancels them, and asks for the last message.

SE-FACTS "Price 0x0700 and Messaging 0x0703": Display Message (MessageID, MessageControl: bits 0-1
transmission, 2-3 importance, bit 7 confirmation required; StartTime, Duration in minutes, Message), Cancel
Message; client Get Last Message (0x00) and Message Confirmation (0x01: MessageID, ConfirmationTime).

What is shown follows the Silicon Labs reference client (plugin/messaging-client): one message at a time;
StartTime 0x00000000 means "now" (its arrival), Duration 0xFFFF "until changed", otherwise the message is
shown from StartTime to StartTime + Duration minutes: not before, not after, and one whose window has already
passed is never shown. A Display Message with another MessageID replaces the message (shown or waiting for its
start); the same MessageID again changes nothing; a Cancel Message takes the message away only when it names
it. Only the message on display can be confirmed, and its ConfirmationTime is the network time of the user's
confirmation. The importance and transmission bits change nothing here: the confirmation bit is read on its
own. The confirmation is a user action (`confirm_message`); a simulated user who confirms `confirm_after`
seconds after the message appears stands in for a person.
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
from harness.se.types import CONFIRMATION_REQUIRED, START_NOW, UNTIL_CHANGED
from harness.zcl import ZclEngine, ZclRequest, ZclTimeout

#: How often, and how far apart, a device with the retry fault asks again after a NOT_FOUND answer.
FAULTY_RETRIES, FAULTY_RETRY_INTERVAL = 3, 1.0

MessageConfirmation = Messaging.ServerCommandDefs.message_confirmation.schema
GetLastMessage = Messaging.ServerCommandDefs.get_last_message.schema


@dataclasses.dataclass
class MessagingClientFaults:
    """Seeded non-conformances (all off = conformant)."""

    no_confirmation: bool = False  # the user's confirmation never goes out as Message Confirmation
    show_before_start: bool = False  # shows every message on arrival, whatever its StartTime
    never_expire: bool = False  # takes every Duration as "until changed"
    keep_shown_message: bool = False  # a Display Message with a new MessageID does not replace the one shown
    cancel_any_message: bool = False  # a Cancel Message naming another message takes the shown one away
    confirmation_time_of_display: bool = False  # ConfirmationTime is when the message appeared, not confirmed
    confirmation_bit_by_equality: bool = False  # asks for confirmation only when MessageControl is exactly 0x80
    retry_get_last_message: bool = False  # takes NOT_FOUND to Get Last Message as a failure and asks again


@dataclasses.dataclass
class ShownMessage:
    """A message the client holds; `start` and `end` are network ZCL UTC (`end` None: until changed)."""

    display: Any
    esi: Peer
    received_at: int
    start: int
    end: int | None
    confirmed_at: int | None = None

    @property
    def message_id(self) -> int:
        return int(self.display.message_id)

    @property
    def message_control(self) -> int:
        return int(self.display.message_control)

    @property
    def confirmation_required(self) -> bool:
        return bool(self.message_control & CONFIRMATION_REQUIRED)

    def shown_at(self, now: int) -> bool:
        """Whether the message is on the display at network time `now`."""
        return self.start <= now and (self.end is None or now < self.end)


class MessagingClient:
    """The Messaging client on `endpoint` of a device's `engine`; `message` is the message it holds (on
    display, or waiting for its start) and `displayed()` the one on the display now."""

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
        if not engine.store.has_cluster(endpoint, Messaging.cluster_id, Side.CLIENT):
            engine.store.add_cluster(endpoint, Messaging.cluster_id, Side.CLIENT)
        received = Messaging.ClientCommandDefs
        engine.register_handler(Messaging.cluster_id, Side.CLIENT, received.display_message.id, self._on_display,
                                endpoint=endpoint)
        engine.register_handler(Messaging.cluster_id, Side.CLIENT, received.cancel_message.id, self._on_cancel,
                                endpoint=endpoint)

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()

    def displayed(self) -> ShownMessage | None:
        """The message on the display now (inside its time window), else None."""
        shown = self.message
        return shown if shown is not None and shown.shown_at(self.time.utc()) else None

    def _window(self, display: Any, now: int) -> tuple[int, int | None]:
        start_time, minutes = int(display.start_time), int(display.duration_in_minutes)
        start = now if start_time == START_NOW or self.faults.show_before_start else start_time
        if minutes == UNTIL_CHANGED or self.faults.never_expire:
            return start, None
        return start, start + minutes * 60

    def _on_display(self, request: ZclRequest) -> Status:
        display, now = request.command, self.time.utc()
        held = self.message
        if held is not None and held.message_id == int(display.message_id) and held.shown_at(now):
            return Status.SUCCESS  # the message on display again (a repeat, another ESI's copy): nothing changes
        if self.faults.keep_shown_message and held is not None and held.shown_at(now):
            return Status.SUCCESS
        start, end = self._window(display, now)
        shown = ShownMessage(display, peer_of(request.packet), now, start, end)
        self.message = shown
        self.history.append(shown)
        if self._asks_confirmation(shown) and self.confirm_after is not None and shown.shown_at(max(now, start)):
            self.time.clock.loop.call_later(max(0, start - now) + self.confirm_after, self._user_confirms,
                                            shown.message_id)
        return Status.SUCCESS

    def _on_cancel(self, request: ZclRequest) -> Status:
        if self.message is not None and (self.faults.cancel_any_message
                                         or self.message.message_id == int(request.command.message_id)):
            self.message = None
        return Status.SUCCESS

    def _asks_confirmation(self, shown: ShownMessage) -> bool:
        if self.faults.confirmation_bit_by_equality:
            return shown.message_control == CONFIRMATION_REQUIRED
        return shown.confirmation_required

    def _user_confirms(self, message_id: int) -> None:
        task = self.time.clock.loop.create_task(self.confirm_message(message_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def confirm_message(self, message_id: int) -> bool:
        """The user confirms the message on the display; True when a Message Confirmation was sent."""
        shown = self.displayed()
        if shown is None or shown.message_id != message_id or shown.confirmed_at is not None:
            return False
        shown.confirmed_at = self.time.utc()
        if self.faults.no_confirmation or not self._asks_confirmation(shown):
            return False
        confirmation_time = max(shown.start, shown.received_at) if self.faults.confirmation_time_of_display \
            else shown.confirmed_at
        payload = MessageConfirmation(message_id=message_id, confirmation_time=confirmation_time)
        await send_to_server(self.engine, shown.esi, Messaging.cluster_id,
                             Messaging.ServerCommandDefs.message_confirmation.id, payload, src_ep=self.endpoint)
        return True

    async def get_last_message(self, esi: Peer, *, timeout: float = 5.0) -> bool:
        """Ask the ESI for its last message; True when it answered with a Display Message (then handled as
        one). A Default Response NOT_FOUND means the ESI has none: the answer is final, not asked again."""
        answered = await self._ask_last_message(esi, timeout)
        if self.faults.retry_get_last_message:
            for _ in range(FAULTY_RETRIES):
                if answered:
                    break
                await self.time.clock.sleep(FAULTY_RETRY_INTERVAL)
                answered = await self._ask_last_message(esi, timeout)
        return answered

    async def _ask_last_message(self, esi: Peer, timeout: float) -> bool:
        try:
            frame = await self.engine.command(
                esi.address, esi.endpoint, Messaging.cluster_id, Messaging.ServerCommandDefs.get_last_message.id,
                GetLastMessage(), src_ep=self.endpoint, response=Messaging.ClientCommandDefs.display_message.id,
                timeout=timeout,
            )
        except ZclTimeout:
            return False
        return frame is not None and not frame.is_general

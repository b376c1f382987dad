"""The reference Messaging server (cluster 0x0703), device side: the ESI's messages to the home.

Its operator displays a message (DUT control ``display_message``: now, for an hour, medium importance, asking for
confirmation); Get Last Message is answered with a Display Message of the last one (NOT_FOUND before any); a
Message Confirmation is taken with SUCCESS.

Rules (SE-FACTS "Price 0x0700 and Messaging 0x0703"; SE 1.x Annex D.5; Silicon Labs messaging-server):
MessageControl bits 0-1 transmission, 2-3 importance, 4-6 reserved, 7 confirmation required. Written apart from
the golden's Messaging server (harness/golden/esi/messaging.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from zigpy.zcl.foundation import Status

from harness.se.clusters import Messaging
from harness.se.types import CONFIRMATION_REQUIRED
from harness.zcl import ZclRequest

from ..server_faults import (
    MESSAGE_CONFIRMATION_REFUSED,
    MESSAGE_CONTROL_RESERVED_BITS,
    MESSAGING_SERVER_NOT_CARRIED,
)
from .base import ServerCluster, ServerHost

#: Medium importance (bits 2-3 = 1), normal transmission, confirmation required.
MESSAGE_CONTROL = CONFIRMATION_REQUIRED | 0x04


@dataclass
class Message:
    message_id: int
    text: str
    start: int
    duration: int  # minutes


class MessagingServer(ServerCluster):
    cluster = Messaging

    def __init__(self, faults, endpoint: int, *, seed: int = 0) -> None:
        super().__init__(faults, endpoint, seed=seed)
        self.messages: list[Message] = []
        self.confirmations: list[tuple[int, int]] = []  # (message id, ConfirmationTime)
        self.now = lambda: 0

    def seed_attribute_faults(self, store) -> None:
        self.seed_not_carried(store, MESSAGING_SERVER_NOT_CARRIED)

    def attach(self, host: ServerHost) -> None:
        super().attach(host)
        self.now = host.clock.zcl_utc
        defs = Messaging.ServerCommandDefs
        for command, handler in ((defs.get_last_message, self._on_last), (defs.message_confirmation, self._on_confirm)):
            host.engine.register_handler(Messaging.cluster_id, self.key(0).side, command.id, handler,
                                         endpoint=self.endpoint)

    def display_message(self) -> Message:
        message = Message(3001 + len(self.messages), "Rates rise at 5 pm today", self.now(), 60)
        self.messages.append(message)
        return message

    async def _on_last(self, request: ZclRequest):
        if not self.messages:
            return Status.NOT_FOUND
        message = self.messages[-1]
        control = MESSAGE_CONTROL | (0x70 if self.faults.has(MESSAGE_CONTROL_RESERVED_BITS) else 0)
        payload = Messaging.ClientCommandDefs.display_message.schema(
            message_id=message.message_id, message_control=control, start_time=message.start,
            duration_in_minutes=message.duration, message=message.text)
        await request.respond(Messaging.ClientCommandDefs.display_message.id, payload)
        return None

    def _on_confirm(self, request: ZclRequest):
        self.confirmations.append((int(request.command.message_id), int(request.command.confirmation_time)))
        return Status.FAILURE if self.faults.has(MESSAGE_CONFIRMATION_REFUSED) else Status.SUCCESS

"""The golden ESI's application services: Time, DRLC, Price and Messaging servers on a ZclEngine endpoint,
each logging what the DUT sends back (with arrival times on the bench clock) for the steps to judge."""

from harness.golden.esi.common import EsiFinding, ObservationLog, Peer
from harness.golden.esi.drlc import DrlcServer, EventStatusReport, load_control_event
from harness.golden.esi.messaging import Message, MessageConfirmation, MessagingServer
from harness.golden.esi.price import (
    PriceAcknowledgement,
    PriceEvent,
    PriceServer,
    PublishAnswer,
    ScheduledAnswer,
)
from harness.golden.esi.time import TimeServer
from harness.se.types import TimeStatus

__all__ = [
    "DrlcServer",
    "EsiFinding",
    "EventStatusReport",
    "Message",
    "MessageConfirmation",
    "MessagingServer",
    "ObservationLog",
    "Peer",
    "PriceAcknowledgement",
    "PriceEvent",
    "PriceServer",
    "PublishAnswer",
    "ScheduledAnswer",
    "TimeServer",
    "TimeStatus",
    "load_control_event",
]

"""DUT-side Smart Energy client behaviours a reference device composes: DRLC, Price, Messaging and Time,
each on a ZclEngine endpoint, each with a `faults` dataclass of seeded non-conformances (off = conformant)."""

from harness.devices.clients.common import Peer
from harness.devices.clients.drlc import DrlcClient, DrlcClientFaults
from harness.devices.clients.messaging import MessagingClient, MessagingClientFaults
from harness.devices.clients.price import PriceClient, PriceClientFaults
from harness.devices.clients.time import TimeClient, TimeClientFaults, TimeSyncError

__all__ = [
    "DrlcClient",
    "DrlcClientFaults",
    "MessagingClient",
    "MessagingClientFaults",
    "Peer",
    "PriceClient",
    "PriceClientFaults",
    "TimeClient",
    "TimeClientFaults",
    "TimeSyncError",
]

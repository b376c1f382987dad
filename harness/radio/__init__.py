"""Golden radio backends behind zigpy ControllerApplication: sim (the simulated network) and ezsp (bellows).

Both share :class:`UndecodableTap`: zigpy's own packet handling decodes what the DUT sends (ZDO headers,
ZCL frames of devices it tracks) and raises on bytes it cannot decode. Left alone, that exception ends in the
event loop's "Exception in callback" log and no finding; the tap hands it, with the packet, to listeners
(the Golden records it as a finding that fails the case).
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable

import zigpy.types as t

LOGGER = logging.getLogger(__name__)

#: What zigpy's deserialisers raise on bytes that do not decode.
DECODE_ERRORS = (ValueError, KeyError, IndexError, TypeError, struct.error, OverflowError)

UndecodableListener = Callable[[t.ZigbeePacket, Exception], None]


class UndecodableTap:
    """Mixin before zigpy's ControllerApplication in the bases: packet_received never raises a decode error."""

    def on_undecodable(self, listener: UndecodableListener) -> Callable[[], None]:
        listeners = self.__dict__.setdefault("_undecodable_listeners", [])
        listeners.append(listener)
        return lambda: listeners.remove(listener) if listener in listeners else None

    def packet_received(self, packet: t.ZigbeePacket) -> None:
        try:
            super().packet_received(packet)  # type: ignore[misc]
        except DECODE_ERRORS as exc:
            listeners = list(self.__dict__.get("_undecodable_listeners", []))
            if not listeners:
                LOGGER.warning("zigpy could not decode a packet from %s: %s: %s", packet.src, type(exc).__name__, exc)
            for listener in listeners:
                listener(packet, exc)

"""The one failure type of the frame codecs: malformed or unsupported bytes.

Received bytes come from a device under test, so decoding must never crash with IndexError or
struct.error: every short read, reserved value or bad checksum becomes a FrameError that names the
layer, the field and the byte offset, and a step can report it as a finding with the frame's bytes.
"""

from __future__ import annotations


class FrameError(ValueError):
    """Malformed frame bytes. ``layer`` is "MAC", "NWK", "APS", ...; ``offset`` the byte where it went wrong."""

    def __init__(self, layer: str, message: str, offset: int | None = None) -> None:
        self.layer = layer
        self.offset = offset
        self.reason = message
        where = f" at offset {offset}" if offset is not None else ""
        super().__init__(f"{layer}: {message}{where}")


def need(layer: str, data: bytes, offset: int, size: int, what: str) -> None:
    """Raise FrameError unless *data* holds *size* bytes of *what* at *offset*."""
    if offset + size > len(data):
        raise FrameError(layer, f"frame ends before {what} ({size} bytes needed, {len(data) - offset} left)", offset)

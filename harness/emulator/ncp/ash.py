"""The NCP side of ASH (Silicon Labs UG101): what a real EmberZNet NCP does on its UART.

Frames are bellows' own classes (bellows.ash), so both ends agree on CRC, randomisation and control bytes.
A pseudo-terminal never corrupts or loses bytes, so the NCP sends DATA frames in order and does not
retransmit; it acknowledges every in-sequence DATA frame from the host at once and NAKs an out-of-sequence
one, as the host expects.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bellows.ash import (
    AckFrame,
    AshFrame,
    AshProtocol,
    DataFrame,
    NakFrame,
    ParsingError,
    Reserved,
    RStackFrame,
    RstFrame,
    parse_frame,
)
from bellows.types import NcpResetCode

LOGGER = logging.getLogger(__name__)

ASH_VERSION = 0x02  # RSTACK/ERROR carry ASH version 2
MAX_BUFFER = 4096


class AshError(ValueError):
    """Bytes from the host that are not a valid ASH frame."""


def decode_ash_frame(stuffed: bytes) -> AshFrame:
    """One ASH frame from its stuffed bytes (between flags, XON/XOFF removed); AshError when it is none."""
    try:
        return parse_frame(AshProtocol._unstuff_bytes(stuffed))
    except (ParsingError, ValueError, IndexError, KeyError, TypeError) as exc:  # bellows' parser and types
        raise AshError(f"bad ASH frame {bytes(stuffed).hex()}: {exc}") from None


class AshNcp:
    """Feed host bytes with :meth:`data_received`; EZSP frames come out through *on_ezsp*, resets *on_reset*.

    *write* puts bytes on the serial line (the pty master).
    """

    def __init__(self, write: Callable[[bytes], None], on_ezsp: Callable[[bytes], None],
                 on_reset: Callable[[], None]) -> None:
        self._write = write
        self._on_ezsp = on_ezsp
        self._on_reset = on_reset
        self._buffer = bytearray()
        self._tx_seq = 0
        self._rx_seq = 0
        self.connected = False  # True between RSTACK and the next RST
        self.frames_in = 0
        self.frames_rejected = 0

    def data_received(self, data: bytes) -> None:
        self._buffer.extend(data)
        if len(self._buffer) > MAX_BUFFER:
            del self._buffer[:-MAX_BUFFER]
        while True:
            index = next((i for i, b in enumerate(self._buffer)
                          if b in (Reserved.FLAG, Reserved.CANCEL, Reserved.SUBSTITUTE)), None)
            if index is None:
                return
            marker = self._buffer[index]
            chunk = bytes(self._buffer[:index])
            del self._buffer[: index + 1]
            if marker != Reserved.FLAG:
                continue  # CANCEL/SUBSTITUTE: drop what came before (UG101 2.3)
            chunk = bytes(b for b in chunk if b not in (Reserved.XON, Reserved.XOFF))
            if chunk:
                self._frame_bytes(chunk)

    def _frame_bytes(self, stuffed: bytes) -> None:
        try:
            frame = decode_ash_frame(stuffed)
        except AshError as exc:
            self.frames_rejected += 1
            LOGGER.debug("ASH: %s", exc)
            if stuffed and not stuffed[0] & 0x80 and self.connected:
                self._send(NakFrame(res=0, ncp_ready=0, ack_num=self._rx_seq))
            return
        self.frames_in += 1
        self.frame_received(frame)

    def frame_received(self, frame: AshFrame) -> None:
        if isinstance(frame, RstFrame):
            self._tx_seq = self._rx_seq = 0
            self.connected = True
            self._on_reset()
            self._send(RStackFrame(version=ASH_VERSION, reset_code=NcpResetCode.RESET_SOFTWARE))
        elif not self.connected:
            LOGGER.debug("ASH: %r before RST ignored", frame)
        elif isinstance(frame, DataFrame):
            if frame.frm_num == self._rx_seq:
                self._rx_seq = (self._rx_seq + 1) % 8
                self._send(AckFrame(res=0, ncp_ready=0, ack_num=self._rx_seq))
                self._on_ezsp(frame.ezsp_frame)
            elif frame.re_tx:
                self._send(AckFrame(res=0, ncp_ready=0, ack_num=self._rx_seq))
            else:
                self._send(NakFrame(res=0, ncp_ready=0, ack_num=self._rx_seq))
        # ACK/NAK from the host: nothing to retransmit on a lossless line.

    def send_ezsp(self, payload: bytes) -> None:
        """Send one EZSP frame to the host in an ASH DATA frame."""
        if not self.connected:
            LOGGER.debug("ASH: not connected, dropping EZSP frame %s", payload.hex())
            return
        frame = DataFrame(frm_num=self._tx_seq, re_tx=False, ack_num=self._rx_seq, ezsp_frame=payload)
        self._tx_seq = (self._tx_seq + 1) % 8
        self._send(frame)

    def _send(self, frame: AshFrame) -> None:
        self._write(bytes(AshProtocol._stuff_bytes(frame.to_bytes())) + bytes([Reserved.FLAG]))

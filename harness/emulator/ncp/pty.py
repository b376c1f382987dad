"""A raw pseudo-terminal whose master end is served on the asyncio loop; the slave path is the serial port."""

from __future__ import annotations

import asyncio
import os
import pty
import termios
import tty
from collections.abc import Callable


class PseudoTerminal:
    """Open with :meth:`open`; ``path`` is what a serial client opens, ``write`` sends to it."""

    def __init__(self, on_data: Callable[[bytes], None]) -> None:
        self._on_data = on_data
        self.master: int | None = None
        self._slave: int | None = None
        self.path = ""
        self._loop: asyncio.AbstractEventLoop | None = None

    def open(self, loop: asyncio.AbstractEventLoop) -> str:
        self.master, self._slave = pty.openpty()
        tty.setraw(self._slave, termios.TCSANOW)  # no echo, no line discipline: bytes pass unchanged
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self._slave)
        self._loop = loop
        loop.add_reader(self.master, self._readable)
        return self.path

    def _readable(self) -> None:
        try:
            data = os.read(self.master, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            # EIO: no client has the slave open right now; our own slave fd keeps the pty alive.
            return
        if data:
            self._on_data(data)

    def write(self, data: bytes) -> None:
        if self.master is None:
            return
        view = memoryview(data)
        while view:
            try:
                written = os.write(self.master, view)
            except (BlockingIOError, OSError):
                return  # nobody is reading the port: a UART with no listener loses the bytes too
            view = view[written:]

    def close(self) -> None:
        if self.master is not None and self._loop is not None:
            self._loop.remove_reader(self.master)
        for fd in (self.master, self._slave):
            if fd is not None:
                os.close(fd)
        self.master = self._slave = None

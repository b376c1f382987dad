"""The NCP emulator wired together: pseudo-terminal <-> ASH <-> EZSP <-> stack on a simulated air."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from harness.sim.air import Air

from .ash import AshNcp
from .cbke import CbkeData
from .ezsp import EzspNcp
from .pty import PseudoTerminal
from .stack import NcpStack

LOGGER = logging.getLogger(__name__)

DEFAULT_NCP_IEEE = 0x000D6F000C0FFEE0


class NcpServer:
    """``await start()`` opens the pty and returns its path; the emulator then runs on the air's loop."""

    def __init__(self, air: Air, ieee: int = DEFAULT_NCP_IEEE, *, cbke: CbkeData | Iterable[CbkeData] | None = None) -> None:
        self.air = air
        self.stack = NcpStack(air, ieee, cbke=cbke)
        self.pty = PseudoTerminal(self._host_bytes)
        self.ash = AshNcp(self.pty.write, self._ezsp_frame, self._reset)
        self.ezsp = EzspNcp(self.ash.send_ezsp, self.stack)

    @property
    def path(self) -> str:
        return self.pty.path

    async def start(self) -> str:
        return self.pty.open(asyncio.get_running_loop())

    def _host_bytes(self, data: bytes) -> None:
        self.ash.data_received(data)

    def _ezsp_frame(self, data: bytes) -> None:
        self.ezsp.frame_received(data)

    def _reset(self) -> None:
        LOGGER.info("NCP reset by the host")
        self.ezsp.reset()
        self.stack.reset()

    def close(self) -> None:
        self.stack.reset()
        self.pty.close()

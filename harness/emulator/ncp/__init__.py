"""An EZSP network co-processor emulator: ASH framing and EZSP v8 over a pseudo-terminal.

The coordinator behind it is a simulated :class:`~harness.sim.node.Node` with its Trust Center on an
:class:`~harness.sim.air.Air`, so unmodified bellows (``ControllerApplication.new`` with the pty as device
path) forms the network, admits devices joining on the simulated air and exchanges APS frames with them.

    ash.py      NCP side of ASH (UG101): RST/RSTACK, DATA/ACK/NAK, byte stuffing (bellows' frame classes)
    ezsp.py     EZSP framing (legacy v4 for the version handshake, extended v8 after) and dispatch
    stack.py    what the commands mean: network state, NVM, keys, policies, messages, callbacks, CBKE
    cbke.py     the emulated CBKE library (one exchange's temporary data, on harness.crypto.cbke)
    process.py  the emulator as a child process (tests, scripted benches)
    pty.py      a raw-mode pseudo-terminal pair served on the asyncio loop
    server.py   the pieces wired together (`python -m harness.emulator ncp`)
"""

from .ash import AshError, AshNcp
from .cbke import CbkeData, CbkeLibrary
from .ezsp import EZSP_VERSION, EzspNcp
from .server import NcpServer
from .stack import NcpStack

__all__ = ["EZSP_VERSION", "AshError", "AshNcp", "CbkeData", "CbkeLibrary", "EzspNcp", "NcpServer", "NcpStack"]

"""A reference device's command line on a pseudo-terminal, so the `cli` DUT driver is tested for real.

Line protocol (one reply line per command):  ``reset`` -> ``OK reset``, ``join`` -> ``OK joining``,
``rejoin`` -> ``OK rejoining``, ``info`` -> ``OK ieee=<hex> joined=<0|1> nwk=<hex>``; anything else ->
``ERROR unknown command <word>``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from harness.clock import WallClock
from harness.devices.base import ReferenceDevice
from harness.sim.air import Air

from .pty import PseudoTerminal

#: The DUT-profile commands that drive this CLI (profiles/dut/ref-ihd-cli.yaml uses them).
PROFILE_COMMANDS = {"factory_reset": "reset -> ^OK reset", "start_joining": "join -> ^OK joining",
                    "start_rejoin": "rejoin -> ^OK rejoining"}


class ReferenceCli:
    def __init__(self, device: ReferenceDevice, join_deadline: float = 60.0) -> None:
        self.device = device
        self.join_deadline = join_deadline
        self.pty = PseudoTerminal(self._data)
        self._buffer = b""
        self.path = ""

    def open(self, loop: asyncio.AbstractEventLoop) -> str:
        self.path = self.pty.open(loop)
        return self.path

    def _data(self, data: bytes) -> None:
        self._buffer += data
        while b"\n" in self._buffer or b"\r" in self._buffer:
            cut = min(i for i in (self._buffer.find(b"\n"), self._buffer.find(b"\r")) if i >= 0)
            line, self._buffer = self._buffer[:cut], self._buffer[cut + 1:]
            text = line.decode(errors="replace").strip()
            if text:
                self.pty.write(self.execute(text).encode() + b"\r\n")

    def execute(self, line: str) -> str:
        word = line.split()[0].lower()
        device = self.device
        if word == "reset":
            device.factory_reset()
            return "OK reset"
        if word == "join":
            device.start_joining(self.join_deadline)
            return "OK joining"
        if word == "rejoin":
            device.start_rejoin(self.join_deadline)
            return "OK rejoining"
        if word == "info":
            node = device.node
            return f"OK ieee={device.ieee:016X} joined={int(node.joined)} nwk={node.nwk:04X}"
        return f"ERROR unknown command {word}"

    def close(self) -> None:
        self.device.close()
        self.pty.close()


async def serve_reference_cli(air: Air, model: str, profile: Path | None, material=None) -> ReferenceCli:
    """The reference *model* on *air* with its CLI on a pty; with *material* (a KeMaterial) it gets CBKE
    certificates for the suites its profile claims (SE.KE.SUITE1 unless false, SE.KE.SUITE2 when true)."""
    from harness.devices.catalogue import MODELS
    from harness.profiles import load_dut_profile

    if model not in MODELS:
        raise SystemExit(f"--device {model!r}: no reference device of that name; known: {', '.join(sorted(MODELS))}")
    path = profile or Path(__file__).resolve().parents[3] / "profiles" / "dut" / f"sim-{model}.yaml"
    loop = asyncio.get_running_loop()
    dut_profile = load_dut_profile(path)
    device = MODELS[model](air, dut_profile, WallClock(loop))
    if material is not None:
        suites = tuple(s for s, claimed in ((1, dut_profile.pics.get("SE.KE.SUITE1", True)),
                                            (2, dut_profile.pics.get("SE.KE.SUITE2", False))) if claimed)
        device.provision_key_establishment(material, suites or (1,))
    cli = ReferenceCli(device)
    cli.open(loop)
    return cli

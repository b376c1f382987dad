"""`python -m harness.sim ncp`: run the NCP emulator (and optionally a reference DUT) until interrupted.

Prints one line per endpoint a bench needs, then serves them in real time:

    ncp /dev/pts/N           the EZSP serial port for --radio ezsp:/dev/pts/N
    dut-cli /dev/pts/M       with --device: the reference device's command line (harness/dut/cli.py)
    pcap PATH                with --pcap: every frame on the air, flushed as it happens (monotonic time stamps)
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path

from harness.capture import PcapWriter
from harness.sim.air import Air

from .server import DEFAULT_NCP_IEEE, NcpServer


class _LivePcap:
    """A pcap that is readable while it grows: each frame is flushed with CLOCK_MONOTONIC seconds.

    Every process on the machine shares CLOCK_MONOTONIC (asyncio's default loop time), so a bench in another
    process can compare these stamps with its own clock.
    """

    def __init__(self, path: Path) -> None:
        self.writer = PcapWriter(path)  # flushes every record

    def __call__(self, frame) -> None:
        self.writer.write(time.monotonic(), frame.psdu)

    def close(self) -> None:
        self.writer.close()


async def serve(*, channel: int, seed: int, ieee: int, device: str | None, profile: Path | None,
                pcap: Path | None, out=sys.stdout) -> None:
    loop = asyncio.get_running_loop()
    air = Air(channel=channel, seed=seed, loop=loop)
    closers = []
    if pcap is not None:
        live = _LivePcap(pcap)
        air.add_sniffer(live)
        closers.append(live.close)
    server = NcpServer(air, ieee)
    print(f"ncp {await server.start()}", file=out, flush=True)
    closers.append(server.close)
    if device is not None:
        from .dut_cli import serve_reference_cli

        cli = await serve_reference_cli(air, device, profile)
        print(f"dut-cli {cli.path}", file=out, flush=True)
        closers.append(cli.close)
    if pcap is not None:
        print(f"pcap {pcap}", file=out, flush=True)
    stop = loop.create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    try:
        await stop
    finally:
        for close in reversed(closers):
            close()


def add_parser(commands) -> None:
    ncp = commands.add_parser("ncp", help="serve an EZSP NCP emulator on a pseudo-terminal (bellows can open it)")
    ncp.add_argument("--channel", type=int, default=15, help="channel of the simulated air (default 15)")
    ncp.add_argument("--seed", type=int, default=0, help="addressing / fault-injection seed (default 0)")
    ncp.add_argument("--ieee", type=lambda v: int(v.replace(":", ""), 16), default=DEFAULT_NCP_IEEE,
                     help="the NCP's IEEE address in hex")
    ncp.add_argument("--device", help="also put a reference device (e.g. ihd) on the air, driven by a CLI pty")
    ncp.add_argument("--profile", type=Path, help="DUT profile of --device (default profiles/dut/sim-<device>.yaml)")
    ncp.add_argument("--pcap", type=Path, help="write the air's frames to this pcap as they happen")


def run(args) -> int:
    asyncio.run(serve(channel=args.channel, seed=args.seed, ieee=args.ieee, device=args.device,
                      profile=args.profile, pcap=args.pcap))
    return 0

"""`python -m harness.emulator ncp`: run the NCP emulator (and optionally a reference DUT) until interrupted.

Prints one line per endpoint a bench needs, then serves them in real time:

    ncp /dev/pts/N           the EZSP serial port for --radio ezsp:/dev/pts/N
    dut-cli /dev/pts/M       with --device: the reference device's command line (harness/dut/cli.py)
    pcap PATH                with --pcap: every frame on the air, flushed as it happens (monotonic time stamps)

The NCP has the CBKE libraries with certificates (suites 1 and 2) from the bench's test CA, the seeded CA a
bench profile without ``test_ca`` uses, or ``--bench FILE``'s test_ca; the reference device gets its own
certificates from the same CA, so CBKE runs end to end. ``--no-cbke`` emulates an NCP image without them.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path

from harness.capture import PcapWriter
from harness.sim.air import Air

from .cbke import CbkeData
from .server import DEFAULT_NCP_IEEE, NcpServer

NCP_SUITES = (1, 2)


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


def ke_material(bench: Path | None):
    """The test CA: the bench profile's test_ca when it has one with its private key, else the seeded CA."""
    from harness.ke.material import KeMaterial

    if bench is not None:
        from harness.profiles import load_bench_profile

        test_ca = load_bench_profile(bench).test_ca
        if test_ca is not None and test_ca.private_key is not None:
            return KeMaterial.from_profile(test_ca.issuer, test_ca.public_key, test_ca.private_key.get_secret_value())
    return KeMaterial.seeded()


def ncp_cbke_data(material, ieee: int, suites=NCP_SUITES) -> list[CbkeData]:
    """The NCP's preinstalled CBKE data, minted by *material*'s CA for its IEEE address."""
    data = []
    for suite in suites:
        issued = material.ca.issue(ieee, suite, issuer=material.issuer)
        data.append(CbkeData(material.ca_public_key(suite), issued.certificate, issued.private_key_bytes, suite))
    return data


async def serve(*, channel: int, seed: int, ieee: int, device: str | None, profile: Path | None,
                pcap: Path | None, cbke: bool = True, bench: Path | None = None, out=sys.stdout) -> None:
    loop = asyncio.get_running_loop()
    air = Air(channel=channel, seed=seed, loop=loop)
    closers = []
    if pcap is not None:
        live = _LivePcap(pcap)
        air.add_sniffer(live)
        closers.append(live.close)
    material = ke_material(bench) if cbke else None
    server = NcpServer(air, ieee, cbke=ncp_cbke_data(material, ieee) if material is not None else None)
    print(f"ncp {await server.start()}", file=out, flush=True)
    closers.append(server.close)
    if device is not None:
        from .dut_cli import serve_reference_cli

        cli = await serve_reference_cli(air, device, profile, material)
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
    ncp.add_argument("--no-cbke", dest="cbke", action="store_false",
                     help="an NCP without the CBKE libraries (getLibraryStatus reports them absent)")
    ncp.add_argument("--bench", type=Path, help="bench profile whose test_ca mints the certificates")
    ncp.add_argument("--log-level", default="WARNING", choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                     help="log to stderr at this level (default WARNING); keys are never logged")


def run(args) -> int:
    import logging

    logging.basicConfig(level=args.log_level, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(serve(channel=args.channel, seed=args.seed, ieee=args.ieee, device=args.device,
                      profile=args.profile, pcap=args.pcap, cbke=args.cbke, bench=args.bench))
    return 0

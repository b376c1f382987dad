"""Command line of the emulators on the simulated network.

    python -m harness.emulator demo --pcap demo.pcap --keys demo.keys [--seed N]

    python -m harness.emulator ncp [--device ihd] [--pcap air.pcap]   (an EZSP NCP emulator on a pseudo-terminal)
"""

from __future__ import annotations

import argparse
import sys

from .demo import write_demo
from .ncp import cli as ncp_cli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.emulator", description="Emulators on the simulated Zigbee network.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="form a network, join a meter, exchange SE frames, write a capture")
    demo.add_argument("--pcap", required=True, help="where to write the capture (pcap, 802.15.4 with FCS)")
    demo.add_argument("--keys", required=True, help="where to write the Wireshark zigbee_pc_keys file")
    demo.add_argument("--seed", type=int, default=0, help="fault-injection / addressing seed (default 0)")
    ncp_cli.add_parser(commands)
    args = parser.parse_args(argv)
    if args.command == "ncp":
        return ncp_cli.run(args)
    if args.command == "demo":
        result = write_demo(args.pcap, args.keys, seed=args.seed)
        print(
            f"{result.frames} frames written to {args.pcap}; keys in {args.keys}. "
            f"Meter 0x{result.meter_nwk:04X} reported CurrentSummationDelivered = {result.summation}.\n"
            f"Open with: wireshark -o 'uat:zigbee_pc_keys:...' {args.pcap}  (or load {args.keys} as the "
            "ZigBee pre-configured keys table)"
        )
        return 0
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())

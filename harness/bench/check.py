"""`python -m harness.bench_check --bench FILE [--dut PORT]`: the first command a lab runs on a new bench.

It opens the golden radio WITHOUT forming or changing a network (bellows' EZSP connect: ASH reset and the
version handshake only) and prints what the suite needs of it, then asks the DUT control for its identity:

    radio ezsp:/dev/ttyACM0
    firmware 6.10.3.0 build 297 (board NCP emulator, manufacturer SE conformance)
    ezsp protocol 8, stack type 2, stack version 0x6A30
    eui64 00:0d:6f:00:0c:0f:fe:e0
    cbke suite 1 (sect163k1): library present, certificate 0203... (48 bytes, subject 000D6F000C0FFEE0)
    cbke suite 2 (sect283k1): library absent
    dut /dev/ttyUSB0: 'info' -> 'OK ieee=...'
    result: ready for every feature            (or: what is missing, one line each)

The DUT command is the DUT profile's ``control.commands.info`` (``--profile``), else the line ``info``; an
answer matching its reply pattern (default ``^OK``) is ready. Exit status 0 when the bench is ready for every
feature, 1 when something is missing (each said on a ``missing:`` line), 2 for a bad option or profile.
``python -m harness.bench check ...`` is the same command. It needs no Bench, backend or testbed: only the
EZSP radio (harness/radio/ezsp.py) and the DUT's CLI driver.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from harness.dut.base import DutControlError
from harness.dut.cli import CliDutControl
from harness.profiles import ProfileError, load_bench_profile, load_dut_profile
from harness.radio.ezsp import CbkeStatus, read_cbke_status

INFO_COMMAND = "info"
RADIO_TIMEOUT = 30.0  # seconds for the NCP to answer the reset, the version handshake and the queries
SUITE_CURVES = {1: "sect163k1", 2: "sect283k1"}


class CheckError(RuntimeError):
    """The bench cannot be checked at all (no radio port, profile unreadable): one line, exit status 2."""


@dataclass
class RadioReport:
    port: str
    firmware: str | None = None
    board: str | None = None
    manufacturer: str | None = None
    protocol: int | None = None
    stack_type: int | None = None
    stack_version: int | None = None
    eui64: str | None = None
    cbke: CbkeStatus | None = None
    error: str | None = None


@dataclass
class CheckReport:
    radio: RadioReport
    dut: str | None = None  # the DUT control's answer, or None when no --dut was given
    missing: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.missing


async def check_radio(port: str, baudrate: int = 115200) -> RadioReport:
    """Connect to the NCP with bellows (reset + version only: its network and tokens stay as they are)."""
    import bellows.ezsp
    import zigpy.config as conf

    report = RadioReport(port)
    ezsp = bellows.ezsp.EZSP({conf.CONF_DEVICE_PATH: port, conf.CONF_DEVICE_BAUDRATE: baudrate,
                              conf.CONF_DEVICE_FLOW_CONTROL: None})
    try:
        async with asyncio.timeout(RADIO_TIMEOUT):
            await ezsp.connect(use_thread=False)
            report.protocol = ezsp.ezsp_version
            report.stack_type, report.stack_version = await _stack_version(ezsp)
            report.manufacturer, report.board, report.firmware = await ezsp.get_board_info()
            (eui64,) = await ezsp.getEui64()
            report.eui64 = str(eui64)
            report.cbke = await read_cbke_status(ezsp)
    except TimeoutError:
        report.error = f"no answer from the EZSP radio on {port} within {RADIO_TIMEOUT:g} s"
    except Exception as exc:  # noqa: BLE001 - any failure to talk to the stick is reported, not raised
        report.error = f"cannot talk EZSP on {port}: {type(exc).__name__}: {exc}"
    finally:
        await ezsp.disconnect()
    return report


async def _stack_version(ezsp: Any) -> tuple[int, int]:  # bellows' EZSP: library edge
    # The version handshake again (harmless, same answer): bellows keeps only the protocol version.
    _protocol, stack_type, stack_version = await ezsp._command("version", desiredProtocolVersion=ezsp.ezsp_version)
    return int(stack_type), int(stack_version)


def check_dut(port: str, command: str) -> str:
    """Send the DUT's info command over its control port; the reply line (DutControlError when none)."""
    control = CliDutControl(port, {"info": command})
    try:
        return control.command("info")
    finally:
        control.close()


def _subject(certificate: bytes, suite: int) -> str:
    from harness.crypto import parse_certificate
    from harness.crypto.errors import CryptoError

    try:
        return parse_certificate(certificate, suite).subject.hex().upper()
    except CryptoError as exc:
        return f"unparseable: {exc}"


def render(report: CheckReport, out: TextIO) -> None:
    radio = report.radio
    print(f"radio ezsp:{radio.port}", file=out)
    if radio.error:
        print(f"radio error: {radio.error}", file=out)
    else:
        print(f"firmware {radio.firmware or 'unknown'} (board {radio.board or 'unknown'}, "
              f"manufacturer {radio.manufacturer or 'unknown'})", file=out)
        print(f"ezsp protocol {radio.protocol}, stack type {radio.stack_type}, "
              f"stack version 0x{radio.stack_version or 0:04X}", file=out)
        print(f"eui64 {radio.eui64}", file=out)
        cbke = radio.cbke  # read whenever the radio answered (no error)
        suites = {} if cbke is None else {
            1: ("CBKE (suite 1)", cbke.certificate), 2: ("CBKE 283k1 (suite 2)", cbke.certificate_283k1),
        }
        for suite, (library, certificate) in suites.items():
            present = cbke is not None and cbke.libraries.get(library, False)
            line = f"cbke suite {suite} ({SUITE_CURVES[suite]}): library {'present' if present else 'absent'}"
            if present:
                line += (f", certificate {certificate.hex()} ({len(certificate)} bytes, subject "
                         f"{_subject(certificate, suite)})" if certificate else ", no certificate")
            print(line, file=out)
    if report.dut is not None:
        print(f"dut {report.dut}", file=out)
    for problem in report.missing:
        print(f"missing: {problem}", file=out)
    print("result: " + ("ready for every feature" if report.ready else f"{len(report.missing)} problem(s)"), file=out)


async def run_check(radio_port: str, dut_port: str | None, dut_command: str) -> CheckReport:
    report = CheckReport(await check_radio(radio_port))
    radio = report.radio
    if radio.error:
        report.missing.append(radio.error)
    elif radio.cbke is not None and not radio.cbke.suite1:
        report.missing.append("CBKE suite 1 on the NCP (library and certificate): key establishment and every "
                              "feature after it cannot run; flash an NCP image with the CBKE/ECC libraries and "
                              "install the test-CA certificate")
    if dut_port is not None:
        sent = dut_command.partition(" -> ")[0].strip()
        try:
            answer = await asyncio.get_running_loop().run_in_executor(None, check_dut, dut_port, dut_command)
            report.dut = f"{dut_port}: {sent!r} -> {answer!r}"
        except DutControlError as exc:
            report.dut = f"{dut_port}: {sent!r} -> no valid answer"
            report.missing.append(f"the DUT control answer: {exc}")
    return report


def _radio_port(radio: str) -> str:
    kind, _sep, port = radio.partition(":")
    if kind != "ezsp" or not port:
        raise CheckError(f"the radio is {radio!r}: the check needs an EZSP radio, ezsp:<port> (--radio or the "
                         "bench profile's radio)")
    return port


def main(argv: list[str] | None = None, out: TextIO = sys.stdout, prog: str = "python -m harness.bench_check") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, required=True, help="bench profile YAML (its radio: ezsp:<port>)")
    parser.add_argument("--radio", help="golden radio ezsp:<port>, overriding the bench profile")
    parser.add_argument("--dut", help="the DUT control port (serial path or pyserial URL) to ask for its identity")
    parser.add_argument("--profile", type=Path, help="DUT profile: its control.commands.info is the command sent")
    args = parser.parse_args(argv)
    try:
        bench = load_bench_profile(args.bench)
        port = _radio_port(args.radio or bench.radio)
        command = INFO_COMMAND
        if args.profile is not None:
            command = load_dut_profile(args.profile).control.commands.get("info", INFO_COMMAND)
    except (ProfileError, CheckError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    report = asyncio.run(run_check(port, args.dut, command))
    render(report, out)
    return 0 if report.ready else 1


if __name__ == "__main__":
    sys.exit(main())

"""DUT control over a command line: a serial port or any pyserial URL (socket://host:port, rfc2217://...).

The DUT profile maps each harness action to a command line and, optionally, the reply that confirms it:

    control:
      kind: cli
      port: /dev/ttyUSB0            # or socket://10.0.0.5:4000
      commands:
        factory_reset: "reset factory -> ^OK"
        start_joining: "net join"   # expected reply defaults to a line starting with OK
        start_rejoin: "net rejoin -> ^(OK|REJOINING)"
        opt_out: "drlc optout {event_id} -> ^OK"      # {event_id}: the issuer event id, decimal
        opt_in: "drlc optin {event_id} -> ^OK"
        confirm_message: "msg confirm {message_id} -> ^OK"
        read_log: "log dump -> ^OK log"     # every line before the confirming one is the DUT's log
        read_actuation: "drlc state -> ^OK state"  # the reply's name=value pairs: what the device applies
        read_local_time: "time local -> ^OK local"  # local=YYYY-MM-DDTHH:MM:SS (or local=none) in the reply
        read_current_price: "price -> ^OK price"  # event=<IssuerEventID> (or none), price=<Price>, at=<UTC time>
        publish_price: "esi price next-hour -> ^OK"      # an ESI's head end: a price for the next hour
        issue_event: "esi drlc next-hour -> ^OK"         # a load control event in the next free hour
        display_message: "esi msg send -> ^OK"           # a message asking for confirmation

A reply line starting with ERROR, no matching reply before the timeout, or a closed port is a bench error
(:class:`~harness.dut.base.DutControlError`), never a DUT failure.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import serial

from harness.clock import ZCL_EPOCH
from harness.crypto.install_code import InstallCode
from harness.wire.frames.types import format_ieee

from .base import DutControl, DutControlError, ShownPrice

DEFAULT_REPLY = r"^OK\b"
#: One ``name=value`` pair of a read_actuation reply (value decimal, or 0x-hex).
ACTUATION_PAIR = re.compile(r"\b([a-z_]+)=(-?(?:0x[0-9A-Fa-f]+|\d+))\b")
#: The ``local=`` field of a read_local_time reply: the shown date and time, or ``none``.
LOCAL_TIME_FIELD = re.compile(r"\blocal=(none|\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?)\b")
#: The fields of a read_current_price reply: the IssuerEventID of the price shown (or ``none``), its Price field
#: (optional) and the device's network time of the reading (UTC, YYYY-MM-DDTHH:MM:SS, a trailing Z allowed).
PRICE_EVENT_FIELD = re.compile(r"\bevent=(none|\d+)\b")
PRICE_VALUE_FIELD = re.compile(r"\bprice=(\d+)\b")
PRICE_AT_FIELD = re.compile(r"\bat=(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})Z?(?!\S)")
DEFAULT_TIMEOUT = 5.0

try:  # pyserial's POSIX backend lets termios.error (not an OSError) out of flush() on a port whose peer is gone
    import termios

    _PORT_ERRORS: tuple[type[BaseException], ...] = (serial.SerialException, OSError, termios.error)
except ImportError:  # Windows: no termios
    _PORT_ERRORS = (serial.SerialException, OSError)



@dataclass(frozen=True)
class CliCommand:
    """One action: the line to send and a regular expression its confirming reply matches."""

    line: str
    reply: re.Pattern[str]

    @classmethod
    def parse(cls, action: str, text: str) -> CliCommand:
        line, sep, reply = text.partition(" -> ")
        if not line.strip():
            raise DutControlError(f"control.commands.{action}: empty command line")
        try:
            pattern = re.compile(reply.strip() if sep else DEFAULT_REPLY)
        except re.error as exc:
            raise DutControlError(f"control.commands.{action}: reply pattern {reply!r} is not a regex: {exc}") from None
        return cls(line.strip(), pattern)


class CliDutControl(DutControl):
    """Sends one command line per action and waits for its reply; the port opens lazily, once."""

    def __init__(self, port: str, commands: dict[str, str], *, baudrate: int = 115200,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.port = port
        self.baudrate = baudrate
        self.timeout = timeout
        self.commands = {action: CliCommand.parse(action, text) for action, text in commands.items()}
        self.transcript: list[tuple[str, str]] = []  # (sent, reply) for the scenario's log
        self._serial: serial.SerialBase | None = None
        self.lost: str | None = None  # why the port went away, once it did (the bench's health check reads it)

    def _open(self) -> serial.SerialBase:
        if self._serial is None:
            try:
                self._serial = serial.serial_for_url(self.port, baudrate=self.baudrate, timeout=self.timeout)
            except (serial.SerialException, ValueError, OSError) as exc:
                raise DutControlError(f"DUT control port {self.port}: cannot open: {exc}") from None
            self.lost = None  # open again (a DUT that came back): its earlier loss no longer stands
        return self._serial

    def command(self, action: str, **fields: object) -> str:
        """Send *action*'s command line (``{field}`` placeholders filled from *fields*); return the reply line."""
        return self.exchange(action, **fields)[-1]

    def exchange(self, action: str, **fields: object) -> list[str]:
        """Send *action*'s command line; return every line the DUT answered, the confirming reply last."""
        spec = self.commands.get(action)
        if spec is None:
            raise DutControlError(f"the DUT profile has no control.commands.{action}; add the CLI command for it")
        try:
            line = spec.line.format(**fields)
        except (KeyError, IndexError) as exc:
            raise DutControlError(f"control.commands.{action}: placeholder {exc} has no value") from None
        port = self._open()
        try:
            port.reset_input_buffer()
            port.write(line.encode() + b"\r\n")
            port.flush()
            lines: list[str] = []
            while True:
                raw = port.readline()
                if not raw:
                    raise DutControlError(f"DUT control {self.port}: no reply to {line!r} within {self.timeout:g} s"
                                          + (f" (got {lines[-5:]!r})" if lines else ""))
                reply = raw.decode(errors="replace").strip()
                if not reply or reply == line:
                    continue  # blank lines and a device's echo of the command
                lines.append(reply)
                if reply.startswith("ERROR"):
                    raise DutControlError(f"DUT control {self.port}: {line!r} answered {reply!r}")
                if spec.reply.search(reply):
                    self.transcript.append((line, reply))
                    return lines
        except _PORT_ERRORS as exc:
            self.close()
            self.lost = f"disconnected during {line!r}: {exc}"
            raise DutControlError(f"DUT control {self.port}: {self.lost}") from None

    def port_fault(self) -> str | None:
        """Why the open control port is no longer usable (closed at the other end, unplugged), else None. Reads
        nothing: it asks how many bytes wait (an I/O error on a port whose other end is gone)."""
        if self.lost is not None:
            return f"{self.port}: {self.lost}"
        if self._serial is None:
            return None  # not opened yet: the next command opens it (or says why it cannot)
        try:
            self._serial.in_waiting  # noqa: B018 - the ioctl is the probe
        except _PORT_ERRORS as exc:
            self.close()
            self.lost = f"the port reports {exc}"
            return f"{self.port}: {self.lost}"
        return None

    async def _run(self, action: str, **fields: object) -> list[str]:
        # Serial I/O blocks in a worker thread so the bench loop (and the golden radio) keep running.
        return await asyncio.get_running_loop().run_in_executor(None, lambda: self.exchange(action, **fields))

    async def factory_reset(self) -> None:
        await self._run("factory_reset")

    async def start_joining(self) -> None:
        await self._run("start_joining")

    async def start_rejoin(self) -> None:
        await self._run("start_rejoin")

    async def opt_out(self, issuer_event_id: int) -> None:
        await self._run("opt_out", event_id=issuer_event_id)

    async def opt_in(self, issuer_event_id: int) -> None:
        await self._run("opt_in", event_id=issuer_event_id)

    async def confirm_message(self, message_id: int) -> None:
        await self._run("confirm_message", message_id=message_id)

    async def publish_price(self) -> None:
        await self._run("publish_price")

    async def issue_event(self) -> None:
        await self._run("issue_event")

    async def display_message(self) -> None:
        await self._run("display_message")

    async def power_off(self) -> None:
        await self._run("power_off")  # e.g. a lab power switch on the same control line

    async def power_on(self) -> None:
        await self._run("power_on")

    async def add_install_code(self, ieee: int, install_code: InstallCode) -> None:
        # The code with its CRC, as hex: what an ESI's CLI or head end takes from a device label.
        await self._run("add_install_code", ieee=format_ieee(ieee), install_code=install_code.with_crc.hex().upper())

    async def permit_joining(self, seconds: int) -> None:
        await self._run("permit_joining", seconds=seconds)

    async def update_network_key(self) -> None:
        await self._run("update_network_key")

    async def remove_device(self, ieee: int) -> None:
        await self._run("remove_device", ieee=format_ieee(ieee))

    @property
    def reads_log(self) -> bool:
        return "read_log" in self.commands

    async def read_log(self) -> list[str]:
        return (await self._run("read_log"))[:-1]

    @property
    def reads_actuation(self) -> bool:
        return "read_actuation" in self.commands

    async def read_actuation(self) -> dict[str, int]:
        reply = (await self._run("read_actuation"))[-1]
        try:
            return {name: int(value, 0) for name, value in ACTUATION_PAIR.findall(reply)}
        except ValueError as exc:
            raise DutControlError(f"DUT control {self.port}: read_actuation reply {reply!r}: {exc}") from None

    @property
    def reads_local_time(self) -> bool:
        return "read_local_time" in self.commands

    async def read_local_time(self) -> datetime | None:
        reply = (await self._run("read_local_time"))[-1]
        found = LOCAL_TIME_FIELD.search(reply)
        if found is None:
            raise DutControlError(f"DUT control {self.port}: read_local_time reply {reply!r} has no "
                                  "local=YYYY-MM-DDTHH:MM:SS (or local=none)")
        return None if found.group(1) == "none" else datetime.fromisoformat(found.group(1))

    @property
    def reads_current_price(self) -> bool:
        return "read_current_price" in self.commands

    async def read_current_price(self) -> ShownPrice:
        reply = (await self._run("read_current_price"))[-1]
        event, at = PRICE_EVENT_FIELD.search(reply), PRICE_AT_FIELD.search(reply)
        if event is None or at is None:
            raise DutControlError(f"DUT control {self.port}: read_current_price reply {reply!r} needs "
                                  "event=<IssuerEventID> (or event=none) and at=YYYY-MM-DDTHH:MM:SS (UTC)")
        value = PRICE_VALUE_FIELD.search(reply)
        when = datetime.fromisoformat(at.group(1)).replace(tzinfo=UTC)
        return ShownPrice(at=int((when - ZCL_EPOCH).total_seconds()),
                          issuer_event_id=None if event.group(1) == "none" else int(event.group(1)),
                          price=None if value is None else int(value.group(1)))

    def close(self) -> None:
        if self._serial is not None:
            try:
                self._serial.close()
            finally:
                self._serial = None

"""A reference device's command line on a pseudo-terminal, so the `cli` DUT driver is tested for real.

Line protocol (one reply line per command):  ``reset`` -> ``OK reset``, ``join`` -> ``OK joining``,
``rejoin`` -> ``OK rejoining``, ``info`` -> ``OK ieee=<hex> joined=<0|1> nwk=<hex>``, ``optout N`` /
``optin N`` -> ``OK optout N shown=<0|1>`` (whether the device showed event N is judged on the air),
``confirm N`` -> ``OK confirming N`` (the Message Confirmation goes out after the reply), ``time`` -> ``OK
local=<YYYY-MM-DDTHH:MM:SS>`` (the local time the display shows; ``none`` while it shows none), ``price`` -> ``OK
price event=<IssuerEventID> price=<Price> at=<YYYY-MM-DDTHH:MM:SSZ>`` (the current price the display shows, and
the device's network time; ``event=none`` while it shows none), ``log`` -> the
device's recent log lines, then ``OK log <count>``; a user action the device has no client for, a missing or
non-numeric id -> ``ERROR ...``; a Trust Center's head end (the reference ESI): ``installcode <ieee> <code>``,
``permit <seconds>``, ``rekey``, ``remove <ieee>`` -> ``OK <word> ...``; anything else -> ``ERROR unknown command
<word>``.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from datetime import timedelta
from pathlib import Path

from harness.clock import ZCL_EPOCH, WallClock
from harness.devices.base import ReferenceDevice
from harness.sim.air import Air

from .pty import PseudoTerminal

#: The CLI's own notes go to the device's log (``log`` prints them with the device's).
LOGGER = logging.getLogger("harness.devices.cli")

#: The DUT-profile commands that drive this CLI (profiles/dut/ref-ihd-cli.yaml uses them).
PROFILE_COMMANDS = {"factory_reset": "reset -> ^OK reset", "start_joining": "join -> ^OK joining",
                    "start_rejoin": "rejoin -> ^OK rejoining", "opt_out": "optout {event_id} -> ^OK optout",
                    "opt_in": "optin {event_id} -> ^OK optin", "confirm_message": "confirm {message_id} -> ^OK confirming",
                    "read_log": "log -> ^OK log", "read_local_time": "time -> ^OK local",
                    "read_current_price": "price -> ^OK price"}
#: What the device logs (its own modules and its key establishment) is kept for the ``log`` command.
DEVICE_LOGGERS = ("harness.devices", "harness.ke")
LOG_LINES = 500


class ReferenceCli:
    def __init__(self, device: ReferenceDevice, join_deadline: float = 60.0) -> None:
        self.device = device
        self.join_deadline = join_deadline
        self.pty = PseudoTerminal(self._data)
        self._buffer = b""
        self.path = ""
        self.log = _DeviceLog(LOG_LINES)
        self._tasks: set[asyncio.Task] = set()

    def open(self, loop: asyncio.AbstractEventLoop) -> str:
        self.path = self.pty.open(loop)
        for name in DEVICE_LOGGERS:
            logger = logging.getLogger(name)
            logger.addHandler(self.log)
            logger.setLevel(min(logger.getEffectiveLevel(), logging.DEBUG))
        return self.path

    def _data(self, data: bytes) -> None:
        self._buffer += data
        while b"\n" in self._buffer or b"\r" in self._buffer:
            cut = min(i for i in (self._buffer.find(b"\n"), self._buffer.find(b"\r")) if i >= 0)
            line, self._buffer = self._buffer[:cut], self._buffer[cut + 1:]
            text = line.decode(errors="replace").strip()
            if text:
                self.pty.write("".join(f"{reply}\r\n" for reply in self.execute_lines(text)).encode())

    def execute_lines(self, line: str) -> list[str]:
        """Every line the device answers to *line*, its status line last."""
        if line.split()[0].lower() == "log":
            lines = list(self.log.lines)
            return [*lines, f"OK log {len(lines)}"]
        return [self.execute(line)]

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
        if word == "power":  # a lab power switch on the control line: "power off" / "power on"
            state = line.split()[1].lower() if len(line.split()) > 1 else ""
            if state not in ("off", "on"):
                return "ERROR power needs off or on"
            device.power_off() if state == "off" else device.power_on()
            return f"OK power {state}"
        if word == "info":
            node = device.node
            return f"OK ieee={device.ieee:016X} joined={int(node.joined)} nwk={node.nwk:04X}"
        if word in ("installcode", "permit", "rekey", "remove"):
            return self._head_end(word, line.split()[1:])
        if word in ("optout", "optin", "confirm"):
            return self._user_action(word, line.split()[1:])
        if word == "time":
            shown = getattr(device, "shown_local_time", None)
            local = shown() if callable(shown) else None
            return f"OK local={local.isoformat(timespec='seconds') if local is not None else 'none'}"
        if word == "price":
            return self._price()
        return f"ERROR unknown command {word}"

    def _price(self) -> str:
        """The current price the display shows (``event=none`` while none) and the device's network time."""
        shown = getattr(self.device, "shown_price", None)
        reading = shown() if callable(shown) else None
        if reading is None:
            return f"ERROR {self.device.model} shows no price"
        at, issuer_event_id, price = reading
        when = (ZCL_EPOCH + timedelta(seconds=at)).strftime("%Y-%m-%dT%H:%M:%SZ")
        if issuer_event_id is None:
            return f"OK price event=none at={when}"
        return f"OK price event={issuer_event_id} price={price} at={when}"

    def _head_end(self, word: str, args: list[str]) -> str:
        """A Trust Center's head-end actions (the reference ESI): ``installcode <ieee> <code with CRC>``,
        ``permit <seconds>``, ``rekey``, ``remove <ieee>``."""
        from harness.crypto.install_code import InstallCode, InstallCodeError
        from harness.devices.esi import ReferenceEsi

        device = self.device
        if not isinstance(device, ReferenceEsi):
            return f"ERROR {device.model} is no Trust Center"
        try:
            if word == "installcode" and len(args) == 2:
                device.add_install_code(int(args[0].replace(":", ""), 16), InstallCode.parse(args[1]))
                return "OK installcode"  # the code is a secret: the reply never repeats it
            if word == "permit" and len(args) == 1:
                device.permit_joining(int(args[0]))
                return f"OK permit {int(args[0])}"
            if word == "rekey" and not args:
                device.update_network_key()
                return "OK rekey"
            if word == "remove" and len(args) == 1:
                device.remove_device(int(args[0].replace(":", ""), 16))
                return "OK remove"
        except (ValueError, InstallCodeError) as exc:
            return f"ERROR {word}: {exc}"
        return f"ERROR {word}: wrong arguments"

    def _user_action(self, word: str, args: list[str]) -> str:
        from harness.devices.application import ApplicationDevice, UnsupportedUserAction

        if len(args) != 1 or not args[0].isdigit():
            return f"ERROR {word} needs one decimal id"
        ident = int(args[0])
        device = self.device
        if not isinstance(device, ApplicationDevice):
            return f"ERROR {device.model} has no user actions"
        try:
            if word == "confirm":
                task = asyncio.get_running_loop().create_task(self._confirm(ident))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                return f"OK confirming {ident}"
            shown = device.opt_out(ident) if word == "optout" else device.opt_in(ident)
        except UnsupportedUserAction as exc:
            return f"ERROR {exc}"
        LOGGER.info("%s %d: the user %s event %d (%s)", word, ident, "opts out of" if word == "optout" else
                    "opts into", ident, "shown" if shown else "no such event shown")
        return f"OK {word} {ident} shown={int(shown)}"

    async def _confirm(self, message_id: int) -> None:
        from harness.devices.application import UnsupportedUserAction

        try:
            sent = await self.device.confirm_message(message_id)
        except UnsupportedUserAction as exc:
            LOGGER.info("confirm %d: %s", message_id, exc)
            return
        LOGGER.info("confirm %d: Message Confirmation %s", message_id, "sent" if sent else "not sent")

    def close(self) -> None:
        for name in DEVICE_LOGGERS:
            logging.getLogger(name).removeHandler(self.log)
        for task in self._tasks:
            task.cancel()
        self.device.close()
        self.pty.close()


class _DeviceLog(logging.Handler):
    """The device's recent log lines, newest last (what a real device's ``log`` command would print)."""

    def __init__(self, limit: int) -> None:
        super().__init__(logging.DEBUG)
        self.lines: collections.deque[str] = collections.deque(maxlen=limit)
        self.setFormatter(logging.Formatter("%(relativeCreated)10.0f ms %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record).replace("\r", " ").replace("\n", " "))
        except Exception:  # a log line must never break the device
            self.lines.append(f"(unformattable log record from {record.name})")


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

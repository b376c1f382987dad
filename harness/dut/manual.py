"""DUT control by an operator: every action is a prompt ("Press the join button on the DUT, then Enter").

All prompts go through one hook, an :class:`OperatorPrompt`. The terminal prompt asks on the controlling
terminal; with no terminal (CI) it raises :class:`ManualStepBlocked`, which the suite reports as *blocked*:
nobody performed the step, so the DUT is neither passed nor failed.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from typing import TextIO

from harness.crypto.install_code import InstallCode
from harness.errors import StepBlocked
from harness.wire.frames.types import format_ieee

from .base import DutControl

DEFAULT_PROMPTS = {
    "factory_reset": "Factory-reset the DUT (see its manual), then press Enter",
    "start_joining": "Press the join button on the DUT, then press Enter",
    "start_rejoin": "Make the DUT rejoin the network (e.g. power-cycle it), then press Enter",
    "opt_out": "On the DUT, opt out of load control event {event_id}, then press Enter",
    "opt_in": "On the DUT, opt back into load control event {event_id}, then press Enter",
    "confirm_message": "On the DUT's display, confirm message {message_id}, then press Enter",
    "power_off": "Pull the DUT's power plug (no orderly shutdown), then press Enter",
    "power_on": "Plug the DUT's power back in, then press Enter",
    "publish_price": "At the ESI's head end, publish a price for the next hour, then press Enter",
    "issue_event": "At the ESI's head end, issue a load control event for all device classes in the next free hour, "
                   "then press Enter",
    "display_message": "At the ESI's head end, send a message to the home asking for confirmation, then press Enter",
    # A DUT that forms the network: its head end's actions. The prompt never shows an install code (a secret):
    # the operator reads it from the label of the bench's HAN device.
    "add_install_code": "Give the DUT's Trust Center the install code on the label of HAN device {ieee}, then press "
                        "Enter",
    "permit_joining": "Open the DUT's permit-join window for {seconds} seconds, then press Enter",
    "update_network_key": "Make the DUT's Trust Center update the network key (new key, then Switch Key), then "
                          "press Enter",
    "remove_device": "Make the DUT's Trust Center remove device {ieee} from the network, then press Enter",
}


class ManualStepBlocked(StepBlocked, RuntimeError):
    """A manual step could not be performed (no operator terminal, or the operator declined): verdict blocked."""


OperatorPrompt = Callable[[str], None]


class TerminalPrompt:
    """Ask on a terminal; answering 's' (skip) or having no terminal blocks the step."""

    def __init__(self, stream_in: TextIO | None = None, stream_out: TextIO | None = None) -> None:
        self.stream_in = stream_in if stream_in is not None else sys.stdin
        self.stream_out = stream_out if stream_out is not None else sys.stderr

    def __call__(self, message: str) -> None:
        if os.environ.get("CI") or not _is_tty(self.stream_in):
            raise ManualStepBlocked(f"manual step needs an operator, but there is no terminal: {message}")
        self.stream_out.write(f"\n>>> {message} [Enter = done, s = cannot do it] ")
        self.stream_out.flush()
        answer = self.stream_in.readline()
        if not answer:
            raise ManualStepBlocked(f"the operator's terminal closed at: {message}")
        if answer.strip().lower() == "s":
            raise ManualStepBlocked(f"the operator could not perform: {message}")


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class ManualDutControl(DutControl):
    """Each action asks the operator through *prompt*; *prompts* may override the wording per action."""

    def __init__(self, prompt: OperatorPrompt | None = None, prompts: dict[str, str] | None = None) -> None:
        self.prompt = prompt if prompt is not None else TerminalPrompt()
        self.prompts = {**DEFAULT_PROMPTS, **(prompts or {})}
        self.asked: list[str] = []

    async def _ask(self, action: str, **fields: object) -> None:
        message = self.prompts[action].format(**fields)
        self.asked.append(message)
        # The operator may take minutes: ask from a worker thread so the golden radio keeps running.
        await asyncio.get_running_loop().run_in_executor(None, self.prompt, message)

    async def factory_reset(self) -> None:
        await self._ask("factory_reset")

    async def start_joining(self) -> None:
        await self._ask("start_joining")

    async def start_rejoin(self) -> None:
        await self._ask("start_rejoin")

    async def opt_out(self, issuer_event_id: int) -> None:
        await self._ask("opt_out", event_id=issuer_event_id)

    async def opt_in(self, issuer_event_id: int) -> None:
        await self._ask("opt_in", event_id=issuer_event_id)

    async def confirm_message(self, message_id: int) -> None:
        await self._ask("confirm_message", message_id=message_id)

    async def publish_price(self) -> None:
        await self._ask("publish_price")

    async def issue_event(self) -> None:
        await self._ask("issue_event")

    async def display_message(self) -> None:
        await self._ask("display_message")

    async def power_off(self) -> None:
        await self._ask("power_off")

    async def power_on(self) -> None:
        await self._ask("power_on")

    async def add_install_code(self, ieee: int, install_code: InstallCode) -> None:
        await self._ask("add_install_code", ieee=format_ieee(ieee))

    async def permit_joining(self, seconds: int) -> None:
        await self._ask("permit_joining", seconds=seconds)

    async def update_network_key(self) -> None:
        await self._ask("update_network_key")

    async def remove_device(self, ieee: int) -> None:
        await self._ask("remove_device", ieee=format_ieee(ieee))

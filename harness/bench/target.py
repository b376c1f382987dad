"""What the bench is made of, decided once: --dut and the golden radio, with the profiles, resolved to a target.

``--dut`` is parsed in harness/options.py into the DUT profile's own vocabulary (``sim``: a reference device;
``cli``: a control port, a serial device or a pyserial URL; ``manual``: an operator) and interpreted here only:
the Bench builds its backend from the target (harness/bench/front.py), and the pytest layer resolves it before
any case runs, so a bench that cannot work stops the run with one line (exit 4), never a run of bench errors.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.options import OptionError, RunOptions, check_radio, parse_radio

if TYPE_CHECKING:
    from harness.devices.base import ReferenceDevice
    from harness.profiles import BenchProfile, Control, DutProfile

ROOT = Path(__file__).resolve().parents[2]  # the suite checkout, for paths in messages


@dataclass(frozen=True)
class SimTarget:
    """The simulated bench: the DUT is a reference device (*model*) on the virtual air."""

    model: type[ReferenceDevice]


@dataclass(frozen=True)
class CliTarget:
    """A DUT driven through its CLI: a serial device or a pyserial URL (socket://host:port)."""

    port: str
    commands: Mapping[str, str]  # action -> "command line -> reply regex" (the DUT profile's control.commands)
    baudrate: int = 115200


@dataclass(frozen=True)
class ManualTarget:
    """A DUT an operator drives, prompted for each action (the DUT profile's control.prompts)."""

    prompts: Mapping[str, str]


@dataclass(frozen=True)
class HardwareTarget:
    """The real bench: the golden radio on an EZSP NCP at *radio_port*, the DUT through *dut*."""

    radio_port: str
    dut: CliTarget | ManualTarget


BenchTarget = SimTarget | HardwareTarget


def port_exists(port: str) -> bool:
    # A pyserial URL (socket://, rfc2217://) is reached only when opened; a device path must exist now.
    return "://" in port or os.path.exists(port)


def resolve(options: RunOptions, dut_profile: DutProfile, bench_profile: BenchProfile, *,
            check_ports: bool = False) -> BenchTarget:
    """The bench the options and profiles describe, or an OptionError naming the option and the fix: a
    physical DUT with the simulated radio, a reference device driven with another model's profile, a real radio
    with no way to drive the DUT, and with *check_ports* (before the run: a port that goes away later is a bench
    error of the case it hits, not of the run) a radio or DUT port that does not exist."""
    dut = options.dut
    radio = options.radio or parse_radio(bench_profile.radio)
    check_radio(dut, radio)
    if check_ports and radio.kind == "ezsp" and not port_exists(radio.port):
        raise OptionError(f"--radio={radio}: no such port {radio.port!r}; plug in the EZSP stick or name its "
                          "port (ls /dev/ttyACM* /dev/ttyUSB* /dev/serial/by-id/)")
    if check_ports and dut.kind == "cli" and not port_exists(dut.target):
        raise OptionError(f"--dut={dut}: no such port; connect the DUT's CLI or name its port "
                          "(ls /dev/ttyUSB* /dev/serial/by-id/), or use --dut=manual")
    control = dut_profile.control
    if dut.is_simulated and (control.kind != "sim" or control.model != dut.target):
        described = f"the reference device sim:{control.model}" if control.kind == "sim" else (
            f"a DUT driven through its {control.kind} control")
        raise OptionError(f"--dut={dut} with --profile={_shown(options.profile)}: the profile describes "
                          f"{described}, not sim:{dut.target}; give the matching --dut or "
                          f"profiles/dut/sim-{dut.target}.yaml")
    if radio.kind == "sim":
        from harness.devices.catalogue import MODELS

        if dut.target not in MODELS:
            raise OptionError(f"--dut={dut}: no reference device {dut.target!r}; "
                              f"known: {', '.join('sim:' + m for m in sorted(MODELS))}")
        return SimTarget(MODELS[dut.target])
    return HardwareTarget(radio.port, _dut_driver(options, control))


def _dut_driver(options: RunOptions, control: Control) -> CliTarget | ManualTarget:
    """How a real bench drives the DUT: an operator when --dut or the profile says manual, else its CLI on the
    --dut port (a profile's control.port is the placeholder --dut replaces) with the profile's commands."""
    dut = options.dut
    if dut.kind == "manual" or control.kind == "manual":
        return ManualTarget(dict(control.prompts))
    if dut.kind == "cli":
        return CliTarget(dut.target, dict(control.commands), control.baudrate)
    raise OptionError(f"--dut={dut} is a reference device of the simulated air, but the golden radio is an EZSP "
                      "radio: give the DUT's control port (--dut=/dev/ttyUSB0 or --dut=socket://host:port) or "
                      "--dut=manual, with its --profile")


def _shown(path: Path | None) -> str:
    """A profile path as a message shows it: relative to the suite when inside it."""
    if path is None:
        return "(none)"
    try:
        return Path(path).resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)  # outside the suite: shown as given

"""Run options of the suite, parsed and checked without pytest (harness/plugin.py maps them from pytest).

Each option comes from the command line, else an environment variable, else the ini file, else a default.
A bad value raises OptionError whose message is one line: the option, what is wrong, and the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path


class OptionError(ValueError):
    """A run option is malformed or inconsistent; the message says which and how to fix it."""


@dataclass(frozen=True)
class DutSpec:
    """Where the DUT is: a reference device in simulation, a serial port, a pyserial URL, or an operator."""

    kind: str  # "sim", "serial", "url", "manual"
    target: str  # model for sim, device path or URL otherwise, "" for manual

    @property
    def is_simulated(self) -> bool:
        return self.kind == "sim"

    def __str__(self) -> str:
        return f"sim:{self.target}" if self.kind == "sim" else (self.target or self.kind)


@dataclass(frozen=True)
class RadioSpec:
    """The golden radio: the simulated network, or an EZSP stick through bellows."""

    kind: str  # "sim" or "ezsp"
    port: str = ""

    def __str__(self) -> str:
        return "sim" if self.kind == "sim" else f"ezsp:{self.port}"


_URL = re.compile(r"^(socket|rfc2217|loop|spy|hwgrep|alt)://", re.IGNORECASE)
_MODEL = re.compile(r"^[a-z][a-z0-9_-]*$")


def parse_dut(value: str) -> DutSpec:
    value = value.strip()
    if not value:
        raise OptionError("--dut is empty: give sim:<model>, a serial port such as /dev/ttyUSB0, "
                          "a pyserial URL such as socket://host:port, or manual")
    if value.startswith("sim:"):
        model = value[4:]
        if not _MODEL.match(model):
            raise OptionError(f"--dut {value!r}: the model after 'sim:' must be a reference device name "
                              "such as sim:ihd (see --list-faults for the models)")
        return DutSpec("sim", model)
    if value == "manual":
        return DutSpec("manual", "")
    if _URL.match(value):
        return DutSpec("url", value)
    if value.startswith("/dev/") or re.match(r"^COM\d+$", value):
        return DutSpec("serial", value)
    raise OptionError(f"--dut {value!r} is not understood: give sim:<model>, a serial port such as "
                      "/dev/ttyUSB0, a pyserial URL such as socket://host:port, or manual")


def parse_radio(value: str) -> RadioSpec:
    value = value.strip()
    if value == "sim":
        return RadioSpec("sim")
    if value.startswith("ezsp:") and len(value) > 5:
        return RadioSpec("ezsp", value[5:])
    raise OptionError(f"--radio {value!r} is not understood: give sim, or ezsp:<port> such as ezsp:/dev/ttyACM0")


def parse_assignments(option: str, values: list[str]) -> dict[str, str]:
    """Parse repeated KEY=VALUE overrides (--pics, --pixit)."""
    result: dict[str, str] = {}
    for item in values:
        key, sep, val = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise OptionError(f"{option} {item!r}: expected KEY=VALUE, e.g. {option} "
                              + ("SE.DRLC.C=true" if option == "--pics" else "join_timeout=30s"))
        result[key] = val.strip()
    return result


@dataclass(frozen=True)
class RunOptions:
    """Everything a run was asked to do, after parsing; built once per session."""

    dut: DutSpec
    radio: RadioSpec | None  # None: take the bench profile's radio
    profile: Path | None
    bench: Path | None
    pics: dict[str, str] = field(default_factory=dict)
    pixit: dict[str, str] = field(default_factory=dict)
    faults: tuple[str, ...] = ()
    artifacts: Path | None = None
    artifacts_always: bool = False
    reveal_secrets: bool = False

    def check(self) -> None:
        """Cross-option consistency rules."""
        from harness.profiles import parse_pixit

        for key, value in self.pixit.items():
            try:
                parse_pixit(value)
            except ValueError as exc:
                raise OptionError(f"--pixit {key}={value!r}: {exc}; e.g. --pixit {key}=30s") from None
        if not self.dut.is_simulated and self.radio is not None and self.radio.kind == "sim":
            raise OptionError(f"--dut {self.dut} is a physical device but the golden radio is simulated: "
                              "give --radio ezsp:<port> or a --bench profile with an EZSP radio")
        if not self.dut.is_simulated and self.profile is None:
            raise OptionError(f"--dut {self.dut} is a physical device: give its profile with --profile "
                              "profiles/dut/<your-device>.yaml (see docs/profiles.md)")
        if self.faults and not self.dut.is_simulated:
            raise OptionError(f"--fault applies to reference devices only, but --dut is {self.dut}")
        for path, name in ((self.profile, "--profile"), (self.bench, "--bench")):
            if path is not None and not path.is_file():
                raise OptionError(f"{name} {path}: no such file")

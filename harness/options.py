"""Run options of the suite, parsed and checked without pytest (harness/plugin.py maps them from pytest).

Each option comes from the command line, else an environment variable, else the ini file, else a default.
A bad value raises OptionError whose message is one line: the option, what is wrong, and the fix.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # pydantic and the data model load only when a run checks its profile
    from harness.profiles import DutProfile


class OptionError(ValueError):
    """A run option is malformed or inconsistent; the message says which and how to fix it."""


@dataclass(frozen=True)
class DutSpec:
    """Where the DUT is, in the DUT profile's own words (its control.kind): a reference device in simulation
    (sim), a CLI on a control port, a serial device or a pyserial URL (cli), or an operator (manual). What
    the bench makes of it, with the radio and the profiles, is decided in one place: harness/bench/target.py."""

    kind: Literal["sim", "cli", "manual"]
    target: str  # the model for sim, the control port (device path or URL) for cli, "" for manual

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
    if _URL.match(value) or value.startswith("/dev/") or re.match(r"^COM\d+$", value):
        return DutSpec("cli", value)
    raise OptionError(f"--dut {value!r} is not understood: give sim:<model>, a serial port such as "
                      "/dev/ttyUSB0, a pyserial URL such as socket://host:port, or manual")


def parse_radio(value: str) -> RadioSpec:
    value = value.strip()
    if value == "sim":
        return RadioSpec("sim")
    if value.startswith("ezsp:") and len(value) > 5:
        return RadioSpec("ezsp", value[5:])
    raise OptionError(f"--radio {value!r} is not understood: give sim, or ezsp:<port> such as ezsp:/dev/ttyACM0")


def check_radio(dut: DutSpec, radio: RadioSpec) -> None:
    """A physical DUT needs a real golden radio: the rule between --dut and the radio, whether the radio comes
    from --radio or from the bench profile."""
    if not dut.is_simulated and radio.kind == "sim":
        raise OptionError(f"--dut={dut} is a physical device, but the golden radio is simulated: give "
                          "--radio=ezsp:<port> (the bench's EZSP stick, e.g. ezsp:/dev/ttyACM0) or a --bench "
                          "profile whose radio is ezsp:<port>")


def not_empty(option: str, value: str | None, fix: str) -> str | None:
    """A single-valued option given empty (`--profile=`) is refused rather than read as "not given"."""
    if value is not None and not value.strip():
        raise OptionError(f"{option} is empty: give {fix}")
    return value


#: Where results can never go: kernel filesystems (writes there fail, or worse, succeed).
_KERNEL_FILESYSTEMS = (Path("/proc"), Path("/sys"), Path("/dev"))


def prepare_artifacts(path: Path) -> Path:
    """Create the artifacts folder (absolute path returned); an unusable one is one OptionError line."""
    resolved = path.expanduser().resolve()
    fix = "choose a writable folder on disk, e.g. --artifacts=reports/runs/mine"
    for root in _KERNEL_FILESYSTEMS:
        if resolved == root or root in resolved.parents:
            raise OptionError(f"--artifacts={path}: {root} is a kernel filesystem, not a place for results; {fix}")
    existing = next(p for p in (resolved, *resolved.parents) if p.exists())
    if not existing.is_dir():
        where = "is a file" if existing == resolved else f"is below {existing}, which is a file"
        raise OptionError(f"--artifacts={path}: {where}, not a folder; {fix}")
    try:
        resolved.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OptionError(f"--artifacts={path}: cannot create it ({exc.strerror}); {fix}") from None
    if not os.access(resolved, os.W_OK | os.X_OK):
        raise OptionError(f"--artifacts={path}: the folder is not writable; {fix}")
    return resolved


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
    #: Drives every random source of the harness and the reference devices (harness/rng.py); the plugin draws
    #: one when none is given and records it, so every run can be replayed with --seed.
    seed: int = 0
    seed_drawn: bool = False  # True when no --seed was given and the plugin drew this one

    def check(self) -> None:
        """Cross-option consistency rules."""
        from harness import pixits
        from harness.profiles import parse_pixit

        for key, value in self.pixit.items():
            try:
                parse_pixit(value)
            except ValueError as exc:
                raise OptionError(f"--pixit {key}={value!r}: {exc}; e.g. --pixit {key}=30s") from None
            try:
                pixits.check_text(key, value)
            except pixits.PixitBoundError as exc:
                raise OptionError(f"--pixit {key}={value}: {exc}") from None
        if self.radio is not None:
            check_radio(self.dut, self.radio)
        if not self.dut.is_simulated and self.profile is None:
            raise OptionError(f"--dut {self.dut} is a physical device: give its profile with --profile "
                              "profiles/dut/<your-device>.yaml (see docs/profiles.md)")
        if self.faults and not self.dut.is_simulated:
            raise OptionError(f"--fault applies to reference devices only, but --dut is {self.dut}")
        for path, name in ((self.profile, "--profile"), (self.bench, "--bench")):
            if path is not None and not path.is_file():
                raise OptionError(f"{name} {path}: no such file")

    def check_profile(self, dut_profile: DutProfile) -> None:
        """Rules between the options and the DUT profile: a --pics override never sets an item false that the
        device type makes mandatory, and the PIXITs in force (profile, then --pixit) keep their mutual bounds."""
        from harness import pixits
        from harness.pics import ClaimError, check_claims

        claims: dict[str, object] = dict(dut_profile.pics)
        claims.update({key: value.lower() in ("true", "1") for key, value in self.pics.items()})
        applications = ("openseg",) if dut_profile.openseg is not None else ()
        try:
            check_claims(claims, dut_profile.identity.device, applications)
        except ClaimError as exc:
            given = self.pics.get(exc.key, "false")
            raise OptionError(f"--pics {exc.key}={given}: {exc}; drop the override") from None
        amounts = {name: pixits.check(name, p.value, p.unit) for name, p in dut_profile.pixit.items()}
        amounts.update({name: pixits.check_text(name, text) for name, text in self.pixit.items()})
        try:
            pixits.check_relations(amounts)
        except pixits.PixitBoundError as exc:
            # The profile alone keeps these bounds (checked when it loads), so an override is involved: name it.
            name = next(n for n in exc.names if n in self.pixit)
            message = str(exc).partition(": ")[2]
            raise OptionError(f"--pixit {name}={self.pixit[name]}: {message}") from None

    def pixits_in_force(self, dut_profile: DutProfile) -> dict[str, tuple[float, str]]:
        """Every PIXIT set for the run, as (number, unit): the profile's, overridden by --pixit."""
        from harness import pixits

        values: dict[str, tuple[float, str]] = {name: (p.value, p.unit) for name, p in dut_profile.pixit.items()}
        values.update({name: pixits.split(text) for name, text in self.pixit.items()})
        return values


def widened_pixits(options: RunOptions, dut_profile: DutProfile) -> dict[str, str]:
    """The PIXITs in force that make a check more lenient than its default (for the run info and report)."""
    from harness import pixits

    return pixits.widened(options.pixits_in_force(dut_profile))

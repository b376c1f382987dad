"""Options of the suite: --dut, --profile, --bench, --radio, --pics, --pixit, --fault, --case, --seed,
--lab-key, --artifacts ... each from the command line, else an environment variable, else an ini key, else a
default. A bad value stops the run with one line naming the option and the fix (exit 4).

Also the DUT and bench profiles of the run (loaded once) and the claims they make after overrides: the one
place PICS overrides are applied.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from harness.options import (
    OptionError,
    RunOptions,
    not_empty,
    parse_assignments,
    parse_dut,
    parse_radio,
)
from harness.pytest_plugin.keys import (
    DEFAULT_BENCH,
    DEFAULT_DUT,
    PROFILES,
    ROOT,
    RUN_OPTIONS,
    SUITE_DIRS,
    SUITE_RUN,
)

if TYPE_CHECKING:
    from harness.bench.target import BenchTarget

# option name -> (environment variable, help)
_SINGLE = {
    "dut": ("SE_DUT", "DUT: sim:<model> (reference device), a serial port (/dev/ttyUSB0), a pyserial URL "
                      "(socket://host:port) or manual; default sim:ihd"),
    "profile": ("SE_PROFILE", "DUT profile YAML (default for sim:<model>: profiles/dut/sim-<model>.yaml)"),
    "bench": ("SE_BENCH", "bench profile YAML (default profiles/bench/sim.yaml)"),
    "radio": ("SE_RADIO", "golden radio, overriding the bench profile: sim or ezsp:<port>"),
    "artifacts": ("SE_ARTIFACTS", "folder for captures, logs and results (default reports/runs/<UTC time>)"),
    "seed": ("SE_SEED", "seed of every random choice of the bench and the reference devices (decimal or 0x-hex); "
                        "default: drawn, printed and recorded so the run can be replayed"),
    "pixit_preset": ("SE_PIXIT_PRESET", "a named set of PIXITs under any --pixit: lab (the shortest real-time "
                                        "waits the PIXIT bounds allow; docs/bench.md)"),
    "lab_key": ("SE_REPORTS_LAB_KEY", "the lab's Ed25519 private key (PEM, `python -m reports keygen`): the run "
                                      "signs its journal and manifest as it finishes"),
}


_MULTI = {
    "pics": ("SE_PICS", "override a PICS item, KEY=true|false (repeatable)"),
    "pixit": ("SE_PIXIT", "override a PIXIT, KEY=VALUE (repeatable), e.g. join_timeout=30s"),
    "fault": ("SE_FAULT", "seed a fault in the reference device (repeatable); see --list-faults"),
    "case": ("SE_CASE", "run only these cases: an id (TC-JOIN-1.5), a key (TC-ATTR-1.2[Basic]) or a pattern "
                        "(TC-DRLC-*), repeatable; the overall verdict is then PARTIAL"),
}


_FLAGS = {
    "artifacts_always": ("SE_ARTIFACTS_ALWAYS", "keep captures of passing cases too"),
    "reveal_secrets": ("SE_REVEAL_SECRETS", "write keys (Wireshark key files) and install codes into artifacts"),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("se", "Smart Energy conformance suite")
    for name, (env, text) in _SINGLE.items():
        group.addoption(f"--{name.replace('_', '-')}", dest=f"se_{name}", default=None,
                        help=f"{text} [env {env}, ini se_{name}]")
        parser.addini(f"se_{name}", text)
    for name, (env, text) in _MULTI.items():
        group.addoption(f"--{name}", dest=f"se_{name}", action="append", default=[],
                        help=f"{text} [env {env}, comma-separated]")
        parser.addini(f"se_{name}", text, type="linelist")
    for name, (env, text) in _FLAGS.items():
        flag = name.replace("_", "-")
        group.addoption(f"--{flag}", dest=f"se_{name}", action="store_true", default=False,
                        help=f"{text} [env {env}=1]")
    group.addoption("--list-faults", dest="se_list_faults", action="store_true", default=False,
                    help="print every reference device's fault catalogue, one fault per line, and exit")


def option_value(config: pytest.Config, name: str) -> str | None:
    value = config.getoption(f"se_{name}")
    if value is None:
        value = os.environ.get(_SINGLE[name][0]) or config.getini(f"se_{name}") or None
    return value


def option_values(config: pytest.Config, name: str) -> list[str]:
    values = list(config.getoption(f"se_{name}"))
    if not values:
        env = os.environ.get(_MULTI[name][0], "")
        values = [v.strip() for v in env.split(",") if v.strip()] or list(config.getini(f"se_{name}"))
    return values


def option_flag(config: pytest.Config, name: str) -> bool:
    return bool(config.getoption(f"se_{name}")) or os.environ.get(_FLAGS[name][0], "") not in ("", "0")


def build_run_options(config: pytest.Config) -> RunOptions:
    dut_text = option_value(config, "dut")
    dut = parse_dut(DEFAULT_DUT if dut_text is None else dut_text)  # `--dut=` is refused, not read as the default
    radio_text = not_empty("--radio", option_value(config, "radio"), "sim or ezsp:<port>, or leave --radio out to use "
                           "the bench profile's radio")
    profile_text = not_empty("--profile", option_value(config, "profile"), "the DUT profile YAML, or leave --profile "
                             "out to use the reference device's profile")
    profile = Path(profile_text) if profile_text else None
    if profile is None and dut.is_simulated:
        profile = ROOT / "profiles" / "dut" / f"sim-{dut.target}.yaml"
        if not profile.is_file():
            raise OptionError(f"--dut {dut}: no reference profile {profile.relative_to(ROOT)}; "
                              "give --profile or a known model (--list-faults lists them)")
    bench_text = not_empty("--bench", option_value(config, "bench"), "the bench profile YAML, or leave --bench out "
                           "for profiles/bench/sim.yaml")
    artifacts_text = not_empty("--artifacts", option_value(config, "artifacts"), "a folder, or leave --artifacts out "
                               "for reports/runs/<UTC time>")
    seed_text = option_value(config, "seed")
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and "se_seed" in workerinput:
        seed_text = str(workerinput["se_seed"])  # an xdist worker runs with the controller's (maybe drawn) seed
    seed, seed_drawn = _seed(seed_text)
    options = RunOptions(
        dut=dut,
        radio=parse_radio(radio_text) if radio_text else None,
        profile=profile,
        bench=Path(bench_text) if bench_text else DEFAULT_BENCH,
        pics=parse_assignments("--pics", option_values(config, "pics")),
        pixit={**_pixit_preset(config), **parse_assignments("--pixit", option_values(config, "pixit"))},
        faults=tuple(option_values(config, "fault")),
        artifacts=Path(artifacts_text) if artifacts_text else None,
        artifacts_always=option_flag(config, "artifacts_always"),
        reveal_secrets=option_flag(config, "reveal_secrets"),
        seed=seed,
        seed_drawn=seed_drawn,
    )
    options.check()
    if dut.is_simulated and options.faults:
        from harness.devices.catalogue import MODELS
        from harness.devices.faults import UnknownFaultError, check_faults

        if dut.target in MODELS:
            try:
                check_faults(dut.target, options.faults, MODELS[dut.target].faults_catalogue)
            except UnknownFaultError as exc:
                raise OptionError(str(exc)) from None
    for key, value in options.pics.items():
        if value.lower() not in ("true", "false", "1", "0"):
            raise OptionError(f"--pics {key}={value}: a PICS value is true or false")
    return options


def _pixit_preset(config: pytest.Config) -> dict[str, str]:
    """The --pixit values of --pixit-preset (harness/presets.py); an explicit --pixit overrides each."""
    from harness.presets import PresetError, preset

    name = option_value(config, "pixit_preset")
    if not name:
        return {}
    try:
        return preset(name)
    except PresetError as exc:
        raise OptionError(f"--pixit-preset={name}: {exc}") from None


def _seed(text: str | None) -> tuple[int, bool]:
    """The run's seed and whether it was drawn: the one given, else a drawn one (recorded and printed, so the
    run can be replayed)."""
    from harness.rng import SeedError, draw_seed, parse_seed

    if text is None:
        return draw_seed(), True
    if not text.strip():
        raise OptionError("--seed is empty: give a number such as --seed 12345, or leave --seed out to draw one")
    try:
        return parse_seed(text), False
    except SeedError as exc:
        raise OptionError(f"--seed {exc}") from None


def check_bench_reachable(options: RunOptions, dut_profile, bench_profile) -> BenchTarget:
    """Refuse, before any case runs, a bench that cannot work: a physical DUT with the simulated radio, a
    radio or DUT port that does not exist, or a reference device driven with another model's profile. Each
    is one line naming the option and the fix (exit 4), never a run of bench errors. Returns the bench the run
    has (harness/bench/target.py, where --dut is interpreted)."""
    from harness.bench.target import resolve

    return resolve(options, dut_profile, bench_profile, check_ports=True)


def is_suite_run(config: pytest.Config) -> bool:
    for arg in config.args:
        path = Path(arg.split("::")[0]).resolve()
        if any(path == d or d in path.parents for d in SUITE_DIRS):
            return True
    return False


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """pytest-xdist: every worker draws from the controller's seed, the one the journal records."""
    options = node.config.stash.get(RUN_OPTIONS, None)
    if options is not None:
        node.workerinput["se_seed"] = options.seed


def pytest_cmdline_main(config: pytest.Config) -> int | None:
    if not config.getoption("se_list_faults"):
        return None
    from harness.devices.catalogue import MODELS

    for model, cls in sorted(MODELS.items()):
        for fault in cls.faults_catalogue.values():
            print(f"sim:{model} {fault.name}: {fault.breaks} (fails {', '.join(fault.targets)})")
    return 0


def profiles(config: pytest.Config):
    if PROFILES not in config.stash:
        from harness.profiles import ProfileError, load_bench_profile, load_dut_profile

        options = config.stash[RUN_OPTIONS]
        # build_run_options always sets both: a default for sim:<model>, a usage error for a physical DUT.
        assert options.profile is not None and options.bench is not None
        try:
            config.stash[PROFILES] = (load_dut_profile(options.profile), load_bench_profile(options.bench))
        except ProfileError as exc:
            raise pytest.UsageError(str(exc)) from None
    return config.stash[PROFILES]


def claimed_pics(config: pytest.Config) -> dict[str, bool]:
    dut_profile, _ = profiles(config)
    pics = dict(dut_profile.pics)
    for key, value in config.stash[RUN_OPTIONS].pics.items():
        pics[key] = value.lower() in ("true", "1")
    return pics


def seed_line(options: RunOptions) -> str:
    how = "drawn" if options.seed_drawn else "given"
    return f"seed {options.seed} ({how}; `--seed {options.seed}` replays this run's random choices)"


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    # Printed first, so even a run that dies before its summary says how to replay it.
    if not config.stash.get(SUITE_RUN, False) or RUN_OPTIONS not in config.stash:
        return None
    return [seed_line(config.stash[RUN_OPTIONS])]


def relative_path(path: str) -> str:
    node, sep, rest = path.partition("::")
    try:
        node = Path(node).resolve().relative_to(ROOT).as_posix()
    except ValueError:
        pass  # outside the suite: shown as given
    return node + sep + rest


def redactor_for(config: pytest.Config):
    if config.stash[RUN_OPTIONS].reveal_secrets:
        return None
    from harness.redact import Redactor

    return Redactor.from_profiles(*profiles(config))

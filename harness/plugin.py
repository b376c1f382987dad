"""The pytest plugin of the suite: the only module of harness/ that knows pytest.

- Options (command line, else environment variable, else ini key, else default): --dut, --profile, --bench,
  --radio, --pics, --pixit, --fault, --list-faults, --artifacts, --artifacts-always, --reveal-secrets, --seed,
  --lab-key (the run signs its journal and manifest as it finishes; docs/reports.md, "Trust model").
  A bad value stops the run with one line naming the option and the fix.
- Gherkin tags become markers: ``@id:TC-JOIN-1.1`` -> case_id, ``@pics:SE.DRLC.C`` -> pics (a PICS
  expression), ``@area:joining`` -> area. Cases whose PICS the DUT does not claim are not applicable
  (skipped with the reason).
- Fixtures: ``bench`` (session) and ``testbed`` (one fresh network per scenario); the scenario's capture is
  kept when it failed or with --artifacts-always, and attached to Allure.
- A suite run writes JUnit XML and Allure results into the artifacts folder and says where at the end.
"""

from __future__ import annotations

import collections
import logging
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.options import (
    OptionError,
    RunOptions,
    not_empty,
    parse_assignments,
    parse_dut,
    parse_radio,
    prepare_artifacts,
    widened_pixits,
)

ROOT = Path(__file__).resolve().parent.parent
SUITE_DIRS = (ROOT / "steps", ROOT / "features")
DEFAULT_DUT = "sim:ihd"
DEFAULT_BENCH = ROOT / "profiles" / "bench" / "sim.yaml"

RUN_OPTIONS = pytest.StashKey["RunOptions"]()
JOURNAL = pytest.StashKey[object]()
PHASES = pytest.StashKey[dict]()
SUITE_RUN = pytest.StashKey[bool]()
ARTIFACTS = pytest.StashKey[Path]()
PROFILES = pytest.StashKey[tuple]()
REPORT = pytest.StashKey[object]()
LAB_KEY = pytest.StashKey[object]()  # the lab's Ed25519 private key, in memory only, when the lab signs

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


def _single(config: pytest.Config, name: str) -> str | None:
    value = config.getoption(f"se_{name}")
    if value is None:
        value = os.environ.get(_SINGLE[name][0]) or config.getini(f"se_{name}") or None
    return value


def _multi(config: pytest.Config, name: str) -> list[str]:
    values = list(config.getoption(f"se_{name}"))
    if not values:
        env = os.environ.get(_MULTI[name][0], "")
        values = [v.strip() for v in env.split(",") if v.strip()] or list(config.getini(f"se_{name}"))
    return values


def _flag(config: pytest.Config, name: str) -> bool:
    return bool(config.getoption(f"se_{name}")) or os.environ.get(_FLAGS[name][0], "") not in ("", "0")


def build_run_options(config: pytest.Config) -> RunOptions:
    dut_text = _single(config, "dut")
    dut = parse_dut(DEFAULT_DUT if dut_text is None else dut_text)  # `--dut=` is refused, not read as the default
    radio_text = not_empty("--radio", _single(config, "radio"), "sim or ezsp:<port>, or leave --radio out to use "
                           "the bench profile's radio")
    profile_text = not_empty("--profile", _single(config, "profile"), "the DUT profile YAML, or leave --profile "
                             "out to use the reference device's profile")
    profile = Path(profile_text) if profile_text else None
    if profile is None and dut.is_simulated:
        profile = ROOT / "profiles" / "dut" / f"sim-{dut.target}.yaml"
        if not profile.is_file():
            raise OptionError(f"--dut {dut}: no reference profile {profile.relative_to(ROOT)}; "
                              "give --profile or a known model (--list-faults lists them)")
    bench_text = not_empty("--bench", _single(config, "bench"), "the bench profile YAML, or leave --bench out "
                           "for profiles/bench/sim.yaml")
    artifacts_text = not_empty("--artifacts", _single(config, "artifacts"), "a folder, or leave --artifacts out "
                               "for reports/runs/<UTC time>")
    seed_text = _single(config, "seed")
    options = RunOptions(
        dut=dut,
        radio=parse_radio(radio_text) if radio_text else None,
        profile=profile,
        bench=Path(bench_text) if bench_text else DEFAULT_BENCH,
        pics=parse_assignments("--pics", _multi(config, "pics")),
        pixit={**_pixit_preset(config), **parse_assignments("--pixit", _multi(config, "pixit"))},
        faults=tuple(_multi(config, "fault")),
        artifacts=Path(artifacts_text) if artifacts_text else None,
        artifacts_always=_flag(config, "artifacts_always"),
        reveal_secrets=_flag(config, "reveal_secrets"),
        **_seed(seed_text),
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

    name = _single(config, "pixit_preset")
    if not name:
        return {}
    try:
        return preset(name)
    except PresetError as exc:
        raise OptionError(f"--pixit-preset={name}: {exc}") from None


def _seed(text: str | None) -> dict[str, int | bool]:
    """The run's seed: the one given, else a drawn one (recorded and printed, so the run can be replayed)."""
    from harness.rng import SeedError, draw_seed, parse_seed

    if text is None:
        return {"seed": draw_seed(), "seed_drawn": True}
    if not text.strip():
        raise OptionError("--seed is empty: give a number such as --seed 12345, or leave --seed out to draw one")
    try:
        return {"seed": parse_seed(text)}
    except SeedError as exc:
        raise OptionError(f"--seed {exc}") from None


def check_bench_reachable(options: RunOptions, dut_profile, bench_profile) -> None:
    """Refuse, before any case runs, a bench that cannot work: a physical DUT with the simulated radio, a
    radio or DUT port that does not exist, or a reference device driven with another model's profile. Each
    is one line naming the option and the fix (exit 4), never a run of bench errors."""
    from harness.options import parse_radio

    radio = options.radio or parse_radio(bench_profile.radio)
    if not options.dut.is_simulated and radio.kind == "sim":
        raise OptionError(f"--dut={options.dut} is a physical device, but the golden radio is simulated: give "
                          "--radio=ezsp:<port> (the bench's EZSP stick, e.g. ezsp:/dev/ttyACM0) or a --bench "
                          "profile whose radio is ezsp:<port>")
    if radio.kind == "ezsp" and not _port_exists(radio.port):
        raise OptionError(f"--radio={radio}: no such port {radio.port!r}; plug in the EZSP stick or name its "
                          "port (ls /dev/ttyACM* /dev/ttyUSB* /dev/serial/by-id/)")
    if options.dut.kind == "serial" and not _port_exists(options.dut.target):
        raise OptionError(f"--dut={options.dut}: no such port; connect the DUT's CLI or name its port "
                          "(ls /dev/ttyUSB* /dev/serial/by-id/), or use --dut=manual")
    control = dut_profile.control
    if options.dut.is_simulated and (control.kind != "sim" or control.model != options.dut.target):
        described = f"the reference device sim:{control.model}" if control.kind == "sim" else (
            f"a DUT driven through its {control.kind} control")
        raise OptionError(f"--dut={options.dut} with --profile={_relative(str(options.profile))}: the profile "
                          f"describes {described}, not sim:{options.dut.target}; give the matching --dut or "
                          f"profiles/dut/sim-{options.dut.target}.yaml")


def _port_exists(port: str) -> bool:
    # A pyserial URL (socket://, rfc2217://) is reached only when opened; a device path must exist now.
    return "://" in port or os.path.exists(port)


def _is_suite_run(config: pytest.Config) -> bool:
    for arg in config.args:
        path = Path(arg.split("::")[0]).resolve()
        if any(path == d or d in path.parents for d in SUITE_DIRS):
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: a self-test that takes more than a few seconds")
    config.addinivalue_line("markers", "tshark: needs Wireshark's tshark on PATH")
    config.addinivalue_line("markers", "case_id(id): certification case id from the feature's @id: tag")
    config.addinivalue_line("markers", "pics(expression): PICS expression the DUT must claim for the case")
    config.addinivalue_line("markers", "area(name): the feature area of a case")
    try:
        options = build_run_options(config)
    except OptionError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[RUN_OPTIONS] = options
    suite = _is_suite_run(config)
    config.stash[SUITE_RUN] = suite
    if suite:
        try:  # mandatory PICS and PIXIT bounds between the options and the profile: also for --collect-only
            options.check_profile(_profiles(config)[0])
        except OptionError as exc:
            raise pytest.UsageError(str(exc)) from None
    if not suite or config.option.collectonly:
        return
    try:
        check_bench_reachable(options, *_profiles(config))
    except OptionError as exc:
        raise pytest.UsageError(str(exc)) from None
    lab_key = _single(config, "lab_key")
    if lab_key:
        # Loaded now, not when the run ends: a key that cannot sign must stop the run before it starts.
        from reports.manifest import ManifestError, load_private_key

        try:
            config.stash[LAB_KEY] = load_private_key(lab_key)
        except ManifestError as exc:
            raise pytest.UsageError(f"--lab-key: {exc}; give the lab's Ed25519 private key as PEM "
                                    "(`python -m reports keygen LAB.key LAB.pub` makes one)") from None
    artifacts = options.artifacts or ROOT / "reports" / "runs" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        artifacts = prepare_artifacts(artifacts)  # /proc, a file, below a file, unwritable: one line, exit 4
    except OptionError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[ARTIFACTS] = artifacts
    _progress_to_terminal(config)
    if not getattr(config.option, "xmlpath", None):
        config.option.xmlpath = str(artifacts / "junit.xml")
    if hasattr(config.option, "allure_report_dir") and not config.option.allure_report_dir:
        config.option.allure_report_dir = str(artifacts / "allure-results")
    _register_allure(config)


def pytest_cmdline_main(config: pytest.Config) -> int | None:
    if not config.getoption("se_list_faults"):
        return None
    from harness.devices.catalogue import MODELS

    for model, cls in sorted(MODELS.items()):
        for fault in cls.faults_catalogue.values():
            print(f"sim:{model} {fault.name}: {fault.breaks} (fails {', '.join(fault.targets)})")
    return 0


# -- Gherkin tags ------------------------------------------------------------------------------------------

_TAG_MARKERS = {"id": "case_id", "pics": "pics", "area": "area"}


@pytest.hookimpl(tryfirst=True)
def pytest_bdd_apply_tag(tag: str, function):
    prefix, sep, value = tag.partition(":")
    if sep and prefix in _TAG_MARKERS:
        return getattr(pytest.mark, _TAG_MARKERS[prefix])(value)(function)
    return None


def case_key(item: pytest.Item) -> str | None:
    """The case id, with the Scenario Outline example for parametrized cases: TC-ATTR-1.2[Basic]."""
    marker = item.get_closest_marker("case_id")
    if marker is None:
        return None
    callspec = getattr(item, "callspec", None)
    return f"{marker.args[0]}[{callspec.id}]" if callspec is not None else marker.args[0]


def _case_id(item: pytest.Item) -> str:
    marker = item.get_closest_marker("case_id")
    return marker.args[0] if marker is not None else ""


def _profiles(config: pytest.Config):
    if PROFILES not in config.stash:
        from harness.profiles import ProfileError, load_bench_profile, load_dut_profile

        options = config.stash[RUN_OPTIONS]
        try:
            config.stash[PROFILES] = (load_dut_profile(options.profile), load_bench_profile(options.bench))
        except ProfileError as exc:
            raise pytest.UsageError(str(exc)) from None
    return config.stash[PROFILES]


def claimed_pics(config: pytest.Config) -> dict[str, bool]:
    dut_profile, _ = _profiles(config)
    pics = dict(dut_profile.pics)
    for key, value in config.stash[RUN_OPTIONS].pics.items():
        pics[key] = value.lower() in ("true", "1")
    return pics


@pytest.hookimpl(tryfirst=True)  # before pytest's own -k/-m deselection, which reads the keywords added here
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any(item.get_closest_marker("case_id") for item in items):
        return
    from harness.cases import matches
    from harness.pics import evaluate

    patterns = _multi(config, "case")
    if patterns:
        chosen = [i for i in items if case_key(i) is None or matches(patterns, _case_id(i), case_key(i))]
        dropped = [i for i in items if i not in chosen]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = chosen
    pics = claimed_pics(config)
    for item in items:
        key = case_key(item)
        if key is None:
            continue
        # Applicability from the claims, before anything runs: a Scenario Outline example whose steps say
        # "Given the DUT claims the <cluster> <side>" is a case of that PICS item (so a failed commissioning
        # never produces a verdict for a cluster the DUT does not claim).
        for expression in _claimed_in_steps(item):
            if expression not in {m.args[0] for m in item.iter_markers("pics")}:
                item.add_marker(pytest.mark.pics(expression))
        # `-k TC-JOIN-1.5` selects by case id (a keyword match, like the function name's).
        item.extra_keyword_matches.update({key, _case_id(item)})
        item.user_properties.append(("case_id", key))
        # Allure labels, so a lab can filter Allure results by case id and PICS.
        item.add_marker(pytest.mark.allure_label(key, label_type="case_id"))
        for marker in item.iter_markers("pics"):
            item.add_marker(pytest.mark.allure_label(marker.args[0], label_type="pics"))
        for marker in item.iter_markers("pics"):
            expression = marker.args[0]
            if not evaluate(expression, pics):
                item.add_marker(pytest.mark.skip(reason=f"not applicable: the DUT does not claim PICS {expression}"))


# -- fixtures ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def bench(pytestconfig: pytest.Config):
    from harness.bench import Bench

    dut_profile, bench_profile = _profiles(pytestconfig)
    try:
        the_bench = Bench(pytestconfig.stash[RUN_OPTIONS], dut_profile, bench_profile)
    except OptionError as exc:
        raise pytest.UsageError(str(exc)) from None
    journal = pytestconfig.stash.get(JOURNAL, None)
    if journal is not None:
        _identify_dut(the_bench, journal)
        _record_radio_firmware(the_bench, journal)
    yield the_bench
    the_bench.close()


def _identify_dut(bench, journal) -> None:
    """Read the DUT's Basic identity once per run and record it beside the profile's declaration.

    The report sets the two side by side; a DUT that answers another manufacturer or model than its profile
    declares, or whose identity cannot be read, makes the run INCONCLUSIVE (harness.results.assess): nothing
    else ties the verdicts to the product the report names.
    """
    from harness.bench import IDENTIFICATION
    from harness.results import DutIdentity
    from harness.strategy import identify

    testbed = None
    try:
        testbed = bench.open_testbed(IDENTIFICATION)
        identity = bench.run(identify(bench, testbed), 2 * bench.pixit_seconds("join_timeout", 30) + 10,
                             "reading the DUT's Basic identity")
    except Exception as exc:  # the cases judge the DUT; an unread identity is recorded as such
        logging.getLogger(__name__).warning("could not read the DUT's Basic identity: %s", exc)
        identity = {}
    finally:
        if testbed is not None:
            bench.close_testbed(testbed, None)
    journal.update_dut(DutIdentity(
        manufacturer=identity.get("manufacturer", ""),
        model=identity.get("model", ""),
        firmware=identity.get("sw_build_id") or identity.get("application_version", ""),
        date_code=identity.get("date_code", ""),
    ))


@pytest.fixture(scope="session")
def dut_pics(pytestconfig: pytest.Config) -> dict[str, bool]:
    return claimed_pics(pytestconfig)


@pytest.fixture
def testbed(bench, request: pytest.FixtureRequest):
    log = _ScenarioLog()
    logging.getLogger().addHandler(log)
    previous = logging.getLogger("harness").level
    logging.getLogger("harness").setLevel(logging.DEBUG)
    try:
        tb = bench.open_testbed(request.node.nodeid, case=case_key(request.node))
        request.node.se_testbed = tb  # for the step hooks that raise the golden's findings
        yield tb
    finally:
        logging.getLogger().removeHandler(log)
        logging.getLogger("harness").setLevel(previous)
    report = getattr(request.node, "se_call_report", None)
    failed = report is not None and report.failed
    options = bench.options
    artifacts_root = request.config.stash.get(ARTIFACTS, None)
    keep = artifacts_root is not None and (failed or options.artifacts_always)
    folder = artifacts_root / _safe(case_key(request.node) or request.node.name) if keep else None
    dut_log = bench.read_dut_log(tb) if folder is not None else None
    written = bench.close_testbed(tb, folder)
    if folder is not None:
        if "capture_cut" in tb.notes:  # the capture hit its size limit: say so where a reader looks
            log.lines.append(f"WARNING harness.bench: {tb.notes['capture_cut']}")
        written.append(log.write(folder / "log.txt", bench.clock, _redactor(request.config)))
        if dut_log is not None:
            written.append(_write_dut_log(folder / "dut-log.txt", dut_log, _redactor(request.config)))
    if written:
        _attach(written)
        request.node.se_attachments = [str(p.relative_to(artifacts_root)) for p in written]


class _ScenarioLog(logging.Handler):
    """Keeps the last log records of a scenario (harness DEBUG, libraries INFO) for its artifacts."""

    LIMIT = 20_000

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: collections.deque[str] = collections.deque(maxlen=self.LIMIT)
        self.setFormatter(logging.Formatter("%(levelname)-7s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno < logging.INFO and not record.name.startswith("harness"):
            return
        from harness.limits import LOG_LINE_LIMIT, clip

        try:
            self.lines.append(clip(self.format(record), LOG_LINE_LIMIT))  # a DUT's answer can be megabytes
        except Exception:  # a log line must never break a scenario
            self.lines.append(f"(unformattable log record from {record.name})")

    def write(self, path: Path, clock, redactor) -> Path:
        from harness.limits import LOG_FILE_LIMIT, clip

        text = clip("\n".join(self.lines) + "\n", LOG_FILE_LIMIT)
        if redactor is not None:
            text = redactor.redact_text(text)
        path.write_text(f"# scenario log (virtual time at teardown: {clock.now().isoformat()})\n" + text)
        return path


def _write_dut_log(path: Path, lines: list[str], redactor) -> Path:
    from harness.limits import LOG_FILE_LIMIT, LOG_LINE_LIMIT, clip

    text = clip("\n".join(clip(line, LOG_LINE_LIMIT) for line in lines) + "\n", LOG_FILE_LIMIT)
    path.write_text("# the DUT's own log, read through its control driver at the end of the scenario\n"
                    + (redactor.redact_text(text) if redactor is not None else text))
    return path


def _redactor(config: pytest.Config):
    if config.stash[RUN_OPTIONS].reveal_secrets:
        return None
    from harness.redact import Redactor

    return Redactor.from_profiles(*_profiles(config))


# -- Allure (reports/allure.py) ------------------------------------------------------------------------------

ALLURE = pytest.StashKey[object]()


def _register_allure(config: pytest.Config) -> None:
    """Case ids, redaction and one log per result, as allure writes them (not with xdist's controller)."""
    results = getattr(config.option, "allure_report_dir", None)
    if not results:
        return
    from reports.allure import register, unregister

    hooks = register(results, _redactor(config))
    config.stash[ALLURE] = hooks
    config.add_cleanup(lambda: unregister(hooks))


def _scenario_template(item: pytest.Item):
    from pytest_bdd.scenario import scenario_wrapper_template_registry

    try:
        return scenario_wrapper_template_registry.get(getattr(item, "obj", None))
    except TypeError:  # not weak-referenceable: not a scenario
        return None


def _claimed_in_steps(item: pytest.Item) -> list[str]:
    """PICS keys the scenario's own steps require (its Scenario Outline example filled in): harness.pics."""
    template = _scenario_template(item)
    if template is None:
        return []
    callspec = getattr(item, "callspec", None)
    example = callspec.params.get("_pytest_bdd_example", {}) if callspec is not None else {}
    from harness.pics import claimed_by_steps

    return claimed_by_steps(step.name for step in template.render(example).steps)


def _scenario_title(item: pytest.Item) -> str | None:
    """The Gherkin scenario's name, with a Scenario Outline's example filled in."""
    template = _scenario_template(item)
    if template is None:
        return None
    callspec = getattr(item, "callspec", None)
    example = callspec.params.get("_pytest_bdd_example", {}) if callspec is not None else {}
    return template.render(example).name if example else template.name


def _allure_not_started(item: pytest.Item, key: str, phase: dict, report: pytest.TestReport) -> None:
    """allure-pytest-bdd reports only scenarios that ran; a case skipped before it started gets its result here."""
    if item.config.stash.get(ALLURE, None) is None:
        return
    import platform
    import time

    from reports.allure import report_not_started

    template = _scenario_template(item)
    feature = template.feature if template is not None else None
    title = phase.get("title") or item.name
    labels = [(m.kwargs.get("label_type", ""), str(m.args[0])) for m in item.iter_markers("allure_label") if m.args]
    labels += [("feature", feature.name)] if feature is not None else []
    labels += [("framework", "pytest-bdd"), ("host", platform.node())]
    stop = int(time.time() * 1000)
    report_not_started(
        case_id=key,
        title=title,
        full_name=f"{os.path.normpath(feature.rel_filename)}:{title}" if feature is not None else item.nodeid,
        reason=(phase.get("message") or {}).get("text") or "not applicable",
        labels=labels,
        title_path=["features", *Path(feature.rel_filename).parent.parts, feature.name] if feature else [],
        start_ms=stop - int(report.duration * 1000),
        stop_ms=stop,
    )


def _allure_environment(config: pytest.Config, artifacts: Path) -> None:
    results = getattr(config.option, "allure_report_dir", None)
    if not results or config.stash.get(ALLURE, None) is None:
        return
    from harness.results import read_journal
    from reports.allure import write_environment

    write_environment(results, read_journal(artifacts).run)


def _record_radio_firmware(bench, journal) -> None:
    """On a real radio (EZSP: a stick or the NCP emulator) the report names its firmware, as the bench check
    reads it: bellows asked the NCP for its board info and EZSP version when the radio was opened."""
    hardware = getattr(bench, "hardware", None)
    app = getattr(hardware, "app", None)
    if app is None:
        return
    node = getattr(getattr(app, "state", None), "node_info", None)
    ezsp = getattr(app, "_ezsp", None)
    parts = [f"firmware {node.version}" if node is not None and node.version else "firmware unknown"]
    board = [f"board {node.model}" if node is not None and node.model else "",
             f"manufacturer {node.manufacturer}" if node is not None and node.manufacturer else ""]
    if any(board):
        parts.append(f"({', '.join(b for b in board if b)})")
    if ezsp is not None and getattr(ezsp, "ezsp_version", None) is not None:
        parts.append(f"EZSP protocol {ezsp.ezsp_version}")
    journal.update_bench_firmware(" ".join(parts))


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-\[\]]+", "_", name)


def _attach(paths: list[Path]) -> None:
    try:
        import allure
    except ImportError:  # allure is optional at run time
        return
    for path in paths:
        kind = allure.attachment_type.PCAP if path.suffix == ".pcap" else allure.attachment_type.TEXT
        allure.attach.file(str(path), name=path.name, attachment_type=kind)


def _raise_undecodable(item: pytest.Item) -> None:
    """Fail the case with the first frame from the DUT the golden could not decode (harness.golden.golden:
    zigpy's decoding, ZDO, ZCL and Key Establishment payloads), with its bytes."""
    testbed = getattr(item, "se_testbed", None)
    golden = getattr(testbed, "golden", None)
    failure = golden.take_failure() if golden is not None and hasattr(golden, "take_failure") else None
    if failure is not None:
        raise failure


def pytest_bdd_before_scenario(request, feature, scenario) -> None:
    request.node.se_step_failed = False  # a retried attempt starts clean


def pytest_bdd_before_step_call(request, feature, scenario, step, step_func, step_func_args) -> None:
    testbed = getattr(request.node, "se_testbed", None)
    if testbed is not None:
        testbed.notes["step"] = step.name  # what a real bench's progress line names during a long wait
    _raise_undecodable(request.node)  # what the DUT sent during the previous steps


def pytest_bdd_step_error(request, feature, scenario, step, step_func, step_func_args, exception) -> None:
    request.node.se_step_failed = True


def pytest_bdd_after_scenario(request, feature, scenario) -> None:
    if not getattr(request.node, "se_step_failed", False):
        _raise_undecodable(request.node)  # what the DUT sent during the last step


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.se_call_report = report
    key = case_key(item)
    if key is None:
        return
    from harness.run_record import classify, message_of, steps_of

    reason = None
    if report.skipped:
        longrepr = report.longrepr
        reason = str(longrepr[2] if isinstance(longrepr, tuple) else longrepr).removeprefix("Skipped: ")
    exception = call.excinfo.value if call.excinfo is not None and not report.skipped else None
    if report.when == "call":
        exception = _bench_fault_instead(item, exception, report)
    _name_the_case(item, key, exception, report)
    phase = {
        "duration": report.duration,
        "verdict": str(classify(exception, reason, report.when)),
        "message": message_of(exception, report.longreprtext) if exception else (
            {"text": _clip(reason)} if reason else None),
        "case_id": key,
        "title": _scenario_title(item) or item.name,  # the Gherkin name, also for a case that never started
        "area": next((m.args[0] for m in item.iter_markers("area")), ""),
        "pics": sorted(m.args[0] for m in item.iter_markers("pics")),
    }
    if report.when == "call":
        from pytest_bdd.reporting import scenario_reports_registry

        scenario = scenario_reports_registry.get(item)
        if scenario is not None:
            phase["steps"] = steps_of(scenario.serialize())
            phase["title"] = scenario.scenario.name
    if report.when == "teardown":
        phase["attachments"] = getattr(item, "se_attachments", [])
    if report.when == "setup" and report.skipped:
        _allure_not_started(item, key, phase, report)
    from harness.run_record import retryable

    phase["retryable"] = retryable(exception, report.when)
    if phase["retryable"]:
        phase["error"] = f"{type(exception).__name__}: {exception}"[:500]
    report.se_phase = phase
    _bound_report(report)


def _bench_fault_instead(item: pytest.Item, exception: BaseException | None, report) -> BaseException | None:
    """On a real bench, a DUT failure in a case during which the bench itself failed (the golden radio stopped
    answering, the DUT's port closed, the sniffer capture stopped growing) is the bench's: an error naming the
    fault, never counted against the DUT."""
    from harness.errors import DutFailure

    health = getattr(getattr(item, "se_testbed", None), "bench_fault", None)
    if not isinstance(exception, DutFailure) or health is None:
        return exception
    try:
        fault = health()
    except Exception as exc:  # noqa: BLE001 - the health check itself failing is a bench fault too
        fault = exc
    if fault is None:
        return exception
    fault.__cause__ = exception
    # _name_the_case puts the fault (with the case) first.
    report.longrepr = f"(instead of the DUT failure: {exception})"
    return fault


def _name_the_case(item: pytest.Item, key: str, exception: BaseException | None, report) -> None:
    """On a real bench a bench fault's message starts with the case it hit: a lab reads a night's errors as a list,
    and a radio or port that failed once fails every case after it."""
    from harness.errors import BenchFault

    options = item.config.stash.get(RUN_OPTIONS, None)
    real = options is not None and (not options.dut.is_simulated or
                                    (options.radio is not None and options.radio.kind != "sim"))
    if not real or not isinstance(exception, BenchFault):
        return
    text = str(exception).removeprefix(f"{key}: ")  # the hardware bench's own faults name the case already
    report.longrepr = f"{key}: {type(exception).__name__}: {text}\n\n{report.longreprtext}"


def _clip(text: str) -> str:
    from harness.limits import clip

    return clip(text)


def _bound_report(report: pytest.TestReport) -> None:
    """What pytest writes of a case itself (the terminal, JUnit) is cut to the suite's limits, like the journal:
    a DUT's 20 MB answer in an exception must not become a 20 MB failure text (harness/limits.py)."""
    from harness.limits import LOG_FILE_LIMIT, MESSAGE_LIMIT, clip

    if report.longrepr is not None and not isinstance(report.longrepr, tuple):
        text = report.longreprtext
        if len(text) > MESSAGE_LIMIT:
            report.longrepr = clip(text, MESSAGE_LIMIT)
    if any(len(content) > LOG_FILE_LIMIT for _title, content in report.sections):
        report.sections = [(title, clip(content, LOG_FILE_LIMIT)) for title, content in report.sections]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    """Run a case; when a bench fault (never a DUT failure) spoiled it, run it again, a bounded number of times.

    Every retried attempt is recorded with the case. A DUT failure in any attempt stands: it is never retried,
    so retries cannot hide it.
    """
    if case_key(item) is None:
        return None
    from _pytest.runner import runtestprotocol

    from harness.run_record import BENCH_RETRIES

    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    bench_errors = []
    for attempt in range(1, BENCH_RETRIES + 2):
        last = attempt == BENCH_RETRIES + 1
        reports = runtestprotocol(item, nextitem=nextitem, log=False)
        phases = [getattr(r, "se_phase", {}) for r in reports]
        spoiled = any(p.get("retryable") for p in phases) and not any(p.get("verdict") == "failed" for p in phases)
        if not spoiled or last:
            break
        error = next(p["error"] for p in phases if p.get("retryable"))
        bench_errors.append({"attempt": attempt, "error": error})
        item._initrequest()  # a fresh fixture request (and so a fresh testbed) for the next attempt
    for report in reports:
        if report.when == "teardown" and hasattr(report, "se_phase"):
            report.se_phase["bench_errors"] = bench_errors
        if bench_errors:
            report.user_properties.append(("bench_retries", str(len(bench_errors))))
        item.ihook.pytest_runtest_logreport(report=report)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    config = _CONFIG[0] if _CONFIG else None
    if config is None or JOURNAL not in config.stash:
        return
    phase = getattr(report, "se_phase", None)
    if phase is None:
        return
    phases = config.stash[PHASES].setdefault(report.nodeid, {})
    phases[report.when] = phase
    if report.when == "teardown":
        from harness.run_record import case_result

        config.stash[JOURNAL].record(case_result(report.nodeid, config.stash[PHASES].pop(report.nodeid)))


_CONFIG: list[pytest.Config] = []


def _selection(config: pytest.Config) -> list[str]:
    """How this run narrowed the suite, in the words a reader would use to repeat it."""
    selection = []
    paths = [arg for arg in config.args if Path(arg.split("::")[0]).resolve() not in (*SUITE_DIRS, ROOT)]
    if paths:
        selection.append(f"test paths {' '.join(sorted(_relative(p) for p in paths))}")
    if config.option.keyword:
        selection.append(f"-k {config.option.keyword!r}")
    if config.option.markexpr:
        selection.append(f"-m {config.option.markexpr!r}")
    for node in sorted(getattr(config.option, "deselect", None) or []):
        selection.append(f"--deselect {_relative(node)}")
    for pattern in sorted(_multi(config, "case")):
        selection.append(f"--case {pattern}")
    if getattr(config.option, "lf", False):
        selection.append("--last-failed")
    if getattr(config.option, "maxfail", 0):
        selection.append(f"--maxfail {config.option.maxfail} (-x)")
    return selection


def _relative(path: str) -> str:
    node, sep, rest = path.partition("::")
    try:
        node = Path(node).resolve().relative_to(ROOT).as_posix()
    except ValueError:
        pass  # outside the suite: shown as given
    return node + sep + rest


def run_scope(config: pytest.Config):
    """The run's scope for the journal: selection, overrides, and every case the DUT's claims make applicable
    (from the feature files, whatever pytest collected)."""
    from harness.cases import catalogue
    from harness.results import RunScope

    options = config.stash[RUN_OPTIONS]
    overrides = [f"--pics {k}={v}" for k, v in sorted(options.pics.items())]
    overrides += [f"--pixit {k}={v}" for k, v in sorted(options.pixit.items())]
    dut_profile, _ = _profiles(config)
    pics = claimed_pics(config)
    applicable = [case.key for case in catalogue() if case.applicable(pics) and _profile_admits(case, dut_profile)]
    return RunScope(selection=_selection(config), overrides=overrides, applicable=applicable)


def _profile_admits(case, dut_profile) -> bool:
    # OpenSEG cases apply to a profile with an openseg section (steps/test_openseg.py), not to a PICS item.
    return case.area != "openseg" or getattr(dut_profile, "openseg", None) is not None


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    if getattr(config.option, "allure_report_dir", None):
        # allure-pytest-bdd registered its writer in its pytest_configure: from now on it writes within the
        # suite's limits (harness/limits.py), whatever a DUT put into a result or an attachment.
        from harness.limits import bound_allure_output

        bound_allure_output()
    artifacts = config.stash.get(ARTIFACTS, None)
    if artifacts is None or hasattr(config, "workerinput"):
        return  # not a suite run, or an xdist worker: the controller keeps the journal
    from harness.redact import Redactor
    from harness.results import BenchInfo, DutIdentity, Journal, JournalError, RunInfo, suite_version

    options = config.stash[RUN_OPTIONS]
    dut_profile, bench_profile = _profiles(config)
    identity = dut_profile.identity
    info = RunInfo(
        dut=DutIdentity(manufacturer=identity.manufacturer, model=identity.model, ieee=str(identity.ieee),
                        device_type=f"{identity.device.name} (0x{identity.device.device_id:04X})",
                        profile=_relative(str(options.profile))),  # no local absolute path in reports
        # Sorted: the same run reads the same whatever order the profile or the command line gave.
        pics=dict(sorted(claimed_pics(config).items())),
        pixit=dict(sorted(({k: str(v) for k, v in dut_profile.pixit.items()} | dict(options.pixit)).items())),
        suite_version=suite_version(ROOT),
        bench=BenchInfo(id=str(options.bench.stem if options.bench else "sim"),
                        radio=str(options.radio or bench_profile.radio),
                        simulated=options.dut.is_simulated),
        options={"dut": str(options.dut), "faults": sorted(options.faults)},
        secrets_revealed=options.reveal_secrets,
        scope=run_scope(config),
        seed=options.seed,
        widened=widened_pixits(options, dut_profile),
    )
    redactor = None if options.reveal_secrets else Redactor.from_profiles(dut_profile, bench_profile)
    try:
        config.stash[JOURNAL] = Journal.open(artifacts, info, redactor=redactor)
    except JournalError as exc:
        raise pytest.UsageError(f"--artifacts {artifacts}: {exc}; choose an empty folder") from None
    config.stash[PHASES] = {}
    _CONFIG[:] = [config]


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    journal = config.stash.get(JOURNAL, None)
    if journal is None:
        return
    from harness.redact import Redactor
    from harness.results import read_journal
    from reports import build_report
    from reports.junit import add_suite_properties, apply_verdicts

    artifacts = config.stash[ARTIFACTS]
    options = config.stash[RUN_OPTIONS]
    lab_key = config.stash.get(LAB_KEY, None)
    junit = Path(config.option.xmlpath) if getattr(config.option, "xmlpath", None) else None
    if junit is not None and junit.exists():
        contents = read_journal(artifacts)
        apply_verdicts(junit, contents.cases)  # JUnit agrees with the journal: <error>, <skipped> with reasons
        add_suite_properties(junit, contents.run, contents.cases)
    redactor = None if options.reveal_secrets else Redactor.from_profiles(*_profiles(config))
    _allure_environment(config, artifacts)
    # The end record seals the journal only once JUnit and Allure are final, and before the report and the
    # manifest (docs/reports.md, "Trust model"): a kill before it leaves an incomplete run, a kill after it a
    # directory that does not verify until it is rebuilt. The lab key signs the chain head and the manifest.
    journal.close({"exitstatus": int(exitstatus)}, lab_key=lab_key)
    built = build_report(artifacts, redactor=redactor, lab_key=lab_key)
    config.stash[REPORT] = built
    _CONFIG.clear()
    if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        # The exit status follows the overall verdict (docs/reports.md): CI gates on it. pytest's own codes
        # for an interrupted run, an internal error, a usage error or no tests collected stay as they are.
        session.exitstatus = built.verdict.exit_code


def _seed_line(options: RunOptions) -> str:
    how = "drawn" if options.seed_drawn else "given"
    return f"seed {options.seed} ({how}; `--seed {options.seed}` replays this run's random choices)"


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    # Printed first, so even a run that dies before its summary says how to replay it.
    if not config.stash.get(SUITE_RUN, False) or RUN_OPTIONS not in config.stash:
        return None
    return [_seed_line(config.stash[RUN_OPTIONS])]


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    artifacts = config.stash.get(ARTIFACTS, None)
    if artifacts is None:
        return
    options = config.stash[RUN_OPTIONS]
    faults = f" with faults {', '.join(options.faults)}" if options.faults else ""
    terminalreporter.write_sep("=", "Smart Energy conformance")
    terminalreporter.write_line(f"DUT {options.dut}{faults}; results in {artifacts}")
    terminalreporter.write_line(_seed_line(options))
    terminalreporter.write_line(f"report: {artifacts / 'report.html'} (built when the session ends; "
                                f"`python -m reports build {artifacts}` rebuilds it)")
    terminalreporter.write_line(f"JUnit: {artifacts / 'junit.xml'}   Allure: {artifacts / 'allure-results'}")


class _TerminalLines(logging.Handler):
    """A real bench's progress lines (harness/progress.py) straight to the terminal, past pytest's capture."""

    def __init__(self, config: pytest.Config) -> None:
        super().__init__(logging.WARNING)
        self.config = config

    def emit(self, record: logging.LogRecord) -> None:
        import contextlib

        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        if reporter is None:
            return
        try:
            with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
                reporter.write_line(record.getMessage())
        except Exception:  # noqa: BLE001 - a progress line must never break a scenario
            pass


_PROGRESS_HANDLER = pytest.StashKey[logging.Handler]()


def _progress_to_terminal(config: pytest.Config) -> None:
    handler = _TerminalLines(config)
    logging.getLogger("harness.progress").addHandler(handler)
    config.stash[_PROGRESS_HANDLER] = handler


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    handler = config.stash.get(_PROGRESS_HANDLER, None)
    if handler is not None:
        logging.getLogger("harness.progress").removeHandler(handler)
    # After pytest's own "N passed" line: the overall verdict is the last thing a run prints.
    terminalreporter = config.pluginmanager.get_plugin("terminalreporter")
    if terminalreporter is not None and REPORT in config.stash:
        _write_verdict(terminalreporter, config)


#: Cases a reader must look at, in the order the terminal lists them.
_ATTENTION = ("failed", "error", "blocked")


def _write_verdict(terminalreporter, config: pytest.Config) -> None:
    """The overall verdict, its reasons and the cases behind it: the last thing a run prints."""
    import json

    built = config.stash.get(REPORT, None)
    if built is None:
        return
    try:
        summary = json.loads(Path(built.summary).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        terminalreporter.write_line(f"summary.json unreadable ({exc}); see the report")
        return
    rows = [c for verdict in _ATTENTION for c in summary.get("cases", []) if c.get("verdict") == verdict]
    if rows:
        width = max(len(c.get("case_id") or c.get("nodeid", "")) for c in rows)
        terminalreporter.write_line("")
        for case in rows:
            ident = (case.get("case_id") or case.get("nodeid", "")).ljust(width)
            terminalreporter.write_line(f"  {case['verdict'].upper():<7} {ident}  {case.get('title', '')}")
    overall = summary.get("overall", {})
    verdict = overall.get("verdict", "?")
    reasons = "; ".join(overall.get("reasons", []))
    colour = {"CONFORMANT": {"green": True}, "NOT CONFORMANT": {"red": True}}.get(verdict, {"yellow": True})
    terminalreporter.write_sep("=", f"Overall verdict: {verdict} (exit {built.verdict.exit_code})", bold=True,
                               **colour)
    terminalreporter.write_line(reasons)

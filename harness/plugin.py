"""The pytest plugin of the suite: the only module of harness/ that knows pytest.

- Options (command line, else environment variable, else ini key, else default): --dut, --profile, --bench,
  --radio, --pics, --pixit, --fault, --list-faults, --artifacts, --artifacts-always, --reveal-secrets.
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

from harness.options import OptionError, RunOptions, parse_assignments, parse_dut, parse_radio

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

# option name -> (environment variable, help)
_SINGLE = {
    "dut": ("SE_DUT", "DUT: sim:<model> (reference device), a serial port (/dev/ttyUSB0), a pyserial URL "
                      "(socket://host:port) or manual; default sim:ihd"),
    "profile": ("SE_PROFILE", "DUT profile YAML (default for sim:<model>: profiles/dut/sim-<model>.yaml)"),
    "bench": ("SE_BENCH", "bench profile YAML (default profiles/bench/sim.yaml)"),
    "radio": ("SE_RADIO", "golden radio, overriding the bench profile: sim or ezsp:<port>"),
    "artifacts": ("SE_ARTIFACTS", "folder for captures, logs and results (default reports/runs/<UTC time>)"),
}
_MULTI = {
    "pics": ("SE_PICS", "override a PICS item, KEY=true|false (repeatable)"),
    "pixit": ("SE_PIXIT", "override a PIXIT, KEY=VALUE (repeatable), e.g. join_timeout=30s"),
    "fault": ("SE_FAULT", "seed a fault in the reference device (repeatable); see --list-faults"),
}
_FLAGS = {
    "artifacts_always": ("SE_ARTIFACTS_ALWAYS", "keep captures of passing cases too"),
    "reveal_secrets": ("SE_REVEAL_SECRETS", "write keys (Wireshark key files) and install codes into artifacts"),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("se", "Smart Energy conformance suite")
    for name, (env, text) in _SINGLE.items():
        group.addoption(f"--{name}", dest=f"se_{name}", default=None, help=f"{text} [env {env}, ini se_{name}]")
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
    dut = parse_dut(_single(config, "dut") or DEFAULT_DUT)
    radio_text = _single(config, "radio")
    profile_text = _single(config, "profile")
    profile = Path(profile_text) if profile_text else None
    if profile is None and dut.is_simulated:
        profile = ROOT / "profiles" / "dut" / f"sim-{dut.target}.yaml"
        if not profile.is_file():
            raise OptionError(f"--dut {dut}: no reference profile {profile.relative_to(ROOT)}; "
                              "give --profile or a known model (--list-faults lists them)")
    bench_text = _single(config, "bench")
    artifacts_text = _single(config, "artifacts")
    options = RunOptions(
        dut=dut,
        radio=parse_radio(radio_text) if radio_text else None,
        profile=profile,
        bench=Path(bench_text) if bench_text else DEFAULT_BENCH,
        pics=parse_assignments("--pics", _multi(config, "pics")),
        pixit=parse_assignments("--pixit", _multi(config, "pixit")),
        faults=tuple(_multi(config, "fault")),
        artifacts=Path(artifacts_text) if artifacts_text else None,
        artifacts_always=_flag(config, "artifacts_always"),
        reveal_secrets=_flag(config, "reveal_secrets"),
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
    if not suite or config.option.collectonly:
        return
    artifacts = options.artifacts or ROOT / "reports" / "runs" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    artifacts = artifacts.resolve()
    artifacts.mkdir(parents=True, exist_ok=True)
    config.stash[ARTIFACTS] = artifacts
    if not getattr(config.option, "xmlpath", None):
        config.option.xmlpath = str(artifacts / "junit.xml")
    if hasattr(config.option, "allure_report_dir") and not config.option.allure_report_dir:
        config.option.allure_report_dir = str(artifacts / "allure-results")


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


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any(item.get_closest_marker("case_id") for item in items):
        return
    from harness.pics import evaluate

    pics = claimed_pics(config)
    for item in items:
        key = case_key(item)
        if key is None:
            continue
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
    yield the_bench
    the_bench.close()


def _identify_dut(bench, journal) -> None:
    """Read the DUT's Basic identity once per run, for the report; a DUT that cannot be read keeps its profile's."""
    from harness.bench import IDENTIFICATION
    from harness.strategy import identify

    dut = journal.run_info.dut
    testbed = None
    try:
        testbed = bench.open_testbed(IDENTIFICATION)
        identity = bench.run(identify(bench, testbed), 2 * bench.pixit_seconds("join_timeout", 30) + 10,
                             "reading the DUT's Basic identity")
    except Exception as exc:  # the cases judge the DUT; identification only informs the report
        logging.getLogger(__name__).warning("could not read the DUT's Basic identity: %s", exc)
        return
    finally:
        if testbed is not None:
            bench.close_testbed(testbed, None)
    firmware = identity.get("sw_build_id") or identity.get("application_version", "")
    journal.update_dut(dut.model_copy(update={
        "manufacturer": identity.get("manufacturer") or dut.manufacturer,
        "model": identity.get("model") or dut.model,
        "firmware": firmware or dut.firmware,
        "date_code": identity.get("date_code") or dut.date_code,
    }))


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
        tb = bench.open_testbed(request.node.nodeid)
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
        try:
            self.lines.append(self.format(record))
        except Exception:  # a log line must never break a scenario
            self.lines.append(f"(unformattable log record from {record.name})")

    def write(self, path: Path, clock, redactor) -> Path:
        text = "\n".join(self.lines) + "\n"
        if redactor is not None:
            text = redactor.redact_text(text)
        path.write_text(f"# scenario log (virtual time at teardown: {clock.now().isoformat()})\n" + text)
        return path


def _write_dut_log(path: Path, lines: list[str], redactor) -> Path:
    text = "\n".join(lines) + "\n"
    path.write_text("# the DUT's own log, read through its control driver at the end of the scenario\n"
                    + (redactor.redact_text(text) if redactor is not None else text))
    return path


def _redactor(config: pytest.Config):
    if config.stash[RUN_OPTIONS].reveal_secrets:
        return None
    from harness.redact import Redactor

    return Redactor.from_profiles(*_profiles(config))


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
    phase = {
        "duration": report.duration,
        "verdict": str(classify(exception, reason)),
        "message": message_of(exception, report.longreprtext) if exception else (
            {"text": reason} if reason else None),
        "case_id": key,
        "title": item.name,
        "area": next((m.args[0] for m in item.iter_markers("area")), ""),
        "pics": [m.args[0] for m in item.iter_markers("pics")],
    }
    if report.when == "call":
        from pytest_bdd.reporting import scenario_reports_registry

        scenario = scenario_reports_registry.get(item)
        if scenario is not None:
            phase["steps"] = steps_of(scenario.serialize())
            phase["title"] = scenario.scenario.name
    if report.when == "teardown":
        phase["attachments"] = getattr(item, "se_attachments", [])
    from harness.run_record import retryable

    phase["retryable"] = retryable(exception)
    if phase["retryable"]:
        phase["error"] = f"{type(exception).__name__}: {exception}"[:500]
    report.se_phase = phase


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


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
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
                        profile=str(options.profile)),
        pics=claimed_pics(config),
        pixit={k: str(v) for k, v in dut_profile.pixit.items()} | dict(options.pixit),
        suite_version=suite_version(ROOT),
        bench=BenchInfo(id=str(options.bench.stem if options.bench else "sim"),
                        radio=str(options.radio or bench_profile.radio),
                        simulated=options.dut.is_simulated),
        options={"dut": str(options.dut), "faults": list(options.faults)},
        secrets_revealed=options.reveal_secrets,
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
    from reports.junit import add_suite_properties

    journal.close({"exitstatus": int(exitstatus)})
    artifacts = config.stash[ARTIFACTS]
    options = config.stash[RUN_OPTIONS]
    junit = Path(config.option.xmlpath) if getattr(config.option, "xmlpath", None) else None
    if junit is not None and junit.exists():
        add_suite_properties(junit, read_journal(artifacts).run)
    redactor = None if options.reveal_secrets else Redactor.from_profiles(*_profiles(config))
    built = build_report(artifacts, redactor=redactor)
    config.stash[REPORT] = built
    _CONFIG.clear()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    artifacts = config.stash.get(ARTIFACTS, None)
    if artifacts is None:
        return
    options = config.stash[RUN_OPTIONS]
    faults = f" with faults {', '.join(options.faults)}" if options.faults else ""
    terminalreporter.write_sep("=", "Smart Energy conformance")
    terminalreporter.write_line(f"DUT {options.dut}{faults}; results in {artifacts}")
    terminalreporter.write_line(f"report: {artifacts / 'report.html'} (built when the session ends; "
                                f"`python -m reports build {artifacts}` rebuilds it)")
    terminalreporter.write_line(f"JUnit: {artifacts / 'junit.xml'}   Allure: {artifacts / 'allure-results'}")

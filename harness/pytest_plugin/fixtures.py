"""Fixtures: the session's ``bench`` (with the once-per-run reading of the DUT's identity), ``dut_pics`` and one
``testbed`` per scenario (fresh network, its log and capture kept when it failed or with --artifacts-always);
the pytest-bdd hooks that let steps see the undecodable frames the golden recorded."""

from __future__ import annotations

import collections
import logging
import re
from pathlib import Path

import pytest

from harness.options import (
    OptionError,
)
from harness.pytest_plugin.cases import case_key
from harness.pytest_plugin.keys import ARTIFACTS, ATTACHMENTS, CALL_REPORT, JOURNAL, RUN_OPTIONS
from harness.pytest_plugin.options import claimed_pics, profiles, redactor_for


@pytest.fixture(scope="session")
def bench(pytestconfig: pytest.Config):
    from harness.bench import Bench

    dut_profile, bench_profile = profiles(pytestconfig)
    try:
        the_bench = Bench(pytestconfig.stash[RUN_OPTIONS], dut_profile, bench_profile)
    except OptionError as exc:
        raise pytest.UsageError(str(exc)) from None
    journal = pytestconfig.stash.get(JOURNAL, None)
    if journal is not None:
        identify_dut(the_bench, journal)
        record_radio_firmware(the_bench, journal)
    yield the_bench
    the_bench.close()


def identify_dut(bench, journal) -> None:
    """Read the DUT's Basic identity once per run and record it beside the profile's declaration.

    The report sets the two side by side; a DUT that answers another manufacturer or model than its profile
    declares, or whose identity cannot be read, makes the run INCONCLUSIVE (harness.results.assess): nothing
    else ties the verdicts to the product the report names.
    """
    from harness.results import DutIdentity
    from harness.strategy import identify
    from harness.testbed import IDENTIFICATION

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


def record_radio_firmware(bench, journal) -> None:
    """On a real radio (EZSP: a stick or the NCP emulator) the report names its firmware, as the bench check
    reads it (the hardware backend asked the NCP when it opened the radio)."""
    firmware = bench.radio_firmware()
    if firmware is not None:
        journal.update_bench_firmware(firmware)


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
    report = request.node.stash.get(CALL_REPORT, None)
    failed = report is not None and report.failed
    options = bench.options
    artifacts_root = request.config.stash.get(ARTIFACTS, None)
    keep = failed or options.artifacts_always
    folder = (artifacts_root / safe_name(case_key(request.node) or request.node.name)
              if artifacts_root is not None and keep else None)
    dut_log = bench.read_dut_log(tb) if folder is not None else None
    written = bench.close_testbed(tb, folder)
    if folder is not None:
        if tb.capture_cut is not None:  # the capture hit its size limit: say so where a reader looks
            log.lines.append(f"WARNING harness.bench: {tb.capture_cut}")
        written.append(log.write(folder / "log.txt", bench.clock, redactor_for(request.config)))
        if dut_log is not None:
            written.append(_write_dut_log(folder / "dut-log.txt", dut_log, redactor_for(request.config)))
    if written:
        attach_to_allure(written)
        request.node.stash[ATTACHMENTS] = [str(p.relative_to(artifacts_root)) for p in written]


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


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-\[\]]+", "_", name)


def attach_to_allure(paths: list[Path]) -> None:
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
        testbed.step = step.name  # what a real bench's progress line names during a long wait
    _raise_undecodable(request.node)  # what the DUT sent during the previous steps


def pytest_bdd_step_error(request, feature, scenario, step, step_func, step_func_args, exception) -> None:
    request.node.se_step_failed = True


def pytest_bdd_after_scenario(request, feature, scenario) -> None:
    if not getattr(request.node, "se_step_failed", False):
        _raise_undecodable(request.node)  # what the DUT sent during the last step

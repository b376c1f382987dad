"""The run's evidence: the journal (opened at session start, one record per finished case, sealed at the end),
the JUnit and Allure outputs made to agree with it, and the report built from it (docs/reports.md)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.options import (
    widened_pixits,
)
from harness.pytest_plugin.cases import run_scope, scenario_template
from harness.pytest_plugin.keys import ALLURE, ARTIFACTS, JOURNAL, LAB_KEY, PHASES, REPORT, ROOT, RUN_OPTIONS
from harness.pytest_plugin.options import claimed_pics, profiles, redactor_for, relative_path


def register_allure(config: pytest.Config) -> None:
    """Case ids, redaction and one log per result, as allure writes them (not with xdist's controller)."""
    results = getattr(config.option, "allure_report_dir", None)
    if not results:
        return
    from reports.allure import register, unregister

    hooks = register(results, redactor_for(config))
    config.stash[ALLURE] = hooks
    config.add_cleanup(lambda: unregister(hooks))


def allure_not_started(item: pytest.Item, key: str, phase: dict, report: pytest.TestReport) -> None:
    """allure-pytest-bdd reports only scenarios that ran; a case skipped before it started gets its result here."""
    if item.config.stash.get(ALLURE, None) is None:
        return
    import platform
    import time

    from reports.allure import report_not_started

    template = scenario_template(item)
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


def allure_environment(config: pytest.Config, artifacts: Path) -> None:
    results = getattr(config.option, "allure_report_dir", None)
    if not results or config.stash.get(ALLURE, None) is None:
        return
    from harness.results import read_journal
    from reports.allure import write_environment

    write_environment(results, read_journal(artifacts).run)


class JournalRecorder:
    """Records each finished case in the journal. Registered as a plugin object for the session, so the hook
    has the run's config without a module global (pytest_runtest_logreport receives only the report)."""

    name = "se-journal-recorder"

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        phase = getattr(report, "se_phase", None)  # set in the worker; travels with xdist's serialised report
        if phase is None or JOURNAL not in self.config.stash:
            return
        phases = self.config.stash[PHASES].setdefault(report.nodeid, {})
        phases[report.when] = phase
        if report.when == "teardown":
            from harness.run_record import case_result

            self.config.stash[JOURNAL].record(case_result(report.nodeid, self.config.stash[PHASES].pop(report.nodeid)))


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    if getattr(config.option, "allure_report_dir", None):
        # allure-pytest-bdd registered its writer in its pytest_configure: from now on it writes within the
        # suite's limits (harness/limits.py), whatever a DUT put into a result or an attachment.
        from harness.limits import bound_allure_output, release_allure_clipper

        clipper = bound_allure_output()
        if clipper is not None:
            config.add_cleanup(lambda: release_allure_clipper(clipper))
    artifacts = config.stash.get(ARTIFACTS, None)
    if artifacts is None or hasattr(config, "workerinput"):
        return  # not a suite run, or an xdist worker: the controller keeps the journal
    from harness.redact import Redactor
    from harness.results import BenchInfo, DutIdentity, Journal, JournalError, RunInfo, suite_version

    options = config.stash[RUN_OPTIONS]
    dut_profile, bench_profile = profiles(config)
    identity = dut_profile.identity
    info = RunInfo(
        dut=DutIdentity(manufacturer=identity.manufacturer, model=identity.model, ieee=str(identity.ieee),
                        device_type=f"{identity.device.name} (0x{identity.device.device_id:04X})",
                        profile=relative_path(str(options.profile))),  # no local absolute path in reports
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
    config.pluginmanager.register(JournalRecorder(config), JournalRecorder.name)


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
    redactor = None if options.reveal_secrets else Redactor.from_profiles(*profiles(config))
    allure_environment(config, artifacts)
    # The end record seals the journal only once JUnit and Allure are final, and before the report and the
    # manifest (docs/reports.md, "Trust model"): a kill before it leaves an incomplete run, a kill after it a
    # directory that does not verify until it is rebuilt. The lab key signs the chain head and the manifest.
    journal.close({"exitstatus": int(exitstatus)}, lab_key=lab_key)
    built = build_report(artifacts, redactor=redactor, lab_key=lab_key)
    config.stash[REPORT] = built
    recorder = config.pluginmanager.get_plugin(JournalRecorder.name)
    if recorder is not None:
        config.pluginmanager.unregister(recorder)
    if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        # The exit status follows the overall verdict (docs/reports.md): CI gates on it. pytest's own codes
        # for an interrupted run, an internal error, a usage error or no tests collected stay as they are.
        session.exitstatus = built.verdict.exit_code

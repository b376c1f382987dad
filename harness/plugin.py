"""The suite's pytest plugin, loaded by the root conftest.py: it loads the pytest layer (harness/pytest_plugin/)
and wires a run together when pytest configures it.

- Options: harness/pytest_plugin/options.py (a bad value is one line, exit 4).
- Gherkin tags become markers (``@id:`` case_id, ``@pics:`` pics, ``@area:`` area); cases the DUT's claims do
  not cover are not applicable: harness/pytest_plugin/cases.py.
- Fixtures ``bench``, ``dut_pics`` and ``testbed``: harness/pytest_plugin/fixtures.py.
- Verdicts and bounded retries of bench faults: harness/pytest_plugin/outcomes.py.
- Journal, JUnit, Allure and the report: harness/pytest_plugin/evidence.py; what the terminal shows:
  harness/pytest_plugin/terminal.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from harness.options import (
    OptionError,
    prepare_artifacts,
)
from harness.pytest_plugin.keys import ARTIFACTS, BENCH_TARGET, LAB_KEY, ROOT, RUN_OPTIONS, SUITE_RUN

pytest_plugins = [
    "harness.pytest_plugin.options",
    "harness.pytest_plugin.cases",
    "harness.pytest_plugin.fixtures",
    "harness.pytest_plugin.evidence",
    "harness.pytest_plugin.outcomes",
    "harness.pytest_plugin.terminal",
    "harness.pytest_plugin.fault_touches",
]


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # Imported here, not at the top: pytest loads these modules itself (pytest_plugins, with assertion
    # rewriting), and importing them earlier would load them behind its back.
    from harness.pytest_plugin.evidence import register_allure
    from harness.pytest_plugin.options import (
        build_run_options,
        check_bench_reachable,
        is_suite_run,
        option_value,
        profiles,
    )
    from harness.pytest_plugin.terminal import progress_to_terminal

    config.addinivalue_line("markers", "slow: a self-test that takes more than a few seconds")
    config.addinivalue_line("markers", "tshark: needs Wireshark's tshark on PATH")
    config.addinivalue_line("markers", "case_id(id): certification case id from the feature's @id: tag")
    config.addinivalue_line("markers", "pics(expression): PICS expression the DUT must claim for the case")
    config.addinivalue_line("markers", "area(name): the feature area of a case")
    # pytest-bdd makes a mark of each tag of an Examples block, named by the whole tag ("pics:SE.TIME.C"), without
    # asking pytest_bdd_apply_tag; the case catalogue reads those PICS itself (harness/cases.py).
    config.addinivalue_line("filterwarnings", r"ignore:Unknown pytest\.mark\.pics:pytest.PytestUnknownMarkWarning")
    try:
        options = build_run_options(config)
    except OptionError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[RUN_OPTIONS] = options
    suite = is_suite_run(config)
    config.stash[SUITE_RUN] = suite
    if suite:
        try:  # mandatory PICS and PIXIT bounds between the options and the profile: also for --collect-only
            options.check_profile(profiles(config)[0])
        except OptionError as exc:
            raise pytest.UsageError(str(exc)) from None
    if not suite or config.option.collectonly:
        return
    try:
        config.stash[BENCH_TARGET] = check_bench_reachable(options, *profiles(config))
    except OptionError as exc:
        raise pytest.UsageError(str(exc)) from None
    lab_key = option_value(config, "lab_key")
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
    progress_to_terminal(config)
    # On CI (the CI variable set) pytest's short summary repeats each failure's whole text after the failure
    # itself: a DUT's oversized answer would reach the terminal twice per case. One line per case is enough;
    # the failure above it and the journal keep the text (harness/limits.py).
    config.option.force_short_summary = True
    if not getattr(config.option, "xmlpath", None):
        config.option.xmlpath = str(artifacts / "junit.xml")
    if hasattr(config.option, "allure_report_dir") and not config.option.allure_report_dir:
        config.option.allure_report_dir = str(artifacts / "allure-results")
    register_allure(config)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    # What imports and collection built lives as long as the run: out of the garbage collector's way, no pass
    # walks it again, nor do the five full collections pytest makes when the session ends (about a second of
    # a 10-second suite run).
    if session.config.stash.get(SUITE_RUN, False) and not session.config.option.collectonly:
        import gc

        gc.freeze()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    # The run is over: collect its garbage once while pytest still records unraisable exceptions, then freeze
    # what is left, so the five full collections pytest makes after this (its unraisable-exception cleanup)
    # walk only what dies from here on, instead of the whole heap of a run (about 0.3 s a suite run).
    if config.stash.get(SUITE_RUN, False) and not config.option.collectonly:
        import gc

        gc.collect()
        gc.freeze()

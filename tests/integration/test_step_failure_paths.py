"""Every step module's failure paths, run against misbehaving reference devices: a DUT that misbehaves (a seeded
fault, garbage faults included) makes cases fail with expected / observed / rule, and never makes a step's own
code raise (an IndexError or a LookupError would read ``error``: not counted against the DUT, so a broken DUT
would read INCONCLUSIVE). Also: the catalogued ke-foreign-subject fails TC-KE-1.3 (it used to raise IndexError
in the step), and which Scenario Outline examples apply is decided from the claims before commissioning.

Each run is the real suite in a process of its own (tests/support/suite_process.py), judged from its journal.
It takes the cases its faults can reach, as the fault matrix does (tests/support/fault_runs.py); any other
case runs as in the conformant run, where it passes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.cases import catalogue
from harness.devices.catalogue import MODELS
from harness.results import Verdict, read_journal
from tests.support.fault_runs import MATRIX_SEED, conformant_run, reach_of
from tests.support.long_cases import deselect, long_cases_left_out
from tests.support.suite_process import ROOT, run_module, suite_env

AREAS = {"ATTR": "attributes", "JOIN": "joining", "KE": "key_establishment", "MSG": "messaging", "PRICE": "price",
         "TIME": "time", "DRLC": "drlc", "OSEG": "openseg", "ZCL": "foundation", "MET": "metering", "ESI": "esi", "TC": "trust_center"}
#: A message that is a Python exception rather than a finding: "IndexError: list index out of range", a traceback.
PYTHON_EXCEPTION = re.compile(r"Traceback \(most recent call last\)|^\w+(Error|Exception)(: |$)", re.M)
#: Fault groups per (model, step module); more groups cover more faults at a subprocess each.
GROUPS_PER_MODULE = 2


def _run(tmp: Path, args: list[str], env: dict[str, str] | None = None):
    artifacts = tmp / "run"
    done = run_module("pytest", *args, "-q", "-p", "no:cacheprovider", f"--artifacts={artifacts}",
                      env=suite_env(env), timeout=600)
    assert (artifacts / "journal.jsonl").exists(), f"no journal (exit {done.returncode}):\n{done.stdout[-3000:]}"
    _run_info, cases, _complete = read_journal(artifacts)
    return {case.case_id: case for case in cases}


def fault_groups() -> list[tuple[str, str, tuple[str, ...]]]:
    """(model, step module, faults): per model and module, faults whose targets there do not overlap, so each
    targeted case fails for its own fault along its own failure path. A fault counts for a module when at least
    half of its targets are there (a broken CBKE fails every application case, through the same step)."""
    groups = []
    for model in sorted(MODELS):
        by_module: dict[str, dict[str, set[str]]] = {}
        for name, fault in sorted(MODELS[model].faults_catalogue.items()):
            modules: dict[str, set[str]] = {}
            for target in fault.targets:
                modules.setdefault(AREAS[target.split("-")[1]], set()).add(target)
            for module, targets in modules.items():
                if 2 * len(targets) >= len(fault.targets):
                    by_module.setdefault(module, {})[name] = targets
        for module, faults in sorted(by_module.items()):
            packed: list[tuple[list[str], set[str]]] = []
            for name, targets in sorted(faults.items(), key=lambda kv: (-len(kv[1]), kv[0])):
                home = next((g for g in packed if not g[1] & targets), None)
                if home is None:
                    packed.append(([name], set(targets)))
                else:
                    home[0].append(name)
                    home[1].update(targets)
            groups += [(model, module, tuple(names)) for names, _ in packed[:GROUPS_PER_MODULE]]
    return groups


GROUPS = fault_groups()


def test_every_step_module_is_exercised_by_some_fault():
    modules = {p.stem.removeprefix("test_") for p in (ROOT / "steps").glob("test_*.py")}
    assert modules <= {module for _, module, _ in GROUPS}, modules - {module for _, module, _ in GROUPS}


@pytest.mark.slow  # one suite run of a few seconds per fault group (about 25): xdist spreads them over the workers
@pytest.mark.parametrize("group", GROUPS, ids=[f"{m}-{a}-{len(f)}faults" for m, a, f in GROUPS])
def test_a_misbehaving_dut_fails_cases_with_findings_never_with_python_errors(tmp_path, tmp_path_factory, group):
    model, module, faults = group
    aimed_at = {target for fault in faults for target in MODELS[model].faults_catalogue[fault].targets}
    # The cases the faults can reach (tests/support/fault_runs.py): any other runs as in the conformant run.
    reach = reach_of(model, faults, conformant_run(model, tmp_path_factory)[1])
    in_module = {case.key for case in catalogue() if case.area == module}
    selection = [] if reach is None else [f"--case={case}" for case in sorted(reach & in_module)]
    cases = _run(tmp_path, [f"steps/test_{module}.py", f"--dut=sim:{model}", *(f"--fault={f}" for f in faults),
                            f"--seed={MATRIX_SEED}", *selection, *deselect(long_cases_left_out(aimed_at))])
    errors = {k: c.message for k, c in cases.items() if c.verdict == Verdict.ERROR}
    assert not errors, f"{group}: a misbehaving DUT produced error verdicts: {errors}"
    failed = {k: c for k, c in cases.items() if c.verdict == Verdict.FAILED}
    assert failed, f"{group}: the faults failed no case of the module"
    for key, case in failed.items():
        message = case.message
        assert message is not None and message.expectation and message.observation and message.rule, (
            f"{key}: a failure without expected / observed / rule: {message}")
        for part in (message.expectation, message.observation, message.rule):
            assert not PYTHON_EXCEPTION.search(part), f"{key}: a Python exception as the finding: {part[:300]}"


def test_ke_foreign_subject_fails_tc_ke_1_3_not_error(tmp_path):
    cases = _run(tmp_path, ["steps/test_key_establishment.py", "-k", "TC_KE_1_3", "--dut=sim:ihd",
                            "--fault=ke-foreign-subject"])
    case = cases["TC-KE-1.3"]
    assert case.verdict == Verdict.FAILED, case
    assert "CBKE" in case.message.expectation and case.message.rule, case.message


def test_unclaimed_outline_examples_are_not_applicable_even_when_commissioning_fails(tmp_path):
    # Every golden transmission fails (a radio off the bus): commissioning cannot succeed in any case.
    cases = _run(tmp_path, ["steps/test_attributes.py", "-k", "TC_ATTR_1_2", "--dut=sim:ihd"],
                 env={"SE_SIM_RADIO_FAILURES": "100000"})
    unclaimed = {"TC-ATTR-1.2[Time]", "TC-ATTR-1.2[Price]", "TC-ATTR-1.2[Messaging]",
                 "TC-ATTR-1.2[Demand Response and Load Control]", "TC-ATTR-1.2[Simple Metering]"}
    for key in unclaimed:
        assert cases[key].verdict == Verdict.NOT_APPLICABLE, cases[key]
    claimed = {k: c.verdict for k, c in cases.items() if k not in unclaimed}
    assert claimed and set(claimed.values()) == {Verdict.ERROR}, claimed  # the bench's fault, never the DUT's

"""The fault matrix: the suite passes the conformant reference device, and each seeded fault fails exactly the
cases it is aimed at — the proof that every conformance scenario can fail, and fails only for its own reason.

Each run is the real suite (`pytest steps --dut sim:<model> --fault X`) in a process of its own, judged from
its JUnit file, the way CI judges a DUT. One test item is one run, so pytest-xdist spreads the runs over the
cores (`pytest tests -n auto`).

Where a fault can act is measured, not assumed. The conformant run of each model records, case by case, what
the device consulted of its fault catalogue (--record-fault-touches, harness/devices/faults.py): a fault's
Behaviour, a field of the settings it flips, the seeds of its kind. A fault's run then takes the cases that
consulted what it seeds (its targets among them, or the row fails); a case that consulted none of it runs the
same with the fault, on the same seed, and stands as the conformant run judged it. With SE_FULL_FAULT_MATRIX=1
every fault runs every case instead, and checks that the cases it did not reach still pass (the nightly run's
check of the analysis; test_impact_analysis_holds does it for a few faults in CI).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.devices.catalogue import MODELS
from harness.devices.faults import reached_cases
from tests.support.fault_runs import (
    MATRIX_SEED,
    Results,
    conformant_run,
    left_out,
    reach_of,
    run_suite,
    step_modules,
    targets,
)
from tests.support.long_cases import LONG_CASES

# (model, fault) for every reference device; fault None is the conformant device.
RUNS = [(model, None) for model in sorted(MODELS)] + [
    (model, fault) for model in sorted(MODELS) for fault in sorted(MODELS[model].faults_catalogue)
]
#: Fault runs that mostly wait on the wall clock (the OpenSEG API's real sockets: a gateway that answers 1.5 s
#: late, or serves requests one at a time behind a 0.8 s lock), with their measured seconds: they run in the
#: realtime lanes (tests/conftest.py), where waiting holds no core.
WAITING_RUNS = {("openseg", "api-blocks-meter-reads"): 130, ("openseg", "slow-answers"): 80}


def _fault_run(model: str, fault: str):
    seconds = WAITING_RUNS.get((model, fault))
    return pytest.param(model, fault, marks=pytest.mark.realtime(seconds)) if seconds else (model, fault)


# -- The matrix ----------------------------------------------------------------------------------------------

@pytest.fixture
def conformant(model: str, tmp_path_factory: pytest.TempPathFactory) -> Results:
    return conformant_run(model, tmp_path_factory)[0]


def _per_model(model: str):
    return pytest.param(model, marks=pytest.mark.xdist_group(f"conformant-{model}"), id=model)


@pytest.mark.parametrize("model", [_per_model(model) for model in sorted(MODELS)])
def test_conformant_device_passes_every_applicable_case(conformant, model):
    results = conformant
    assert results, "the suite ran no case"
    bad = {k: v for k, v in results.items() if v[0] not in ("passed", "skipped")}
    assert not bad, f"the conformant reference {model} did not pass: {bad}"
    not_applicable = {k: v for k, v in results.items() if v[0] == "skipped"}
    assert all("not applicable" in message for _, message in not_applicable.values()), not_applicable
    assert any(v[0] == "passed" for v in results.values())
    # The long cases the fault runs leave out are run, and judged, here.
    assert set(LONG_CASES) <= results.keys(), sorted(results)


def check_fault_run(model: str, fault: str, results: Results, conformant: Results, ran: set[str] | None) -> None:
    expected = targets(model, fault)
    failed = {k for k, (outcome, _) in results.items() if outcome == "failed"}
    errors = {k: v for k, v in results.items() if v[0] == "error"}
    assert not errors, f"fault {fault} produced bench errors, which must never stand for a DUT failure: {errors}"
    assert failed == expected, (
        f"fault {fault} (--seed={MATRIX_SEED}): expected exactly {sorted(expected)} to fail; failed {sorted(failed)}; "
        f"missed {sorted(expected - failed)}; collateral {sorted(failed - expected)}"
    )
    assert not left_out(model, fault) & results.keys(), "a long case this fault does not target was run"
    if ran is not None:
        assert results.keys() <= ran, f"cases run that the fault does not reach: {sorted(results.keys() - ran)}"
        # A case the fault cannot reach stands as the conformant run judged it: passed, or not applicable.
        unreached = {k: conformant[k] for k in conformant.keys() - ran}
        assert all(outcome in ("passed", "skipped") for outcome, _ in unreached.values()), unreached


@pytest.mark.parametrize(("model", "fault"), [_fault_run(model, fault) for model, fault in RUNS if fault is not None])
def test_fault_fails_exactly_its_targets(tmp_path, tmp_path_factory, model, fault):
    conformant, touches = conformant_run(model, tmp_path_factory)
    ran = reach_of(model, (fault,), touches)  # None: every case
    if ran is None:
        results = run_suite(tmp_path, model, fault)
    else:
        chosen = sorted(ran - left_out(model, fault))
        assert chosen, f"{fault} reaches no case it may run"  # its targets are never left out
        results = run_suite(tmp_path, model, fault, paths=step_modules(chosen),
                            options=tuple(f"--case={case}" for case in chosen))
    check_fault_run(model, fault, results, conformant, ran)


#: Faults whose reach is a few cases of many: a whole-suite run of one of them, drawn by the session's seed,
#: checks the analysis in every CI run (SE_FULL_FAULT_MATRIX=1 checks it for every fault).
ANALYSIS_CHECKS = [("pct", "ignores-opt-out"), ("ihd", "cancel-clears-any-message"), ("pct", "acts-on-foreign-device-class"),
                   ("ihd", "confirms-unasked")]


@pytest.mark.parametrize(("model", "fault"), [ANALYSIS_CHECKS[MATRIX_SEED % len(ANALYSIS_CHECKS)]])
def test_impact_analysis_holds(tmp_path, tmp_path_factory, model, fault):
    """With the fault, the cases it does not reach pass on the whole suite, as the analysis says they do."""
    conformant, touches = conformant_run(model, tmp_path_factory)
    ran = reached_cases(MODELS[model].faults_catalogue[fault], touches)
    assert ran is not None and len(ran) < len(conformant) / 4, f"{fault} reaches {ran}: choose a narrower fault"
    results = run_suite(tmp_path, model, fault)
    check_fault_run(model, fault, results, conformant, None)
    unreached = results.keys() - ran
    assert unreached and all(results[k][0] in ("passed", "skipped") for k in unreached)
    assert {k: results[k][0] for k in unreached} == {k: conformant[k][0] for k in unreached}


@pytest.mark.parametrize("model", [_per_model(model) for model in sorted(MODELS)])
def test_every_applicable_case_is_targeted_by_some_fault(conformant, model):
    """Every case the model runs is shown able to fail by a seeded fault: in this model's catalogue, or, for a case
    shared by several device types (joining, attributes, key establishment), in another model's."""
    applicable = {k for k, (outcome, _) in conformant.items() if outcome == "passed"}
    targeted = {t for cls in MODELS.values() for fault in cls.faults_catalogue.values() for t in fault.targets}
    assert applicable - targeted == set(), f"cases no seeded fault can fail: {sorted(applicable - targeted)}"


def test_a_run_of_a_few_cases_collects_the_step_modules_that_bind_them():
    """A fault run names its cases and collects only their features' step modules: each case's module is one
    that binds its feature, so no case the run asks for goes uncollected."""
    from harness.cases import catalogue

    specs = catalogue()
    assert step_modules(["TC-ATTR-1.1", "TC-DRLC-1.5"]) == ("steps/test_attributes.py", "steps/test_drlc.py")
    for spec in specs:
        (module,) = step_modules([spec.key])
        binding = f'certification_cases("../features/{spec.area}")'
        assert binding in (Path(__file__).resolve().parents[2] / module).read_text(), f"{module} does not bind features/{spec.area} ({spec.key})"
    with pytest.raises(AssertionError, match="TC-NONE-9.9"):
        step_modules(["TC-NONE-9.9"])

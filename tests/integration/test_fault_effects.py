"""Every seeded fault changes what the suite sees: for each (model, fault), the fault's first target case passes
on the conformant device and fails with the fault on.

This is the proof that a fault is implemented, whatever it seeds (a stack, key establishment, client or server
setting, garbage, or a behaviour the device's code branches on): a fault declared but wired to nothing leaves
its first target passing. The fault matrix (test_fault_matrix.py) proves more, with the whole suite per fault;
this runs one case per fault, through the same runner (``--case=<target>``, a forked child per run).
"""

from __future__ import annotations

import pytest

from harness.devices.catalogue import MODELS
from tests.integration.test_fault_matrix import Results, run_suite

FAULTS = [(model, name) for model in sorted(MODELS) for name in sorted(MODELS[model].faults_catalogue)]


def first_target(model: str, fault: str) -> str:
    return MODELS[model].faults_catalogue[fault].targets[0]


_CONFORMANT: dict[str, Results] = {}


@pytest.fixture
def conformant(model: str, tmp_path_factory: pytest.TempPathFactory) -> Results:
    """The conformant device's outcome of every first target of *model*'s faults, in one run per process."""
    if model not in _CONFORMANT:
        cases = sorted({first_target(model, fault) for fault in MODELS[model].faults_catalogue})
        _CONFORMANT[model] = run_suite(tmp_path_factory.mktemp(f"{model}-first-targets"), model,
                                       options=tuple(f"--case={case}" for case in cases))
    return _CONFORMANT[model]


@pytest.mark.slow
@pytest.mark.parametrize(("model", "fault"), FAULTS, ids=[f"{model}-{fault}" for model, fault in FAULTS])
def test_fault_fails_its_first_target_which_the_conformant_device_passes(conformant, tmp_path, model, fault):
    target = first_target(model, fault)
    assert conformant.get(target, ("not run", ""))[0] == "passed", (
        f"sim:{model} without faults must pass {target}, the first target of {fault}: {conformant.get(target)}")
    seeded = run_suite(tmp_path, model, fault, options=(f"--case={target}",))
    assert seeded.keys() == {target}, f"--case={target} ran {sorted(seeded)}"
    outcome, message = seeded[target]
    assert outcome == "failed", f"sim:{model} with {fault}: {target} {outcome}, not failed {message[:300]}"

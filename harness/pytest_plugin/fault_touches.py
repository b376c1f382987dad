"""--record-fault-touches FILE: which seeds of the reference device's fault catalogue each case consulted.

The fault matrix's impact analysis (tests/integration/test_fault_matrix.py): it records the conformant run of a
model, then runs each fault on the cases that consulted what the fault seeds (harness/devices/faults.py,
FaultTouches). Only a simulated reference device has a fault catalogue; the file is written when the session
ends, as JSON: ``{"everywhere": [tokens], "cases": {case key: [tokens]}}``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.pytest_plugin.cases import case_key
from harness.pytest_plugin.keys import RUN_OPTIONS, SUITE_RUN
from harness.pytest_plugin.options import option_value

_FILE = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    target = option_value(config, "record_fault_touches")
    if not target or not config.stash.get(SUITE_RUN, False) or config.option.collectonly:
        return
    if not config.stash[RUN_OPTIONS].dut.is_simulated:
        raise pytest.UsageError("--record-fault-touches: only a simulated reference device (--dut=sim:MODEL) has a "
                                "fault catalogue to record")
    if getattr(config.option, "numprocesses", None) or hasattr(config, "workerinput"):
        raise pytest.UsageError("--record-fault-touches: record in one process (leave -n out)")
    from harness.devices import faults

    faults.RECORDER = faults.FaultTouches()
    config.stash[_FILE] = Path(target)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    from harness.devices import faults

    recorder = faults.RECORDER
    if recorder is None or _FILE not in item.config.stash:
        return (yield)
    recorder.case = case_key(item)
    try:
        return (yield)
    finally:
        recorder.case = None


def pytest_sessionfinish(session: pytest.Session) -> None:
    from harness.devices import faults

    target = session.config.stash.get(_FILE, None)
    if target is None or faults.RECORDER is None:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(faults.RECORDER.as_json(), indent=1))
    faults.RECORDER = None

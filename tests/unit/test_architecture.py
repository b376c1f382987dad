"""The harness's floors (pyproject.toml [tool.importlinter], docs/architecture.md): no package imports one
above it, there is no circle, and the reference devices and the judging side never import each other."""

from __future__ import annotations

from pathlib import Path

import pytest
from importlinter import cli

ROOT = Path(__file__).resolve().parents[2]


def test_every_import_contract_is_kept(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT))
    code = cli.lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert code == 0, f"an import contract is broken (docs/architecture.md, 'Which package may import which'):\n{report}"


@pytest.mark.parametrize("package", ["harness.wire", "harness.sim"])
def test_the_wire_format_and_the_simulator_import_nothing_above_them(package):
    # Spelled out apart from the layers contract, because the rule is this one sentence.
    import grimp

    graph = grimp.build_graph("harness")
    allowed = {"harness.wire", "harness.crypto", "harness.clock", "harness.capture", "harness.errors",
               "harness.progress", "harness.se"} | ({"harness.sim"} if package == "harness.sim" else set())
    above = sorted(
        f"{module} -> {imported}"
        for module in graph.find_children(package) | {package}
        for sub in graph.find_descendants(module) | {module}
        for imported in graph.find_modules_directly_imported_by(sub)
        if imported.startswith("harness.") and ".".join(imported.split(".")[:2]) not in allowed
    )
    assert not above, f"{package} imports above itself: {above}"

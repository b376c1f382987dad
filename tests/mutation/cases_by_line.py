"""Which conformance cases run each line of the reference devices, device by device.

A mutant can change a verdict only through a case that executes the mutated statement: the runs are seeded and
the clock is virtual, so a conformant run executes the same lines every time. The mutation tool therefore
judges a mutant with those cases only (mutmut's and cosmic-ray's usual coverage filter), and leaves out a
device that never runs the statement. Code that runs outside every case (at import, in collection) is judged
with the whole suite.

The map comes from one conformant run per device under coverage.py, with pytest-cov's per-test contexts
(``--cov-context=test``: ``<node id>|setup``, ``|run``, ``|teardown``).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from coverage import CoverageData

#: The selection a device gets: None runs the whole suite; an empty tuple means no case runs the statement.
Selection = tuple[str, ...] | None


@dataclass
class CasesByLine:
    """module (path under the repository) -> line -> the node ids of the cases that ran it ("" for code run
    outside every case)."""

    lines: dict[str, dict[int, frozenset[str]]]

    def cases_for(self, module: str, line: int, statement: tuple[int, int]) -> Selection:
        """The cases that ran any line of *statement* (the innermost statement holding *line*, first and last
        line): a mutant there reaches the device through them only."""
        ran = self.lines.get(module, {})
        cases: set[str] = set()
        for number in range(statement[0], statement[1] + 1):
            cases |= ran.get(number, frozenset())
        if "" in cases:
            return None
        return tuple(sorted(cases))


def statement_span(source: str, line: int) -> tuple[int, int]:
    """The first and last line of the innermost statement of *source* that holds *line* (the line itself if none
    does): coverage.py records a multi-line statement under some of its lines, not necessarily the mutant's."""
    best = (line, line)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.stmt) and node.lineno <= line <= (node.end_lineno or node.lineno):
            span = (node.lineno, node.end_lineno or node.lineno)
            if best == (line, line) or span[1] - span[0] < best[1] - best[0]:
                best = span
    return best


def _node_id(context: str) -> str:
    return context.rsplit("|", 1)[0] if "|" in context else context


def measure(tree: Path, model: str, modules: list[str], artifacts: Path, timeout: float) -> CasesByLine:
    """Run the suite against sim:*model* in *tree* under coverage with per-test contexts; the run must be
    CONFORMANT (else nothing a mutant does could be told apart)."""
    data_file = artifacts / "coverage.sqlite"
    env = dict(os.environ, PYTHONPATH=str(tree), COVERAGE_FILE=str(data_file))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--dut=sim:{model}", "--seed=1",
               f"--artifacts={artifacts / 'run'}", f"--cov={tree / 'harness'}", "--cov-context=test",
               "--cov-report="]
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-6:])
        raise SystemExit(f"coverage baseline: sim:{model} is not CONFORMANT under coverage (exit "
                         f"{done.returncode}):\n{tail}")
    data = CoverageData(basename=str(data_file))
    data.read()
    lines: dict[str, dict[int, frozenset[str]]] = {}
    for module in modules:
        by_line = data.contexts_by_lineno(str((tree / module).resolve()))
        lines[module] = {number: frozenset(_node_id(c) for c in contexts) for number, contexts in by_line.items()}
    return CasesByLine(lines)

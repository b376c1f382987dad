"""Self-tests of the harness. Benchmarks run only when tests/benchmarks is named on the command line."""

from __future__ import annotations

from pathlib import Path

BENCHMARKS = Path(__file__).parent / "benchmarks"


def pytest_ignore_collect(collection_path: Path, config) -> bool | None:
    if BENCHMARKS in (collection_path, *collection_path.parents):
        named = any(BENCHMARKS in (p, *p.parents) for p in (Path(a.split("::")[0]).resolve() for a in config.args))
        if not named:
            return True
    return None

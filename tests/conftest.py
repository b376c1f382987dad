"""Self-tests of the harness. Benchmarks run only when tests/benchmarks is named on the command line.

In parallel (`pytest tests -n auto`, pytest-xdist) most self-tests compute, and a few wait on the wall clock:
the NCP emulator's, marked ``realtime(seconds)``. Those run in lanes of their own, one worker each, beside one
worker per core for the rest, so waiting never holds a core:
- ``-n auto`` means the cores plus the lanes;
- each realtime test joins the least loaded lane (an xdist_group), the longest first;
- work is handed out in the order collected (lanes first), and tests that share a costly run stay on one
  worker (xdist_group).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parent / "benchmarks"
#: The realtime self-tests add up to about 35 minutes of waiting (each test's realtime mark carries its measured
#: figure): the NCP emulator's, and the fault-matrix runs that wait on the OpenSEG API's real sockets. Five lanes
#: of about 7 minutes, beside the computing workers: a lane waits far more than it computes (an emulator run
#: takes about a sixth of a core), and with four the lanes outlasted the computing workers.
REALTIME_LANES = 5


def pytest_ignore_collect(collection_path: Path, config) -> bool | None:
    if BENCHMARKS in (collection_path, *collection_path.parents):
        named = any(BENCHMARKS in (p, *p.parents) for p in (Path(a.split("::")[0]).resolve() for a in config.args))
        if not named:
            return True
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "realtime(seconds): waits on the wall clock for about this long "
                                       "(the NCP emulator); under xdist it runs in a realtime lane")
    if getattr(config, "workerinput", {}).get("se_dist") == "loadgroup":
        config.option.loadgroup = True  # what xdist's worker reads to name each test's group


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    # Before xdist reads them: with -n and no --dist of the user's, keep xdist_group tests on one worker and
    # hand work out in the order collected, which puts the realtime lanes first.
    distributed = bool(getattr(config.option, "numprocesses", None)) or hasattr(config, "workerinput")
    if getattr(config.option, "numprocesses", None) and config.option.dist == "no":
        config.option.dist = "loadgroup"
        config.option.loadscopereorder = False
    if distributed and hasattr(config.option, "benchmark_disable"):
        # pytest-benchmark never times under xdist; saying so once per worker is noise at the top of CI's log.
        config.option.benchmark_disable = True


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    # A worker reads the command line again, so it learns the distribution mode chosen above from here.
    node.workerinput["se_dist"] = node.config.option.dist


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cores + REALTIME_LANES


@pytest.hookimpl(tryfirst=True)  # before xdist names each test's group in its node id
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not getattr(config.option, "loadgroup", False):
        return  # not an xdist worker with --dist loadgroup: nothing to place
    realtime = sorted((item for item in items if item.get_closest_marker("realtime")),
                      key=lambda item: -_seconds(item))
    load = [0.0] * REALTIME_LANES
    lanes: list[list[pytest.Item]] = [[] for _ in range(REALTIME_LANES)]
    for item in realtime:
        lane = load.index(min(load))
        load[lane] += _seconds(item)
        lanes[lane].append(item)
        item.add_marker(pytest.mark.xdist_group(f"realtime-{lane}"))
    chosen = {id(item) for item in realtime}
    # Then the computing tests, the slow ones (a suite run or more each) first: a long test handed out last
    # would run alone at the end while the other workers idle.
    rest = sorted((item for item in items if id(item) not in chosen), key=lambda item: not item.get_closest_marker("slow"))
    items[:] = [item for lane in lanes for item in lane] + rest


def _seconds(item: pytest.Item) -> float:
    marker = item.get_closest_marker("realtime")
    assert marker is not None
    return float(marker.args[0] if marker.args else marker.kwargs["seconds"])

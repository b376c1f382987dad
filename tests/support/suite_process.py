"""`python -m pytest ...` (or `python -m reports ...`) as a user runs it, in a process of its own, for the self-tests.

A new interpreter spends about a third of a short suite run starting and importing zigpy, bellows, cryptography
and the harness. multiprocessing's fork server imports them once per xdist worker and forks a child per run, which
runs the module as ``python -m`` would (``runpy``, ``sys.argv``): the same suite, the same arguments, its own
process, cwd, environment, exit status, stdout and stderr. No pytest plugin is preloaded, since pytest rewrites
a plugin's asserts when it imports it and warns about one already imported. A module named here that no longer
exists is skipped by the server (the runs only get slower).

A run takes a new interpreter instead (``fresh=True``, or automatically) when a forked one could differ from it:
- the sources changed since the fork server imported them (an edit while the tests run);
- the run sets an environment variable the harness reads when it is imported (IMPORT_TIME_ENV), in a module
  the server imported without it;
- the platform has no fork server.
Tests of what only a new interpreter does (its start-up, a signal to the real CLI) keep ``fresh=True``.
"""

from __future__ import annotations

import multiprocessing
import os
import runpy
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRELOAD = ["pytest", "hypothesis", "yaml", "pydantic", "aiohttp", "xmlschema", "junitparser", "zigpy",
           "bellows.zigbee.application", "harness.devices.catalogue", "harness.ke",
           "harness.verify", "harness.results", "harness.run_record", "reports.build", "reports.html",
           "reports.summary", "reports.junit", "reports.manifest", "reports.allure",
           # What steps/conftest.py and the plugin's fixtures import on every run: the bench and its simulated
           # backend, the golden, the DUT control seam (about a third of a one-case run's CPU when left to it).
           "harness.bench", "harness.backends.sim", "harness.golden.golden", "harness.strategy", "harness.dut.sim",
           "harness.options", "harness.verdict", "harness.presets", "harness.testbed", "harness.openseg.client",
           # pytest-bdd's code generation imports mako whether or not it generates (not a pytest plugin itself).
           "mako.lookup", "mako.template",
           "tests.support.forkserver_warmup"]
#: Variables the harness reads when a module is imported (a module constant), with that module. A run that sets
#: one whose module the server holds takes a new interpreter (the progress tests).
IMPORT_TIME_ENV = {"SE_PROGRESS_INTERVAL": "harness.progress"}
#: The status of a forked run that found its environment read already (IMPORT_TIME_ENV): run it again, fresh.
_STALE_ENV = 86
#: What the fork server holds read (a change to it makes the server stale): the packages whose modules it
#: imported, and the feature files it parsed (tests/support/forkserver_warmup.py).
PRELOADED_SOURCES = (("harness", "*.py"), ("reports", "*.py"), ("features", "*.feature"))

_FORK_SERVER = "forkserver" in multiprocessing.get_all_start_methods()
_preloaded: float | None = None  # the source stamp when this worker's fork server imported the harness
_start_lock = threading.Lock()  # multiprocessing's bookkeeping of children is not meant for several threads


def suite_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment for a suite run: its options come from its arguments alone, not from SE_*
    variables of whoever runs the tests, and it runs as CI runs it, not as an xdist worker; then *extra*."""
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("SE_", "PYTEST_XDIST_")) and k != "PYTEST_CURRENT_TEST"}
    return clean | dict(extra or {})


def _source_stamp() -> float:
    return max(path.stat().st_mtime for folder, pattern in PRELOADED_SOURCES for path in (ROOT / folder).rglob(pattern))


def _fork_server_is_fresh() -> bool:
    """Whether a forked run would see the sources as they are."""
    global _preloaded
    if not _FORK_SERVER:
        return False
    if _preloaded is None:
        _preloaded = _source_stamp()
    return _source_stamp() == _preloaded


def _module_in_child(module: str, args: list[str], cwd: str, env: dict[str, str], pythonpath: list[str],
                     stdout: str, stderr: str) -> None:
    """Runs in a fresh fork of the server: ``python -m module *args``, its output to two files."""
    if any(env.get(name) and reader in sys.modules for name, reader in IMPORT_TIME_ENV.items()):
        Path(stdout).with_name("stale-env").touch()
        os._exit(_STALE_ENV)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    # A new interpreter's path: the folder it starts in (`-m`), PYTHONPATH, then the rest, without the test
    # folders pytest put on the worker's path (the fork server inherited them).
    tests = str(ROOT / "tests")
    rest = [p for p in sys.path if p and p != tests and not p.startswith(tests + os.sep)]
    sys.path[:] = list(dict.fromkeys([cwd, *pythonpath, *rest]))
    for fd, path in ((1, stdout), (2, stderr)):
        out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(out, fd)
        os.close(out)
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)  # `python -m`; SystemExit carries the status


def run_module(module: str, *args: str, env: Mapping[str, str] | None = None, cwd: Path = ROOT,
               timeout: float = 600, pythonpath: Iterable[Path | str] = (),
               fresh: bool = False) -> subprocess.CompletedProcess:
    """``python -m module *args`` in *cwd* with *env* (default: suite_env()), *pythonpath* before the rest;
    its status, stdout and stderr as subprocess.run(capture_output=True, text=True) returns them, and
    subprocess.TimeoutExpired past *timeout*."""
    environment = dict(suite_env() if env is None else env)
    paths = [str(p) for p in pythonpath]
    if paths:
        environment["PYTHONPATH"] = os.pathsep.join([*paths, *filter(None, [environment.get("PYTHONPATH")])])
    if not fresh and _fork_server_is_fresh():
        done = _forked(module, list(args), Path(cwd), environment, paths, timeout)
        if done is not None:
            return done
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=timeout)


def _forked(module: str, args: list[str], cwd: Path, env: dict[str, str], pythonpath: list[str],
            timeout: float) -> subprocess.CompletedProcess | None:
    """The run forked from the server; None when it must take a new interpreter (its environment)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="se-run-") as folder:
        stdout, stderr = Path(folder, "stdout"), Path(folder, "stderr")
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)  # read when the server starts: on this worker's first run
        child = context.Process(target=_module_in_child,
                                args=(module, args, str(cwd), env, pythonpath, str(stdout), str(stderr)))
        with _start_lock:
            child.start()
        try:
            child.join(timeout)
        except BaseException:  # an interrupted test (Ctrl-C, pytest's own timeout) leaves no run behind
            child.kill()
            raise
        command = [sys.executable, "-m", module, *args]

        def read(path: Path) -> str:
            return path.read_text(errors="replace") if path.exists() else ""

        if child.exitcode is None:
            child.kill()
            child.join()
            raise subprocess.TimeoutExpired(command, timeout, read(stdout), read(stderr))
        if child.exitcode == _STALE_ENV and Path(folder, "stale-env").exists():
            return None
        return subprocess.CompletedProcess(command, child.exitcode, read(stdout), read(stderr))


def run_pytest(*args: str, **options) -> subprocess.CompletedProcess:
    """``python -m pytest -p no:cacheprovider -p no:benchmark *args``: run_module's options. pytest-benchmark
    (installed for tests/benchmarks) asks git and hg about the project in eight subprocesses as it configures,
    whether or not anything is timed: a fifth of a one-case suite run, for nothing a suite run uses."""
    return run_module("pytest", "-p", "no:cacheprovider", "-p", "no:benchmark", *args, **options)

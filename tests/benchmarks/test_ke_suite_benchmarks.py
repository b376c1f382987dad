"""Benchmark: wall time of the conformance suite against the reference IHD, the KE feature alone and the whole
suite (each in a subprocess, as CI and the fault matrix run it). Measured, never asserted."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run_suite(root: Path, target: str) -> None:
    tmp = Path(tempfile.mkdtemp(dir=root))  # a fresh run folder per round: a run refuses an existing journal
    env = {k: v for k, v in os.environ.items() if not k.startswith("SE_")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", target, "-q", "-p", "no:cacheprovider", "--dut=sim:ihd",
         f"--artifacts={tmp}", f"--junitxml={tmp / 'junit.xml'}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:]


@pytest.mark.parametrize("target", ["steps/test_key_establishment.py", "steps"], ids=["ke-feature", "whole-suite"])
def test_suite_wall_time_against_sim_ihd(benchmark, tmp_path, target):
    benchmark.pedantic(_run_suite, args=(tmp_path, target), rounds=3, iterations=1)

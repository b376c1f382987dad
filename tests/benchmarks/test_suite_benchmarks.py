"""Suite-level speed: the whole suite against the reference IHD, and the fixed cost of one scenario.

Targets (issue 4): whole suite against the reference IHD <= 30 s wall; median overhead per scenario <= 150 ms
(fresh network: air, golden ControllerApplication forming, reference device, then teardown).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from harness.bench import Bench
from harness.options import RunOptions, parse_dut
from harness.profiles import load_bench_profile, load_dut_profile

ROOT = Path(__file__).resolve().parents[2]


def _bench() -> Bench:
    options = RunOptions(dut=parse_dut("sim:ihd"), radio=None, profile=ROOT / "profiles/dut/sim-ihd.yaml",
                         bench=ROOT / "profiles/bench/sim.yaml")
    return Bench(options, load_dut_profile(options.profile), load_bench_profile(options.bench))


def test_scenario_overhead(benchmark):
    bench = _bench()
    counter = iter(range(1_000_000))

    def one_scenario():
        testbed = bench.open_testbed(f"bench-{next(counter)}")
        bench.close_testbed(testbed, None)

    benchmark.pedantic(one_scenario, rounds=30, warmup_rounds=2)
    bench.close()


def test_scenario_overhead_with_commissioning(benchmark):
    from harness.strategy import commission

    bench = _bench()
    counter = iter(range(1_000_000))

    def one_scenario():
        testbed = bench.open_testbed(f"bench-{next(counter)}")
        bench.run(commission(bench, testbed), 120)
        bench.close_testbed(testbed, None)

    benchmark.pedantic(one_scenario, rounds=20, warmup_rounds=2)
    bench.close()


def test_whole_suite_against_reference_ihd(benchmark, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SE_")}
    counter = iter(range(100))

    def run():
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               f"--artifacts={tmp_path / str(next(counter))}"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-2000:]

    benchmark.pedantic(run, rounds=3, warmup_rounds=0)

"""Wall time of demand response in virtual time: a 24-hour schedule of load control events against the
reference PCT (issue 6: a day of events runs in seconds), and the whole suite against sim:pct."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from harness.bench import Bench
from harness.golden.esi import Peer, load_control_event
from harness.options import RunOptions, parse_dut
from harness.profiles import load_bench_profile, load_dut_profile
from harness.strategy import commission

ROOT = Path(__file__).resolve().parents[2]
EVENTS, SPAN = 12, 24 * 3600
RECEIVED, STARTED, COMPLETED = 0x01, 0x02, 0x03


def _bench(model: str) -> Bench:
    options = RunOptions(dut=parse_dut(f"sim:{model}"), radio=None, profile=ROOT / f"profiles/dut/sim-{model}.yaml",
                         bench=ROOT / "profiles/bench/sim.yaml")
    return Bench(options, load_dut_profile(options.profile), load_bench_profile(options.bench))


def test_a_day_of_load_control_events(benchmark):
    bench = _bench("pct")
    counter = iter(range(1_000))

    def one_day() -> list[list[int]]:
        testbed = bench.open_testbed(f"drlc-day-{next(counter)}")
        try:
            nwk = bench.run(commission(bench, testbed), 120)
            bench.run(bench.clock.sleep(60))  # CBKE, time from the ESI, Get Scheduled Events
            dut = Peer(nwk, bench.dut_profile.endpoint)
            first, slot = bench.clock.zcl_utc() + 120, SPAN // EVENTS
            for n in range(EVENTS):
                event = load_control_event(500 + n, start_time=first + n * slot, duration_minutes=slot // 120)
                bench.run(testbed.golden.drlc.issue_event(dut, event), 30)
            bench.run(testbed.golden.drlc.wait_for_status(500 + EVENTS - 1, COMPLETED, SPAN + 600), SPAN + 700)
            return [testbed.golden.drlc.status_codes(500 + n) for n in range(EVENTS)]
        finally:
            bench.close_testbed(testbed, None)

    statuses = benchmark.pedantic(one_day, rounds=3, warmup_rounds=0)
    assert statuses == [[RECEIVED, STARTED, COMPLETED]] * EVENTS
    bench.close()


def test_whole_suite_against_reference_pct(benchmark, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SE_")}
    counter = iter(range(100))

    def run():
        done = subprocess.run([sys.executable, "-m", "pytest", "steps", "-q", "-p", "no:cacheprovider", "--dut=sim:pct",
                               f"--artifacts={tmp_path / str(next(counter))}"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-2000:]

    benchmark.pedantic(run, rounds=2, warmup_rounds=0)

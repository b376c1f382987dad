"""`python -m harness.bench check ...`: the command in the bench issue and in labs' notes (harness/bench/check.py)."""

from __future__ import annotations

import sys

from harness.bench.check import main

if sys.argv[1:2] == ["check"]:
    sys.exit(main(sys.argv[2:], prog="python -m harness.bench check"))
print("usage: python -m harness.bench check --bench FILE [--radio ezsp:PORT] [--dut PORT] [--profile FILE]",
      file=sys.stderr)
sys.exit(2)

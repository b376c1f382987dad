"""`python -m harness.bench_check --bench FILE [--dut PORT]`: the bench check under the name labs' notes use;
it is harness/bench/check.py (also `python -m harness.bench check`)."""

from __future__ import annotations

import sys

from harness.bench.check import main

if __name__ == "__main__":
    sys.exit(main())

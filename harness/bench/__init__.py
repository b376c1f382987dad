"""The bench front: :class:`Bench`, what the fixtures and steps drive, over one backend (harness/backends).

- front.py: Bench (run coroutines with deadlines, PICS claims, PIXITs, test CA, the scenario's capture)
- target.py: --dut, the radio and the profiles resolved once into the bench the run has
- check.py: ``python -m harness.bench check`` (also ``python -m harness.bench_check``): radio and DUT answer

The testbed a scenario runs on, and the bench's errors, are harness/testbed.py's.
"""

from harness.bench.front import Bench

__all__ = ["Bench"]

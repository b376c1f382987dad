"""The bench's backends, behind the Bench front (harness/bench): the protocol they implement and two of them.

- base.py: BenchBackend (the protocol), BenchSetup (what a backend is built from), Work (its deadlines)
- sim.py: SimBackend: virtual air, simulated golden radio, reference DUT, virtual time
- hardware.py: HardwareBackend: bellows/EZSP golden radio, CLI or operator DUT, live sniffer, wall clock

A backend imports nothing of the bench front, and neither backend imports the other.
"""

from harness.backends.base import BenchBackend, BenchSetup, Work

__all__ = ["BenchBackend", "BenchSetup", "Work"]

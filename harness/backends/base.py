"""The seam between the Bench front and what builds a scenario's network: the backend protocol.

A backend owns the event loop and clock its golden radio runs on and builds, restarts and tears down one
:class:`~harness.testbed.Testbed` per scenario. It is built from plain values (:class:`BenchSetup`) and knows
nothing of the :class:`~harness.bench.Bench`, which holds one backend and drives it: two implementations,
:class:`~harness.backends.sim.SimBackend` (virtual air, reference device, virtual time) and
:class:`~harness.backends.hardware.HardwareBackend` (bellows/EZSP radio, CLI or operator DUT, wall clock).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from harness.errors import BenchFault

if TYPE_CHECKING:
    from harness.clock import Clock
    from harness.ke.engine import KeEngine
    from harness.ke.material import KeMaterial
    from harness.ke.state_machine import KeyEstablishment
    from harness.profiles import BenchProfile, DutProfile
    from harness.rng import CaseRandom
    from harness.testbed import HanDevice, Testbed


class SecondRadioUnavailable(BenchFault, RuntimeError):
    """The case needs a second golden-side node (a second radio on a real bench) that this bench does not have."""


@dataclass(frozen=True)
class BenchSetup:
    """What every backend is built from: the run's profiles and the bench's key material."""

    dut_profile: DutProfile
    bench_profile: BenchProfile
    network_key: bytes  # the bench profile's, as bytes
    ke_material: KeMaterial  # the test CA (the bench profile's, else a seeded simulation CA)
    golden_ke_suites: tuple[int, ...]  # the CBKE suites the golden ESI runs
    dut_ke_suites: tuple[int, ...]  # the CBKE suites the DUT claims

    @property
    def extended_pan_id(self) -> bytes:
        return bytes.fromhex(str(self.bench_profile.extended_pan_id).replace(":", ""))


@dataclass(frozen=True)
class Work:
    """A deadline (seconds) and a name for a backend's own work: the Bench runs it so that the deadline passing is
    a bench fault, never the DUT's silence."""

    deadline: float
    what: str


class BenchBackend(Protocol):
    """What the Bench front needs of a backend. Coroutines run on the backend's ``loop`` (through Bench.run)."""

    @property
    def loop(self) -> asyncio.AbstractEventLoop: ...

    @property
    def clock(self) -> Clock:
        """The bench clock: virtual in simulation (a new one for each case), the wall clock on hardware."""
        ...

    @property
    def opening(self) -> Work: ...  # open_testbed

    @property
    def closing_testbed(self) -> Work: ...  # close_testbed

    @property
    def restarting(self) -> Work: ...  # restart_golden

    @property
    def closing(self) -> Work: ...  # close

    def start_case(self, random: CaseRandom) -> None:
        """Before a scenario opens, with its random state: simulation starts the case's virtual clock here."""
        ...

    async def open_testbed(self, name: str, case: str, random: CaseRandom) -> Testbed:
        """A network for scenario *name* running *case*, the golden's Key Establishment on it."""
        ...

    async def close_testbed(self, testbed: Testbed) -> None: ...

    async def restart_golden(self, testbed: Testbed) -> None:
        """Power-cycle the golden radio; what a real coordinator keeps in NVM survives."""
        ...

    def golden_ke_engine(self, suites: tuple[int, ...], random: CaseRandom) -> KeEngine:
        """The golden ESI's key-establishment engine offering only *suites*."""
        ...

    async def second_ke_partner(self, testbed: Testbed) -> KeyEstablishment:
        """A second node of the golden side joined to the scenario's network, with a Key Establishment client
        (certificates from the test CA for its own IEEE) that can initiate towards the DUT: a second partner
        while the golden runs an exchange. SecondRadioUnavailable where the bench has no second radio."""
        ...

    async def han_device(self, testbed: Testbed, ieee: int, link_key: bytes, *, end_device: bool = False
                         ) -> HanDevice:
        """A golden HAN device for a network the DUT formed, with *link_key* (its install code's) as its
        preconfigured key, not yet joined; the profile's first HAN device is the golden radio itself.
        *end_device*: it joins as an end device. SecondRadioUnavailable where the bench has no radio for it."""
        ...

    def radio_firmware(self) -> str | None:
        """The golden radio's firmware as the report names it; None for the simulated radio."""
        ...

    async def close(self) -> None: ...

"""Fixtures: golden ESI <-> DUT links (tests/unit/esi/esi_link.py) in virtual time, and reference devices built
from their sim profiles."""

import asyncio
from pathlib import Path

import pytest

from harness.clock import VirtualClock, new_virtual_loop
from harness.profiles import load_dut_profile
from harness.sim.air import Air
from tests.unit.clients.conftest import link, loop, make_link  # noqa: F401 - re-exported fixtures

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def build():
    """build(cls, faults=()): a reference device of model class *cls* with *faults*, on its own virtual loop."""
    device_loop = new_virtual_loop()
    asyncio.set_event_loop(device_loop)
    devices = []

    def make(cls, faults=()):
        profile = load_dut_profile(ROOT / "profiles" / "dut" / f"sim-{cls.model}.yaml")
        device = cls(Air(channel=15, loop=device_loop), profile, VirtualClock(device_loop), tuple(faults))
        devices.append(device)
        return device

    yield make
    for device in devices:
        device.close()
    device_loop.run_until_complete(asyncio.sleep(0))  # lets cancelled tasks end
    device_loop.close()

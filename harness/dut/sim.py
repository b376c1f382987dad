"""DUT control of a reference device in simulation: the actions call the device directly."""

from __future__ import annotations

from harness.devices.base import ReferenceDevice

from .base import DutControl


class SimDutControl(DutControl):
    def __init__(self, device: ReferenceDevice, join_deadline: float = 60.0) -> None:
        self.device = device
        self.join_deadline = join_deadline

    async def factory_reset(self) -> None:
        self.device.factory_reset()

    async def start_joining(self) -> None:
        self.device.start_joining(self.join_deadline)

    async def start_rejoin(self) -> None:
        self.device.start_rejoin(self.join_deadline)

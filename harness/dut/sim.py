"""DUT control of a reference device in simulation: the actions call the device directly."""

from __future__ import annotations

from datetime import datetime

from harness.crypto.install_code import InstallCode
from harness.devices.base import ReferenceDevice

from .base import DutControl, DutControlError, ShownPrice


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

    async def power_off(self) -> None:
        self._powered("power off").power_off()

    async def power_on(self) -> None:
        self._powered("power on").power_on()

    def _powered(self, action: str):
        # Every reference device models its power (ReferenceDevice.power_off / power_on); a stand-in may not.
        if not hasattr(self.device, "power_off"):
            raise DutControlError(f"sim:{self.device.model} cannot {action}: it does not model its power")
        return self.device

    # A forming DUT's head-end actions, on a reference device that is a Trust Center (the reference ESI).

    def _trust_center(self, action: str):
        from harness.devices.esi import ReferenceEsi

        if not isinstance(self.device, ReferenceEsi):
            raise DutControlError(f"sim:{self.device.model} is no Trust Center: it cannot {action}")
        return self.device

    async def add_install_code(self, ieee: int, install_code: InstallCode) -> None:
        self._trust_center("take an install code").add_install_code(ieee, install_code)

    async def permit_joining(self, seconds: int) -> None:
        self._trust_center("open its permit-join window").permit_joining(seconds)

    async def update_network_key(self) -> None:
        self._trust_center("update the network key").update_network_key()

    async def remove_device(self, ieee: int) -> None:
        self._trust_center("remove a device").remove_device(ieee)

    # A user action on a device without the client for it is a bench error: the profile claims what it lacks.

    def _application(self, action: str):
        from harness.devices.application import ApplicationDevice

        if not isinstance(self.device, ApplicationDevice):
            raise DutControlError(f"sim:{self.device.model} has no user action {action!r}")
        return self.device

    async def opt_out(self, issuer_event_id: int) -> None:
        self._user_action("opt out", lambda d: d.opt_out(issuer_event_id))

    async def opt_in(self, issuer_event_id: int) -> None:
        self._user_action("opt in", lambda d: d.opt_in(issuer_event_id))

    @property
    def reads_actuation(self) -> bool:
        return callable(getattr(self.device, "actuation", None))

    async def read_actuation(self) -> dict[str, int]:
        if not self.reads_actuation:
            raise DutControlError(f"sim:{self.device.model} shows no actuation")
        return dict(self.device.actuation())  # type: ignore[attr-defined]

    @property
    def reads_local_time(self) -> bool:
        return callable(getattr(self.device, "shown_local_time", None))

    async def read_local_time(self) -> datetime | None:
        if not self.reads_local_time:
            raise DutControlError(f"sim:{self.device.model} shows no local time")
        return self.device.shown_local_time()  # type: ignore[attr-defined]

    @property
    def reads_current_price(self) -> bool:
        # A device shows a current price when it has a Price client (ApplicationDevice.shown_price).
        return callable(getattr(self.device, "shown_price", None)) and getattr(self.device, "price", None) is not None

    async def read_current_price(self) -> ShownPrice:
        if not self.reads_current_price:
            raise DutControlError(f"sim:{self.device.model} shows no price")
        at, issuer_event_id, price = self.device.shown_price()  # type: ignore[attr-defined]
        return ShownPrice(at=at, issuer_event_id=issuer_event_id, price=price)

    async def confirm_message(self, message_id: int) -> None:
        from harness.devices.application import UnsupportedUserAction

        try:
            await self._application("confirm message").confirm_message(message_id)
        except UnsupportedUserAction as exc:
            raise DutControlError(str(exc)) from None

    # -- an ESI's head end: its operator's actions on a reference device that carries the ESI's servers --------

    async def publish_price(self) -> None:
        self._operator("publish a price").publish_price()

    async def issue_event(self) -> None:
        self._operator("issue an event").issue_event()

    async def display_message(self) -> None:
        self._operator("display a message").display_message()

    def _operator(self, action: str):
        if not callable(getattr(self.device, "publish_price", None)):
            raise DutControlError(f"sim:{self.device.model} has no ESI head end to {action} on")
        return self.device

    def _user_action(self, action: str, act) -> None:
        # Whether the device knew the event is the DUT's business, judged on the air, not a bench error.
        from harness.devices.application import UnsupportedUserAction

        try:
            act(self._application(action))
        except UnsupportedUserAction as exc:
            raise DutControlError(str(exc)) from None

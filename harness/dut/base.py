"""The interface every DUT control driver offers to the steps."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime

from harness.crypto.install_code import InstallCode
from harness.errors import BenchFault


class DutControlError(BenchFault, RuntimeError):
    """The DUT could not be driven (serial timeout, disconnect, nobody at the prompt): a bench error."""

    retryable = True


@dataclass(frozen=True)
class ShownPrice:
    """What a device shows as its current price, read through its control interface (read_current_price)."""

    #: The device's own network time of the reading (ZCL UTC seconds): the second the price shown is for.
    at: int
    #: The IssuerEventID of the price shown as current; None while the device shows no current price.
    issuer_event_id: int | None
    #: Its Price field as published (raw, before the trailing digit), where the interface shows it.
    price: int | None = None


class DutControl(ABC):
    """Actions a test plan asks of the DUT; each returns once the action was *given*, not its outcome."""

    @abstractmethod
    async def factory_reset(self) -> None:
        """Forget the network, keys and application state."""

    @abstractmethod
    async def start_joining(self) -> None:
        """Start joining (the join button, or the CLI's join command)."""

    @abstractmethod
    async def start_rejoin(self) -> None:
        """Rejoin the network the DUT was on."""

    # -- user actions (issue 6): what a person does on the device; a driver that cannot ask for them says so --

    async def opt_out(self, issuer_event_id: int) -> None:
        """The user opts out of load control event *issuer_event_id*."""
        raise DutControlError(f"{type(self).__name__} cannot ask the user to opt out of an event")

    async def opt_in(self, issuer_event_id: int) -> None:
        """The user opts back into load control event *issuer_event_id*."""
        raise DutControlError(f"{type(self).__name__} cannot ask the user to opt into an event")

    async def confirm_message(self, message_id: int) -> None:
        """The user confirms message *message_id* on the display."""
        raise DutControlError(f"{type(self).__name__} cannot ask the user to confirm a message")

    # -- an ESI's head end (issue 19): what its operator does; the golden learns the ids from the ESI's answers ----

    async def publish_price(self) -> None:
        """The operator publishes a price to come (the ESI then holds it for Get Scheduled Prices)."""
        raise DutControlError(f"{type(self).__name__} cannot ask the ESI's operator to publish a price")

    async def issue_event(self) -> None:
        """The operator issues a load control event to come (the ESI then holds it for Get Scheduled Events)."""
        raise DutControlError(f"{type(self).__name__} cannot ask the ESI's operator to issue an event")

    async def display_message(self) -> None:
        """The operator sends a message to the home (the ESI then holds it for Get Last Message)."""
        raise DutControlError(f"{type(self).__name__} cannot ask the ESI's operator to display a message")

    # -- a DUT that forms the network and is its Trust Center (network.role: forms): its head end's or
    # installer's actions ---------------------------------------------------------------------------------------

    async def add_install_code(self, ieee: int, install_code: InstallCode) -> None:
        """The Trust Center takes *install_code* (with its CRC) for the device *ieee*: it derives that device's
        preconfigured link key from it and admits the device with it."""
        raise DutControlError(f"{type(self).__name__} cannot give the DUT's Trust Center an install code")

    async def permit_joining(self, seconds: int) -> None:
        """The Trust Center opens its permit-join window for *seconds* (0 closes it)."""
        raise DutControlError(f"{type(self).__name__} cannot open the DUT's permit-join window")

    async def update_network_key(self) -> None:
        """The Trust Center distributes a new network key and then switches the network to it."""
        raise DutControlError(f"{type(self).__name__} cannot ask the DUT's Trust Center to update the network key")

    async def remove_device(self, ieee: int) -> None:
        """The Trust Center removes the joined device *ieee* from the network."""
        raise DutControlError(f"{type(self).__name__} cannot ask the DUT's Trust Center to remove a device")

    # -- the device's own control interface (issue 18): what it applies, where the profile offers it ----------

    @property
    def reads_actuation(self) -> bool:
        """Whether :meth:`read_actuation` can work (the profile maps the device's control state)."""
        return False

    async def read_actuation(self) -> dict[str, int]:
        """What the device applies now, as its control interface shows it, by name: ``cooling_set_point`` and
        ``heating_set_point`` (0.01 degrees C) of a thermostat, ``duty_cycle`` (%) and
        ``average_load_adjustment`` (%) of a load switch; a device shows the names it has."""
        raise DutControlError(f"{type(self).__name__} cannot read the device's actuation")

    @property
    def reads_local_time(self) -> bool:
        """Whether :meth:`read_local_time` can work (the profile maps the device's shown local time)."""
        return False

    async def read_local_time(self) -> datetime | None:
        """The local date and time the device shows now (naive: the wall time on its display); None while it
        shows none."""
        raise DutControlError(f"{type(self).__name__} cannot read the local time the device shows")

    @property
    def reads_current_price(self) -> bool:
        """Whether :meth:`read_current_price` can work (the profile maps the device's shown current price)."""
        return False

    async def read_current_price(self) -> ShownPrice:
        """The price the device shows as current now, with the device's network time of the reading."""
        raise DutControlError(f"{type(self).__name__} cannot read the price the device shows")

    # -- power (an OpenSEG gateway's power cycle, TC-OSEG-4.2): a lab switches the DUT's supply ------------------

    async def power_off(self) -> None:
        """Cut the DUT's power (as pulling its plug does: no orderly shutdown)."""
        raise DutControlError(f"{type(self).__name__} cannot switch the DUT's power off")

    async def power_on(self) -> None:
        """Give the DUT its power back."""
        raise DutControlError(f"{type(self).__name__} cannot switch the DUT's power on")

    # -- diagnostics ------------------------------------------------------------------------------------------

    @property
    def reads_log(self) -> bool:
        """Whether :meth:`read_log` can work (the scenario's artifacts then get the DUT's own log)."""
        return False

    async def read_log(self) -> list[str]:
        """The DUT's own log lines (what it says it did), for a scenario's artifacts."""
        raise DutControlError(f"{type(self).__name__} cannot read the DUT's log")

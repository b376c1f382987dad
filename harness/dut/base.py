"""The interface every DUT control driver offers to the steps."""

from __future__ import annotations

from abc import ABC, abstractmethod


class DutControlError(RuntimeError):
    """The DUT could not be driven (serial timeout, disconnect, nobody at the prompt): a bench error."""


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

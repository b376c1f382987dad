"""Seeded non-conformances of reference devices.

A fault names the rule it breaks, the certification cases it must make fail (its targets: the fault matrix
self-test runs the suite once per fault and checks that exactly those cases fail), and what it seeds in the
device, as a typed value:

- a setting: a boolean field of a settings dataclass flipped from its conformant default, of the node's stack
  (``StackSetting``, harness.sim.behaviour.StackBehaviour), of the Key Establishment engine (``KeSetting``,
  harness.ke.faults.DeviceKeFaults), of an application client (``ClientSetting``) or of the OpenSEG server
  (``ServerSetting`` in openseg.py); a field that does not exist fails at import, in one line;
- garbage on the air or in a served document (``Garble`` and ``GarbleGreenButton`` in garbage.py);
- a ``Behaviour`` the device's own code branches on: it asks ``faults.has(FAULT)`` with the Fault constant
  imported from the catalogue module, so a misspelt fault is an import error.

The device derives its settings from the faults chosen (``FaultSet.settings``); an unknown fault name fails
when the options are parsed (``check_faults``), before any device is built.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from harness.devices.clients import (
    DrlcClientFaults,
    MessagingClientFaults,
    PriceClientFaults,
    TimeClientFaults,
)
from harness.ke.faults import DeviceKeFaults
from harness.sim.behaviour import StackBehaviour


class UnknownFaultError(ValueError):
    """--fault named a fault the reference device does not have."""


class FaultDeclarationError(TypeError):
    """A catalogue declares a fault whose seed cannot be applied (a setting that names no field)."""


class Seed:
    """What a fault does to the device: one of the kinds below, or a device's own (garbage.py, openseg.py)."""


@dataclass(frozen=True)
class Behaviour(Seed):
    """A behaviour the device's own code implements where it branches on ``faults.has(FAULT)``."""


@dataclass(frozen=True)
class Setting(Seed):
    """A boolean field of a settings dataclass that the fault flips from its conformant default."""

    field: str
    #: The settings dataclass this kind of setting names a field of.
    of: ClassVar[type]

    def settings_class(self) -> type:
        return self.of

    def __post_init__(self) -> None:
        cls = self.settings_class()
        flags = [f.name for f in dataclasses.fields(cls) if isinstance(f.default, bool)]
        if self.field not in flags:
            raise FaultDeclarationError(
                f"{self!r}: {cls.__name__} has no boolean field {self.field!r}; its fields: {', '.join(flags)}")


@dataclass(frozen=True)
class StackSetting(Setting):
    """A knob of the node's Zigbee stack (harness.sim.behaviour.StackBehaviour)."""

    of: ClassVar[type] = StackBehaviour


@dataclass(frozen=True)
class KeSetting(Setting):
    """A way the device's Key Establishment gets CBKE wrong (harness.ke.faults.DeviceKeFaults)."""

    of: ClassVar[type] = DeviceKeFaults


#: The application clients a ClientSetting can name, with the faults dataclass of each.
CLIENT_SETTINGS: Mapping[str, type] = {
    "drlc": DrlcClientFaults, "price": PriceClientFaults, "messaging": MessagingClientFaults, "time": TimeClientFaults,
}


@dataclass(frozen=True, kw_only=True)
class ClientSetting(Setting):
    """A field of one application client's faults dataclass (harness.devices.clients)."""

    client: str

    def settings_class(self) -> type:
        if self.client not in CLIENT_SETTINGS:
            raise FaultDeclarationError(f"{self!r}: no client {self.client!r}; the clients: "
                                        f"{', '.join(CLIENT_SETTINGS)}")
        return CLIENT_SETTINGS[self.client]


@dataclass(frozen=True)
class Fault:
    name: str
    breaks: str  # the rule, in a reader's words
    targets: tuple[str, ...]  # case keys that must fail: "TC-JOIN-1.4", or "TC-ATTR-1.2[Basic]" for an example
    seeds: Seed  # what it does to the device

    def __post_init__(self) -> None:
        if not isinstance(self.seeds, Seed):
            raise FaultDeclarationError(f"fault {self.name!r} seeds {self.seeds!r}, which is no Seed (harness/devices"
                                        f"/faults.py)")

    def aimed_at(self, *targets: str) -> Fault:
        """The same fault with the targets a model's cases give it (the cases each model runs differ)."""
        return dataclasses.replace(self, targets=targets)


S = TypeVar("S", bound=Seed)
T = TypeVar("T")


class FaultSet:
    """The faults a device was built with, and what they seed."""

    def __init__(self, faults: Iterable[Fault] = ()) -> None:
        # By name, so several garbage faults rewrite a frame in one order whatever the command line's.
        self.faults: tuple[Fault, ...] = tuple(sorted(faults, key=lambda fault: fault.name))
        self.names = frozenset(fault.name for fault in self.faults)

    def __bool__(self) -> bool:
        return bool(self.faults)

    def __repr__(self) -> str:
        return f"FaultSet({', '.join(sorted(self.names))})"

    def has(self, fault: Fault) -> bool:
        """Whether the device has *fault*, a Behaviour its own code implements (settings are derived instead)."""
        if not isinstance(fault, Fault) or not isinstance(fault.seeds, Behaviour):
            raise TypeError(f"has() takes a Behaviour fault constant from the catalogue, not {fault!r}")
        return fault.name in self.names

    def seeds(self, kind: type[S]) -> list[S]:
        """The seeds of this kind, in the faults' order."""
        return [fault.seeds for fault in self.faults if isinstance(fault.seeds, kind)]

    def settings(self, cls: type[T]) -> T:
        """The settings dataclass *cls* as the faults leave it: conformant defaults, with each field a Setting
        names flipped."""
        defaults: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        flipped = {s.field: not defaults[s.field] for s in self.seeds(Setting) if s.settings_class() is cls}
        return cls(**flipped)


def select_faults(model: str, names: Iterable[str], catalogue: Mapping[str, Fault]) -> FaultSet:
    """The faults --fault names for sim:*model*; an unknown name fails with one line."""
    names = list(names)
    unknown = [n for n in names if n not in catalogue]
    if unknown:
        raise UnknownFaultError(
            f"--fault {unknown[0]!r} is not a fault of sim:{model}; --list-faults prints the catalogue "
            f"({', '.join(sorted(catalogue))})"
        )
    return FaultSet(catalogue[n] for n in dict.fromkeys(names))


def check_faults(model: str, names: tuple[str, ...] | list[str], catalogue: Mapping[str, Fault]) -> frozenset[str]:
    """The option check (harness.plugin): the names, once each are known faults of the model."""
    return select_faults(model, names, catalogue).names

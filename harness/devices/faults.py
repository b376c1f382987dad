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

Where a fault can act is recorded, not assumed (``FaultTouches``, ``--record-fault-touches``): a device consults
a fault only through ``has``, a field of a settings dataclass from ``settings``, or ``seeds``; a case whose
conformant run consulted none of what a fault seeds runs the same with the fault, since the bench and the device
draw their randomness case by case. The fault matrix reads this to run each fault on the cases it can reach.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
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

    #: Whether the code applying seeds of this kind records where each seed of the catalogue would act
    #: (``FaultSet.watch``: a frame it would rewrite), beside the ``seeds`` call every kind records.
    watched: ClassVar[bool] = False


@dataclass(frozen=True)
class Behaviour(Seed):
    """A behaviour the device's own code implements where it branches on ``faults.has(FAULT)``."""


@dataclass(frozen=True)
class WatchedBehaviour(Behaviour):
    """A Behaviour whose code says where it would act (``FaultSet.acts``): a recording run notes each time the
    device passes there, rather than each time it asks."""

    watched: ClassVar[bool] = True


@dataclass(frozen=True)
class AttributeBehaviour(WatchedBehaviour):
    """A WatchedBehaviour of the device's attribute table: a recording run notes each access to an attribute a
    fault of the catalogue would alter (``AttributeStore.watch``)."""


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


# -- where faults can act: consultations recorded case by case -------------------------------------------------

#: A consultation of the fault set as a whole (``bool(faults)``): every fault may act there.
ANY = "any"


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


class FaultTouches:
    """What a run's reference device consulted of its fault set, case by case: tokens ``has:<fault>``,
    ``setting:<dataclass>.<field>``, ``seeds:<kind>`` and ``any``. Consultations outside any case and outside
    the identification count for every case."""

    def __init__(self) -> None:
        self.case: str | None = None
        self.everywhere: set[str] = set()
        self.by_case: dict[str, set[str]] = {}

    def touch(self, token: str) -> None:
        (self.everywhere if self.case is None else self.by_case.setdefault(self.case, set())).add(token)

    def as_json(self) -> dict[str, Any]:
        return {"everywhere": sorted(self.everywhere),
                "cases": {case: sorted(tokens) for case, tokens in sorted(self.by_case.items())}}


#: The recorder of this run (the pytest layer sets it for --record-fault-touches); None: nothing is recorded.
RECORDER: FaultTouches | None = None


#: What the device consults while the bench reads its identity (once per run, on a device of its own): it
#: counts for no case, since the identity is judged for the run as a whole (harness.results.assess).
IDENTIFICATION = "(identification)"


@contextlib.contextmanager
def identification() -> Iterator[None]:
    """The bench reads the DUT's identity meanwhile: what the device consults is recorded apart."""
    case = RECORDER.case if RECORDER is not None else None
    if RECORDER is not None:
        RECORDER.case = IDENTIFICATION
    try:
        yield
    finally:
        if RECORDER is not None:
            RECORDER.case = case


def _touch(token: str) -> None:
    if RECORDER is not None:
        RECORDER.touch(token)


def seed_tokens(fault: Fault) -> frozenset[str]:
    """The consultations through which *fault* can change what its device does."""
    seed = fault.seeds
    if isinstance(seed, Behaviour):
        tokens = {ANY, f"has:{fault.name}"}
    elif isinstance(seed, Setting):
        tokens = {ANY, f"setting:{_name(seed.settings_class())}.{seed.field}"}
    else:
        tokens = {ANY} | {f"seeds:{_name(kind)}" for kind in type(seed).__mro__
                          if issubclass(kind, Seed) and kind is not Seed}
    if seed.watched:
        tokens.add(f"acts:{fault.name}")
    return frozenset(tokens)


def reached_cases(fault: Fault, touches: Mapping[str, Any]) -> set[str] | None:
    """The cases whose run (as recorded by FaultTouches.as_json) consulted what *fault* seeds; None when a
    consultation outside any case makes every case reachable."""
    tokens = seed_tokens(fault)
    if tokens & set(touches["everywhere"]):
        return None
    return {case for case, consulted in touches["cases"].items() if case != IDENTIFICATION and tokens & set(consulted)}


@functools.cache
def _recording_class(cls: type) -> type:
    """*cls* with every read of a field recorded as a consultation (only while a run records)."""
    fields = frozenset(f.name for f in dataclasses.fields(cls))
    prefix = f"setting:{_name(cls)}."

    def __getattribute__(self: object, name: str) -> Any:
        if name in fields:
            _touch(prefix + name)
        return object.__getattribute__(self, name)

    return type(cls.__name__, (cls,), {"__getattribute__": __getattribute__, "__module__": cls.__module__,
                                       "__qualname__": cls.__qualname__})


def _recording(cls: type[T], settings: T) -> T:
    recording_class: type = _recording_class(cls)  # type: ignore[arg-type]  # a class is hashable
    recorded: T = object.__new__(recording_class)
    for field in dataclasses.fields(settings):  # type: ignore[arg-type]
        object.__setattr__(recorded, field.name, object.__getattribute__(settings, field.name))
    return recorded


class FaultSet:
    """The faults a device was built with, and what they seed. Each consultation is recorded while a run
    records (FaultTouches)."""

    def __init__(self, faults: Iterable[Fault] = (), catalogue: Mapping[str, Fault] | None = None) -> None:
        # By name, so several garbage faults rewrite a frame in one order whatever the command line's.
        self.faults: tuple[Fault, ...] = tuple(sorted(faults, key=lambda fault: fault.name))
        self.names = frozenset(fault.name for fault in self.faults)
        self.catalogue: Mapping[str, Fault] = catalogue or {}

    def __bool__(self) -> bool:
        _touch(ANY)
        return bool(self.faults)

    def __repr__(self) -> str:
        return f"FaultSet({', '.join(sorted(self.names))})"

    def has(self, fault: Fault) -> bool:
        """Whether the device has *fault*, a Behaviour its own code implements (settings are derived instead)."""
        if not isinstance(fault, Fault) or not isinstance(fault.seeds, Behaviour):
            raise TypeError(f"has() takes a Behaviour fault constant from the catalogue, not {fault!r}")
        _touch(f"has:{fault.name}")
        return fault.name in self.names

    def seeds(self, kind: type[S]) -> list[S]:
        """The seeds of this kind, in the faults' order."""
        _touch(f"seeds:{_name(kind)}")
        return self._seeds(kind)

    def watch(self, kind: type[S]) -> list[tuple[Fault, Callable[[], None]]] | None:
        """While a run records (FaultTouches): every fault of the catalogue that seeds a watched *kind*, each with
        what to call where it would act; None otherwise, or when the catalogue is unknown."""
        if RECORDER is None or not kind.watched or not self.catalogue:
            return None
        watched = [fault for fault in self.catalogue.values() if isinstance(fault.seeds, kind)]
        return [(fault, functools.partial(_touch, f"acts:{fault.name}")) for fault in watched]

    def acts(self, fault: Fault, watch: Callable[[Callable[[], None]], None]) -> bool:
        """Whether the device has *fault*, a WatchedBehaviour; while a run records, *watch* gets what to call
        each time the device passes where the fault would act, and the fault counts as consulted only there."""
        if not isinstance(fault.seeds, WatchedBehaviour):
            raise TypeError(f"acts() takes a WatchedBehaviour fault constant, not {fault!r}")
        if RECORDER is not None:
            watch(functools.partial(_touch, f"acts:{fault.name}"))
            return fault.name in self.names
        return self.has(fault)

    def _seeds(self, kind: type[S]) -> list[S]:
        return [fault.seeds for fault in self.faults if isinstance(fault.seeds, kind)]

    def settings(self, cls: type[T]) -> T:
        """The settings dataclass *cls* as the faults leave it: conformant defaults, with each field a Setting
        names flipped."""
        defaults: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        flipped = {s.field: not defaults[s.field] for s in self._seeds(Setting) if s.settings_class() is cls}
        settings = cls(**flipped)
        return settings if RECORDER is None else _recording(cls, settings)


def select_faults(model: str, names: Iterable[str], catalogue: Mapping[str, Fault]) -> FaultSet:
    """The faults --fault names for sim:*model*; an unknown name fails with one line."""
    names = list(names)
    unknown = [n for n in names if n not in catalogue]
    if unknown:
        raise UnknownFaultError(
            f"--fault {unknown[0]!r} is not a fault of sim:{model}; --list-faults prints the catalogue "
            f"({', '.join(sorted(catalogue))})"
        )
    return FaultSet((catalogue[n] for n in dict.fromkeys(names)), catalogue)


def check_faults(model: str, names: tuple[str, ...] | list[str], catalogue: Mapping[str, Fault]) -> frozenset[str]:
    """The option check (harness.plugin): the names, once each are known faults of the model."""
    return select_faults(model, names, catalogue).names

"""The reference devices a run can pick with ``--dut sim:<model>``."""

from __future__ import annotations

from .appliance import SmartAppliance
from .base import ReferenceDevice
from .esi import ReferenceEsi
from .ihd import InHomeDisplay
from .ihd_ember import EmberInHomeDisplay
from .lcd import LoadControlDevice
from .meter import ElectricMeter
from .openseg import OpenSegGateway
from .pct import ProgrammableThermostat

MODELS: dict[str, type[ReferenceDevice]] = {cls.model: cls for cls in (
    InHomeDisplay, ProgrammableThermostat, LoadControlDevice, SmartAppliance, OpenSegGateway,
    # The IHD on an EmberZNet-like stack (refuses unprotected SE commands by Default Response): must pass too.
    EmberInHomeDisplay,
    # The utility side as DUT (issue 19): a meter that joins the ESI's network and serves Simple Metering.
    ElectricMeter,
    # The ESI: it forms the network and is the Trust Center (its profile's network.role: forms).
    ReferenceEsi,
)}

"""Which modules are the reference devices' own behaviour, and which reference devices execute each.

Only code that a reference device runs and the judging side does not: a mutant there changes what the device
under test does, never what the harness expects. Fault declarations (faults.py, application_faults.py,
garbage.py, catalogue.py) are left out: their code runs only when a fault is seeded, so in a conformant run
every mutant of theirs would be equivalent.
"""

from __future__ import annotations

#: Every reference device, in the order a mutant is tried against them (the first verdict that is not
#: CONFORMANT kills it, so the quickest devices come first).
ALL_MODELS: tuple[str, ...] = ("appliance", "ihd", "pct", "lcd", "ihd-ember", "openseg", "meter", "esi")
#: The HAN devices, which run the application clients (the meter and the ESI run servers instead,
#: harness/devices/servers).
CLIENT_MODELS: tuple[str, ...] = ("appliance", "ihd", "pct", "lcd", "ihd-ember", "openseg")

#: Module (path under the repository) -> the reference devices that execute it.
TARGETS: dict[str, tuple[str, ...]] = {
    "harness/devices/base.py": ALL_MODELS,
    "harness/devices/application.py": CLIENT_MODELS,
    "harness/devices/foundation.py": ALL_MODELS,
    "harness/devices/clients/common.py": CLIENT_MODELS,
    "harness/devices/clients/drlc.py": CLIENT_MODELS,
    "harness/devices/clients/price.py": CLIENT_MODELS,
    "harness/devices/clients/messaging.py": CLIENT_MODELS,
    "harness/devices/clients/time.py": CLIENT_MODELS,
    "harness/devices/ihd.py": ("ihd", "ihd-ember"),
    "harness/devices/ihd_ember.py": ("ihd-ember",),
    "harness/devices/pct.py": ("pct", "lcd"),
    "harness/devices/lcd.py": ("lcd",),
    "harness/devices/appliance.py": ("appliance",),
    "harness/devices/openseg.py": ("openseg",),
    "harness/devices/esi.py": ("esi",),
    "harness/devices/esi_trust_center.py": ("esi",),
    "harness/openseg/server.py": ("openseg",),
    "harness/openseg/cache.py": ("openseg",),
    "harness/devices/servers/base.py": ("meter", "esi"),
    "harness/devices/servers/host.py": ("meter", "esi"),
    "harness/devices/servers/metering.py": ("meter", "esi"),
    "harness/devices/servers/time.py": ("esi",),
    "harness/devices/servers/price.py": ("esi",),
    "harness/devices/servers/drlc.py": ("esi",),
    "harness/devices/servers/messaging.py": ("esi",),
    "harness/devices/meter.py": ("meter",),
}


def models_for(module: str) -> tuple[str, ...]:
    """The reference devices a mutant of *module* is judged on."""
    return TARGETS[module]

"""The reference devices a run can pick with ``--dut sim:<model>``."""

from __future__ import annotations

from .base import ReferenceDevice
from .ihd import InHomeDisplay

MODELS: dict[str, type[ReferenceDevice]] = {cls.model: cls for cls in (InHomeDisplay,)}

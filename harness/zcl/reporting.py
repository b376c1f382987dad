"""Attribute reporting: configurations received by Configure Reporting and the report schedule.

Timing follows ZCL 07-5123 2.5.7/2.5.11: a report is due every max interval (0 = no periodic reports,
0xFFFF = reporting off), and on a change (any change for discrete types, at least the reportable change for
analog ones) but never sooner than min interval after the previous report. Time comes from the asyncio
loop (virtual in simulation), never from sleeps. Reports go to the device that configured reporting: the
engine keeps no binding table.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable

from zigpy.types import AddrModeAddress
from zigpy.zcl.foundation import Analog, DataType, DataTypeId

from harness.zcl.store import AttributeKey, AttributeValue

REPORTING_OFF = 0xFFFF


@dataclasses.dataclass
class ReportingConfig:
    key: AttributeKey
    type_id: int
    min_interval: int
    max_interval: int
    reportable_change: int | None  # analog types only
    destination: AddrModeAddress
    destination_endpoint: int
    last_report: float | None = None
    last_value: AttributeValue | None = None
    timer: asyncio.TimerHandle | None = None

    @property
    def is_analog(self) -> bool:
        try:
            return DataType.from_type_id(DataTypeId(self.type_id)).type_class is Analog
        except ValueError:
            return False


class ReportScheduler:
    """Keeps reporting configurations and calls `send_report(config)` when a report is due."""

    def __init__(self, send_report: Callable[[ReportingConfig], None]) -> None:
        self._send_report = send_report
        self._configs: dict[AttributeKey, ReportingConfig] = {}

    def get(self, key: AttributeKey) -> ReportingConfig | None:
        return self._configs.get(key)

    def configure(self, config: ReportingConfig, current_value: AttributeValue) -> None:
        self.remove(config.key)
        if config.max_interval == REPORTING_OFF:
            return
        config.last_value = current_value
        self._configs[config.key] = config
        # ZCL: a newly configured attribute reports promptly, then on its schedule.
        self._schedule(config, 0.0)

    def remove(self, key: AttributeKey) -> None:
        old = self._configs.pop(key, None)
        if old and old.timer:
            old.timer.cancel()

    def close(self) -> None:
        for key in list(self._configs):
            self.remove(key)

    def value_changed(self, key: AttributeKey, new_value: AttributeValue) -> None:
        config = self._configs.get(key)
        if config is None or not self._significant(config, new_value):
            return
        now = asyncio.get_running_loop().time()
        earliest = 0.0 if config.last_report is None else config.last_report + config.min_interval - now
        self._schedule(config, max(0.0, earliest))

    def _significant(self, config: ReportingConfig, new_value: AttributeValue) -> bool:
        if config.is_analog and isinstance(new_value, int) and isinstance(config.last_value, int):
            return abs(new_value - config.last_value) >= max(1, int(config.reportable_change or 0))
        return new_value != config.last_value

    def _schedule(self, config: ReportingConfig, delay: float) -> None:
        if config.timer:
            config.timer.cancel()
        config.timer = asyncio.get_running_loop().call_later(delay, self._fire, config)

    def _fire(self, config: ReportingConfig) -> None:
        if self._configs.get(config.key) is not config:
            return
        config.last_report = asyncio.get_running_loop().time()
        config.timer = None
        self._send_report(config)
        if config.max_interval:
            self._schedule(config, float(config.max_interval))

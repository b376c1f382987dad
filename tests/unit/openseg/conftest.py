"""What the OpenSEG unit tests share: the reference gateway's API served on loopback from a virtual-time loop,
over a cache each test fills as it needs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from harness.clock import VirtualClock, new_virtual_loop
from harness.openseg.cache import ReadingCache
from harness.openseg.network import HomeNetwork
from harness.openseg.server import GatewayApi, MeterInfo, ServerFaults

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z


class GatewayData:
    """The gateway's side the API serves: a meter, a 48-hour cache and the bench clock's time."""

    read_interval = 4.0

    def __init__(self, clock: VirtualClock):
        self.clock = clock
        self.cache = ReadingCache(48 * 3600)

    def meter_info(self) -> MeterInfo:
        return MeterInfo("00:12:4B:00:00:C0:FF:EE", 0, 5, 10_000, 0xBC, 0xAC, 0)

    def now_unix(self) -> float:
        return self.clock.now().timestamp()

    def utility_events(self) -> list:
        return []


@dataclass
class ServedGateway:
    loop: asyncio.AbstractEventLoop
    data: GatewayData
    start: Callable[[ServerFaults | None], tuple[GatewayApi, str]]  # an API listening on loopback, and its URL


@pytest.fixture
def gateway() -> Iterator[ServedGateway]:
    loop = new_virtual_loop()
    asyncio.set_event_loop(loop)
    data = GatewayData(VirtualClock(loop, datetime.fromtimestamp(T0, UTC)))
    apis: list[GatewayApi] = []

    def start(faults: ServerFaults | None = None) -> tuple[GatewayApi, str]:
        api = GatewayApi(data, HomeNetwork(["127.0.0.1/32"]), None, faults)
        apis.append(api)
        port = loop.run_until_complete(api.start("127.0.0.1"))
        return api, f"http://127.0.0.1:{port}"

    yield ServedGateway(loop, data, start)
    for api in apis:
        loop.run_until_complete(api.close())
    loop.close()

"""Two ZclEngines with KeyEstablishment endpoints over an in-memory link, on a virtual-time loop.

The link delivers each packet to the peer after a small latency with the sender's NWK address as source,
keeps APS_Encryption in tx_options, and models APS acks: when the receiver withholds them (the golden's
test hook), the sender's send fails after the APS retries, as the simulated stack's does.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from random import Random

import pytest
import zigpy.types as t

from harness.clock import new_virtual_loop
from harness.crypto import TestCA
from harness.ke import DeviceKeFaults, GoldenKeFaults, KeTiming, KeyEstablishment, SoftwareKeEngine
from harness.zcl import ZclEngine

GOLDEN_NWK, DEVICE_NWK, OTHER_NWK = 0x0000, 0x4A21, 0x5B32
GOLDEN_IEEE, DEVICE_IEEE, OTHER_IEEE = 0x00124B0000C0FFEE, 0x0022A30000000002, 0x0022A30000000003
ENDPOINT = 1
LATENCY = 0.004
APS_FAILURE_AFTER = 6.0  # 1 + 3 retries of apsAckWaitDuration 1.5 s


class DeliveryFailed(ConnectionError):
    pass


@dataclass
class Party:
    link: Link
    nwk: int
    ieee: int
    zcl: ZclEngine = field(init=False)
    ke: KeyEstablishment | None = None
    keys: dict[int, bytes] = field(default_factory=dict)
    acks: bool = True
    sent: list[t.ZigbeePacket] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.zcl = ZclEngine(self.send)

    async def send(self, packet: t.ZigbeePacket) -> None:
        self.sent.append(packet)
        peer = self.link.peer(int(packet.dst.address))
        received = t.ZigbeePacket(
            src=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=t.NWK(self.nwk)),
            src_ep=packet.src_ep, dst=packet.dst, dst_ep=packet.dst_ep, tsn=packet.tsn,
            profile_id=packet.profile_id, cluster_id=packet.cluster_id, data=packet.data,
            tx_options=packet.tx_options & t.TransmitOptions.APS_Encryption,
        )
        loop = asyncio.get_running_loop()
        loop.call_later(LATENCY, lambda: self.link.spawn(peer.receive(received)))
        if packet.tx_options & t.TransmitOptions.ACK:
            if not peer.acks:
                await asyncio.sleep(APS_FAILURE_AFTER)
                raise DeliveryFailed(f"no APS ack from 0x{peer.nwk:04X}")
            await asyncio.sleep(2 * LATENCY)  # the APS ack's round trip

    async def receive(self, packet: t.ZigbeePacket) -> None:
        if self.ke is not None:
            await self.ke.handle(packet)
        else:
            await self.zcl.handle(packet)

    def set_acks(self, on: bool) -> None:
        self.acks = on

    def attach(self, engine: SoftwareKeEngine, **kwargs) -> KeyEstablishment:
        kwargs.setdefault("timing", KeTiming())
        self.ke = KeyEstablishment(
            self.zcl, ENDPOINT, engine, send=self.send, ieee_of=self.link.ieee_of,
            install_key=self.keys.__setitem__, set_aps_acks=self.set_acks, **kwargs,
        )
        return self.ke


class Link:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.parties: dict[int, Party] = {}
        self.tasks: set[asyncio.Task] = set()

    def add(self, nwk: int, ieee: int) -> Party:
        party = Party(self, nwk, ieee)
        self.parties[nwk] = party
        return party

    def peer(self, nwk: int) -> Party:
        return self.parties[nwk]

    def ieee_of(self, nwk: int) -> int | None:
        party = self.parties.get(nwk)
        return party.ieee if party else None

    def spawn(self, coro) -> None:
        task = self.loop.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def run(self, coro, deadline: float = 600.0):
        async def bounded():
            async with asyncio.timeout(deadline):
                return await coro
        return self.loop.run_until_complete(bounded())

    def settle(self, seconds: float = 1.0) -> None:
        self.loop.run_until_complete(asyncio.sleep(seconds))


@pytest.fixture(scope="session")
def ca() -> TestCA:
    return TestCA.generate(Random(0xCB4E))


@pytest.fixture(scope="session")
def identities(ca):
    """Certificates are costly to mint: once per session for every identity the tests use."""
    rng = Random(7)
    return {
        (ieee, suite): ca.issue(ieee, suite, rng=rng)
        for ieee in (GOLDEN_IEEE, DEVICE_IEEE, OTHER_IEEE)
        for suite in (1, 2)
    }


def make_engine(ca, identities, ieee: int, suites=(1,), seed: int = 1, **kwargs) -> SoftwareKeEngine:
    return SoftwareKeEngine(
        {s: ca.public_key_bytes(s) for s in suites}, {s: identities[(ieee, s)] for s in suites},
        rng=Random(seed), **kwargs,
    )


@pytest.fixture
def loop():
    loop = new_virtual_loop()
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.set_event_loop(None)
    loop.close()


@pytest.fixture
def link(loop):
    return Link(loop)


@dataclass
class Pair:
    link: Link
    golden: Party
    device: Party

    @property
    def gke(self) -> KeyEstablishment:
        assert self.golden.ke is not None
        return self.golden.ke

    @property
    def dke(self) -> KeyEstablishment:
        assert self.device.ke is not None
        return self.device.ke

    def establish(self, **kwargs):
        """The device initiates with the golden. Afterwards a moment passes: the responder installs its key
        once its Confirm Key response is acknowledged, which is just after the initiator has finished."""
        outcome = self.link.run(self.dke.establish(GOLDEN_NWK, ENDPOINT, **kwargs))
        self.link.settle(0.1)
        return outcome


@pytest.fixture
def pair_factory(link, ca, identities):
    def build(
        golden: GoldenKeFaults | None = None,
        device: DeviceKeFaults | None = None,
        golden_suites=(1,),
        device_suites=(1,),
        golden_timing: KeTiming | None = None,
        device_timing: KeTiming | None = None,
        device_engine: SoftwareKeEngine | None = None,
    ) -> Pair:
        g = link.add(GOLDEN_NWK, GOLDEN_IEEE)
        d = link.add(DEVICE_NWK, DEVICE_IEEE)
        g.attach(make_engine(ca, identities, GOLDEN_IEEE, golden_suites, seed=11), golden=golden or GoldenKeFaults(),
                 timing=golden_timing or KeTiming())
        d.attach(device_engine or make_engine(ca, identities, DEVICE_IEEE, device_suites, seed=22),
                 device=device or DeviceKeFaults(),
                 timing=device_timing or KeTiming())
        return Pair(link, g, d)

    return build

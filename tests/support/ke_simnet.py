"""A ready-made simulated SE network for CBKE: the golden ControllerApplication (Trust Center and an ESI
endpoint with the KE state machine as responder) and one device Node that joins with its install code,
finds the KE server with Match_Desc (profile 0x0109, cluster 0x0800) and runs CBKE as initiator.

Used by the KE integration tests and benchmark, and a worked example of wiring the state machine to the
golden radio (through zigpy's send_packet) and to a simulated device. Identities are public test values.
"""

from __future__ import annotations

import asyncio
import itertools
from random import Random

import zigpy.types as t
import zigpy.zdo.types as zdo_t
from zigpy.zdo.types import ZDOCmd

from harness.crypto import InstallCode, TestCA
from harness.ke.engine import SoftwareKeEngine
from harness.ke.events import KeOutcome
from harness.ke.faults import DeviceKeFaults, GoldenKeFaults, device_engine
from harness.ke.sim import aps_ack_switch, attach, ieee_resolver, route_packets
from harness.ke.state_machine import KeTiming, KeyEstablishment, RetryPolicy
from harness.radio.sim import ControllerApplication, register_air, sim_config, unregister_air
from harness.se.datamodel import Side
from harness.sim import zdo
from harness.sim.air import Air, AirFrame
from harness.sim.node import Node, Role
from harness.wire.frames.types import ieee_to_eui64
from harness.zcl import ZclEngine

INSTALL_CODE = InstallCode.parse("83FED3407A939723A5C639B26916D505C3B5")  # the public SE test install code
NETWORK_KEY = bytes.fromhex("01030507090B0D0F00020406080A0C0D")
COORDINATOR_IEEE = 0x00124B0000C0FFEE
DEVICE_IEEE = 0x0022A30000000002
SE_PROFILE = 0x0109
ESI_ENDPOINT = 1
DEVICE_ENDPOINT = 1
CHANNEL = 20
_names = itertools.count()
_CA: TestCA | None = None
_ENGINES: dict[tuple, SoftwareKeEngine] = {}


def bench_ca() -> TestCA:
    global _CA
    if _CA is None:
        _CA = TestCA.generate(Random(0x5EC))
    return _CA


def engine_for(ieee: int, suites: tuple[int, ...], faults: DeviceKeFaults | None = None) -> SoftwareKeEngine:
    """Engines (certificate minting is the costly part) are reused across networks; they hold no exchange state."""
    key = (ieee, suites, bool(faults and faults.foreign_subject))
    if key not in _ENGINES:
        _ENGINES[key] = device_engine(bench_ca(), ieee, suites, faults or DeviceKeFaults(), rng=Random(ieee & 0xFFFF))
    return _ENGINES[key]


class KeNet:
    def __init__(self, loop: asyncio.AbstractEventLoop, *, golden: GoldenKeFaults | None = None,
                 device: DeviceKeFaults | None = None, golden_suites=(1,), device_suites=(1,),
                 golden_timing: KeTiming | None = None) -> None:
        self.loop = loop
        self.air = Air(channel=CHANNEL, seed=7, loop=loop)
        self.frames: list[AirFrame] = []
        self.air.add_sniffer(self.frames.append)
        self.name = f"ke-{next(_names)}"
        self.path = register_air(self.name, self.air)
        self.golden_faults = golden or GoldenKeFaults()
        self.device_faults = device or DeviceKeFaults()
        self.golden_suites, self.device_suites = tuple(golden_suites), tuple(device_suites)
        self.golden_timing = golden_timing or KeTiming()
        self.app: ControllerApplication | None = None
        self.gke: KeyEstablishment | None = None
        self.gzcl: ZclEngine | None = None
        self.device = Node(self.air, DEVICE_IEEE, Role.END_DEVICE, tc_link_key=INSTALL_CODE.link_key)
        self.device.add_endpoint(zdo_t.SimpleDescriptor(
            endpoint=DEVICE_ENDPOINT, profile=SE_PROFILE, device_type=0x0507, device_version=0,
            input_clusters=[0x0000, 0x0800, 0x0702], output_clusters=[0x0800, 0x0700]))
        self.dzcl = ZclEngine(self.device.send_packet)
        self.dzcl.store.add_cluster(DEVICE_ENDPOINT, 0x0702, Side.SERVER, values={0x0000: 424242})
        self.dke, _ = attach(self.device, self.dzcl, DEVICE_ENDPOINT,
                             engine_for(DEVICE_IEEE, self.device_suites, self.device_faults),
                             device=self.device_faults)

    async def start(self) -> None:
        config = sim_config(self.path, channel=CHANNEL, pan_id=0x1A62, extended_pan_id="dd:dd:dd:dd:dd:dd:dd:dd",
                            network_key=NETWORK_KEY, coordinator_ieee=COORDINATOR_IEEE)
        self.app = await ControllerApplication.new(config, auto_form=True)
        node = self.app.node
        node.add_endpoint(zdo_t.SimpleDescriptor(
            endpoint=ESI_ENDPOINT, profile=SE_PROFILE, device_type=0x0500, device_version=0,
            input_clusters=[0x0000, 0x0800], output_clusters=[0x0800, 0x0702]))
        self.gzcl = ZclEngine(self.app.send_packet)
        self.gke = KeyEstablishment(
            self.gzcl, ESI_ENDPOINT, engine_for(COORDINATOR_IEEE, self.golden_suites), send=self.app.send_packet,
            ieee_of=ieee_resolver(node), install_key=node.set_link_key, set_aps_acks=aps_ack_switch(node),
            golden=self.golden_faults, timing=self.golden_timing,
        )
        route_packets(node, self.gke)

    async def join(self) -> None:
        await self.app.permit_with_link_key(ieee_to_eui64(DEVICE_IEEE), t.KeyData(INSTALL_CODE.link_key), 60)
        await self.device.join(deadline=30)

    async def match_key_establishment_server(self, timeout: float = 5.0) -> tuple[int, list[int]]:
        """Match_Desc_req to the coordinator for profile 0x0109, input cluster 0x0800; (nwk, endpoints)."""
        answer: asyncio.Future = self.loop.create_future()

        def listener(packet: t.ZigbeePacket) -> None:
            if packet.profile_id == 0 and packet.cluster_id == ZDOCmd.Match_Desc_rsp and not answer.done():
                answer.set_result(packet)

        remove = self.device.add_packet_listener(listener)
        try:
            request = zdo.encode(ZDOCmd.Match_Desc_req, 0x42, t.NWK(0x0000), SE_PROFILE, [0x0800], [])
            await self.device.send_packet(t.ZigbeePacket(
                src_ep=0, dst=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=t.NWK(0x0000)), dst_ep=0,
                profile_id=0, cluster_id=ZDOCmd.Match_Desc_req, data=t.SerializableBytes(request),
                tx_options=t.TransmitOptions.NONE))
            async with asyncio.timeout(timeout):
                packet = await answer
        finally:
            remove()
        _tsn, (status, nwk, endpoints) = zdo.decode(ZDOCmd.Match_Desc_rsp, packet.data.serialize())
        assert status == zdo_t.Status.SUCCESS
        return int(nwk), [int(e) for e in endpoints]

    async def cbke(self, retry: RetryPolicy | None = None, suite: int | None = None) -> KeOutcome:
        """Join, find the KE server, establish; let the responder's last APS ack land."""
        await self.start()
        await self.join()
        nwk, endpoints = await self.match_key_establishment_server()
        outcome = await self.dke.establish(nwk, endpoints[0], retry=retry or RetryPolicy(), suite=suite)
        await asyncio.sleep(0.5)
        return outcome

    async def close(self) -> None:
        self.dke.close()
        if self.gke is not None:
            self.gke.close()
        if self.app is not None:
            await self.app.shutdown()
        unregister_air(self.name)

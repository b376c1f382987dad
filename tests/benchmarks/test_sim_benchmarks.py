"""Benchmarks of the simulated network (run only when tests/benchmarks is named).

- secured APS data frames per second end to end between two nodes: ZCL bytes -> APS frame -> APS
  security (link key) -> NWK frame -> NWK security -> MAC frame + FCS -> air -> FCS check, NWK decrypt +
  replay check, APS decrypt, ZigbeePacket delivered (MAC acks included). Target >= 5,000 frames/s.
- wall time of 24 h of virtual time with an APS-acknowledged, APS-encrypted report every 4 s from a meter
  to the coordinator (21,600 reports). Target <= 10 s.
"""

from __future__ import annotations

import asyncio
import time

import zigpy.types as t

from harness.clock import new_virtual_loop
from harness.crypto import InstallCode
from harness.sim.air import Air
from harness.sim.node import Node, Role
from harness.sim.trust_center import TrustCenter

INSTALL_CODE = InstallCode.parse("83FED3407A939723A5C639B26916D505C3B5")
NETWORK_KEY = bytes.fromhex("01030507090B0D0F00020406080A0C0D")
REPORT = bytes.fromhex("18010a000025400e0f000000")  # ZCL Report Attributes: 0x0000 uint48


def _network():
    loop = new_virtual_loop()
    air = Air(channel=15, seed=0, loop=loop)
    coord = Node(air, 0x00124B0000000001, Role.COORDINATOR)
    tc = TrustCenter(coord)
    coord.form(0x1A62, 0xDDDDDDDDDDDDDDDD, NETWORK_KEY)
    meter = Node(air, 0x0022A30000000002, Role.ROUTER, tc_link_key=INSTALL_CODE.link_key)
    tc.add_install_code_key(meter.ieee, INSTALL_CODE.link_key)
    coord.permit_joining(60)
    loop.run_until_complete(meter.join(10))
    loop.run_until_complete(asyncio.sleep(1))
    received = []
    coord.add_packet_listener(received.append)
    return loop, coord, meter, received


def _packet(options: t.TransmitOptions) -> t.ZigbeePacket:
    return t.ZigbeePacket(
        src_ep=1, dst=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=0x0000), dst_ep=1, profile_id=0x0109,
        cluster_id=0x0702, data=t.SerializableBytes(REPORT), tx_options=options,
    )


def test_secured_aps_frames_per_second(benchmark):
    loop, coord, meter, received = _network()
    count = 2000
    packet = _packet(t.TransmitOptions.APS_Encryption)

    async def burst():
        for _ in range(count):
            await meter.send_packet(packet)
            await asyncio.sleep(0.005)  # let the frame and its MAC ack cross the air

    def run():
        received.clear()
        loop.run_until_complete(burst())
        loop.run_until_complete(asyncio.sleep(0.1))
        assert len(received) == count
        assert all(p.tx_options == t.TransmitOptions.APS_Encryption for p in received)

    benchmark.pedantic(run, rounds=3, iterations=1)
    rate = count / benchmark.stats.stats.mean
    benchmark.extra_info["secured_aps_frames_per_second"] = round(rate)
    print(f"\nsecured APS data frames end to end: {rate:,.0f} frames/s (target >= 5,000)")
    loop.close()


def test_24_hours_with_a_report_every_4_seconds(benchmark):
    reports = 24 * 3600 // 4
    results = {}

    def run():
        loop, coord, meter, received = _network()
        packet = _packet(t.TransmitOptions.APS_Encryption | t.TransmitOptions.ACK)

        async def day():
            start = loop.time()
            for i in range(reports):
                await meter.send_packet(packet)
                await asyncio.sleep(start + 4 * (i + 1) - loop.time())

        wall = time.perf_counter()
        loop.run_until_complete(day())
        results["wall"] = time.perf_counter() - wall
        assert len(received) == reports
        assert loop.time() >= 24 * 3600
        loop.close()

    benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info["virtual_hours"] = 24
    benchmark.extra_info["reports"] = reports
    print(f"\n24 h virtual with {reports} APS-acked reports: {results['wall']:.2f} s wall (target <= 10 s)")

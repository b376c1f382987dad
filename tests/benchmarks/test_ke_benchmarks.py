"""Benchmark: a device joins with its install code, finds the KE server (Match_Desc) and completes CBKE
suite 1 with the golden ControllerApplication, on the simulated network. Target <= 250 ms wall.

The golden network is formed in the setup (as a commissioned bench would be); certificates are minted once
(bench material). Timed: join, Match_Desc, reading the partner's KeyEstablishmentSuite, the four CBKE
steps with both sides' ECMQV, and the new link keys installed on both sides.
"""

from __future__ import annotations

import asyncio

from harness.clock import new_virtual_loop
from harness.ke import RetryPolicy
from tests.support.ke_simnet import COORDINATOR_IEEE, DEVICE_IEEE, KeNet, engine_for


def test_join_and_cbke_suite1_wall_time(benchmark):
    engine_for(COORDINATOR_IEEE, (1,))
    engine_for(DEVICE_IEEE, (1,))
    state: dict = {}

    def setup():
        loop = new_virtual_loop()
        asyncio.set_event_loop(loop)
        net = KeNet(loop)
        loop.run_until_complete(net.start())
        state.update(loop=loop, net=net)
        return (), {}

    def join_and_cbke():
        loop, net = state["loop"], state["net"]

        async def run():
            await net.join()
            nwk, endpoints = await net.match_key_establishment_server()
            return await net.dke.establish(nwk, endpoints[0], suite=None, retry=RetryPolicy())

        outcome = loop.run_until_complete(run())
        assert outcome.success
        assert net.device.link_key(COORDINATOR_IEEE) == outcome.key
        loop.run_until_complete(asyncio.sleep(0.5))
        assert net.app.node.link_key(DEVICE_IEEE) == outcome.key
        loop.run_until_complete(net.close())
        asyncio.set_event_loop(None)
        loop.close()

    benchmark.pedantic(join_and_cbke, setup=setup, rounds=15, iterations=1)

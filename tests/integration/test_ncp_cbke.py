"""CBKE through the NCP: bellows drives the emulator's CBKE library over the pty behind the KeEngine interface.

The emulated NCP holds a certificate from the bench's test CA; the other side of each exchange is the software
engine (harness.crypto) with its own certificate from the same CA, so the two implementations must agree on
both confirmation MACs and on the link key the NCP stores for the partner named in the certificate.
"""

from __future__ import annotations

import asyncio

import bellows.types as bt
import pytest
import zigpy.types as zt

from harness.crypto import Role
from harness.emulator.ncp import CbkeData, NcpServer
from harness.emulator.ncp.server import DEFAULT_NCP_IEEE
from harness.ke.ezsp import EzspKeEngine, EzspKeError
from harness.ke.material import KeMaterial
from harness.radio.ezsp import ControllerApplication, ezsp_config
from harness.sim.air import Air
from harness.wire.frames.types import ieee_to_eui64

NETWORK_KEY = bytes.fromhex("01030507090B0D0F00020406080A0C0D")
EPID = bytes.fromhex("000D6FFFFE000001")
DEVICE_IEEE = 0x000D6F0000001001
MATERIAL = KeMaterial.seeded()


def ncp_cbke(suites=(1, 2)) -> list[CbkeData]:
    data = []
    for suite in suites:
        issued = MATERIAL.ca.issue(DEFAULT_NCP_IEEE, suite, issuer=MATERIAL.issuer)
        data.append(CbkeData(MATERIAL.ca_public_key(suite), issued.certificate, issued.private_key_bytes, suite))
    return data


async def _formed(cbke) -> tuple[NcpServer, ControllerApplication]:
    air = Air(channel=15, seed=7, loop=asyncio.get_running_loop())
    server = NcpServer(air, cbke=cbke)
    path = await server.start()
    config = ezsp_config(path, channel=15, pan_id=0x1A62, extended_pan_id=EPID, network_key=NETWORK_KEY)
    app = await asyncio.wait_for(ControllerApplication.new(config, auto_form=True), 60)
    return server, app


async def _exchange(ncp: EzspKeEngine, suite: int, ncp_role: Role):
    device = MATERIAL.engine(DEVICE_IEEE, (suite,))
    ours = await ncp.start(suite)
    theirs = await device.start(suite)
    ncp_macs = await ours.compute(ncp_role, await device.certificate(suite), theirs.ephemeral_public)
    device_macs = await theirs.compute(ncp_role.peer, await ncp.certificate(suite), ours.ephemeral_public)
    return ours, theirs, ncp_macs, device_macs


@pytest.mark.parametrize(("suite", "ncp_role"), [(1, Role.RESPONDER), (1, Role.INITIATOR), (2, Role.RESPONDER)])
def test_the_ncp_and_the_software_engine_agree_and_the_ncp_stores_the_key(suite, ncp_role):
    async def scenario():
        server, app = await _formed(ncp_cbke())
        try:
            status = await app.cbke_status()
            assert status.suite1 and status.suite2
            engine = await app.ke_engine()
            assert engine.suites == frozenset({1, 2})
            assert await engine.certificate(suite) == server.stack.cbke.certificate(suite)
            ours, theirs, ncp_macs, device_macs = await _exchange(engine, suite, ncp_role)
            assert ncp_macs == device_macs
            assert await ours.verify_peer_mac(device_macs.sent_by(ncp_role.peer))
            assert not await ours.verify_peer_mac(bytes(16))
            key = await ours.conclude(True)
            expected = await theirs.conclude(True)
            assert key == expected and len(key) == 16
            # The NCP's key table and its running Trust Center now use the CBKE key for the device.
            assert server.stack.node.link_key(DEVICE_IEEE) == expected
            assert any(who == DEVICE_IEEE and k == expected for who, k in server.stack.nvm.key_table.values())
            assert server.ezsp.unknown_commands == []
            engine.close()
        finally:
            await app.shutdown()
            server.close()

    asyncio.run(scenario())


def test_a_dropped_exchange_stores_nothing_and_a_replaced_one_cannot_go_on():
    async def scenario():
        server, app = await _formed(ncp_cbke((1,)))
        try:
            engine = await app.ke_engine()
            assert engine.suites == frozenset({1})
            ours, _theirs, _macs, _device = await _exchange(engine, 1, Role.RESPONDER)
            assert await ours.conclude(False) is None
            assert server.stack.nvm.key_table == {}
            stale = await engine.start(1)
            await engine.start(1)  # a new exchange takes the NCP's one temporary store
            device = MATERIAL.engine(DEVICE_IEEE, (1,))
            with pytest.raises(EzspKeError, match="replaced on the NCP"):
                await stale.compute(Role.RESPONDER, await device.certificate(1), (await device.start(1)).ephemeral_public)
            with pytest.raises(ValueError, match="no suite 2 certificate"):
                await engine.start(2)
            engine.close()
        finally:
            await app.shutdown()
            server.close()

    asyncio.run(scenario())


def test_a_bad_partner_certificate_fails_in_the_ncp_as_a_crypto_error():
    async def scenario():
        server, app = await _formed(ncp_cbke((1,)))
        try:
            engine = await app.ke_engine()
            ours = await engine.start(1)
            device = MATERIAL.engine(DEVICE_IEEE, (1,))
            theirs = await device.start(1)
            cert = bytearray(await device.certificate(1))
            cert[0] = 0x05  # the reconstruction point's prefix must be 02 or 03 (compressed point)
            with pytest.raises(EzspKeError, match="calculateSmacs failed: <EmberStatus.ERR_FATAL"):
                await ours.compute(Role.RESPONDER, bytes(cert), theirs.ephemeral_public)
            engine.close()
        finally:
            await app.shutdown()
            server.close()

    asyncio.run(scenario())


def test_preinstalled_data_sent_over_ezsp_turns_the_library_on():
    async def scenario():
        server, app = await _formed(None)
        try:
            assert not (await app.cbke_status()).suite1
            (data,) = ncp_cbke((1,))
            (status,) = await app._ezsp.setPreinstalledCbkeData(
                caPublic=bt.EmberPublicKeyData(data.ca_public), myCert=bt.EmberCertificateData(data.certificate),
                myKey=bt.EmberPrivateKeyData(data.private_key))
            assert status == bt.EmberStatus.SUCCESS
            status = await app.cbke_status()
            assert status.suite1 and not status.suite2 and status.certificate == data.certificate
        finally:
            await app.shutdown()
            server.close()

    asyncio.run(scenario())


def test_reading_the_key_back_needs_a_key_table_entry():
    async def scenario():
        server, app = await _formed(ncp_cbke((1,)))
        try:
            engine = await app.ke_engine()
            assert await engine.read_link_key(DEVICE_IEEE) is None
            (status,) = await app._ezsp.addOrUpdateKeyTableEntry(
                address=zt.EUI64(ieee_to_eui64(DEVICE_IEEE)), linkKey=True, keyData=zt.KeyData(bytes(range(16))))
            assert await engine.read_link_key(DEVICE_IEEE) == bytes(range(16))
            engine.close()
        finally:
            await app.shutdown()
            server.close()

    asyncio.run(scenario())


def test_a_restricted_engine_offers_only_its_suites():
    async def scenario():
        server, app = await _formed(ncp_cbke())
        try:
            engine = await app.ke_engine()
            only1 = engine.restricted((1,))
            assert only1.suites == frozenset({1}) and only1.suite_bitmap == 0x0001
            with pytest.raises(ValueError, match="no suite 2 certificate"):
                await only1.start(2)
            ours, _theirs, ncp_macs, device_macs = await _exchange(only1, 1, Role.RESPONDER)
            assert ncp_macs == device_macs
            await ours.conclude(False)
            only1.close()  # a view: the engine keeps its callback
            assert engine._callback_id is not None
            engine.close()
        finally:
            await app.shutdown()
            server.close()

    asyncio.run(scenario())


def test_the_ncp_probe_goes_out_under_the_chosen_key_and_the_held_key_comes_back():
    """harness.backends.hardware.NcpApsSender: the golden's SE probe under another key on an NCP."""
    from harness.backends.hardware import NcpApsSender
    from harness.clock import WallClock
    from harness.devices.catalogue import MODELS
    from harness.golden.golden import Golden
    from harness.profiles import load_dut_profile
    from harness.verify import Keyring, decode_frames
    from harness.wire.frames import ApsFrame

    other_key = bytes(range(0x40, 0x50))

    async def scenario():
        loop = asyncio.get_running_loop()
        air = Air(channel=15, seed=8, loop=loop)
        frames: list[tuple[float, bytes]] = []
        air.add_sniffer(lambda frame: frames.append((frame.timestamp, frame.psdu)))
        server = NcpServer(air)
        config = ezsp_config(await server.start(), channel=15, pan_id=0x1A62, extended_pan_id=EPID,
                             network_key=NETWORK_KEY)
        app = await asyncio.wait_for(ControllerApplication.new(config, auto_form=True), 60)
        clock = WallClock(loop)
        device = MODELS["ihd"](air, load_dut_profile("profiles/dut/ref-ihd-cli.yaml"), clock)
        golden = Golden(app, clock)
        try:
            await golden.trust_center.admit(device.ieee, device.link_key, 60)
            device.start_joining(20)
            nwk = (await golden.trust_center.wait_join(device.ieee, 20)).nwk
            keyring = Keyring(network_keys={0: NETWORK_KEY})
            keyring.add_link_key(device.ieee, device.link_key)
            sender = NcpApsSender(app, keyring, lambda n: device.ieee if n == nwk else None)
            assert sender.key_table[device.ieee].key == device.link_key
            probe = ApsFrame.data(sender.next_counter(), 0x0109, 0x0700, 1, 1, bytes.fromhex("00420000 00"))
            sent_at = len(frames)
            sender.send(nwk, probe, encrypt_key=other_key)
            await asyncio.gather(*sender._tasks)
            assert sender.errors == []
            assert server.stack.node.link_key(device.ieee) == device.link_key  # the held key is back
            new = frames[sent_at:]

            def probes(ring):
                return [f for f in decode_frames(new, ring) if f.error is None and f.aps is not None
                        and f.aps.cluster == 0x0700 and f.aps.payload == probe.payload]

            assert probes(keyring) == []  # not under the held key...
            keyring.add_link_key(device.ieee, other_key)
            chosen = probes(keyring)  # ...but under the chosen one (MAC retries may repeat it)
            assert chosen and all(f.aps_secured for f in chosen)
        finally:
            device.close()
            await golden.close()
            await app.shutdown()
            server.close()

    asyncio.run(scenario())

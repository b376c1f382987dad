"""The golden radio through zigpy's public API: new(config) / startup, permit_with_link_key, handle_join,
send_packet / packet_received with the right tx_options."""

from __future__ import annotations

import asyncio

import pytest
import zigpy.types as t
import zigpy.zdo.types as zdo_t

from harness.clock import new_virtual_loop
from harness.crypto import InstallCode
from harness.radio.sim import ControllerApplication, SimRadioError, register_air, sim_config, unregister_air
from harness.sim.air import Air
from harness.sim.node import JoinError, Node, Role
from harness.wire.frames.types import ieee_to_eui64

INSTALL_CODE = InstallCode.parse("83FED3407A939723A5C639B26916D505C3B5")
NETWORK_KEY = bytes.fromhex("01030507090B0D0F00020406080A0C0D")
DEVICE = 0x0022A30000000002


@pytest.fixture
def loop():
    loop = new_virtual_loop()
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.set_event_loop(None)
    loop.close()


def _setup(loop, name: str):
    air = Air(channel=20, seed=3, loop=loop)
    path = register_air(name, air)
    config = sim_config(path, channel=20, pan_id=0x1234, extended_pan_id="aa:bb:cc:dd:ee:ff:00:11",
                        network_key=NETWORK_KEY)
    device = Node(air, DEVICE, Role.END_DEVICE, tc_link_key=INSTALL_CODE.link_key)
    device.add_endpoint(zdo_t.SimpleDescriptor(endpoint=1, profile=0x0109, device_type=0x0507, device_version=0,
                                               input_clusters=[0x0000], output_clusters=[0x0702]))
    return air, config, device


def test_controller_application_forms_admits_and_exchanges(loop):
    air, config, device = _setup(loop, "radio-1")
    joined = []

    async def main():
        app = await ControllerApplication.new(config, auto_form=True)
        try:
            assert app.state.network_info.pan_id == 0x1234
            assert app.state.network_info.channel == 20
            assert bytes(app.state.network_info.network_key.key) == NETWORK_KEY

            class Listener:
                def device_joined(self, dev):
                    joined.append(dev)

            app.add_listener(Listener())
            raw: list[t.ZigbeePacket] = []
            app.register_packet_callback(None, lambda p: raw.append(p) if p.profile_id == 0x0109 else None)
            await app.permit_with_link_key(ieee_to_eui64(DEVICE), t.KeyData(INSTALL_CODE.link_key), 60)
            await device.join(10)
            await asyncio.sleep(5)  # zigpy interviews the device over ZDO meanwhile
            dev = app.get_device(ieee=ieee_to_eui64(DEVICE))
            assert dev.nwk == device.nwk
            assert dev.node_desc.is_end_device
            assert 1 in dev.endpoints and dev.endpoints[1].profile_id == 0x0109

            # golden -> device, APS-encrypted
            got: list[t.ZigbeePacket] = []
            device.add_packet_listener(lambda p: got.append(p) if p.dst_ep == 1 else None)
            await app.send_packet(t.ZigbeePacket(
                src_ep=1, dst=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=device.nwk), dst_ep=1,
                profile_id=0x0109, cluster_id=0x0702, data=t.SerializableBytes(b"\x00\x01\x00\x00\x00"),
                tx_options=t.TransmitOptions.APS_Encryption | t.TransmitOptions.ACK,
            ))
            assert got and got[0].tx_options == t.TransmitOptions.APS_Encryption
            # device -> golden, with and without APS encryption
            for options in (t.TransmitOptions.APS_Encryption, t.TransmitOptions.NONE):
                await device.send_packet(t.ZigbeePacket(
                    src_ep=1, dst=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=0x0000), dst_ep=1,
                    profile_id=0x0109, cluster_id=0x0702, data=t.SerializableBytes(b"\x18\x01\x01\x00\x00\x00"),
                    tx_options=options | t.TransmitOptions.ACK,
                ))
            await asyncio.sleep(1)
            assert [p.tx_options for p in raw] == [t.TransmitOptions.APS_Encryption, t.TransmitOptions.NONE]
            assert all(p.src.address == device.nwk for p in raw)
        finally:
            await app.shutdown()

    loop.run_until_complete(main())
    assert [d.ieee for d in joined] == [ieee_to_eui64(DEVICE)]
    unregister_air("radio-1")


def test_permit_with_another_device_key_does_not_admit(loop):
    air, config, device = _setup(loop, "radio-2")

    async def main():
        app = await ControllerApplication.new(config, auto_form=True)
        try:
            await app.permit_with_link_key(ieee_to_eui64(0x0022A300000000FF), t.KeyData(INSTALL_CODE.link_key), 60)
            with pytest.raises(JoinError):
                await device.join(10)
            assert ieee_to_eui64(DEVICE) not in app.devices
        finally:
            await app.shutdown()

    loop.run_until_complete(main())
    unregister_air("radio-2")


def test_unknown_air_is_a_clear_error(loop):
    config = sim_config("sim://nowhere", channel=11, pan_id=1, extended_pan_id=bytes(8), network_key=NETWORK_KEY)

    async def main():
        app = ControllerApplication(config)
        with pytest.raises(SimRadioError, match="no simulated air registered"):
            await app.connect()

    loop.run_until_complete(main())

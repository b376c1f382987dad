"""Unmodified bellows against the NCP emulator on a real pseudo-terminal; the cli/manual DUT drivers for real.

Real time (bellows runs its own serial thread); each test takes about a second.
"""

from __future__ import annotations

import asyncio
import io

import pytest
import zigpy.types as zt

from harness.clock import WallClock
from harness.devices.catalogue import MODELS
from harness.dut.base import DutControlError
from harness.dut.cli import CliDutControl
from harness.dut.manual import ManualDutControl, ManualStepBlocked, TerminalPrompt
from harness.emulator.ncp import NcpServer
from harness.emulator.ncp.dut_cli import PROFILE_COMMANDS, ReferenceCli
from harness.profiles import load_dut_profile
from harness.radio.ezsp import ESI_DEVICE_ID, CbkeUnavailable, ControllerApplication, ezsp_config
from harness.se.datamodel import SE_PROFILE_ID
from harness.sim.air import Air
from harness.wire.frames.types import ieee_to_eui64

NETWORK_KEY = bytes.fromhex("01030507090B0D0F00020406080A0C0D")
EPID = bytes.fromhex("000D6FFFFE000001")


async def _formed(air: Air) -> tuple[NcpServer, ControllerApplication]:
    server = NcpServer(air)
    path = await server.start()
    config = ezsp_config(path, channel=15, pan_id=0x1A62, extended_pan_id=EPID, network_key=NETWORK_KEY)
    app = await asyncio.wait_for(ControllerApplication.new(config, auto_form=True), 60)
    return server, app


def test_bellows_forms_the_network_on_the_emulator_and_admits_an_install_code_device():
    async def scenario():
        loop = asyncio.get_running_loop()
        air = Air(channel=15, seed=3, loop=loop)
        server, app = await _formed(air)
        try:
            info = app.state.network_info
            assert (int(info.pan_id), int(info.channel), bytes(info.network_key.key)) == (0x1A62, 15, NETWORK_KEY)
            # The SE endpoint reached the NCP before the network started.
            assert server.stack.endpoints[1].profile == SE_PROFILE_ID
            assert server.stack.endpoints[1].device_type == ESI_DEVICE_ID
            device = MODELS["ihd"](air, load_dut_profile("profiles/dut/sim-ihd.yaml"), WallClock(loop))
            joined = loop.create_future()
            packets: list[zt.ZigbeePacket] = []
            app.register_packet_callback(None, packets.append)

            class Listener:
                def device_joined(self, dev):
                    if not joined.done():
                        joined.set_result(dev)

            app.add_listener(Listener())
            await app.permit_with_link_key(ieee_to_eui64(device.ieee), zt.KeyData(device.link_key), 60)
            device.start_joining(20)
            dev = await asyncio.wait_for(joined, 20)
            assert bytes(dev.ieee) == bytes(ieee_to_eui64(device.ieee))
            # Its Device_annce came through the raw tap (ZDO cluster 0x0013).
            for _ in range(100):
                if any(p.cluster_id == 0x0013 for p in packets):
                    break
                await asyncio.sleep(0.05)
            assert any(p.cluster_id == 0x0013 and p.profile_id == 0 for p in packets)
            with pytest.raises(CbkeUnavailable, match="no CBKE library"):
                await app.require_cbke()
            assert server.ezsp.unknown_commands == []
            device.close()
        finally:
            await app.shutdown()
            server.close()

    asyncio.run(scenario())


def test_plain_permit_never_installs_the_well_known_key():
    async def scenario():
        air = Air(channel=15, seed=4, loop=asyncio.get_running_loop())
        server, app = await _formed(air)
        try:
            await app.permit(30)
            assert server.stack.transient_keys == {}  # bellows' pre_permit would add FF..FF/ZigBeeAlliance09
            assert server.stack.node.permitting
        finally:
            await app.shutdown()
            server.close()

    asyncio.run(scenario())


def _cli_pair(loop, model: str = "ihd"):
    air = Air(channel=15, seed=5, loop=loop)
    device = MODELS[model](air, load_dut_profile(f"profiles/dut/sim-{model}.yaml"), WallClock(loop))
    cli = ReferenceCli(device)
    return cli, cli.open(loop)


def test_cli_driver_drives_the_reference_device_over_a_pty():
    async def scenario():
        loop = asyncio.get_running_loop()
        cli, path = _cli_pair(loop)
        driver = CliDutControl(path, PROFILE_COMMANDS, timeout=2.0)
        try:
            await driver.factory_reset()
            await driver.start_joining()
            assert [reply for _sent, reply in driver.transcript] == ["OK reset", "OK joining"]
            # Not joined yet, so no time zone learnt: the display shows no local time.
            assert driver.reads_local_time and await driver.read_local_time() is None
            # Nor any price: the display shows none, at the device's own network time (its clock, not synced yet).
            shown = await driver.read_current_price()
            assert driver.reads_current_price and shown.issuer_event_id is None and shown.price is None
            assert abs(shown.at - cli.device.time.utc()) <= 2
            bad = CliDutControl(path, {"start_joining": "frobnicate"}, timeout=2.0)
            with pytest.raises(DutControlError, match="answered 'ERROR unknown command frobnicate'"):
                await bad.start_joining()
            bad.close()
            with pytest.raises(DutControlError, match="no control.commands.start_rejoin"):
                await CliDutControl(path, {}).start_rejoin()
        finally:
            driver.close()
            cli.close()

    asyncio.run(scenario())


def test_cli_driver_gives_user_actions_and_reads_the_devices_log_over_a_pty():
    async def scenario():
        loop = asyncio.get_running_loop()
        pct, pct_path = _cli_pair(loop, "pct")
        ihd, ihd_path = _cli_pair(loop, "ihd")
        thermostat = CliDutControl(pct_path, PROFILE_COMMANDS, timeout=2.0)
        display = CliDutControl(ihd_path, PROFILE_COMMANDS, timeout=2.0)
        try:
            await thermostat.opt_out(1234)
            await thermostat.opt_in(1234)
            await display.confirm_message(77)
            assert thermostat.transcript == [("optout 1234", "OK optout 1234 shown=0"),
                                             ("optin 1234", "OK optin 1234 shown=0")]
            assert display.transcript == [("confirm 77", "OK confirming 77")]
            # A user action the device has no client for is the CLI's ERROR: a bench error, not a DUT failure.
            with pytest.raises(DutControlError, match="answered 'ERROR sim:ihd has no DRLC client"):
                await display.opt_out(1)
            with pytest.raises(DutControlError, match="answered 'ERROR optout needs one decimal id'"):
                await CliDutControl(pct_path, {"opt_out": "optout x{event_id}"}, timeout=2.0).opt_out(1)
            await asyncio.sleep(0.1)  # the confirmation runs after the reply
            assert display.reads_log
            log = await display.read_log()
            assert any("confirm 77: Message Confirmation not sent" in line for line in log), log
            assert not any(line.startswith("OK log") for line in log), "the status line is not part of the log"
        finally:
            for control in (thermostat, display, pct, ihd):
                control.close()

    asyncio.run(scenario())


def test_a_manual_user_action_names_the_event_or_message():
    asked: list[str] = []
    control = ManualDutControl(asked.append, prompts={"confirm_message": "Tap OK on message {message_id}"})
    asyncio.run(control.opt_out(4242))
    asyncio.run(control.confirm_message(9))
    assert asked == ["On the DUT, opt out of load control event 4242, then press Enter", "Tap OK on message 9"]
    with pytest.raises(ManualStepBlocked, match="no terminal: On the DUT, opt back into load control event 5"):
        asyncio.run(ManualDutControl(TerminalPrompt(io.StringIO("\n"), io.StringIO())).opt_in(5))


def test_cli_driver_timeout_is_a_bench_error():
    async def scenario():
        loop = asyncio.get_running_loop()
        cli, path = _cli_pair(loop)
        driver = CliDutControl(path, {"start_joining": "join -> ^NEVER"}, timeout=0.3)
        try:
            with pytest.raises(DutControlError, match="no reply to 'join' within 0.3 s"):
                await driver.start_joining()
        finally:
            driver.close()
            cli.close()

    asyncio.run(scenario())


def test_manual_step_without_a_terminal_is_blocked_and_with_an_operator_done():
    with pytest.raises(ManualStepBlocked, match="no terminal: Press the join button"):
        asyncio.run(ManualDutControl(TerminalPrompt(io.StringIO("\n"), io.StringIO())).start_joining())
    answered: list[str] = []
    control = ManualDutControl(answered.append)
    asyncio.run(control.factory_reset())
    assert answered == ["Factory-reset the DUT (see its manual), then press Enter"]


def test_a_factory_reset_device_joins_again_and_answers():
    """Scenario after scenario on one emulator: the Trust Center keeps the device's old NWK counter and its
    APS key counters, the factory-new device starts from zero; neither side may take the other for a replay."""
    from zigpy.zdo.types import ZDOCmd

    from harness.golden.golden import Golden

    async def scenario():
        loop = asyncio.get_running_loop()
        air = Air(channel=15, seed=6, loop=loop)
        server, app = await _formed(air)
        clock = WallClock(loop)
        device = MODELS["ihd"](air, load_dut_profile("profiles/dut/ref-ihd-cli.yaml"), clock)
        try:
            answers = []
            for _round in range(2):
                app.devices.pop(zt.EUI64(ieee_to_eui64(device.ieee)), None)
                golden = Golden(app, clock)
                device.factory_reset()
                await golden.trust_center.admit(device.ieee, device.link_key, 60)
                device.start_joining(20)
                event = await golden.trust_center.wait_join(device.ieee, 20)
                answer = await golden.zdo_request(event.nwk, ZDOCmd.IEEE_addr_req, [event.nwk, 0, 0], 5)
                answers.append((event.nwk, answer.fields[1]))
                await golden.close()
            assert [bytes(ieee) for _nwk, ieee in answers] == [bytes(ieee_to_eui64(device.ieee))] * 2
        finally:
            device.close()
            await app.shutdown()
            server.close()

    asyncio.run(scenario())

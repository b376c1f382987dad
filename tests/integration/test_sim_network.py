"""The simulated network end to end: SE joining, security, retries, determinism, leave, rejoin, key update."""

from __future__ import annotations

import asyncio

import pytest
import zigpy.types as t
import zigpy.zdo.types as zdo_t
from zigpy.zdo.types import ZDOCmd

from harness.capture import pcap_bytes
from harness.clock import new_virtual_loop
from harness.crypto import WELL_KNOWN_TC_LINK_KEY, InstallCode
from harness.sim import zdo
from harness.sim.air import Air, Impairment
from harness.sim.behaviour import StackBehaviour
from harness.sim.discovery import RX_ON_WHEN_IDLE, DiscoveryError, find_se_server
from harness.sim.node import JoinError, Node, Role
from harness.sim.trust_center import TrustCenter
from harness.wire.frames.mac import MacFrame, MacFrameType
from harness.wire.frames.nwk import NwkFrame

# Zigbee SE test install code (with CRC) and its link key: the public vector of the install-code spec.
INSTALL_CODE = InstallCode.parse("83FED3407A939723A5C639B26916D505C3B5")
WRONG_CODE = InstallCode.parse("83FED3407A939723A5C639B26916D506")  # one digit off; CRC recomputed
NETWORK_KEY = bytes.fromhex("01030507090B0D0F00020406080A0C0D")
COORD, DEVICE, OTHER = 0x00124B0000000001, 0x0022A30000000002, 0x0022A30000000003
EPID = 0xDDDDDDDDDDDDDDDD


class Net:
    def __init__(self, seed: int = 0, behaviour: StackBehaviour | None = None, tc_key: bytes | None = None) -> None:
        self.loop = new_virtual_loop()
        self.air = Air(channel=15, seed=seed, loop=self.loop)
        self.frames: list = []
        self.air.add_sniffer(self.frames.append)
        self.coord = Node(self.air, COORD, Role.COORDINATOR)
        self.tc = TrustCenter(self.coord, seed=seed)
        self.coord.form(0x1A62, EPID, NETWORK_KEY)
        self.joins: list[tuple[int, int]] = []
        self.leaves: list[tuple[int, int]] = []
        self.tc.on_join(lambda nwk, ieee, parent: self.joins.append((nwk, ieee)))
        self.tc.on_leave(lambda nwk, ieee: self.leaves.append((nwk, ieee)))
        self.device = Node(
            self.air, DEVICE, Role.END_DEVICE, tc_link_key=INSTALL_CODE.link_key,
            behaviour=behaviour or StackBehaviour(),
        )
        self.device.add_endpoint(
            zdo_t.SimpleDescriptor(endpoint=1, profile=0x0109, device_type=0x0507, device_version=0,
                                   input_clusters=[0x0000, 0x0800], output_clusters=[0x0702, 0x0700])
        )
        if tc_key is not None:
            self.tc.add_install_code_key(DEVICE, tc_key)

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    def join(self, deadline: float = 10.0) -> None:
        self.tc.add_install_code_key(DEVICE, self.tc_key_or_default())
        self.coord.permit_joining(60)
        self.run(self.device.join(deadline))

    def tc_key_or_default(self) -> bytes:
        return self.coord.link_key(DEVICE) or INSTALL_CODE.link_key

    def settle(self, seconds: float = 2.0) -> None:
        self.run(asyncio.sleep(seconds))

    def close(self) -> None:
        self.loop.close()


@pytest.fixture
def net():
    network = Net()
    yield network
    network.close()


def _packet(dst_nwk: int, data: bytes, encrypt: bool = True, ack: bool = True) -> t.ZigbeePacket:
    options = t.TransmitOptions.NONE
    if encrypt:
        options |= t.TransmitOptions.APS_Encryption
    if ack:
        options |= t.TransmitOptions.ACK
    return t.ZigbeePacket(
        src_ep=1, dst=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=dst_nwk), dst_ep=1,
        profile_id=0x0109, cluster_id=0x0702, data=t.SerializableBytes(data), tx_options=options,
    )


def test_join_with_the_right_install_code(net):
    net.join()
    assert net.device.joined and net.device.nwk not in (0x0000, 0xFFFE)
    assert net.device.security.network_key == NETWORK_KEY
    assert net.device.security.trust_center_ieee == COORD
    assert net.joins == [(net.device.nwk, DEVICE)]
    net.settle()
    # The Device_annce reached the coordinator, NWK-secured.
    assert net.coord.address_map[net.device.nwk] == DEVICE
    assert net.coord.security.nwk_rx_counters[DEVICE] >= 0


def test_join_with_the_wrong_install_code_fails():
    net = Net(tc_key=WRONG_CODE.link_key)
    net.coord.permit_joining(60)
    with pytest.raises(JoinError, match="no network key it could decrypt"):
        net.run(net.device.join(30))
    assert not net.device.joined
    assert net.device.security.network_key is None
    assert net.device.stats["aps_auth_failed"] >= 1
    net.close()


def test_join_refused_while_permit_join_is_closed(net):
    net.tc.add_install_code_key(DEVICE, INSTALL_CODE.link_key)
    with pytest.raises(JoinError, match="found no network permitting joins"):
        net.run(net.device.join(10))
    assert net.joins == []


def test_join_refused_without_the_device_install_code_key(net):
    net.coord.permit_joining(60)
    with pytest.raises(JoinError, match="association refused: PAN_ACCESS_DENIED"):
        net.run(net.device.join(10))
    assert net.tc.devices == {}


def test_network_key_offered_under_the_well_known_key_is_refused():
    net = Net(tc_key=WELL_KNOWN_TC_LINK_KEY)
    net.coord.permit_joining(60)
    with pytest.raises(JoinError):
        net.run(net.device.join(30))
    assert net.device.security.network_key is None
    net.close()


def test_faulty_device_accepts_the_well_known_key():
    # The knob a reference device's fault catalogue flips: proves the refusal above is the device's doing.
    net = Net(tc_key=WELL_KNOWN_TC_LINK_KEY, behaviour=StackBehaviour(accept_well_known_tc_key=True))
    net.coord.permit_joining(60)
    net.run(net.device.join(30))
    assert net.device.joined
    net.close()


def test_replayed_nwk_frame_is_rejected(net):
    net.join()
    net.settle()
    received: list[t.ZigbeePacket] = []
    net.coord.add_packet_listener(received.append)
    captured: list[bytes] = []
    net.air.add_sniffer(lambda f: captured.append(f.psdu) if f.sender == DEVICE else None)
    net.run(net.device.send_packet(_packet(0x0000, b"\x00\x01\x00\x00\x00", ack=False)))
    net.settle()
    assert len(received) == 1
    data_frame = next(p for p in captured if MacFrame.deserialize(p).frame_type == MacFrameType.DATA)
    assert NwkFrame.deserialize_header(MacFrame.deserialize(data_frame).payload)[0].security
    # Replay the exact bytes: same NWK frame counter.
    net.device.radio.transmit(data_frame)
    net.settle()
    assert len(received) == 1
    assert net.coord.stats["nwk_replay_rejected"] == 1


def test_replay_accepted_when_the_check_is_off():
    net = Net()
    net.coord.behaviour = StackBehaviour(replay_check=False, aps_duplicate_rejection=False)
    net.join()
    net.settle()
    received: list[t.ZigbeePacket] = []
    net.coord.add_packet_listener(received.append)
    captured: list[bytes] = []
    net.air.add_sniffer(lambda f: captured.append(f.psdu) if f.sender == DEVICE else None)
    net.run(net.device.send_packet(_packet(0x0000, b"\x00\x01\x00\x00\x00", encrypt=False, ack=False)))
    net.settle()
    net.device.radio.transmit(captured[0])
    net.settle()
    assert len(received) == 2
    net.close()


def test_aps_data_is_encrypted_and_flagged(net):
    net.join()
    net.settle()
    received: list[t.ZigbeePacket] = []
    net.coord.add_packet_listener(received.append)
    net.run(net.device.send_packet(_packet(0x0000, b"\x00\x07\x00\x00\x00")))
    net.run(net.device.send_packet(_packet(0x0000, b"\x00\x08\x00\x00\x00", encrypt=False)))
    net.settle()
    assert [bytes(p.data.serialize()) for p in received] == [b"\x00\x07\x00\x00\x00", b"\x00\x08\x00\x00\x00"]
    assert received[0].tx_options == t.TransmitOptions.APS_Encryption
    assert received[1].tx_options == t.TransmitOptions.NONE
    assert received[0].src.address == net.device.nwk and received[0].profile_id == 0x0109
    # The plaintext never appears on the air for the encrypted one.
    assert not any(b"\x00\x07\x00\x00\x00" in f.psdu for f in net.frames)


def test_aps_retries_deliver_under_30_percent_loss():
    net = Net(seed=5)
    net.join()
    net.settle()
    received: list[bytes] = []
    net.coord.add_packet_listener(lambda p: received.append(bytes(p.data.serialize())) if p.dst_ep == 1 else None)
    net.air.degrade(COORD, DEVICE, Impairment(drop=0.3))
    # MAC retries recover most single losses; lose one whole MAC exchange (4 attempts) so APS must retry.
    net.air.drop_next(4, lambda frame: frame.sender == DEVICE and len(frame.psdu) > 5)

    async def send_all():
        for i in range(40):
            await net.device.send_packet(_packet(0x0000, bytes([0, i, 0, 0, 0])))

    net.run(send_all())
    net.settle()
    assert received == [bytes([0, i, 0, 0, 0]) for i in range(40)]
    assert net.device.stats["aps_retries"] > 0  # the loss was real and retries recovered it
    assert net.device.stats["aps_delivery_failed"] == 0
    net.close()


def _capture(seed: int) -> bytes:
    net = Net(seed=seed)
    net.air.degrade(COORD, DEVICE, Impairment(drop=0.2, duplicate=0.1))
    net.join(30)

    async def traffic():
        for i in range(10):
            await net.device.send_packet(_packet(0x0000, bytes([0, i, 0, 0, 0])))

    net.run(traffic())
    net.settle()
    data = pcap_bytes((f.timestamp, f.psdu) for f in net.frames)
    net.close()
    return data


def test_same_seed_gives_identical_capture_bytes():
    first, second, other = _capture(11), _capture(11), _capture(12)
    assert first == second
    assert first != other


def test_leave_and_rejoin(net):
    net.join()
    net.settle()
    nwk = net.device.nwk
    net.run(net.device.leave(rejoin=True))
    net.settle()
    assert not net.device.joined
    assert net.leaves == [(nwk, DEVICE)]
    net.run(net.device.rejoin(10))
    assert net.device.joined and net.device.nwk == nwk
    net.settle()
    received: list[t.ZigbeePacket] = []
    net.coord.add_packet_listener(received.append)
    net.run(net.device.send_packet(_packet(0x0000, b"\x00\x01\x00\x00\x00")))
    assert len(received) == 1


def test_trust_center_rejoin_after_losing_the_network_key(net):
    net.join()
    net.settle()
    net.run(net.device.leave(rejoin=False))
    net.settle()
    assert net.device.security.network_key is None
    # Permit-join is irrelevant for a Trust Center rejoin with a known link key.
    net.coord.permit_joining(0)
    net.run(net.device.rejoin(10, trust_center_rejoin=True))
    assert net.device.joined
    assert net.device.security.network_key == NETWORK_KEY


def test_mgmt_leave_makes_the_device_leave(net):
    net.join()
    net.settle()
    responses: list[t.ZigbeePacket] = []
    net.coord.add_packet_listener(lambda p: responses.append(p) if p.cluster_id == ZDOCmd.Mgmt_Leave_rsp else None)
    request = zdo.encode(ZDOCmd.Mgmt_Leave_req, 7, t.EUI64.convert("00:00:00:00:00:00:00:00"), t.bitmap8(0))
    net.run(net.coord.send_packet(t.ZigbeePacket(
        src_ep=0, dst=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=net.device.nwk), dst_ep=0,
        profile_id=0, cluster_id=ZDOCmd.Mgmt_Leave_req, data=t.SerializableBytes(request),
    )))
    net.settle()
    assert len(responses) == 1 and responses[0].data.serialize()[1] == zdo_t.Status.SUCCESS
    assert not net.device.joined
    assert net.leaves and net.leaves[-1][1] == DEVICE


def test_network_key_update(net):
    net.join()
    net.settle()
    new_key = bytes(range(16, 32))
    confirmed = net.run(net.tc.update_network_key(new_key, 1))
    assert confirmed == [DEVICE]
    assert net.device.security.active_key_seq == 1 and net.device.security.network_key == new_key
    assert net.coord.security.active_key_seq == 1
    received: list[t.ZigbeePacket] = []
    net.coord.add_packet_listener(received.append)
    net.run(net.device.send_packet(_packet(0x0000, b"\x00\x02\x00\x00\x00")))
    assert len(received) == 1
    # The frame went out under the new key sequence number.
    last = [f for f in net.frames if f.sender == DEVICE and MacFrame.deserialize(f.psdu).frame_type == MacFrameType.DATA][-1]
    nwk_bytes = MacFrame.deserialize(last.psdu).payload
    _header, offset = NwkFrame.deserialize_header(nwk_bytes)
    assert nwk_bytes[offset + 13] == 1  # aux header: control, counter(4), source IEEE(8), key seq


def test_zdo_match_desc_needs_profile_and_cluster(net):
    net.join()
    net.settle()
    answers: list[t.ZigbeePacket] = []
    net.coord.add_packet_listener(lambda p: answers.append(p) if p.cluster_id == ZDOCmd.Match_Desc_rsp else None)

    def ask(profile: int, in_clusters: list[int], tsn: int):
        data = zdo.encode(ZDOCmd.Match_Desc_req, tsn, t.NWK(net.device.nwk), t.uint16_t(profile),
                          t.LVList[t.uint16_t, t.uint8_t](in_clusters), t.LVList[t.uint16_t, t.uint8_t]([]))
        net.run(net.coord.send_packet(t.ZigbeePacket(
            src_ep=0, dst=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=net.device.nwk), dst_ep=0,
            profile_id=0, cluster_id=ZDOCmd.Match_Desc_req, data=t.SerializableBytes(data),
        )))
        net.settle()
        return zdo.decode(ZDOCmd.Match_Desc_rsp, answers[-1].data.serialize())[1][2]

    assert list(ask(0x0109, [0x0800], 1)) == [1]
    assert list(ask(0x0104, [0x0800], 2)) == []  # HA profile: no match, although the cluster matches
    assert list(ask(0x0109, [0x0006], 3)) == []


def test_security_material_repr_hides_keys(net):
    net.join()
    text = repr(net.device.security) + repr(net.device.security.link_keys)
    assert NETWORK_KEY.hex() not in text.lower() and INSTALL_CODE.link_key.hex() not in text.lower()
    assert "redacted" in text


def test_service_discovery_finds_a_server_unicast_or_by_broadcast(net):
    """find_se_server: the coordinator finds the device's KE server asked directly or by broadcast; a cluster
    nobody serves is a DiscoveryError naming it (broadcast: nobody answers; unicast: no endpoint)."""
    net.join()
    net.settle()
    assert net.run(find_se_server(net.coord, 0x0800, net.device.nwk, tsn=5)) == (net.device.nwk, 1)
    assert net.run(find_se_server(net.coord, 0x0800, RX_ON_WHEN_IDLE, tsn=6, timeout=3)) == (net.device.nwk, 1)
    with pytest.raises(DiscoveryError, match="cluster 0x0702 from 0xFFFD within 3 s"):
        net.run(find_se_server(net.coord, 0x0702, RX_ON_WHEN_IDLE, tsn=7, timeout=3))  # 0x0702 is its client
    with pytest.raises(DiscoveryError, match="endpoints \\[\\]"):
        net.run(find_se_server(net.coord, 0x0006, net.device.nwk, tsn=8))


def _mgmt_leave(net, options: int) -> None:
    request = zdo.encode(ZDOCmd.Mgmt_Leave_req, 8, t.EUI64.convert("00:00:00:00:00:00:00:00"), t.bitmap8(options))
    net.run(net.coord.send_packet(t.ZigbeePacket(
        src_ep=0, dst=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=net.device.nwk), dst_ep=0,
        profile_id=0, cluster_id=ZDOCmd.Mgmt_Leave_req, data=t.SerializableBytes(request),
    )))


@pytest.mark.parametrize(("rejoins", "behaviour"), [(True, StackBehaviour()),
                                                    (False, StackBehaviour(rejoin_after_leave=False))])
def test_mgmt_leave_with_rejoin_comes_back(rejoins, behaviour):
    net = Net(behaviour=behaviour)
    try:
        net.join()
        net.settle()
        nwk = net.device.nwk
        _mgmt_leave(net, 0xC0)  # Rejoin and Remove Children
        net.settle(5)
        assert net.leaves and net.leaves[-1][1] == DEVICE
        assert net.device.joined is rejoins and (not rejoins or net.device.nwk == nwk)
    finally:
        net.close()


@pytest.mark.parametrize(("persist", "behaviour"), [(True, StackBehaviour()),
                                                    (False, StackBehaviour(persist_nwk_frame_counter=False))])
def test_power_cycle_and_the_nwk_frame_counter(persist, behaviour):
    net = Net(behaviour=behaviour)
    try:
        net.join()
        net.settle()
        counter = net.device.security.nwk_tx_counter
        assert counter > 0
        net.device.power_off()
        sent = len(net.frames)
        net.device.announce()  # a broadcast: no ack awaited
        net.settle()
        assert len(net.frames) == sent  # a radio without power sends nothing
        net.device.power_on()
        assert net.device.joined and net.device.security.nwk_tx_counter == (counter + 1 if persist else 0)
    finally:
        net.close()


@pytest.mark.parametrize(("falls_back", "behaviour"), [(True, StackBehaviour()),
                                                       (False, StackBehaviour(trust_center_rejoin_fallback=False))])
def test_a_device_that_missed_a_key_update_rejoins_through_the_trust_center(falls_back, behaviour):
    net = Net(behaviour=behaviour)
    try:
        net.join()
        net.settle()
        net.device.power_off()
        new_key = bytes(range(16, 32))
        assert net.run(net.tc.update_network_key(new_key, 1)) == []
        net.tc.retire_network_key(0)
        net.device.power_on()
        if falls_back:
            net.run(net.device.rejoin(30))
            assert net.device.joined and net.device.security.active_key_seq == 1
        else:
            with pytest.raises(JoinError):
                net.run(net.device.rejoin(30))
    finally:
        net.close()

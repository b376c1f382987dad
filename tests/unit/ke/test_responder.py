"""The responder against raw frames: busy, malformed, out of the blue, invalid points, key only after MAC."""

from __future__ import annotations

from random import Random

import pytest
import zigpy.types as t

from harness.crypto import CbkeParty, Role
from harness.ke import KeEventKind, KeResult
from harness.ke.events import TerminatedBy
from harness.se.datamodel import Side
from harness.se.types import KeyEstablishmentStatus as S

from .conftest import (
    DEVICE_IEEE,
    DEVICE_NWK,
    ENDPOINT,
    GOLDEN_IEEE,
    GOLDEN_NWK,
    OTHER_IEEE,
    OTHER_NWK,
    make_engine,
)


@pytest.fixture
def golden(link, ca, identities):
    party = link.add(GOLDEN_NWK, GOLDEN_IEEE)
    party.attach(make_engine(ca, identities, GOLDEN_IEEE, (1,), seed=3))
    return party


@pytest.fixture
def raw(link):
    """A peer without a state machine: it sends hand-made KE frames and records what comes back."""
    party = link.add(DEVICE_NWK, DEVICE_IEEE)
    party.inbox = []
    original = party.receive

    async def receive(packet):
        party.inbox.append(packet.data.serialize())
        await original(packet)

    party.receive = receive
    return party


def send(link, party, command: int, payload: bytes, dst=GOLDEN_NWK):
    link.run(party.zcl.request(dst, ENDPOINT, 0x0800, command, payload, src_ep=ENDPOINT, general=False,
                               target=Side.SERVER, expect=None, disable_default_response=True))
    link.settle(0.1)


def terminates(inbox):
    """(status, wait time) of every Terminate Key Establishment response in an inbox."""
    return [(frame[3], frame[4]) for frame in inbox if frame[0] & 0x01 and frame[2] == 0x03]


def initiate(identities, ieee=DEVICE_IEEE, suite=1) -> bytes:
    return suite.to_bytes(2, "little") + bytes([10, 10]) + identities[(ieee, suite)].certificate


def test_second_initiator_gets_no_resources_with_a_wait_time(link, golden, raw, identities):
    other = link.add(OTHER_NWK, OTHER_IEEE)
    other.inbox = []
    other_receive = other.receive

    async def record(packet):
        other.inbox.append(packet.data.serialize())
        await other_receive(packet)

    other.receive = record
    send(link, raw, 0x00, initiate(identities))
    assert golden.ke.busy
    send(link, other, 0x00, initiate(identities, OTHER_IEEE), dst=GOLDEN_NWK)
    assert terminates(other.inbox) == [(S.No_Resources, 30)]
    assert golden.ke.busy and terminates(raw.inbox) == []  # the first exchange goes on


@pytest.mark.parametrize(
    ("command", "payload"),
    [
        (0x00, b"\x01\x00\x0a"),  # Initiate without the identity
        (0x00, b"\x01\x00\x0a\x0a" + bytes(47)),  # a 47-byte certificate
        (0x01, bytes(21)),  # ephemeral data one byte short
    ],
)
def test_malformed_frames_get_bad_message(link, golden, raw, command, payload):
    send(link, raw, command, payload)
    assert terminates(raw.inbox) == [(S.Bad_Message, 30)]
    assert golden.ke.events_of(KeEventKind.TERMINATED)[0].detail.startswith("malformed")
    assert not golden.ke.busy


@pytest.mark.parametrize("command", [0x01, 0x02])
def test_frames_out_of_the_blue_are_out_of_sequence(link, golden, raw, command):
    send(link, raw, command, bytes(22 if command == 0x01 else 16))
    assert terminates(raw.inbox) == [(S.Bad_Message, 30)]


def test_invalid_ephemeral_point_is_bad_message(link, golden, raw, identities):
    send(link, raw, 0x00, initiate(identities))
    send(link, raw, 0x01, b"\x02" + b"\xff" * 21)  # x out of the field's 163 bits: not a point
    assert terminates(raw.inbox) == [(S.Bad_Message, 30)]
    end = golden.ke.events_of(KeEventKind.TERMINATED)[-1]
    assert end.in_exchange and end.role is Role.RESPONDER and "ephemeral public key" in end.detail


def test_unknown_suite_bitmap_is_unsupported_suite(link, golden, raw, identities):
    send(link, raw, 0x00, b"\x03\x00" + initiate(identities)[2:])  # two suites at once
    assert terminates(raw.inbox) == [(S.Unsupported_Suite, 30)]


def test_key_is_installed_only_after_a_good_macu(link, golden, raw, ca, identities):
    """Drive the golden responder by hand: a wrong MACU leaves no key; the right one installs it, after the
    MACU is checked and together with the MACV answer."""
    for attempt, good in enumerate((False, True)):
        party = CbkeParty(1, ca.public_key_bytes(1), identities[(DEVICE_IEEE, 1)].certificate,
                          identities[(DEVICE_IEEE, 1)].private_key, rng=Random(attempt))
        raw.inbox.clear()
        send(link, raw, 0x00, initiate(identities))
        responder_certificate = raw.inbox[-1][3 + 4:]
        send(link, raw, 0x01, party.ephemeral())
        keys = party.derive(responder_certificate, raw.inbox[-1][3:], Role.INITIATOR)
        assert golden.keys == {}, "no key before Confirm Key"
        mac = keys.mac_u if good else bytes(16)
        send(link, raw, 0x02, mac)
        if not good:
            assert terminates(raw.inbox) == [(S.Bad_Key_Confirm, 30)] and golden.keys == {}
            link.settle(40)
            continue
        assert raw.inbox[-1][2] == 0x02 and raw.inbox[-1][3:] == keys.mac_v
        assert golden.keys == {DEVICE_IEEE: keys.key_data}
    outcomes = [(e.kind, e.status) for e in golden.ke.events if e.kind in (KeEventKind.COMPLETED, KeEventKind.TERMINATED)]
    assert outcomes == [(KeEventKind.TERMINATED, S.Bad_Key_Confirm), (KeEventKind.COMPLETED, None)]


def test_responder_times_out_from_the_initiator_advertised_times(link, golden, raw, identities):
    # The initiator advertises 25 s to generate ephemeral data: the responder waits 10 + 25 s.
    send(link, raw, 0x00, b"\x01\x00" + bytes([25, 5]) + identities[(DEVICE_IEEE, 1)].certificate)
    started = golden.ke.events_of(KeEventKind.STARTED)[0].at
    link.settle(40)
    timeout = golden.ke.events_of(KeEventKind.TIMEOUT)[0]
    assert timeout.at - started == pytest.approx(35.0, abs=0.1)
    assert not golden.ke.busy


def test_terminate_from_the_partner_ends_the_exchange_without_a_key(link, golden, raw, identities):
    send(link, raw, 0x00, initiate(identities))
    send(link, raw, 0x03, bytes([S.No_Resources, 12]) + b"\x01\x00")
    end = golden.ke.events_of(KeEventKind.TERMINATED)[-1]
    assert (end.by, end.status, end.wait_time, end.in_exchange) == (TerminatedBy.PARTNER, S.No_Resources, 12, True)
    assert not golden.ke.busy and golden.keys == {}
    assert KeResult.TERMINATED.value == "terminated"


def test_aps_encrypted_ke_frame_is_noted(link, golden, raw, identities):
    link.run(raw.send(t.ZigbeePacket(
        dst=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=GOLDEN_NWK), dst_ep=ENDPOINT, src_ep=ENDPOINT, tsn=9,
        profile_id=0x0109, cluster_id=0x0800, data=t.SerializableBytes(b"\x11\x09\x00" + initiate(identities)),
        tx_options=t.TransmitOptions.APS_Encryption | t.TransmitOptions.ACK)))
    link.settle(0.1)
    assert golden.ke.events_of(KeEventKind.FRAME_RECEIVED)[0].aps_encrypted

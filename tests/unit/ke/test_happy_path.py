"""A full CBKE between a device (initiator) and the golden (responder), suite 1 and suite 2."""

from __future__ import annotations

import pytest
import zigpy.types as t

from harness.crypto import Role
from harness.ke import KeCommand, KeEventKind, KeResult, TerminatedBy
from harness.se.datamodel import Side

from .conftest import DEVICE_IEEE, DEVICE_NWK, ENDPOINT, GOLDEN_IEEE, GOLDEN_NWK


@pytest.mark.parametrize("suite", [1, 2])
def test_cbke_completes_and_both_sides_install_the_same_key(pair_factory, suite):
    pair = pair_factory(golden_suites=(1, 2), device_suites=(1, 2))
    outcome = pair.establish()
    assert outcome.result is KeResult.SUCCESS, str(outcome)
    # Both sides advertise 1 and 2: the initiator read the attribute and took the highest common suite.
    assert outcome.suite == 2
    assert outcome.attempts == 1
    assert pair.device.keys[GOLDEN_IEEE] == pair.golden.keys[DEVICE_IEEE] == outcome.key
    assert len(outcome.key) == 16
    completed = pair.gke.events_of(KeEventKind.COMPLETED)
    assert [(e.role, e.partner_nwk, e.partner_ieee) for e in completed] == [(Role.RESPONDER, DEVICE_NWK, DEVICE_IEEE)]
    assert completed[0].key == outcome.key and "key" not in repr(completed[0]).replace("key=", "")
    _ = suite


@pytest.mark.parametrize("suite", [1, 2])
def test_explicit_suite_runs_that_suite(pair_factory, suite):
    pair = pair_factory(golden_suites=(1, 2), device_suites=(1, 2))
    outcome = pair.establish(suite=suite)
    assert outcome.success and outcome.suite == suite
    sent_initiate = [p for p in pair.device.sent if p.cluster_id == 0x0800 and p.data.serialize()[2] == 0x00]
    identity = sent_initiate[0].data.serialize()[3 + 4:]
    assert len(identity) == {1: 48, 2: 74}[suite]
    assert pair.device.keys[GOLDEN_IEEE] == pair.golden.keys[DEVICE_IEEE]


def test_frame_order_and_transport_options(pair_factory):
    pair = pair_factory()
    assert pair.establish().success
    ke_frames = [p for p in pair.device.sent + pair.golden.sent if p.cluster_id == 0x0800]
    for packet in ke_frames:
        assert packet.tx_options & t.TransmitOptions.ACK, "KE frames ask for an APS ack"
        assert not packet.tx_options & t.TransmitOptions.APS_Encryption, "KE runs under NWK security only"
    trail = [(e.kind, e.command) for e in pair.dke.events if e.kind in (KeEventKind.FRAME_SENT, KeEventKind.FRAME_RECEIVED)]
    assert trail == [
        (KeEventKind.FRAME_SENT, KeCommand.INITIATE),
        (KeEventKind.FRAME_RECEIVED, KeCommand.INITIATE),
        (KeEventKind.FRAME_SENT, KeCommand.EPHEMERAL_DATA),
        (KeEventKind.FRAME_RECEIVED, KeCommand.EPHEMERAL_DATA),
        (KeEventKind.FRAME_SENT, KeCommand.CONFIRM_KEY),
        (KeEventKind.FRAME_RECEIVED, KeCommand.CONFIRM_KEY),
    ]
    # The responder answers with the request's sequence number; requests get fresh ones.
    requests = [p.data.serialize()[1] for p in _ke_commands(pair.device.sent)]
    answers = [p.data.serialize()[1] for p in _ke_commands(pair.golden.sent)]
    assert answers == requests and len(set(requests)) == 3
    # Direction bits: client-to-server from the initiator, server-to-client from the responder.
    assert all(not p.data.serialize()[0] & 0x08 for p in _ke_commands(pair.device.sent))
    assert all(p.data.serialize()[0] & 0x08 for p in _ke_commands(pair.golden.sent))


def _ke_commands(packets):
    """Cluster-specific KE frames (frame type bit set), leaving out the Read Attributes of the suite."""
    return [p for p in packets if p.cluster_id == 0x0800 and p.data.serialize()[0] & 0x01]


def test_key_establishment_suite_attribute_reflects_the_engine(pair_factory, link):
    pair = pair_factory(golden_suites=(1, 2), device_suites=(1,))
    for reader, party, expected in ((pair.device, pair.golden, 0x0003), (pair.golden, pair.device, 0x0001)):
        for side in (Side.SERVER, Side.CLIENT):
            records = link.run(reader.zcl.read_attributes(party.nwk, ENDPOINT, 0x0800, [0x0000], src_ep=ENDPOINT,
                                                          target=side))
            assert records[0].status == 0 and records[0].value.type == 0x31  # ENUM16
            assert int(records[0].value.value) == expected, (party.nwk, side)


def test_events_have_timestamps_and_terminations_say_who(pair_factory):
    pair = pair_factory()
    assert pair.establish().success
    started = pair.dke.events_of(KeEventKind.STARTED)[0]
    completed = pair.dke.events_of(KeEventKind.COMPLETED)[0]
    assert 0 <= started.at < completed.at < 1.0  # four one-way hops of 4 ms plus crypto in zero virtual time
    assert completed.by is None and pair.dke.events_of(KeEventKind.TERMINATED) == []
    assert TerminatedBy.LOCAL.value == "local"
    assert GOLDEN_NWK == completed.partner_nwk

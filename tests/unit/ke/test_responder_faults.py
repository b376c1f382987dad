"""The device as responder (the golden initiates): the golden's hooks as initiator and the device's responder
faults, each visible from the golden side (TC-KE-4.3 .. 4.13)."""

from __future__ import annotations

import asyncio

import pytest

from harness.crypto import curve_for_suite
from harness.crypto.errors import CryptoError
from harness.ke import (
    DeviceKeFaults,
    EphemeralMangle,
    GoldenKeFaults,
    KeCommand,
    KeEventKind,
    KeResult,
    RetryPolicy,
)
from harness.ke.events import TerminatedBy
from harness.ke.faults import mangle_ephemeral
from harness.ke.frames import EPHEMERAL_LENGTHS
from harness.ke.state_machine import SLOW_CONFIRM_EXTRA, KeTiming
from harness.se.types import KeyEstablishmentStatus as S

from .conftest import DEVICE_IEEE, DEVICE_NWK, ENDPOINT, GOLDEN_IEEE, OTHER_IEEE, OTHER_NWK, make_engine

NO_RETRY = RetryPolicy(busy_retries=0, timeout_retries=0)


def golden_initiates(pair):
    outcome = pair.link.run(pair.gke.establish(DEVICE_NWK, ENDPOINT, partner_ieee=DEVICE_IEEE, suite=1,
                                               retry=NO_RETRY))
    pair.link.settle(0.1)
    return outcome


def _sent(party, command):
    """(tsn, frame bytes) of the KE frames *party* sent with *command*."""
    out = []
    for packet in party.sent:
        data = packet.data.serialize()
        if data[2] == command:
            out.append((data[1], data))
    return out


def test_a_conformant_responder_completes(pair_factory):
    pair = pair_factory()
    outcome = golden_initiates(pair)
    assert outcome.success and pair.device.keys[GOLDEN_IEEE] == pair.golden.keys[DEVICE_IEEE]


def test_ephemeral_data_before_initiate_is_bad_message(pair_factory):
    pair = pair_factory(golden=GoldenKeFaults(ephemeral_first=True))
    outcome = golden_initiates(pair)
    assert outcome.by is TerminatedBy.PARTNER and outcome.status == S.Bad_Message


@pytest.mark.parametrize("how", list(EphemeralMangle))
def test_a_bad_ephemeral_key_is_refused_before_the_answer(pair_factory, how):
    pair = pair_factory(golden=GoldenKeFaults(ephemeral=how))
    outcome = golden_initiates(pair)
    assert outcome.by is TerminatedBy.PARTNER and outcome.status == S.Bad_Message
    assert _sent(pair.device, KeCommand.EPHEMERAL_DATA) == []


def test_mangled_ephemeral_keys():
    curve = curve_for_suite(1)
    public = curve.encode_point(curve.base_multiply(12345))
    assert len(mangle_ephemeral(public, 1, EphemeralMangle.SHORT)) == EPHEMERAL_LENGTHS[1] - 1
    off = mangle_ephemeral(public, 1, EphemeralMangle.OFF_CURVE)
    assert len(off) == EPHEMERAL_LENGTHS[1] and off[0] == public[0]
    with pytest.raises(CryptoError):
        curve.decode_point(off)


def test_skipping_the_ephemeral_check_answers_first(pair_factory):
    pair = pair_factory(golden=GoldenKeFaults(ephemeral=EphemeralMangle.OFF_CURVE),
                        device=DeviceKeFaults(skip_ephemeral_check=True))
    outcome = golden_initiates(pair)
    assert _sent(pair.device, KeCommand.EPHEMERAL_DATA)  # its answer went out before it found the point bad
    assert outcome.status == S.Bad_Message and not pair.device.keys


def test_silent_on_a_short_ephemeral_data(pair_factory):
    pair = pair_factory(golden=GoldenKeFaults(ephemeral=EphemeralMangle.SHORT),
                        device=DeviceKeFaults(silent_on_malformed=True))
    assert golden_initiates(pair).result is KeResult.TIMEOUT


def test_a_wrong_macu_is_refused_and_the_golden_keeps_the_key_it_derived(pair_factory):
    pair = pair_factory(golden=GoldenKeFaults(wrong_mac=True))
    outcome = golden_initiates(pair)
    assert outcome.status == S.Bad_Key_Confirm and outcome.by is TerminatedBy.PARTNER
    terminated = pair.gke.events_of(KeEventKind.TERMINATED)[-1]
    assert terminated.key is not None and len(terminated.key) == 16 and not pair.device.keys


def test_ignoring_a_bad_macu_installs_the_key(pair_factory):
    pair = pair_factory(golden=GoldenKeFaults(wrong_mac=True), device=DeviceKeFaults(ignore_bad_macu=True))
    golden_initiates(pair)
    assert GOLDEN_IEEE in pair.device.keys
    assert pair.device.keys[GOLDEN_IEEE] == pair.gke.events_of(KeEventKind.COMPLETED)[-1].key


@pytest.mark.parametrize("reuse", [False, True])
def test_ephemeral_keys_per_exchange(pair_factory, reuse):
    pair = pair_factory(device=DeviceKeFaults(reuse_ephemeral_key=reuse))
    assert pair.establish(retry=NO_RETRY).success  # the device as initiator
    assert golden_initiates(pair).success  # then as responder
    keys = [data[3:] for _tsn, data in _sent(pair.device, KeCommand.EPHEMERAL_DATA)]
    assert len(keys) == 2 and (keys[0] == keys[1]) is reuse


@pytest.mark.parametrize("fresh", [False, True])
def test_response_sequence_numbers(pair_factory, fresh):
    pair = pair_factory(device=DeviceKeFaults(fresh_response_tsn=fresh))
    for _ in range(0x40):  # the golden's sequence numbers apart from the device's own counter
        pair.golden.zcl.next_tsn()
    assert golden_initiates(pair).success
    for command in (KeCommand.INITIATE, KeCommand.EPHEMERAL_DATA, KeCommand.CONFIRM_KEY):
        (asked, _), (got, _) = _sent(pair.golden, command)[-1], _sent(pair.device, command)[-1]
        assert (asked != got) is fresh


def test_a_big_endian_suite_is_refused_by_the_initiator(pair_factory):
    pair = pair_factory(device=DeviceKeFaults(suite_big_endian=True))
    outcome = golden_initiates(pair)
    assert outcome.status == S.Unsupported_Suite and outcome.by is TerminatedBy.LOCAL
    (_tsn, data), = _sent(pair.device, KeCommand.INITIATE)
    assert data[3:5] == bytes([0x00, 0x01])


def test_a_slow_confirm_key_answer(pair_factory):
    timing = KeTiming(confirm_key_generate_time=4)
    pair = pair_factory(device=DeviceKeFaults(slow_confirm_key=True), device_timing=timing)
    assert golden_initiates(pair).success
    sent = [e for e in pair.gke.events_of(KeEventKind.FRAME_SENT) if e.command is KeCommand.CONFIRM_KEY][-1]
    answer = [e for e in pair.gke.events_of(KeEventKind.FRAME_RECEIVED) if e.command is KeCommand.CONFIRM_KEY][-1]
    assert answer.at - sent.at >= timing.confirm_key_generate_time + SLOW_CONFIRM_EXTRA


@pytest.mark.parametrize("accepts", [False, True])
def test_a_second_initiator_mid_exchange(pair_factory, link, ca, identities, accepts):
    pair = pair_factory(golden=GoldenKeFaults(delay_command=KeCommand.INITIATE, delay_seconds=2.0),
                        device=DeviceKeFaults(accept_second_partner=accepts))
    other = link.add(OTHER_NWK, OTHER_IEEE)
    other.attach(make_engine(ca, identities, OTHER_IEEE, (1,), seed=33))

    async def both():
        running = link.loop.create_task(pair.gke.establish(DEVICE_NWK, ENDPOINT, partner_ieee=DEVICE_IEEE,
                                                           suite=1, retry=NO_RETRY))
        await asyncio.sleep(1.0)  # the device's Initiate response is in; the golden holds its Ephemeral Data
        second = await other.ke.establish(DEVICE_NWK, ENDPOINT, partner_ieee=DEVICE_IEEE, suite=1, retry=NO_RETRY)
        return await running, second

    golden, second = link.run(both())
    if accepts:
        assert second.success and not golden.success
    else:
        assert golden.success
        assert second.by is TerminatedBy.PARTNER and second.status == S.No_Resources and second.wait_time

"""Each device non-conformance is visible from the golden side (the golden runs without faults unless a
golden hook is needed to provoke the device)."""

from __future__ import annotations

from random import Random

from harness.crypto import Role
from harness.ke import (
    CertificateMangle,
    DeviceKeFaults,
    GoldenKeFaults,
    KeCommand,
    KeEventKind,
    KeResult,
    RetryPolicy,
    device_engine,
)
from harness.ke.events import TerminatedBy
from harness.se.types import KeyEstablishmentStatus as S

from .conftest import DEVICE_IEEE, DEVICE_NWK, ENDPOINT, GOLDEN_IEEE

NO_RETRY = RetryPolicy(busy_retries=0, timeout_retries=0)


def _received(ke, command):
    return [e for e in ke.events_of(KeEventKind.FRAME_RECEIVED) if e.command is command]


def _golden_terminated(pair, status):
    return [e for e in pair.gke.events_of(KeEventKind.TERMINATED) if e.by is TerminatedBy.LOCAL and e.status == status]


def test_accepts_unknown_issuer(pair_factory):
    conformant = pair_factory(golden=GoldenKeFaults(certificate=CertificateMangle.ISSUER))
    conformant.establish(retry=NO_RETRY)
    assert _received(conformant.gke, KeCommand.EPHEMERAL_DATA) == []


def test_faulty_device_goes_on_past_an_unknown_issuer(pair_factory):
    pair = pair_factory(golden=GoldenKeFaults(certificate=CertificateMangle.ISSUER),
                        device=DeviceKeFaults(accept_unknown_issuer=True))
    pair.establish(retry=NO_RETRY)
    # The golden sees Ephemeral Data after its foreign-issuer certificate: the issuer was not checked.
    assert _received(pair.gke, KeCommand.EPHEMERAL_DATA)


def test_ignores_a_bad_macv_and_uses_the_key(pair_factory):
    pair = pair_factory(golden=GoldenKeFaults(wrong_mac=True), device=DeviceKeFaults(ignore_bad_macv=True))
    outcome = pair.establish(retry=NO_RETRY)
    assert outcome.success and pair.device.keys[GOLDEN_IEEE] == pair.golden.keys[DEVICE_IEEE]
    # Visible from the golden: no BAD_KEY_CONFIRM comes back after its wrong MACV.
    assert not [e for e in pair.gke.events_of(KeEventKind.TERMINATED) if e.status == S.Bad_Key_Confirm]


def test_does_not_check_the_subject(pair_factory):
    pair = pair_factory(golden=GoldenKeFaults(certificate=CertificateMangle.SUBJECT),
                        device=DeviceKeFaults(skip_subject_check=True))
    pair.establish(retry=NO_RETRY)
    assert _received(pair.gke, KeCommand.EPHEMERAL_DATA)


def test_accepts_out_of_sequence_frames(pair_factory):
    pair = pair_factory(golden=GoldenKeFaults(out_of_sequence=True), device=DeviceKeFaults(accept_out_of_sequence=True))
    outcome = pair.establish(retry=NO_RETRY)
    assert outcome.result is KeResult.TIMEOUT  # it waited on instead of terminating
    assert not [e for e in pair.gke.events_of(KeEventKind.TERMINATED) if e.by is TerminatedBy.PARTNER]


def test_retries_before_the_wait_time(pair_factory):
    pair = pair_factory(golden=GoldenKeFaults(no_resources_wait=40), device=DeviceKeFaults(retry_before_wait_time=True))
    assert pair.establish().success
    busy = _golden_terminated(pair, S.No_Resources)[0]
    second = _received(pair.gke, KeCommand.INITIATE)[1]
    assert second.at - busy.at < busy.wait_time


def test_never_retries_after_a_timeout(pair_factory):
    pair = pair_factory(golden=GoldenKeFaults(silent_from=KeCommand.INITIATE),
                        device=DeviceKeFaults(never_retry_after_timeout=True))
    outcome = pair.establish(suite=1, retry=RetryPolicy(timeout_retries=2))
    assert outcome.result is KeResult.TIMEOUT and outcome.attempts == 1
    pair.link.settle(120)
    assert len(_received(pair.gke, KeCommand.INITIATE)) == 1


def test_conformant_device_retries_after_a_timeout(pair_factory):
    pair = pair_factory(golden=GoldenKeFaults(silent_from=KeCommand.INITIATE))
    pair.establish(suite=1, retry=RetryPolicy(timeout_retries=2))
    assert len(_received(pair.gke, KeCommand.INITIATE)) == 3


def test_sends_ke_frames_aps_encrypted(pair_factory):
    pair = pair_factory(device=DeviceKeFaults(aps_encrypt_ke_frames=True))
    pair.establish(retry=NO_RETRY)
    received = pair.gke.events_of(KeEventKind.FRAME_RECEIVED)
    assert received and all(e.aps_encrypted for e in received)


def test_conformant_ke_frames_are_not_aps_encrypted(pair_factory):
    pair = pair_factory()
    pair.establish()
    assert not any(e.aps_encrypted for e in pair.gke.events_of(KeEventKind.FRAME_RECEIVED))


def test_advertises_the_wrong_suite(pair_factory, link):
    pair = pair_factory(device=DeviceKeFaults(advertise_wrong_suite=True))
    records = link.run(pair.golden.zcl.read_attributes(DEVICE_NWK, ENDPOINT, 0x0800, [0], src_ep=ENDPOINT))
    assert int(records[0].value.value) == 0x0002  # claims suite 2, has only suite 1


def test_sends_a_wrong_macu(pair_factory):
    pair = pair_factory(device=DeviceKeFaults(wrong_mac=True))
    outcome = pair.establish(retry=NO_RETRY)
    assert (outcome.by, outcome.status) == (TerminatedBy.PARTNER, S.Bad_Key_Confirm)
    assert _golden_terminated(pair, S.Bad_Key_Confirm) and pair.golden.keys == {}


def test_certificate_with_a_foreign_subject(pair_factory, ca):
    faults = DeviceKeFaults(foreign_subject=True)
    engine = device_engine(ca, DEVICE_IEEE, faults=faults, rng=Random(5))
    pair = pair_factory(device=faults, device_engine=engine)
    outcome = pair.establish(retry=NO_RETRY)
    assert (outcome.by, outcome.status) == (TerminatedBy.PARTNER, S.Bad_Message)
    refused = _golden_terminated(pair, S.Bad_Message)[0]
    assert refused.role is Role.RESPONDER and "not the sender's IEEE" in refused.detail

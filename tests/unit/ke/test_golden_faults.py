"""Each golden test hook, and what a conformant device (this state machine without device faults) does."""

from __future__ import annotations

import pytest

from harness.crypto import Role
from harness.ke import (
    CertificateMangle,
    GoldenKeFaults,
    KeCommand,
    KeEventKind,
    KeResult,
    KeTiming,
    RetryPolicy,
)
from harness.ke.events import TerminatedBy
from harness.se.types import KeyEstablishmentStatus as S

from .conftest import DEVICE_IEEE, DEVICE_NWK, ENDPOINT, GOLDEN_IEEE

NO_RETRY = RetryPolicy(busy_retries=0, timeout_retries=0)


def _golden_saw_terminate(pair, status):
    return [e for e in pair.gke.events_of(KeEventKind.TERMINATED) if e.by is TerminatedBy.PARTNER and e.status == status]


@pytest.mark.parametrize(
    ("mangle", "status"),
    [
        (CertificateMangle.ISSUER, S.Unknown_Issuer),
        (CertificateMangle.SUBJECT, S.Bad_Message),
        (CertificateMangle.LENGTH, S.Bad_Message),  # 47 bytes: a malformed Initiate response
        (CertificateMangle.CORRUPT_BYTE, S.Invalid_Certificate),
    ],
)
@pytest.mark.parametrize("suite", [1, 2])
def test_mangled_golden_certificate_is_refused(pair_factory, mangle, status, suite):
    pair = pair_factory(golden=GoldenKeFaults(certificate=mangle), golden_suites=(1, 2), device_suites=(1, 2))
    outcome = pair.establish(suite=suite, retry=NO_RETRY)
    assert outcome.result is KeResult.TERMINATED and outcome.by is TerminatedBy.LOCAL
    assert outcome.status == status, outcome.detail
    assert _golden_saw_terminate(pair, status), "the golden received the device's Terminate"
    assert pair.device.keys == {} and pair.golden.keys == {}


def test_wrong_macv_gets_bad_key_confirm_and_the_device_discards_the_key(pair_factory):
    pair = pair_factory(golden=GoldenKeFaults(wrong_mac=True))
    outcome = pair.establish(retry=NO_RETRY)
    assert (outcome.result, outcome.status) == (KeResult.TERMINATED, S.Bad_Key_Confirm)
    assert outcome.key is None and pair.device.keys == {}
    pair.link.settle()
    # The golden (responder) verified MACU and installed, as the reference plugin does; it then hears the
    # device's BAD_KEY_CONFIRM after its own completion.
    assert DEVICE_IEEE in pair.golden.keys
    late = _golden_saw_terminate(pair, S.Bad_Key_Confirm)
    assert late and not late[0].in_exchange


def test_wrong_macu_from_the_golden_initiator(pair_factory):
    pair = pair_factory(golden=GoldenKeFaults(wrong_mac=True))
    outcome = pair.link.run(pair.gke.establish(DEVICE_NWK, ENDPOINT, retry=NO_RETRY))
    assert (outcome.result, outcome.by, outcome.status) == (KeResult.TERMINATED, TerminatedBy.PARTNER, S.Bad_Key_Confirm)
    pair.link.settle(0.1)
    device_end = pair.dke.events_of(KeEventKind.TERMINATED)[-1]
    assert (device_end.role, device_end.by, device_end.status) == (Role.RESPONDER, TerminatedBy.LOCAL, S.Bad_Key_Confirm)
    assert pair.device.keys == {} and pair.golden.keys == {}


def test_out_of_sequence_responder(pair_factory):
    pair = pair_factory(golden=GoldenKeFaults(out_of_sequence=True))
    outcome = pair.establish(retry=NO_RETRY)
    assert (outcome.result, outcome.by, outcome.status) == (KeResult.TERMINATED, TerminatedBy.LOCAL, S.Bad_Message)
    assert "out of sequence" in outcome.detail
    assert _golden_saw_terminate(pair, S.Bad_Message)


def test_out_of_sequence_initiator(pair_factory):
    pair = pair_factory(golden=GoldenKeFaults(out_of_sequence=True))
    outcome = pair.link.run(pair.gke.establish(DEVICE_NWK, ENDPOINT, retry=NO_RETRY))
    assert (outcome.by, outcome.status) == (TerminatedBy.PARTNER, S.Bad_Message)


def test_unsupported_suite_offered_by_the_golden(pair_factory):
    pair = pair_factory(golden=GoldenKeFaults(offer_suite=0x0004))
    outcome = pair.establish(retry=NO_RETRY)
    assert (outcome.by, outcome.status) == (TerminatedBy.LOCAL, S.Unsupported_Suite)
    # And as initiator: the device (responder) refuses an Initiate request for an unknown suite.
    pair.link.settle(60)
    outcome = pair.link.run(pair.gke.establish(DEVICE_NWK, ENDPOINT, retry=NO_RETRY))
    assert (outcome.by, outcome.status) == (TerminatedBy.PARTNER, S.Unsupported_Suite)


def test_no_resources_then_the_device_waits_at_least_the_wait_time(pair_factory):
    pair = pair_factory(golden=GoldenKeFaults(no_resources_wait=45, no_resources_count=1))
    outcome = pair.establish()
    assert outcome.success and outcome.attempts == 2
    busy = [e for e in pair.gke.events_of(KeEventKind.TERMINATED) if e.status == S.No_Resources]
    initiates = [e for e in pair.gke.events_of(KeEventKind.FRAME_RECEIVED) if e.command is KeCommand.INITIATE]
    assert len(busy) == 1 and busy[0].wait_time == 45 and len(initiates) == 2
    assert initiates[1].at - busy[0].at >= 45


@pytest.mark.parametrize("command", [KeCommand.INITIATE, KeCommand.EPHEMERAL_DATA, KeCommand.CONFIRM_KEY])
def test_terminate_mid_exchange_with_a_given_status(pair_factory, command):
    faults = GoldenKeFaults(terminate_on=command, terminate_status=S.Invalid_Certificate, terminate_wait=7)
    pair = pair_factory(golden=faults)
    outcome = pair.establish(retry=NO_RETRY)
    assert (outcome.result, outcome.by, outcome.status, outcome.wait_time) == (
        KeResult.TERMINATED, TerminatedBy.PARTNER, S.Invalid_Certificate, 7)
    assert pair.device.keys == {}


def test_silent_golden_times_out_after_the_margin_and_the_device_retries(pair_factory):
    pair = pair_factory(golden=GoldenKeFaults(silent_from=KeCommand.INITIATE))
    outcome = pair.establish(suite=1, retry=RetryPolicy(timeout_retries=2, retry_delay=10))
    assert outcome.result is KeResult.TIMEOUT and outcome.attempts == 3
    starts = [e.at for e in pair.dke.events_of(KeEventKind.STARTED)]
    timeouts = [e.at for e in pair.dke.events_of(KeEventKind.TIMEOUT)]
    assert len(starts) == len(timeouts) == 3
    for start, end in zip(starts, timeouts, strict=True):
        assert end - start == pytest.approx(10.0, abs=0.05)  # the 10 s base, no partner time known yet
    assert starts[1] - timeouts[0] == pytest.approx(10.0, abs=0.05)


def test_delay_past_the_advertised_time_is_a_timeout(pair_factory):
    # The golden advertises 10 s for ephemeral data and answers after 25 s: the device waits 10 + 10 s.
    pair = pair_factory(golden=GoldenKeFaults(delay_command=KeCommand.EPHEMERAL_DATA, delay_seconds=25))
    outcome = pair.establish(retry=NO_RETRY)
    assert outcome.result is KeResult.TIMEOUT and "EPHEMERAL_RESPONSE" in outcome.detail
    started = pair.dke.events_of(KeEventKind.STARTED)[0].at
    assert pair.dke.events_of(KeEventKind.TIMEOUT)[0].at - started == pytest.approx(20.0, abs=0.1)
    pair.link.settle(30)
    # The late answer then finds no exchange on the device: it is out of sequence.
    assert _golden_saw_terminate(pair, S.Bad_Message)


def test_the_partner_advertised_time_extends_the_wait(pair_factory):
    # Same 25 s delay, but the golden advertises 40 s: the device waits 50 s and completes.
    pair = pair_factory(golden=GoldenKeFaults(delay_command=KeCommand.EPHEMERAL_DATA, delay_seconds=25),
                        golden_timing=KeTiming(ephemeral_data_generate_time=40))
    outcome = pair.establish(retry=NO_RETRY)
    assert outcome.success
    assert pair.device.keys[GOLDEN_IEEE] == pair.golden.keys[DEVICE_IEEE]


def test_withheld_aps_acks_fail_the_device_exchange(pair_factory):
    pair = pair_factory(golden=GoldenKeFaults(withhold_aps_acks=True))
    outcome = pair.establish(retry=NO_RETRY)
    assert outcome.result is KeResult.SEND_FAILED and "EPHEMERAL_DATA" in outcome.detail
    assert pair.device.keys == {}
    pair.link.settle(60)
    assert pair.golden.acks, "the golden restores its APS acks when its exchange ends"

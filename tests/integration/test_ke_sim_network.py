"""CBKE on the simulated network: a device joins with its install code, finds the KE server with Match_Desc,
completes CBKE with the golden ControllerApplication; SE frames then travel under the new link key on both
sides and the old TC link key no longer opens them. Golden faults get the conformant device's answer;
device faults are visible from the golden side."""

from __future__ import annotations

import asyncio

import pytest

from harness.clock import new_virtual_loop
from harness.crypto import AuthenticationError
from harness.ke import (
    CertificateMangle,
    DeviceKeFaults,
    GoldenKeFaults,
    KeCommand,
    KeEventKind,
    KeResult,
    RetryPolicy,
    TerminatedBy,
)
from harness.se.types import KeyEstablishmentStatus as S
from harness.wire.frames.mac import MacFrame, MacFrameType
from harness.wire.security import unsecure_aps, unsecure_nwk
from tests.support.ke_simnet import (
    COORDINATOR_IEEE,
    DEVICE_ENDPOINT,
    DEVICE_IEEE,
    ESI_ENDPOINT,
    INSTALL_CODE,
    NETWORK_KEY,
    KeNet,
)

NO_RETRY = RetryPolicy(busy_retries=0, timeout_retries=0)


@pytest.fixture
def loop():
    loop = new_virtual_loop()
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.set_event_loop(None)
    loop.close()


@pytest.fixture
def network(loop):
    nets: list[KeNet] = []

    def build(**kwargs) -> KeNet:
        net = KeNet(loop, **kwargs)
        nets.append(net)
        return net

    yield build
    for net in nets:
        loop.run_until_complete(net.close())


def run(loop, coro, deadline: float = 900.0):
    async def bounded():
        async with asyncio.timeout(deadline):
            return await coro
    return loop.run_until_complete(bounded())


def read_summation(net: KeNet, loop):
    """The golden reads the device's Metering CurrentSummationDelivered: an SE cluster, APS-encrypted."""
    return run(loop, net.gzcl.read_attributes(net.device.nwk, DEVICE_ENDPOINT, 0x0702, [0x0000],
                                              src_ep=ESI_ENDPOINT, timeout=5))


def aps_payloads_from(frames, src_nwk: int) -> list[bytes]:
    """The APS bytes (still APS-secured) of the NWK data frames among *frames* sent by *src_nwk*."""
    out = []
    for frame in frames:
        try:
            mac = MacFrame.deserialize(frame.psdu)
        except Exception:
            continue
        if mac.frame_type != MacFrameType.DATA or not mac.payload:
            continue
        try:
            nwk = unsecure_nwk(mac.payload, NETWORK_KEY).frame
        except Exception:
            continue
        if nwk.src == src_nwk and nwk.payload and nwk.payload[0] & 0x20:  # APS security flag
            out.append(nwk.payload)
    return out


def test_join_match_desc_and_cbke_then_se_frames_use_the_new_key(network, loop):
    net = network()
    outcome = run(loop, net.cbke())
    assert outcome.success, str(outcome)
    assert outcome.suite == 1
    new_key = outcome.key
    assert new_key != INSTALL_CODE.link_key
    assert net.device.link_key(COORDINATOR_IEEE) == new_key
    assert net.app.node.link_key(DEVICE_IEEE) == new_key
    completed = net.gke.events_of(KeEventKind.COMPLETED)
    assert completed and completed[0].partner_ieee == DEVICE_IEEE and completed[0].key == new_key
    # KE frames crossed without APS encryption on both sides.
    assert not any(e.aps_encrypted for e in net.gke.events_of(KeEventKind.FRAME_RECEIVED))
    assert not any(e.aps_encrypted for e in net.dke.events_of(KeEventKind.FRAME_RECEIVED))

    sent_before = len(net.frames)
    records = read_summation(net, loop)
    assert records[0].status == 0 and int(records[0].value.value) == 424242
    # The device's Metering answer on the air: the new key opens it, the install-code key does not.
    answers = aps_payloads_from(net.frames[sent_before:], net.device.nwk)
    assert answers, "the device answered APS-encrypted"
    opened = unsecure_aps(answers[-1], new_key, DEVICE_IEEE)
    assert opened.frame.cluster == 0x0702
    with pytest.raises(AuthenticationError):
        unsecure_aps(answers[-1], INSTALL_CODE.link_key, DEVICE_IEEE)


def test_suite_2_end_to_end(network, loop):
    net = network(golden_suites=(1, 2), device_suites=(1, 2))
    outcome = run(loop, net.cbke())
    assert outcome.success and outcome.suite == 2
    assert net.device.link_key(COORDINATOR_IEEE) == net.app.node.link_key(DEVICE_IEEE) == outcome.key
    assert int(read_summation(net, loop)[0].value.value) == 424242


@pytest.mark.parametrize(
    ("faults", "result", "status"),
    [
        (GoldenKeFaults(certificate=CertificateMangle.ISSUER), KeResult.TERMINATED, S.Unknown_Issuer),
        (GoldenKeFaults(certificate=CertificateMangle.SUBJECT), KeResult.TERMINATED, S.Bad_Message),
        (GoldenKeFaults(certificate=CertificateMangle.LENGTH), KeResult.TERMINATED, S.Bad_Message),
        (GoldenKeFaults(certificate=CertificateMangle.CORRUPT_BYTE), KeResult.TERMINATED, S.Invalid_Certificate),
        (GoldenKeFaults(wrong_mac=True), KeResult.TERMINATED, S.Bad_Key_Confirm),
        (GoldenKeFaults(out_of_sequence=True), KeResult.TERMINATED, S.Bad_Message),
        (GoldenKeFaults(offer_suite=0x0002), KeResult.TERMINATED, S.Unsupported_Suite),
        (GoldenKeFaults(terminate_on=KeCommand.EPHEMERAL_DATA, terminate_status=S.Bad_Message), KeResult.TERMINATED,
         S.Bad_Message),
        (GoldenKeFaults(delay_command=KeCommand.CONFIRM_KEY, delay_seconds=25), KeResult.TIMEOUT, None),
        (GoldenKeFaults(silent_from=KeCommand.INITIATE), KeResult.TIMEOUT, None),
        (GoldenKeFaults(withhold_aps_acks=True), KeResult.SEND_FAILED, None),
    ],
    ids=lambda v: getattr(v, "name", None) or (str(v) if not isinstance(v, GoldenKeFaults) else None),
)
def test_golden_fault_gets_the_conformant_answer(network, loop, faults, result, status):
    net = network(golden=faults)
    outcome = run(loop, net.cbke(retry=NO_RETRY, suite=1))
    assert outcome.result is result, str(outcome)
    assert outcome.status == status
    # Whatever went wrong, the device kept the install-code key: it never used an unconfirmed one.
    assert net.device.link_key(COORDINATOR_IEEE) == INSTALL_CODE.link_key
    if status is not None and outcome.by is TerminatedBy.LOCAL:
        run(loop, asyncio.sleep(1))
        seen = [e for e in net.gke.events_of(KeEventKind.TERMINATED) if e.by is TerminatedBy.PARTNER]
        assert seen and seen[-1].status == status, "the golden received the device's Terminate"


def test_no_resources_then_the_device_waits_and_completes(network, loop):
    net = network(golden=GoldenKeFaults(no_resources_wait=20))
    outcome = run(loop, net.cbke())
    assert outcome.success and outcome.attempts == 2
    busy = [e for e in net.gke.events_of(KeEventKind.TERMINATED) if e.status == S.No_Resources][0]
    initiates = [e for e in net.gke.events_of(KeEventKind.FRAME_RECEIVED) if e.command is KeCommand.INITIATE]
    assert initiates[1].at - busy.at >= 20
    assert net.device.link_key(COORDINATOR_IEEE) == net.app.node.link_key(DEVICE_IEEE) == outcome.key


def test_silent_golden_the_device_retries_a_bounded_number_of_times(network, loop):
    net = network(golden=GoldenKeFaults(silent_from=KeCommand.INITIATE))
    outcome = run(loop, net.cbke(retry=RetryPolicy(timeout_retries=2), suite=1))
    assert outcome.result is KeResult.TIMEOUT and outcome.attempts == 3
    assert len([e for e in net.gke.events_of(KeEventKind.FRAME_RECEIVED) if e.command is KeCommand.INITIATE]) == 3


def test_bad_macv_device_fault_is_seen_from_the_golden(network, loop):
    """A device that ignores a bad MACV keeps the key: the golden's SE read then succeeds under the new key,
    where a conformant device (which discarded it) cannot answer."""
    conformant = network(golden=GoldenKeFaults(wrong_mac=True))
    run(loop, conformant.cbke(retry=NO_RETRY, suite=1))
    with pytest.raises(Exception):  # noqa: B017 - ZclTimeout or a delivery error: the device cannot decrypt
        read_summation(conformant, loop)
    faulty = network(golden=GoldenKeFaults(wrong_mac=True), device=DeviceKeFaults(ignore_bad_macv=True))
    outcome = run(loop, faulty.cbke(retry=NO_RETRY, suite=1))
    assert outcome.success
    assert int(read_summation(faulty, loop)[0].value.value) == 424242


@pytest.mark.parametrize(
    ("faults", "check"),
    [
        (DeviceKeFaults(aps_encrypt_ke_frames=True),
         lambda net, outcome: all(e.aps_encrypted for e in net.gke.events_of(KeEventKind.FRAME_RECEIVED))),
        (DeviceKeFaults(wrong_mac=True),
         lambda net, outcome: any(e.status == S.Bad_Key_Confirm and e.by is TerminatedBy.LOCAL
                                  for e in net.gke.events_of(KeEventKind.TERMINATED))),
        (DeviceKeFaults(foreign_subject=True),
         lambda net, outcome: any(e.status == S.Bad_Message and "not the sender's IEEE" in e.detail
                                  for e in net.gke.events_of(KeEventKind.TERMINATED))),
        (DeviceKeFaults(advertise_wrong_suite=True),
         lambda net, outcome: int(read_summation_suite(net)) == 0x0002),
    ],
    ids=["aps-encrypted-ke", "wrong-macu", "foreign-subject", "wrong-suite-attribute"],
)
def test_device_fault_is_visible_from_the_golden(network, loop, faults, check):
    net = network(device=faults)
    outcome = run(loop, net.cbke(retry=NO_RETRY, suite=1))
    assert check(net, outcome), str(outcome)


def read_summation_suite(net: KeNet) -> int:
    records = net.loop.run_until_complete(net.gzcl.read_attributes(
        net.device.nwk, DEVICE_ENDPOINT, 0x0800, [0x0000], src_ep=ESI_ENDPOINT, timeout=5))
    return int(records[0].value.value)


def test_device_retrying_too_early_is_visible_from_the_golden(network, loop):
    net = network(golden=GoldenKeFaults(no_resources_wait=20), device=DeviceKeFaults(retry_before_wait_time=True))
    run(loop, net.cbke())
    busy = [e for e in net.gke.events_of(KeEventKind.TERMINATED) if e.status == S.No_Resources][0]
    initiates = [e for e in net.gke.events_of(KeEventKind.FRAME_RECEIVED) if e.command is KeCommand.INITIATE]
    assert initiates[1].at - busy.at < 20


def test_device_that_never_retries_is_visible_from_the_golden(network, loop):
    net = network(golden=GoldenKeFaults(silent_from=KeCommand.INITIATE),
                  device=DeviceKeFaults(never_retry_after_timeout=True))
    run(loop, net.cbke(retry=RetryPolicy(timeout_retries=2), suite=1))
    run(loop, asyncio.sleep(120))
    assert len([e for e in net.gke.events_of(KeEventKind.FRAME_RECEIVED) if e.command is KeCommand.INITIATE]) == 1

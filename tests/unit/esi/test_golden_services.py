"""The golden ESI services on their own: what they serve, what they log, and how they treat malformed or
suspicious frames from a DUT (findings, never crashes)."""

from __future__ import annotations

from random import Random

from zigpy.zcl.foundation import GeneralCommand, Status

from harness.crypto import TestCA, sign
from harness.golden.esi import Message, PriceEvent, TimeStatus, load_control_event
from harness.golden.esi.drlc import ReportEventStatus
from harness.se.clusters import Drlc, Messaging, Price
from harness.se.types import EventStatus, Signature, SignatureType
from harness.zcl import FindingKind
from harness.zcl.frame import decode_general

from .esi_link import DUT_NWK, ESI_NWK, T0

DUT_IEEE = 0x0022A300_00001234
DRLC_CLUSTER, MESSAGING_CLUSTER, PRICE_CLUSTER = Drlc.cluster_id, Messaging.cluster_id, Price.cluster_id
CMD_REPORT_EVENT_STATUS = Drlc.ServerCommandDefs.report_event_status.id
CMD_GET_SCHEDULED_EVENTS = Drlc.ServerCommandDefs.get_scheduled_events.id
CMD_PRICE_ACKNOWLEDGEMENT = Price.ServerCommandDefs.price_acknowledgement.id


def report(event_id: int = 1, *, status: int = 0x01, time: int = T0, signature_type: int = 0,
           signature: bytes = b"\xff" * 42):
    return ReportEventStatus(
        issuer_event_id=event_id, event_status=EventStatus(status), event_status_time=time,
        criticality_level_applied=1, cooling_temperature_set_point_applied=0x8000,
        heating_temperature_set_point_applied=0x8000, average_load_adjustment_percentage_applied=-128,
        duty_cycle_applied=0xFF, event_control=0, signature_type=SignatureType(signature_type),
        signature=Signature(signature),
    )


def send_from_dut(link, cluster: int, command_id: int, payload) -> object:
    """Send a cluster command from the DUT engine to the golden; returns the golden's answer frame."""
    return link.run(link.dut.command(ESI_NWK, 1, cluster, command_id, payload, src_ep=1))


# --- Time ---------------------------------------------------------------------------------------------


def read_time(link) -> dict[int, int]:
    records = link.run(link.dut.read_attributes(ESI_NWK, 1, 0x000A, [0x0000, 0x0001], src_ep=1))
    return {int(r.attrid): int(r.value.value) for r in records}


def test_time_server_serves_the_bench_clock_as_it_runs(link):
    assert read_time(link) == {0x0000: T0, 0x0001: TimeStatus.Master | TimeStatus.Synchronized}
    link.advance(86_400.5)
    assert read_time(link)[0x0000] == T0 + 86_400


def test_time_server_offset_shifts_the_served_time(link):
    link.time_server.offset = -3600
    assert read_time(link)[0x0000] == T0 - 3600 == link.time_server.time()


# --- DRLC ---------------------------------------------------------------------------------------------


def test_report_event_status_is_logged_with_its_arrival(link):
    link.advance(42)
    frame = send_from_dut(link, DRLC_CLUSTER, CMD_REPORT_EVENT_STATUS, report(5, status=0x02, time=T0 + 40))
    assert decode_general(frame).status == Status.SUCCESS
    assert link.drlc.statuses(5) == [(EventStatus.Event_Started, T0 + 40, T0 + 42)]
    assert link.drlc.reports.items[0].signature_valid is None and link.drlc.findings == []


def test_truncated_report_is_a_finding_not_a_crash(link):
    raw = report(6).serialize()[:-10]
    frame = send_from_dut(link, DRLC_CLUSTER, CMD_REPORT_EVENT_STATUS, raw)
    assert decode_general(frame).status == Status.MALFORMED_COMMAND
    assert [f.kind for f in link.esi.findings] == [FindingKind.MALFORMED_PAYLOAD]
    assert link.drlc.reports.items == []


def test_zero_status_time_and_undefined_status_are_findings(link):
    send_from_dut(link, DRLC_CLUSTER, CMD_REPORT_EVENT_STATUS, report(7, status=0x42, time=0))
    reasons = [f.reason for f in link.drlc.findings]
    assert any("EventStatusTime is 0" in r for r in reasons)
    assert any("undefined event status 0x42" in r for r in reasons)
    assert len(link.drlc.reports) == 1  # still logged, for the step to judge


def ecdsa_link(link):
    rng = Random(2024)
    ca = TestCA.generate(rng)
    issued = ca.issue(DUT_IEEE, 1, rng=rng)
    link.drlc.ca_public_key = ca.public_key(1)
    link.drlc.register_certificate(DUT_NWK, issued.certificate)
    return issued


def signed_report(issued, event_id: int, *, tamper: bool = False):
    unsigned = report(event_id, signature_type=1, signature=bytes(42))
    signed_part = unsigned.serialize()[:-43]  # the payload before the signature type (emberDsaSign)
    signature = sign(issued.private_key, signed_part, deterministic=True)
    if tamper:
        signature = bytes([signature[0] ^ 1]) + signature[1:]
    return unsigned.replace(signature=Signature(signature))


def test_ecdsa_signed_report_verifies_with_the_dut_certificate(link):
    issued = ecdsa_link(link)
    send_from_dut(link, DRLC_CLUSTER, CMD_REPORT_EVENT_STATUS, signed_report(issued, 8))
    assert link.drlc.reports.items[0].signature_valid is True and link.drlc.findings == []


def test_ecdsa_bad_signature_is_recorded_invalid(link):
    issued = ecdsa_link(link)
    send_from_dut(link, DRLC_CLUSTER, CMD_REPORT_EVENT_STATUS, signed_report(issued, 9, tamper=True))
    assert link.drlc.reports.items[0].signature_valid is False
    assert "does not verify" in link.drlc.findings[0].reason


def test_ecdsa_signature_without_a_known_certificate_is_a_finding(link):
    send_from_dut(link, DRLC_CLUSTER, CMD_REPORT_EVENT_STATUS, report(10, signature_type=1))
    assert link.drlc.reports.items[0].signature_valid is None
    assert "no certificate" in link.drlc.findings[0].reason


def get_scheduled_events(link, start_time: int, number: int) -> list[tuple[int, int, int]]:
    """(event id, start, duration) of each Load Control Event the golden answers with."""
    before = len(link.esi_sent)
    payload = Drlc.server_commands[CMD_GET_SCHEDULED_EVENTS].schema(start_time=start_time, number_of_events=number)
    link.run(link.dut.command(ESI_NWK, 1, DRLC_CLUSTER, CMD_GET_SCHEDULED_EVENTS, payload, src_ep=1,
                              disable_default_response=True))
    link.advance(1)
    schema = Drlc.client_commands[0].schema
    out = []
    for pkt in link.esi_sent[before:]:
        raw = pkt.data.serialize()
        if raw[0] & 0x03 == 1 and raw[2] == 0x00:
            event, _ = schema.deserialize(raw[3:])
            out.append((int(event.issuer_event_id), int(event.start_time), int(event.duration_in_minutes)))
    return out


def test_get_scheduled_events_orders_filters_and_limits(link):
    for event_id, start in ((3, T0 + 7200), (1, T0 + 3600), (2, T0 + 3600), (4, T0 + 600)):
        link.drlc.add_event(load_control_event(event_id, start_time=start, duration_minutes=30))
    assert get_scheduled_events(link, T0 + 1000, 0) == [(1, T0 + 3600, 30), (2, T0 + 3600, 30), (3, T0 + 7200, 30)]
    assert [e[0] for e in get_scheduled_events(link, 0, 2)] == [4, 1]


def test_get_scheduled_events_sends_start_now_events_with_their_remaining_duration(link):
    link.drlc.add_event(load_control_event(5, start_time=0, duration_minutes=60))
    link.advance(600)
    assert get_scheduled_events(link, 0, 0) == [(5, 0, 50)]


def test_get_scheduled_events_with_nothing_scheduled_answers_not_found(link):
    payload = Drlc.server_commands[CMD_GET_SCHEDULED_EVENTS].schema(start_time=0, number_of_events=0)
    frame = link.run(link.dut.command(ESI_NWK, 1, DRLC_CLUSTER, CMD_GET_SCHEDULED_EVENTS, payload, src_ep=1,
                                      response=0x00))
    assert frame.command_id == GeneralCommand.Default_Response
    assert decode_general(frame).status == Status.NOT_FOUND


# --- Price and Messaging ------------------------------------------------------------------------------


def test_acknowledgement_of_an_unknown_price_is_a_finding(link):
    ack = Price.server_commands[CMD_PRICE_ACKNOWLEDGEMENT].schema(
        provider_id=1, issuer_event_id=404, price_ack_time=T0, control=1)
    send_from_dut(link, PRICE_CLUSTER, CMD_PRICE_ACKNOWLEDGEMENT, ack)
    assert "unknown price event 404" in link.price.findings[0].reason
    assert link.price.acknowledged(404)[0].price_ack_time == T0


def test_scheduled_prices_skip_ended_prices(link):
    link.price.add_price(PriceEvent(issuer_event_id=1, price=1, start_time=T0 + 60, duration_minutes=1))
    link.price.add_price(PriceEvent(issuer_event_id=2, price=2, start_time=T0 + 3600, duration_minutes=60))
    link.advance(600)
    assert [p.issuer_event_id for p in link.price.scheduled_prices(0, 0)] == [2]
    assert link.price.current_price() is None


def test_unsolicited_message_confirmations_are_findings(link):
    link.run(link.messaging.display(link.dut_peer, Message(message_id=1, text="no confirmation needed")))
    link.advance(1)
    confirmation = link.messaging_client.engine  # the DUT engine sends a confirmation the message did not ask for
    for message_id in (1, 2):
        payload = bytes(message_id.to_bytes(4, "little")) + T0.to_bytes(4, "little")
        link.run(confirmation.command(ESI_NWK, 1, MESSAGING_CLUSTER, 0x01, payload, src_ep=1))
    reasons = [f.reason for f in link.messaging.findings]
    assert reasons == ["confirmation of message 1, which did not ask for one", "confirmation of unknown message 2"]

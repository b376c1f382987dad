"""The golden meter's attribute reporting (Configure Reporting of the live attributes, one Report Attributes
per due moment) and the reference gateway's report decoding."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
import zigpy.types as t

from harness.clock import VirtualClock, new_virtual_loop
from harness.devices.openseg import MeterReadError, decode_report
from harness.golden.meter import GoldenMeter, ReportingConfig, parse_live_reporting
from harness.se.clusters import Metering
from harness.zcl.engine import report_reporting_config
from harness.zcl.store import AttributeStore

METERING = Metering.cluster_id
CURRENT_SUMMATION_DELIVERED = Metering.AttributeDefs.current_summation_delivered.id
INSTANTANEOUS_DEMAND = Metering.AttributeDefs.instantaneous_demand.id

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
DUT = 0x4F21


def _configure_payload(interval_min: int, interval_max: int, change: int = 0) -> bytes:
    return b"".join(c.serialize() for c in (
        report_reporting_config(CURRENT_SUMMATION_DELIVERED, 0x25, interval_min, interval_max, change),
        report_reporting_config(INSTANTANEOUS_DEMAND, 0x2A, interval_min, interval_max, change)))


def _packet(data: bytes, secured: bool = True) -> t.ZigbeePacket:
    return t.ZigbeePacket(
        src=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=DUT), src_ep=1, dst_ep=1, profile_id=0x0109,
        cluster_id=METERING, data=t.SerializableBytes(data),
        tx_options=t.TransmitOptions.APS_Encryption if secured else t.TransmitOptions.NONE,
    )


@pytest.fixture
def reporting():
    loop = new_virtual_loop()
    asyncio.set_event_loop(loop)
    sent: list[tuple[float, t.ZigbeePacket]] = []

    async def send(packet):
        sent.append((loop.time(), packet))

    meter = GoldenMeter(AttributeStore(), VirtualClock(loop, EPOCH), send=send)
    yield meter, loop, sent
    meter.close()
    loop.close()


def test_the_configuration_records_of_the_live_attributes_are_parsed():
    assert parse_live_reporting(_configure_payload(4, 4, 7)) == [
        ReportingConfig(CURRENT_SUMMATION_DELIVERED, 4, 4, 7), ReportingConfig(INSTANTANEOUS_DEMAND, 4, 4, 7)]


@pytest.mark.parametrize("payload", [
    bytes.fromhex("000000" + "21" + "04000400" + "0000"),  # summation as uint16: wrong type
    bytes.fromhex("01" "0000" "0400"),  # direction 1 (receive reports, timeout 4 s): the engine's business
    bytes.fromhex("000003" + "21" + "04000400" + "0000"),  # attribute 0x0300 is not a live value
    bytes.fromhex("000000" + "25" + "08000400" + "000000000000"),  # min interval above max interval
    bytes.fromhex("000000" + "25" + "04000400" + "0000"),  # reportable change truncated
    b"",
])
def test_anything_else_is_left_to_the_zcl_engine(payload):
    assert parse_live_reporting(payload) is None


def test_configured_reports_carry_both_live_values_every_interval(reporting):
    meter, loop, sent = reporting
    reply = meter.fast_reply(_packet(bytes([0x00, 0x33, 0x06]) + _configure_payload(4, 4)))
    assert reply is not None and reply.data.serialize() == bytes([0x18, 0x33, 0x07, 0x00])  # one SUCCESS status
    assert reply.tx_options == t.TransmitOptions.APS_Encryption
    loop.run_until_complete(asyncio.sleep(3600.5))
    assert len(sent) == 901  # promptly, then every 4 s for an hour
    assert [round(when, 6) for when, _ in sent[:3]] == [0.0, 4.0, 8.0]
    when, packet = sent[-1]
    data = packet.data.serialize()
    assert data[0] == 0x18 and data[2] == 0x0A  # Report Attributes, server to client, no default response
    assert int(packet.dst.address) == DUT and packet.tx_options == t.TransmitOptions.APS_Encryption
    second = int(EPOCH.timestamp() + when)
    assert decode_report(data[3:]) == {CURRENT_SUMMATION_DELIVERED: meter.summation_raw(second),
                                        INSTANTANEOUS_DEMAND: meter.demand_raw(second)}
    served = meter.served_to(DUT)
    assert len(served) == 901 and all(s.report for s in served)
    assert dict(served[-1].served)[CURRENT_SUMMATION_DELIVERED] == meter.summation_raw(second)


def test_max_interval_0xffff_stops_the_reports(reporting):
    meter, loop, sent = reporting
    meter.fast_reply(_packet(bytes([0x00, 0x01, 0x06]) + _configure_payload(4, 4)))
    loop.run_until_complete(asyncio.sleep(10))
    before = len(sent)
    meter.fast_reply(_packet(bytes([0x00, 0x02, 0x06]) + _configure_payload(4, 0xFFFF)))
    loop.run_until_complete(asyncio.sleep(60))
    assert before == 3 and len(sent) == before


def test_with_max_interval_0_only_a_large_enough_change_is_reported(reporting):
    meter, loop, sent = reporting
    payload = report_reporting_config(INSTANTANEOUS_DEMAND, 0x2A, 1, 0, 0x7FFFFF).serialize()  # never that big
    meter.fast_reply(_packet(bytes([0x00, 0x05, 0x06]) + payload))
    loop.run_until_complete(asyncio.sleep(600))
    assert len(sent) == 1  # only the prompt first report
    payload = report_reporting_config(CURRENT_SUMMATION_DELIVERED, 0x25, 60, 0, 1).serialize()  # grows each minute
    meter.fast_reply(_packet(bytes([0x00, 0x06, 0x06]) + payload))
    loop.run_until_complete(asyncio.sleep(600))
    reports = [decode_report(p.data.serialize()[3:]) for _, p in sent[1:]]
    assert 9 <= len(reports) <= 11 and all(set(r) == {CURRENT_SUMMATION_DELIVERED} for r in reports)


def test_an_unsecured_configuration_is_left_to_the_engine(reporting):
    meter, loop, sent = reporting
    assert meter.fast_reply(_packet(bytes([0x00, 0x07, 0x06]) + _configure_payload(4, 4), secured=False)) is None
    loop.run_until_complete(asyncio.sleep(10))
    assert sent == []


def test_report_payload_decoding_and_its_errors():
    payload = bytes.fromhex("0000" "25" "4e61bc000000" "0004" "2a" "feffff")
    assert decode_report(payload) == {0x0000: 12345678, 0x0400: -2}
    with pytest.raises(MeterReadError, match="truncated"):
        decode_report(bytes.fromhex("000025" "4e61"))
    with pytest.raises(MeterReadError, match="unexpected type"):
        decode_report(bytes.fromhex("000042" "00"))


def test_report_decoding_reads_each_record_by_id_and_type_in_any_layout():
    # CurrentSummationReceived (0x0001, uint48) then demand: 15 bytes like the usual report, no summation delivered.
    assert decode_report(bytes.fromhex("0100" "25" "e11000000000" "0004" "2a" "2e0000")) == {0x0001: 4321,
                                                                                          0x0400: 46}
    # Demand first, negative: int24 keeps its sign outside the usual layout too.
    assert decode_report(bytes.fromhex("0004" "2a" "2efbff" "0000" "25" "4e61bc000000")) == {0x0400: -1234,
                                                                                          0x0000: 12345678}
    # A lone summation cut after 4 of its 6 value bytes.
    with pytest.raises(MeterReadError, match="truncated"):
        decode_report(bytes.fromhex("000025" "4e61bc00"))

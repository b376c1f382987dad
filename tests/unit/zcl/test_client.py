"""Client requests: matched by source, cluster and sequence number, with deadlines on the virtual clock;
attribute reporting timing from the loop."""

from __future__ import annotations

import asyncio

import pytest
import zigpy.types as t
from zigpy.zcl.foundation import Status, TypeValue

from harness.se.datamodel import Side
from harness.zcl import (
    AttributeKey,
    AttributeStore,
    ZclEngine,
    ZclStatusError,
    ZclTimeout,
    report_reporting_config,
)

from .conftest import DUT_NWK, ESI_NWK, ihd_store, packet


class Link:
    """Two engines on an in-memory link; `up=False` drops everything (a silent peer)."""

    def __init__(self, loop) -> None:
        self.loop = loop
        self.up = True
        self.esi = ZclEngine(self._from(ESI_NWK, lambda: self.dut), store=AttributeStore())
        self.dut = ZclEngine(self._from(DUT_NWK, lambda: self.esi), store=ihd_store())
        self.esi_sent: list[t.ZigbeePacket] = []

    def _from(self, src: int, peer):
        async def send(pkt: t.ZigbeePacket) -> None:
            if src == ESI_NWK:
                self.esi_sent.append(pkt)
            if not self.up:
                return
            pkt = pkt.replace(src=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=src))
            # Delivery takes one loop turn, as a radio would.
            self.loop.call_soon(lambda: self.loop.create_task(peer().handle(pkt)))

        return send


@pytest.fixture
def link(loop):
    link = Link(loop)
    yield link
    link.esi.close()
    link.dut.close()


def test_read_attributes_round_trip(loop, link):
    records = loop.run_until_complete(link.esi.read_attributes(DUT_NWK, 1, 0x0000, [0x0000, 0x0099], src_ep=1))
    assert [(r.attrid, r.status) for r in records] == [(0, Status.SUCCESS), (0x99, Status.UNSUPPORTED_ATTRIBUTE)]
    assert records[0].value.value == 3


def test_write_client_attributes_in_and_out_of_range(loop, link):
    ok = loop.run_until_complete(
        link.esi.write_attributes(
            DUT_NWK, 1, 0x0701, {0x0001: TypeValue(type=0x20, value=t.uint8_t(0x3C))}, src_ep=1, target=Side.CLIENT
        )
    )
    assert [r.status for r in ok] == [Status.SUCCESS]
    bad = loop.run_until_complete(
        link.esi.write_attributes(
            DUT_NWK, 1, 0x0701, {0x0002: TypeValue(type=0x20, value=t.uint8_t(0x3D))}, src_ep=1, target=Side.CLIENT
        )
    )
    assert [(r.status, r.attrid) for r in bad] == [(Status.INVALID_VALUE, 2)]
    assert link.dut.store.get(AttributeKey(1, 0x0701, Side.CLIENT, 1)) == 0x3C
    assert t.TransmitOptions.APS_Encryption in link.esi_sent[0].tx_options


def test_discover_attributes_round_trip(loop, link):
    complete, records = loop.run_until_complete(
        link.esi.discover_attributes(DUT_NWK, 1, 0x0702, src_ep=1)
    )
    assert complete
    assert {r.attrid for r in records} == {0x0000, 0x0200, 0x0300, 0x0303, 0x0306}


def test_cluster_command_awaits_the_default_response(loop, link):
    link.dut.register_handler(0x0000, Side.SERVER, 0x00, lambda request: Status.SUCCESS)
    frame = loop.run_until_complete(link.esi.command(DUT_NWK, 1, 0x0000, 0x00, src_ep=1))
    assert frame.is_general and frame.command_id == 0x0B and frame.payload == bytes([0x00, 0x00])


def test_error_default_response_raises_a_status_error(loop, link):
    with pytest.raises(ZclStatusError, match="Read Attributes: peer answered Default Response UNSUPPORTED_CLUSTER"):
        loop.run_until_complete(link.esi.read_attributes(DUT_NWK, 1, 0x0703, [0], src_ep=1))


def test_silent_peer_times_out_on_the_virtual_clock(loop, link):
    link.up = False
    start = loop.time()
    with pytest.raises(ZclTimeout) as err:
        loop.run_until_complete(link.esi.read_attributes(DUT_NWK, 1, 0x0000, [0], src_ep=1, timeout=7.0))
    assert loop.time() - start == pytest.approx(7.0)
    message = str(err.value)
    assert "Read_Attributes" in message and "0x1234" in message and "cluster 0x0000" in message
    assert "within 7 s" in message


def test_response_is_matched_by_sequence_number_and_source(loop, link):
    link.up = False

    async def scenario():
        task = asyncio.ensure_future(link.esi.read_attributes(DUT_NWK, 1, 0x0000, [0], src_ep=1, timeout=5))
        await asyncio.sleep(0)
        tsn = link.esi_sent[-1].tsn
        rsp = "{:02x}01" "0000" "00" "20" "07"
        await link.esi.handle(packet("18" + rsp.format((tsn + 1) & 0xFF), 0x0000, src=DUT_NWK, dst=ESI_NWK))
        await link.esi.handle(packet("18" + rsp.format(tsn), 0x0000, src=0x7777, dst=ESI_NWK))
        assert not task.done()
        await link.esi.handle(packet("18" + rsp.format(tsn), 0x0000, src=DUT_NWK, dst=ESI_NWK))
        return await task

    records = loop.run_until_complete(scenario())
    assert records[0].value.value == 7


def test_periodic_and_change_reports_follow_the_configuration(loop, link):
    reports: list[tuple[float, int]] = []
    link.esi.on_report(lambda pkt, attrs: reports.extend((loop.time(), int(a.value.value)) for a in attrs))
    key = AttributeKey(1, 0x0702, Side.SERVER, 0x0000)

    async def scenario():
        cfg = report_reporting_config(0x0000, 0x25, min_interval=5, max_interval=30, reportable_change=10)
        records = await link.esi.configure_reporting(DUT_NWK, 1, 0x0702, [cfg], src_ep=1)
        assert [r.status for r in records] == [Status.SUCCESS]
        t0 = loop.time()
        await asyncio.sleep(31)  # virtual time: lets the schedule run
        link.dut.store.set(key, 5)  # below the reportable change: no report
        await asyncio.sleep(1)
        link.dut.store.set(key, 50)  # significant: reported after min interval since the last report
        await asyncio.sleep(40)
        return t0

    t0 = loop.run_until_complete(scenario())
    times = [round(when - t0) for when, _ in reports]
    values = [v for _, v in reports]
    assert times[:3] == [0, 30, 35]  # the change at 32 waits for min interval after 30
    assert values[:3] == [0, 0, 50]
    assert times[3] == 65  # periodic again, max interval after the change report


def test_read_reporting_configuration(loop, link):
    async def scenario():
        cfg = report_reporting_config(0x0000, 0x25, min_interval=1, max_interval=60, reportable_change=2)
        await link.esi.configure_reporting(DUT_NWK, 1, 0x0702, [cfg], src_ep=1)
        return await link.esi.read_reporting_configuration(DUT_NWK, 1, 0x0702, [0x0000, 0x0200, 0x7777], src_ep=1)

    out = loop.run_until_complete(scenario())
    assert [r.status for r in out] == [Status.SUCCESS, Status.NOT_FOUND, Status.UNSUPPORTED_ATTRIBUTE]
    assert (out[0].config.min_interval, out[0].config.max_interval, out[0].config.reportable_change) == (1, 60, 2)


def test_configure_reporting_refusals(loop, link):
    async def scenario():
        wrong_type = report_reporting_config(0x0000, 0x23, min_interval=1, max_interval=60, reportable_change=1)
        min_above_max = report_reporting_config(0x0200, 0x18, min_interval=90, max_interval=60)
        unknown = report_reporting_config(0x7777, 0x20, min_interval=1, max_interval=60, reportable_change=1)
        return await link.esi.configure_reporting(
            DUT_NWK, 1, 0x0702, [wrong_type, min_above_max, unknown], src_ep=1
        )

    out = loop.run_until_complete(scenario())
    assert [(r.status, r.attrid) for r in out] == [
        (Status.INVALID_DATA_TYPE, 0x0000),
        (Status.INVALID_VALUE, 0x0200),
        (Status.UNSUPPORTED_ATTRIBUTE, 0x7777),
    ]


def test_send_command_sends_once_and_returns_its_sequence_number(loop):
    sent: list[t.ZigbeePacket] = []

    async def send(pkt: t.ZigbeePacket) -> None:
        sent.append(pkt)

    engine = ZclEngine(send, store=AttributeStore())
    try:
        tsn = loop.run_until_complete(engine.send_command(
            DUT_NWK, 1, 0x0003, 0x00, b"\x00\x00", src_ep=1, general=False, disable_default_response=True,
            manufacturer=0x7FF0))
        # fc 0x15: cluster-specific, manufacturer-specific, client->server, DDR set; code 0x7FF0 little-endian.
        assert [p.data.serialize().hex() for p in sent] == [f"15f07f{tsn:02x}00" "0000"]
        assert engine.next_tsn() == (tsn + 1) & 0xFF
    finally:
        engine.close()

"""The golden meter model: formatting, a demand profile, summation as the integral of demand, the access log."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import zigpy.types as t
from zigpy.zcl.foundation import GeneralCommand

from harness.clock import VirtualClock, new_virtual_loop
from harness.golden.meter import DemandProfile, GoldenMeter
from harness.se.clusters import Metering
from harness.se.datamodel import Side
from harness.se.metering import MeterError, MeterFormatting, digits_left, digits_right, formatting_byte
from harness.zcl.frame import build_frame
from harness.zcl.store import AttributeKey, AttributeStore

METERING = Metering.cluster_id
CURRENT_SUMMATION_DELIVERED = Metering.AttributeDefs.current_summation_delivered.id
INSTANTANEOUS_DEMAND = Metering.AttributeDefs.instantaneous_demand.id

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def meter():
    loop = new_virtual_loop()
    clock = VirtualClock(loop, EPOCH)
    store = AttributeStore()
    yield GoldenMeter(store, clock), store, loop
    loop.close()


def advance(loop, seconds: float) -> None:
    loop.run_until_complete(__import__("asyncio").sleep(seconds))


def test_formatting_byte_layout():
    # bits 0-2 digits right, 3-6 digits left, bit 7 suppress leading zeros (SE-FACTS Metering)
    assert formatting_byte(7, 4) == 0xBC
    assert formatting_byte(6, 3, suppress_leading_zeros=False) == 0x33
    assert digits_right(0xBC) == 4 and digits_left(0xBC) == 7
    with pytest.raises(MeterError, match="out of"):
        formatting_byte(16, 0)


def test_scaling_is_raw_times_multiplier_over_divisor():
    fmt = MeterFormatting(multiplier=5, divisor=10_000)
    assert fmt.scaled(12_345_678) == Decimal("6172.839")
    assert fmt.summation_value(3) == Decimal("0.0015")
    assert fmt.watt_seconds_per_raw == Decimal(1800)
    with pytest.raises(MeterError, match="Divisor 0"):
        MeterFormatting(divisor=0)


def test_demand_profile_is_realistic_and_deterministic():
    profile = DemandProfile()
    day = [profile.watts(29_000_000 + m) for m in range(24 * 60)]
    assert day == [DemandProfile().watts(29_000_000 + m) for m in range(24 * 60)]
    assert 150 < min(day) < 500 and 2_000 < max(day) < 4_000
    assert len(set(day)) > 100  # not a constant or a square wave


def test_store_serves_formatting_and_live_values(meter):
    golden, store, loop = meter
    key = lambda a: AttributeKey(1, METERING, Side.SERVER, a)  # noqa: E731
    assert store.get(key(0x0301)) == 5 and store.get(key(0x0302)) == 10_000
    assert store.get(key(0x0303)) == 0xBC and store.get(key(0x0300)) == 0
    first = store.get(key(CURRENT_SUMMATION_DELIVERED))
    assert first == 12_345_678
    advance(loop, 3600)
    later = store.get(key(CURRENT_SUMMATION_DELIVERED))
    assert later > first
    record = store.read_record(key(INSTANTANEOUS_DEMAND))
    assert record.value.value == golden.demand_raw()


def test_summation_is_the_integral_of_demand(meter):
    golden, _store, loop = meter
    start = int(EPOCH.timestamp())
    hours = 6
    watt_seconds = sum(golden.demand_watts(start + s) for s in range(hours * 3600))
    expected = 12_345_678 + watt_seconds // 1800
    assert golden.summation_raw(start + hours * 3600) == expected
    # demand raw: W / (Multiplier / Divisor kW) = W * 2 for 5 / 10000
    assert golden.demand_raw(start) == 2 * golden.demand_watts(start)


def _packet(data: bytes, cluster: int = METERING) -> t.ZigbeePacket:
    return t.ZigbeePacket(
        src=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=0x1234), src_ep=1, dst_ep=1,
        profile_id=0x0109, cluster_id=cluster, data=t.SerializableBytes(data),
    )


def test_access_log_records_reads_with_values_writes_and_malformed(meter):
    golden, _store, loop = meter
    read = build_frame(tsn=1, command_id=GeneralCommand.Read_Attributes, payload=bytes.fromhex("00000004"),
                       general=True, direction=0)
    golden.observe(_packet(read))
    write = build_frame(tsn=2, command_id=GeneralCommand.Write_Attributes, payload=bytes.fromhex("01032000"),
                        general=True, direction=0)
    golden.observe(_packet(write))
    golden.observe(_packet(b"\x01"))
    golden.observe(_packet(build_frame(tsn=3, command_id=0x00, payload=b"", general=False, direction=0), 0x0700))
    reads, writes, bad, command = golden.accesses.items
    assert reads.is_read and reads.attr_ids == (0x0000, 0x0400) and reads.source == 0x1234
    assert reads.served == ((0x0000, golden.summation_raw()), (0x0400, golden.demand_raw()))
    assert writes.is_write and writes.attr_ids == (0x0301,)
    assert bad.malformed and "malformed" in bad.describe()
    assert command.cluster_id == 0x0700 and not command.general
    assert golden.accesses_from(0x1234) == golden.accesses.items

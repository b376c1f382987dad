"""The read_current_price reply of a DUT's command line (docs/bench.md): event=, optional price=, at= (UTC)."""

from __future__ import annotations

import asyncio

import pytest

from harness.clock import ZCL_EPOCH
from harness.dut.base import DutControlError, ShownPrice
from harness.dut.cli import CliDutControl


def read(reply: str) -> ShownPrice:
    driver = CliDutControl("loop://", {"read_current_price": "price -> ^OK price"})
    driver.exchange = lambda action, **fields: [reply]  # type: ignore[method-assign]
    return asyncio.run(driver.read_current_price())


def test_a_shown_price_is_read_with_the_devices_second():
    shown = read("OK price event=611 price=1611 at=2026-12-07T10:00:01Z")
    at = int((ZCL_EPOCH.replace(year=2026, month=12, day=7, hour=10, second=1) - ZCL_EPOCH).total_seconds())
    assert shown == ShownPrice(at=at, issuer_event_id=611, price=1611)


def test_no_price_shown_and_no_price_field():
    shown = read("OK price event=none at=2026-12-07 10:00:00")
    assert shown.issuer_event_id is None and shown.price is None


@pytest.mark.parametrize("reply", ["OK price event=611 price=1611", "OK price at=2026-12-07T10:00:00",
                                   "OK price event=611 at=2026-12-07T10:00"])
def test_a_reply_without_event_or_second_is_a_bench_error(reply):
    with pytest.raises(DutControlError, match="read_current_price reply"):
        read(reply)


def test_unmapped_means_not_applicable():
    assert not CliDutControl("loop://", {}).reads_current_price

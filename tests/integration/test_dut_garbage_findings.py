"""What the DUT sends that does not decode, and frames it never acknowledges, on the simulated network: the golden
records each as a finding with its bytes (harness.golden.golden.UndecodableFrame), zigpy's own decoding included,
and an unacknowledged frame is the DUT's failure (its MAC took it) and classified failed, never error."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from pathlib import Path

import pytest
from zigpy.zdo.types import ZDOCmd

from harness import errors
from harness.bench import Bench
from harness.golden.golden import ESI_ENDPOINT
from harness.options import RunOptions, parse_dut
from harness.profiles import load_bench_profile, load_dut_profile
from harness.results import Verdict
from harness.run_record import classify
from harness.se.datamodel import SE_PROFILE_ID, Side
from harness.strategy import commission
from harness.wire.frames import ApsFrame

ROOT = Path(__file__).resolve().parents[2]
PRICE = 0x0700


# Under xdist the tests that share one bench (a module fixture) stay on one worker, which builds it once.
pytestmark = pytest.mark.xdist_group("dut-garbage-findings")


@pytest.fixture(scope="module")
def bench():
    options = RunOptions(dut=parse_dut("sim:ihd"), radio=None, profile=ROOT / "profiles/dut/sim-ihd.yaml",
                         bench=ROOT / "profiles/bench/sim.yaml")
    the_bench = Bench(options, load_dut_profile(options.profile), load_bench_profile(options.bench))
    yield the_bench
    the_bench.close()


@pytest.fixture
def joined(bench, request):
    testbed = bench.open_testbed(request.node.name)
    testbed.dut_nwk = bench.run(commission(bench, testbed), 100, "commissioning")
    yield testbed
    bench.close_testbed(testbed, None)


def _dut_sends(bench, testbed, profile: int, cluster: int, payload: bytes, endpoint: int = 0) -> None:
    node = testbed.device.node
    node.aps_send_frame(0x0000, ApsFrame.data(node.security.next_aps_counter(), profile, cluster, endpoint, endpoint,
                                              payload))
    bench.run(bench.clock.sleep(1))


def _stack(testbed, **knobs) -> None:
    node = testbed.device.node
    node.behaviour = dataclasses.replace(node.behaviour, **knobs)


def test_an_empty_zdo_frame_is_a_finding_not_an_exception_in_a_callback(bench, joined, caplog):
    caplog.set_level(logging.ERROR, logger="asyncio")
    _dut_sends(bench, joined, 0x0000, ZDOCmd.Device_annce, b"")
    failure = joined.golden.take_failure()
    assert isinstance(failure, errors.MalformedDutFrame) and classify(failure) == Verdict.FAILED
    assert f"0x{joined.dut_nwk:04X}" in failure.observation and "raw bytes (none)" in failure.observation
    assert not [r for r in caplog.records if "Exception in callback" in r.getMessage()]
    assert joined.golden.take_failure() is None  # reported once


def test_a_malformed_zdo_response_fails_the_waiting_request_at_once_with_its_bytes(bench, joined):
    nwk = joined.dut_nwk
    _stack(joined, zdo_server=False)  # the DUT's own answer would race the garbage
    golden = joined.golden

    async def ask_and_answer_garbage():
        request = asyncio.ensure_future(golden.zdo_request(nwk, ZDOCmd.Active_EP_req, [nwk], 10.0))
        await bench.clock.sleep(0.5)
        tsn = golden._zdo_tsn  # the request's transaction sequence number
        node = joined.device.node
        node.aps_send_frame(0x0000, ApsFrame.data(node.security.next_aps_counter(), 0x0000,
                                                  ZDOCmd.Active_EP_rsp, 0, 0, bytes([tsn, 0x00])))
        started = bench.clock.monotonic()
        with pytest.raises(errors.MalformedDutFrame) as caught:
            await request
        return caught.value, bench.clock.monotonic() - started

    failure, took = bench.run(ask_and_answer_garbage(), 30)
    assert took < 2.0, "the request waited for its deadline instead of failing on the malformed answer"
    assert "Active_EP_rsp" in failure.expectation + failure.observation and f"{golden._zdo_tsn:02x}00" in failure.observation
    assert golden.take_failure() is None  # raised to the request: not raised a second time


def test_malformed_zcl_and_ke_payloads_from_the_dut_are_findings(bench, joined):
    _dut_sends(bench, joined, SE_PROFILE_ID, 0x0000, b"\x18", endpoint=1)  # a 1-byte "ZCL frame"
    _dut_sends(bench, joined, SE_PROFILE_ID, 0x0800, bytes([0x01, 0x33, 0x01]) + b"\x00" * 5, endpoint=1)
    findings = joined.golden.undecodable
    assert [f.what for f in findings] == ["ZCL frame on cluster 0x0000", "Key Establishment EPHEMERAL_DATA"], findings
    assert findings[0].raw == b"\x18" and "more" in joined.golden.take_failure().observation


def test_a_frame_the_dut_mac_acknowledged_but_never_aps_acknowledged_is_a_dut_failure(bench, joined):
    _stack(joined, send_aps_acks=False)
    with pytest.raises(errors.ApsNotAcknowledged) as caught:
        bench.run(joined.golden.engine.read_attributes(joined.dut_nwk, 1, PRICE, [0x0000],
                                                       src_ep=ESI_ENDPOINT, target=Side.CLIENT, timeout=10.0), 60)
    assert classify(caught.value) == Verdict.FAILED and "MAC acknowledged" in caught.value.observation


def test_a_dut_that_only_skips_mac_acks_still_delivers(bench, joined):
    _stack(joined, send_mac_acks=False)  # its APS acknowledgement still comes: delivered, nothing to judge here
    records = bench.run(joined.golden.engine.read_attributes(joined.dut_nwk, 1, PRICE, [0x0000],
                                                             src_ep=ESI_ENDPOINT, target=Side.CLIENT, timeout=10.0), 60)
    assert records


def test_no_mac_acknowledgement_on_the_simulated_air_is_the_dut_and_the_zdo_client_calls_it_no_answer(bench, joined):
    joined.device.node.radio.detach()  # the DUT is off the air: the simulated air loses nothing else
    nwk = joined.dut_nwk
    with pytest.raises(errors.DutUnreachable) as caught:
        bench.run(joined.golden.engine.read_attributes(nwk, 1, PRICE, [0x0000], src_ep=ESI_ENDPOINT,
                                                       target=Side.CLIENT, timeout=10.0), 60)
    assert classify(caught.value) == Verdict.FAILED
    with pytest.raises(TimeoutError) as silent:  # steps that expect silence (a DUT that left) still catch it
        bench.run(joined.golden.zdo_request(nwk, ZDOCmd.IEEE_addr_req, [nwk, 0, 0], 5.0), 60)
    assert classify(silent.value) == Verdict.FAILED

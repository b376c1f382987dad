"""Strategies: bring the DUT to a known state through the golden side (labgrid's word for it).

They are coroutines on a Testbed, used by steps and by the session's DUT identification alike.
"""

from __future__ import annotations

from zigpy.zcl.clusters.general import Basic as ZclBasic
from zigpy.zcl.foundation import Status
from zigpy.zdo.types import ZDOCmd

from harness.golden.golden import ESI_ENDPOINT
from harness.se.clusters import Basic

#: Basic attributes that identify a DUT in a report: manufacturer, model, date code, application version,
#: software build id (ZCL's, which the SE data model does not list).
IDENTITY_ATTRIBUTES: dict[int, str] = {
    Basic.AttributeDefs.manufacturer_name.id: "manufacturer", Basic.AttributeDefs.model_identifier.id: "model",
    Basic.AttributeDefs.date_code.id: "date_code", Basic.AttributeDefs.application_version.id: "application_version",
    ZclBasic.AttributeDefs.sw_build_id.id: "sw_build_id",
}


async def commission(bench, testbed) -> int:
    """Admit the DUT with its install code and wait until it answers on the network; returns its address."""
    golden = testbed.golden
    join_time = bench.pixit_seconds("join_timeout", 30)
    await golden.trust_center.admit(testbed.dut_ieee, testbed.dut_link_key, 180)
    await testbed.dut.start_joining()
    event = await golden.trust_center.wait_join(testbed.dut_ieee, join_time)
    testbed.join_event = event
    # Admission is proven by the DUT answering with the network key, not by its (separately judged) annce.
    deadline = bench.clock.monotonic() + join_time
    while True:
        try:
            await golden.zdo_request(event.nwk, ZDOCmd.IEEE_addr_req, [event.nwk, 0, 0], 5.0)
            return event.nwk
        except TimeoutError:
            if bench.clock.monotonic() >= deadline:
                raise


async def read_identity(bench, testbed, nwk: int) -> dict[str, str]:
    """The DUT's Basic identity attributes that it answers (unsupported ones are left out)."""
    records = await testbed.golden.engine.read_attributes(
        nwk, bench.dut_profile.endpoint, Basic.cluster_id, list(IDENTITY_ATTRIBUTES), src_ep=ESI_ENDPOINT, timeout=10.0)
    identity = {}
    for record in records:
        if record.status == Status.SUCCESS and int(record.attrid) in IDENTITY_ATTRIBUTES:
            value = record.value.value
            identity[IDENTITY_ATTRIBUTES[int(record.attrid)]] = value.decode(errors="replace") if isinstance(
                value, bytes) else str(value)
    return identity


async def identify(bench, testbed) -> dict[str, str]:
    return await read_identity(bench, testbed, await commission(bench, testbed))

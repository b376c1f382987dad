"""The reference devices' ZCL engine (harness/devices/foundation.py): conformant, it answers as the shared engine
does; each foundation fault bends exactly its own Default Response rule, and a recording run notes the fault only
where it acts. Frames are built by hand (fc, tsn, command id, payload)."""

from __future__ import annotations

import asyncio

import pytest
import zigpy.types as t

from harness.clock import new_virtual_loop
from harness.devices import faults as fault_module
from harness.devices.faults import FaultSet, FaultTouches
from harness.devices.foundation import (
    DEFAULT_RESPONSE_AFTER_RESPONSE,
    DEFAULT_RESPONSE_DDR_CLEAR,
    DEFAULT_RESPONSE_DESPITE_DDR,
    FOUNDATION_FAULTS,
    IDENTIFY_QUERY_UNANSWERED,
    IDENTIFY_TIME_FROZEN,
    IGNORES_MANUFACTURER_CODE,
    NEVER_REPORTS,
    NO_DEFAULT_RESPONSE_ON_SUCCESS,
    PADS_TRUNCATED_COMMAND,
    REPORTING_FAULTS,
    REPORTING_FORGETS_MAX_INTERVAL,
    SILENT_ON_UNSUPPORTED_CLUSTER,
    SWALLOWS_ERROR_WHEN_DDR_SET,
    UNSUPPORTED_COMMAND_WRONG_TSN,
    DeviceEngine,
    IdentifyServer,
)
from harness.devices.ihd import InHomeDisplay
from harness.se.datamodel import Side
from harness.zcl import AttributeKey, AttributeStore
from tests.unit.zcl.conftest import packet

IDENTIFY, BASIC, PRICE = 0x0003, 0x0000, 0x0700
IDENTIFY_TIME = AttributeKey(1, IDENTIFY, Side.SERVER, 0x0000)

#: (request, cluster) -> what the conformant device sends back.
#: Identify (0x00) IdentifyTime 0, DDR set: nothing; DDR clear: Default Response SUCCESS (fc 0x18: general,
#: server->client, DDR set).
IDENTIFY_DDR = ("11" "01" "00" "0000", IDENTIFY)
IDENTIFY_NO_DDR = ("01" "02" "00" "0000", IDENTIFY)
READ_ZCL_VERSION = ("00" "03" "00" "0000", BASIC)
UNSUPPORTED_BASIC = ("01" "04" "01", BASIC)
UNSUPPORTED_BASIC_DDR = ("11" "05" "01", BASIC)
UNSUPPORTED_CLUSTER = ("10" "06" "00" "0000", PRICE)
MANUFACTURER_IDENTIFY = ("05" "f07f" "07" "00" "0000", IDENTIFY)  # fc 0x05: manufacturer-specific, code 0x7FF0
TRUNCATED_IDENTIFY = ("11" "08" "00" "00", IDENTIFY)
IDENTIFY_FOR_A_MINUTE = ("11" "09" "00" "3c00", IDENTIFY)  # IdentifyTime 60, DDR set: nothing
IDENTIFY_QUERY = ("01" "0a" "01", IDENTIFY)  # while identifying: Identify Query Response, Timeout 60

CONFORMANT = {
    IDENTIFY_DDR: [],
    IDENTIFY_NO_DDR: ["18020b" "00" "00"],
    READ_ZCL_VERSION: ["180301" "0000" "00" "20" "03"],
    UNSUPPORTED_BASIC: ["18040b" "01" "81"],
    UNSUPPORTED_BASIC_DDR: ["18050b" "01" "81"],
    UNSUPPORTED_CLUSTER: ["18060b" "00" "c3"],
    MANUFACTURER_IDENTIFY: ["1cf07f070b" "00" "83"],
    TRUNCATED_IDENTIFY: ["18080b" "00" "80"],
    IDENTIFY_FOR_A_MINUTE: [],
    IDENTIFY_QUERY: ["190a00" "3c00"],
}

#: What each fault changes of CONFORMANT (every other request is answered as CONFORMANT says).
FAULTY = {
    DEFAULT_RESPONSE_DESPITE_DDR: {IDENTIFY_DDR: ["18010b" "00" "00"], IDENTIFY_FOR_A_MINUTE: ["18090b" "00" "00"]},
    NO_DEFAULT_RESPONSE_ON_SUCCESS: {IDENTIFY_NO_DDR: []},
    DEFAULT_RESPONSE_AFTER_RESPONSE: {READ_ZCL_VERSION: ["180301" "0000" "00" "20" "03", "18030b" "00" "00"]},
    SWALLOWS_ERROR_WHEN_DDR_SET: {UNSUPPORTED_BASIC_DDR: [], UNSUPPORTED_CLUSTER: [], TRUNCATED_IDENTIFY: []},
    UNSUPPORTED_COMMAND_WRONG_TSN: {UNSUPPORTED_BASIC: ["18050b" "01" "81"], UNSUPPORTED_BASIC_DDR: ["18060b" "01" "81"]},
    SILENT_ON_UNSUPPORTED_CLUSTER: {UNSUPPORTED_CLUSTER: []},
    IGNORES_MANUFACTURER_CODE: {MANUFACTURER_IDENTIFY: ["1cf07f070b" "00" "00"]},
    PADS_TRUNCATED_COMMAND: {TRUNCATED_IDENTIFY: []},
    DEFAULT_RESPONSE_DDR_CLEAR: {IDENTIFY_NO_DDR: ["08020b" "00" "00"], UNSUPPORTED_BASIC: ["08040b" "01" "81"],
                                 UNSUPPORTED_BASIC_DDR: ["08050b" "01" "81"], UNSUPPORTED_CLUSTER: ["08060b" "00" "c3"],
                                 MANUFACTURER_IDENTIFY: ["0cf07f070b" "00" "83"], TRUNCATED_IDENTIFY: ["08080b" "00" "80"]},
    IDENTIFY_QUERY_UNANSWERED: {IDENTIFY_QUERY: ["180a0b" "01" "00"]},  # no response of its own: Default Response
    IDENTIFY_TIME_FROZEN: {},  # no time passes between these requests: test_identify_sets_identify_time_... shows it
}


def _answers(faults=(), recorder: FaultTouches | None = None) -> dict[tuple[str, int], list[str]]:
    loop = new_virtual_loop()
    sent: list[t.ZigbeePacket] = []

    async def send(pkt: t.ZigbeePacket) -> None:
        sent.append(pkt)

    store = AttributeStore()
    store.add_cluster(1, BASIC, Side.SERVER)
    store.add_cluster(1, IDENTIFY, Side.SERVER)
    catalogue = {f.name: f for f in FOUNDATION_FAULTS}
    engine = DeviceEngine(send, store=store, faults=FaultSet(faults, catalogue))
    IdentifyServer(engine, store, 1)
    out = {}
    try:
        for request in CONFORMANT:
            if recorder is not None:
                recorder.case = f"{request[0]}@{request[1]:04X}"
            sent.clear()
            data, cluster = request
            loop.run_until_complete(engine.handle(packet(data, cluster, aps=cluster == PRICE)))
            out[request] = [p.data.serialize().hex() for p in sent]
    finally:
        engine.close()
        loop.close()
    return out


def test_the_conformant_device_answers_as_the_default_response_rules_say():
    assert _answers() == CONFORMANT


@pytest.mark.parametrize("fault", FOUNDATION_FAULTS, ids=lambda f: f.name)
def test_each_fault_bends_its_rule_and_nothing_else(fault):
    assert _answers((fault,)) == {**CONFORMANT, **FAULTY[fault]}


@pytest.mark.parametrize("fault", FOUNDATION_FAULTS, ids=lambda f: f.name)
def test_a_recording_run_notes_each_fault_where_it_would_act(fault, monkeypatch):
    recorder = FaultTouches()
    monkeypatch.setattr(fault_module, "RECORDER", recorder)
    _answers(recorder=recorder)
    token = f"acts:{fault.name}"
    noted = {case for case, tokens in recorder.by_case.items() if token in tokens}
    changed = {f"{data}@{cluster:04X}" for data, cluster in FAULTY[fault]}
    assert changed <= noted, (fault.name, sorted(noted))
    assert token not in recorder.everywhere


@pytest.mark.parametrize("frozen", [False, True], ids=["conformant", "identify-time-frozen"])
def test_identify_sets_identify_time_which_counts_down_once_a_second_and_identifying_ends_at_0(frozen):
    loop = new_virtual_loop()
    sent: list[t.ZigbeePacket] = []

    async def send(pkt: t.ZigbeePacket) -> None:
        sent.append(pkt)

    store = AttributeStore()
    store.add_cluster(1, IDENTIFY, Side.SERVER)
    faults = FaultSet([IDENTIFY_TIME_FROZEN] if frozen else [], {f.name: f for f in FOUNDATION_FAULTS})
    engine = DeviceEngine(send, store=store, faults=faults)
    IdentifyServer(engine, store, 1)
    try:
        loop.run_until_complete(engine.handle(packet("11" "01" "00" "0a00", IDENTIFY)))  # identify for 10 s
        assert store.get(IDENTIFY_TIME) == 10
        loop.run_until_complete(asyncio.sleep(4.5))
        assert store.get(IDENTIFY_TIME) == (10 if frozen else 6)
        loop.run_until_complete(engine.handle(packet("11" "02" "01", IDENTIFY)))  # Identify Query, DDR set
        assert [p.data.serialize().hex() for p in sent] == ["190200" + ("0a00" if frozen else "0600")]
        sent.clear()
        loop.run_until_complete(asyncio.sleep(6))  # 10.5 s after the Identify
        assert store.get(IDENTIFY_TIME) == (10 if frozen else 0)
        loop.run_until_complete(engine.handle(packet("11" "03" "01", IDENTIFY)))
        assert [p.data.serialize().hex() for p in sent] == (["190300" "0a00"] if frozen else [])  # it stopped
    finally:
        engine.close()
        loop.close()


def test_the_ihd_carries_the_foundation_faults():
    assert {f.name for f in FOUNDATION_FAULTS} <= set(InHomeDisplay.faults_catalogue)


# -- attribute reporting (the LCD's Metering server) ---------------------------------------------------------------

METERING = 0x0702
#: Configure Reporting (0x06): send reports of CurrentSummationDelivered (uint48, 0x25) every 1 to 10 s on a change
#: of 1; then Read Reporting Configuration (0x08) of it.
CONFIGURE = "00" "01" "06" "00" "0000" "25" "0100" "0a00" "010000000000"
READ_CONFIGURATION = "00" "02" "08" "00" "0000"


def _reporting(faults=()) -> list[str]:
    loop = new_virtual_loop()
    sent: list[t.ZigbeePacket] = []

    async def send(pkt: t.ZigbeePacket) -> None:
        sent.append(pkt)

    store = AttributeStore()
    store.add_cluster(1, METERING, Side.SERVER)
    catalogue = {f.name: f for f in REPORTING_FAULTS}
    engine = DeviceEngine(send, store=store, faults=FaultSet(faults, catalogue))
    try:
        loop.run_until_complete(engine.handle(packet(CONFIGURE, METERING)))
        loop.run_until_complete(asyncio.sleep(10.5))  # the prompt report and the one 10 s later
        loop.run_until_complete(engine.handle(packet(READ_CONFIGURATION, METERING)))
        loop.run_until_complete(asyncio.sleep(0))
        return [p.data.serialize().hex() for p in sent]
    finally:
        engine.close()
        loop.close()


REPORT = "0a" "0000" "25" "000000000000"  # Report Attributes: CurrentSummationDelivered 0


def test_a_configured_attribute_is_reported_and_its_configuration_read_back():
    assert _reporting() == ["180107" "00", "1801" + REPORT, "1802" + REPORT,
                            "180209" "00" "00" "0000" "25" "0100" "0a00" "010000000000"]


def test_reporting_faults_bend_the_read_back_or_the_reports():
    assert _reporting((REPORTING_FORGETS_MAX_INTERVAL,))[-1] == "180209" "00" "00" "0000" "25" "0100" "100e" "010000000000"
    assert _reporting((NEVER_REPORTS,)) == ["180107" "00", "180209" "00" "00" "0000" "25" "0100" "0a00" "010000000000"]

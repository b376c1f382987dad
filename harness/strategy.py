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


#: The coordinator's network address (Zigbee 3.6.1.1): a DUT that forms the network answers here.
COORDINATOR_NWK = 0x0000


def learn_network_keys(testbed) -> None:
    """Give the capture's keyring the network keys the golden's HAN devices received from the DUT's Trust Center
    (the bench does not choose a forming DUT's keys: it learns them as a joined device does)."""
    for han in testbed.han.values():
        for seq, key in han.network_keys().items():
            testbed.keyring.network_keys.setdefault(seq, key)
            if testbed.keyring.network_keys[seq] != key:  # the same sequence number, another key: keep both
                testbed.keyring.network_keys[max(testbed.keyring.network_keys) + 1] = key


async def admit_han_device(bench, testbed, device, *, window: int | None = None) -> bool:
    """A HAN device of the profile joins the DUT's network: the DUT's Trust Center is given its install code and
    opens its window (*window* seconds, the PIXIT tc_permit_window by default), the device joins within the
    PIXIT join time. True when it was admitted (its keys then go to the keyring)."""
    han = await bench.han_device(testbed, device.ieee_value, device.install_code_value.link_key)
    await testbed.dut.add_install_code(device.ieee_value, device.install_code_value)
    await testbed.dut.permit_joining(window if window is not None else int(bench.pixit_seconds("tc_permit_window", 60)))
    admitted = await han.join(bench.pixit_seconds("join_timeout", 30))
    learn_network_keys(testbed)
    return admitted


async def join_dut_network(bench, testbed) -> int:
    """The golden joins the network the DUT formed as the profile's first HAN device; returns the DUT's address.
    A DUT that does not admit it is a finding of the case (DutFailure), with the HAN device's own account."""
    from harness.errors import DutFailure

    first = bench.dut_profile.network.han_devices[0]
    if not await admit_han_device(bench, testbed, first):
        han = testbed.han[first.ieee_value]
        raise DutFailure(f"the DUT's Trust Center did not admit the golden's HAN device {first.ieee} within the "
                         f"PIXIT join time ({han.failure})")
    from harness.golden.trust_center import JoinEvent

    testbed.dut_nwk = COORDINATOR_NWK
    # "Admitted" in this role: the golden is on the DUT's network from now; its CBKE with the DUT's Trust Center
    # starts now, as any joined SE device's does (the DUT's own, in the other role).
    testbed.join_event = JoinEvent(bench.clock.monotonic(), COORDINATOR_NWK, testbed.dut_ieee)
    if testbed.golden.ke is not None:
        testbed.golden.start_key_establishment(COORDINATOR_NWK, bench.dut_profile.endpoint, testbed.dut_ieee)
    return COORDINATOR_NWK


async def commission(bench, testbed) -> int:
    """Bring the DUT onto one network with the golden and return its address: the golden admits it with its
    install code (the DUT joins), or the golden joins the network the DUT formed (network.role: forms)."""
    if bench.dut_forms_network:
        return await join_dut_network(bench, testbed)
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


def profile_han_device(bench, number: int):
    """HAN device *number* (from 1) of the DUT profile's network.han_devices; a bench error when the profile names
    fewer (the case needs more HAN devices than the bench has)."""
    from harness.testbed import BenchError

    devices = bench.dut_profile.network.han_devices
    if not 1 <= number <= len(devices):
        raise BenchError(f"the case needs HAN device {number}; the DUT profile's network.han_devices names "
                         f"{len(devices)}")
    return devices[number - 1]


#: The IEEE block of the HAN devices the bench makes up beyond the profile's (a simulated home's worth).
GENERATED_HAN_IEEE_BASE = 0x00124B00000B0000


def generated_han_devices(testbed, count: int) -> list[tuple[int, object]]:
    """*count* more HAN devices (IEEE, InstallCode) for a case, their install codes from the case's random state."""
    from harness.crypto import InstallCode

    return [(GENERATED_HAN_IEEE_BASE + index + 1, InstallCode(testbed.random.token_bytes(16, "install-codes")))
            for index in range(count)]

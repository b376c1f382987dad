"""tshark (Wireshark) decodes a capture of a successful CBKE on the simulated network: the Key Establishment
fields (suite, certificate issuer and subject, QEU/QEV, MACU/MACV) carry what the state machines sent.

tshark is a system package (apt-get install -y tshark): in CI a missing tshark fails the test, elsewhere it
is skipped with the install command as the reason (as in test_dissectors.py).
"""

from __future__ import annotations

import asyncio
import subprocess

from harness.capture import PcapWriter, tshark_key_options, write_key_file
from harness.clock import new_virtual_loop
from harness.crypto import parse_certificate
from harness.ke import KeCommand, KeEventKind
from tests.support.ke_simnet import COORDINATOR_IEEE, DEVICE_IEEE, INSTALL_CODE, NETWORK_KEY, KeNet

FIELDS = [
    "zbee_zcl_se.ke.cmd.srv_rx.id", "zbee_zcl_se.ke.cmd.srv_tx.id", "zbee_zcl_se.ke.attr.suite",
    "zbee_zcl_se.ke.cert.issuer", "zbee_zcl_se.ke.cert.subject", "zbee_zcl_se.ke.qeu", "zbee_zcl_se.ke.qev",
    "zbee_zcl_se.ke.macu", "zbee_zcl_se.ke.macv", "_ws.malformed",
]


def _hex(value: str) -> str:
    return value.replace(":", "").upper()


def test_successful_cbke_capture_decodes_in_tshark(tshark, tmp_path):
    loop = new_virtual_loop()
    asyncio.set_event_loop(loop)
    pcap, keys = tmp_path / "cbke.pcap", tmp_path / "zigbee_pc_keys"
    try:
        net = KeNet(loop)
        with PcapWriter(pcap) as writer:
            net.air.add_sniffer(lambda frame: writer.write(frame.timestamp, frame.psdu))
            outcome = loop.run_until_complete(net.cbke())
            loop.run_until_complete(net.close())
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    assert outcome.success
    # KE runs under NWK security only: the network key is all Wireshark needs for it.
    write_key_file(keys, [(NETWORK_KEY, "network key"), (INSTALL_CODE.link_key, "device install code key")])
    command = [tshark, "-n", "-r", str(pcap), *tshark_key_options(keys), "-Y", "zbee_zcl and zbee_aps.cluster == 0x0800",
               "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"]
    for name in FIELDS:
        command += ["-e", name]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = [dict(zip(FIELDS, line.split("\t"), strict=True)) for line in result.stdout.splitlines() if line.strip()]
    by_command = {}
    for row in rows:
        assert not row["_ws.malformed"], row
        if row["zbee_zcl_se.ke.cmd.srv_rx.id"]:
            by_command.setdefault(("rx", int(row["zbee_zcl_se.ke.cmd.srv_rx.id"], 0)), row)
        if row["zbee_zcl_se.ke.cmd.srv_tx.id"]:
            by_command.setdefault(("tx", int(row["zbee_zcl_se.ke.cmd.srv_tx.id"], 0)), row)
    assert set(by_command) == {("rx", 0), ("rx", 1), ("rx", 2), ("tx", 0), ("tx", 1), ("tx", 2)}, by_command.keys()

    device_cert = parse_certificate(loop_free_certificate(net, initiator=True), 1)
    golden_cert = parse_certificate(loop_free_certificate(net, initiator=False), 1)
    request, response = by_command[("rx", 0)], by_command[("tx", 0)]
    assert int(request["zbee_zcl_se.ke.attr.suite"], 0) == 1 and int(response["zbee_zcl_se.ke.attr.suite"], 0) == 1
    assert _hex(request["zbee_zcl_se.ke.cert.subject"]) == f"{DEVICE_IEEE:016X}" == device_cert.subject.hex().upper()
    assert _hex(response["zbee_zcl_se.ke.cert.subject"]) == f"{COORDINATOR_IEEE:016X}"
    assert _hex(request["zbee_zcl_se.ke.cert.issuer"]) == device_cert.issuer.hex().upper()
    assert _hex(response["zbee_zcl_se.ke.cert.issuer"]) == golden_cert.issuer.hex().upper()
    qeu = _hex(by_command[("rx", 1)]["zbee_zcl_se.ke.qeu"])
    qev = _hex(by_command[("tx", 1)]["zbee_zcl_se.ke.qev"])
    assert len(qeu) == len(qev) == 44 and qeu != qev
    assert qeu[:2] in ("02", "03") and qev[:2] in ("02", "03")
    macu = _hex(by_command[("rx", 2)]["zbee_zcl_se.ke.macu"])
    macv = _hex(by_command[("tx", 2)]["zbee_zcl_se.ke.macv"])
    assert len(macu) == len(macv) == 32 and macu != macv
    # One decoded frame per command the device's state machine logged as sent.
    sent = [e.command for e in net.dke.events_of(KeEventKind.FRAME_SENT)]
    assert sent == [KeCommand.INITIATE, KeCommand.EPHEMERAL_DATA, KeCommand.CONFIRM_KEY]


def loop_free_certificate(net: KeNet, *, initiator: bool) -> bytes:
    """The certificate each side's engine holds (what its Initiate frame carried)."""
    engine = net.dke.engine if initiator else net.gke.engine
    loop = new_virtual_loop()
    try:
        return loop.run_until_complete(engine.certificate(1))
    finally:
        loop.close()

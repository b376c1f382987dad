"""`python -m harness.emulator demo`: the capture is deterministic and tshark decrypts it with the key file."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from harness.capture import LINKTYPE_IEEE802_15_4_WITHFCS, read_pcap, tshark_key_options
from harness.emulator.__main__ import main


def test_demo_writes_capture_and_keys(tmp_path, capsys):
    pcap, keys = tmp_path / "demo.pcap", tmp_path / "demo.keys"
    assert main(["demo", "--pcap", str(pcap), "--keys", str(keys)]) == 0
    assert "CurrentSummationDelivered = 123456" in capsys.readouterr().out
    capture = read_pcap(pcap)
    assert capture.linktype == LINKTYPE_IEEE802_15_4_WITHFCS
    assert len(capture.records) > 20
    assert keys.read_text().count('"Normal"') == 2
    # Same seed, same bytes.
    again = tmp_path / "again.pcap"
    main(["demo", "--pcap", str(again), "--keys", str(tmp_path / "k2")])
    assert again.read_bytes() == pcap.read_bytes()


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed (CI installs it)")
def test_tshark_decrypts_the_demo_capture(tmp_path):
    pcap, keys = tmp_path / "demo.pcap", tmp_path / "demo.keys"
    main(["demo", "--pcap", str(pcap), "--keys", str(keys)])
    fields = ["-T", "fields", "-e", "frame.number", "-e", "_ws.col.Info", "-e", "_ws.malformed", "-e", "zbee_zcl.cmd.id"]
    run = subprocess.run(["tshark", "-r", str(pcap), *tshark_key_options(keys), *fields],
                         capture_output=True, text=True, timeout=60, check=True)
    lines = run.stdout.splitlines()
    info = "\n".join(lines)
    assert "Transport Key" in info
    assert "Device Announcement" in info
    assert "Read Attributes Response" in info  # only visible after NWK and APS decryption
    assert not any(line.split("\t")[2] for line in lines if len(line.split("\t")) > 2), "malformed frames"
    # Without the keys, the ZCL stays hidden.
    blind = subprocess.run(["tshark", "-r", str(pcap), *fields], capture_output=True, text=True, timeout=60, check=True)
    assert "Read Attributes Response" not in blind.stdout

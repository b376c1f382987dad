"""Speed of the work every case repeats besides its exchange: the secret scan of its evidence, and the ZCL
header codec that each party reading a frame uses.

A run's evidence (logs, Allure results, the journal) is scanned for secrets as it is written and again before
its manifest is sealed, about 2 MB for a whole suite run against one device (the benchmark's text is that
size). Run: python3 -m pytest tests/benchmarks/test_evidence_benchmarks.py
"""

from __future__ import annotations

from harness.redact import REDACTED, Redactor
from harness.zcl.frame import Direction, build_frame, parse_frame

INSTALL_CODE = "83FED3407A939723A5C639B26916D505C3B5"
# A scenario log as the suite writes it: prose, IEEE addresses, frame dumps, timings (no secret in it).
LOG_LINES = [
    "DEBUG   harness.sim.node: <Node 0x3F46 00:0d:6f:00:00:00:10:01> rejected NWK frame counter 41 from 000d6f0000001001 (last 41)",
    "DEBUG   harness.ke.state_machine: KE ep 1: 77345.881s frame-sent 0xCC09 CONFIRM_KEY",
    "INFO    harness.devices.base: reference ihd joined PAN 0x1C06 as 0x6E3C via 0x0000 (00:12:4b:00:00:c0:ff:ee)",
    "INFO    harness.golden.golden: frame 618837c17b3c6e000008123c0e2d0f00000d6f000000e50100 at t=105.936 s",
    "E 1.x 5.4.7: a device answers an SE command that arrives without APS security with nothing of its effect",
]
LOG = "\n".join(LOG_LINES[i % len(LOG_LINES)] for i in range(20_000))  # about 2 MB


def test_secret_scan_of_a_runs_evidence(benchmark):
    redactor = Redactor()
    redactor.add_install_code(INSTALL_CODE)
    text = LOG + "\nAPS Transport Key: key=" + INSTALL_CODE[:32].lower()
    redacted = benchmark(redactor.redact_text, text)
    assert redacted.endswith(f"key={REDACTED}") and redacted[:-len(REDACTED)].startswith(LOG)


def test_zcl_header_build_and_parse(benchmark):
    def round_trip(tsn: int) -> int:
        raw = build_frame(tsn=tsn, command_id=0x0A, payload=b"\x00\x00\x25\x40\xe2\x01\x00\x00\x00",
                          general=True, direction=Direction.Client_to_Server, disable_default_response=True)
        return parse_frame(raw).tsn

    assert benchmark(lambda: [round_trip(tsn) for tsn in range(256)]) == list(range(256))

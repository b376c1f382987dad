"""Frame codec speed: one APS-encrypted SE data frame inside a NWK-secured MAC data frame.

The stack's end-to-end target is >= 5,000 secured APS frames/s on one core, so each direction of the
codec alone must take well under 100 us. Run: python3 -m pytest tests/benchmarks/test_frame_benchmarks.py
"""

from __future__ import annotations

from harness.wire.frames import ApsFrame, MacFrame, NwkFrame, NwkFrameType
from harness.wire.security import secure_aps, secure_nwk, unsecure_aps, unsecure_nwk

PAN = 0x1A62
METER, METER_SHORT = 0x00124B0000000002, 0x3F46
NWK_KEY = bytes.fromhex("01030507090B0D0F00020406080A0C0D")
LINK_KEY = bytes.fromhex("66B6900981E1EE3CA4206B6B861C02BB")
# ZCL Report Attributes: CurrentSummationDelivered (uint48), what a meter sends every few seconds.
REPORT = bytes([0x18, 0x01, 0x0A, 0x00, 0x00, 0x25]) + (123456).to_bytes(6, "little")


def encode(counter: int) -> bytes:
    aps = ApsFrame.data(counter & 0xFF, 0x0109, 0x0702, 1, 1, REPORT)
    nwk = NwkFrame(NwkFrameType.DATA, 0x0000, METER_SHORT, counter & 0xFF, secure_aps(aps, LINK_KEY, counter, METER))
    return MacFrame.data(counter & 0xFF, PAN, 0x0000, METER_SHORT,
                         secure_nwk(nwk, NWK_KEY, counter, METER, 0)).serialize()


def decode(psdu: bytes) -> ApsFrame:
    mac = MacFrame.deserialize(psdu)
    nwk, _ = unsecure_nwk(mac.payload, NWK_KEY)
    aps, _ = unsecure_aps(nwk.payload, LINK_KEY, nwk_src_ieee(nwk.src))
    return aps


def nwk_src_ieee(short: int) -> int:  # the receiver's address map, reduced to the one sender here
    return METER


def test_encode_and_secure(benchmark):
    psdu = benchmark(encode, 1000)
    assert decode(psdu).payload == REPORT


def test_unsecure_and_decode(benchmark):
    psdu = encode(1000)
    aps = benchmark(decode, psdu)
    assert aps.payload == REPORT and aps.cluster == 0x0702


def test_round_trip(benchmark):
    aps = benchmark(lambda: decode(encode(1000)))
    assert aps.payload == REPORT

"""Which network key the DUT's frames use after a key switch (TC-TC-3.1's judge), counted per transmission.

A MAC retry repeats a frame byte for byte (802.15.4-2006 7.5.6.4): the Switch Key frame retried after its
first copy was sent under the old key before the switch, and is no evidence that the DUT kept the old key. A
new frame under the old key is.
"""

from __future__ import annotations

from harness.crypto import SecurityLevel
from harness.verify.trust_center import network_key_in_use
from harness.wire.frames import MacFrame, NwkFrame, NwkFrameType
from harness.wire.security import secure_nwk

OLD_KEY = bytes.fromhex("01030507090B0D0F00020406080A0C0D")
NEW_KEY = bytes.fromhex("F1E2D3C4B5A69788796A5B4C3D2E1F00")
DUT, PAN, DEVICE_NWK = 0x000D6F000000E501, 0x1A62, 0x6E3C


def _frame(counter: int, mac_seq: int, key: bytes, seq: int) -> bytes:
    nwk = NwkFrame(NwkFrameType.DATA, DEVICE_NWK, 0x0000, counter & 0xFF, b"\x00" * 8, src_ieee=DUT)
    return MacFrame.data(mac_seq, PAN, DEVICE_NWK, 0x0000,
                         secure_nwk(nwk, key, counter, DUT, seq, SecurityLevel.ENC_MIC_32)).serialize()


def test_a_mac_retry_of_the_switch_key_frame_is_not_a_frame_under_the_old_key():
    switch_key = _frame(7, 55, OLD_KEY, 0)
    frames = [(1.000, switch_key), (1.004, _frame(8, 56, NEW_KEY, 1)), (1.005, switch_key),
              (1.010, _frame(9, 57, NEW_KEY, 1))]
    assert network_key_in_use(frames, dut_ieee=DUT, key=NEW_KEY, seq=1, since=1.000001) == (2, 2)


def test_a_new_frame_under_the_old_key_after_the_switch_counts_against_it():
    frames = [(1.000, _frame(7, 55, OLD_KEY, 0)), (1.004, _frame(8, 56, NEW_KEY, 1)),
              (1.005, _frame(9, 57, OLD_KEY, 0))]
    assert network_key_in_use(frames, dut_ieee=DUT, key=NEW_KEY, seq=1, since=1.000001) == (1, 2)


def test_a_frame_repeated_with_a_new_mac_sequence_number_is_a_new_transmission():
    # Only a MAC retry keeps the MAC sequence number; a NWK-layer resend under the old key is the DUT's doing.
    frames = [(1.000, _frame(7, 55, OLD_KEY, 0)), (1.005, _frame(7, 58, OLD_KEY, 0))]
    assert network_key_in_use(frames, dut_ieee=DUT, key=NEW_KEY, seq=1, since=1.000001) == (0, 1)


def test_the_decoder_names_a_retry_by_its_first_copy_only_within_the_retry_window():
    from harness.verify.capture import MAC_RETRY_WINDOW, Keyring, decode_frames

    frame = _frame(7, 55, OLD_KEY, 0)
    decoded = decode_frames([(1.0, frame), (1.005, frame), (1.0 + MAC_RETRY_WINDOW + 0.5, frame)], Keyring())
    # The third copy comes too late for a MAC retry: a replay of the frame, judged as a frame of its own.
    assert [f.retry_of for f in decoded] == [None, 0, None]

"""The capture decoder judges the security level of every secured frame instead of trusting it (issue 17).

Every NWK- and APS-secured frame is authenticated at the network's nwkSecurityLevel (5, ENC-MIC-32), whatever
the level subfield on the air says (Zigbee 4.3.1.2 / 4.4.1.2: the receiver overwrites it). A frame secured at
level 4 (ENC, no MIC) then fails its MIC and is a finding, with the level it was secured at when the bytes
show it; so is a frame whose MIC does not verify, and a non-zero level subfield on the air.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.crypto import SecurityLevel
from harness.verify.capture import Keyring, SecurityCheck, decode_frames
from harness.wire.frames import ApsFrame, MacFrame, NwkFrame, NwkFrameType
from harness.wire.security import AuxHeader, KeyId, secure_aps, secure_nwk, unsecure_nwk

NETWORK_KEY = bytes.fromhex("01030507090B0D0F00020406080A0C0D")
LINK_KEY = bytes.fromhex("66B6900981E1EE3CA4206B6B861C02BB")
DUT, TC = 0x000D6F00000010E1, 0x00124B0000000001
PAN, DUT_NWK = 0x1A62, 0x6539
# A Read Attributes Response of Metering CurrentSummationDelivered: what an APS-secured SE frame carries.
ZCL = bytes.fromhex("18010100000025000000000000")


def _keyring() -> Keyring:
    keyring = Keyring(network_keys={0: NETWORK_KEY})
    keyring.add_link_key(DUT, LINK_KEY)
    return keyring


def _aps(*, level=SecurityLevel.ENC_MIC_32, on_air_level=0, secured=True) -> bytes:
    frame = ApsFrame.data(7, 0x0109, 0x0702, 1, 1, ZCL)
    if not secured:
        return frame.serialize()
    return secure_aps(frame, LINK_KEY, 42, DUT, KeyId.DATA, level=level, on_air_level=on_air_level)


def _psdu(aps: bytes, *, level=SecurityLevel.ENC_MIC_32, on_air_level=0) -> bytes:
    nwk = NwkFrame(NwkFrameType.DATA, 0x0000, DUT_NWK, 3, aps, src_ieee=DUT)
    secured = secure_nwk(nwk, NETWORK_KEY, 1000, DUT, 0, level, on_air_level=on_air_level)
    return MacFrame.data(9, PAN, 0x0000, DUT_NWK, secured).serialize()


def _decode(psdu: bytes):
    (observed,) = decode_frames([(0.0, psdu)], _keyring())
    return observed


def test_a_level_5_frame_authenticates_at_both_layers_and_has_no_finding():
    observed = _decode(_psdu(_aps()))
    assert observed.error is None and observed.aps.payload == ZCL
    assert observed.nwk_security == SecurityCheck(0, True, SecurityLevel.ENC_MIC_32)
    assert observed.aps_security == SecurityCheck(0, True, SecurityLevel.ENC_MIC_32)
    assert observed.security_problems() == []


def test_a_level_4_nwk_frame_fails_its_mic_and_shows_its_level():
    observed = _decode(_psdu(_aps(), level=SecurityLevel.ENC))
    assert observed.nwk_security == SecurityCheck(0, False, SecurityLevel.ENC)
    assert observed.error and "level 4 (ENC, no MIC)" in observed.error
    assert observed.aps is None  # a frame no receiver authenticates is not read any further
    assert observed.nwk_source_ieee == DUT  # still the DUT's finding
    (problem,) = observed.security_problems()
    assert "expected level 5 (ENC-MIC-32)" in problem and "secured at level 4 (ENC, no MIC)" in problem


def test_a_level_4_frame_that_names_level_4_on_the_air_is_not_taken_at_its_word():
    # The hole this closes: the decoder used to take a non-zero subfield as the level, and level 4 has no MIC.
    observed = _decode(_psdu(_aps(), level=SecurityLevel.ENC, on_air_level=4))
    assert observed.nwk_security == SecurityCheck(4, False, SecurityLevel.ENC)
    assert observed.error is not None


def test_a_frame_whose_mic_does_not_verify_is_a_finding_of_unknown_level():
    psdu = bytearray(_psdu(_aps()))
    psdu[-3] ^= 0x01  # the MIC's last byte (before the 2-byte FCS)
    from harness.wire.frames.mac import fcs

    psdu[-2:] = fcs(bytes(psdu[:-2])).to_bytes(2, "little")
    observed = _decode(bytes(psdu))
    assert observed.nwk_security == SecurityCheck(0, False, None)
    (problem,) = observed.security_problems()
    assert "does not verify at level 5" in problem and "unknown level" in problem


def test_a_level_5_frame_with_its_level_on_the_air_authenticates_but_is_a_finding():
    observed = _decode(_psdu(_aps(on_air_level=5), on_air_level=5))
    assert observed.error is None and observed.aps.payload == ZCL
    assert observed.nwk_security == SecurityCheck(5, True, SecurityLevel.ENC_MIC_32)
    problems = observed.security_problems()
    assert len(problems) == 2 and all("level subfield 5" in p for p in problems)
    assert problems[0].startswith("NWK") and problems[1].startswith("APS")


def test_a_mic_64_frame_is_recognised_by_its_verifying_mic():
    observed = _decode(_psdu(_aps(), level=SecurityLevel.ENC_MIC_64))
    assert observed.nwk_security == SecurityCheck(0, False, SecurityLevel.ENC_MIC_64)


def test_a_level_4_aps_frame_inside_a_good_nwk_frame_is_an_aps_finding():
    observed = _decode(_psdu(_aps(level=SecurityLevel.ENC)))
    assert observed.nwk_security == SecurityCheck(0, True, SecurityLevel.ENC_MIC_32)
    assert observed.aps_security == SecurityCheck(0, False, SecurityLevel.ENC)
    (problem,) = observed.security_problems()
    assert problem.startswith("APS security") and "level 4" in problem


def test_an_unsecured_aps_frame_has_no_aps_security_to_judge():
    observed = _decode(_psdu(_aps(secured=False)))
    assert observed.aps_security is None and observed.security_problems() == []


def test_a_network_at_another_level_is_judged_at_its_own():
    # The level comes from the network (Keyring.security_level), not from the frame.
    keyring = _keyring()
    keyring.security_level = SecurityLevel.ENC_MIC_64
    nwk = NwkFrame(NwkFrameType.DATA, 0x0000, DUT_NWK, 3, _aps(secured=False), src_ieee=DUT)
    secured = secure_nwk(nwk, NETWORK_KEY, 1000, DUT, 0, SecurityLevel.ENC_MIC_64)
    (observed,) = decode_frames([(0.0, MacFrame.data(9, PAN, 0, DUT_NWK, secured).serialize())], keyring)
    assert observed.nwk_security == SecurityCheck(0, True, SecurityLevel.ENC_MIC_64)
    assert observed.security_problems(SecurityLevel.ENC_MIC_64) == []


def test_the_aux_header_keeps_the_subfield_apart_from_the_level_it_decodes_with():
    raw = AuxHeader(KeyId.NETWORK, 5, DUT, 0, SecurityLevel.ENC_MIC_32, 4).serialize(4)
    aux, _ = AuxHeader.deserialize(raw)
    assert aux.level == SecurityLevel.ENC_MIC_32 and aux.on_air_level == 4


NWK_HEADER = NwkFrame(NwkFrameType.DATA, 0x0000, DUT_NWK, 3, b"", src_ieee=DUT).serialize_header(security=True)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.integers(0, 7), st.integers(0, 0xFFFFFFFF), st.binary(min_size=0, max_size=60))
def test_fuzzed_secured_nwk_frames_never_authenticate(on_air_level, counter, payload):
    """Random bytes behind a well-formed NWK auxiliary header, whatever its level subfield, are never taken as
    authentic: the receiver's level is 5, and only a MIC made with the network key verifies at it."""
    control = on_air_level | (KeyId.NETWORK << 3) | 0x20
    nwk = NWK_HEADER + bytes([control]) + counter.to_bytes(4, "little") + DUT.to_bytes(8, "little") + b"\x00" + payload
    observed = _decode(MacFrame.data(9, PAN, 0x0000, DUT_NWK, nwk).serialize())
    assert observed.nwk_security is not None and not observed.nwk_security.authenticated
    assert observed.error is not None and observed.security_problems()
    # The simulated stack's receiver takes the same view.
    try:
        unsecure_nwk(nwk, NETWORK_KEY)
    except Exception as exc:  # AuthenticationError, or FrameError for a payload shorter than a MIC
        assert type(exc).__name__ in ("AuthenticationError", "FrameError")
    else:
        raise AssertionError(f"a fuzzed frame authenticated: {nwk.hex()}")

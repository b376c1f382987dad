"""Decode captured 802.15.4 frames through MAC, NWK (with network keys) and APS (with link keys).

Nothing here raises on a malformed or undecryptable frame: the frame is kept with ``error`` set, because a
DUT's bad frame is a finding with its raw bytes, never a harness crash.

Security levels are judged, not trusted: every NWK- and APS-secured frame is authenticated at the network's
nwkSecurityLevel (``Keyring.security_level``, 5 = ENC-MIC-32 in every SE network), never at the level its
security control field names. On the air that subfield is 0 (Zigbee 4.3.1.1 / 4.4.1.1) and a receiver
overwrites it with nwkSecurityLevel (4.3.1.2 / 4.4.1.2), so a frame secured at level 4 (ENC, no MIC) fails its
MIC like any forgery. Each secured layer's outcome is kept as a :class:`SecurityCheck` (the subfield as sent,
whether the MIC verified, the level the frame was secured at when another level explains it) for the cases
that judge it (:meth:`ObservedFrame.security_problems`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from harness.capture import read_pcap
from harness.crypto import AuthenticationError, SecurityLevel
from harness.se.datamodel import SE_PROFILE_ID
from harness.wire.frames import (
    ZDO_PROFILE,
    ApsFrame,
    ApsFrameType,
    FrameError,
    MacFrame,
    MacFrameType,
    parse_aps_command,
)
from harness.wire.frames.nwk import NwkFrame, NwkFrameType, parse_nwk_command
from harness.wire.security import (
    DEFAULT_LEVEL,
    AuxHeader,
    KeyId,
    derived_key,
    unsecure,
    unsecure_aps,
    unsecure_nwk,
)

#: How each security level reads in a finding (Zigbee spec Table 4.38).
LEVEL_NAMES = {
    SecurityLevel.NONE: "no security", SecurityLevel.MIC_32: "MIC-32, no encryption",
    SecurityLevel.MIC_64: "MIC-64, no encryption", SecurityLevel.MIC_128: "MIC-128, no encryption",
    SecurityLevel.ENC: "ENC, no MIC", SecurityLevel.ENC_MIC_32: "ENC-MIC-32", SecurityLevel.ENC_MIC_64: "ENC-MIC-64",
    SecurityLevel.ENC_MIC_128: "ENC-MIC-128",
}


def level_name(level: int) -> str:
    return f"level {int(level)} ({LEVEL_NAMES[SecurityLevel(level)]})"


@dataclass(frozen=True)
class SecurityCheck:
    """One secured layer (NWK or APS) of one frame, judged at the network's security level."""

    on_air_level: int  # the security control's level subfield as sent (Zigbee PRO senders write 0)
    authenticated: bool  # its MIC verified at the network's level under a key the verifier holds
    #: the level it was secured at: the network's when authenticated, else one that explains the bytes (a MIC
    #: that verifies at it, or a plausible plaintext at ENC / NONE); None when nothing explains them.
    level: SecurityLevel | None

    def problem(self, layer: str, expected: SecurityLevel) -> str | None:
        """What is wrong with this layer's security, in a finding's words; None when nothing is."""
        if not self.authenticated:
            observed = (f"secured at {level_name(self.level)}" if self.level is not None
                        else "secured at an unknown level or under a key the bench does not hold")
            return (f"{layer} security: expected {level_name(expected)}, its MIC verifying; observed: its MIC does "
                    f"not verify at level {int(expected)}, {observed}")
        if self.on_air_level:
            return (f"{layer} security: expected the level subfield 0 on the air (the receiver uses "
                    f"nwkSecurityLevel {int(expected)}); observed level subfield {self.on_air_level}")
        return None


@dataclass
class Keyring:
    """Keys the verifier may use: network keys by sequence number, link keys by device IEEE; and the network's
    nwkSecurityLevel, the level every secured frame is authenticated at."""

    network_keys: dict[int, bytes] = field(default_factory=dict)
    link_keys: dict[int, list[bytes]] = field(default_factory=dict)
    security_level: SecurityLevel = DEFAULT_LEVEL

    def add_link_key(self, ieee: int, key: bytes) -> None:
        keys = self.link_keys.setdefault(ieee, [])
        if key not in keys:
            keys.append(key)

    def __repr__(self) -> str:  # keys never reach a log
        return f"Keyring(<{len(self.network_keys)} network keys, {len(self.link_keys)} devices with link keys>)"


@dataclass
class ObservedFrame:
    """One frame as the verifier understood it; fields stay None where a layer was absent or unreadable."""

    index: int
    timestamp: float
    raw: bytes
    mac: MacFrame | None = None
    nwk: NwkFrame | None = None
    nwk_secured: bool = False
    nwk_key_seq: int | None = None
    nwk_frame_counter: int | None = None  # the NWK auxiliary header's frame counter of a frame that authenticated
    nwk_source_ieee: int | None = None
    aps: ApsFrame | None = None
    aps_secured: bool = False
    aps_key_id: KeyId | None = None
    aps_command: object | None = None
    error: str | None = None
    retry_of: int | None = None  # a MAC retransmission: the index of the frame's first copy (MAC_RETRY_WINDOW)
    nwk_security: SecurityCheck | None = None  # set for every NWK-secured frame
    aps_security: SecurityCheck | None = None  # set for every APS-secured frame whose NWK layer authenticated

    @property
    def mac_src(self) -> int | None:
        return None if self.mac is None else self.mac.src_addr

    @property
    def is_mac_command(self) -> bool:
        return self.mac is not None and self.mac.frame_type == MacFrameType.COMMAND

    @property
    def is_nwk(self) -> bool:
        return self.nwk is not None

    @property
    def is_zdo(self) -> bool:
        return self.aps is not None and self.aps.frame_type == ApsFrameType.DATA and self.aps.profile == ZDO_PROFILE

    def security_problems(self, expected: SecurityLevel = DEFAULT_LEVEL) -> list[str]:
        """What is wrong with the frame's NWK and APS security at the network's level *expected*."""
        checks = (("NWK", self.nwk_security), ("APS", self.aps_security))
        return [p for layer, check in checks if check is not None and (p := check.problem(layer, expected))]

    def describe(self) -> str:
        parts = [f"#{self.index} t={self.timestamp:.3f}s"]
        if self.mac is not None:
            parts.append(f"MAC {self.mac.frame_type.name} src={_addr(self.mac.src_addr)} dst={_addr(self.mac.dst_addr)}")
        if self.nwk is not None:
            sec = f" secured(key seq {self.nwk_key_seq})" if self.nwk_secured else " unsecured"
            parts.append(f"NWK {self.nwk.frame_type.name} 0x{self.nwk.src:04X}->0x{self.nwk.dst:04X}{sec}")
        if self.aps is not None:
            what = (f"cluster 0x{self.aps.cluster:04X} profile 0x{self.aps.profile:04X}"
                    if self.aps.frame_type == ApsFrameType.DATA else self.aps.frame_type.name)
            parts.append(f"APS {what}{' APS-secured' if self.aps_secured else ''}")
        if self.error:
            parts.append(f"[{self.error}] raw={self.raw.hex()}")
        return " | ".join(parts)


def _addr(value: int | None) -> str:
    if value is None:
        return "-"
    return f"0x{value:04X}" if value <= 0xFFFF else f"{value:016X}"


#: How soon after a frame the same bytes again are its MAC retransmission, not a new frame (s). A sender that
#: hears no acknowledgment sends the frame again unchanged, sequence number included, up to macMaxFrameRetries
#: times (802.15.4-2006 7.5.6.4): within tens of milliseconds at 2.4 GHz; a second leaves room for an emulated
#: radio on a loaded host. A NWK-secured frame repeated later is a replay, which is the sender's finding.
MAC_RETRY_WINDOW = 1.0


def decode_frames(frames: Iterable[tuple[float, bytes]], keyring: Keyring) -> list[ObservedFrame]:
    """Decode (timestamp, PSDU) pairs in order; the NWK short->IEEE map is learnt along the way, and each MAC
    retransmission names its first copy (``retry_of``)."""
    address_map: dict[int, int] = {}
    first_copies: dict[bytes, ObservedFrame] = {}
    result = []
    for index, (timestamp, psdu) in enumerate(frames):
        observed = ObservedFrame(index, timestamp, bytes(psdu))
        first = first_copies.get(observed.raw)
        if first is not None and timestamp - first.timestamp <= MAC_RETRY_WINDOW:
            observed.retry_of = first.index
        else:
            first_copies[observed.raw] = observed
        _decode(observed, keyring, address_map)
        result.append(observed)
    return result


def decode_pcap(path: str | Path, keyring: Keyring) -> list[ObservedFrame]:
    """Re-verify a saved capture offline."""
    return decode_frames(((record.timestamp, record.data) for record in read_pcap(path).records), keyring)


def _decode(observed: ObservedFrame, keyring: Keyring, address_map: dict[int, int]) -> None:
    try:
        mac = MacFrame.deserialize(observed.raw)
    except FrameError as exc:
        observed.error = f"MAC: {exc}"
        return
    observed.mac = mac
    if mac.frame_type != MacFrameType.DATA:
        return
    try:
        header, _ = NwkFrame.deserialize_header(mac.payload)
    except FrameError as exc:
        observed.error = f"NWK: {exc}"
        return
    if header.src_ieee is not None:
        address_map[header.src] = header.src_ieee
    if header.security:
        observed.nwk_secured = True
        nwk = _unsecure_nwk(observed, mac.payload, keyring)
        if nwk is None:
            observed.nwk = header
            # Whose frame it is still shows (a frame that does not authenticate is the sender's finding).
            observed.nwk_source_ieee = header.src_ieee if header.src_ieee is not None else address_map.get(header.src)
            return
    else:
        try:
            nwk = NwkFrame.deserialize(mac.payload)
        except FrameError as exc:
            observed.error = f"NWK: {exc}"
            return
    observed.nwk = nwk
    observed.nwk_source_ieee = nwk.src_ieee if nwk.src_ieee is not None else address_map.get(nwk.src)
    if nwk.frame_type != NwkFrameType.DATA:
        return
    _decode_aps(observed, nwk.payload, keyring)


def _unsecure_nwk(observed: ObservedFrame, data: bytes, keyring: Keyring) -> NwkFrame | None:
    errors = []
    level = keyring.security_level
    for seq, key in sorted(keyring.network_keys.items()):
        try:
            frame, aux = unsecure_nwk(data, key, level)
        except (AuthenticationError, FrameError) as exc:
            errors.append(f"key seq {seq}: {exc}")
            continue
        observed.nwk_key_seq = aux.key_seq
        observed.nwk_frame_counter = aux.frame_counter
        observed.nwk_security = SecurityCheck(aux.on_air_level, True, aux.level)
        return frame
    header, offset = NwkFrame.deserialize_header(data)  # parsed before: it does not raise here
    check = _failed_check(data, offset, list(keyring.network_keys.values()), header.src_ieee, level,
                          lambda plain: _plausible_nwk_payload(header.frame_type, plain))
    observed.nwk_security = check
    observed.error = "NWK: no known network key decrypts it" + (f" ({errors[0]})" if errors else "")
    if check.level is not None:
        observed.error += f"; it decrypts at {level_name(check.level)}"
    return None


#: The levels a frame that fails at nwkSecurityLevel is tried at, to say how it was secured: the MIC levels first
#: (a verifying MIC proves the level), then ENC and NONE, which no MIC confirms (the plaintext check decides).
_DIAGNOSTIC_LEVELS = (SecurityLevel.ENC_MIC_32, SecurityLevel.ENC_MIC_64, SecurityLevel.ENC_MIC_128, SecurityLevel.MIC_32,
                      SecurityLevel.MIC_64, SecurityLevel.MIC_128, SecurityLevel.ENC, SecurityLevel.NONE)


def _failed_check(data: bytes, offset: int, keys: list[bytes], source_ieee: int | None, expected: SecurityLevel,
                  plausible: Callable[[bytes], bool]) -> SecurityCheck:
    """The check of a secured frame that did not authenticate at *expected*: its level subfield as sent, and the
    level it was secured at under one of *keys* if another level explains it (a level whose MIC verifies, or
    ENC / NONE when the payload they give is one *plausible* accepts: without a MIC nothing else can tell);
    None when no level does (a key the bench does not hold, or a tampered frame). Diagnosis only: the frame
    is not authentic either way."""
    try:
        aux, _ = AuxHeader.deserialize(data, offset, expected)
    except FrameError:
        return SecurityCheck(data[offset] & 0b111 if len(data) > offset else 0, False, None)
    keys = [derived_key(key, aux.key_id) for key in keys]
    for level in _DIAGNOSTIC_LEVELS:
        if level == expected:
            continue
        for key in keys:
            try:
                _aux, payload = unsecure(data, offset, key, source_ieee, level)
            except (AuthenticationError, FrameError):  # FrameError: no nonce address to try any level with
                continue
            if level.mic_length or plausible(payload):
                return SecurityCheck(aux.on_air_level, False, level)
    return SecurityCheck(aux.on_air_level, False, None)


#: The application profiles of an SE network: ZDO and Smart Energy.
_SE_NETWORK_PROFILES = (ZDO_PROFILE, SE_PROFILE_ID)


def _plausible_nwk_payload(frame_type: NwkFrameType, payload: bytes) -> bool:
    """Whether a NWK payload decrypted without a MIC reads as what the frame type says it carries: a NWK command,
    or an APS frame (data on a profile of the network, an APS command, an ack). Random bytes rarely do; nothing
    better exists without a MIC, and the answer only names the level in a finding, never makes one."""
    try:
        if frame_type == NwkFrameType.COMMAND:
            parse_nwk_command(payload)
            return True
        aps = ApsFrame.deserialize(payload)
    except FrameError:
        return False
    if aps.frame_type == ApsFrameType.DATA:
        return aps.profile in _SE_NETWORK_PROFILES
    if aps.frame_type == ApsFrameType.COMMAND and not aps.security:
        return _plausible_aps_payload(aps.frame_type, aps.payload)
    return True


def _plausible_aps_payload(frame_type: ApsFrameType, payload: bytes) -> bool:
    """Whether an APS payload decrypted without a MIC reads as what the frame type says it carries: an APS
    command, or a ZCL/ZDO frame (at least a frame control, sequence number and command id)."""
    if frame_type == ApsFrameType.COMMAND:
        try:
            parse_aps_command(payload)
        except FrameError:
            return False
        return True
    return frame_type == ApsFrameType.DATA and len(payload) >= 3


def _decode_aps(observed: ObservedFrame, data: bytes, keyring: Keyring) -> None:
    try:
        header, offset = ApsFrame.deserialize_header(data)
    except FrameError as exc:
        observed.error = f"APS: {exc}"
        return
    if header.security:
        observed.aps_secured = True
        source = observed.nwk_source_ieee
        candidates = [k for ieee, keys in keyring.link_keys.items() for k in keys]
        aps = None
        level = keyring.security_level
        for key in candidates:
            try:
                aps, aux = unsecure_aps(data, key, source, level)
            except (AuthenticationError, FrameError):
                continue
            observed.aps_key_id = aux.key_id
            observed.aps_security = SecurityCheck(aux.on_air_level, True, aux.level)
            break
        if aps is None:
            observed.aps = header
            check = _failed_check(data, offset, candidates, source, level,
                                  lambda plain: _plausible_aps_payload(header.frame_type, plain))
            observed.aps_security = check
            observed.error = "APS: no known link key decrypts it" + (
                f"; it decrypts at {level_name(check.level)}" if check.level is not None else "")
            return
    else:
        try:
            aps = ApsFrame.deserialize(data)
        except FrameError as exc:
            observed.error = f"APS: {exc}"
            return
    observed.aps = aps
    if aps.frame_type == ApsFrameType.COMMAND:
        try:
            observed.aps_command = parse_aps_command(aps.payload)
        except FrameError as exc:
            observed.error = f"APS command: {exc}"

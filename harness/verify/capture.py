"""Decode captured 802.15.4 frames through MAC, NWK (with network keys) and APS (with link keys).

Nothing here raises on a malformed or undecryptable frame: the frame is kept with ``error`` set, because a
DUT's bad frame is a finding with its raw bytes, never a harness crash.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from harness.capture import read_pcap
from harness.crypto import AuthenticationError
from harness.sim.frames import ApsFrame, ApsFrameType, FrameError, MacFrame, MacFrameType, parse_aps_command
from harness.sim.frames.nwk import NwkFrame, NwkFrameType
from harness.sim.security import KeyId, unsecure_aps, unsecure_nwk


@dataclass
class Keyring:
    """Keys the verifier may use: network keys by sequence number, link keys by device IEEE."""

    network_keys: dict[int, bytes] = field(default_factory=dict)
    link_keys: dict[int, list[bytes]] = field(default_factory=dict)

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
    nwk_source_ieee: int | None = None
    aps: ApsFrame | None = None
    aps_secured: bool = False
    aps_key_id: KeyId | None = None
    aps_command: object | None = None
    error: str | None = None

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
        return self.aps is not None and self.aps.frame_type == ApsFrameType.DATA and self.aps.profile == 0x0000

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


def decode_frames(frames: Iterable[tuple[float, bytes]], keyring: Keyring) -> list[ObservedFrame]:
    """Decode (timestamp, PSDU) pairs in order; the NWK short->IEEE map is learnt along the way."""
    address_map: dict[int, int] = {}
    result = []
    for index, (timestamp, psdu) in enumerate(frames):
        observed = ObservedFrame(index, timestamp, bytes(psdu))
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
    for seq, key in sorted(keyring.network_keys.items()):
        try:
            frame, aux = unsecure_nwk(data, key)
        except (AuthenticationError, FrameError) as exc:
            errors.append(f"key seq {seq}: {exc}")
            continue
        observed.nwk_key_seq = aux.key_seq
        return frame
    observed.error = "NWK: no known network key decrypts it" + (f" ({errors[0]})" if errors else "")
    return None


def _decode_aps(observed: ObservedFrame, data: bytes, keyring: Keyring) -> None:
    try:
        header, _ = ApsFrame.deserialize_header(data)
    except FrameError as exc:
        observed.error = f"APS: {exc}"
        return
    if header.security:
        observed.aps_secured = True
        source = observed.nwk_source_ieee
        candidates = [k for ieee, keys in keyring.link_keys.items() for k in keys]
        aps = None
        for key in candidates:
            try:
                aps, aux = unsecure_aps(data, key, source)
            except (AuthenticationError, FrameError):
                continue
            observed.aps_key_id = aux.key_id
            break
        if aps is None:
            observed.aps = header
            observed.error = "APS: no known link key decrypts it"
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

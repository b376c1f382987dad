"""Judges of a DUT that is the Trust Center: what it sends the HAN devices, read from the capture.

Each judge decodes the air with exactly the keys that may open a frame (a HAN device's install-code link key, or
the well-known key alone) so that which key secured a frame is known, not guessed, and returns the problems it
found, each naming the field, what it holds and what the rule asks (empty: nothing wrong), with the frame's bytes.

Sources: Zigbee spec 4.4.10.1 (Transport Key: key type, key, key sequence number, destination and source
addresses), 4.6.3.2 (the network key to a joining device under the key-transport key of its link key, NWK
unsecured), 4.6.3.4 (network key update: the new key under a new sequence number, then Switch Key), 4.4.5.1 (Remove
Device), 4.6.3.6 (Trust Center rejoin); Smart Energy 1.x 5.4.1 (install-code link keys only, never the well-known
key "ZigBeeAlliance09").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from harness.crypto import WELL_KNOWN_TC_LINK_KEY
from harness.wire.frames.aps import ApsFrameType, KeyType, RemoveDevice, SwitchKey, TransportKey
from harness.wire.frames.errors import FrameError
from harness.wire.frames.mac import Beacon, MacFrame, MacFrameType
from harness.wire.frames.nwk import Leave, NwkFrameType, RejoinResponse, RejoinStatus, parse_nwk_command
from harness.wire.security import KeyId

from .capture import Keyring, ObservedFrame, decode_frames

RULE_TRANSPORT_KEY = ("Zigbee 4.6.3.2 and 4.4.10.1: the Trust Center sends a joining device the network key in a "
                      "Transport Key (standard network key, the active key sequence number, the device's and its own "
                      "IEEE address) APS-secured with the key-transport key of the device's link key; "
                      "SE 1.x 5.4.1: that link key is the install code's")
RULE_WELL_KNOWN = ("SE 1.x 5.4.1: a Smart Energy Trust Center never sends the network key under the well-known "
                   "Trust Center link key ZigBeeAlliance09; devices join only with install-code link keys")
RULE_KEY_UPDATE = ("Zigbee 4.6.3.4 and 4.4.10.5: a network key update sends each device the new key under a new key "
                   "sequence number (the active one plus 1), then Switch Key naming that sequence number")
RULE_REMOVE = ("Zigbee 4.4.5.1 and 4.4.10.3: the Trust Center removes a router with APS Remove Device naming it, "
               "APS-secured with its link key (data key)")
RULE_LEAVE = ("Zigbee 4.4.5.1 and 3.4.4: the Trust Center removes an end device, its own child, with a NWK leave "
              "request (request bit set, rejoin and remove-children clear), NWK-secured with the active network key")
RULE_REJOIN = ("Zigbee 4.6.3.6: a Trust Center rejoin of a device the Trust Center admitted is answered with a "
               "Rejoin Response (SUCCESS) and the active network key under the device's link key's key-transport key")

Frames = Iterable[tuple[float, bytes]]
#: The coordinator's network address (Zigbee 3.6.1.1): the DUT's, as it formed the network.
COORDINATOR_NWK = 0x0000


@dataclass(frozen=True)
class KeyFrame:
    """An APS command the DUT sent one device, opened with that device's link key alone."""

    frame: ObservedFrame
    command: object

    def bytes_hex(self) -> str:
        return self.frame.raw.hex()


def from_dut(frame: ObservedFrame, dut_ieee: int) -> bool:
    return frame.nwk_source_ieee == dut_ieee or (frame.mac is not None and frame.mac.src_addr == dut_ieee)


def aps_commands(frames: Frames, *, dut_ieee: int, device_ieee: int, link_key: bytes,
                 network_keys: dict[int, bytes], since: float = 0.0) -> list[KeyFrame]:
    """The APS commands from the DUT that the device's *link_key* alone opens, in order."""
    keyring = Keyring(network_keys=dict(network_keys), link_keys={device_ieee: [bytes(link_key)]})
    found = []
    for frame in decode_frames(frames, keyring):
        if frame.timestamp < since or not from_dut(frame, dut_ieee) or frame.aps is None:
            continue
        if frame.aps.frame_type == ApsFrameType.COMMAND and frame.aps_command is not None and frame.aps_secured \
                and frame.aps_security is not None and frame.aps_security.authenticated:
            found.append(KeyFrame(frame, frame.aps_command))
    return found


def network_keys_under_well_known_key(frames: Frames, *, dut_ieee: int, since: float = 0.0) -> list[ObservedFrame]:
    """Every Transport Key of a network key from the DUT that the well-known key opens (SE forbids each)."""
    keyring = Keyring(link_keys={0: [WELL_KNOWN_TC_LINK_KEY]})
    return [frame for frame in decode_frames(frames, keyring)
            if frame.timestamp >= since and from_dut(frame, dut_ieee)
            and isinstance(frame.aps_command, TransportKey)
            and frame.aps_command.key_type == KeyType.STANDARD_NETWORK_KEY
            and frame.aps_security is not None and frame.aps_security.authenticated]


def judge_network_key_delivery(delivery: KeyFrame, *, dut_ieee: int, device_ieee: int, joining: bool,
                               expected_seq: int | None = None) -> list[str]:
    """What is wrong with one Transport Key of the network key the DUT sent *device_ieee*, field by field
    (*joining*: the device held no network key, so the frame must be NWK-unsecured; *expected_seq*: the key
    sequence number it must name, when known)."""
    command, frame = delivery.command, delivery.frame
    raw = f" (frame {frame.raw.hex()})"
    if not isinstance(command, TransportKey):
        return [f"an APS {type(command).__name__} where a Transport Key was expected{raw}"]
    problems = []
    if command.key_type != KeyType.STANDARD_NETWORK_KEY:
        problems.append(f"key type 0x{int(command.key_type):02X}, not 0x01 (standard network key)")
    if frame.aps_key_id != KeyId.KEY_TRANSPORT:
        name = frame.aps_key_id.name if frame.aps_key_id is not None else "none"
        problems.append(f"APS security key identifier {name}, not the key-transport key (0x02)")
    if command.dst_ieee != device_ieee:
        problems.append(f"destination address {_ieee(command.dst_ieee)}, not the device's {_ieee(device_ieee)}")
    if command.src_ieee != dut_ieee:
        problems.append(f"source address {_ieee(command.src_ieee)}, not the Trust Center's {_ieee(dut_ieee)}")
    if expected_seq is not None and command.key_seq != expected_seq:
        problems.append(f"key sequence number {command.key_seq}, not {expected_seq}")
    if len(command.key) != 16:
        problems.append(f"a {len(command.key)}-byte key, not 16 bytes")
    if joining and frame.nwk_secured:
        problems.append("NWK-secured although the joining device holds no network key to open it")
    security = frame.security_problems()
    problems.extend(security)
    return [problem + raw for problem in problems]


def network_key_in_use(frames: Frames, *, dut_ieee: int, key: bytes, seq: int, since: float = 0.0) -> tuple[int, int]:
    """How many NWK-secured frames the DUT sent from *since* under *key* naming *seq*, and how many in all.

    A MAC retransmission (the decoder's ``retry_of``) counts once, at its first copy: a retry of a frame sent
    before *since* is not a frame sent after it."""
    keyring = Keyring(network_keys={seq: key})
    matching = total = 0
    for frame in decode_frames(frames, keyring):
        if frame.retry_of is not None or frame.timestamp < since or not from_dut(frame, dut_ieee) \
                or not frame.nwk_secured:
            continue
        total += 1
        if frame.nwk_security is not None and frame.nwk_security.authenticated and frame.nwk_key_seq == seq:
            matching += 1
    return matching, total


def rejoin_responses(frames: Frames, *, dut_ieee: int, device_ieee: int, network_keys: dict[int, bytes],
                     since: float = 0.0) -> list[tuple[ObservedFrame, RejoinResponse]]:
    """Rejoin Responses from the DUT addressed to a device (its IEEE in the NWK header's destination IEEE field,
    which a rejoin response carries: the device's address may be new)."""
    return _nwk_commands_to(RejoinResponse, frames, dut_ieee, device_ieee, network_keys, since)


def leave_requests(frames: Frames, *, dut_ieee: int, device_ieee: int, network_keys: dict[int, bytes],
                   since: float = 0.0) -> list[tuple[ObservedFrame, Leave]]:
    """NWK Leave commands from the DUT addressed to a device (its IEEE in the NWK header's destination IEEE
    field)."""
    return _nwk_commands_to(Leave, frames, dut_ieee, device_ieee, network_keys, since)


def leaves_from(frames: Frames, *, device_ieee: int, network_keys: dict[int, bytes],
                since: float = 0.0) -> list[tuple[ObservedFrame, Leave]]:
    """NWK Leave commands a device sent (its IEEE in the NWK header's source IEEE field, or the NWK security
    header's source address), decoded with the network keys: a device's announcement that it leaves."""
    return _nwk_commands(Leave, frames, network_keys, since,
                         lambda frame, nwk: device_ieee in (frame.nwk_source_ieee, nwk.src_ieee))


def aps_commands_after_leaving(frames: Frames, *, dut_ieee: int, device_ieee: int, former_nwk: int,
                               link_keys: Iterable[bytes], network_keys: dict[int, bytes],
                               since: float) -> list[ObservedFrame]:
    """The APS commands (a Transport Key, a Switch Key, any other) the DUT sent a device that left, since it left:
    those one of its link keys opens (its install code's, its CBKE key), and those addressed to the network address
    it had, whatever key secures them."""
    keyring = Keyring(network_keys=dict(network_keys), link_keys={device_ieee: [bytes(k) for k in link_keys]})
    found = []
    for frame in decode_frames(frames, keyring):
        if frame.timestamp < since or not from_dut(frame, dut_ieee) or frame.aps is None \
                or frame.aps.frame_type != ApsFrameType.COMMAND or frame.retry_of is not None:
            continue
        opened = frame.aps_security is not None and frame.aps_security.authenticated
        if (frame.nwk is not None and frame.nwk.dst == former_nwk) or (opened and frame.aps_secured):
            found.append(frame)
    return found


_Command = TypeVar("_Command")


def _nwk_commands_to(kind: type[_Command], frames: Frames, dut_ieee: int, device_ieee: int,
                     network_keys: dict[int, bytes], since: float) -> list[tuple[ObservedFrame, _Command]]:
    """NWK commands of *kind* the DUT sent to *device_ieee* since *since*, decoded with the network keys."""
    return _nwk_commands(kind, frames, network_keys, since,
                         lambda frame, nwk: from_dut(frame, dut_ieee) and nwk.dst_ieee == device_ieee)


def _nwk_commands(kind: type[_Command], frames: Frames, network_keys: dict[int, bytes], since: float,
                  chosen: Callable[[ObservedFrame, Any], bool]) -> list[tuple[ObservedFrame, _Command]]:
    """NWK commands of *kind* since *since* in the frames *chosen* (given the frame and its NWK header) picks,
    decoded with the network keys."""
    found: list[tuple[ObservedFrame, _Command]] = []
    for frame in decode_frames(frames, Keyring(network_keys=dict(network_keys))):
        nwk = frame.nwk
        if frame.timestamp < since or nwk is None or nwk.frame_type != NwkFrameType.COMMAND \
                or not hasattr(nwk, "payload") or not chosen(frame, nwk):
            continue
        try:
            command = parse_nwk_command(nwk.payload)
        except FrameError:
            continue
        if isinstance(command, kind):
            found.append((frame, command))
    return found


def judge_switch_key(commands: list[KeyFrame], *, seq: int) -> list[str]:
    """What is wrong with the Switch Key a device got after a key update (none at all included)."""
    switches = [c for c in commands if isinstance(c.command, SwitchKey)]
    if not switches:
        return [f"no Switch Key (to key sequence number {seq}) under the device's link key"]
    switch = switches[0]
    problems = []
    assert isinstance(switch.command, SwitchKey)
    if switch.command.key_seq != seq:
        problems.append(f"Switch Key names key sequence number {switch.command.key_seq}, not {seq}")
    if switch.frame.aps_key_id != KeyId.DATA:
        problems.append(f"Switch Key secured with key identifier {switch.frame.aps_key_id}, not the data key")
    problems.extend(switch.frame.security_problems())
    return [f"{problem} (frame {switch.bytes_hex()})" for problem in problems]


def remove_device_frames(frames: Frames, *, dut_ieee: int, network_keys: dict[int, bytes],
                         since: float = 0.0) -> list[ObservedFrame]:
    """Every APS Remove Device from the DUT, secured or not (a secured one whose key the bench lacks shows as an
    undecodable APS command frame, which the caller judges by the key it does hold)."""
    found = []
    for frame in decode_frames(frames, Keyring(network_keys=dict(network_keys))):
        if frame.timestamp >= since and from_dut(frame, dut_ieee) and isinstance(frame.aps_command, RemoveDevice):
            found.append(frame)
    return found


def beacons_permitting(frames: Frames, *, since: float = 0.0) -> list[tuple[float, bytes, bool]]:
    """The coordinator's beacons (short source address 0x0000: the DUT, which formed the network), each with its
    time, bytes and Association Permit bit."""
    found = []
    for time, raw in frames:
        if time < since:
            continue
        try:
            mac = MacFrame.deserialize(raw)
            if mac.frame_type != MacFrameType.BEACON or mac.src_addr != COORDINATOR_NWK:
                continue
            beacon = Beacon.deserialize(mac.payload)
        except FrameError:
            continue
        found.append((time, bytes(raw), beacon.association_permit))
    return found


def success(response: RejoinResponse) -> bool:
    return response.status == RejoinStatus.SUCCESS


def _ieee(value: int | None) -> str:
    return "absent" if value is None else f"{value:016X}"

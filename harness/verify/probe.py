"""Did the DUT act on an SE command it should have ignored? The judging side of the APS security policy.

"Not acted on" (SE 1.x 5.4.7) means no command-specific response and no Default Response SUCCESS. A silent
drop is not acting, and neither is the refusal EmberZNet's application framework sends without APS security:
a Default Response NOT_AUTHORIZED (0x7E) or FAILURE (0x01) to the command (Silicon Labs gecko_sdk
protocol/zigbee/app/framework/util/util.c, emberAfProcessMessage). Any other answer is acting on it.

Answers are looked for both where the golden read one (the key it holds) and on the air under any key of the
keyring: an answer under a key the golden no longer holds is still an answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from zigpy.zcl.foundation import Direction, GeneralCommand, Status

from harness.se.datamodel import Side
from harness.verify.capture import ObservedFrame
from harness.wire.frames import ApsFrameType
from harness.zcl.errors import MalformedFrame
from harness.zcl.frame import ZclFrame, decode_general, parse_frame

if TYPE_CHECKING:  # only its fields are read: the judging side does not import the golden
    from harness.golden.ke import ProbeResult

#: The Default Response statuses that refuse the command without acting on it.
REFUSALS = frozenset({Status.NOT_AUTHORIZED, Status.FAILURE})


@dataclass(frozen=True)
class ProbeVerdict:
    acted: bool
    observed: str  # what the DUT did, for the case's observed= text


def answers(probe: ProbeResult, frames: Iterable[ObservedFrame], dut_nwk: int, side: Side) -> list[tuple[ZclFrame, str]]:
    """Every answer of the DUT to *probe* (sent to its *side* of the cluster), with where it was seen."""
    # The answer travels from the DUT's side of the cluster (its server answers server to client).
    direction = Direction.Server_to_Client if side == Side.SERVER else Direction.Client_to_Server
    found = []
    if probe.answer is not None:
        secured = "APS-secured" if probe.aps_encrypted_answer else "without APS security"
        found.append((probe.answer, f"to the golden, {secured}"))
    for frame in frames:
        if frame.timestamp < probe.sent_at or frame.nwk is None or frame.nwk.src != dut_nwk or frame.aps is None:
            continue
        if frame.aps.frame_type != ApsFrameType.DATA or frame.aps.cluster != probe.cluster_id:
            continue
        try:
            zcl = parse_frame(frame.aps.payload)
        except MalformedFrame:
            continue
        if zcl.tsn == probe.tsn and zcl.direction == direction:
            found.append((zcl, f"on the air: {frame.describe()}"))
    return found


def refusal(zcl: ZclFrame) -> Status | None:
    """The status of a Default Response that refuses the probe (Read Attributes, command 0x00) without acting on
    it; None for anything else (a command-specific response, a success, a Default Response naming another
    command or giving another status)."""
    if not zcl.is_general or zcl.command_id != GeneralCommand.Default_Response:
        return None
    try:
        response = decode_general(zcl)
    except MalformedFrame:
        return None
    status = Status(int(response.status))  # zigpy keeps undefined values as undefined_0xNN members
    return status if int(response.command_id) == GeneralCommand.Read_Attributes and status in REFUSALS else None


def describe(zcl: ZclFrame) -> str:
    if zcl.is_general and zcl.command_id == GeneralCommand.Default_Response:
        try:
            response = decode_general(zcl)
            return (f"a Default Response to command 0x{int(response.command_id):02X} with status "
                    f"0x{int(response.status):02X}")
        except MalformedFrame:
            return f"a malformed Default Response ({zcl.raw.hex()})"
    return f"{zcl.describe()}"


def judge(probe: ProbeResult, frames: Iterable[ObservedFrame], dut_nwk: int, side: Side) -> ProbeVerdict:
    """Whether the DUT acted on the probe, and what it did: any answer other than a refusal is acting on it."""
    seen = answers(probe, frames, dut_nwk, side)
    acting = [(zcl, where) for zcl, where in seen if refusal(zcl) is None]
    if acting:
        zcl, where = acting[0]
        return ProbeVerdict(True, f"the DUT answered with {describe(zcl)}, {where}")
    if seen:
        zcl, where = seen[0]
        return ProbeVerdict(False, f"the DUT refused it with {describe(zcl)}, {where}")
    return ProbeVerdict(False, "no answer from the DUT, on the air or to the golden")

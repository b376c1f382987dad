"""Typed failures and findings of the ZCL engine.

A failure of the harness's own request (timeout, error status) raises a ZclError subclass. A malformed or
insecure frame from the peer is never raised out of the dispatcher: it becomes a Finding that carries the
raw bytes and the reason, for a step to judge.
"""

from __future__ import annotations

import dataclasses
import enum

from zigpy.zcl.foundation import Status

from harness.errors import DutRefused, DutSilent, MalformedDutFrame


class ZclError(Exception):
    """Base class of the engine's errors."""


class ZclTimeout(ZclError, DutSilent):
    """No matching response arrived before the deadline; the message names what was awaited."""

    default_expectation = "a ZCL response from the DUT before the deadline"
    default_rule = "ZCL 07-5123 2.5: every general command is answered (response or Default Response)"


class ZclStatusError(ZclError, DutRefused):
    """The peer answered a request with a Default Response carrying an error status."""

    def __init__(self, what: str, status: Status) -> None:
        super().__init__(f"{what}: peer answered Default Response {status.name} (0x{status:02X})",
                         expectation=f"a {what} Response from the DUT",
                         observation=f"Default Response with status {status.name} (0x{status:02X})",
                         rule="ZCL 07-5123 2.5: general commands and their responses")
        self.status = status


class MalformedFrame(ZclError, MalformedDutFrame):
    """Bytes that are not a valid ZCL frame (or payload); reason says what is wrong. Raised out of a request
    (a DUT's response that does not decode), it fails the case with the bytes."""

    def __init__(self, reason: str, raw: bytes) -> None:
        super().__init__(reason, raw, what="ZCL frame",
                         rule="ZCL 07-5123 2.4: general ZCL frame format; 2.5: general command payloads")


class FindingKind(enum.StrEnum):
    MALFORMED_FRAME = "malformed-frame"
    MALFORMED_PAYLOAD = "malformed-payload"
    MISSING_APS_SECURITY = "missing-aps-security"
    HANDLER_ERROR = "handler-error"


@dataclasses.dataclass(frozen=True)
class Finding:
    """Something the peer sent that the engine could not accept, kept with its bytes."""

    kind: FindingKind
    reason: str
    raw: bytes
    source: str = ""
    cluster_id: int | None = None

    def __str__(self) -> str:
        cluster = f" cluster 0x{self.cluster_id:04X}" if self.cluster_id is not None else ""
        return f"{self.kind}: {self.reason} from {self.source or '?'}{cluster} (raw {self.raw.hex()})"

"""What a Key Establishment state machine saw and did, for steps to assert on.

Every exchange leaves a trail of KeEvents with loop timestamps (virtual in simulation): each KE frame in
and out (with whether it was APS-encrypted), started, completed (partner and key), terminated (status,
wait time and by whom), timed out, delivery failed. Keys never appear in a repr.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from harness.crypto import Role

from .frames import KeCommand, status_name


class KeEventKind(enum.Enum):
    FRAME_RECEIVED = "frame-received"
    FRAME_SENT = "frame-sent"
    STARTED = "started"
    COMPLETED = "completed"
    TERMINATED = "terminated"
    TIMEOUT = "timeout"
    SEND_FAILED = "send-failed"
    RETRY = "retry"


class TerminatedBy(enum.Enum):
    LOCAL = "local"  # we sent Terminate Key Establishment
    PARTNER = "partner"  # the partner sent it


@dataclass(frozen=True)
class KeEvent:
    kind: KeEventKind
    at: float  # loop time, seconds
    partner_nwk: int
    role: Role | None = None  # our role in the exchange, None for frames outside one
    partner_ieee: int | None = None
    suite: int | None = None
    command: KeCommand | None = None  # for frame events
    status: int | None = None  # terminate status
    wait_time: int | None = None
    by: TerminatedBy | None = None
    aps_encrypted: bool = False
    in_exchange: bool = True  # False for frames and terminates that belong to no running exchange
    detail: str = ""
    #: COMPLETED: the new link key; TERMINATED after the golden's wrong-MAC test hook: the key it had derived.
    key: bytes | None = field(default=None, repr=False)
    #: COMPLETED: the partner's implicit certificate (the golden verifies the DUT's ECDSA signatures with it).
    peer_certificate: bytes | None = field(default=None, repr=False)

    def __str__(self) -> str:
        parts = [f"{self.at:.3f}s {self.kind.value} 0x{self.partner_nwk:04X}"]
        if self.command is not None:
            parts.append(self.command.name)
        if self.status is not None:
            parts.append(status_name(self.status))
        if self.by is not None:
            parts.append(f"by {self.by.value}")
        if self.wait_time is not None:
            parts.append(f"wait {self.wait_time}s")
        if self.aps_encrypted:
            parts.append("APS-encrypted")
        if self.detail:
            parts.append(self.detail)
        return " ".join(parts)


class KeResult(enum.Enum):
    SUCCESS = "success"
    TERMINATED = "terminated"
    TIMEOUT = "timeout"
    SEND_FAILED = "send-failed"
    BUSY = "busy"  # this side was already running an exchange


@dataclass(frozen=True)
class KeOutcome:
    """How one exchange ended."""

    result: KeResult
    partner_nwk: int
    role: Role
    suite: int | None = None
    status: int | None = None
    by: TerminatedBy | None = None
    wait_time: int | None = None
    attempts: int = 1
    detail: str = ""
    key: bytes | None = field(default=None, repr=False)

    @property
    def success(self) -> bool:
        return self.result is KeResult.SUCCESS

    def __str__(self) -> str:
        text = f"{self.role.value} with 0x{self.partner_nwk:04X}: {self.result.value}"
        if self.status is not None:
            text += f" {status_name(self.status)}"
        if self.by is not None:
            text += f" by {self.by.value}"
        return text + (f" ({self.detail})" if self.detail else "")

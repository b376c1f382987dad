"""Certificate-Based Key Establishment on the Key Establishment cluster (0x0800).

- engine: KeEngine (the crypto interface an EZSP NCP can implement too) and SoftwareKeEngine (harness.crypto).
- state_machine: KeyEstablishment, the cluster state machine on a ZclEngine endpoint, initiator and responder.
- faults: GoldenKeFaults (the golden's test hooks) and DeviceKeFaults (reference-device non-conformances).
- events: KeEvent / KeOutcome, what an exchange did, for steps to assert on.
- sim: wiring to a simulated Node (address resolution, link-key install, APS-ack knob, packet routing).
"""

from .engine import ConfirmationMacs, KeEngine, KeSession, SoftwareKeEngine, suite_bitmap, suite_from_bitmap
from .events import KeEvent, KeEventKind, KeOutcome, KeResult, TerminatedBy
from .faults import (
    CertificateMangle,
    DeviceKeFaults,
    EphemeralMangle,
    GoldenKeFaults,
    device_engine,
    mangle_certificate,
)
from .frames import KeCommand, KeFrameError
from .state_machine import KeTiming, KeyEstablishment, RetryPolicy

__all__ = [
    "CertificateMangle",
    "ConfirmationMacs",
    "DeviceKeFaults",
    "EphemeralMangle",
    "GoldenKeFaults",
    "KeCommand",
    "KeEngine",
    "KeEvent",
    "KeEventKind",
    "KeFrameError",
    "KeOutcome",
    "KeResult",
    "KeSession",
    "KeTiming",
    "KeyEstablishment",
    "RetryPolicy",
    "SoftwareKeEngine",
    "TerminatedBy",
    "device_engine",
    "mangle_certificate",
    "suite_bitmap",
    "suite_from_bitmap",
]

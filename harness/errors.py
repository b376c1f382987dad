"""Who is to blame: the exception hierarchy the verdict of a case is decided by (harness/run_record.py).

Three families, told apart by type (never by name) and by the phase of the case they end:

- :class:`DutFailure`: the DUT did not do what the case requires. It said something malformed
  (:class:`MalformedDutFrame`, with the raw bytes), nothing at all before the deadline (:class:`DutSilent`),
  or its MAC acknowledged a frame its APS layer never acknowledged (:class:`ApsNotAcknowledged`).
  harness.verdict.NonConformance is one too. Verdict ``failed``, with expected / observed / rule.
- :class:`BenchFault`: the bench let the case down (golden radio, DUT port or control, bench hooks, sniffer,
  forming the network). Verdict ``error``, never counted against the DUT; ``retryable`` says whether another
  attempt may succeed (a radio that dropped off the bus) or would only repeat it.
- anything else is a harness defect (a step's own code raising IndexError, a bare ``assert``): ``error`` too.

Whatever the type, an exception before the DUT is asked to act (pytest's setup phase: opening the radio and
the DUT port, forming the network) is ``error``: nothing the DUT did can have caused it.
"""

from __future__ import annotations

from typing import ClassVar

import zigpy.exceptions


class DutFailure(Exception):
    """The DUT did not conform. Each subclass states a default expectation and rule; the observation defaults
    to the message, so a report always shows the three parts."""

    default_expectation: ClassVar[str] = "the DUT behaves as the case requires"
    default_rule: ClassVar[str] = "the case's specification reference"

    def __init__(self, message: str = "", *, expectation: str | None = None, observation: str | None = None,
                 rule: str | None = None) -> None:
        super().__init__(message)
        self.expectation = expectation or self.default_expectation
        self.observation = observation or message
        self.rule = rule or self.default_rule


class DutSilent(DutFailure, TimeoutError):
    """Nothing from the DUT before the deadline (a TimeoutError, so steps that expect silence can catch it)."""

    default_expectation = "an answer from the DUT before the deadline"
    default_rule = "the case's deadline (specification or PIXIT)"


class DutRefused(DutFailure):
    """The DUT answered a request with an error status where the case needs it to succeed."""

    default_expectation = "the DUT carries out the request"
    default_rule = "ZCL 07-5123 2.5.12: Default Response status"


class MalformedDutFrame(DutFailure, ValueError):
    """Bytes from the DUT (a frame or a document) that do not decode; ``raw`` keeps them for the report."""

    default_rule = "ZCL 07-5123 2.4 / Zigbee 2.2.5: frame formats"

    def __init__(self, reason: str, raw: bytes, *, what: str = "frame", rule: str | None = None,
                 source: str = "") -> None:
        self.reason = reason
        self.raw = bytes(raw)
        self.source = source
        origin = f" from {source}" if source else ""
        super().__init__(f"malformed {what}{origin}: {reason} (raw {self.raw.hex()})",
                         expectation=f"a well-formed {what} from the DUT",
                         observation=f"{reason}{origin}; raw bytes {self.raw.hex() or '(none)'}", rule=rule)


class ApsNotAcknowledged(DutFailure, zigpy.exceptions.DeliveryError):
    """The DUT's MAC acknowledged the golden's frame but its APS layer never did (it received the frame and
    could not, or would not, take it: e.g. secured with a link key it derived wrongly). Also a zigpy
    DeliveryError, so code that handles undelivered frames goes on working."""

    default_expectation = "an APS acknowledgement from the DUT for a frame sent with the APS ack request"
    default_rule = "Zigbee 2.2.8.4.2: the destination acknowledges an APS frame that asks for it"


class DutUnreachable(DutFailure, zigpy.exceptions.DeliveryError):
    """Simulation only: not even the DUT's MAC acknowledged. The simulated air delivers every frame (unless a
    self-test seeds losses), so the DUT was off the network or deaf to it. On a real bench the same symptom
    may be the radio link's: there it stays a plain zigpy DeliveryError, a bench fault."""

    default_expectation = "a MAC acknowledgement from the DUT"
    default_rule = "IEEE 802.15.4 7.5.6.4: a device acknowledges a unicast frame that asks for it"


class BenchFault(Exception):
    """The bench failed the case (radio, DUT port or control, hooks, sniffer, network forming): an error."""

    #: True when another attempt on a fresh testbed may succeed (run_record.BENCH_RETRIES bounds them).
    retryable: ClassVar[bool] = False


class DeliveryFault(BenchFault, TimeoutError):
    """A real bench's radio reported a frame to the DUT undelivered without telling MAC from APS failure:
    the link may be at fault, so it is never counted against the DUT. A TimeoutError, so steps that judge
    "no answer" (a DUT that left the network) still can."""

    retryable = True


class StepBlocked(Exception):
    """A manual step nobody performed (no operator terminal, or the operator skipped it): blocked."""

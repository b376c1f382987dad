"""The Key Establishment cluster (0x0800) state machine, initiator (client) and responder (server).

One instance serves one endpoint of one node and runs at most one exchange at a time, in either role
(a second partner gets Terminate NO_RESOURCES with a wait time, as the Silicon Labs plugin does):

    initiator (U)                                   responder (V)
    Initiate KE request (suite, times, cert U)  ->
                                                <-  Initiate KE response (suite, times, cert V)
    Ephemeral Data request (QEU)                ->
                                                <-  Ephemeral Data response (QEV)
    Confirm Key request (MACU)                  ->
                                                <-  Confirm Key response (MACV)

Either side may send Terminate (status, wait time, suite) instead of its next frame. Timeouts follow the
partner's advertised generate times plus a network margin (the plugin's 10 s base). The new APS link key
is handed to ``install_key`` only after the partner's MAC verified. KE frames go out with APS ack and
without APS encryption (SE: KE runs under NWK security only). Everything seen and done is kept as
KeEvents in ``events``; golden test hooks and device non-conformances come from harness.ke.faults.

Wiring: the ZclEngine dispatches decodable KE commands to handlers registered here; route the node's
packets through :meth:`KeyEstablishment.handle` (which forwards everything else to the ZclEngine) so a
KE payload too malformed for the engine's schema still earns Terminate BAD_MESSAGE rather than only a
MALFORMED_COMMAND Default Response.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import zigpy.types as t
from zigpy.zcl.foundation import Direction, Status

from harness.crypto import CryptoError, Role
from harness.se.clusters import KeyEstablishment as KeyEstablishmentCluster
from harness.se.datamodel import Side
from harness.se.types import KeyEstablishmentStatus as KeStatus
from harness.zcl import AttributeKey, ZclEngine, ZclRequest
from harness.zcl.errors import MalformedFrame
from harness.zcl.frame import build_frame, parse_frame

from .checks import Problem, certificate_problem, ephemeral_problem
from .engine import ConfirmationMacs, KeEngine, KeSession, suite_bitmap, suite_from_bitmap
from .events import KeEvent, KeEventKind, KeOutcome, KeResult, TerminatedBy
from .faults import (
    NO_DEVICE_FAULTS,
    NO_GOLDEN_FAULTS,
    DeviceKeFaults,
    GoldenKeFaults,
    flip_mac,
    mangle_certificate,
    mangle_ephemeral,
)
from .frames import (
    ConfirmKey,
    EphemeralData,
    Initiate,
    KeCommand,
    KeFrameError,
    KePayload,
    Terminate,
    parse_payload,
)

LOGGER = logging.getLogger(__name__)

SendFn = Callable[[t.ZigbeePacket], Awaitable[Any]]
IeeeResolver = Callable[[int], int | None]
KeyInstaller = Callable[[int, bytes], None]
EventListener = Callable[[KeEvent], None]


@dataclass(frozen=True)
class KeTiming:
    """Times this side advertises and waits. Defaults are the Silicon Labs plugin's."""

    ephemeral_data_generate_time: int = 10  # s, advertised in our Initiate frame
    confirm_key_generate_time: int = 10  # s, advertised in our Initiate frame
    network_margin: float = 10.0  # s added to every wait (KEY_ESTABLISHMENT_TIMEOUT_BASE_SECONDS)
    terminate_wait_time: int = 30  # s, the wait time in every Terminate we send (BACK_OFF_TIME_REPORTED_TO_PARTNER)
    attribute_read_timeout: float = 10.0  # s, reading the partner's KeyEstablishmentSuite


@dataclass(frozen=True)
class RetryPolicy:
    """What an initiator does when an attempt fails: SE devices retry after NO_RESOURCES (after the wait
    time) and after a silent responder (a bounded number of times)."""

    busy_retries: int = 3
    timeout_retries: int = 2
    retry_delay: float = 10.0  # s before retrying after a timeout (the plugin's INTERNAL_ERROR_BACK_OFF_TIME)


class _Expect(enum.Enum):
    """The next frame an exchange waits for: (side of the cluster receiving it, command)."""

    INITIATE_RESPONSE = (Side.CLIENT, KeCommand.INITIATE)
    EPHEMERAL_RESPONSE = (Side.CLIENT, KeCommand.EPHEMERAL_DATA)
    CONFIRM_RESPONSE = (Side.CLIENT, KeCommand.CONFIRM_KEY)
    EPHEMERAL_REQUEST = (Side.SERVER, KeCommand.EPHEMERAL_DATA)
    CONFIRM_REQUEST = (Side.SERVER, KeCommand.CONFIRM_KEY)


@dataclass(eq=False)
class _Exchange:
    role: Role
    partner_nwk: int
    partner_ep: int
    partner_ieee: int | None
    suite: int
    done: asyncio.Future[KeOutcome]
    last_tsn: int = 0  # the responder answers with the request's sequence number
    expect: _Expect | None = None
    peer_certificate: bytes = field(default=b"", repr=False)
    peer_ephemeral_time: int = 0
    peer_confirm_time: int = 0
    session: KeSession | None = None
    macs: ConfirmationMacs | None = None
    timer: asyncio.TimerHandle | None = None
    #: The partner's ephemeral key taken without validating it first (a seeded device fault), derived later.
    unchecked_ephemeral: bytes = field(default=b"", repr=False)
    #: The key the golden derived before sending a wrong MAC (a test hook), reported with the Terminate.
    unconfirmed_key: bytes | None = field(default=None, repr=False)

    @property
    def direction(self) -> Direction:
        return Direction.Client_to_Server if self.role is Role.INITIATOR else Direction.Server_to_Client


IEEE_RESOLVE_GRACE = 2.0  # seconds
#: How much later than its advertised Confirm Key Generate Time a device seeded with slow_confirm_key answers.
SLOW_CONFIRM_EXTRA = 2.0  # seconds: past the PIXIT ke_transit_time, inside the PIXIT ke_timeout's 20 s
#: KeyEstablishmentSuite, on both sides of the cluster.
SUITE_ATTRIBUTE = KeyEstablishmentCluster.AttributeDefs.key_establishment_suite


class KeyEstablishment:
    """The KE cluster on one endpoint: server (responder) and/or client (initiator)."""

    def __init__(
        self,
        zcl: ZclEngine,
        endpoint: int,
        engine: KeEngine,
        *,
        send: SendFn,
        ieee_of: IeeeResolver,
        install_key: KeyInstaller | None = None,
        server: bool = True,
        client: bool = True,
        timing: KeTiming = KeTiming(),
        golden: GoldenKeFaults = NO_GOLDEN_FAULTS,
        device: DeviceKeFaults = NO_DEVICE_FAULTS,
        set_aps_acks: Callable[[bool], None] | None = None,
    ) -> None:
        self.zcl = zcl
        self.endpoint = endpoint
        self.engine = engine
        self.timing = timing
        self.golden = golden
        self.device = device
        self.events: list[KeEvent] = []
        self._send_fn = send
        self._ieee_of = ieee_of
        self._install_key = install_key
        self._set_aps_acks = set_aps_acks
        self._listeners: list[EventListener] = []
        self._exchange: _Exchange | None = None
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task] = set()
        self._busy_answers = 0
        self._last_session: KeSession | None = None  # the latest exchange's, whichever the role
        self.sides = [s for s, on in ((Side.SERVER, server), (Side.CLIENT, client)) if on]
        if not self.sides:
            raise ValueError("a Key Establishment endpoint is a server, a client or both")
        self._publish_suites()
        for side in self.sides:
            for command in KeCommand:
                zcl.register_handler(
                    KeyEstablishmentCluster.cluster_id, side, command, self._handler(side, command), endpoint=endpoint
                )

    def __repr__(self) -> str:
        state = "idle" if self._exchange is None else f"{self._exchange.role.value} {self._exchange.expect}"
        return f"<KeyEstablishment ep {self.endpoint} {state}>"

    # --- attributes and observation -----------------------------------------------------------------

    @property
    def advertised_suites(self) -> int:
        """The KeyEstablishmentSuite attribute value: the engine's suites (or, as a device fault, the others)."""
        value = self.engine.suite_bitmap
        if self.device.advertise_wrong_suite:
            value = (value ^ 0x0003) or 0x0002
        return value

    def _publish_suites(self) -> None:
        store = self.zcl.store
        for side in self.sides:
            key = AttributeKey(self.endpoint, KeyEstablishmentCluster.cluster_id, side, SUITE_ATTRIBUTE.id)
            if store.entry(key) is not None:
                store.set(key, self.advertised_suites)
            elif not store.has_cluster(self.endpoint, KeyEstablishmentCluster.cluster_id, side):
                store.add_cluster(
                    self.endpoint, KeyEstablishmentCluster.cluster_id, side,
                    values={SUITE_ATTRIBUTE.id: self.advertised_suites},
                )
            # else: the host carries the cluster without the attribute (a seeded fault); leave it missing.

    def set_engine(self, engine: KeEngine) -> None:
        """Use another engine (other certificates or suites) from the next exchange on; republishes the
        KeyEstablishmentSuite attribute."""
        self.engine = engine
        self._publish_suites()

    def on_event(self, listener: EventListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def events_of(self, kind: KeEventKind) -> list[KeEvent]:
        return [e for e in self.events if e.kind is kind]

    @property
    def busy(self) -> bool:
        return self._exchange is not None

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _event(self, kind: KeEventKind, partner_nwk: int, **kw: Any) -> KeEvent:
        event = KeEvent(kind, self._now(), partner_nwk, **kw)
        self.events.append(event)
        LOGGER.debug("KE ep %d: %s", self.endpoint, event)
        for listener in list(self._listeners):
            listener(event)
        return event

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def close(self) -> None:
        if self._exchange is not None:
            self._finish(self._exchange, KeResult.TERMINATED, detail="closed")
        for task in self._tasks:
            task.cancel()

    # --- receive ------------------------------------------------------------------------------------

    async def handle(self, packet: t.ZigbeePacket) -> None:
        """Front door for the node's packets: malformed KE commands are answered here, the rest go on to
        the ZclEngine (which calls this object's handlers for well-formed KE commands)."""
        if (
            int(packet.cluster_id) == KeyEstablishmentCluster.cluster_id
            and int(packet.profile_id) == self.zcl.profile_id
            and int(packet.dst_ep or 0) == self.endpoint
        ):
            raw = packet.data.serialize() if hasattr(packet.data, "serialize") else bytes(packet.data)
            try:
                frame = parse_frame(raw)
            except MalformedFrame:
                frame = None  # the engine records the finding
            if frame is not None and not frame.is_general and frame.manufacturer is None:
                side = Side.SERVER if frame.direction == Direction.Client_to_Server else Side.CLIENT
                try:
                    parse_payload(frame.command_id, frame.payload)
                except KeFrameError as exc:
                    if side in self.sides and frame.command_id in _COMMAND_IDS:
                        await self._malformed(packet, frame.tsn, side, KeCommand(frame.command_id), str(exc))
                        return
        await self.zcl.handle(packet)

    def _handler(self, side: Side, command: KeCommand) -> Callable[[ZclRequest], Awaitable[Status | None]]:
        async def handle(request: ZclRequest) -> Status | None:
            if command is not KeCommand.TERMINATE:
                request.responded = True  # our answer is a KE command (or deliberately nothing)
            try:
                payload = parse_payload(command, request.frame.payload)
            except KeFrameError as exc:
                await self._malformed(request.packet, request.frame.tsn, side, command, str(exc))
                return None
            await self._receive(request.packet, request.frame.tsn, side, command, payload)
            return None

        return handle

    async def _malformed(self, packet: t.ZigbeePacket, tsn: int, side: Side, command: KeCommand, reason: str) -> None:
        src, src_ep = int(packet.src.address), int(packet.src_ep)
        ex = self._exchange
        mine = ex is not None and ex.partner_nwk == src
        self._event(KeEventKind.FRAME_RECEIVED, src, command=command, aps_encrypted=_encrypted(packet),
                    in_exchange=mine, detail=f"malformed: {reason}")
        if self.golden.silent_for(command):
            return
        if (command in (KeCommand.EPHEMERAL_DATA, KeCommand.CONFIRM_KEY) and mine
                and self.device.silent_on_malformed):
            return  # a device fault: the malformed frame is dropped and the exchange waits on (then times out)
        if self.device.silent_on_bad_certificate and command is KeCommand.INITIATE:
            # A device fault: the malformed certificate frame is dropped without a Terminate.
            if mine and ex is not None:
                self._finish(ex, KeResult.TERMINATED, by=TerminatedBy.LOCAL,
                             detail=f"malformed {command.name} dropped silently (device fault)")
            return
        async with self._lock:
            ex = self._exchange
            if ex is not None and ex.partner_nwk == src:
                await self._abort(ex, KeStatus.Bad_Message, f"malformed {command.name}: {reason}", tsn=tsn)
            elif command is not KeCommand.TERMINATE:
                await self._terminate_outside(src, src_ep, tsn, side, KeStatus.Bad_Message, f"malformed: {reason}")

    async def _receive(self, packet: t.ZigbeePacket, tsn: int, side: Side, command: KeCommand, payload: KePayload) -> None:
        src, src_ep = int(packet.src.address), int(packet.src_ep)
        before = self._exchange
        self._event(KeEventKind.FRAME_RECEIVED, src, command=command, aps_encrypted=_encrypted(packet),
                    in_exchange=before is not None and before.partner_nwk == src,
                    status=payload.status if isinstance(payload, Terminate) else None)
        if self.golden.silent_for(command):
            return
        if self.golden.delay_command == command and self.golden.delay_seconds > 0:
            if before is not None and before.partner_nwk == src:
                self._cancel_timer(before)  # the frame is here; only our answer is late
            await asyncio.sleep(self.golden.delay_seconds)  # a golden fault: answer late on purpose
            if before is not None and self._exchange is not before:
                return  # the exchange this frame belonged to is over
        async with self._lock:
            ex = self._exchange
            if isinstance(payload, Terminate):
                self._partner_terminated(ex, src, payload)
                return
            if ex is not None and ex.partner_nwk != src:
                if side is Side.SERVER and isinstance(payload, Initiate) and self.device.accept_second_partner:
                    # A device fault: the running exchange is dropped for the newcomer.
                    self._finish(ex, KeResult.TERMINATED, by=TerminatedBy.LOCAL,
                                 detail="dropped for a second partner (device fault)")
                    await self._responder_initiate(src, src_ep, tsn, payload)
                    return
                await self._terminate_outside(src, src_ep, tsn, side, KeStatus.No_Resources,
                                              "busy with another exchange")
                return
            if side is Side.SERVER and isinstance(payload, Initiate):
                if ex is not None:  # the partner gave up on the running exchange and starts again
                    self._finish(ex, KeResult.TERMINATED, by=TerminatedBy.PARTNER,
                                 detail="partner started a new exchange")
                await self._responder_initiate(src, src_ep, tsn, payload)
                return
            if ex is None or ex.expect is None or ex.expect.value != (side, command):
                if self.device.accept_out_of_sequence:
                    self._event(KeEventKind.FRAME_RECEIVED, src, command=command, in_exchange=ex is not None,
                                detail="out-of-sequence frame ignored (device fault)")
                    return
                wanted = ex.expect.name if ex is not None and ex.expect is not None else "nothing (no exchange)"
                reason = f"out of sequence: got {side.value}-received {command.name}, expected {wanted}"
                if ex is not None:
                    await self._abort(ex, KeStatus.Bad_Message, reason, tsn=tsn)
                else:
                    await self._terminate_outside(src, src_ep, tsn, side, KeStatus.Bad_Message, reason)
                return
            ex.last_tsn = tsn if ex.role is Role.RESPONDER else ex.last_tsn
            self._cancel_timer(ex)
            step = {
                _Expect.INITIATE_RESPONSE: self._initiator_initiate_response,
                _Expect.EPHEMERAL_RESPONSE: self._initiator_ephemeral_response,
                _Expect.CONFIRM_RESPONSE: self._initiator_confirm_response,
                _Expect.EPHEMERAL_REQUEST: self._responder_ephemeral_request,
                _Expect.CONFIRM_REQUEST: self._responder_confirm_request,
            }[ex.expect]
            await step(ex, payload)

    def _partner_terminated(self, ex: _Exchange | None, src: int, payload: Terminate) -> None:
        if ex is not None and ex.partner_nwk == src:
            self._finish(ex, KeResult.TERMINATED, by=TerminatedBy.PARTNER, status=payload.status,
                         wait_time=payload.wait_time)
            return
        self._event(KeEventKind.TERMINATED, src, status=payload.status, wait_time=payload.wait_time,
                    by=TerminatedBy.PARTNER, in_exchange=False, suite=suite_from_bitmap(payload.suite))

    # --- responder ----------------------------------------------------------------------------------

    async def _resolve_ieee(self, nwk: int, grace: float = IEEE_RESOLVE_GRACE) -> int | None:
        """The sender's IEEE address. A device that has just joined may send its Initiate before the radio
        reports the join (an NCP's trustCenterJoinHandler races the first incoming message), so an unknown
        sender is looked up again for a short grace before its certificate subject is judged unknown."""
        ieee = self._ieee_of(nwk)
        loop = asyncio.get_running_loop()
        give_up = loop.time() + grace
        while ieee is None and loop.time() < give_up:
            await asyncio.sleep(0.05)
            ieee = self._ieee_of(nwk)
        return ieee

    async def _responder_initiate(self, src: int, src_ep: int, tsn: int, payload: Initiate) -> None:
        faults = self.golden
        if faults.no_resources_wait is not None and self._busy_answers < faults.no_resources_count:
            self._busy_answers += 1
            await self._terminate_outside(src, src_ep, tsn, Side.SERVER, KeStatus.No_Resources,
                                          "golden fault: busy", wait_time=faults.no_resources_wait)
            return
        suite = suite_from_bitmap(payload.suite)
        if (suite is None or suite not in self.engine.suites) and self.device.accept_any_suite:
            suite = min(self.engine.suites)  # a device fault: carry on with our own suite
        ex = self._new_exchange(Role.RESPONDER, src, src_ep, await self._resolve_ieee(src), suite or 0)
        ex.last_tsn = tsn
        ex.peer_ephemeral_time = payload.ephemeral_data_generate_time
        ex.peer_confirm_time = payload.confirm_key_generate_time
        if suite is None or suite not in self.engine.suites:
            await self._abort(ex, KeStatus.Unsupported_Suite,
                              f"requested suite 0x{payload.suite:04X}, we support 0x{self.engine.suite_bitmap:04X}")
            return
        if await self._refuse_certificate(ex, payload.identity):
            return
        if await self._golden_terminates(ex, KeCommand.INITIATE):
            return
        if faults.withhold_aps_acks and self._set_aps_acks is not None:
            self._set_aps_acks(False)
        if faults.out_of_sequence:
            # A golden fault: skip the Initiate response and send Ephemeral Data straight away.
            ex.session = await self._start_session(suite)
            if await self._send(ex, KeCommand.EPHEMERAL_DATA, EphemeralData(self._own_ephemeral(ex)).serialize()):
                self._expect(ex, _Expect.EPHEMERAL_REQUEST, ex.peer_ephemeral_time)
            return
        answered_suite = faults.offer_suite if faults.offer_suite is not None else suite_bitmap([suite])
        if self.device.suite_big_endian:  # a device fault: the suite's two bytes the wrong way round
            answered_suite = int.from_bytes(answered_suite.to_bytes(2, "little"), "big")
        answer = Initiate(
            answered_suite,
            self.timing.ephemeral_data_generate_time,
            self.timing.confirm_key_generate_time,
            await self._own_certificate(suite),
        )
        if await self._send(ex, KeCommand.INITIATE, answer.serialize()):
            self._expect(ex, _Expect.EPHEMERAL_REQUEST, ex.peer_ephemeral_time)

    async def _responder_ephemeral_request(self, ex: _Exchange, payload: KePayload) -> None:
        assert isinstance(payload, EphemeralData)
        problem = ephemeral_problem(payload.public_key, ex.suite)
        unchecked = problem is not None and self.device.skip_ephemeral_check
        if problem is not None and not unchecked:
            await self._abort(ex, problem.status, problem.reason)
            return
        if await self._golden_terminates(ex, KeCommand.EPHEMERAL_DATA):
            return
        if ex.session is None:
            ex.session = await self._start_session(ex.suite)
        if unchecked:
            # A device fault: it answers first and derives (and finds the point bad) only at Confirm Key.
            ex.unchecked_ephemeral = bytes(payload.public_key)
        elif not await self._compute(ex, payload.public_key):
            return
        if await self._send(ex, KeCommand.EPHEMERAL_DATA, EphemeralData(self._own_ephemeral(ex)).serialize()):
            self._expect(ex, _Expect.CONFIRM_REQUEST, ex.peer_confirm_time)

    async def _responder_confirm_request(self, ex: _Exchange, payload: KePayload) -> None:
        assert isinstance(payload, ConfirmKey) and ex.session is not None
        if ex.macs is None and not await self._compute(ex, ex.unchecked_ephemeral):
            return
        if await self._golden_terminates(ex, KeCommand.CONFIRM_KEY):
            return
        if not await ex.session.verify_peer_mac(payload.mac):
            if self.device.ignore_bad_macu:
                detail = "MACU did not verify; key kept anyway (device fault)"
                if await self._send(ex, KeCommand.CONFIRM_KEY, ConfirmKey(self._outgoing_mac(ex)).serialize()):
                    await self._complete(ex, detail=detail)
                return
            await ex.session.conclude(False)
            await self._abort(ex, KeStatus.Bad_Key_Confirm, "MACU does not verify; key discarded")
            return
        if self.device.slow_confirm_key:
            # A device fault: its Confirm Key response comes 2 s after the generate time it advertised.
            await asyncio.sleep(self.timing.confirm_key_generate_time + SLOW_CONFIRM_EXTRA)
            if self._exchange is not ex:
                return
        if await self._send(ex, KeCommand.CONFIRM_KEY, ConfirmKey(self._outgoing_mac(ex)).serialize()):
            await self._complete(ex)
        else:
            await ex.session.conclude(False)

    # --- initiator ----------------------------------------------------------------------------------

    async def establish(
        self,
        partner_nwk: int,
        partner_ep: int,
        *,
        partner_ieee: int | None = None,
        suite: int | None = None,
        retry: RetryPolicy = RetryPolicy(),
    ) -> KeOutcome:
        """Run key establishment as initiator, with the retries a conformant SE device makes.

        *suite* None reads the partner's KeyEstablishmentSuite attribute and takes the highest common suite.
        """
        attempts = busy_retries = timeout_retries = 0
        while True:
            attempts += 1
            outcome = await self._attempt(partner_nwk, partner_ep, partner_ieee, suite)
            if outcome.success:
                return replace(outcome, attempts=attempts)
            delay: float | None = None
            if (outcome.result is KeResult.TERMINATED and outcome.by is TerminatedBy.PARTNER
                    and outcome.status == KeStatus.No_Resources and busy_retries < retry.busy_retries):
                busy_retries += 1
                delay = float(outcome.wait_time or 0)
                if self.device.retry_before_wait_time:
                    delay /= 2
            elif (outcome.result in (KeResult.TIMEOUT, KeResult.SEND_FAILED)
                  and not self.device.never_retry_after_timeout and timeout_retries < retry.timeout_retries):
                timeout_retries += 1
                delay = retry.retry_delay
            if delay is None:
                return replace(outcome, attempts=attempts)
            self._event(KeEventKind.RETRY, partner_nwk, role=Role.INITIATOR, in_exchange=False,
                        detail=f"after {outcome.result.value}, in {delay:g} s")
            await asyncio.sleep(delay)

    async def _attempt(self, partner_nwk: int, partner_ep: int, partner_ieee: int | None, suite: int | None) -> KeOutcome:
        if Side.CLIENT not in self.sides:
            raise RuntimeError("this Key Establishment endpoint has no client side to initiate from")
        if suite is None:
            chosen, detail = await self._negotiate(partner_nwk, partner_ep)
            if chosen is None:
                return KeOutcome(KeResult.TERMINATED, partner_nwk, Role.INITIATOR, status=KeStatus.Unsupported_Suite,
                                 by=TerminatedBy.LOCAL, detail=detail)
            suite = chosen
        elif suite not in self.engine.suites:
            raise ValueError(f"suite {suite} is not one this engine supports ({sorted(self.engine.suites)})")
        async with self._lock:
            if self._exchange is not None:
                return KeOutcome(KeResult.BUSY, partner_nwk, Role.INITIATOR, suite=suite,
                                 detail="another exchange is running")
            ieee = partner_ieee if partner_ieee is not None else self._ieee_of(partner_nwk)
            ex = self._new_exchange(Role.INITIATOR, partner_nwk, partner_ep, ieee, suite)
            if self.golden.ephemeral_first:
                # A golden fault: Ephemeral Data as the first frame of the exchange, no Initiate before it.
                ex.session = await self._start_session(suite)
                if await self._send(ex, KeCommand.EPHEMERAL_DATA, EphemeralData(self._own_ephemeral(ex)).serialize()):
                    self._expect(ex, _Expect.EPHEMERAL_RESPONSE, 0)
            else:
                request = Initiate(
                    self.golden.offer_suite if self.golden.offer_suite is not None else suite_bitmap([suite]),
                    self.timing.ephemeral_data_generate_time,
                    self.timing.confirm_key_generate_time,
                    await self._own_certificate(suite),
                )
                if await self._send(ex, KeCommand.INITIATE, request.serialize()):
                    # The responder answers once it has checked our certificate: the margin alone.
                    self._expect(ex, _Expect.INITIATE_RESPONSE, 0)
        return await ex.done

    async def _negotiate(self, partner_nwk: int, partner_ep: int) -> tuple[int | None, str]:
        ours = self.engine.suites
        try:
            records = await self.zcl.read_attributes(
                partner_nwk, partner_ep, KeyEstablishmentCluster.cluster_id, [SUITE_ATTRIBUTE.id],
                src_ep=self.endpoint, timeout=self.timing.attribute_read_timeout,
            )
            theirs = int(records[0].value.value) if records and records[0].status == Status.SUCCESS else None
        except Exception as exc:  # ZclError, or a radio library's own delivery error: try our lowest suite
            LOGGER.info("KE: reading the partner's suites failed (%s); trying suite %d", exc, min(ours))
            return min(ours), ""
        if theirs is None:
            return min(ours), ""
        common = [s for s in sorted(ours, reverse=True) if suite_bitmap([s]) & theirs]
        if not common:
            return None, f"partner advertises suites 0x{theirs:04X}, we have 0x{self.engine.suite_bitmap:04X}"
        return common[0], ""

    async def _initiator_initiate_response(self, ex: _Exchange, payload: KePayload) -> None:
        assert isinstance(payload, Initiate)
        if payload.suite != suite_bitmap([ex.suite]) and not self.device.accept_any_suite:
            await self._abort(ex, KeStatus.Unsupported_Suite,
                              f"responder answered suite 0x{payload.suite:04X} to our 0x{suite_bitmap([ex.suite]):04X}")
            return
        ex.peer_ephemeral_time = payload.ephemeral_data_generate_time
        ex.peer_confirm_time = payload.confirm_key_generate_time
        if await self._refuse_certificate(ex, payload.identity):
            return
        if await self._golden_terminates(ex, KeCommand.INITIATE):
            return
        ex.session = await self._start_session(ex.suite)
        if self.golden.out_of_sequence:
            # A golden fault: Confirm Key before any Ephemeral Data.
            if await self._send(ex, KeCommand.CONFIRM_KEY, ConfirmKey(bytes(16)).serialize()):
                self._expect(ex, _Expect.EPHEMERAL_RESPONSE, ex.peer_ephemeral_time)
            return
        if await self._send(ex, KeCommand.EPHEMERAL_DATA, EphemeralData(self._own_ephemeral(ex)).serialize()):
            self._expect(ex, _Expect.EPHEMERAL_RESPONSE, ex.peer_ephemeral_time)

    async def _initiator_ephemeral_response(self, ex: _Exchange, payload: KePayload) -> None:
        assert isinstance(payload, EphemeralData)
        if await self._refuse_ephemeral(ex, payload.public_key):
            return
        if await self._golden_terminates(ex, KeCommand.EPHEMERAL_DATA):
            return
        if not await self._compute(ex, payload.public_key):
            return
        if self.golden.wrong_mac and ex.session is not None:
            ex.unconfirmed_key = ex.session.preview_key()  # what a DUT that took the wrong MACU would use
        if await self._send(ex, KeCommand.CONFIRM_KEY, ConfirmKey(self._outgoing_mac(ex)).serialize()):
            self._expect(ex, _Expect.CONFIRM_RESPONSE, ex.peer_confirm_time)

    async def _initiator_confirm_response(self, ex: _Exchange, payload: KePayload) -> None:
        assert isinstance(payload, ConfirmKey) and ex.session is not None
        if await self._golden_terminates(ex, KeCommand.CONFIRM_KEY):
            return
        if not await ex.session.verify_peer_mac(payload.mac):
            if self.device.ignore_bad_macv:
                await self._complete(ex, detail="MACV did not verify; key kept anyway (device fault)")
                return
            await ex.session.conclude(False)
            await self._abort(ex, KeStatus.Bad_Key_Confirm, "MACV does not verify; key discarded")
            return
        await self._complete(ex)

    # --- shared steps -------------------------------------------------------------------------------

    def _new_exchange(self, role: Role, nwk: int, ep: int, ieee: int | None, suite: int) -> _Exchange:
        ex = _Exchange(role, nwk, ep, ieee, suite, asyncio.get_running_loop().create_future())
        self._exchange = ex
        self._event(KeEventKind.STARTED, nwk, role=role, partner_ieee=ieee, suite=suite or None)
        return ex

    async def _start_session(self, suite: int) -> KeSession:
        """A new exchange's ephemeral key pair: fresh each time (a device seeded to reuse one keeps the last)."""
        previous = self._last_session
        if previous is not None and self.device.reuse_ephemeral_key:
            session = await self.engine.start_reusing(suite, previous)
        else:
            session = await self.engine.start(suite)
        self._last_session = session
        return session

    def _own_ephemeral(self, ex: _Exchange) -> bytes:
        assert ex.session is not None
        if self.golden.ephemeral is not None:
            return mangle_ephemeral(ex.session.ephemeral_public, ex.suite, self.golden.ephemeral)
        return ex.session.ephemeral_public

    async def _own_certificate(self, suite: int) -> bytes:
        certificate = await self.engine.certificate(suite)
        if self.golden.certificate is not None:
            certificate = mangle_certificate(certificate, suite, self.golden.certificate, self.golden.corrupt_index)
        return certificate

    def _outgoing_mac(self, ex: _Exchange) -> bytes:
        assert ex.macs is not None
        mac = ex.macs.sent_by(ex.role)
        return flip_mac(mac) if self.golden.wrong_mac or self.device.wrong_mac else mac

    async def _refuse_certificate(self, ex: _Exchange, certificate: bytes) -> bool:
        problem = certificate_problem(
            certificate, ex.suite, await self.engine.known_issuers(ex.suite), ex.partner_ieee,
            check_issuer=not self.device.accept_unknown_issuer, check_subject=not self.device.skip_subject_check,
        )
        if problem is None:
            ex.peer_certificate = bytes(certificate)
            return False
        if self.device.silent_on_bad_certificate:
            self._finish(ex, KeResult.TERMINATED, by=TerminatedBy.LOCAL,
                         detail=f"{problem.reason}; dropped without a Terminate (device fault)")
            return True
        await self._abort(ex, problem.status, problem.reason)
        return True

    async def _refuse_ephemeral(self, ex: _Exchange, public_key: bytes) -> bool:
        problem = ephemeral_problem(public_key, ex.suite)
        if problem is not None:
            await self._abort(ex, problem.status, problem.reason)
        return problem is not None

    async def _compute(self, ex: _Exchange, peer_ephemeral: bytes) -> bool:
        assert ex.session is not None
        try:
            ex.macs = await ex.session.compute(ex.role, ex.peer_certificate, peer_ephemeral)
        except CryptoError as exc:
            # The certificate was checked on receipt, so what is left is the key material itself: a device
            # that did not skip checks can only get here with a skipped check (a device fault).
            problem = Problem(KeStatus.Bad_Message, f"key derivation failed: {exc}")
            await self._abort(ex, problem.status, problem.reason)
            return False
        return True

    async def _golden_terminates(self, ex: _Exchange, received: KeCommand) -> bool:
        if self.golden.terminate_on != received:
            return False
        await self._abort(ex, self.golden.terminate_status, f"golden fault: terminate on {received.name}",
                          wait_time=self.golden.terminate_wait)
        return True

    async def _complete(self, ex: _Exchange, detail: str = "") -> None:
        assert ex.session is not None
        key = await ex.session.conclude(True)
        if key is not None and self._install_key is not None and ex.partner_ieee is not None:
            self._install_key(ex.partner_ieee, key)
        self._finish(ex, KeResult.SUCCESS, detail=detail, key=key)

    def _expect(self, ex: _Exchange, expect: _Expect, partner_time: int) -> None:
        if self._exchange is not ex:
            return
        ex.expect = expect
        self._cancel_timer(ex)
        wait = self.timing.network_margin + partner_time
        ex.timer = asyncio.get_running_loop().call_later(wait, self._timed_out, ex, expect, wait)

    @staticmethod
    def _cancel_timer(ex: _Exchange) -> None:
        if ex.timer is not None:
            ex.timer.cancel()
            ex.timer = None

    def _timed_out(self, ex: _Exchange, expect: _Expect, wait: float) -> None:
        if self._exchange is ex and ex.expect is expect:
            self._finish(ex, KeResult.TIMEOUT, detail=f"no {expect.name} within {wait:g} s")

    def _finish(
        self,
        ex: _Exchange,
        result: KeResult,
        *,
        by: TerminatedBy | None = None,
        status: int | None = None,
        wait_time: int | None = None,
        detail: str = "",
        key: bytes | None = None,
    ) -> None:
        if self._exchange is not ex:
            return
        self._exchange = None
        self._cancel_timer(ex)
        if self.golden.withhold_aps_acks and self._set_aps_acks is not None:
            self._set_aps_acks(True)
        if ex.session is not None and result is not KeResult.SUCCESS:
            self._spawn(ex.session.conclude(False))
        kind = {
            KeResult.SUCCESS: KeEventKind.COMPLETED,
            KeResult.TERMINATED: KeEventKind.TERMINATED,
            KeResult.TIMEOUT: KeEventKind.TIMEOUT,
            KeResult.SEND_FAILED: KeEventKind.SEND_FAILED,
        }[result]
        self._event(kind, ex.partner_nwk, role=ex.role, partner_ieee=ex.partner_ieee, suite=ex.suite or None,
                    status=status, wait_time=wait_time, by=by, detail=detail,
                    key=key if key is not None else ex.unconfirmed_key,
                    peer_certificate=(ex.peer_certificate or None) if result is KeResult.SUCCESS else None)
        if not ex.done.done():
            ex.done.set_result(KeOutcome(result, ex.partner_nwk, ex.role, suite=ex.suite or None, status=status,
                                         by=by, wait_time=wait_time, detail=detail, key=key))

    # --- send ---------------------------------------------------------------------------------------

    async def _abort(self, ex: _Exchange, status: int, reason: str, *, tsn: int | None = None,
                     wait_time: int | None = None) -> None:
        """Terminate the running exchange with *status* (the partner is told, then the exchange ends)."""
        wait = self.timing.terminate_wait_time if wait_time is None else wait_time
        if tsn is not None and ex.role is Role.RESPONDER:
            ex.last_tsn = tsn
        # Tell the partner first, then end: whoever awaits the outcome finds the Terminate already delivered.
        self._cancel_timer(ex)
        ex.expect = None
        terminate = Terminate(status, wait, suite_bitmap([ex.suite]) if ex.suite else self.engine.suite_bitmap)
        error = await self._transmit(ex.partner_nwk, ex.partner_ep, KeCommand.TERMINATE, terminate.serialize(),
                                     ex.direction, self._tsn_for(ex), in_exchange=True)
        if error is not None:
            reason += f" (the Terminate was not delivered: {error})"
        self._finish(ex, KeResult.TERMINATED, by=TerminatedBy.LOCAL, status=status, wait_time=wait, detail=reason)

    async def _terminate_outside(self, dst: int, dst_ep: int, tsn: int, received_on: Side, status: int,
                                 reason: str, *, wait_time: int | None = None) -> None:
        """Terminate sent to someone we run no exchange with (busy, out of sequence, malformed)."""
        wait = self.timing.terminate_wait_time if wait_time is None else wait_time
        direction = Direction.Server_to_Client if received_on is Side.SERVER else Direction.Client_to_Server
        self._event(KeEventKind.TERMINATED, dst, status=status, wait_time=wait, by=TerminatedBy.LOCAL,
                    in_exchange=False, detail=reason)
        terminate = Terminate(status, wait, self.engine.suite_bitmap)
        await self._transmit(dst, dst_ep, KeCommand.TERMINATE, terminate.serialize(), direction, tsn, in_exchange=False)

    def _tsn_for(self, ex: _Exchange) -> int:
        # Requests take a fresh sequence number; responses reuse the request's (ZCL 2.4.1.2).
        if ex.role is Role.INITIATOR or self.device.fresh_response_tsn:  # the latter a device fault
            return self.zcl.next_tsn()
        return ex.last_tsn

    async def _send(self, ex: _Exchange, command: KeCommand, payload: bytes) -> bool:
        """Send the exchange's next frame; a delivery failure ends the exchange."""
        error = await self._transmit(ex.partner_nwk, ex.partner_ep, command, payload, ex.direction,
                                     self._tsn_for(ex), in_exchange=True)
        if error is not None:
            self._finish(ex, KeResult.SEND_FAILED, detail=f"{command.name} was not delivered: {error}")
        return error is None and self._exchange is ex

    async def _transmit(self, dst: int, dst_ep: int, command: KeCommand, payload: bytes, direction: Direction,
                        tsn: int, *, in_exchange: bool) -> str | None:
        """Put one KE frame on the way; returns None when delivered, else what went wrong."""
        options = t.TransmitOptions.ACK
        if self.device.aps_encrypt_ke_frames:
            options |= t.TransmitOptions.APS_Encryption
        data = build_frame(tsn=tsn, command_id=command, payload=payload, general=False, direction=direction,
                           disable_default_response=True)
        packet = t.ZigbeePacket(
            dst=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=t.NWK(dst)),
            dst_ep=t.uint8_t(dst_ep),
            src_ep=t.uint8_t(self.endpoint),
            tsn=t.uint8_t(tsn),
            profile_id=t.uint16_t(self.zcl.profile_id),
            cluster_id=t.uint16_t(KeyEstablishmentCluster.cluster_id),
            data=t.SerializableBytes(data),
            tx_options=options,
        )
        self._event(KeEventKind.FRAME_SENT, dst, command=command, in_exchange=in_exchange,
                    aps_encrypted=bool(options & t.TransmitOptions.APS_Encryption))
        try:
            await self._send_fn(packet)
        except Exception as exc:  # each radio library raises its own delivery error type
            error = f"{type(exc).__name__}: {exc}"
            if not in_exchange:
                self._event(KeEventKind.SEND_FAILED, dst, command=command, in_exchange=False, detail=error)
            return error
        return None


_COMMAND_IDS = frozenset(int(c) for c in KeCommand)


def _encrypted(packet: t.ZigbeePacket) -> bool:
    return bool(packet.tx_options & t.TransmitOptions.APS_Encryption)

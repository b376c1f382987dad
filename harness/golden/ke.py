"""The golden ESI's Key Establishment endpoint: the Trust Center side of CBKE, with a golden unit's test hooks.

The KE state machine (harness.ke) answers the DUT as responder and can initiate towards it; what it saw and
did is kept as KeEvents (bench-clock times) for steps to judge the DUT by. The new link key is installed in
the golden radio's key table only after the DUT's MACU verified (or, under the wrong-MACV test hook, kept
as the golden sent it), so SE application frames to the DUT then travel under the CBKE key.

The SE probe sends one Read Attributes on an SE application cluster under a chosen protection (the link key
the golden holds, another key, or NWK security only) and reports whether the DUT acted on it: the way a test
judges "does not use the key" and "does not act on frames under another key" from the air.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import zigpy.types as t
from zigpy.zcl.foundation import Direction, GeneralCommand

from harness.clock import Clock
from harness.errors import BenchFault
from harness.ke import (
    GoldenKeFaults,
    KeEngine,
    KeEvent,
    KeEventKind,
    KeOutcome,
    KeTiming,
    KeyEstablishment,
    RetryPolicy,
)
from harness.se.clusters import KeyEstablishment as KeyEstablishmentCluster
from harness.se.datamodel import SE_PROFILE_ID, Side
from harness.wire.frames import ApsFrame
from harness.wire.material import LinkKeyEntry
from harness.zcl.engine import ZclEngine, direction_to
from harness.zcl.errors import MalformedFrame
from harness.zcl.frame import ZclFrame, build_frame, parse_frame

LOGGER = logging.getLogger(__name__)

NO_RETRY = RetryPolicy(busy_retries=0, timeout_retries=0)
#: APS frame counters of probes under a key other than the one held start here (see probe_se).
FOREIGN_KEY_COUNTER_BASE = 0x0100_0000


class GoldenKeError(BenchFault, RuntimeError):
    """The golden KE endpoint could not do what a step asked (a bench fault, never a DUT failure)."""


@dataclass(frozen=True)
class ProbeResult:
    """What came of one SE probe: the DUT's answer as the golden could read it (None: none within the timeout,
    or one secured with a key the golden does not hold; the capture shows those)."""

    sent_at: float
    cluster_id: int
    tsn: int  # the ZCL sequence number of the probe (an answer carries it too)
    answer: ZclFrame | None
    answered_at: float | None = None
    aps_encrypted_answer: bool = False  # whether the DUT acted on it is harness/verify/probe.py's judgement


class GoldenKe:
    """Key Establishment server and client on the ESI endpoint of the golden radio."""

    def __init__(
        self,
        zcl: ZclEngine,
        endpoint: int,
        engine: KeEngine,
        clock: Clock,
        *,
        send: Callable,
        ieee_of: Callable[[int], int | None],
        install_key: Callable[[int, bytes], None] | None,
        set_aps_acks: Callable[[bool], None] | None = None,
        key_table: Mapping | None = None,  # read only: the NCP bench passes its held keys
        aps_send_frame: Callable[..., None] | None = None,
        next_aps_counter: Callable[[], int] | None = None,
        timing: KeTiming | None = None,
    ) -> None:
        self.zcl = zcl
        self.endpoint = endpoint
        self.clock = clock
        self.machine = KeyEstablishment(
            zcl, endpoint, engine, send=send, ieee_of=ieee_of, install_key=install_key,
            set_aps_acks=set_aps_acks, timing=timing or KeTiming(),
        )
        self._key_table = key_table
        self._aps_send_frame = aps_send_frame
        self._next_aps_counter = next_aps_counter
        # (nwk, cluster, tsn) -> (waiter, the direction of the DUT's answer)
        self._probes: dict[tuple[int, int, int], tuple[asyncio.Future[tuple[ZclFrame, bool]], Direction]] = {}

    def __repr__(self) -> str:
        return f"<GoldenKe ep {self.endpoint} {self.machine!r}>"

    # -- configuration ------------------------------------------------------------------------------------

    @property
    def faults(self) -> GoldenKeFaults:
        return self.machine.golden

    @faults.setter
    def faults(self, value: GoldenKeFaults) -> None:
        """Arm the golden unit's test hooks (before the DUT starts an exchange)."""
        self.machine.golden = value

    def use_engine(self, engine: KeEngine) -> None:
        """Offer other certificates or suites (e.g. suite 1 only) from the next exchange on."""
        self.machine.set_engine(engine)

    @property
    def timing(self) -> KeTiming:
        return self.machine.timing

    @property
    def suite_bitmap(self) -> int:
        return self.machine.engine.suite_bitmap

    # -- traffic ------------------------------------------------------------------------------------------

    async def handle(self, packet: t.ZigbeePacket) -> None:
        """Every SE-profile packet the golden receives: probe answers are noted, then the KE state machine
        (which passes non-KE frames on to the ESI's ZclEngine) handles it."""
        if self._probes:
            self._note_probe_answer(packet)
        await self.machine.handle(packet)

    def on_event(self, listener: Callable[[KeEvent], None]) -> Callable[[], None]:
        return self.machine.on_event(listener)

    @property
    def events(self) -> list[KeEvent]:
        return self.machine.events

    def events_from(self, nwk: int, kind: KeEventKind | None = None) -> list[KeEvent]:
        """The events of exchanges and frames with the device at *nwk*."""
        return [e for e in self.machine.events if e.partner_nwk == nwk and (kind is None or e.kind is kind)]

    async def wait_event(self, accept: Callable[[KeEvent], bool], deadline: float, what: str) -> KeEvent:
        """The first event (already recorded or still to come) that *accept* takes; TimeoutError after
        *deadline* seconds of bench time."""
        for event in self.machine.events:
            if accept(event):
                return event
        waiter: asyncio.Future[KeEvent] = asyncio.get_running_loop().create_future()

        def listener(event: KeEvent) -> None:
            if not waiter.done() and accept(event):
                waiter.set_result(event)

        remove = self.machine.on_event(listener)
        try:
            return await self.clock.wait_for(waiter, deadline, what)
        finally:
            remove()

    async def initiate(self, nwk: int, endpoint: int, *, ieee: int | None = None,
                       suite: int | None = None) -> KeOutcome:
        """The golden starts key establishment with the DUT (once, no retries): suite None reads the DUT's
        KeyEstablishmentSuite and takes the highest common suite."""
        return await self.machine.establish(nwk, endpoint, partner_ieee=ieee, suite=suite, retry=NO_RETRY)

    def close(self) -> None:
        self.machine.close()
        for waiter, _direction in self._probes.values():
            waiter.cancel()

    # -- SE probe -----------------------------------------------------------------------------------------

    async def probe_se(
        self, nwk: int, ieee: int, endpoint: int, cluster_id: int, side: Side, *, timeout: float,
        link_key: bytes | None = None, aps_security: bool = True,
    ) -> ProbeResult:
        """Read Attributes (attribute 0x0000) of *cluster_id* (*side*) on the DUT, APS-secured with the link
        key the golden holds for *ieee* (or *link_key* instead), or with NWK security only. No APS ack is
        requested, so the answer alone tells whether the DUT acted on the command."""
        if self._aps_send_frame is None or self._key_table is None or self._next_aps_counter is None:
            raise GoldenKeError("this golden radio cannot send an APS frame under a chosen link key")
        tsn = self.zcl.next_tsn()
        data = build_frame(
            tsn=tsn, command_id=GeneralCommand.Read_Attributes, payload=t.List[t.uint16_t]([t.uint16_t(0)]).serialize(),
            general=True, direction=direction_to(side),
        )
        frame = ApsFrame.data(self._next_aps_counter(), SE_PROFILE_ID, cluster_id, self.endpoint, endpoint, data)
        key = (nwk, cluster_id, tsn)
        waiter: asyncio.Future[tuple[ZclFrame, bool]] = asyncio.get_running_loop().create_future()
        self._probes[key] = (waiter, direction_to(side).flip())
        sent_at = self.clock.monotonic()
        try:
            if aps_security:
                entry = self._key_table.get(ieee)
                if entry is None and link_key is None:
                    raise GoldenKeError(f"the golden holds no link key for {ieee:016X} to secure the probe")
                # The held key's frame counter goes on, so a DUT that tracks counters per partner sees a
                # fresh counter whichever key the frame was secured with.
                held = entry is not None and (link_key is None or link_key == entry.key)
                secure_with = entry.key if held else link_key
                if held:
                    counter = entry
                else:
                    # Under another key the frame counter must be one the DUT has not seen under that key (a
                    # stack keeps a counter per key): well above anything the golden sent the DUT so far.
                    counter = LinkKeyEntry(secure_with, tx_counter=FOREIGN_KEY_COUNTER_BASE
                                           + (entry.tx_counter if entry is not None else 0))
                self._aps_send_frame(nwk, frame, encrypt_key=secure_with, counter_entry=counter)
            else:
                self._aps_send_frame(nwk, frame)
            try:
                answer, encrypted = await self.clock.wait_for(waiter, timeout, "the DUT's answer to the SE probe")
            except TimeoutError:
                return ProbeResult(sent_at, cluster_id, tsn, None)
            return ProbeResult(sent_at, cluster_id, tsn, answer, self.clock.monotonic(), encrypted)
        finally:
            self._probes.pop(key, None)

    def _note_probe_answer(self, packet: t.ZigbeePacket) -> None:
        if int(packet.cluster_id) == KeyEstablishmentCluster.cluster_id:
            return
        raw = packet.data.serialize() if hasattr(packet.data, "serialize") else bytes(packet.data)
        try:
            frame = parse_frame(raw)
        except MalformedFrame:
            return
        probe = self._probes.get((int(packet.src.address), int(packet.cluster_id), frame.tsn))
        if probe is None or probe[0].done():
            return
        waiter, direction = probe
        # Any answer from the DUT's side of the cluster counts: a Read Attributes Response or a Default Response.
        if frame.direction == direction:
            waiter.set_result((frame, bool(packet.tx_options & t.TransmitOptions.APS_Encryption)))

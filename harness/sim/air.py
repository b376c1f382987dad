"""Virtual air: one IEEE 802.15.4 channel shared by simulated transceivers, with seeded fault injection.

Every transceiver on the channel hears what any other transmits (all in range by default). A link table
can cut a link or degrade it (per direction), and impairments can be set per node (on everything it sends
and receives) or per directed link:

- drop: probability that a receiver misses a frame;
- latency: seconds added to the delivery;
- duplicate: probability that a receiver gets the frame twice (a retransmission whose ack was lost);
- corrupt: probability that one bit of the received copy is flipped (the receiver's FCS or MIC catches it);
- drop_next(n, predicate): the next *n* frames matching a predicate are lost for every receiver.

Every decision comes from a random generator seeded by (air seed, sender, receiver), so the same seed and
the same traffic give the same losses, independent of other links' traffic. Sniffers (the capture writer)
get every transmitted frame, as sent, with its virtual timestamp.

Frames travel as opaque PSDU bytes; decoding is the node stack's business. Airtime follows the 2.4 GHz
O-QPSK PHY: 250 kbit/s, i.e. 32 us per octet, plus the 6-octet synchronisation header and PHR.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

LOGGER = logging.getLogger(__name__)

OCTET_DURATION = 32e-6  # 2.4 GHz O-QPSK: 250 kbit/s (IEEE 802.15.4-2006 6.5.3.1)
PHY_OVERHEAD_OCTETS = 6  # preamble (4) + SFD (1) + PHR (1)
CHANNELS = range(11, 27)  # 2.4 GHz channel page 0
DEFAULT_LQI, DEFAULT_RSSI = 255, -40  # what a receiver reports on a link the link table does not degrade


class AirError(ValueError):
    """Misuse of the virtual air (unknown transceiver, bad probability, ...)."""


@dataclass(frozen=True)
class Impairment:
    """Faults applied to a node's or a link's frames. Probabilities are in [0, 1]."""

    drop: float = 0.0
    latency: float = 0.0
    duplicate: float = 0.0
    corrupt: float = 0.0

    def __post_init__(self) -> None:
        for name in ("drop", "duplicate", "corrupt"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise AirError(f"impairment {name}={value} is not a probability in [0, 1]")
        if self.latency < 0:
            raise AirError(f"impairment latency={self.latency} is negative")

    def combine(self, other: Impairment) -> Impairment:
        """Both impairments at once: independent losses, added latencies."""
        return Impairment(
            drop=1 - (1 - self.drop) * (1 - other.drop),
            latency=self.latency + other.latency,
            duplicate=1 - (1 - self.duplicate) * (1 - other.duplicate),
            corrupt=1 - (1 - self.corrupt) * (1 - other.corrupt),
        )


NO_IMPAIRMENT = Impairment()


@dataclass(frozen=True)
class LinkQuality:
    """What a receiver reports for frames on a link."""

    lqi: int = 255
    rssi: int = -40


class AirFrame(NamedTuple):
    """One transmission: who sent it, the PSDU as sent, and when (virtual seconds).

    A NamedTuple rather than a frozen dataclass: one is built per frame on the hot path, and a tuple is
    built several times faster while staying immutable."""

    sender: int
    psdu: bytes
    timestamp: float
    channel: int


FramePredicate = Callable[[AirFrame], bool]
Sniffer = Callable[[AirFrame], None]


class Transceiver:
    """A node's radio on the air. The node sets :attr:`on_receive` to get (psdu, lqi, rssi)."""

    def __init__(self, air: Air, address: int) -> None:
        self.air = air
        self.address = address
        self.on_receive: Callable[[bytes, int, int], None] | None = None
        self.receiver_on = True
        # One radio sends one frame at a time: frames queued while it is busy go out back to back, in order.
        self.busy_until = 0.0

    def transmit(self, psdu: bytes) -> float:
        """Put *psdu* on the air; returns the airtime in seconds."""
        return self.air.transmit(self, psdu)

    def detach(self) -> None:
        self.air.detach(self)

    def __repr__(self) -> str:
        return f"<Transceiver {self.address:016x} on channel {self.air.channel}>"


@dataclass
class _DropRule:
    remaining: int
    predicate: FramePredicate
    dropped: list[AirFrame] = field(default_factory=list)


class Air:
    """One channel of virtual air, driven by the running asyncio loop's (virtual) clock."""

    def __init__(self, channel: int = 11, seed: int = 0, loop: asyncio.AbstractEventLoop | None = None) -> None:
        if channel not in CHANNELS:
            raise AirError(f"channel {channel} is not a 2.4 GHz channel (11..26)")
        self.channel = channel
        self.seed = seed
        self._loop = loop
        self._transceivers: dict[int, Transceiver] = {}
        self._cut: set[tuple[int, int]] = set()
        self._link_impairments: dict[tuple[int, int], Impairment] = {}
        self._link_quality: dict[tuple[int, int], LinkQuality] = {}
        self._node_impairments: dict[int, Impairment] = {}
        self._drop_rules: list[_DropRule] = []
        self._rngs: dict[tuple[int, int], random.Random] = {}
        self._sniffers: list[Sniffer] = []
        self._others_cache: dict[Transceiver, tuple[Transceiver, ...]] = {}
        self.frames_sent = 0

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop if self._loop is not None else asyncio.get_running_loop()

    # -- membership ------------------------------------------------------------------------------------

    def attach(self, address: int) -> Transceiver:
        if address in self._transceivers:
            raise AirError(f"a transceiver with address {address:016x} is already on channel {self.channel}")
        transceiver = Transceiver(self, address)
        self._transceivers[address] = transceiver
        self._others_cache.clear()
        return transceiver

    def detach(self, transceiver: Transceiver) -> None:
        self._transceivers.pop(transceiver.address, None)
        self._others_cache.clear()

    def add_sniffer(self, sniffer: Sniffer) -> Callable[[], None]:
        """Call *sniffer* with every transmitted frame; returns a function that removes it."""
        self._sniffers.append(sniffer)
        return lambda: self._sniffers.remove(sniffer) if sniffer in self._sniffers else None

    # -- link table and faults -------------------------------------------------------------------------

    def cut(self, a: int, b: int, both_ways: bool = True) -> None:
        """Frames from *a* no longer reach *b* (and the reverse, by default)."""
        self._cut.add((a, b))
        if both_ways:
            self._cut.add((b, a))

    def restore(self, a: int, b: int, both_ways: bool = True) -> None:
        self._cut.discard((a, b))
        self._link_impairments.pop((a, b), None)
        if both_ways:
            self._cut.discard((b, a))
            self._link_impairments.pop((b, a), None)

    def degrade(
        self, a: int, b: int, impairment: Impairment, quality: LinkQuality | None = None, both_ways: bool = True
    ) -> None:
        """Apply *impairment* (and optionally a lower LQI/RSSI) to frames from *a* to *b*."""
        pairs = [(a, b), (b, a)] if both_ways else [(a, b)]
        for pair in pairs:
            self._link_impairments[pair] = impairment
            if quality is not None:
                self._link_quality[pair] = quality

    def impair_node(self, address: int, impairment: Impairment) -> None:
        """Apply *impairment* to everything *address* sends or receives."""
        self._node_impairments[address] = impairment

    def clear_faults(self) -> None:
        self._cut.clear()
        self._link_impairments.clear()
        self._node_impairments.clear()
        self._drop_rules.clear()

    def drop_next(self, count: int, predicate: FramePredicate = lambda frame: True) -> list[AirFrame]:
        """Lose the next *count* transmitted frames for which *predicate* is true.

        Returns the list the dropped frames are appended to, so a test can see what was dropped.
        """
        if count < 1:
            raise AirError(f"drop_next needs a positive count, got {count}")
        rule = _DropRule(count, predicate)
        self._drop_rules.append(rule)
        return rule.dropped

    def impairment(self, sender: int, receiver: int) -> Impairment:
        total = self._link_impairments.get((sender, receiver), NO_IMPAIRMENT)
        for node in (sender, receiver):
            node_impairment = self._node_impairments.get(node)
            if node_impairment is not None:
                total = total.combine(node_impairment)
        return total

    def _rng(self, sender: int, receiver: int) -> random.Random:
        rng = self._rngs.get((sender, receiver))
        if rng is None:
            # str seeds hash with SHA-512 inside random, so this is stable across processes.
            rng = self._rngs[(sender, receiver)] = random.Random(f"{self.seed}:{sender:016x}:{receiver:016x}")
        return rng

    # -- transmission ----------------------------------------------------------------------------------

    def _faulty(self) -> bool:
        return bool(self._cut or self._link_impairments or self._link_quality or self._node_impairments
                    or self._drop_rules)

    def transmit(self, sender: Transceiver, psdu: bytes) -> float:
        loop = self.loop
        if type(psdu) is not bytes:
            psdu = bytes(psdu)
        now = loop.time()
        busy = sender.busy_until
        start = busy if busy > now else now
        airtime = (len(psdu) + PHY_OVERHEAD_OCTETS) * OCTET_DURATION
        sender.busy_until = start + airtime
        self.frames_sent += 1
        if self._sniffers or self._drop_rules:
            frame = AirFrame(sender.address, psdu, start, self.channel)
            for sniffer in self._sniffers:
                sniffer(frame)
        airtime += start - now  # waiting for the radio, then on the air
        if not self._faulty():
            # The common case: every other transceiver hears the frame intact at the same instant, so one
            # timer delivers it to all of them (in attach order, as separate timers would).
            loop.call_later(airtime, self._receive_all, self._others(sender), psdu)
            return airtime
        for rule in self._drop_rules:
            if rule.remaining > 0 and rule.predicate(frame):
                rule.remaining -= 1
                rule.dropped.append(frame)
                self._drop_rules = [r for r in self._drop_rules if r.remaining > 0]
                return airtime
        # Deliveries grouped by delay: one timer per distinct delay, receivers in the order they were decided.
        batches: dict[float, list[tuple[Transceiver, bytes, int, int]]] = {}
        for receiver in self._others(sender):
            if (sender.address, receiver.address) in self._cut:
                continue
            self._deliver(psdu, sender.address, receiver, airtime, batches)
        for delay, batch in batches.items():
            loop.call_later(delay, self._receive_batch, batch)
        return airtime

    def _others(self, sender: Transceiver) -> tuple[Transceiver, ...]:
        """The transceivers other than *sender*, in attach order (cached until membership changes)."""
        others = self._others_cache.get(sender)
        if others is None:
            others = self._others_cache[sender] = tuple(
                t for t in self._transceivers.values() if t is not sender)
        return others

    def _deliver(
        self, psdu: bytes, sender: int, receiver: Transceiver, airtime: float,
        batches: dict[float, list[tuple[Transceiver, bytes, int, int]]],
    ) -> None:
        impairment = self.impairment(sender, receiver.address)
        quality = self._link_quality.get((sender, receiver.address))
        lqi, rssi = (quality.lqi, quality.rssi) if quality else (DEFAULT_LQI, DEFAULT_RSSI)
        copies = 1
        if impairment is not NO_IMPAIRMENT:
            rng = self._rng(sender, receiver.address)
            # Draw every decision in a fixed order so one probability never shifts another's sequence.
            lost = rng.random() < impairment.drop
            doubled = rng.random() < impairment.duplicate
            flip = rng.random() < impairment.corrupt
            bit = rng.randrange(len(psdu) * 8) if psdu else 0
            if lost:
                return
            if doubled:
                copies = 2
            if flip and psdu:
                corrupted = bytearray(psdu)
                corrupted[bit // 8] ^= 1 << (bit % 8)
                psdu = bytes(corrupted)
        delay = airtime + impairment.latency
        for copy in range(copies):
            batches.setdefault(delay * (copy + 1), []).append((receiver, psdu, lqi, rssi))

    def _receive_all(self, receivers: tuple[Transceiver, ...], psdu: bytes) -> None:
        transceivers = self._transceivers
        for receiver in receivers:
            on_receive = receiver.on_receive
            if on_receive is not None and receiver.receiver_on and transceivers.get(receiver.address) is receiver:
                on_receive(psdu, DEFAULT_LQI, DEFAULT_RSSI)

    def _receive_batch(self, batch: list[tuple[Transceiver, bytes, int, int]]) -> None:
        for receiver, psdu, lqi, rssi in batch:
            self._receive(receiver, psdu, lqi, rssi)

    def _receive(self, receiver: Transceiver, psdu: bytes, lqi: int, rssi: int) -> None:
        if receiver.on_receive is None or not receiver.receiver_on or self._transceivers.get(receiver.address) is not receiver:
            return
        receiver.on_receive(psdu, lqi, rssi)


__all__ = [
    "Air",
    "AirError",
    "AirFrame",
    "Impairment",
    "LinkQuality",
    "NO_IMPAIRMENT",
    "Transceiver",
]

"""The SE Trust Center policy the harness applies through the golden radio.

Smart Energy admits a device only with its install-code link key (never the well-known "ZigBeeAlliance09",
which bellows' and zigpy's plain ``permit()`` would install), within a permit window. The network key
reaches the device in an APS Transport Key, which the radio's stack (the NCP, or the simulated coordinator)
sends; this class sets the policy and records what the Trust Center saw, with bench-clock times: who was
admitted (zigpy's ``device_joined``) and who left.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import zigpy.types as t

from harness.clock import Clock
from harness.errors import BenchFault
from harness.wire.frames.types import eui64_to_ieee, ieee_to_eui64


class TrustCenterError(BenchFault, RuntimeError):
    """The golden radio cannot apply a Trust Center action (a bench fault, never the DUT's)."""


@dataclass(frozen=True)
class JoinEvent:
    """The Trust Center admitted a device (it sent the network key), or the device left."""

    time: float
    nwk: int
    ieee: int


class GoldenTrustCenter:
    """Install-code-only admission, the permit window, leave records and network key update."""

    def __init__(self, app, clock: Clock) -> None:
        self.app = app
        self.clock = clock
        self.joins: list[JoinEvent] = []
        self.leaves: list[JoinEvent] = []
        self._join_waiters: list[asyncio.Future] = []
        #: When the scenario first opened joining for a device (bench time), None until then.
        self.admitting_since: float | None = None

    # zigpy listener events (the Golden registers itself and forwards them)

    def device_joined(self, device) -> None:
        event = JoinEvent(self.clock.monotonic(), int(device.nwk), eui64_to_ieee(bytes(device.ieee)))
        self.joins.append(event)
        for waiter in self._join_waiters:
            if not waiter.done():
                waiter.set_result(event)

    def device_left(self, device) -> None:
        self.leaves.append(JoinEvent(self.clock.monotonic(), int(device.nwk), eui64_to_ieee(bytes(device.ieee))))

    # policy

    async def admit(self, ieee: int, link_key: bytes, duration: int) -> None:
        """Hold *link_key* for *ieee* and permit joining for *duration* seconds."""
        self._note_admitting()
        await self.app.permit_with_link_key(ieee_to_eui64(ieee), t.KeyData(link_key), duration)

    async def hold_link_key(self, ieee: int, link_key: bytes) -> None:
        """Hold a link key without opening joining (permit_with_link_key for 0 s)."""
        self._note_admitting()
        await self.app.permit_with_link_key(ieee_to_eui64(ieee), t.KeyData(link_key), 0)

    def _note_admitting(self) -> None:
        if self.admitting_since is None:
            self.admitting_since = self.clock.monotonic()

    async def close_permit(self) -> None:
        await self.app.permit(0)

    async def wait_join(self, ieee: int, deadline: float) -> JoinEvent:
        """The first admission of *ieee* in this scenario, awaited for at most *deadline* seconds."""
        for event in self.joins:
            if event.ieee == ieee:
                return event
        while True:
            waiter = asyncio.get_running_loop().create_future()
            self._join_waiters.append(waiter)
            try:
                event = await self.clock.wait_for(waiter, deadline, f"Trust Center admission of {ieee:016X}")
            finally:
                self._join_waiters.remove(waiter)
            if event.ieee == ieee:
                return event

    def joined_nwk(self, ieee: int) -> int | None:
        for event in reversed(self.joins):
            if event.ieee == ieee:
                return event.nwk
        return None

    async def remove_device(self, ieee: int) -> None:
        """Remove the joined device *ieee* from the network (APS Remove Device, or a leave request to a child)."""
        trust_center = getattr(self.app, "trust_center", None)
        remove = getattr(trust_center, "remove_device", None)
        if remove is None:
            raise TrustCenterError("this golden radio cannot remove a device")
        await remove(ieee)

    async def retire_network_key(self, key_seq: int) -> None:
        """Stop accepting frames under network key *key_seq* (a key the network switched away from)."""
        trust_center = getattr(self.app, "trust_center", None)
        retire = getattr(trust_center, "retire_network_key", None)
        if retire is None:
            raise TrustCenterError("this golden radio cannot retire a network key it switched away from")
        retire(key_seq)

    async def update_network_key(self, key: bytes, key_seq: int) -> list[int]:
        """Send a new network key to every joined device, then switch the network to it."""
        trust_center = getattr(self.app, "trust_center", None)
        if trust_center is None:
            raise TrustCenterError("this golden radio cannot update the network key")
        return await trust_center.update_network_key(key, key_seq)

"""The golden radio as a HAN device of a network the DUT formed: the EZSP stick joins it as a router.

zigpy's ControllerApplication only forms networks, so joining goes through bellows' EZSP commands directly
(EmberZNet's own joining path, as bellows' ``bellows join`` CLI does it): leave whatever network the NCP runs
(``leaveNetwork``), set the initial security state with the install code's link key as the preconfigured key and
the encrypted key transport required (``setInitialSecurityState``: HAVE_PRECONFIGURED_KEY |
REQUIRE_ENCRYPTED_KEY), find the DUT's network by an active scan on the bench's channel (``startScan``: the one
beacon that permits joining), and join it by MAC association as a router (``joinNetwork``), awaiting
``stackStatusHandler`` NETWORK_UP. Rejoin is ``findAndRejoinNetwork`` (with the network key held, or through the
Trust Center); leave is ``leaveNetwork``. The network key the stick received is read back with bellows'
``get_network_key`` (getKey / getNetworkKeyInfo, as the EZSP version has it).

What the NCP's stack cannot do is a bench fault, not a finding: associating against beacons that deny joining
(TC-TC-2.1's probe) has no EZSP command.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import bellows.types as bt

from harness.wire.frames.types import format_ieee

from .ezsp import EzspRadioError

LOGGER = logging.getLogger(__name__)

#: EmberZNet's joining security for a device commissioned with an install code (Smart Energy): the preconfigured
#: link key is the install code's, and the network key must come encrypted under it.
JOIN_SECURITY = bt.EmberInitialSecurityBitmask.HAVE_PRECONFIGURED_KEY | bt.EmberInitialSecurityBitmask.REQUIRE_ENCRYPTED_KEY
#: Active scan duration exponent per channel (802.15.4: (2^n + 1) superframes), as bellows' CLI uses.
SCAN_DURATION = 3


class EzspHanDevice:
    """The EZSP stick as a golden HAN device (harness.testbed.HanDevice) on *channel*."""

    def __init__(self, app: Any, ieee: int, link_key: bytes, channel: int) -> None:
        self.app = app  # the bellows ControllerApplication: library edge
        self.ieee = ieee
        self.link_key = bytes(link_key)
        self.channel = channel
        self.failure: str | None = None
        self._nwk: int | None = None
        self._keys: dict[int, bytes] = {}
        # The stack says when it is off the network (removed, told to leave): the device is no longer joined.
        self._ezsp.add_callback(self._stack_status)

    def _stack_status(self, frame_name: str, args: list[Any]) -> None:
        if frame_name == "stackStatusHandler" and bt.sl_Status.from_ember_status(args[0]) == bt.sl_Status.NETWORK_DOWN:
            self._nwk = None

    def __repr__(self) -> str:
        return f"EzspHanDevice({format_ieee(self.ieee)}, nwk={self._nwk})"

    @property
    def _ezsp(self) -> Any:
        return self.app._ezsp  # bellows' EZSP protocol object: its commands by name

    @property
    def nwk(self) -> int | None:
        return self._nwk

    @property
    def joined(self) -> bool:
        return self._nwk is not None

    @property
    def active_key_seq(self) -> int | None:
        return max(self._keys) if self._keys else None

    def network_keys(self) -> dict[int, bytes]:
        return dict(self._keys)

    def commission(self, link_key: bytes) -> None:
        self.link_key = bytes(link_key)

    async def join(self, deadline: float, *, insistent: bool = False) -> bool:
        if insistent:
            raise EzspRadioError("the EZSP stack associates only with a parent whose beacon permits joining: this "
                                 "bench cannot probe the Trust Center's window with an insistent association")
        try:
            async with asyncio.timeout(deadline):
                return await self._join()
        except TimeoutError:
            self.failure = f"not on the network within {deadline:g} s"
            return False

    async def _join(self) -> bool:
        ezsp = self._ezsp
        await self._leave_quietly()
        await self._security()
        networks = [found for found, _lqi, _rssi in await ezsp.startScan(
            scanType=bt.EzspNetworkScanType.ACTIVE_SCAN, channelMask=bt.Channels.from_channel_list([self.channel]),
            duration=SCAN_DURATION) if found.allowingJoin]
        if len(networks) != 1:
            self.failure = (f"{len(networks)} networks permit joining on channel {self.channel}"
                            if networks else f"no network permits joining on channel {self.channel}")
            return False
        network = networks[0]
        parameters = bt.EmberNetworkParameters(
            extendedPanId=network.extendedPanId, panId=network.panId, radioTxPower=8, radioChannel=network.channel,
            joinMethod=bt.EmberJoinMethod.USE_MAC_ASSOCIATION, nwkManagerId=0, nwkUpdateId=network.nwkUpdateId,
            channels=0)
        with ezsp.wait_for_stack_status(bt.sl_Status.NETWORK_UP) as up:
            (status,) = await ezsp.joinNetwork(nodeType=bt.EmberNodeType.ROUTER, parameters=parameters)
            if bt.sl_Status.from_ember_status(status) != bt.sl_Status.OK:
                self.failure = f"joinNetwork refused: {status!r}"
                return False
            await up
        return await self._up()

    async def rejoin(self, deadline: float, *, trust_center: bool) -> bool:
        ezsp = self._ezsp
        try:
            async with asyncio.timeout(deadline):
                with ezsp.wait_for_stack_status(bt.sl_Status.NETWORK_UP) as up:
                    (status,) = await ezsp.findAndRejoinNetwork(
                        haveCurrentNetworkKey=not trust_center,
                        channelMask=bt.Channels.from_channel_list([self.channel]))
                    if bt.sl_Status.from_ember_status(status) != bt.sl_Status.OK:
                        self.failure = f"findAndRejoinNetwork refused: {status!r}"
                        return False
                    await up
        except TimeoutError:
            self.failure = f"not back on the network within {deadline:g} s"
            return False
        return await self._up()

    async def leave(self) -> None:
        await self._leave_quietly()

    async def factory_reset(self) -> None:
        """Off the network, then the initial security state again: without NO_FRAME_COUNTER_RESET in its bitmask,
        setInitialSecurityState starts the NWK and APS frame counters from 0 (EmberZNet ember-types.h), as a new
        device's are; the next join starts from there."""
        await self._leave_quietly()
        await self._security()
        self._keys.clear()

    async def _leave_quietly(self) -> None:
        (state,) = await self._ezsp.networkState()
        if state != bt.EmberNetworkStatus.NO_NETWORK:
            await self._ezsp.leaveNetwork()
        self._nwk = None

    async def _security(self) -> None:
        state = bt.EmberInitialSecurityState(
            bitmask=JOIN_SECURITY, preconfiguredKey=bt.KeyData(self.link_key), networkKey=bt.KeyData(bytes(16)),
            networkKeySequenceNumber=0, preconfiguredTrustCenterEui64=bt.EUI64(bytes(8)))
        (status,) = await self._ezsp.setInitialSecurityState(state)
        if bt.sl_Status.from_ember_status(status) != bt.sl_Status.OK:
            raise EzspRadioError(f"setInitialSecurityState refused: {status!r}")

    async def _up(self) -> bool:
        """Read what the stick holds now that it is on the network: its address and the network key."""
        (nwk,) = await self._ezsp.getNodeId()
        self._nwk = int(nwk)
        key = await self._ezsp.get_network_key()
        self._keys[int(key.seq)] = bytes(key.key)
        self.failure = None
        LOGGER.info("golden HAN device %s joined as 0x%04X", format_ieee(self.ieee), self._nwk)
        return True

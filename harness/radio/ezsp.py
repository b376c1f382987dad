"""The golden radio on a Silicon Labs EZSP NCP through bellows (or the emulator of harness/emulator/ncp).

:class:`ControllerApplication` is bellows' controller with what a Smart Energy Trust Center/ESI needs:

- ``register_endpoints``: the ESI endpoint (profile 0x0109, device 0x0500) is added to the NCP before the
  network starts (``addEndpoint`` is refused once the stack runs), instead of zigpy's Home Automation one, so
  the NCP answers Simple_Desc/Match_Desc for SE.
- ``permit``: opens joining WITHOUT bellows' ``pre_permit``, which installs the well-known key
  "ZigBeeAlliance09" as a wildcard transient key; an SE Trust Center admits only install-code keys
  (``permit_with_link_key``, which also sets TRUST_CENTER_POLICY = ALLOW_JOINS | JOINS_USE_INSTALL_CODE_KEY).
- ``packet_received``: the raw packet tap (``register_packet_callback``) sees every frame before zigpy does.
- ``trust_center.update_network_key``: broadcastNextNetworkKey + broadcastNetworkKeySwitch; each switch is
  reported to ``trust_center.key_listeners`` with the sequence number the NCP really gave the key.
- ``trust_center.remove_device``: removeDevice naming a router as its own parent and target (APS Remove Device).
- ``network_state()``: the network the NCP runs now (key, key sequence, frame counter, channel, PAN), so the
  bench can tell the network it formed from one an earlier case or session left behind.
- ``air_frames`` / ``lost``: what the bench's health checks read (frames the NCP reported sent or received,
  and the connection loss bellows reported).
- ``cbke_status()`` / ``require_cbke()``: getLibraryStatus for the CBKE libraries and getCertificate[283k1]; a
  bench without them fails with :class:`CbkeUnavailable` naming what is missing.
- ``ke_engine()``: CBKE on the NCP behind the KeEngine interface (harness.ke.ezsp.EzspKeEngine).

:func:`ezsp_config` builds the zigpy config from the bench profile (channel, PAN, extended PAN, network key).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import bellows.types as bt
import bellows.zigbee.application
import zigpy.application
import zigpy.config as conf
import zigpy.types as t
import zigpy.zdo.types as zdo_t

from harness.errors import BenchFault
from harness.radio import UndecodableTap
from harness.se.clusters import Basic, Drlc, Identify, KeyEstablishment, Messaging, Metering, Price, Time
from harness.se.datamodel import SE_PROFILE_ID, load_datamodel

if TYPE_CHECKING:
    from harness.ke.ezsp import EzspKeEngine

LOGGER = logging.getLogger(__name__)

ESI_ENDPOINT = 1
ESI_DEVICE_ID = load_datamodel().device_type("SE-ESP").device_id
#: Clusters of the golden ESI endpoint (SE 1.x Annex D): Basic, Identify, Time, Price, DRLC, Metering,
#: Messaging, Key Establishment servers; the Key Establishment client for initiating CBKE.
ESI_INPUT_CLUSTERS = tuple(c.cluster_id for c in (Basic, Identify, Time, Price, Drlc, Metering, Messaging,
                                                   KeyEstablishment))
ESI_OUTPUT_CLUSTERS = (KeyEstablishment.cluster_id,)
#: EmberLibraryId values (stack/include/library.h) and the "present" bit of EmberLibraryStatus.
CBKE_LIBRARIES = {"CBKE (suite 1)": 0x06, "ECC (suite 1)": 0x08, "CBKE DSA verify": 0x09,
                  "CBKE core": 0x0F, "CBKE 283k1 (suite 2)": 0x0D, "ECC 283k1 (suite 2)": 0x0E}
LIBRARY_PRESENT = 0x80
LIBRARY_ERROR = 0xFF


class EzspRadioError(BenchFault, ConnectionError):
    """The EZSP radio cannot do what the bench needs (not an NCP, refused a command)."""

    retryable = True


class RadioLost(EzspRadioError):
    """The golden radio stopped answering (its port closed, or it did not answer a probe): a bench error."""


class CbkeUnavailable(EzspRadioError):
    """The NCP lacks the CBKE library or its certificate: key-establishment cases cannot run on this bench."""


#: EZSP callbacks that each mean a frame went over the air (sent by the NCP, or received by it).
AIR_CALLBACKS = frozenset({"incomingMessageHandler", "messageSentHandler", "trustCenterJoinHandler"})
#: How many air frames the health checks remember (their times; older ones are not needed).
AIR_FRAMES_KEPT = 256


@dataclass(frozen=True)
class NetworkState:
    """The network an NCP runs: what must match the bench profile before a scenario starts."""

    network_key: bytes
    key_seq: int
    nwk_frame_counter: int
    channel: int
    pan_id: int
    extended_pan_id: bytes  # as the profile writes it (big-endian)

    def differences(self, *, network_key: bytes, key_seq: int, channel: int, pan_id: int,
                    extended_pan_id: bytes) -> list[str]:
        """What differs from the expected network, in words that never show a key."""
        found = []
        if self.key_seq != key_seq:
            found.append(f"network key sequence {self.key_seq} (the bench's is {key_seq})")
        if self.network_key != network_key:
            found.append("a network key other than the bench profile's")
        if self.channel != channel:
            found.append(f"channel {self.channel} (the bench's is {channel})")
        if self.pan_id != pan_id:
            found.append(f"PAN 0x{self.pan_id:04X} (the bench's is 0x{pan_id:04X})")
        if self.extended_pan_id != extended_pan_id:
            found.append(f"extended PAN {self.extended_pan_id.hex(':')} (the bench's is {extended_pan_id.hex(':')})")
        return found


@dataclass(frozen=True)
class CbkeStatus:
    libraries: dict[str, bool]
    certificate: bytes | None  # suite 1 implicit certificate (48 bytes), None when the NCP has none
    certificate_283k1: bytes | None = None  # suite 2 (74 bytes), None when the NCP has none

    @property
    def suite1(self) -> bool:
        return self.libraries.get("CBKE (suite 1)", False) and self.certificate is not None

    @property
    def suite2(self) -> bool:
        return self.libraries.get("CBKE 283k1 (suite 2)", False) and self.certificate_283k1 is not None

    @property
    def certificates(self) -> dict[int, bytes]:
        """Suite -> certificate for each suite the NCP can run."""
        found = {1: self.certificate if self.suite1 else None, 2: self.certificate_283k1 if self.suite2 else None}
        return {suite: cert for suite, cert in found.items() if cert is not None}


async def read_cbke_status(ezsp) -> CbkeStatus:
    """getLibraryStatus for each CBKE library and getCertificate[283k1] where the library is present."""
    libraries = {}
    for name, library_id in CBKE_LIBRARIES.items():
        (status,) = await ezsp.getLibraryStatus(libraryId=library_id)
        libraries[name] = status != LIBRARY_ERROR and bool(status & LIBRARY_PRESENT)
    certificates: dict[str, bytes | None] = {}
    for library, command in (("CBKE (suite 1)", "getCertificate"), ("CBKE 283k1 (suite 2)", "getCertificate283k1")):
        certificates[command] = None
        if libraries[library]:
            status, cert = await getattr(ezsp, command)()
            if bt.sl_Status.from_ember_status(status) == bt.sl_Status.OK:
                certificates[command] = bytes(cert)
    return CbkeStatus(libraries, certificates["getCertificate"], certificates["getCertificate283k1"])


def ezsp_config(port: str, *, channel: int, pan_id: int, extended_pan_id: bytes, network_key: bytes,
                baudrate: int = 115200) -> dict[str, Any]:
    """bellows config for the bench: its network, no background jobs that would disturb a test."""
    return {
        conf.CONF_DEVICE: {conf.CONF_DEVICE_PATH: port, conf.CONF_DEVICE_BAUDRATE: baudrate},
        conf.CONF_DATABASE: None,
        conf.CONF_NWK: {
            conf.CONF_NWK_CHANNEL: channel,
            conf.CONF_NWK_PAN_ID: pan_id,
            conf.CONF_NWK_EXTENDED_PAN_ID: ":".join(f"{b:02x}" for b in extended_pan_id),
            conf.CONF_NWK_KEY: list(network_key),
        },
        conf.CONF_NWK_BACKUP_ENABLED: False,
        conf.CONF_TOPO_SCAN_ENABLED: False,
        conf.CONF_WATCHDOG_ENABLED: False,
        conf.CONF_OTA: {conf.CONF_OTA_ENABLED: False},
        conf.CONF_STARTUP_ENERGY_SCAN: False,
    }


class EzspTrustCenter:
    """What the golden asks of a Trust Center beyond zigpy's words (see harness.golden.Golden)."""

    def __init__(self, app: ControllerApplication) -> None:
        self.app = app
        #: Called with (key sequence, key) when the network is switched to another key.
        self.key_listeners: list[Callable[[int, bytes], None]] = []

    async def remove_device(self, ieee: int) -> None:
        """APS Remove Device for a router that is its own parent and target (EZSP removeDevice); an end device
        would need its parent's address, which the golden does not track."""
        eui64 = t.EUI64(ieee.to_bytes(8, "little"))
        device = self.app.devices.get(eui64)
        if device is None:
            raise EzspRadioError(f"removeDevice: {ieee:016X} is not a device the golden knows")
        if device.node_desc is not None and device.node_desc.is_end_device:
            raise EzspRadioError("removeDevice of an end device (through its parent) is not supported on this bench")
        (status,) = await self.app._ezsp.removeDevice(destShort=device.nwk, destLong=eui64, targetLong=eui64)
        if bt.sl_Status.from_ember_status(status) != bt.sl_Status.OK:
            raise EzspRadioError(f"removeDevice refused: {status!r}")

    async def update_network_key(self, key: bytes, key_seq: int) -> list[int]:
        ezsp = self.app._ezsp
        # The NCP numbers the next key itself (its current sequence + 1); the keyring needs that number, and a
        # different one than the case asked for means the network did not start from the bench's state.
        current = await self.app.network_state()
        real_seq = (current.key_seq + 1) & 0xFF
        if real_seq != key_seq:
            raise EzspRadioError(f"the NCP would switch to network key sequence {real_seq}, not {key_seq}: the "
                                 f"network runs key sequence {current.key_seq}, not the bench's starting state")
        (status,) = await ezsp.broadcastNextNetworkKey(key=t.KeyData(key))
        if bt.sl_Status.from_ember_status(status) != bt.sl_Status.OK:
            raise EzspRadioError(f"broadcastNextNetworkKey refused: {status!r}")
        # From here the network may run the new key: whoever keeps the bench's state must know it.
        for listener in list(self.key_listeners):
            listener(real_seq, key)
        (status,) = await ezsp.broadcastNetworkKeySwitch()
        if bt.sl_Status.from_ember_status(status) != bt.sl_Status.OK:
            raise EzspRadioError(f"broadcastNetworkKeySwitch refused: {status!r}")
        # The NCP confirms nothing per device; the DUT's next frames (judged on the air) are the proof.
        return [int.from_bytes(bytes(ieee), "little") for ieee in self.app.devices
                if ieee != self.app.state.node_info.ieee]


class ControllerApplication(UndecodableTap, bellows.zigbee.application.ControllerApplication):
    """bellows' controller as a Smart Energy Trust Center and ESI."""

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        self.trust_center = EzspTrustCenter(self)
        #: time.monotonic() of the last frames the NCP reported on the air (sent or received), newest last.
        self.air_frames: deque[float] = deque(maxlen=AIR_FRAMES_KEPT)
        self.lost: BaseException | None = None  # why bellows lost the radio, once it did

    def ezsp_callback_handler(self, frame_name, args):
        if frame_name in AIR_CALLBACKS:
            self.air_frames.append(time.monotonic())
        return super().ezsp_callback_handler(frame_name, args)

    def connection_lost(self, exc: Exception) -> None:
        self.lost = exc or ConnectionError("the radio's port closed")
        super().connection_lost(exc)

    async def network_state(self) -> NetworkState:
        """The network the NCP runs now (getKey CURRENT_NETWORK_KEY and getNetworkParameters)."""
        ezsp = self._ezsp
        key = await ezsp.get_network_key()
        status, _node_type, params = await ezsp.getNetworkParameters()
        if bt.sl_Status.from_ember_status(status) != bt.sl_Status.OK:
            raise EzspRadioError(f"getNetworkParameters refused: {status!r} (the NCP runs no network)")
        return NetworkState(network_key=bytes(key.key), key_seq=int(key.seq), nwk_frame_counter=int(key.tx_counter),
                            channel=int(params.radioChannel), pan_id=int(params.panId),
                            extended_pan_id=bytes(params.extendedPanId)[::-1])

    async def answers(self, timeout: float) -> bool:
        """Whether the NCP answers a harmless command (networkState) within *timeout* seconds."""
        if self.lost is not None or self._ezsp is None:
            return False
        try:
            async with asyncio.timeout(timeout):
                await self._ezsp.networkState()
        except Exception:  # noqa: BLE001 - whatever the transport raised, the radio did not answer
            return False
        return True

    async def register_endpoints(self) -> None:
        await self.add_endpoint(zdo_t.SimpleDescriptor(
            endpoint=ESI_ENDPOINT, profile=SE_PROFILE_ID, device_type=ESI_DEVICE_ID, device_version=0,
            input_clusters=list(ESI_INPUT_CLUSTERS), output_clusters=list(ESI_OUTPUT_CLUSTERS)))

    async def permit(self, time_s: int = 60, node: t.EUI64 | None = None) -> None:
        # zigpy's permit (Mgmt_Permit_Joining broadcast + permitJoining), skipping bellows' pre_permit.
        await zigpy.application.ControllerApplication.permit(self, time_s, node)

    def packet_received(self, packet: t.ZigbeePacket) -> None:
        self.notify_packet_callbacks(packet)
        super().packet_received(packet)

    async def cbke_status(self) -> CbkeStatus:
        return await read_cbke_status(self._ezsp)

    async def require_cbke(self) -> CbkeStatus:
        status = await self.cbke_status()
        if not status.libraries.get("CBKE (suite 1)"):
            raise CbkeUnavailable("the EZSP NCP has no CBKE library (getLibraryStatus 0x06 is a stub): flash an "
                                  "NCP image built with the CBKE and ECC libraries for key establishment")
        if status.certificate is None:
            raise CbkeUnavailable("the EZSP NCP has the CBKE library but no certificate (getCertificate failed): "
                                  "install the test-CA certificate and private key (setPreinstalledCbkeData)")
        return status

    async def ke_engine(self) -> EzspKeEngine:
        """The key-establishment engine on this NCP's CBKE library (CbkeUnavailable when it has none)."""
        from harness.ke.ezsp import EzspKeEngine

        status = await self.require_cbke()
        return EzspKeEngine(self._ezsp, status.certificates)

"""Garbage faults: the malformed frames a broken DUT puts on the air, for the suite to fail it on, never to err.

Each garbage fault rewrites the bytes of one kind of frame the reference device sends, at the layer it breaks:

- the APS payload (a ZCL, Key Establishment or ZDO frame), before APS security, so the golden decrypts the
  frame and finds garbage inside;
- the APS header, before NWK security, so the golden's NWK layer accepts the frame and its APS layer cannot
  parse it;
- the NWK header, after NWK security, so the golden cannot parse the frame at all.

Each garbage fault seeds a ``Garble`` (its layer, the frames it selects, its rewrite). The node calls the
device's garbler for every APS frame it sends (harness.sim.behaviour.Garbler); a garbage fault picks its frames
narrowly (one cluster, one command, one direction), so it fails only the cases that
judge those frames (its targets in the catalogue). Green Button garbage (``GarbleGreenButton``, the OpenSEG
gateway's feed) is applied by harness/devices/openseg.py.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Iterable
from typing import ClassVar

from zigpy.zcl.foundation import GeneralCommand

from harness.se.clusters import Drlc, Identify, KeyEstablishment
from harness.se.datamodel import SE_PROFILE_ID
from harness.wire.frames.aps import ApsFrame, ApsFrameType
from harness.wire.frames.zdo import ZDO_PROFILE

from .faults import Fault, FaultSet, Seed


class Layer(enum.Enum):
    PAYLOAD = "APS payload"
    APS = "APS frame"
    NWK = "NWK frame"


Selector = Callable[[ApsFrame], bool]
Rewrite = Callable[[bytes], bytes]


@dataclasses.dataclass(frozen=True)
class Garble(Seed):
    """What one garbage fault seeds: the frames it *selects* get *rewrite* applied at *layer*."""

    watched: ClassVar[bool] = True  # a recording run notes each frame a garbage fault of the catalogue selects

    layer: Layer
    selects: Selector
    rewrite: Rewrite


# -- selectors ----------------------------------------------------------------------------------------------

ZCL_CLUSTER_COMMAND, ZCL_SERVER_TO_CLIENT, ZCL_MANUFACTURER_SPECIFIC = 0x01, 0x08, 0x04
MGMT_LEAVE_RSP = 0x8034
#: The Key Establishment commands the device's server sends (the client receives them).
_KE_SENT = KeyEstablishment.ClientCommandDefs


def _zcl_command_offset(payload: bytes) -> int:
    return 4 if payload[0] & ZCL_MANUFACTURER_SPECIFIC else 2


def zcl(cluster: int, command: int, *, general: bool, from_server: bool = True) -> Selector:
    """ZCL frames with *command* on *cluster* that the device sends from its server side (server to client),
    or from its client side when *from_server* is False."""

    def selects(frame: ApsFrame) -> bool:
        payload = frame.payload
        if frame.frame_type != ApsFrameType.DATA or frame.profile != SE_PROFILE_ID or frame.cluster != cluster:
            return False
        if len(payload) < 3 or len(payload) <= _zcl_command_offset(payload):
            return False
        fc = payload[0]
        return (bool(fc & ZCL_CLUSTER_COMMAND) != general and bool(fc & ZCL_SERVER_TO_CLIENT) == from_server
                and payload[_zcl_command_offset(payload)] == command)

    return selects


def zdo(cluster: int) -> Selector:
    """ZDO frames of *cluster* (a request or response id)."""

    def selects(frame: ApsFrame) -> bool:
        return frame.frame_type == ApsFrameType.DATA and frame.profile == ZDO_PROFILE and frame.cluster == cluster

    return selects


# -- rewrites -----------------------------------------------------------------------------------------------

def cut(count: int) -> Rewrite:
    """The frame without its last *count* bytes."""
    return lambda data: data[:-count]


def keep(count: int) -> Rewrite:
    """Only the first *count* bytes of the frame."""
    return lambda data: data[:count]


def first_byte(change: Callable[[int], int]) -> Rewrite:
    """The frame with its first byte (a frame control) changed."""
    return lambda data: bytes([change(data[0]) & 0xFF]) + data[1:]


def zcl_command(command: int) -> Rewrite:
    """The ZCL frame with another command id."""

    def rewrite(data: bytes) -> bytes:
        at = _zcl_command_offset(data)
        return data[:at] + bytes([command]) + data[at + 1:]

    return rewrite


def pad_to(size: int) -> Rewrite:
    """The frame followed by zero bytes up to *size* bytes."""
    return lambda data: data + bytes(max(0, size - len(data)))


#: The cases that ask the DUT for a Mgmt_Leave_rsp: without rejoin, and with Rejoin and Remove Children.
_LEAVE_RSP_CASES = ("TC-JOIN-1.7", "TC-JOIN-1.12")

#: The stack and ZCL garbage faults and the cases each must fail (reference IHD).
GARBAGE_FAULTS = [
    # Truncated ZCL: the IdentifyTime record loses the high byte of its uint16 value.
    Fault("garbage-truncated-read-response", "cuts its Read Attributes Response on the Identify server short, "
          "inside the IdentifyTime value", ("TC-ATTR-1.2[Identify]", "TC-ATTR-1.9"),
          Garble(Layer.PAYLOAD, zcl(Identify.cluster_id, GeneralCommand.Read_Attributes_rsp, general=True), cut(1))),
    # Bad ZCL frame control: frame type 0b11 is reserved (ZCL 2.4.1.1.1).
    Fault("garbage-reserved-zcl-frame-type", "sends its Discover Attributes Response on the Identify server with "
          "the reserved ZCL frame type 0b11", ("TC-ATTR-1.6[Identify]", "TC-ATTR-1.10"),
          Garble(Layer.PAYLOAD, zcl(Identify.cluster_id, GeneralCommand.Discover_Attributes_rsp, general=True),
                 first_byte(lambda fc: fc | 0x03))),
    # Bad ZCL frame control: the client's response claims to travel server to client (ZCL 2.4.1.1.3).
    Fault("garbage-wrong-zcl-direction", "sends its Write Attributes Response on the DRLC client with the "
          "server-to-client direction bit", ("TC-ATTR-1.7", "TC-ATTR-1.8"),
          Garble(Layer.PAYLOAD, zcl(Drlc.cluster_id, GeneralCommand.Write_Attributes_rsp, general=True, from_server=False),
                 first_byte(lambda fc: fc ^ ZCL_SERVER_TO_CLIENT))),
    # Oversized ZCL: 70 stray zero bytes after the KeyEstablishmentSuite record (they divide into no records).
    Fault("garbage-oversized-read-response", "pads its Read Attributes Response on the Key Establishment server "
          "with stray bytes after the last record, to 80 bytes",
          ("TC-ATTR-1.2[Key Establishment]", "TC-ATTR-1.9", "TC-KE-3.5[server]"),
          Garble(Layer.PAYLOAD, zcl(KeyEstablishment.cluster_id, GeneralCommand.Read_Attributes_rsp, general=True), pad_to(80))),
    # Nonsense KE: a suite-1 ephemeral public key is 22 bytes (SE 1.x C.4.2.2.3).
    Fault("garbage-short-ke-ephemeral-data", "as responder sends an Ephemeral Data Response one byte short of "
          "its 22-byte public key", ("TC-KE-4.1", "TC-KE-4.6", "TC-KE-4.9", "TC-KE-4.10", "TC-KE-4.11", "TC-KE-4.12[1]",
                                              "TC-KE-4.13"),
          Garble(Layer.PAYLOAD, zcl(KeyEstablishment.cluster_id, _KE_SENT.ephemeral_data_response.id, general=False),
                 cut(1))),
    # Nonsense KE: the server sends commands 0x00-0x03 only; 0x0F is none of them.
    Fault("garbage-unknown-ke-command", "as responder sends its Terminate Key Establishment as server command "
          "0x0F, which Key Establishment does not define",
          ("TC-KE-4.2", "TC-KE-4.3", "TC-KE-4.4", "TC-KE-4.5[one byte short]", "TC-KE-4.5[not a valid public point]",
           "TC-KE-4.6", "TC-KE-4.7[Ephemeral Data before Initiate]", "TC-KE-4.7[Confirm Key before Ephemeral Data]",
           "TC-KE-4.8[one byte short]", "TC-KE-4.8[not a point on the curve]", "TC-KE-4.13"),
          Garble(Layer.PAYLOAD, zcl(KeyEstablishment.cluster_id, _KE_SENT.terminate_key_establishment.id, general=False),
                 zcl_command(0x0F))),
    # The stack garbage below is aimed at Mgmt_Leave_rsp: the golden judges every frame the DUT sends, and the
    # other ZDO frames come in every case (Device_annce after each join, descriptors for zigpy's interview),
    # while only TC-JOIN-1.7 and TC-JOIN-1.12 ask for a Mgmt_Leave_rsp.
    # Malformed ZDO: Mgmt_Leave_rsp without its status byte.
    Fault("garbage-short-mgmt-leave-rsp", "sends a Mgmt_Leave_rsp without its status byte", _LEAVE_RSP_CASES,
          Garble(Layer.PAYLOAD, zdo(MGMT_LEAVE_RSP), cut(1))),
    # Corrupted APS header: delivery mode 0b01 is reserved (Zigbee 2.2.5.1.1.2).
    Fault("garbage-aps-reserved-delivery-mode", "sends Mgmt_Leave_rsp with the reserved APS delivery mode 0b01",
          _LEAVE_RSP_CASES, Garble(Layer.APS, zdo(MGMT_LEAVE_RSP), first_byte(lambda fc: fc | 0x04))),
    # Corrupted NWK header: the frame ends inside the 8-byte NWK header (Zigbee 3.3.1).
    Fault("garbage-truncated-nwk-header", "sends Mgmt_Leave_rsp in a NWK frame that ends inside its NWK header",
          _LEAVE_RSP_CASES, Garble(Layer.NWK, zdo(MGMT_LEAVE_RSP), keep(5))),
]


class DeviceGarbler:
    """The garbler (harness.sim.behaviour.Garbler) of a device with garbage faults, or, in a run that records
    where faults can act, of the watched garbage faults of its catalogue: those note each frame they select and
    leave it as it is."""

    def __init__(self, garbage: Iterable[Garble], watched: Iterable[tuple[Garble, Callable[[], None]]] = ()) -> None:
        self._by_layer = {layer: [g for g in garbage if g.layer is layer] for layer in Layer}
        watched = list(watched)
        self._watched = {layer: [(g, note) for g, note in watched if g.layer is layer] for layer in Layer}

    def _apply(self, layer: Layer, frame: ApsFrame, data: bytes) -> bytes:
        for garbage, note in self._watched[layer]:
            if garbage.selects(frame):
                note()
        for garbage in self._by_layer[layer]:
            if garbage.selects(frame):
                data = garbage.rewrite(data)
        return data

    def payload(self, frame: ApsFrame) -> bytes:
        return self._apply(Layer.PAYLOAD, frame, frame.payload)

    def aps(self, frame: ApsFrame, aps_bytes: bytes) -> bytes:
        return self._apply(Layer.APS, frame, aps_bytes)

    def nwk(self, frame: ApsFrame, nwk_bytes: bytes) -> bytes:
        return self._apply(Layer.NWK, frame, nwk_bytes)


def garbler_for(faults: FaultSet) -> DeviceGarbler | None:
    """The garbler of a device with *faults*, or None when none of them garbles its frames."""
    watched = faults.watch(Garble)
    if watched is not None:  # a conformant run recording where faults can act: none is chosen
        return DeviceGarbler(faults._seeds(Garble), [(fault.seeds, note) for fault, note in watched
                                                     if isinstance(fault.seeds, Garble)])
    chosen = faults.seeds(Garble)
    return DeviceGarbler(chosen) if chosen else None


# -- Green Button documents (the OpenSEG gateway's export) ------------------------------------------------------

XML_DECLARATION_END = b"?>"


def _declared(encoding: str) -> Rewrite:
    """The document under an XML declaration naming *encoding*."""

    def rewrite(document: bytes) -> bytes:
        body = document.split(XML_DECLARATION_END, 1)[1] if document.startswith(b"<?xml") else document
        return f'<?xml version="1.0" encoding="{encoding}"?>'.encode() + body

    return rewrite


@dataclasses.dataclass(frozen=True)
class GarbleGreenButton(Seed):
    """What one Green Button garbage fault seeds: *rewrite* applied to the feed the gateway serves."""

    watched: ClassVar[bool] = True  # a recording run notes each feed served

    rewrite: Rewrite


GREEN_BUTTON_FAULTS = [
    # Not XML: the feed ends halfway, inside an element.
    Fault("garbage-greenbutton-truncated", "serves a Green Button feed cut off halfway, not well-formed XML",
          ("TC-OSEG-5.1",), GarbleGreenButton(lambda document: document[: len(document) // 2])),
    # An encoding no XML processor knows (XML 1.0 4.3.3: a document in an encoding the processor cannot read
    # is a fatal error).
    Fault("garbage-greenbutton-unknown-encoding", "serves a Green Button feed whose XML declaration names an "
          "encoding no XML processor knows", ("TC-OSEG-5.1",), GarbleGreenButton(_declared("x-se-undefined"))),
    # The ESPI objects in a namespace that is not ESPI's (NAESB REQ.21: http://naesb.org/espi).
    Fault("garbage-greenbutton-wrong-namespace", "serves a Green Button feed whose ESPI objects are in a "
          "namespace other than http://naesb.org/espi", ("TC-OSEG-5.1",),
          GarbleGreenButton(lambda document: document.replace(b"http://naesb.org/espi", b"http://naesb.org/espi/v0"))),
]


def green_button_rewrite(faults: FaultSet) -> Rewrite | None:
    """What a device with *faults* does to its Green Button feed, or None when it serves it as built."""
    watched = faults.watch(GarbleGreenButton)
    notes = [note for _fault, note in watched or ()]
    chosen = [garble.rewrite for garble in (faults._seeds(GarbleGreenButton) if watched is not None
                                            else faults.seeds(GarbleGreenButton))]
    if not chosen and not notes:
        return None

    def rewrite(document: bytes) -> bytes:
        for note in notes:
            note()
        for garble in chosen:
            document = garble(document)
        return document

    return rewrite

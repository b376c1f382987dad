"""The ZDO server of a simulated node (Zigbee spec 2.4.3-2.4.4), over zigpy.zdo.types.

Answers NWK_addr / IEEE_addr, Node / Power / Active EP / Simple descriptors, Match_Desc, Bind / Unbind,
Mgmt_Leave and Mgmt_Permit_Joining; Device_annce from others is handed to the node. Match_Desc matches on
the profile AND the clusters (2.4.4.2.7): an endpoint matches when its profile equals the requested one and
one of the requested input clusters is among its input clusters, or one of the requested output clusters
among its output clusters. (zigpy's own device layer answers by cluster only, which is wrong for SE.)

Responses are built from zigpy's ZDO schemas; requests that do not parse get no answer (a real stack drops
them) and are reported to the node as findings via :class:`ZdoError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import zigpy.types as t
import zigpy.zdo.types as zdo_t
from zigpy.zdo.types import ZDOCmd

from harness.wire.frames.types import ieee_to_eui64

ZDO_ENDPOINT = 0
ZDO_PROFILE = 0x0000
# Profile ids that match any profile in Match_Desc (Zigbee spec 2.4.4.2.7: the wildcard profile).
WILDCARD_PROFILE = 0xFFFF


class ZdoError(ValueError):
    """A ZDO request that cannot be parsed or answered."""


@dataclass(frozen=True)
class Binding:
    src_ieee: int
    src_ep: int
    cluster_id: int
    dst: zdo_t.MultiAddress


@dataclass
class ZdoContext:
    """What the ZDO server needs to know about its node, and how it acts on it."""

    ieee: Callable[[], int]
    nwk: Callable[[], int]
    node_descriptor: Callable[[], zdo_t.NodeDescriptor]
    endpoints: Callable[[], dict[int, zdo_t.SimpleDescriptor]]
    capability: Callable[[], int]
    leave: Callable[[bool, bool], bool]  # (rejoin, remove_children) -> whether the node takes the request
    permit_joining: Callable[[int], None]
    power_descriptor: Callable[[], zdo_t.PowerDescriptor] | None = None  # None: Power_Desc_req is NOT_SUPPORTED
    bindings: list[Binding] = field(default_factory=list)


def encode(cluster_id: int, tsn: int, *args) -> bytes:
    """A ZDO frame: transaction sequence number, then the command's fields per zigpy's schema."""
    _, schema = zdo_t.CLUSTERS[cluster_id]
    # Optional trailing fields (e.g. the associated-device list of a single address response) are absent.
    while args and args[-1] is None:
        args = args[:-1]
    return bytes([tsn & 0xFF]) + t.serialize(args, schema)


def decode(cluster_id: int, data: bytes) -> tuple[int, list]:
    """(tsn, fields) of a ZDO frame; ZdoError when it does not parse."""
    if cluster_id not in zdo_t.CLUSTERS:
        raise ZdoError(f"unsupported ZDO cluster 0x{cluster_id:04X}")
    if not data:
        raise ZdoError(f"ZDO 0x{cluster_id:04X} frame is empty (no transaction sequence number)")
    _, schema = zdo_t.CLUSTERS[cluster_id]
    try:
        args, _rest = t.deserialize(bytes(data[1:]), schema)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ZdoError(f"ZDO 0x{cluster_id:04X} frame does not parse: {exc}") from None
    return data[0], args


def _failed(tsn: int, status: int, nwk: int, tail: bytes) -> bytes:
    """A failure response: tsn, status, NWK address of interest, then what the command puts after it."""
    return bytes([tsn & 0xFF, status]) + int(nwk).to_bytes(2, "little") + tail


def match_descriptor(
    descriptors: dict[int, zdo_t.SimpleDescriptor], profile: int, in_clusters: list[int], out_clusters: list[int]
) -> list[int]:
    """Endpoints matching a Match_Desc_req: same profile (or wildcard) AND a matching cluster."""
    matches = []
    for endpoint, desc in sorted(descriptors.items()):
        if profile != WILDCARD_PROFILE and desc.profile != profile:
            continue
        if set(in_clusters) & set(desc.input_clusters) or set(out_clusters) & set(desc.output_clusters):
            matches.append(endpoint)
    return matches


class ZdoServer:
    """Answers ZDO requests addressed to one node."""

    def __init__(self, context: ZdoContext) -> None:
        self.ctx = context

    def handle(self, cluster_id: int, data: bytes, broadcast: bool) -> tuple[int, bytes] | None:
        """Process a request; returns (response cluster, frame) or None when nothing is to be sent."""
        if cluster_id & 0x8000 or cluster_id == ZDOCmd.Device_annce:
            return None  # responses and announcements are for the node/application, not the server
        tsn, args = decode(cluster_id, data)
        handler = _HANDLERS.get(cluster_id)
        if handler is None:
            if broadcast:
                return None
            # Zigbee spec 2.4.4: unsupported requests get NOT_SUPPORTED in the matching response (if any).
            rsp = cluster_id | 0x8000
            if rsp in zdo_t.CLUSTERS:
                return rsp, bytes([tsn, zdo_t.Status.NOT_SUPPORTED])
            return None
        return handler(self, tsn, args, broadcast)

    # -- handlers --------------------------------------------------------------------------------------

    def _nwk_addr(self, tsn: int, args: list, broadcast: bool):
        ieee, request_type, _start = args
        own = ieee_to_eui64(self.ctx.ieee())
        if ieee != own:
            if broadcast:
                return None
            return ZDOCmd.NWK_addr_rsp, encode(
                ZDOCmd.NWK_addr_rsp, tsn, zdo_t.Status.DEVICE_NOT_FOUND, ieee, t.NWK(0xFFFF), None, None, None
            )
        return ZDOCmd.NWK_addr_rsp, encode(
            ZDOCmd.NWK_addr_rsp, tsn, zdo_t.Status.SUCCESS, own, t.NWK(self.ctx.nwk()), *self._assoc(request_type)
        )

    def _ieee_addr(self, tsn: int, args: list, broadcast: bool):
        nwk, request_type, _start = args
        if nwk != self.ctx.nwk():
            return None
        return ZDOCmd.IEEE_addr_rsp, encode(
            ZDOCmd.IEEE_addr_rsp,
            tsn,
            zdo_t.Status.SUCCESS,
            ieee_to_eui64(self.ctx.ieee()),
            t.NWK(self.ctx.nwk()),
            *self._assoc(request_type),
        )

    @staticmethod
    def _assoc(request_type) -> tuple:
        # Extended responses list associated devices; a single-hop simulation reports none.
        if request_type == zdo_t.AddrRequestType.Extended:
            return (0, 0, [])
        return (None, None, None)

    def _node_desc(self, tsn: int, args: list, broadcast: bool):
        (nwk,) = args
        if nwk != self.ctx.nwk():
            return ZDOCmd.Node_Desc_rsp, _failed(tsn, zdo_t.Status.INV_REQUESTTYPE, nwk, b"")
        return ZDOCmd.Node_Desc_rsp, encode(
            ZDOCmd.Node_Desc_rsp, tsn, zdo_t.Status.SUCCESS, t.NWK(nwk), self.ctx.node_descriptor()
        )

    def _power_desc(self, tsn: int, args: list, broadcast: bool):
        (nwk,) = args
        if self.ctx.power_descriptor is None:
            return ZDOCmd.Power_Desc_rsp, _failed(tsn, zdo_t.Status.NOT_SUPPORTED, nwk, b"")
        if nwk != self.ctx.nwk():
            return ZDOCmd.Power_Desc_rsp, _failed(tsn, zdo_t.Status.INV_REQUESTTYPE, nwk, b"")
        return ZDOCmd.Power_Desc_rsp, encode(
            ZDOCmd.Power_Desc_rsp, tsn, zdo_t.Status.SUCCESS, t.NWK(nwk), self.ctx.power_descriptor()
        )

    def _active_ep(self, tsn: int, args: list, broadcast: bool):
        (nwk,) = args
        status = zdo_t.Status.SUCCESS if nwk == self.ctx.nwk() else zdo_t.Status.INV_REQUESTTYPE
        endpoints = sorted(self.ctx.endpoints()) if status == zdo_t.Status.SUCCESS else []
        return ZDOCmd.Active_EP_rsp, encode(ZDOCmd.Active_EP_rsp, tsn, status, t.NWK(nwk), endpoints)

    def _simple_desc(self, tsn: int, args: list, broadcast: bool):
        nwk, endpoint = args
        if nwk != self.ctx.nwk():
            return ZDOCmd.Simple_Desc_rsp, _failed(tsn, zdo_t.Status.INV_REQUESTTYPE, nwk, b"\x00")
        desc = self.ctx.endpoints().get(endpoint)
        if desc is None:
            status = zdo_t.Status.NOT_ACTIVE if 1 <= endpoint <= 240 else zdo_t.Status.INVALID_EP
            # A failed Simple_Desc_rsp carries a zero length and no descriptor (2.4.4.2.5).
            return ZDOCmd.Simple_Desc_rsp, _failed(tsn, status, nwk, b"\x00")
        sized = zdo_t.SizePrefixedSimpleDescriptor(**{f.name: getattr(desc, f.name) for f in desc.fields})
        return ZDOCmd.Simple_Desc_rsp, encode(ZDOCmd.Simple_Desc_rsp, tsn, zdo_t.Status.SUCCESS, t.NWK(nwk), sized)

    def _match_desc(self, tsn: int, args: list, broadcast: bool):
        nwk, profile, in_clusters, out_clusters = args
        if nwk not in (self.ctx.nwk(), 0xFFFD, 0xFFFF, 0xFFFC):
            return None
        matches = match_descriptor(self.ctx.endpoints(), profile, list(in_clusters), list(out_clusters))
        if not matches and broadcast:
            return None  # 2.4.4.2.7: broadcast requests get an answer only from matching devices
        return ZDOCmd.Match_Desc_rsp, encode(
            ZDOCmd.Match_Desc_rsp, tsn, zdo_t.Status.SUCCESS, t.NWK(self.ctx.nwk()), matches
        )

    def _bind(self, tsn: int, args: list, broadcast: bool, unbind: bool = False):
        src_ieee, src_ep, cluster_id, dst = args
        rsp = ZDOCmd.Unbind_rsp if unbind else ZDOCmd.Bind_rsp
        if src_ieee != ieee_to_eui64(self.ctx.ieee()):
            return rsp, encode(rsp, tsn, zdo_t.Status.NOT_SUPPORTED)
        if src_ep not in self.ctx.endpoints():
            return rsp, encode(rsp, tsn, zdo_t.Status.INVALID_EP)
        binding = Binding(self.ctx.ieee(), src_ep, cluster_id, dst)
        if unbind:
            if binding not in self.ctx.bindings:
                return rsp, encode(rsp, tsn, zdo_t.Status.NO_ENTRY)
            self.ctx.bindings.remove(binding)
        elif binding not in self.ctx.bindings:
            self.ctx.bindings.append(binding)
        return rsp, encode(rsp, tsn, zdo_t.Status.SUCCESS)

    def _unbind(self, tsn: int, args: list, broadcast: bool):
        return self._bind(tsn, args, broadcast, unbind=True)

    def _mgmt_leave(self, tsn: int, args: list, broadcast: bool):
        ieee, options = args
        own = ieee_to_eui64(self.ctx.ieee())
        if ieee not in (own, t.EUI64.convert("00:00:00:00:00:00:00:00")):
            return ZDOCmd.Mgmt_Leave_rsp, encode(ZDOCmd.Mgmt_Leave_rsp, tsn, zdo_t.Status.UNKNOWN)
        rejoin = bool(options & 0x80)
        remove_children = bool(options & 0x40)
        # The response goes out before the node leaves (2.4.4.3.5): the node defers the leave itself.
        if self.ctx.leave(rejoin, remove_children) is False:
            return ZDOCmd.Mgmt_Leave_rsp, encode(ZDOCmd.Mgmt_Leave_rsp, tsn, zdo_t.Status.NOT_SUPPORTED)
        return ZDOCmd.Mgmt_Leave_rsp, encode(ZDOCmd.Mgmt_Leave_rsp, tsn, zdo_t.Status.SUCCESS)

    def _mgmt_permit(self, tsn: int, args: list, broadcast: bool):
        duration, _tc_significance = args
        self.ctx.permit_joining(int(duration))
        if broadcast:
            return None
        return ZDOCmd.Mgmt_Permit_Joining_rsp, encode(ZDOCmd.Mgmt_Permit_Joining_rsp, tsn, zdo_t.Status.SUCCESS)


_HANDLERS: dict[int, Callable] = {
    ZDOCmd.NWK_addr_req: ZdoServer._nwk_addr,
    ZDOCmd.IEEE_addr_req: ZdoServer._ieee_addr,
    ZDOCmd.Node_Desc_req: ZdoServer._node_desc,
    ZDOCmd.Power_Desc_req: ZdoServer._power_desc,
    ZDOCmd.Active_EP_req: ZdoServer._active_ep,
    ZDOCmd.Simple_Desc_req: ZdoServer._simple_desc,
    ZDOCmd.Match_Desc_req: ZdoServer._match_desc,
    ZDOCmd.Bind_req: ZdoServer._bind,
    ZDOCmd.Unbind_req: ZdoServer._unbind,
    ZDOCmd.Mgmt_Leave_req: ZdoServer._mgmt_leave,
    ZDOCmd.Mgmt_Permit_Joining_req: ZdoServer._mgmt_permit,
}

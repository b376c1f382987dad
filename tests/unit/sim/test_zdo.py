"""ZDO server: Match_Desc by profile AND cluster, malformed requests as typed errors."""

from __future__ import annotations

import pytest
import zigpy.types as t
import zigpy.zdo.types as zdo_t
from zigpy.zdo.types import ZDOCmd

from harness.sim import zdo

IHD = zdo_t.SimpleDescriptor(endpoint=1, profile=0x0109, device_type=0x0507, device_version=0,
                             input_clusters=[0x0000, 0x0800], output_clusters=[0x0702])


def test_match_descriptor_profile_and_clusters():
    endpoints = {1: IHD}
    assert zdo.match_descriptor(endpoints, 0x0109, [0x0800], []) == [1]
    assert zdo.match_descriptor(endpoints, 0x0109, [], [0x0702]) == [1]
    assert zdo.match_descriptor(endpoints, 0x0104, [0x0800], []) == []
    assert zdo.match_descriptor(endpoints, 0x0109, [0x0702], []) == []  # an output cluster asked as input
    assert zdo.match_descriptor(endpoints, zdo.WILDCARD_PROFILE, [0x0800], []) == [1]


def _server():
    left = []
    ctx = zdo.ZdoContext(
        ieee=lambda: 0x0022A30000000002, nwk=lambda: 0x1234,
        node_descriptor=lambda: zdo_t.NodeDescriptor(2, 0, 0, 0, 0, 8, 0x88, 0, 82, 82, 0, 82, 0),
        endpoints=lambda: {1: IHD}, capability=lambda: 0x88,
        leave=lambda rejoin, children: left.append(rejoin), permit_joining=lambda d: None,
    )
    return zdo.ZdoServer(ctx), left


def test_simple_descriptor_and_unknown_endpoint():
    server, _ = _server()
    cluster, data = server.handle(ZDOCmd.Simple_Desc_req, zdo.encode(ZDOCmd.Simple_Desc_req, 5, t.NWK(0x1234), 1), False)
    tsn, (status, nwk, desc) = zdo.decode(cluster, data)
    assert (cluster, tsn, status, nwk) == (ZDOCmd.Simple_Desc_rsp, 5, zdo_t.Status.SUCCESS, 0x1234)
    assert desc.profile == 0x0109 and list(desc.input_clusters) == [0x0000, 0x0800]
    _, data = server.handle(ZDOCmd.Simple_Desc_req, zdo.encode(ZDOCmd.Simple_Desc_req, 6, t.NWK(0x1234), 9), False)
    assert zdo.decode(ZDOCmd.Simple_Desc_rsp, data)[1][0] == zdo_t.Status.NOT_ACTIVE


def test_mgmt_leave_answers_then_leaves():
    server, left = _server()
    cluster, data = server.handle(
        ZDOCmd.Mgmt_Leave_req, zdo.encode(ZDOCmd.Mgmt_Leave_req, 1, t.EUI64.convert("00:00:00:00:00:00:00:00"),
                                          t.bitmap8(0x80)), False)
    assert cluster == ZDOCmd.Mgmt_Leave_rsp and data == bytes([1, zdo_t.Status.SUCCESS])
    assert left == [True]


@pytest.mark.parametrize("data", [b"", b"\x01\x34"])
def test_malformed_request_is_a_typed_error(data):
    server, _ = _server()
    with pytest.raises(zdo.ZdoError):
        server.handle(ZDOCmd.Simple_Desc_req, data, False)


def test_power_descriptor_answered_or_not_supported():
    server, _ = _server()
    cluster, data = server.handle(ZDOCmd.Power_Desc_req, zdo.encode(ZDOCmd.Power_Desc_req, 7, t.NWK(0x1234)), False)
    assert cluster == ZDOCmd.Power_Desc_rsp and zdo.decode(cluster, data)[1][0] == zdo_t.Status.NOT_SUPPORTED
    power = zdo_t.PowerDescriptor(current_power_mode=0, available_power_sources=1, current_power_source=1,
                                  current_power_source_level=12)
    server.ctx.power_descriptor = lambda: power
    _, data = server.handle(ZDOCmd.Power_Desc_req, zdo.encode(ZDOCmd.Power_Desc_req, 8, t.NWK(0x1234)), False)
    tsn, (status, nwk, descriptor) = zdo.decode(ZDOCmd.Power_Desc_rsp, data)
    assert (tsn, status, nwk, descriptor) == (8, zdo_t.Status.SUCCESS, 0x1234, power)


def test_mgmt_leave_refused_by_the_node_is_not_supported():
    server, _ = _server()
    server.ctx.leave = lambda rejoin, children: not children
    _, data = server.handle(ZDOCmd.Mgmt_Leave_req, zdo.encode(
        ZDOCmd.Mgmt_Leave_req, 2, t.EUI64.convert("00:00:00:00:00:00:00:00"), t.bitmap8(0xC0)), False)
    assert data == bytes([2, zdo_t.Status.NOT_SUPPORTED])

"""The judges of TC-JOIN-1.10 (harness/verify/descriptors.py): a consistent Device_annce, Node Descriptor and Power
Descriptor give no finding; each inconsistency gives one naming its field."""

from __future__ import annotations

import pytest
import zigpy.zdo.types as zdo_t

from harness.verify.descriptors import judge_annce, judge_node_descriptor, judge_power_descriptor
from harness.wire.frames.types import ieee_to_eui64

ROUTER = 0x8E  # FFD, mains, receiver on when idle, allocate address
END_DEVICE = 0x80  # RFD on a battery, receiver off when idle
IEEE, NWK = 0x000D6F0000001001, 0x5DEC


def node_descriptor(**changes) -> zdo_t.NodeDescriptor:
    values = dict(logical_type=zdo_t.LogicalType.Router, complex_descriptor_available=0, user_descriptor_available=0,
                  reserved=0, aps_flags=0, frequency_band=zdo_t.NodeDescriptor.FrequencyBand.Freq2400MHz,
                  mac_capability_flags=ROUTER, manufacturer_code=0x1002, maximum_buffer_size=82,
                  maximum_incoming_transfer_size=82, server_mask=22 << 9, maximum_outgoing_transfer_size=82,
                  descriptor_capability_field=0)
    values.update(changes)
    return zdo_t.NodeDescriptor(**values)


def power_descriptor(**changes) -> zdo_t.PowerDescriptor:
    values = dict(current_power_mode=0, available_power_sources=1, current_power_source=1,
                  current_power_source_level=12)
    values.update(changes)
    return zdo_t.PowerDescriptor(**values)


def test_consistent_self_description_has_no_finding():
    assert judge_annce([NWK, ieee_to_eui64(IEEE), ROUTER], ieee=IEEE, nwk=NWK, associated=ROUTER) == []
    assert judge_node_descriptor(node_descriptor(), associated=ROUTER, manufacturer_code=0x1002) == []
    assert judge_node_descriptor(node_descriptor(manufacturer_code=0x1234), associated=ROUTER,
                                 manufacturer_code=None) == []
    assert judge_power_descriptor(power_descriptor(), associated=ROUTER) == []
    battery = power_descriptor(current_power_mode=1, available_power_sources=6, current_power_source=4,
                               current_power_source_level=8)
    assert judge_power_descriptor(battery, associated=END_DEVICE) == []
    assert judge_node_descriptor(node_descriptor(logical_type=zdo_t.LogicalType.EndDevice,
                                                 mac_capability_flags=END_DEVICE),
                                 associated=END_DEVICE, manufacturer_code=None) == []


def test_annce_fields_judged():
    findings = judge_annce([NWK + 1, ieee_to_eui64(IEEE + 1), ROUTER & ~0x04], ieee=IEEE, nwk=NWK, associated=ROUTER)
    assert [f.split(":")[0] for f in findings] == ["Device_annce NWKAddr", "Device_annce IEEEAddr",
                                                   "Device_annce capability power source (mains)"]


@pytest.mark.parametrize(("changes", "field"), [
    ({"logical_type": zdo_t.LogicalType.EndDevice}, "logical type"),
    ({"aps_flags": 1}, "APS flags"),
    ({"frequency_band": zdo_t.NodeDescriptor.FrequencyBand.Freq868MHz}, "frequency band"),
    ({"mac_capability_flags": ROUTER & ~0x08}, "MAC capability flags receiver on when idle"),
    ({"manufacturer_code": 0x1001}, "manufacturer code"),
    ({"maximum_buffer_size": 0x80}, "maximum buffer size"),
    ({"maximum_incoming_transfer_size": 0}, "maximum incoming transfer size"),
    ({"maximum_outgoing_transfer_size": 0x8000}, "maximum outgoing transfer size"),
    ({"server_mask": 0x0001}, "server mask"),
    ({"server_mask": 0x0100}, "server mask"),
])
def test_node_descriptor_fields_judged(changes, field):
    findings = judge_node_descriptor(node_descriptor(**changes), associated=ROUTER, manufacturer_code=0x1002)
    assert len(findings) == 1 and findings[0].startswith(field + ":")


@pytest.mark.parametrize(("changes", "field"), [
    ({"current_power_mode": 1}, "current power mode"),
    ({"current_power_source": 4, "available_power_sources": 5}, "current power source"),
    ({"available_power_sources": 2}, "available power sources"),
    ({"current_power_source": 3}, "current power source"),
    ({"current_power_source_level": 8}, "current power source level"),
])
def test_power_descriptor_fields_judged(changes, field):
    findings = judge_power_descriptor(power_descriptor(**changes), associated=ROUTER)
    assert findings and all(f.startswith(field + ":") for f in findings)


def test_battery_device_must_not_name_mains():
    findings = judge_power_descriptor(power_descriptor(current_power_mode=1), associated=END_DEVICE)
    assert findings and findings[0].startswith("current power source:")

"""The zigpy cluster schemas agree with the data model: every id, ZCL type and direction."""

from __future__ import annotations

import pytest
import zigpy.zcl

from harness.se.clusters import SE_CLUSTERS, command_def
from harness.se.datamodel import Side, load_datamodel

# ZCL data type ids typed in from the ZCL specification's data type table (independent of the mapping code).
TYPE_IDS = {
    "BOOLEAN": 0x10, "BITMAP8": 0x18, "BITMAP16": 0x19, "BITMAP32": 0x1B, "BITMAP48": 0x1D, "BITMAP64": 0x1F,
    "INT8U": 0x20, "INT16U": 0x21, "INT24U": 0x22, "INT32U": 0x23, "INT48U": 0x25, "INT8S": 0x28,
    "INT16S": 0x29, "INT24S": 0x2A, "INT32S": 0x2B, "ENUM8": 0x30, "ENUM16": 0x31, "OCTET_STRING": 0x41,
    "CHAR_STRING": 0x42, "UTC_TIME": 0xE2,
}
# Wire sizes of fixed-size field types.
SIZES = {"INT8U": 1, "INT16U": 2, "INT24U": 3, "INT32U": 4, "INT8S": 1, "INT16S": 2, "UTC_TIME": 4,
         "BITMAP8": 1, "BITMAP16": 2, "BITMAP32": 4, "ENUM8": 1, "BOOLEAN": 1}


@pytest.mark.parametrize("cluster_id", sorted(SE_CLUSTERS))
@pytest.mark.parametrize("side", list(Side))
def test_attribute_ids_and_types_match_model(cluster_id, side):
    model = load_datamodel().cluster(cluster_id)
    defs = {d.id: d for d in SE_CLUSTERS[cluster_id].attribute_defs_of(side)}
    attrs = model.attributes_of(side)
    assert set(defs) == {a.id for a in attrs}
    for attr in attrs:
        d = defs[attr.id]
        assert d.zcl_type == TYPE_IDS[attr.type], f"0x{cluster_id:04X}/{attr.name}"
        assert d.mandatory == attr.mandatory
        assert bool(d.access & d.access.Write) == attr.writable


@pytest.mark.parametrize("cluster_id", sorted(SE_CLUSTERS))
def test_every_model_command_has_a_schema_on_the_receiving_side(cluster_id):
    model = load_datamodel().cluster(cluster_id)
    for cmd in model.commands:
        for side in cmd.received_by():
            d = command_def(cluster_id, side, cmd.id)
            assert d is not None, f"0x{cluster_id:04X} {cmd.name} missing on {side}"
            assert d.name == cmd.python_name
            assert len(d.schema.fields) == len(cmd.fields)
        for side in set(Side) - set(cmd.received_by()):
            other = command_def(cluster_id, side, cmd.id)
            assert other is None or other.name != cmd.python_name


@pytest.mark.parametrize("cluster_id", sorted(SE_CLUSTERS))
def test_fixed_size_fields_have_the_model_wire_size(cluster_id):
    model = load_datamodel().cluster(cluster_id)
    for cmd in model.commands:
        d = command_def(cluster_id, cmd.received_by()[0], cmd.id)
        for fld, zfield in zip(cmd.fields, d.schema.fields, strict=True):
            if fld.type in SIZES and not fld.is_array:
                assert len(zfield.type(0).serialize()) == SIZES[fld.type], f"{cmd.name}.{fld.name}"


def test_direction_of_load_control_event_and_report_event_status():
    from harness.se.clusters import Drlc

    assert 0x00 in Drlc.client_commands and Drlc.client_commands[0].name == "load_control_event"
    assert Drlc.server_commands[0].name == "report_event_status"


def test_schemas_stay_out_of_zigpys_registry():
    from harness.se.clusters import Drlc

    assert zigpy.zcl.Cluster._registry.get(0x0701) is not Drlc

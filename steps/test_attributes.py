"""Steps of features/attributes: descriptors and mandatory attributes, driven by the bundled SE data model."""

from __future__ import annotations

import pytest
import zigpy.types as t
import zigpy.zdo.types as zdo_t
from pytest_bdd import given, parsers, then, when
from zigpy.zcl.foundation import DataType, Status, TypeValue
from zigpy.zdo.types import ZDOCmd

from harness.bdd import certification_cases
from harness.golden.golden import ESI_ENDPOINT
from harness.pics import cluster_key
from harness.se.clusters import Basic, Drlc
from harness.se.datamodel import SE_PROFILE_ID, Side, load_datamodel
from harness.verdict import check
from harness.zcl.errors import ZclStatusError, ZclTimeout

from .conftest import attribute_record, dut_nwk

certification_cases("../features/attributes")

ZCL_TIMEOUT = 10.0


def _cluster(name: str):
    return load_datamodel().cluster_by_name(name)


def _dut(bench, testbed):
    return dut_nwk(testbed), bench.dut_profile.endpoint


def _read(bench, testbed, cluster_id: int, attr_ids: list[int], side: Side = Side.SERVER):
    nwk, endpoint = _dut(bench, testbed)
    records = []
    for start in range(0, len(attr_ids), 8):  # keep each request well inside one APS frame
        records += bench.run(testbed.golden.engine.read_attributes(
            nwk, endpoint, cluster_id, attr_ids[start:start + 8], src_ep=ESI_ENDPOINT, target=side,
            timeout=ZCL_TIMEOUT))
    return records


def _read_one(bench, testbed, cluster_id: int, attr_id: int, side: Side = Side.SERVER):
    """The DUT's Read Attributes Response record for *attr_id*; a response without one fails the case."""
    records = _read(bench, testbed, cluster_id, [attr_id], side)
    record = attribute_record(records, attr_id)
    check(record is not None, expected=f"a Read Attributes Response record for attribute 0x{attr_id:04X}",
          observed=f"records for {[f'0x{int(r.attrid):04X}' for r in records]}",
          rule="ZCL 2.5.2: one read attribute status record per attribute requested")
    return record


def _write(bench, testbed, cluster_id: int, attr_id: int, value: TypeValue, side: Side = Side.SERVER):
    nwk, endpoint = _dut(bench, testbed)
    return bench.run(testbed.golden.engine.write_attributes(
        nwk, endpoint, cluster_id, {attr_id: value}, src_ep=ESI_ENDPOINT, target=side, timeout=ZCL_TIMEOUT))


def _typed(cluster_id: int, side: Side, attr_id: int, value: int) -> TypeValue:
    model = load_datamodel().cluster(cluster_id).attribute(side, attr_id)
    return TypeValue(type=model.type_id, value=DataType.from_type_id(model.type_id).python_type(value))


# -- descriptors ---------------------------------------------------------------------------------------------

@when("the golden radio asks the DUT for its active endpoints and simple descriptors")
def ask_descriptors(bench, testbed):
    nwk = dut_nwk(testbed)
    golden = testbed.golden
    active = bench.run(golden.zdo_request(nwk, ZDOCmd.Active_EP_req, [t.NWK(nwk)], ZCL_TIMEOUT))
    status, _, endpoints = active.fields
    check(status == zdo_t.Status.SUCCESS, expected="Active_EP_rsp with status SUCCESS",
          observed=f"status {status!r}", rule="Zigbee 2.4.4.1.6: Active_EP_rsp")
    descriptors = {}
    for endpoint in endpoints:
        rsp = bench.run(golden.zdo_request(nwk, ZDOCmd.Simple_Desc_req, [t.NWK(nwk), endpoint], ZCL_TIMEOUT))
        status, _, descriptor = rsp.fields
        check(status == zdo_t.Status.SUCCESS and descriptor is not None,
              expected=f"Simple_Desc_rsp with status SUCCESS and a descriptor for active endpoint {endpoint}",
              observed=f"status {status!r}, descriptor {descriptor!r}", rule="Zigbee 2.4.4.1.5: Simple_Desc_rsp")
        descriptors[int(endpoint)] = descriptor
    testbed.notes["descriptors"] = descriptors


def _se_descriptor(bench, testbed):
    descriptors = testbed.notes["descriptors"]
    endpoint = bench.dut_profile.endpoint
    check(endpoint in descriptors, expected=f"endpoint {endpoint} (DUT profile) among the active endpoints",
          observed=f"active endpoints {sorted(descriptors)}", rule="Zigbee 2.4.3.1.6: Active_EP_rsp")
    return descriptors[endpoint]


@then("the DUT's SE endpoint has profile 0x0109 and the device id of its device type")
def se_endpoint(bench, testbed):
    descriptor = _se_descriptor(bench, testbed)
    device = bench.dut_profile.identity.device
    check(descriptor.profile == SE_PROFILE_ID and descriptor.device_type == device.device_id,
          expected=f"profile 0x0109, device id 0x{device.device_id:04X} ({device.name})",
          observed=f"profile 0x{descriptor.profile:04X}, device id 0x{descriptor.device_type:04X}",
          rule="SE 1.x device descriptions: SE endpoints use profile 0x0109")


@then("it lists every input and output cluster that its device type makes mandatory")
def mandatory_clusters(bench, testbed):
    descriptor = _se_descriptor(bench, testbed)
    device = bench.dut_profile.identity.device
    missing_in = sorted(set(device.mandatory_server) - set(descriptor.input_clusters))
    missing_out = sorted(set(device.mandatory_client) - set(descriptor.output_clusters))
    check(not missing_in and not missing_out,
          expected=f"input clusters include {[f'0x{c:04X}' for c in device.mandatory_server]}, "
          f"output clusters include {[f'0x{c:04X}' for c in device.mandatory_client]}",
          observed=f"missing input {[f'0x{c:04X}' for c in missing_in]}, missing output {[f'0x{c:04X}' for c in missing_out]}",
          rule=f"SE 1.x mandatory clusters of {device.name}")


@then("it lists every cluster that its PICS claim")
def claimed_clusters(bench, testbed, dut_pics):
    descriptor = _se_descriptor(bench, testbed)
    missing = []
    for cluster in load_datamodel().clusters.values():
        for side, listed in ((Side.SERVER, descriptor.input_clusters), (Side.CLIENT, descriptor.output_clusters)):
            key = _pics_key(cluster.id, side)
            if key and dut_pics.get(key) and cluster.id not in listed:
                missing.append(key)
    check(not missing, expected="every cluster the PICS claim appears in the simple descriptor",
          observed=f"claimed but not listed: {missing}", rule="DUT PICS vs Simple_Desc_rsp")


def _pics_key(cluster_id: int, side: Side) -> str | None:
    try:
        return cluster_key(cluster_id, side)
    except Exception:  # a cluster with no PICS area in this suite
        return None


# -- mandatory attributes ------------------------------------------------------------------------------------

@given(parsers.parse("the DUT claims the {cluster} {side:w}"))
def claims(testbed, dut_pics, cluster, side):
    model = _cluster(cluster)
    key = cluster_key(model.id, Side(side))
    if not dut_pics.get(key):
        pytest.skip(f"not applicable: the DUT does not claim PICS {key}")
    testbed.notes["cluster"] = model


@when(parsers.parse("the golden radio reads every mandatory {cluster} {side:w} attribute"))
def read_mandatory(bench, testbed, cluster, side):
    model = _cluster(cluster)
    expected = [(model, Side(side), a) for a in model.attributes_of(Side(side)) if a.mandatory]
    _read_expected(bench, testbed, expected)
    if not expected:  # nothing mandatory to read (the Price, DRLC and Messaging servers): the side must be there
        _read_presence(bench, testbed, model, Side(side))


def _read_presence(bench, testbed, model, side: Side) -> None:
    """A cluster side the data model makes no attribute of mandatory is still one the DUT claims to carry: a Read
    Attributes of its attribute 0x0000 gets a record (SUCCESS, or UNSUPPORTED_ATTRIBUTE for an optional one), not
    UNSUPPORTED_CLUSTER and not silence."""
    try:
        records = _read(bench, testbed, model.id, [0x0000], side)
        answer = ", ".join(f"0x{int(r.attrid):04X} {r.status.name}" for r in records) or "a response without records"
        served = any(int(r.attrid) == 0 and r.status in (Status.SUCCESS, Status.UNSUPPORTED_ATTRIBUTE)
                     for r in records)
    except (ZclStatusError, ZclTimeout) as exc:
        answer, served = str(exc), False
    testbed.notes["presence"] = (f"{model.name} {side.value}", served, answer)


def _read_expected(bench, testbed, expected: list) -> None:
    """Read each (cluster model, side, attribute model) once; the records are kept by (cluster, side, attribute)."""
    records = {}
    for (cluster_id, side) in dict.fromkeys((c.id, s) for c, s, _ in expected):
        ids = [a.id for c, s, a in expected if c.id == cluster_id and s is side]
        for record in _read(bench, testbed, cluster_id, ids, side):
            records[(cluster_id, side, int(record.attrid))] = record
    testbed.notes["expected_attrs"] = expected
    testbed.notes["records"] = records


@when("the golden radio reads every attribute the DUT's PICS claim on every cluster they claim")
def read_claimed(bench, testbed, dut_pics):
    expected = [(cluster, side, a) for cluster, side, key in _claimed_sides(dut_pics) for a in cluster.attributes_of(side)
                if a.mandatory or dut_pics.get(f"{key}.A{a.id:04X}")]
    _read_expected(bench, testbed, expected)


def _attr_name(cluster, side: Side, attr) -> str:
    return f"{cluster.name} {side.value} 0x{attr.id:04X} {attr.name}"


@then("every attribute is answered with status SUCCESS")
def all_success(testbed):
    records = testbed.notes["records"]
    bad = []
    for cluster, side, attr in testbed.notes["expected_attrs"]:
        record = records.get((cluster.id, side, attr.id))
        if record is None or record.status != Status.SUCCESS:
            bad.append(f"{_attr_name(cluster, side, attr)}: {record.status.name if record else 'no record'}")
    check(not bad, expected="SUCCESS for every attribute read", observed="; ".join(bad) or "all SUCCESS",
          rule="ZCL 2.5.2: Read Attributes Response; SE 1.x mandatory attributes and the DUT's PICS")
    presence = testbed.notes.get("presence")
    if presence is not None:
        side, served, answer = presence
        check(served, expected=f"a Read Attributes Response record for attribute 0x0000 of the {side} the DUT claims "
                               "(SUCCESS, or UNSUPPORTED_ATTRIBUTE: the data model makes none of its attributes "
                               "mandatory)", observed=answer,
              rule="ZCL 2.5.2 and 2.5.12: a cluster the endpoint carries answers Read Attributes; SE 1.x device "
                   "descriptions: the claimed cluster side is carried")


@then("every value has the data type of the data model")
def all_typed(testbed):
    records = testbed.notes["records"]
    bad = []
    for cluster, side, attr in testbed.notes["expected_attrs"]:
        record = records.get((cluster.id, side, attr.id))
        if record is not None and record.status == Status.SUCCESS and int(record.value.type) != attr.type_id:
            bad.append(f"{_attr_name(cluster, side, attr)}: type 0x{int(record.value.type):02X}, model "
                       f"0x{attr.type_id:02X} ({attr.type})")
    check(not bad, expected="each value carries its data model type id", observed="; ".join(bad) or "all typed",
          rule="SE data model (harness/se/datamodel.yaml)")


@then("every value lies within the range of the data model")
def all_in_range(testbed):
    records = testbed.notes["records"]
    bad = []
    for cluster, side, attr in testbed.notes["expected_attrs"]:
        record = records.get((cluster.id, side, attr.id))
        if record is None or record.status != Status.SUCCESS:
            continue
        value = record.value.value
        if isinstance(value, int) and not attr.in_range(int(value)):
            bad.append(f"{_attr_name(cluster, side, attr)} = 0x{int(value):02X}, not {attr.bounds()}")
        elif attr.length is not None and isinstance(value, str | bytes) and len(value) > attr.length:
            bad.append(f"{_attr_name(cluster, side, attr)} = {value!r} is {len(value)} long, {attr.bounds()}")
    check(not bad, expected="each value within the data model's bounds (range, an enumeration's defined values, a "
          "string's maximum length)", observed="; ".join(bad) or "all within bounds",
          rule="SE data model (harness/se/datamodel.yaml); the ZCL status enumerations (INVALID_VALUE: "
          "out of range or a reserved value); the ZCL attribute tables (enumerations' values, strings' maximum lengths)")


@then("Basic's ZCLVersion names a published ZCL revision, 0x01 or later")
def zcl_version_published(testbed):
    record = testbed.notes["records"].get((Basic.cluster_id, Side.SERVER, Basic.AttributeDefs.zcl_version.id))
    value = record.value.value if record is not None and record.status == Status.SUCCESS else None
    check(isinstance(value, int) and value >= 0x01,
          expected="ZCLVersion 0x01 or later: the revision of the ZCL the endpoint's clusters conform to",
          observed=f"ZCLVersion {value!r}" if record is not None else "ZCLVersion not read",
          rule="ZCL 07-5123 3.2.2.2.1 (ZCLVersion): 0x01 for the initial version of the ZCL, later revisions "
               "higher (ZCL 8: 8); 0x00 names none")


# -- access and unsupported attributes ------------------------------------------------------------------------

@when(parsers.parse("the golden radio writes the Basic attribute ZCL version with the value {value}"))
def write_zcl_version(bench, testbed, value):
    zcl_version = Basic.AttributeDefs.zcl_version.id
    before = _read_one(bench, testbed, Basic.cluster_id, zcl_version)
    testbed.notes["before"] = before.value.value if before.status == Status.SUCCESS else None
    testbed.notes["write"] = _write(bench, testbed, Basic.cluster_id, zcl_version,
                                    _typed(Basic.cluster_id, Side.SERVER, zcl_version, int(value, 0)))


def _write_status(testbed, attr_id: int) -> Status:
    records = testbed.notes["write"]
    if len(records) == 1 and records[0].status == Status.SUCCESS:
        return Status.SUCCESS  # ZCL 2.5.5: all writes succeeded -> one SUCCESS record without an id
    for record in records:
        if record.attrid is not None and int(record.attrid) == attr_id:
            return record.status
    return Status.SUCCESS


@then(parsers.parse("the DUT answers Write Attributes Response with status {status:w} for attribute {attr}"))
def write_status_for(testbed, status, attr):
    got = _write_status(testbed, int(attr, 16))
    check(got == Status[status], expected=f"Write Attributes Response status {status} for {attr}",
          observed=f"status {got.name}", rule="ZCL 2.5.4: Write Attributes")


@then(parsers.parse("the DUT answers Write Attributes Response with status {status:w}"))
def write_status(testbed, status):
    records = testbed.notes["write"]
    got = [r.status.name for r in records]
    check(all(r.status == Status[status] for r in records), expected=f"status {status}", observed=f"{got}",
          rule="ZCL 2.5.4: Write Attributes")


@then("reading ZCL version still returns its former value")
def zcl_version_unchanged(bench, testbed):
    after = _read_one(bench, testbed, Basic.cluster_id, Basic.AttributeDefs.zcl_version.id)
    value = after.value.value if after.status == Status.SUCCESS else None
    check(value == testbed.notes["before"], expected=f"ZCL version still {testbed.notes['before']}",
          observed=f"{value}", rule="ZCL 2.5.4: a refused write leaves the attribute unchanged")


@when(parsers.parse("the golden radio reads attribute {attr} of the Basic server"))
def read_unsupported(bench, testbed, attr):
    testbed.notes["records"] = {int(r.attrid): r for r in _read(bench, testbed, Basic.cluster_id, [int(attr, 16)])}


@then(parsers.parse("the DUT answers with status UNSUPPORTED_ATTRIBUTE for attribute {attr}"))
def unsupported(testbed, attr):
    record = testbed.notes["records"].get(int(attr, 16))
    check(record is not None and record.status == Status.UNSUPPORTED_ATTRIBUTE,
          expected=f"status UNSUPPORTED_ATTRIBUTE for {attr}",
          observed=f"{record.status.name if record else 'no record'}", rule="ZCL 2.5.2: Read Attributes Response")


# -- discovery ---------------------------------------------------------------------------------------------------

def _discover(bench, testbed, cluster_id: int, side: Side = Side.SERVER) -> dict[int, int]:
    """Every attribute Discover Attributes lists on *side* of *cluster_id*, 16 at a time: id -> data type."""
    nwk, endpoint = _dut(bench, testbed)
    found: dict[int, int] = {}
    start, complete = 0, False
    while not complete:
        complete, records = bench.run(testbed.golden.engine.discover_attributes(
            nwk, endpoint, cluster_id, src_ep=ESI_ENDPOINT, start=start, max_ids=16, target=side,
            timeout=ZCL_TIMEOUT))
        for record in records:
            found[int(record.attrid)] = int(record.datatype)
        if not records:
            break
        after = max(int(r.attrid) for r in records) + 1
        check(after > start, expected=f"Discover Attributes Response records from identifier 0x{start:04X} on",
              observed=f"identifiers {[f'0x{int(r.attrid):04X}' for r in records]} (discovery complete: {complete})",
              rule="ZCL 2.5.14: attributes from the start identifier, in ascending order")
        start = after
    return found


@when(parsers.parse("the golden radio discovers the {cluster} server attributes"))
def discover(bench, testbed, cluster):
    model = _cluster(cluster)
    testbed.notes["discovered"] = _discover(bench, testbed, model.id)
    testbed.notes["cluster"] = model


def _claimed_sides(dut_pics) -> list:
    """(cluster model, side, PICS key) of every cluster side the PICS claim, in cluster id order."""
    sides = []
    for cluster in sorted(load_datamodel().clusters.values(), key=lambda c: c.id):
        for side in (Side.SERVER, Side.CLIENT):
            key = _pics_key(cluster.id, side)
            if key and dut_pics.get(key):
                sides.append((cluster, side, key))
    return sides


@when("the golden radio discovers the attributes of every cluster side the DUT's PICS claim")
def discover_claimed(bench, testbed, dut_pics):
    testbed.notes["discovered_sides"] = [
        (cluster, side, key, _discover(bench, testbed, cluster.id, side)) for cluster, side, key in _claimed_sides(dut_pics)]


@then("the discovered attributes include every mandatory and every claimed attribute")
def discovered_claimed(testbed, dut_pics):
    missing = []
    for cluster, side, key, found in testbed.notes["discovered_sides"]:
        missing += [_attr_name(cluster, side, a) for a in cluster.attributes_of(side)
                    if (a.mandatory or dut_pics.get(f"{key}.A{a.id:04X}")) and a.id not in found]
    check(not missing, expected="Discover Attributes lists every mandatory and every claimed attribute of each "
          "claimed cluster side", observed=f"missing: {'; '.join(missing)}" if missing else "all listed",
          rule="ZCL 2.5.13: Discover Attributes; SE 1.x mandatory attributes and the DUT's PICS")


@then("each discovered attribute of every cluster side carries the data type of the data model")
def discovered_claimed_types(testbed):
    bad = []
    for cluster, side, _key, found in testbed.notes["discovered_sides"]:
        for attr_id, type_id in found.items():
            attr = cluster.attribute(side, attr_id)
            if attr is not None and attr.type_id != type_id:
                bad.append(f"{_attr_name(cluster, side, attr)}: 0x{type_id:02X}, model 0x{attr.type_id:02X} "
                           f"({attr.type})")
    check(not bad, expected="every discovered data type matches the data model", observed="; ".join(bad) or
          "all match", rule="ZCL 2.5.14: Discover Attributes Response; SE data model (harness/se/datamodel.yaml)")


@then("the discovered attributes include every mandatory attribute of the data model")
def discovered_mandatory(testbed):
    model = testbed.notes["cluster"]
    missing = [f"0x{a.id:04X} {a.name}" for a in model.attributes_of(Side.SERVER)
               if a.mandatory and a.id not in testbed.notes["discovered"]]
    check(not missing, expected="Discover Attributes lists every mandatory server attribute",
          observed=f"missing: {missing}" if missing else "all listed", rule="ZCL 2.5.13: Discover Attributes")


@then("each discovered attribute carries the data type of the data model")
def discovered_types(testbed):
    model = testbed.notes["cluster"]
    bad = []
    for attr_id, type_id in testbed.notes["discovered"].items():
        attr = model.attribute(Side.SERVER, attr_id)
        if attr is not None and attr.type_id != type_id:
            bad.append(f"0x{attr_id:04X}: 0x{type_id:02X}, model 0x{attr.type_id:02X}")
    check(not bad, expected="discovered data types match the data model", observed="; ".join(bad) or "all match",
          rule="ZCL 2.5.14: Discover Attributes Response")


# -- writable DRLC client attributes ------------------------------------------------------------------------------

#: The DRLC client's randomization attributes, both bounded 0x00-0x3C (SE 1.x Annex D.2.3.2.1).
RANDOMIZATION_ATTRIBUTES = {"StartRandomizationMinutes": Drlc.ClientAttributeDefs.start_randomization_minutes.id,
                            "DurationRandomizationMinutes": Drlc.ClientAttributeDefs.duration_randomization_minutes.id}
_RANDOMIZATION = "(?P<attribute>StartRandomizationMinutes|DurationRandomizationMinutes)"


@when(parsers.re(rf"the golden radio writes {_RANDOMIZATION} with (?P<value>0x[0-9A-Fa-f]+)"))
def write_randomization(bench, testbed, attribute, value):
    attr_id = RANDOMIZATION_ATTRIBUTES[attribute]
    try:
        testbed.notes["write"] = _write(bench, testbed, Drlc.cluster_id, attr_id,
                                        _typed(Drlc.cluster_id, Side.CLIENT, attr_id, int(value, 16)), Side.CLIENT)
    except (ZclStatusError, ZclTimeout) as exc:
        check(False, expected="a Write Attributes Response", observed=str(exc), rule="ZCL 2.5.4: Write Attributes")


@then(parsers.re(rf"reading {_RANDOMIZATION} returns (?P<value>0x[0-9A-Fa-f]+)"))
def read_randomization(bench, testbed, attribute, value):
    record = _read_one(bench, testbed, Drlc.cluster_id, RANDOMIZATION_ATTRIBUTES[attribute], Side.CLIENT)
    got = record.value.value if record.status == Status.SUCCESS else record.status.name
    check(got == int(value, 16), expected=f"{attribute} = {value}", observed=f"{got}",
          rule=f"SE 1.x Annex D.2.3.2.1 (DRLC client attributes): {attribute} 0x00-0x3C")

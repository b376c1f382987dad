"""Steps of features/foundation: the ZCL Default Response rules, judged on every frame the DUT sends back.

A request goes out once, with the sequence number the golden engine gives it; every ZCL frame the DUT then
sends the golden on that cluster within the response time (PIXIT response_time) is kept, decoded, and judged
field by field: a Default Response with a wrong sequence number is a frame the DUT sent, not silence.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import zigpy.types as t
import zigpy.zdo.types as zdo_t
from pytest_bdd import parsers, then, when
from zigpy.zcl.foundation import Direction, GeneralCommand, Status
from zigpy.zdo.types import ZDOCmd

from harness.bdd import certification_cases
from harness.golden.golden import ESI_ENDPOINT
from harness.se.clusters import Basic, Identify
from harness.se.datamodel import SE_APPLICATION_CLUSTERS, SE_PROFILE_ID, Side, load_datamodel
from harness.verdict import check
from harness.zcl.errors import MalformedFrame, ZclStatusError, ZclTimeout
from harness.zcl.frame import ZclFrame, parse_frame

from .conftest import configure_reporting_succeeded, dut_nwk

certification_cases("../features/foundation")

ZCL_TIMEOUT = 10.0
#: A manufacturer code no Identify command of the DUT is defined for (the Zigbee Alliance assigns codes from
#: 0x1000 up; 0x7FF0 is far beyond any assigned one).
UNKNOWN_MANUFACTURER = 0x7FF0

RULE_DDR = "ZCL 07-5123 2.4.1.1.4 (Disable Default Response) and 2.5.12.2 (when a Default Response is sent)"
RULE_FIELDS = ("ZCL 07-5123 2.5.12 (Default Response: the request's command id and a status), 2.4.1.1.4 (DDR set "
               "in every response), 2.4.1.3 (a response carries the request's sequence number), 2.4.1.1.3 "
               "(direction: the other way)")


@dataclasses.dataclass(frozen=True)
class Sent:
    """What the golden sent: enough to judge every answer's fields."""

    cluster_id: int
    command_id: int
    general: bool
    tsn: int
    disable_default_response: bool
    manufacturer: int | None
    what: str

    @property
    def direction(self) -> Direction:
        return Direction.Client_to_Server


@dataclasses.dataclass(frozen=True)
class Answer:
    """One ZCL frame the DUT sent the golden on the request's cluster: its APS addressing and, if it parses,
    its ZCL frame."""

    src_ep: int
    dst_ep: int
    profile_id: int
    raw: bytes
    frame: ZclFrame | None
    error: str | None

    def describe(self) -> str:
        if self.frame is None:
            return f"undecodable frame {self.raw.hex()} ({self.error})"
        fc = self.frame.header.frame_control
        manuf = f", manufacturer 0x{self.frame.manufacturer:04X}" if self.frame.manufacturer is not None else ""
        return (f"{self.frame.describe()} [{self.raw.hex()}]: direction {fc.direction.name}, DDR "
                f"{int(fc.disable_default_response)}{manuf}, ep {self.src_ep}->{self.dst_ep}, profile "
                f"0x{self.profile_id:04X}")

    @property
    def is_default_response(self) -> bool:
        return (self.frame is not None and self.frame.is_general
                and self.frame.command_id == GeneralCommand.Default_Response)

    def answers(self, sent: Sent) -> bool:
        """Whether this frame can be the DUT's answer to *sent*: it carries the request's sequence number, or it
        is a Default Response from the server side naming the request's command id (whatever its sequence number
        says). Its own traffic on the cluster (a client's requests, answers to the golden's interview) is
        neither."""
        if self.frame is None:
            return True
        if self.frame.tsn == sent.tsn:
            return True
        return (self.is_default_response and self.frame.direction == Direction.Server_to_Client
                and self.frame.payload[:1] == bytes([sent.command_id]))


def _response_time(bench) -> float:
    return bench.pixit_seconds("response_time", 5)


def _exchange(bench, testbed, cluster_id: int, command_id: int, payload: bytes, *, general: bool, ddr: bool,
              manufacturer: int | None = None, what: str) -> None:
    """Send one command to the DUT's SE endpoint and keep every ZCL frame the DUT sends back on that cluster
    within the response time."""
    nwk = dut_nwk(testbed)
    endpoint = bench.dut_profile.endpoint
    answers: list[Answer] = []

    def keep(packet: t.ZigbeePacket) -> None:
        if (packet.src is None or packet.src.address != nwk or int(packet.cluster_id) != cluster_id
                or int(packet.profile_id) == 0):
            return
        raw = packet.data.serialize()
        try:
            frame, error = parse_frame(raw), None
        except MalformedFrame as exc:
            frame, error = None, exc.reason
        answers.append(Answer(int(packet.src_ep or 0), int(packet.dst_ep or 0), int(packet.profile_id), raw,
                              frame, error))

    async def exchange() -> int:
        tsn = await testbed.golden.engine.send_command(
            nwk, endpoint, cluster_id, command_id, payload, src_ep=ESI_ENDPOINT, general=general,
            disable_default_response=ddr, manufacturer=manufacturer)
        await bench.clock.sleep(_response_time(bench), "the DUT's answers")
        return tsn

    unsubscribe = testbed.app.register_packet_callback(None, keep)
    try:
        tsn = bench.run(exchange(), _response_time(bench) + ZCL_TIMEOUT)
    finally:
        unsubscribe()
    sent = Sent(cluster_id, command_id, general, tsn, ddr, manufacturer, what)
    testbed.notes["sent"] = sent
    testbed.notes["answers"] = [a for a in answers if a.answers(sent)]


def _observed(answers: list[Answer]) -> str:
    return "; ".join(a.describe() for a in answers) or "no answer from the DUT"


def _sent_text(sent: Sent) -> str:
    manuf = f", manufacturer 0x{sent.manufacturer:04X}" if sent.manufacturer is not None else ""
    return (f"to {sent.what} (tsn 0x{sent.tsn:02X}, command 0x{sent.command_id:02X}, DDR "
            f"{int(sent.disable_default_response)}{manuf})")


# -- stimuli ------------------------------------------------------------------------------------------------------

def _identify(bench, testbed, ddr: bool) -> None:
    _exchange(bench, testbed, Identify.cluster_id, Identify.ServerCommandDefs.identify.id, t.uint16_t(0).serialize(),
              general=False, ddr=ddr, what="Identify (IdentifyTime 0)")


def _read_zcl_version(bench, testbed, ddr: bool) -> None:
    _exchange(bench, testbed, Basic.cluster_id, GeneralCommand.Read_Attributes,
              t.uint16_t(Basic.AttributeDefs.zcl_version.id).serialize(), general=True, ddr=ddr,
              what="Read Attributes of Basic ZCLVersion")


def _unsupported_basic_command(bench, testbed, ddr: bool) -> None:
    # The lowest command id the data model defines in neither direction of Basic: no revision gives it a meaning.
    defined = {c.id for c in load_datamodel().cluster(Basic.cluster_id).commands}
    command_id = min(set(range(0x100)) - defined)
    _exchange(bench, testbed, Basic.cluster_id, command_id, b"", general=False, ddr=ddr,
              what=f"Basic cluster command 0x{command_id:02X} (defined by no ZCL revision)")


def _unknown_cluster(bench, testbed, ddr: bool) -> None:
    nwk = dut_nwk(testbed)
    endpoint = bench.dut_profile.endpoint
    rsp = bench.run(testbed.golden.zdo_request(nwk, ZDOCmd.Simple_Desc_req, [t.NWK(nwk), endpoint], ZCL_TIMEOUT))
    status, _, descriptor = rsp.fields
    check(status == zdo_t.Status.SUCCESS and descriptor is not None,
          expected=f"Simple_Desc_rsp with status SUCCESS for endpoint {endpoint}",
          observed=f"status {status!r}, descriptor {descriptor!r}", rule="Zigbee 2.4.4.1.5: Simple_Desc_rsp")
    carried = {int(c) for c in descriptor.input_clusters}
    # A data-model cluster whose server the endpoint does not list; first those that need no APS security (SE-FACTS
    # "Basics": only the SE application clusters 0x0700-0x07FF do), so the frame reaches the DUT whatever link key
    # it holds at that moment (its CBKE may end meanwhile).
    candidates = sorted((c.id for c in load_datamodel().clusters.values() if c.id not in carried),
                        key=lambda cid: (cid in SE_APPLICATION_CLUSTERS, cid))
    check(bool(candidates), expected="a data-model cluster the DUT's endpoint does not list as a server",
          observed=f"input clusters {sorted(carried)}", rule="scenario precondition")
    _exchange(bench, testbed, candidates[0], GeneralCommand.Read_Attributes, t.uint16_t(0).serialize(),
              general=True, ddr=ddr, what=f"Read Attributes on cluster 0x{candidates[0]:04X}, which the endpoint lacks")


def _manufacturer_identify(bench, testbed, ddr: bool) -> None:
    _exchange(bench, testbed, Identify.cluster_id, Identify.ServerCommandDefs.identify.id, t.uint16_t(0).serialize(),
              general=False, ddr=ddr, manufacturer=UNKNOWN_MANUFACTURER,
              what=f"Identify with manufacturer code 0x{UNKNOWN_MANUFACTURER:04X}")


def _truncated_identify(bench, testbed, ddr: bool) -> None:
    _exchange(bench, testbed, Identify.cluster_id, Identify.ServerCommandDefs.identify.id, b"\x00", general=False,
              ddr=ddr, what="Identify cut short inside its 2-byte IdentifyTime")


#: How long TC-ZCL-1.9 asks the DUT to identify (s).
IDENTIFY_SECONDS = 60


def _identify_for_a_minute(bench, testbed, ddr: bool) -> None:
    testbed.notes["identify_sent_at"] = bench.clock.monotonic()
    _exchange(bench, testbed, Identify.cluster_id, Identify.ServerCommandDefs.identify.id,
              t.uint16_t(IDENTIFY_SECONDS).serialize(), general=False, ddr=ddr,
              what=f"Identify (IdentifyTime {IDENTIFY_SECONDS})")


def _identify_query(bench, testbed, ddr: bool) -> None:
    testbed.notes["identify_query_sent_at"] = bench.clock.monotonic()
    _exchange(bench, testbed, Identify.cluster_id, Identify.ServerCommandDefs.identify_query.id, b"", general=False,
              ddr=ddr, what="Identify Query")


STIMULI: dict[str, Callable[..., None]] = {
    "Identify with IdentifyTime 0": _identify,
    f"Identify with IdentifyTime {IDENTIFY_SECONDS}": _identify_for_a_minute,
    "Identify Query": _identify_query,
    "Read Attributes of Basic ZCLVersion": _read_zcl_version,
    "an unsupported Basic cluster command": _unsupported_basic_command,
    "Read Attributes on a server cluster the DUT's endpoint lacks": _unknown_cluster,
    "Identify with an unknown manufacturer code": _manufacturer_identify,
    "Identify cut short inside IdentifyTime": _truncated_identify,
}
_STIMULUS = "|".join(STIMULI)


@when(parsers.re(rf"the golden radio sends (?P<stimulus>{_STIMULUS})(?: to the DUT)?, Disable Default Response "
                 r"(?P<ddr>set|clear)"))
def send(bench, testbed, stimulus, ddr):
    STIMULI[stimulus](bench, testbed, ddr == "set")


# -- judging ------------------------------------------------------------------------------------------------------

def _default_responses(testbed) -> list[Answer]:
    return [a for a in testbed.notes["answers"] if a.is_default_response]


@then("the DUT sends no Default Response within the response time")
def no_default_response(bench, testbed):
    sent, answers = testbed.notes["sent"], testbed.notes["answers"]
    check(not _default_responses(testbed),
          expected=f"no Default Response {_sent_text(sent)} within {_response_time(bench):g} s: it succeeded and "
          "set Disable Default Response", observed=_observed(answers), rule=RULE_DDR)


def _judge_default_response(bench, testbed, statuses: list[Status]) -> None:
    sent: Sent = testbed.notes["sent"]
    answers: list[Answer] = testbed.notes["answers"]
    names = " or ".join(f"{s.name} (0x{int(s):02X})" for s in statuses)
    defaults = _default_responses(testbed)
    check(len(defaults) == 1,
          expected=f"exactly one Default Response {_sent_text(sent)} within {_response_time(bench):g} s, status "
          f"{names}", observed=_observed(answers), rule=RULE_DDR)
    others = [a for a in answers if not a.is_default_response]
    check(not others, expected=f"no frame but the Default Response {_sent_text(sent)}", observed=_observed(answers),
          rule="ZCL 07-5123 2.5.12.2: a refused command gets its Default Response and nothing else")
    answer = defaults[0]
    frame = answer.frame
    assert frame is not None
    fc = frame.header.frame_control
    problems = []
    if frame.tsn != sent.tsn:
        problems.append(f"sequence number 0x{frame.tsn:02X}, the request's is 0x{sent.tsn:02X}")
    if fc.direction != Direction.Server_to_Client:
        problems.append(f"direction {fc.direction.name}, a server's answer goes Server_to_Client")
    if not fc.disable_default_response:
        problems.append("Disable Default Response clear, set in every response")
    if frame.manufacturer is not None and frame.manufacturer != sent.manufacturer:
        problems.append(f"manufacturer code 0x{frame.manufacturer:04X}, the request's is "
                        f"{'none' if sent.manufacturer is None else f'0x{sent.manufacturer:04X}'}")
    if len(frame.payload) != 2:
        problems.append(f"payload of {len(frame.payload)} bytes, a Default Response has 2 (command id, status)")
    else:
        command_id, status = frame.payload[0], frame.payload[1]
        if command_id != sent.command_id:
            problems.append(f"command id 0x{command_id:02X}, the request's is 0x{sent.command_id:02X}")
        if status not in {int(s) for s in statuses}:
            problems.append(f"status {_status_name(status)}, expected {names}")
    if answer.src_ep != bench.dut_profile.endpoint or answer.dst_ep != ESI_ENDPOINT:
        problems.append(f"endpoints {answer.src_ep}->{answer.dst_ep}, the request went "
                        f"{ESI_ENDPOINT}->{bench.dut_profile.endpoint}")
    if answer.profile_id != SE_PROFILE_ID:
        problems.append(f"profile 0x{answer.profile_id:04X}, the request's is 0x{SE_PROFILE_ID:04X}")
    check(not problems,
          expected=f"a Default Response {_sent_text(sent)} with its sequence number and command id, status {names}, "
          "direction Server_to_Client, Disable Default Response set, no other manufacturer code, on the request's "
          "endpoints and profile",
          observed=f"{answer.describe()}: " + "; ".join(problems) if problems else answer.describe(),
          rule=RULE_FIELDS)


def _status_name(value: int) -> str:
    try:
        return f"{Status(value).name} (0x{value:02X})"
    except ValueError:
        return f"0x{value:02X}"


@then(parsers.re(r"the DUT answers with one Default Response with status (?P<statuses>[A-Z_]+(?: or [A-Z_]+)*)$"))
def one_default_response(bench, testbed, statuses):
    _judge_default_response(bench, testbed, [Status[name] for name in statuses.split(" or ")])


@then("the DUT answers with one Read Attributes Response and no Default Response")
def response_without_default(bench, testbed):
    sent: Sent = testbed.notes["sent"]
    answers: list[Answer] = testbed.notes["answers"]
    responses = [a for a in answers if a.frame is not None and a.frame.is_general
                 and a.frame.command_id == GeneralCommand.Read_Attributes_rsp and a.frame.tsn == sent.tsn]
    check(len(responses) == 1, expected=f"one Read Attributes Response {_sent_text(sent)}",
          observed=_observed(answers), rule="ZCL 07-5123 2.5.2: Read Attributes Response")
    check(not _default_responses(testbed),
          expected=f"no Default Response {_sent_text(sent)}: its Read Attributes Response answers it",
          observed=_observed(answers), rule="ZCL 07-5123 2.5.12.2: no Default Response where another response is "
          "sent")


RULE_IDENTIFY_QUERY = ("ZCL 07-5123 3.5.2.3.2 (Identify Query): a device that is identifying answers with "
                       "Identify Query Response (3.5.2.4.1), its Timeout the seconds it will go on identifying; one "
                       "that is not identifying sends no Identify Query Response")


def _identify_query_responses(testbed) -> list[Answer]:
    sent: Sent = testbed.notes["sent"]
    return [a for a in testbed.notes["answers"] if a.frame is not None and not a.frame.is_general
            and a.frame.command_id == Identify.ClientCommandDefs.identify_query_response.id
            and a.frame.tsn == sent.tsn]


@then("the DUT answers with one Identify Query Response whose Timeout is the identify time remaining")
def identify_query_answered(bench, testbed):
    sent: Sent = testbed.notes["sent"]
    responses = _identify_query_responses(testbed)
    check(len(responses) == 1, expected=f"one Identify Query Response {_sent_text(sent)}",
          observed=_observed(testbed.notes["answers"]), rule=RULE_IDENTIFY_QUERY)
    frame = responses[0].frame
    assert frame is not None
    elapsed = testbed.notes["identify_query_sent_at"] - testbed.notes["identify_sent_at"]
    # IdentifyTime counts down once a second (ZCL 3.5.2.2.1): a second either way for where the count stood when
    # the query arrived.
    lowest = max(0, IDENTIFY_SECONDS - int(elapsed) - 1)
    highest = min(IDENTIFY_SECONDS, IDENTIFY_SECONDS - int(elapsed) + 1)
    timeout = int.from_bytes(frame.payload[:2], "little") if len(frame.payload) == 2 else None
    check(timeout is not None and lowest <= timeout <= highest and frame.direction == Direction.Server_to_Client,
          expected=f"a 2-byte Timeout from {lowest} to {highest} s ({IDENTIFY_SECONDS} s asked "
          f"{elapsed:.0f} s before the query, counted down once a second), server to client",
          observed=f"{responses[0].describe()}: Timeout {timeout if timeout is not None else 'absent'}",
          rule=RULE_IDENTIFY_QUERY)


@then("the DUT sends no Identify Query Response")
def identify_query_unanswered(bench, testbed):
    sent: Sent = testbed.notes["sent"]
    check(not _identify_query_responses(testbed),
          expected=f"no Identify Query Response {_sent_text(sent)}: the DUT no longer identifies",
          observed=_observed(testbed.notes["answers"]), rule=RULE_IDENTIFY_QUERY)


# -- attribute reporting ------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Report:
    """A Report Attributes frame from the DUT: when the golden heard it, and its records."""

    at: float
    attributes: dict[int, tuple[int, object]]  # attribute id -> (data type id, value)


def _summation():
    from harness.se.clusters import Metering

    return Metering, load_datamodel().cluster(Metering.cluster_id).attribute(
        Side.SERVER, Metering.AttributeDefs.current_summation_delivered.id)


@when(parsers.parse("the golden radio configures the DUT to report CurrentSummationDelivered every {low:d} to "
                    "{high:d} s on a change of {change:d}"))
def configure_reporting(bench, testbed, low, high, change):
    from harness.zcl.engine import report_reporting_config

    metering, attr = _summation()
    nwk = dut_nwk(testbed)
    reports: list[Report] = []

    def heard(packet: t.ZigbeePacket, attributes: list) -> None:
        if packet.src is not None and packet.src.address == nwk and int(packet.cluster_id) == metering.cluster_id:
            reports.append(Report(bench.clock.monotonic(),
                                  {int(a.attrid): (int(a.value.type), a.value.value) for a in attributes}))

    testbed.notes["unsubscribe_reports"] = testbed.golden.engine.on_report(heard)
    testbed.notes["reports"] = reports
    config = report_reporting_config(attr.id, attr.type_id, low, high, change)
    testbed.notes["reporting"] = (attr, low, high, change)
    testbed.notes["configured_at"] = bench.clock.monotonic()
    try:
        testbed.notes["configure_records"] = bench.run(testbed.golden.engine.configure_reporting(
            nwk, bench.dut_profile.endpoint, metering.cluster_id, [config], src_ep=ESI_ENDPOINT,
            timeout=ZCL_TIMEOUT))
    except (ZclStatusError, ZclTimeout) as exc:
        check(False, expected="a Configure Reporting Response", observed=str(exc),
              rule="ZCL 07-5123 2.5.8: Configure Reporting Response")


@then("the DUT answers Configure Reporting Response with status SUCCESS")
def configure_success(testbed):
    configure_reporting_succeeded(testbed.notes["configure_records"])


@then("Read Reporting Configuration returns that configuration with the data model's type")
def read_back(bench, testbed):
    metering, _ = _summation()
    attr, low, high, change = testbed.notes["reporting"]
    try:
        records = bench.run(testbed.golden.engine.read_reporting_configuration(
            dut_nwk(testbed), bench.dut_profile.endpoint, metering.cluster_id, [attr.id], src_ep=ESI_ENDPOINT,
            timeout=ZCL_TIMEOUT))
    except (ZclStatusError, ZclTimeout) as exc:
        check(False, expected="a Read Reporting Configuration Response", observed=str(exc),
              rule="ZCL 07-5123 2.5.10: Read Reporting Configuration Response")
    expected = (f"one record for attribute 0x{attr.id:04X}: SUCCESS, data type 0x{attr.type_id:02X} ({attr.type}), "
                f"minimum {low} s, maximum {high} s, reportable change {change}")
    observed = "; ".join(
        f"{r.status.name} attribute 0x{int(r.config.attrid):04X} type {_hex(getattr(r.config, 'datatype', None))} "
        f"min {getattr(r.config, 'min_interval', None)} max {getattr(r.config, 'max_interval', None)} change "
        f"{getattr(r.config, 'reportable_change', None)}" for r in records) or "no record"
    ok = (len(records) == 1 and records[0].status == Status.SUCCESS and int(records[0].config.attrid) == attr.id
          and int(records[0].config.datatype) == attr.type_id and int(records[0].config.min_interval) == low
          and int(records[0].config.max_interval) == high and int(records[0].config.reportable_change) == change)
    check(ok, expected=expected, observed=observed,
          rule="ZCL 07-5123 2.5.10: Read Reporting Configuration Response (the configuration in force)")


def _hex(value: object) -> str:
    return f"0x{int(value):02X}" if isinstance(value, int) else "none"  # type: ignore[arg-type]


@then(parsers.parse("the DUT reports CurrentSummationDelivered at least every {high:d} s"))
def reports_in_time(bench, testbed, high):
    attr = testbed.notes["reporting"][0]
    tolerance = bench.pixit_seconds("timing_tolerance", 2)
    start = testbed.notes["configured_at"]
    try:
        bench.run(bench.clock.sleep(max(0.0, start + 2 * (high + tolerance) - bench.clock.monotonic()),
                                    "the DUT's reports"))
    finally:
        testbed.notes.pop("unsubscribe_reports")()
    reports: list[Report] = testbed.notes["reports"]
    heard = "; ".join(f"{r.at - start:.1f} s: {r.attributes}" for r in reports) or "no Report Attributes"
    times = [start] + [r.at for r in reports]
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    check(len(reports) >= 2 and all(gap <= high + tolerance for gap in gaps),
          expected=f"Report Attributes at least every {high} s (+{tolerance:g} s) over {2 * (high + tolerance):g} s "
          "after the configuration", observed=heard,
          rule="ZCL 07-5123 2.5.11: a configured attribute is reported at the latest every maximum interval")
    bad = [f"{r.at - start:.1f} s: {r.attributes}" for r in reports
           if attr.id not in r.attributes or r.attributes[attr.id][0] != attr.type_id]
    check(not bad, expected=f"each report carries attribute 0x{attr.id:04X} with data type 0x{attr.type_id:02X}",
          observed="; ".join(bad), rule="ZCL 07-5123 2.5.11: Report Attributes; SE data model")

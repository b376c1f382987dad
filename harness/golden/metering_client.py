"""The golden's Simple Metering client: what a utility's metering head end or an IHD asks a meter, with what the
DUT answered recorded for the judges (harness/verify/metering.py).

It reads the register while a case waits (each reading with the bench time its request left and its answer
arrived; with InstantaneousDemand beside it, both from one Read Attributes request), collects the DUT's Report
Attributes, and sends Get Profile and Request Fast Poll Mode, decoding their responses (a Default Response or a payload that does not decode fails the case, with its bytes).
"""

from __future__ import annotations

import dataclasses

import zigpy.types as t
from zigpy.zcl.foundation import GeneralCommand, Status

from harness.clock import Clock
from harness.errors import DutRefused
from harness.se.clusters import Metering
from harness.se.datamodel import Side
from harness.zcl.frame import decode_cluster_command, decode_general

from .esi.common import utc_seconds

SUMMATION = Metering.AttributeDefs.current_summation_delivered.id
DEMAND = Metering.AttributeDefs.instantaneous_demand.id
_NAMES: dict[int, str] = {SUMMATION: "CurrentSummationDelivered", DEMAND: "InstantaneousDemand"}


@dataclasses.dataclass(frozen=True)
class Reading:
    """One read of the DUT's register: ZCL UTC (fractional) when the request left and the answer arrived."""

    sent: float
    arrived: float
    value: int


@dataclasses.dataclass(frozen=True)
class DemandReading(Reading):
    """CurrentSummationDelivered (*value*) and InstantaneousDemand (*demand*, signed raw units) read in one request."""

    demand: int


@dataclasses.dataclass(frozen=True)
class Report:
    """One Report Attributes record of the summation: ZCL UTC (fractional) of its arrival, its value and data type."""

    at: float
    value: int
    type_id: int


class MeteringClient:
    """The golden's Metering client towards the DUT's server on (*nwk*, *endpoint*)."""

    def __init__(self, golden, clock: Clock, nwk: int, endpoint: int, *, src_ep: int, timeout: float) -> None:
        self.golden = golden
        self.clock = clock
        self.nwk = nwk
        self.endpoint = endpoint
        self.src_ep = src_ep
        self.timeout = timeout

    async def read(self, attr_ids: list[int]) -> dict[int, object]:
        """Read Attributes records by attribute id (several requests for many attributes)."""
        records: dict[int, object] = {}
        for start in range(0, len(attr_ids), 8):
            for record in await self.golden.engine.read_attributes(
                    self.nwk, self.endpoint, Metering.cluster_id, attr_ids[start:start + 8], src_ep=self.src_ep,
                    target=Side.SERVER, timeout=self.timeout):
                records[int(record.attrid)] = record
        return records

    async def _read_served(self, attr_ids: list[int], rule: str) -> tuple[float, float, dict[int, int]]:
        """Read *attr_ids* in one request: when it left, when its answer arrived, and each value; an attribute not
        served fails the case."""
        sent = utc_seconds(self.clock)
        records = await self.read(attr_ids)
        arrived = utc_seconds(self.clock)
        for attr_id in attr_ids:
            record = records.get(attr_id)
            if record is None or record.status != Status.SUCCESS:  # type: ignore[attr-defined]
                name = _NAMES.get(attr_id, f"attribute 0x{attr_id:04X}")
                raise DutRefused(f"{name} not served", expectation=f"Read Attributes Response record SUCCESS for "
                                 f"{name} (0x{attr_id:04X})", observation=repr(record), rule=rule)
        return sent, arrived, {a: int(records[a].value.value) for a in attr_ids}  # type: ignore[attr-defined]

    async def read_summation(self) -> Reading:
        sent, arrived, values = await self._read_served(
            [SUMMATION], "SE 1.x Annex D.3.2.2.1: CurrentSummationDelivered is mandatory")
        return Reading(sent, arrived, values[SUMMATION])

    async def read_demand(self) -> DemandReading:
        """CurrentSummationDelivered and InstantaneousDemand of one moment (one request)."""
        sent, arrived, values = await self._read_served(
            [SUMMATION, DEMAND], "SE 1.x Annex D.3.2.2.1; the DUT's PICS claim InstantaneousDemand (0x0400)")
        return DemandReading(sent, arrived, values[SUMMATION], values[DEMAND])

    async def sample(self, seconds: float, every: float, readings: list, *, demand: bool = False) -> None:
        """Read the register (with InstantaneousDemand beside it when *demand*) every *every* s for *seconds* s,
        appending each reading (the first at once)."""
        end = self.clock.monotonic() + seconds
        while True:
            readings.append(await (self.read_demand() if demand else self.read_summation()))
            left = end - self.clock.monotonic()
            if left <= 0:
                return
            await self.clock.sleep(min(every, left), "reading the meter")

    def collect_reports(self, reports: list[Report]):
        """Append each summation record the DUT reports; returns the unsubscribe."""
        def heard(packet: t.ZigbeePacket, attributes: list) -> None:
            if packet.src is None or packet.src.address != self.nwk or int(packet.cluster_id) != Metering.cluster_id:
                return
            for attribute in attributes:
                if int(attribute.attrid) == SUMMATION:
                    reports.append(Report(utc_seconds(self.clock), int(attribute.value.value),
                                          int(attribute.value.type)))

        return self.golden.engine.on_report(heard)

    async def command(self, request_def, response_def, payload) -> object:
        """Send a Metering client command and decode the DUT's cluster response to it."""
        frame = await self.golden.engine.command(
            self.nwk, self.endpoint, Metering.cluster_id, request_def.id, payload, src_ep=self.src_ep,
            response=response_def.id, timeout=self.timeout)
        assert frame is not None  # a response is awaited
        if frame.is_general and frame.command_id == GeneralCommand.Default_Response:
            status = decode_general(frame).status
            raise DutRefused(f"{request_def.name}: Default Response {Status(status).name}",
                             expectation=f"a {response_def.name} command", observation=f"Default Response "
                             f"{Status(status).name} (raw {frame.raw.hex()})",
                             rule=f"SE 1.x Annex D.3.3: the Metering server answers {request_def.name} with "
                             f"{response_def.name}")
        return decode_cluster_command(frame, response_def)

    async def get_profile(self, channel: int, end_time: int, periods: int):
        defs = Metering.ServerCommandDefs
        payload = defs.get_profile.schema(interval_channel=channel, end_time=end_time, number_of_periods=periods)
        return await self.command(defs.get_profile, Metering.ClientCommandDefs.get_profile_response, payload)

    async def request_fast_poll(self, period: int, duration: int):
        defs = Metering.ServerCommandDefs
        payload = defs.request_fast_poll_mode.schema(fast_poll_update_period=period, duration=duration)
        return await self.command(defs.request_fast_poll_mode,
                                  Metering.ClientCommandDefs.request_fast_poll_mode_response, payload)


async def sample_while(client: MeteringClient, seconds: float, every: float, *, demand: bool = False) -> list:
    readings: list = []
    await client.sample(seconds, every, readings, demand=demand)
    return readings


__all__ = ["DEMAND", "SUMMATION", "DemandReading", "MeteringClient", "Reading", "Report", "sample_while"]

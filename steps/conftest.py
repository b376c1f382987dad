"""Steps shared by every feature: the network, the DUT's factory state and the commissioned DUT."""

from __future__ import annotations

from pytest_bdd import given, parsers, when

from harness.errors import BenchFault
from harness.strategy import commission
from harness.verdict import check


def dut_nwk(testbed) -> int:
    nwk = testbed.dut_nwk
    check(nwk is not None, expected="the DUT has a network address from an earlier step",
          observed="the DUT never joined in this scenario", rule="scenario precondition")
    return nwk


@given("the golden Trust Center has formed the Smart Energy network")
def network_formed(bench, testbed):
    info = testbed.app.state.network_info
    check(int(info.pan_id) == bench.bench_profile.pan_id and int(info.channel) == bench.bench_profile.channel,
          expected=f"the golden network on channel {bench.bench_profile.channel}, PAN 0x{bench.bench_profile.pan_id:04X}",
          observed=f"channel {info.channel}, PAN 0x{int(info.pan_id):04X}", rule="bench profile")


@given("the Smart Energy network is up, formed as the DUT profile's network role says")
def network_up(bench, testbed):
    """The golden's network (the golden forms it and is its Trust Center), or the DUT's (it forms it and is the
    Trust Center: it did when it powered up; the golden joins it when the case commissions the DUT)."""
    if not bench.dut_forms_network:
        network_formed(bench, testbed)


@given("the DUT is factory new and has formed its network")
def factory_new_forming(bench, testbed):
    bench.run(testbed.dut.factory_reset(), 30, "factory reset of the DUT")
    testbed.notes["reset_at"] = bench.clock.monotonic()  # what a later step judges "since the reset" from


@given("the DUT is factory new")
def factory_new(bench, testbed):
    bench.run(testbed.dut.factory_reset(), 30, "factory reset of the DUT")


@given("the DUT has joined with its install code")
def dut_joined(bench, testbed):
    join_time = bench.pixit_seconds("join_timeout", 30)
    try:
        testbed.dut_nwk = bench.run(commission(bench, testbed), 2 * join_time + 10, "commissioning")
    except BenchFault:
        raise  # the golden radio's own failure: never the DUT's
    except TimeoutError as exc:
        check(False, expected=f"the DUT joins with its install code and answers ZDO within {join_time:g} s",
              observed=str(exc), rule="SE 1.x 5.4: install-code joining")


def ke_trail(testbed, limit: int = 12) -> str:
    """The golden ESI's Key Establishment events with the DUT, for an observed= text."""
    nwk = testbed.dut_nwk
    events = [e for e in testbed.golden.ke.events if nwk is None or e.partner_nwk == nwk]
    return "; ".join(str(e) for e in events[-limit:]) or "no Key Establishment frame from the DUT"


async def key_established(bench, testbed, since: float, deadline: float):
    """The golden ESI's record of a completed CBKE with the DUT, awaited until *deadline* s after *since*."""
    from harness.ke import KeEventKind

    ieee = testbed.dut_ieee
    remaining = max(0.0, since + deadline - bench.clock.monotonic())
    return await testbed.golden.ke.wait_event(
        lambda e: e.kind is KeEventKind.COMPLETED and e.partner_ieee == ieee and e.at >= since,
        remaining, "key establishment with the DUT")


def key_ready_at(testbed) -> float:
    """When the DUT could first hold its CBKE link key: the last Key Establishment frame between it and the
    golden at or before the golden's COMPLETED event. The golden records COMPLETED only after storing the key
    (on an NCP, clearTemporaryDataMaybeStoreLinkKey after its Confirm Key Response), while the DUT may use the
    key as soon as it has the last frame; "after key establishment" is judged from this moment."""
    from harness.ke import KeEventKind

    completed = testbed.ke_completed
    frames = [e.at for e in testbed.golden.ke.events
              if e.partner_nwk == completed.partner_nwk and e.at <= completed.at
              and e.kind in (KeEventKind.FRAME_SENT, KeEventKind.FRAME_RECEIVED)]
    return max(frames, default=completed.at)


@given("the DUT has joined and completed key establishment")
def dut_joined_with_key(bench, testbed):
    """Commissioned as above, then CBKE with the golden ESI completed; SE frames now use the CBKE link key."""
    dut_joined(bench, testbed)
    dut_key_established(bench, testbed)


@given("the DUT shares the golden's Smart Energy network and a CBKE link key")
def dut_on_network_with_key(bench, testbed):
    """The DUT and the golden are on one SE network and share a CBKE link key, whichever of them formed it: the
    server cases (features/metering, features/esi) do not depend on the DUT's network role. The commissioning
    strategy (harness.strategy.commission) gets there in either role: the DUT joins the golden's network, or the
    golden joins the DUT's as a HAN device and initiates CBKE."""
    dut_joined_with_key(bench, testbed)


@given("the DUT has completed key establishment")
def dut_key_established(bench, testbed):
    """After joining (an earlier step), CBKE with the golden ESI completed: SE frames use the CBKE link key from
    here on, and none is lost to the key changing under it."""
    ke_time = bench.pixit_seconds("ke_timeout", 20)
    joined_at = testbed.join_event.time
    try:
        testbed.ke_completed = bench.run(key_established(bench, testbed, joined_at, ke_time))
    except TimeoutError:
        check(False, expected=f"CBKE between the DUT and the golden ESI completes within {ke_time:g} s of joining",
              observed=ke_trail(testbed), rule="SE 1.x 5.4.7: a joined device establishes its link key by CBKE")


def se_application_cluster(bench):
    """The first SE application cluster (0x0700-0x07FF) and side the DUT claims, as (cluster id, Side): the
    target of the golden's SE probes; None when it claims none."""
    from harness.pics import AREAS, cluster_key
    from harness.se.datamodel import SE_APPLICATION_CLUSTERS, Side

    for cluster_id in sorted(c for c in AREAS if c in SE_APPLICATION_CLUSTERS):
        for side in (Side.SERVER, Side.CLIENT):
            if bench.claims(cluster_key(cluster_id, side)):
                return cluster_id, side
    return None


def attribute_record(records, attr_id: int):
    """The read attribute status record for *attr_id* among *records* (a Read Attributes Response's); None when
    the response has none for it."""
    return next((r for r in records if int(r.attrid) == attr_id), None)


def parse_hex(text: str) -> int:
    return int(text, 16)


HEX = {"value": parse_hex}
__all__ = ["HEX", "attribute_record", "commission", "dut_nwk", "ke_trail", "key_established", "key_ready_at", "dut_peer", "dut_request", "parsers", "pixit_count",
           "se_application_cluster"]


# -- application clusters (issue 6) ------------------------------------------------------------------------

def pixit_count(bench, name: str, default: int) -> int:
    """A count PIXIT (`6 count`), from --pixit or the DUT profile."""
    from harness.profiles import parse_pixit

    value = bench.options.pixit.get(name)
    pixit = parse_pixit(str(value)) if value is not None else bench.dut_profile.pixit.get(name)
    return int(pixit.value) if pixit is not None else default


@given("the DUT has started its applications")
def applications_started(bench, testbed):
    """After joining (and CBKE) the DUT takes the ESI's time and asks for what it missed; give it the PIXIT time."""
    bench.run(bench.clock.sleep(bench.pixit_seconds("app_start_time", 10)))


def dut_peer(bench, testbed):
    """The DUT's SE endpoint, as the golden ESI services address it."""
    from harness.golden.esi import Peer

    return Peer(dut_nwk(testbed), bench.dut_profile.endpoint)


async def dut_request(bench, testbed, cluster_id: int, command_id: int, *, general: bool, since: float,
                      timeout: float):
    """The first frame the DUT sent the golden ESI on *cluster_id* with *command_id* at or after *since*
    (bench clock), awaited until *timeout* s after *since*; None when none came."""
    nwk = dut_nwk(testbed)
    deadline = since + timeout
    while True:
        for access in testbed.golden.meter.accesses_from(nwk, since):
            if access.cluster_id == cluster_id and access.command_id == command_id and access.general == general:
                return access
        now = bench.clock.monotonic()
        if now >= deadline:
            return None
        await bench.clock.sleep(min(0.25, deadline - now))


@when(parsers.parse("the ESI publishes price {event_id:d} starting now until changed, asking for acknowledgement"))
def publish_price_now(bench, testbed, event_id):
    from harness.golden.esi import PriceEvent
    from harness.se.types import PriceControl

    price = PriceEvent(event_id, price=1000 + event_id, price_control=int(PriceControl.Acknowledgement_Required))
    testbed.notes.setdefault("prices", {})[event_id] = price
    bench.run(testbed.golden.price.publish(dut_peer(bench, testbed), price), 30, f"publishing price {event_id}")


@when(parsers.parse("the ESI displays message {message_id:d} starting now until changed, {asking} for confirmation"))
def display_message(bench, testbed, message_id, asking):
    from harness.golden.esi import Message
    from harness.se.types import CONFIRMATION_REQUIRED

    control = CONFIRMATION_REQUIRED if asking == "asking" else 0x00
    message = Message(message_id, f"Test message {message_id}", message_control=control)
    bench.run(testbed.golden.messaging.display(dut_peer(bench, testbed), message), 30,
              f"displaying message {message_id}")


@when(parsers.parse("the user confirms message {message_id:d}"))
def user_confirms(bench, testbed, message_id):
    testbed.notes.setdefault("confirmed_at", {})[message_id] = bench.clock.monotonic()
    bench.run(testbed.dut.confirm_message(message_id), 30, f"the user confirming message {message_id}")


def configure_reporting_succeeded(records) -> None:
    """The Configure Reporting Response to a request of one record: that record, status SUCCESS (a response
    whose every record succeeded may also be that one record, ZCL 2.5.8)."""
    from zigpy.zcl.foundation import Status

    check(len(records) == 1 and records[0].status == Status.SUCCESS,
          expected="one Configure Reporting Response record with status SUCCESS (every record succeeded)",
          observed="; ".join(f"{r.status.name} attribute {r.attrid}" for r in records) or "no record",
          rule="ZCL 07-5123 2.5.8: Configure Reporting Response")


#: Seconds in each unit a scenario lets network time pass in.
_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600}


@when(parsers.re(r"(?P<count>\d+) (?P<unit>second|minute|hour)s? of network time pass(es)?"))
def time_passes(bench, count, unit):
    """Network time passes on the bench clock (virtual on a simulated bench, so hours take seconds)."""
    bench.run(bench.clock.sleep(int(count) * _UNIT_SECONDS[unit]))

"""Steps of features/trust_center: the DUT forms the network and is its Trust Center; the golden plays the HAN
devices (harness.testbed.HanDevice) and judges what the DUT sent them from the capture (harness.verify.trust_center).
"""

from __future__ import annotations

from pytest_bdd import given, parsers, then, when
from zigpy.zdo.types import ZDOCmd

from harness.bdd import certification_cases
from harness.crypto import WELL_KNOWN_TC_LINK_KEY, InstallCode
from harness.errors import DutSilent
from harness.strategy import (
    COORDINATOR_NWK,
    admit_han_device,
    generated_han_devices,
    learn_network_keys,
    profile_han_device,
)
from harness.testbed import BenchError
from harness.verdict import check
from harness.verify.trust_center import (
    RULE_KEY_UPDATE,
    RULE_LEAVE,
    RULE_REJOIN,
    RULE_REMOVE,
    RULE_TRANSPORT_KEY,
    RULE_WELL_KNOWN,
    aps_commands,
    aps_commands_after_leaving,
    beacons_permitting,
    judge_network_key_delivery,
    judge_switch_key,
    leave_requests,
    leaves_from,
    network_key_in_use,
    network_keys_under_well_known_key,
    rejoin_responses,
    remove_device_frames,
)
from harness.wire.frames.aps import KeyType, RemoveDevice, SwitchKey, TransportKey
from harness.wire.frames.nwk import RejoinStatus
from harness.wire.security import KeyId

from .conftest import dut_joined_with_key

certification_cases("../features/trust_center")

RULE_ADMISSION = ("SE 1.x 5.4.1 and Zigbee 4.6.3.2: the Trust Center admits a device only with the link key of "
                  "the install code it was given for it, and only while it permits joining")
RULE_WINDOW = ("Zigbee 2.4.3.3.7 (Mgmt_Permit_Joining_req) and 3.6.1.4.1: joining is permitted for the time the "
               "window was opened for, and not outside it; 802.15.4-2006 7.5.3.1: association permit off, no "
               "association")
RULE_SECURED_REJOIN = ("Zigbee 3.6.1.4.2 and 4.3.1: a device that holds the network key rejoins with a NWK-secured "
                       "Rejoin Request and is answered in kind; only a Trust Center rejoin goes unsecured (4.6.3.6)")
RULE_LEFT = ("Zigbee 3.4.4 and 3.6.1.10: a device that leaves (NWK Leave, rejoin clear) is off the network, and its "
             "parent and Trust Center forget it with the incoming NWK frame counter they kept for it (ZBOSS "
             "zb_nlme_leave_indication: zb_nwk_forget_device; zigbee-on-host processLeave: disassociate); a device "
             "that joins again afresh starts its counters from 0 (EmberZNet setInitialSecurityState resets them)")
RULE_LEFT_KEY = ("Zigbee 4.6.3.4: a network key update sends the new key to the devices on the network; a device that "
                 "left on its own (NWK Leave, rejoin clear, Zigbee 3.4.4) is not one, and gets nothing under its link "
                 "key until it joins again")
FIFTY = 50


# -- who the HAN devices are --------------------------------------------------------------------------------------

def _han(bench, testbed, number: int):
    """HAN device *number* of the profile, as the bench's HAN device (made on first use)."""
    device = profile_han_device(bench, number)
    return bench.run(bench.han_device(testbed, device.ieee_value, device.install_code_value.link_key), 10)


def _notes(testbed) -> dict:
    return testbed.notes.setdefault("trust_center", {})


def _frames(testbed):
    testbed.pull_frames()
    return testbed.frames


def _join_time(bench) -> float:
    return bench.pixit_seconds("join_timeout", 30)


def _window(bench) -> int:
    return int(bench.pixit_seconds("tc_permit_window", 60))


def _tolerance(bench) -> float:
    return bench.pixit_seconds("timing_tolerance", 2)


# -- the DUT's Trust Center, through its head end -------------------------------------------------------------

@given(parsers.parse("the DUT's Trust Center holds the install code of HAN device {number:d}"))
@when(parsers.parse("the DUT's Trust Center holds the install code of HAN device {number:d}"))
def holds_install_code(bench, testbed, number):
    device = profile_han_device(bench, number)
    _han(bench, testbed, number)
    bench.run(testbed.dut.add_install_code(device.ieee_value, device.install_code_value), 30,
              "giving the DUT's Trust Center an install code")


@given(parsers.parse("the DUT's Trust Center holds no install code for HAN device {number:d}"))
def holds_no_install_code(bench, testbed, number):
    _han(bench, testbed, number)  # the device exists; its code is never given to the DUT


@given(parsers.parse("HAN device {number:d} is commissioned with a different install code"))
def commissioned_other_code(bench, testbed, number):
    han = _han(bench, testbed, number)
    other = InstallCode(testbed.random.token_bytes(16, "install-codes"))
    while other.link_key == han.link_key:
        other = InstallCode(testbed.random.token_bytes(16, "install-codes"))
    han.commission(other.link_key)
    testbed.keyring.add_link_key(han.ieee, other.link_key)


@given(parsers.parse("HAN device {number:d} is commissioned with a {length:d}-byte install code that the DUT's "
                     "Trust Center holds"))
def commissioned_code_of_length(bench, testbed, number, length):
    han = _han(bench, testbed, number)
    code = InstallCode(testbed.random.token_bytes(length, "install-codes"))  # a label of that length
    han.commission(code.link_key)
    testbed.keyring.add_link_key(han.ieee, code.link_key)
    bench.run(testbed.dut.add_install_code(han.ieee, code), 30, "giving the DUT's Trust Center an install code")


@given(parsers.parse('HAN device {number:d} is commissioned with the well-known key "ZigBeeAlliance09" only'))
def commissioned_well_known(bench, testbed, number):
    han = _han(bench, testbed, number)
    han.commission(WELL_KNOWN_TC_LINK_KEY)


@given("the DUT's Trust Center permits joining for the PIXIT permit window")
@when("the DUT's Trust Center permits joining for the PIXIT permit window")
def permits_joining(bench, testbed):
    window = _window(bench)
    bench.run(testbed.dut.permit_joining(window), 30, "opening the DUT's permit-join window")
    _notes(testbed)["window"] = (bench.clock.monotonic(), window)


def _window_opened(testbed) -> tuple[float, int]:
    window = _notes(testbed).get("window")
    if window is None:
        raise BenchError("the scenario never opened the DUT's permit-join window")
    return window


@when("the permit window has closed by the PIXIT timing tolerance")
def window_closed(bench, testbed):
    opened, seconds = _window_opened(testbed)
    bench.run(bench.clock.sleep(max(0.0, opened + seconds + _tolerance(bench) - bench.clock.monotonic())))


@when("all but the PIXIT timing tolerance of the permit window has passed")
def window_almost_over(bench, testbed):
    opened, seconds = _window_opened(testbed)
    bench.run(bench.clock.sleep(max(0.0, opened + seconds - _tolerance(bench) - bench.clock.monotonic())))


@given(parsers.parse("HAN device {number:d} has joined the DUT's network"))
def han_joined(bench, testbed, number):
    device = profile_han_device(bench, number)
    since = bench.clock.monotonic()
    admitted = bench.run(admit_han_device(bench, testbed, device), 2 * _join_time(bench) + 30, "joining the DUT")
    han = testbed.han[device.ieee_value]
    check(admitted, expected=f"HAN device {number} is admitted with its install code within {_join_time(bench):g} s",
          observed=f"it was not ({han.failure})", rule=RULE_ADMISSION)
    _notes(testbed).setdefault("joined_at", {})[number] = since


@given(parsers.parse("HAN device {number:d} has joined the DUT's network as an end device"))
def han_joined_end_device(bench, testbed, number):
    device = profile_han_device(bench, number)
    han = bench.run(bench.han_device(testbed, device.ieee_value, device.install_code_value.link_key,
                                     end_device=True), 10)
    admitted = bench.run(admit_han_device(bench, testbed, device), 2 * _join_time(bench) + 30, "joining the DUT")
    check(admitted, expected=f"HAN device {number} is admitted as an end device with its install code",
          observed=f"it was not ({han.failure})", rule=RULE_ADMISSION)


@when("the DUT's Trust Center updates the network key")
def updates_network_key(bench, testbed):
    han = _han(bench, testbed, 1)
    notes = _notes(testbed)
    notes["before_update"] = (han.active_key_seq, han.network_keys().get(han.active_key_seq))
    notes["update_at"] = bench.clock.monotonic()
    bench.run(testbed.dut.update_network_key(), 30, "asking the DUT's Trust Center to update the network key")
    # The whole PIXIT time: every Transport Key and Switch Key the update sends is on the air by then.
    bench.run(bench.clock.sleep(bench.pixit_seconds("tc_key_update_time", 30)))
    learn_network_keys(testbed)


@when(parsers.parse("the DUT's Trust Center removes HAN device {number:d}"))
def removes_device(bench, testbed, number):
    han = _han(bench, testbed, number)
    _notes(testbed)["remove_at"] = bench.clock.monotonic()
    bench.run(testbed.dut.remove_device(han.ieee), 30, "asking the DUT's Trust Center to remove a device")
    # APS delivery with its retries (Zigbee: apscMaxFrameRetries 3, each after apsAckWaitDuration) and the leave.
    bench.run(bench.clock.sleep(bench.pixit_seconds("response_time", 5) + 10))


# -- the HAN devices act ------------------------------------------------------------------------------------------

def _join(bench, testbed, number: int, *, insistent: bool) -> None:
    han = _han(bench, testbed, number)
    notes = _notes(testbed)
    notes.setdefault("join_at", {})[number] = bench.clock.monotonic()
    admitted = bench.run(han.join(_join_time(bench), insistent=insistent), _join_time(bench) + 10, "joining")
    notes.setdefault("admitted", {})[number] = admitted
    learn_network_keys(testbed)


@when(parsers.parse("HAN device {number:d} joins the DUT's network"))
def han_joins(bench, testbed, number):
    _join(bench, testbed, number, insistent=False)


@when(parsers.parse("HAN device {number:d} tries to join, associating although the beacons deny joining"))
def han_joins_insistently(bench, testbed, number):
    _join(bench, testbed, number, insistent=True)


def _rejoin(bench, testbed, han, key: str, *, trust_center: bool = True) -> None:
    notes = _notes(testbed)
    notes[f"{key}_at"] = bench.clock.monotonic()
    rejoin_time = bench.pixit_seconds("rejoin_timeout", 30)
    notes[key] = bench.run(han.rejoin(rejoin_time, trust_center=trust_center), rejoin_time + 10, "rejoining")
    learn_network_keys(testbed)


@when(parsers.parse("HAN device {number:d} rejoins secured with the network key it holds"))
def han_rejoins_secured(bench, testbed, number):
    _rejoin(bench, testbed, _han(bench, testbed, number), "rejoined", trust_center=False)


@when(parsers.parse("HAN device {number:d} loses the network key and rejoins through the Trust Center"))
@when(parsers.parse("HAN device {number:d} asks for a Trust Center rejoin of the DUT's network"))
def han_rejoins(bench, testbed, number):
    _rejoin(bench, testbed, _han(bench, testbed, number), "rejoined")


# -- admission ------------------------------------------------------------------------------------------------------

@then(parsers.parse("HAN device {number:d} is admitted within the PIXIT join time"))
def admitted(bench, testbed, number):
    han = _han(bench, testbed, number)
    check(_notes(testbed).get("admitted", {}).get(number) is True,
          expected=f"HAN device {number}, whose install code the Trust Center holds, joins within "
                   f"{_join_time(bench):g} s while joining is permitted",
          observed=f"it did not join ({han.failure})", rule=RULE_ADMISSION)


@then(parsers.parse("HAN device {number:d} is not admitted within the PIXIT join time"))
def not_admitted(bench, testbed, number):
    han = _han(bench, testbed, number)
    check(_notes(testbed).get("admitted", {}).get(number) is False and not han.joined,
          expected=f"HAN device {number} is not admitted (no network key it can open reaches it)",
          observed=f"it joined the DUT's network as 0x{han.nwk or 0:04X}", rule=RULE_ADMISSION)


def _deliveries(testbed, han, since: float, *, link_key: bytes | None = None):
    return [c for c in aps_commands(_frames(testbed), dut_ieee=testbed.dut_ieee, device_ieee=han.ieee,
                                    link_key=link_key or han.link_key, network_keys=testbed.keyring.network_keys,
                                    since=since)
            if isinstance(c.command, TransportKey) and c.command.key_type == KeyType.STANDARD_NETWORK_KEY]


def _judge_deliveries(testbed, han, number: int, since: float, *, joining: bool) -> None:
    deliveries = _deliveries(testbed, han, since)
    check(bool(deliveries), expected=f"a Transport Key of the network key to HAN device {number}, APS-secured with "
                                     "the key-transport key of its install code's link key",
          observed="no APS command from the DUT opens under that key", rule=RULE_TRANSPORT_KEY)
    seq = han.active_key_seq
    for delivery in deliveries:
        problems = judge_network_key_delivery(delivery, dut_ieee=testbed.dut_ieee, device_ieee=han.ieee,
                                              joining=joining, expected_seq=seq)
        assert isinstance(delivery.command, TransportKey)
        if seq is not None and delivery.command.key != han.network_keys().get(seq):
            problems.append("its key is not the key the device holds under that sequence number")
        check(not problems, expected="every field of the Transport Key as the rule states",
              observed="; ".join(problems), rule=RULE_TRANSPORT_KEY)


@then(parsers.parse("HAN device {number:d} got the network key in a Transport Key under its install code's "
                    "key-transport key"))
def got_network_key(bench, testbed, number):
    han = _han(bench, testbed, number)
    _judge_deliveries(testbed, han, number, _notes(testbed).get("join_at", {}).get(number, 0.0), joining=True)


@then("no network key went out under the well-known key")
def none_under_well_known_key(bench, testbed):
    frames = network_keys_under_well_known_key(_frames(testbed), dut_ieee=testbed.dut_ieee)
    check(not frames, expected="no Transport Key of the network key that the well-known key ZigBeeAlliance09 opens",
          observed="; ".join(f"Transport Key to {f.aps_command.dst_ieee:016X} at t={f.timestamp:.3f}s "  # type: ignore[union-attr]
                             f"(frame {f.raw.hex()})" for f in frames[:3]), rule=RULE_WELL_KNOWN)


@then(parsers.parse("no frame from the DUT opens under HAN device {number:d}'s key"))
def nothing_under_other_key(bench, testbed, number):
    han = _han(bench, testbed, number)
    opened = aps_commands(_frames(testbed), dut_ieee=testbed.dut_ieee, device_ieee=han.ieee, link_key=han.link_key,
                          network_keys=testbed.keyring.network_keys)
    check(not opened, expected="nothing from the DUT opens under the key of an install code it was never given",
          observed="; ".join(f"{type(c.command).__name__} (frame {c.bytes_hex()})" for c in opened[:3]),
          rule=RULE_ADMISSION)


@then("the DUT answers a ZDO request from HAN device 1")
def answers_zdo(bench, testbed):
    _ask_ieee_addr(bench, testbed, "the DUT answers IEEE_addr_req from a device it admitted, under the network key "
                                   "it gave it", "Zigbee 2.4.3.1.2 and 4.6.3: a joined device is on the network")


def _ask_ieee_addr(bench, testbed, expected: str, rule: str) -> None:
    _notes(testbed)["zdo_at"] = bench.clock.monotonic()
    try:
        answer = bench.run(testbed.golden.zdo_request(COORDINATOR_NWK, ZDOCmd.IEEE_addr_req, [COORDINATOR_NWK, 0, 0],
                                                      bench.pixit_seconds("response_time", 5)))
    except (TimeoutError, DutSilent) as exc:
        check(False, expected=expected, observed=f"no answer ({exc})", rule=rule)
        return
    ieee = answer.as_dict().get("IEEEAddr")
    check(ieee is not None and int.from_bytes(bytes(ieee), "little") == testbed.dut_ieee,
          expected=f"IEEE_addr_rsp naming the DUT's IEEE {testbed.dut_ieee:016X}", observed=f"{answer.as_dict()}",
          rule="Zigbee 2.4.4.2.1: IEEE_addr_rsp carries the responder's IEEE address")


def _judge_key_in_use(bench, testbed, seq: int | None, key: bytes | None, since: float, what: str) -> None:
    if seq is None or key is None:
        check(False, expected=f"HAN device 1 holds {what}", observed="it holds none", rule=RULE_TRANSPORT_KEY)
        return
    matching, total = network_key_in_use(_frames(testbed), dut_ieee=testbed.dut_ieee, key=key, seq=seq, since=since)
    check(total > 0 and matching == total,
          expected=f"every NWK-secured frame the DUT sent since then under {what} (key sequence number {seq})",
          observed=f"{matching} of {total} frames", rule="Zigbee 4.3.1.1 and 4.5.1.1.2: the active network key and "
                                                          "its sequence number secure every frame")


@then(parsers.parse("the DUT secures its frames with the network key HAN device {number:d} got"))
def key_in_use(bench, testbed, number):
    han = _han(bench, testbed, number)
    seq = han.active_key_seq
    _judge_key_in_use(bench, testbed, seq, han.network_keys().get(seq) if seq is not None else None,
                      _notes(testbed).get("join_at", {}).get(number, 0.0), "the network key it sent the device")


# -- the permit-join window ---------------------------------------------------------------------------------------

@then("the DUT's beacons denied joining outside its window")
def beacons_deny(bench, testbed):
    opened, seconds = _window_opened(testbed)
    since = testbed.notes.get("reset_at", 0.0)
    permitting = [(time, raw) for time, raw, permit in beacons_permitting(_frames(testbed), since=since)
                  if permit and not opened <= time <= opened + seconds]
    check(not permitting, expected=f"Association Permit clear in every beacon outside the window "
                                   f"(opened at t={opened:.1f}s for {seconds} s)",
          observed="; ".join(f"a permitting beacon at t={time:.1f}s (frame {raw.hex()})" for time, raw in permitting[:3]),
          rule=RULE_WINDOW)


# -- network key update -----------------------------------------------------------------------------------------------

@then("within the PIXIT key update time HAN device 1 got a new network key under the next key sequence number")
def got_new_key(bench, testbed):
    han = _han(bench, testbed, 1)
    notes = _notes(testbed)
    old_seq, old_key = notes["before_update"]
    expected_seq = ((old_seq or 0) + 1) & 0xFF
    deliveries = _deliveries(testbed, han, notes["update_at"])
    check(bool(deliveries), expected="a Transport Key of the new network key to the device under its link key",
          observed="none", rule=RULE_KEY_UPDATE)
    delivery = deliveries[0]
    assert isinstance(delivery.command, TransportKey)
    problems = judge_network_key_delivery(delivery, dut_ieee=testbed.dut_ieee, device_ieee=han.ieee, joining=False,
                                          expected_seq=expected_seq)
    if delivery.command.key == old_key:
        problems.append("the 'new' key is the key in use")
    check(not problems, expected=f"the new network key under key sequence number {expected_seq} (the active {old_seq} "
                                 "plus 1), every field as the rule states",
          observed="; ".join(problems), rule=RULE_KEY_UPDATE)
    notes["new_key"] = (expected_seq, delivery.command.key, delivery.frame.timestamp)


@then("HAN device 1 then got Switch Key to that key sequence number under its link key")
def got_switch_key(bench, testbed):
    han = _han(bench, testbed, 1)
    notes = _notes(testbed)
    seq, _key, sent_at = notes["new_key"]
    commands = aps_commands(_frames(testbed), dut_ieee=testbed.dut_ieee, device_ieee=han.ieee, link_key=han.link_key,
                            network_keys=testbed.keyring.network_keys, since=sent_at)
    problems = judge_switch_key(commands, seq=seq)
    check(not problems, expected=f"Switch Key to key sequence number {seq}, APS-secured with the device's link key "
                                 "(data key), after the new key", observed="; ".join(problems), rule=RULE_KEY_UPDATE)
    notes["switch_at"] = next(c.frame.timestamp for c in commands if isinstance(c.command, SwitchKey))


@then("the DUT secures its frames with the new network key since Switch Key")
def new_key_in_use(bench, testbed):
    seq, key, _sent_at = _notes(testbed)["new_key"]
    # From the frame after Switch Key (which itself goes under the key in use until then).
    _judge_key_in_use(bench, testbed, seq, key, _notes(testbed)["switch_at"] + 1e-6, "the new network key")


# -- removal ----------------------------------------------------------------------------------------------------------

@then(parsers.parse("HAN device {number:d} got APS Remove Device naming itself under its link key"))
def got_remove_device(bench, testbed, number):
    han = _han(bench, testbed, number)
    since = _notes(testbed)["remove_at"]
    removes = [c for c in aps_commands(_frames(testbed), dut_ieee=testbed.dut_ieee, device_ieee=han.ieee,
                                       link_key=han.link_key, network_keys=testbed.keyring.network_keys, since=since)
               if isinstance(c.command, RemoveDevice)]
    if not removes:
        other = remove_device_frames(_frames(testbed), dut_ieee=testbed.dut_ieee,
                                     network_keys=testbed.keyring.network_keys, since=since)
        observed = "; ".join(f"Remove Device {'APS-secured under another key' if f.aps_secured else 'without APS security'}"
                             f" (frame {f.raw.hex()})" for f in other[:3]) or "no Remove Device"
        check(False, expected="APS Remove Device to the device, APS-secured with its link key", observed=observed,
              rule=RULE_REMOVE)
        return
    problems = []
    for remove in removes:
        assert isinstance(remove.command, RemoveDevice)
        if remove.command.target_ieee != han.ieee:
            problems.append(f"target address {remove.command.target_ieee:016X}, not the device's {han.ieee:016X}")
        if remove.frame.aps_key_id != KeyId.DATA:
            problems.append(f"key identifier {remove.frame.aps_key_id}, not the data key")
        problems.extend(remove.frame.security_problems())
    check(not problems, expected="Remove Device naming the device, under its link key (data key)",
          observed="; ".join(problems) + f" (frame {removes[0].bytes_hex()})", rule=RULE_REMOVE)


@then(parsers.parse("HAN device {number:d} got a NWK leave request without rejoin, secured with the network key"))
def got_leave_request(bench, testbed, number):
    han = _han(bench, testbed, number)
    requests = leave_requests(_frames(testbed), dut_ieee=testbed.dut_ieee, device_ieee=han.ieee,
                              network_keys=testbed.keyring.network_keys, since=_notes(testbed)["remove_at"])
    check(bool(requests), expected="a NWK leave request from the DUT to the device", observed="none",
          rule=RULE_LEAVE)
    problems = []
    for frame, leave in requests:
        if not leave.request:
            problems.append("the request bit is clear (a leave announcement, not a request)")
        if leave.rejoin:
            problems.append("the rejoin bit is set (the device is told to come back)")
        if leave.remove_children:
            problems.append("the remove-children bit is set")
        if not frame.nwk_secured:
            problems.append("not NWK-secured")
        problems.extend(frame.security_problems())
        problems = [f"{p} (frame {frame.raw.hex()})" for p in problems]
    check(not problems, expected="a leave request with request 1, rejoin 0, remove children 0, under the active "
                                 "network key", observed="; ".join(problems), rule=RULE_LEAVE)


@then(parsers.parse("HAN device {number:d} has left the network"))
def han_left(bench, testbed, number):
    han = _han(bench, testbed, number)
    check(not han.joined, expected=f"HAN device {number} left the network on the Trust Center's removal",
          observed="it is still on the network (it took nothing from the DUT as a removal)", rule=RULE_REMOVE)


# -- a device that leaves on its own ------------------------------------------------------------------------------

@given("HAN device 1, the golden, has joined the DUT's network and established its link key by CBKE")
def golden_joined_with_key(bench, testbed):
    """As an SE device does once admitted (SE 1.x 5.4.7): the golden, the profile's first HAN device, joins with its
    install code and runs CBKE with the DUT's Key Establishment server (the commissioning every server case
    starts from)."""
    dut_joined_with_key(bench, testbed)


def _link_keys_of(testbed, han) -> list[bytes]:
    """Every link key the DUT may hold for a HAN device: its install code's, and the CBKE key the golden learned
    (which the keyring files under its partner, the DUT)."""
    keyring = testbed.keyring
    return [han.link_key, *keyring.link_keys.get(han.ieee, []), *keyring.link_keys.get(testbed.dut_ieee, [])]


def _left(testbed) -> dict:
    left = _notes(testbed).get("left")
    if left is None:
        raise BenchError("the scenario never had a HAN device leave the DUT's network")
    return left


@when(parsers.parse("HAN device {number:d} leaves the DUT's network without rejoin"))
def han_leaves(bench, testbed, number):
    han = _han(bench, testbed, number)
    since, seq = bench.clock.monotonic(), han.active_key_seq
    held = (seq, han.network_keys().get(seq) if seq is not None else None)
    bench.run(han.leave(), 30, "a HAN device leaving")
    # The DUT's PIXIT response time to take the leave in, before whatever the case asks of it next.
    bench.run(bench.clock.sleep(bench.pixit_seconds("response_time", 5)))
    leaves = [(frame, leave) for frame, leave in leaves_from(_frames(testbed), device_ieee=han.ieee,
                                                              network_keys=testbed.keyring.network_keys, since=since)
              if not leave.request and not leave.rejoin]
    if not leaves:  # the golden's own frame: without it on the air there is nothing to judge the DUT by
        raise BenchError(f"HAN device {number} left, but no NWK Leave of it (request and rejoin clear) is in the "
                         "capture")
    frame, _leave = leaves[0]
    assert frame.nwk is not None
    _notes(testbed)["left"] = {"number": number, "at": frame.timestamp, "nwk": frame.nwk.src, "held": held}


@when(parsers.parse("HAN device {number:d} is factory reset"))
def han_factory_reset(bench, testbed, number):
    han = _han(bench, testbed, number)
    bench.run(han.factory_reset(), 30, "a factory reset of a HAN device")


@then(parsers.parse("no key went to HAN device {number:d} since it left"))
def nothing_after_leaving(bench, testbed, number):
    han, left = _han(bench, testbed, number), _left(testbed)
    sent = aps_commands_after_leaving(_frames(testbed), dut_ieee=testbed.dut_ieee, device_ieee=han.ieee,
                                      former_nwk=left["nwk"], link_keys=_link_keys_of(testbed, han),
                                      network_keys=testbed.keyring.network_keys, since=left["at"])
    check(not sent, expected=f"no APS command from the DUT to HAN device {number} after its NWK Leave at "
                             f"t={left['at']:.3f}s: none that a link key of its opens (its install code's, its "
                             "CBKE key: a Transport Key of the new network key, a Switch Key), none to the address "
                             f"it had (0x{left['nwk']:04X})",
          observed="; ".join(f"{type(f.aps_command).__name__ if f.aps_command is not None else 'an APS command'} "
                             f"at t={f.timestamp:.3f}s (frame {f.raw.hex()})" for f in sent[:3]),
          rule=RULE_LEFT_KEY)


@then("that network key is the one the update made, under the next key sequence number")
def key_of_the_update(bench, testbed):
    left = _left(testbed)
    number = left["number"]
    han = _han(bench, testbed, number)
    old_seq, old_key = left["held"]
    expected = ((old_seq or 0) + 1) & 0xFF
    deliveries = _deliveries(testbed, han, _notes(testbed).get("join_at", {}).get(number, 0.0))
    check(bool(deliveries), expected=f"a Transport Key of the network key to HAN device {number}", observed="none",
          rule=RULE_TRANSPORT_KEY)
    command = deliveries[-1].command
    assert isinstance(command, TransportKey)
    check(command.key_seq == expected and command.key != old_key,
          expected=f"the key the update made while HAN device {number} was away: key sequence number {expected} "
                   f"(the {old_seq} it held before it left, plus 1), a key other than the one it held",
          observed=f"key sequence number {command.key_seq}"
                   + (", the key it held before it left" if command.key == old_key else ", another key"),
          rule=RULE_KEY_UPDATE + "; " + RULE_TRANSPORT_KEY)


@then(parsers.parse("the DUT answers a ZDO request from HAN device {number:d}, whose frame counter started "
                    "again from 0"))
def answers_after_factory_reset(bench, testbed, number):
    han, left = _han(bench, testbed, number), _left(testbed)
    joined_at = _notes(testbed).get("join_at", {}).get(number, left["at"])
    _ask_ieee_addr(bench, testbed, f"the DUT answers IEEE_addr_req from HAN device {number}, which it admitted again "
                                   "after it left and was factory reset, its NWK frame counter counting from 0 again",
                   RULE_LEFT)
    # What makes the case: the device's frames since it joined again carry counters its old life had already used.
    counters = [(frame.timestamp, frame.nwk_frame_counter) for frame in testbed.observed()
                if frame.nwk_frame_counter is not None and frame.retry_of is None
                and han.ieee in (frame.nwk_source_ieee, frame.nwk.src_ieee if frame.nwk is not None else None)]
    before = [counter for time, counter in counters if time <= left["at"]]
    after = [counter for time, counter in counters if time >= joined_at]
    if not before or not after or max(after) > max(before):
        raise BenchError(f"HAN device {number}'s NWK frame counter after its factory reset ({after[-3:]}) did not stay "
                         f"within the counters it had used before it left ({before[-3:]}): the case cannot show the "
                         "DUT taking them again")


# -- rejoin -----------------------------------------------------------------------------------------------------------

@then(parsers.parse("HAN device {number:d} is back on the network within the PIXIT rejoin time"))
def back(bench, testbed, number):
    han = _han(bench, testbed, number)
    check(_notes(testbed).get("rejoined") is True and han.joined,
          expected=f"HAN device {number}, admitted before, is back on the network by Trust Center rejoin within "
                   f"{bench.pixit_seconds('rejoin_timeout', 30):g} s", observed=f"it is not ({han.failure})",
          rule=RULE_REJOIN)


@then(parsers.parse("HAN device {number:d} is not back on the network within the PIXIT rejoin time"))
def not_back(bench, testbed, number):
    han = _han(bench, testbed, number)
    check(_notes(testbed).get("rejoined") is False and not han.joined,
          expected=f"HAN device {number}, never admitted, gets nothing from a Trust Center rejoin",
          observed=f"it is on the network as 0x{han.nwk or 0:04X}", rule=RULE_ADMISSION)


@then(parsers.parse("HAN device {number:d} got a Rejoin Response with status SUCCESS and its address"))
def rejoin_response(bench, testbed, number):
    han = _han(bench, testbed, number)
    responses = rejoin_responses(_frames(testbed), dut_ieee=testbed.dut_ieee, device_ieee=han.ieee,
                                 network_keys=testbed.keyring.network_keys, since=_notes(testbed)["rejoined_at"])
    check(bool(responses), expected="a Rejoin Response to the device", observed="none", rule=RULE_REJOIN)
    frame, response = responses[0]
    problems = []
    if response.status != RejoinStatus.SUCCESS:
        problems.append(f"status {response.status!r}")
    if han.nwk is not None and response.network_address != han.nwk:
        problems.append(f"network address 0x{response.network_address:04X}, the device uses 0x{han.nwk:04X}")
    check(not problems, expected="status SUCCESS and the device's network address", observed="; ".join(problems)
          + f" (frame {frame.raw.hex()})", rule=RULE_REJOIN)
    _notes(testbed)["rejoin_response"] = frame


@then("that Rejoin Response was secured with the active network key")
def rejoin_response_secured(bench, testbed):
    frame = _notes(testbed)["rejoin_response"]
    problems = frame.security_problems() if frame.nwk_secured else ["sent without NWK security"]
    check(not problems, expected="the Rejoin Response to a secured rejoin NWK-secured with the active network key "
                                 "(level 5, its MIC verifying)", observed="; ".join(problems)
          + f" (frame {frame.raw.hex()})", rule=RULE_SECURED_REJOIN)


@then(parsers.parse("HAN device {number:d} got the active network key again under its install code's key-transport "
                    "key"))
def got_key_again(bench, testbed, number):
    han = _han(bench, testbed, number)
    _judge_deliveries(testbed, han, number, _notes(testbed)["rejoined_at"], joining=True)


# -- a home's worth of devices ----------------------------------------------------------------------------------------

@given(parsers.parse("the DUT's Trust Center holds the install codes of {count:d} HAN devices"))
def holds_many(bench, testbed, count):
    devices = []
    for ieee, code in generated_han_devices(testbed, count):
        assert isinstance(code, InstallCode)
        devices.append(bench.run(bench.han_device(testbed, ieee, code.link_key, end_device=True), 10))
        bench.run(testbed.dut.add_install_code(ieee, code), 30, "giving the DUT's Trust Center an install code")
    _notes(testbed)["many"] = devices


@when(parsers.parse("the {count:d} HAN devices join the DUT's network one after another"))
def many_join(bench, testbed, count):
    notes = _notes(testbed)
    notes["many_at"] = bench.clock.monotonic()
    notes["many_admitted"] = [bench.run(han.join(_join_time(bench)), _join_time(bench) + 10, "joining")
                              for han in notes["many"]]
    learn_network_keys(testbed)


@then(parsers.parse("all {count:d} HAN devices are admitted, each under its own install code's key-transport key"))
def many_admitted(bench, testbed, count):
    notes = _notes(testbed)
    refused = [f"{han.ieee:016X} ({han.failure})" for han, ok in zip(notes["many"], notes["many_admitted"], strict=True)
               if not ok]
    check(not refused and len(notes["many"]) == count,
          expected=f"all {count} HAN devices whose install codes the Trust Center holds are admitted",
          observed=f"{len(refused)} were not: {', '.join(refused[:5])}", rule=RULE_ADMISSION)
    for number, han in enumerate(notes["many"], start=1):
        _judge_deliveries(testbed, han, number, notes["many_at"], joining=True)


@when(parsers.parse("the first of the {count:d} loses the network key and rejoins through the Trust Center"))
def first_rejoins(bench, testbed, count):
    _rejoin(bench, testbed, _notes(testbed)["many"][0], "rejoined")


@then("it is back on the network within the PIXIT rejoin time")
def first_back(bench, testbed):
    han = _notes(testbed)["many"][0]
    check(_notes(testbed).get("rejoined") is True and han.joined,
          expected=f"the first of the HAN devices, whose link key the Trust Center holds among {FIFTY}, is back by "
                   "Trust Center rejoin", observed=f"it is not ({han.failure})",
          rule=RULE_REJOIN + "; a Trust Center's link-key table keeps every device it admitted")

"""Steps of features/messaging: messages the golden ESI displays, judged by the DUT's Message Confirmations
(only when asked for, only for the message on display inside its time window, ConfirmationTime against the
golden clock) and its Get Last Message after joining.

What the DUT shows is judged through what the user can confirm (the profile offers no read of the display): a
step that sets up a message also notes why it must, or must not, be on display when the user confirms it, and
the confirmation steps name that reason and its rule in their verdict."""

from __future__ import annotations

from pytest_bdd import given, parsers, then, when

from harness.bdd import certification_cases
from harness.clock import DeadlineExceeded
from harness.golden.esi import Message
from harness.se.clusters import Messaging
from harness.se.types import CONFIRMATION_REQUIRED
from harness.verdict import check

from .conftest import dut_nwk, dut_peer, dut_request, key_ready_at

certification_cases("../features/messaging")

RULE = "SE 1.x Annex D.5 (Messaging), reference client behaviour (Silicon Labs messaging-client plugin)"


def _response_time(bench) -> float:
    return bench.pixit_seconds("response_time", 5)


def _expect(testbed, message_id: int, why: str, rule: str) -> None:
    """Note why message *message_id* must (or must not) be on display when the user confirms it."""
    testbed.notes.setdefault("message_expectations", {})[message_id] = (why, rule)


def _expectation(testbed, message_id: int, why: str, rule: str) -> tuple[str, str]:
    return testbed.notes.get("message_expectations", {}).get(message_id, (why, rule))


@given(parsers.parse("the ESI's last message is message {message_id:d}"))
def last_message(testbed, message_id):
    testbed.golden.messaging.last_message = Message(message_id, f"Test message {message_id}")


@when(parsers.parse("the ESI cancels message {message_id:d} and waits the PIXIT response time"))
def cancel_message(bench, testbed, message_id):
    for other in testbed.notes.get("displayed_at", {}):
        if other != message_id:
            _expect(testbed, other, f"a Cancel Message naming message {message_id} leaves message {other} on display",
                    "SE 1.x Annex D.5.2.3.2 (Cancel Message): the cancel names the message it takes away; reference "
                    "client behaviour (Silicon Labs messaging-client: another MessageID changes nothing)")
    bench.run(testbed.golden.messaging.cancel(dut_peer(bench, testbed), message_id), 30,
              f"cancelling message {message_id}")
    bench.run(bench.clock.sleep(_response_time(bench)))


@then(parsers.parse("the DUT sends a Message Confirmation for message {message_id:d} within the PIXIT response time"))
def confirmation(bench, testbed, message_id):
    timeout = _response_time(bench)
    try:
        testbed.notes["confirmation"] = bench.run(testbed.golden.messaging.wait_for_confirmation(message_id, timeout))
    except DeadlineExceeded:
        why, rule = _expectation(testbed, message_id, "", "SE 1.x Annex D.5.3.3.2: a message with MessageControl "
                                 "bit 7 is confirmed when the user confirms")
        check(False, expected=f"Message Confirmation for message {message_id} within {timeout:g} s of the user's "
                              "confirmation" + (f" ({why})" if why else ""), observed="none", rule=rule)


@then("its ConfirmationTime is within the PIXIT tolerance of its arrival")
def confirmation_time(bench, testbed):
    tolerance = bench.pixit_seconds("timing_tolerance", 2)
    confirmation = testbed.notes["confirmation"]
    arrival = confirmation.arrival + testbed.golden.time_server.offset
    check(abs(confirmation.confirmation_time - arrival) <= tolerance,
          expected=f"ConfirmationTime within {tolerance:g} s of the network time {arrival:.1f} at arrival",
          observed=f"ConfirmationTime {confirmation.confirmation_time}",
          rule="SE 1.x Annex D.5.3.3.2: ConfirmationTime is the UTC time of the user's confirmation")


@then(parsers.parse("the DUT sends no Message Confirmation for message {message_id:d} within the PIXIT response "
                    "time"))
def no_confirmation(bench, testbed, message_id):
    bench.run(bench.clock.sleep(_response_time(bench)))
    confirmations = testbed.golden.messaging.confirmed(message_id)
    why, rule = _expectation(testbed, message_id, "", RULE + ": only a displayed message that asks for it is "
                             "confirmed")
    check(not confirmations, expected=f"no Message Confirmation for message {message_id}" + (f" ({why})" if why else ""),
          observed=f"{len(confirmations)} Message Confirmation(s), ConfirmationTime "
                   f"{[c.confirmation_time for c in confirmations]}" if confirmations else "none",
          rule=rule)


@then("the DUT sends Get Last Message to the ESI within the PIXIT application start time")
def asks_last_message(bench, testbed):
    timeout = bench.pixit_seconds("app_start_time", 10)
    since = key_ready_at(testbed)
    access = bench.run(dut_request(bench, testbed, Messaging.cluster_id, Messaging.ServerCommandDefs.get_last_message.id,
                                   general=False, since=since, timeout=timeout))
    check(access is not None, expected=f"Get Last Message from the DUT within {timeout:g} s of key establishment",
          observed="no Get Last Message", rule=RULE + ": a device that joins asks for the message it missed")


# -- time windows, replacement, cancels of other messages, ConfirmationTime, NOT_FOUND, MessageControl bits ------

#: MessageControl bits 2-3: importance; bits 0-1: transmission (SE 1.x Annex D.5.2.3.1.1).
IMPORTANCE = {"low": 0, "medium": 1, "high": 2, "critical": 3}
TRANSMISSION = {"normal": 0, "normal and Inter-PAN": 1}
WINDOW_RULE = ("SE 1.x Annex D.5.2.3.1 (Display Message): the message is shown from StartTime (0x00000000 = now) "
               "for Duration minutes (0xFFFF = until changed); reference client behaviour (Silicon Labs "
               "messaging-client): not shown before the start nor after the end, and only the message on display "
               "can be confirmed")


def _tolerance(bench) -> float:
    return bench.pixit_seconds("timing_tolerance", 2)


def _lead(bench) -> int:
    """How far ahead a future StartTime lies: room for a confirmation before it and the response time after it."""
    return max(60, round(3 * (_response_time(bench) + _tolerance(bench))))


def _windows(testbed) -> dict[int, tuple[float, float | None]]:
    """(start, end) in ESI time of every message the ESI displayed in this case; end None: until changed."""
    return testbed.notes.setdefault("message_windows", {})


def _display(bench, testbed, message_id: int, *, start_time: int, minutes: int, control: int = CONFIRMATION_REQUIRED):
    now = testbed.golden.esi_time()
    start = now if start_time == 0 else start_time
    for other in _windows(testbed):
        if other != message_id:
            _expect(testbed, other, f"message {message_id} replaced it", "SE 1.x Annex D.5.2.3.1 (Display Message): "
                    "one message is shown at a time, a new MessageID replaces it; reference client behaviour "
                    "(Silicon Labs messaging-client)")
    _windows(testbed)[message_id] = (start, None if minutes == 0xFFFF else start + minutes * 60)
    testbed.notes.setdefault("displayed_at", {})[message_id] = now
    message = Message(message_id, f"Test message {message_id}", message_control=control, start_time=start_time,
                      duration_minutes=minutes)
    bench.run(testbed.golden.messaging.display(dut_peer(bench, testbed), message), 30,
              f"displaying message {message_id}")


def _wait_until(bench, testbed, esi_time: float, what: str) -> None:
    bench.run(bench.clock.sleep(max(0.0, esi_time - testbed.golden.esi_time()), what))


@given("the ESI has no last message")
def no_last_message(testbed):
    testbed.golden.messaging.last_message = None


@when(parsers.parse("the ESI displays message {message_id:d} starting after the message lead time until changed, "
                    "asking for confirmation"))
def display_later(bench, testbed, message_id):
    _display(bench, testbed, message_id, start_time=int(testbed.golden.esi_time()) + _lead(bench), minutes=0xFFFF)


@when(parsers.re(r"the ESI displays message (?P<message_id>\d+) starting now for (?P<minutes>\d+) minutes?, "
                 r"asking for confirmation"), converters={"message_id": int, "minutes": int})
def display_for(bench, testbed, message_id, minutes):
    _display(bench, testbed, message_id, start_time=0, minutes=minutes)


@when(parsers.re(r"the ESI displays message (?P<message_id>\d+) that started (?P<ago>\d+) minutes? ago and lasts "
                 r"(?P<minutes>\d+) minutes?, asking for confirmation"),
      converters={"message_id": int, "ago": int, "minutes": int})
def display_started_earlier(bench, testbed, message_id, ago, minutes):
    start = int(testbed.golden.esi_time()) - ago * 60
    _display(bench, testbed, message_id, start_time=start, minutes=minutes)
    if minutes < ago:
        _expect(testbed, message_id, f"its window {start}..{start + minutes * 60} ended before it arrived", WINDOW_RULE)
    else:
        _expect(testbed, message_id, f"it started at {start} and lasts until {start + minutes * 60}", WINDOW_RULE)


@when(parsers.parse("the ESI displays message {message_id:d} starting now until changed with {importance} importance "
                    "over {transmission} transmission, asking for confirmation"))
def display_with_bits(bench, testbed, message_id, importance, transmission):
    control = CONFIRMATION_REQUIRED | IMPORTANCE[importance] << 2 | TRANSMISSION[transmission]
    _display(bench, testbed, message_id, start_time=0, minutes=0xFFFF, control=control)
    _expect(testbed, message_id, f"MessageControl 0x{control:02X}: bit 7 asks for a confirmation whatever the "
            f"importance ({importance}) and transmission ({transmission}) bits",
            "SE 1.x Annex D.5.2.3.1.1 (MessageControl: bits 0-1 transmission, 2-3 importance, 7 confirmation "
            "required); a message of any importance sent on the network is shown")


@when(parsers.parse("the user confirms message {message_id:d} before its start"))
def confirm_before_start(bench, testbed, message_id):
    start, _ = _windows(testbed)[message_id]
    # The judgement needs the confirmation and the response time after it to fall before the start.
    if testbed.golden.esi_time() + _response_time(bench) + _tolerance(bench) >= start:
        raise RuntimeError(f"message {message_id} starts too soon to confirm it before its start (lead {_lead(bench)} s"
                           f" against the PIXIT response time and tolerance)")
    _expect(testbed, message_id, f"it starts at {start:.0f}; the user confirmed at "
            f"{testbed.golden.esi_time():.1f}, before", WINDOW_RULE)
    bench.run(testbed.dut.confirm_message(message_id), 30, f"the user confirming message {message_id}")


@when(parsers.parse("the {moment} of message {message_id:d} has passed"))
def moment_passed(bench, testbed, moment, message_id):
    start, end = _windows(testbed)[message_id]
    due = {"start": start, "end": end}[moment]
    if due is None:
        raise ValueError(f"message {message_id} has no {moment}: it lasts until changed")
    _wait_until(bench, testbed, due + _tolerance(bench), f"the {moment} of message {message_id}")
    _expect(testbed, message_id, f"its {moment} ({due:.0f}) has passed", WINDOW_RULE)


@when(parsers.parse("one minute later the user confirms message {message_id:d}"))
def confirm_later(bench, testbed, message_id):
    _wait_until(bench, testbed, testbed.notes["displayed_at"][message_id] + 60, "a minute of the message on display")
    before = testbed.golden.esi_time()
    bench.run(testbed.dut.confirm_message(message_id), 30, f"the user confirming message {message_id}")
    testbed.notes.setdefault("user_confirmed", {})[message_id] = (before, testbed.golden.esi_time())


@then("its ConfirmationTime is the network time of the user's confirmation, not of the message's display")
def confirmation_time_of_user(bench, testbed):
    tolerance = _tolerance(bench)
    confirmation = testbed.notes["confirmation"]
    before, after = testbed.notes["user_confirmed"][confirmation.message_id]
    displayed = testbed.notes["displayed_at"][confirmation.message_id]
    check(before - tolerance <= confirmation.confirmation_time <= after + tolerance,
          expected=f"ConfirmationTime within {tolerance:g} s of the user's confirmation (network time {before:.1f}"
                   + (f" to {after:.1f}" if after - before >= 1 else "") + ")",
          observed=f"ConfirmationTime {confirmation.confirmation_time} ({confirmation.confirmation_time - before:+.1f} s;"
                   f" the message was displayed at {displayed:.1f})",
          rule="SE 1.x Annex D.5.3.3.2: ConfirmationTime is the UTC time of the user's confirmation")


@then("the DUT does not ask for the last message again within the PIXIT response time of the ESI's NOT_FOUND")
def asks_last_message_once(bench, testbed):
    since = key_ready_at(testbed)
    bench.run(bench.clock.sleep(_response_time(bench) + _tolerance(bench)))
    nwk = dut_nwk(testbed)
    asked = [round(a.time - since, 1) for a in testbed.golden.meter.accesses_from(nwk, since)
             if a.cluster_id == Messaging.cluster_id and not a.general
             and a.command_id == Messaging.ServerCommandDefs.get_last_message.id]
    check(len(asked) == 1,
          expected="one Get Last Message after key establishment: the ESI's Default Response NOT_FOUND says it has "
                   "no message, a final answer",
          observed=f"{len(asked)} Get Last Message, at {asked} s after key establishment",
          rule="SE 1.x Annex D.5.3.3.1 (Get Last Message: NOT_FOUND when the ESI has no message); reference client "
               "behaviour (Silicon Labs messaging-client asks once when it finds the ESI)")


@when(parsers.parse("the ESI displays message {message_id:d} starting now until changed, {asking} for confirmation"))
def display_now(bench, testbed, message_id, asking):
    """The shared step (steps/conftest.py), noting the display for this feature's judgements."""
    _display(bench, testbed, message_id, start_time=0, minutes=0xFFFF,
             control=CONFIRMATION_REQUIRED if asking == "asking" else 0x00)

"""Steps of features/messaging: messages the golden ESI displays, judged by the DUT's Message Confirmations
(only when asked for, ConfirmationTime against the golden clock) and its Get Last Message after joining."""

from __future__ import annotations

from pytest_bdd import given, parsers, then, when

from harness.bdd import certification_cases
from harness.clock import DeadlineExceeded
from harness.golden.esi import Message
from harness.verdict import check

from .conftest import dut_peer, dut_request, key_ready_at

certification_cases("../features/messaging")

MESSAGING = 0x0703
CMD_GET_LAST_MESSAGE = 0x00
RULE = "SE 1.x Annex D.5 (Messaging), reference client behaviour (Silicon Labs messaging-client plugin)"


def _response_time(bench) -> float:
    return bench.pixit_seconds("response_time", 5)


@given(parsers.parse("the ESI's last message is message {message_id:d}"))
def last_message(testbed, message_id):
    testbed.golden.messaging.last_message = Message(message_id, f"Test message {message_id}")


@when(parsers.parse("the ESI cancels message {message_id:d} and waits the PIXIT response time"))
def cancel_message(bench, testbed, message_id):
    bench.run(testbed.golden.messaging.cancel(dut_peer(bench, testbed), message_id), 30,
              f"cancelling message {message_id}")
    bench.run(bench.clock.sleep(_response_time(bench)))


@then(parsers.parse("the DUT sends a Message Confirmation for message {message_id:d} within the PIXIT response time"))
def confirmation(bench, testbed, message_id):
    timeout = _response_time(bench)
    try:
        testbed.notes["confirmation"] = bench.run(testbed.golden.messaging.wait_for_confirmation(message_id, timeout))
    except DeadlineExceeded:
        check(False, expected=f"Message Confirmation for message {message_id} within {timeout:g} s of the user's "
                              "confirmation", observed="none",
              rule="SE 1.x Annex D.5.3.3.2: a message with MessageControl bit 7 is confirmed when the user confirms")


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
    check(not confirmations, expected=f"no Message Confirmation for message {message_id}",
          observed=f"{len(confirmations)} confirmations",
          rule=RULE + ": only a displayed message that asks for it is confirmed")


@then("the DUT sends Get Last Message to the ESI within the PIXIT application start time")
def asks_last_message(bench, testbed):
    timeout = bench.pixit_seconds("app_start_time", 10)
    since = key_ready_at(testbed)
    access = bench.run(dut_request(bench, testbed, MESSAGING, CMD_GET_LAST_MESSAGE, general=False, since=since,
                                   timeout=timeout))
    check(access is not None, expected=f"Get Last Message from the DUT within {timeout:g} s of key establishment",
          observed="no Get Last Message", rule=RULE + ": a device that joins asks for the message it missed")

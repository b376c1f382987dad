"""Steps of features/key_establishment: CBKE with the golden ESI as Trust Center, its test hooks and probes.

The DUT is judged by what reaches the golden (its Key Establishment events, with bench-clock times), by the
capture (certificates, security of KE frames) and by whether it acts on SE probes under chosen keys.
"""

from __future__ import annotations

import asyncio

import pytest
from pytest_bdd import given, parsers, then, when
from zigpy.zcl.foundation import Direction, GeneralCommand, Status

from harness.bdd import certification_cases
from harness.crypto import CryptoError, Role, parse_certificate
from harness.crypto.ecqv import Suite2Certificate
from harness.golden.golden import ESI_ENDPOINT
from harness.golden.ke import NO_RETRY, GoldenKeError
from harness.ke import (
    CertificateMangle,
    EphemeralMangle,
    GoldenKeFaults,
    KeCommand,
    KeEventKind,
    TerminatedBy,
    suite_bitmap,
    suite_from_bitmap,
)
from harness.ke.checks import KEY_USAGE_KEY_AGREEMENT
from harness.ke.frames import Initiate, KeFrameError, parse_payload
from harness.se.clusters import KeyEstablishment as KeyEstablishmentCluster
from harness.se.datamodel import SE_PROFILE_ID, Side
from harness.se.types import KeyEstablishmentStatus as KeStatus
from harness.verdict import NonConformance, check
from harness.verify.probe import judge as probe_verdict
from harness.zcl.errors import MalformedFrame, ZclError
from harness.zcl.frame import parse_frame

from .conftest import attribute_record, dut_joined, dut_nwk, ke_trail, key_established, se_application_cluster

certification_cases("../features/key_establishment")

ZCL_TIMEOUT = 10.0
RULE_CBKE = "SE 1.x 5.4.7 / Annex C: Certificate-Based Key Establishment"
RULE_TERMINATE = "SE 1.x 10.7.2.3.4 / 10.7.2.4.4: Terminate Key Establishment and its status"


def _ke_time(bench) -> float:
    return bench.pixit_seconds("ke_timeout", 20)


def _retry_time(bench) -> float:
    # How long after a failed exchange the DUT may take to start the next one (documented in docs/profiles.md).
    return bench.pixit_seconds("ke_retry_timeout", 120)


def _started(testbed) -> float:
    """When the exchange under judgement could start: the golden's own initiation, else the DUT's admission."""
    return testbed.notes.get("ke_started_at", testbed.join_event.time)


def _arm(testbed, **faults) -> None:
    testbed.golden.ke.faults = GoldenKeFaults(**faults)


def _unclaimed_suite_bit(bench) -> int:
    claimed = suite_bitmap(bench.dut_ke_suites)
    return next(bit for bit in (0x0001, 0x0002, 0x0004, 0x0008) if not bit & claimed)


def _se_cluster(bench) -> tuple[int, Side]:
    """The first SE application cluster side the DUT claims (the probes' target)."""
    claimed = se_application_cluster(bench)
    if claimed is None:
        pytest.skip("not applicable: the DUT claims no SE application cluster to send a command to")
    return claimed


def _probe(bench, testbed, **kwargs):
    cluster_id, side = _se_cluster(bench)
    return bench.run(testbed.golden.ke.probe_se(
        dut_nwk(testbed), testbed.dut_ieee, bench.dut_profile.endpoint, cluster_id, side, timeout=ZCL_TIMEOUT,
        **kwargs))


def _wait_ke(bench, testbed, accept, what: str, within: float | None = None):
    """The golden's first KE event with the DUT that *accept* takes, within *within* s (default: the PIXIT
    key establishment time) of the exchange's start; None when none came."""
    nwk = dut_nwk(testbed)
    since = _started(testbed)
    within = _ke_time(bench) if within is None else within
    try:
        return bench.run(testbed.golden.ke.wait_event(
            lambda e: e.partner_nwk == nwk and e.at >= since and accept(e),
            max(0.0, since + within - bench.clock.monotonic()), what))
    except TimeoutError:
        return None


#: Default Response statuses with which a DUT refuses an SE command it does not accept, without acting on it.
#: EmberZNet's application framework answers a command that lacks its APS security with FAILURE (SE builds,
#: older releases) or NOT_AUTHORIZED (newer releases, builds with WWAH), sent without APS security; other
#: stacks drop it silently. Either way the command is not acted on.
RULE_NOT_ACTED = ("SE 1.x 5.4.7: SE application commands are accepted only under the CBKE link key; a command "
                  "that is not is not acted on: no command-specific response or effect. Dropping it silently and "
                  "refusing it with a Default Response NOT_AUTHORIZED (0x7E) or FAILURE (0x01) are both that "
                  "(reference implementation behaviour: Silicon Labs EmberZNet application framework, "
                  "app/framework/util/util.c emberAfProcessMessage, \"Drop clus ... due to no aps security\")")


def _acted(bench, testbed, probe) -> tuple[bool, str]:
    """Whether the DUT acted on the probe, and what it did (harness/verify/probe.py)."""
    verdict = probe_verdict(probe, testbed.observed(), dut_nwk(testbed), _se_cluster(bench)[1])
    return verdict.acted, verdict.observed


def _dut_ke_frames(testbed, *, to_dut: bool = False):
    """(observed frame, ZCL frame) of every Key Establishment frame the DUT put on the air (*to_dut*: every one
    sent to the DUT), in the order of the capture."""
    nwk = dut_nwk(testbed)
    out = []
    for frame in testbed.observed():
        if frame.nwk is None or frame.aps is None or frame.aps.cluster != KeyEstablishmentCluster.cluster_id:
            continue
        if (frame.nwk.dst if to_dut else frame.nwk.src) != nwk or frame.aps.profile != SE_PROFILE_ID:
            continue
        try:
            out.append((frame, parse_frame(frame.aps.payload)))
        except MalformedFrame:
            out.append((frame, None))
    return out


# -- Given ---------------------------------------------------------------------------------------------------

@given(parsers.parse("the DUT claims CBKE suite {suite:d}"))
def claims_suite(bench, suite):
    if suite not in bench.dut_ke_suites:
        pytest.skip(f"not applicable: the DUT does not claim PICS SE.KE.SUITE{suite}")


@given(parsers.parse("the golden ESI offers only CBKE suite {suite:d}"))
def golden_offers_suite(bench, testbed, suite):
    testbed.golden.ke.use_engine(bench.golden_ke_engine((suite,)))


@given(parsers.parse("the DUT claims the Key Establishment {side}"))
def claims_ke_side(bench, side):
    key = "SE.KE.S" if side == "server" else "SE.KE.C"
    if not bench.claims(key):
        pytest.skip(f"not applicable: the DUT does not claim PICS {key}")


@given("the golden ESI presents a certificate from an unknown issuer")
def golden_unknown_issuer(testbed):
    _arm(testbed, certificate=CertificateMangle.ISSUER)


@given("the golden ESI sends a wrong MACV")
def golden_wrong_macv(testbed):
    _arm(testbed, wrong_mac=True)


@given("the golden ESI answers Initiate Key Establishment with Ephemeral Data")
def golden_out_of_sequence(testbed):
    _arm(testbed, out_of_sequence=True)


@given("the golden ESI answers with a suite the DUT does not claim")
def golden_unclaimed_suite(bench, testbed):
    _arm(testbed, offer_suite=_unclaimed_suite_bit(bench))


_MALFORMED = {
    "one byte short": {"certificate": CertificateMangle.LENGTH},
    "not a valid public point": {"certificate": CertificateMangle.CORRUPT_BYTE, "corrupt_index": 0},
}


@given(parsers.parse("the golden ESI presents a certificate that is {malformed}"))
def golden_malformed_certificate(testbed, malformed):
    _arm(testbed, **_MALFORMED[malformed])


@given("the golden ESI presents a certificate whose subject is not its IEEE address")
def golden_foreign_subject(testbed):
    _arm(testbed, certificate=CertificateMangle.SUBJECT)


@given(parsers.parse("the golden ESI answers the first Initiate Key Establishment with NO_RESOURCES and a wait "
                     "time of {seconds:d} seconds"))
def golden_busy(testbed, seconds):
    _arm(testbed, no_resources_wait=seconds, no_resources_count=1)


@given("the golden ESI goes silent after answering Initiate Key Establishment")
def golden_silent(testbed):
    _arm(testbed, silent_from=KeCommand.EPHEMERAL_DATA)


# -- When ----------------------------------------------------------------------------------------------------

@when("the DUT joins with its install code")
def dut_joins(bench, testbed):
    dut_joined(bench, testbed)


@when(parsers.parse("the golden ESI sends the DUT an SE command secured with {protection}"))
def send_probe(bench, testbed, protection):
    if protection == "its install-code link key":
        testbed.notes["probe"] = _probe(bench, testbed, link_key=testbed.dut_link_key)
    elif protection == "no APS security":
        testbed.notes["probe"] = _probe(bench, testbed, aps_security=False)
    else:
        raise ValueError(f"unknown protection {protection!r} in the feature")


@when(parsers.parse("the golden ESI reads KeyEstablishmentSuite of the DUT's Key Establishment {side}"))
def read_suite(bench, testbed, side):
    target = Side.SERVER if side == "server" else Side.CLIENT
    try:
        testbed.notes["suite_records"] = bench.run(testbed.golden.engine.read_attributes(
            dut_nwk(testbed), bench.dut_profile.endpoint, KeyEstablishmentCluster.cluster_id,
            [KeyEstablishmentCluster.AttributeDefs.key_establishment_suite.id], src_ep=ESI_ENDPOINT,
            target=target, timeout=ZCL_TIMEOUT))
    except ZclError as exc:
        testbed.notes["suite_records"] = None
        testbed.notes["suite_error"] = str(exc)


def _golden_initiates(bench, testbed, suite: int | None = None):
    testbed.notes["ke_started_at"] = bench.clock.monotonic()
    bound = 3 * _ke_time(bench) + 60  # the exchange's own timeouts end it well before
    testbed.notes["golden_outcome"] = bench.run(testbed.golden.ke.initiate(
        dut_nwk(testbed), bench.dut_profile.endpoint, ieee=testbed.dut_ieee, suite=suite), bound,
        "golden-initiated CBKE")


@when("the golden initiates key establishment with the DUT")
def golden_initiates(bench, testbed):
    _golden_initiates(bench, testbed)


@when("the golden initiates key establishment with the DUT naming a suite the DUT does not claim")
def golden_initiates_unclaimed(bench, testbed):
    _arm(testbed, offer_suite=_unclaimed_suite_bit(bench))
    _golden_initiates(bench, testbed)


#: The golden's test hooks as initiator, by the feature's words (TC-KE-4.3 .. 4.8).
_AS_INITIATOR = {
    "presenting a certificate from an unknown issuer": {"certificate": CertificateMangle.ISSUER},
    "presenting a certificate whose subject is not its IEEE address": {"certificate": CertificateMangle.SUBJECT},
    "presenting a certificate that is one byte short": {"certificate": CertificateMangle.LENGTH},
    "presenting a certificate that is not a valid public point": {"certificate": CertificateMangle.CORRUPT_BYTE,
                                                                  "corrupt_index": 0},
    "sending a wrong MACU": {"wrong_mac": True},
    "sending Ephemeral Data before Initiate out of sequence": {"ephemeral_first": True},
    "sending Confirm Key before Ephemeral Data out of sequence": {"out_of_sequence": True},
    "sending Ephemeral Data that is one byte short": {"ephemeral": EphemeralMangle.SHORT},
    "sending Ephemeral Data that is not a point on the curve": {"ephemeral": EphemeralMangle.OFF_CURVE},
}


@when(parsers.re(r"the golden initiates key establishment with the DUT (?P<how>(presenting|sending) .+)"))
def golden_initiates_with_hook(bench, testbed, how):
    _arm(testbed, **_AS_INITIATOR[how])
    _golden_initiates(bench, testbed)


@when(parsers.parse("the golden initiates key establishment with the DUT for suite {suite:d}"))
def golden_initiates_suite(bench, testbed, suite):
    testbed.golden.ke.use_engine(bench.golden_ke_engine((suite,)))
    _golden_initiates(bench, testbed, suite=suite)


# -- Then ----------------------------------------------------------------------------------------------------

def _completed(bench, testbed):
    ke_time = _ke_time(bench)
    try:
        event = bench.run(key_established(bench, testbed, _started(testbed), ke_time))
    except TimeoutError:
        check(False, expected=f"CBKE between the DUT and the golden ESI completes within {ke_time:g} s",
              observed=ke_trail(testbed), rule=RULE_CBKE)
    testbed.ke_completed = event
    return event


@then(parsers.parse("key establishment with suite {suite:d} completes within the PIXIT key establishment time"))
def completes_with_suite(bench, testbed, suite):
    event = _completed(bench, testbed)
    check(event.suite == suite, expected=f"CBKE suite {suite}", observed=f"suite {event.suite}",
          rule="SE 1.x 10.7.2.2.1: the suite both sides claim")


@then("key establishment completes within the PIXIT key establishment time")
def completes(bench, testbed):
    _completed(bench, testbed)


@then("key establishment completes with SUCCESS within the PIXIT key establishment time")
def golden_initiated_completes(bench, testbed):
    outcome = testbed.notes["golden_outcome"]
    ke_time = _ke_time(bench)
    completed = [e for e in testbed.golden.ke.events_from(dut_nwk(testbed), KeEventKind.COMPLETED)
                 if e.at >= testbed.notes["ke_started_at"]]
    took = completed[-1].at - testbed.notes["ke_started_at"] if completed else None
    check(outcome.success and took is not None and took <= ke_time,
          expected=f"the DUT as responder completes CBKE within {ke_time:g} s",
          observed=f"{outcome}" + (f" after {took:.3f} s" if took is not None else "") + f"; {ke_trail(testbed)}",
          rule="SE 1.x 10.7: the Key Establishment server answers Initiate, Ephemeral Data and Confirm Key")
    testbed.ke_completed = completed[-1]


@then("the DUT answers an SE command secured with the new link key")
def answers_under_new_key(bench, testbed):
    event = testbed.ke_completed
    probe = _probe(bench, testbed, link_key=event.key)
    answer = probe.answer
    read_response = answer is not None and answer.is_general and answer.command_id == GeneralCommand.Read_Attributes_rsp
    check(read_response and probe.aps_encrypted_answer,
          expected="an APS-secured Read Attributes Response to Read Attributes secured with the CBKE link key",
          observed="no answer" if answer is None else
          f"answer command 0x{answer.command_id:02X}, APS-secured: {probe.aps_encrypted_answer}",
          rule="SE 1.x 5.4.7: SE application frames use the link key from CBKE")


@then("the DUT sends its certificate in an Initiate Key Establishment request")
def certificate_sent(bench, testbed):
    _wait_ke(bench, testbed, lambda e: e.kind is KeEventKind.FRAME_RECEIVED and e.command is KeCommand.INITIATE,
             "the DUT's Initiate Key Establishment")
    initiates = _dut_initiates(testbed, Direction.Client_to_Server, "Initiate Key Establishment request",
                               "SE 1.x 10.7.2.3.1: Initiate Key Establishment Request")
    check(bool(initiates), expected="an Initiate Key Establishment request from the DUT on the air",
          observed=ke_trail(testbed), rule=RULE_CBKE)
    request: Initiate = initiates[0]
    suite = suite_from_bitmap(request.suite)
    try:
        testbed.notes["dut_certificate"] = parse_certificate(request.identity, suite)
    except CryptoError as exc:
        check(False, expected=f"an implicit certificate for suite bitmap 0x{request.suite:04X}",
              observed=str(exc), rule="SE 1.x C.4: implicit certificate format")


@then("the certificate's issuer is the test CA's issuer")
def certificate_issuer(bench, testbed):
    certificate = testbed.notes["dut_certificate"]
    issuer = bench.ke_material.issuer
    check(certificate.issuer == issuer, expected=f"issuer {issuer.hex().upper()} (the bench's test CA)",
          observed=f"issuer {certificate.issuer.hex().upper()}", rule="SE 1.x C.4: certificate issuer")


@then("the certificate's subject is the DUT's IEEE address")
def certificate_subject(testbed):
    certificate = testbed.notes["dut_certificate"]
    expected = testbed.dut_ieee.to_bytes(8, "big")
    check(certificate.subject == expected, expected=f"subject {expected.hex().upper()} (the DUT's IEEE)",
          observed=f"subject {certificate.subject.hex().upper()}",
          rule="SE 1.x C.4: the certificate subject is the device's IEEE address")


@then("the DUT sends Confirm Key Data with a MACU the golden ESI verifies")
def macu_verifies(bench, testbed):
    try:
        _completed(bench, testbed)
    except NonConformance:
        # The exchange did not complete: name the MACU when the golden refused it, else the exchange failed
        # earlier (certificate, suite, silence) and the CBKE non-conformance stands as raised.
        refused = [e for e in testbed.golden.ke.events_from(dut_nwk(testbed), KeEventKind.TERMINATED)
                   if e.by is TerminatedBy.LOCAL and e.status == KeStatus.Bad_Key_Confirm]
        if refused:
            check(False, expected="the DUT's MACU verifies", observed=f"the golden refused it: {refused[0]}",
                  rule="SE 1.x C.4.2.2.6: MACU = MAC(MacKey, 0x02 || U || V || QEU || QEV)")
        raise


def _dut_terminate(bench, testbed):
    return _wait_ke(bench, testbed, lambda e: e.kind is KeEventKind.TERMINATED and e.by is TerminatedBy.PARTNER,
                    "the DUT's Terminate")


def _status_name(status: int | None) -> str:
    if status is None:
        return "no Terminate"
    try:
        return KeStatus(status).name.upper()
    except ValueError:
        return f"status 0x{status:02X}"


@then(parsers.parse("the DUT terminates key establishment with status {statuses}"))
def terminates_with(bench, testbed, statuses):
    wanted = {KeStatus[name.strip().title()] for name in statuses.split(" or ")}
    event = _dut_terminate(bench, testbed)
    check(event is not None and event.status in wanted,
          expected=f"Terminate Key Establishment from the DUT with status {statuses} within "
                   f"{_ke_time(bench):g} s",
          observed=(f"Terminate with {_status_name(event.status)}" if event is not None else "no Terminate")
          + f"; {ke_trail(testbed)}", rule=RULE_TERMINATE)


@then("the DUT terminates key establishment")
def terminates(bench, testbed):
    event = _dut_terminate(bench, testbed)
    check(event is not None, expected=f"Terminate Key Establishment from the DUT within {_ke_time(bench):g} s "
                                      "(the reference implementation sends BAD_MESSAGE)",
          observed=ke_trail(testbed), rule="SE 1.x C.4.2.2.2: the certificate subject must be the partner's IEEE")


@then("the DUT does not act on an SE command secured with the key of that exchange")
def ignores_unconfirmed_key(bench, testbed):
    nwk = dut_nwk(testbed)
    completed = testbed.golden.ke.events_from(nwk, KeEventKind.COMPLETED)
    check(bool(completed), expected="the exchange reached Confirm Key (the golden sent its wrong MACV)",
          observed=ke_trail(testbed), rule=RULE_CBKE)
    _key_not_used(bench, testbed, completed[-1].key, "the unconfirmed key",
                  "SE 1.x 5.4.7: a key whose MACV did not verify is discarded")


def _key_not_used(bench, testbed, key: bytes, which: str, rule: str) -> None:
    """The DUT does not act on Read Attributes secured with *key*: no answer, or a refusing Default Response."""
    acted, observed = _acted(bench, testbed, _probe(bench, testbed, link_key=key))
    check(not acted, expected=f"no Read Attributes Response nor a Default Response SUCCESS to Read Attributes "
                              f"secured with {which} (no answer, or a Default Response NOT_AUTHORIZED or FAILURE)",
          observed=observed, rule=f"{rule}; {RULE_NOT_ACTED}")


@then(parsers.parse("the DUT starts key establishment again no sooner than {seconds:d} seconds later"))
def retries_after_wait(bench, testbed, seconds):
    nwk = dut_nwk(testbed)
    ke = testbed.golden.ke
    busy = _wait_ke(bench, testbed, lambda e: e.kind is KeEventKind.TERMINATED and e.by is TerminatedBy.LOCAL
                    and e.status == KeStatus.No_Resources, "the golden's NO_RESOURCES")
    check(busy is not None, expected="an Initiate Key Establishment request from the DUT (answered NO_RESOURCES)",
          observed=ke_trail(testbed), rule=RULE_CBKE)
    busy_at = busy.at
    retry_time = _retry_time(bench)
    try:
        retry = bench.run(ke.wait_event(
            lambda e: e.kind is KeEventKind.FRAME_RECEIVED and e.partner_nwk == nwk and e.command is KeCommand.INITIATE
            and e.at > busy_at, max(0.0, busy_at + seconds + retry_time - bench.clock.monotonic()), "the retry"))
    except TimeoutError:
        check(False, expected=f"a new Initiate Key Establishment within {seconds + retry_time:g} s of NO_RESOURCES",
              observed=ke_trail(testbed), rule=RULE_TERMINATE)
    waited = retry.at - busy_at
    check(waited >= seconds, expected=f"the DUT waits at least the {seconds} s wait time before starting again",
          observed=f"it started again after {waited:.3f} s",
          rule="SE 1.x 10.7.2.4.4: Terminate's wait time before the partner may retry")
    testbed.notes["ke_started_at"] = retry.at


@then("key establishment then completes")
def then_completes(bench, testbed):
    _completed(bench, testbed)


@then("the DUT starts key establishment again after the golden's advertised generate time, within the PIXIT "
      "retry time")
def retries_after_silence(bench, testbed):
    nwk = dut_nwk(testbed)
    ke = testbed.golden.ke
    sent = _wait_ke(bench, testbed, lambda e: e.kind is KeEventKind.FRAME_RECEIVED
                    and e.command is KeCommand.EPHEMERAL_DATA, "the DUT's Ephemeral Data")
    check(sent is not None, expected="the DUT sends Ephemeral Data after the golden's Initiate response",
          observed=ke_trail(testbed), rule=RULE_CBKE)
    advertised = ke.timing.ephemeral_data_generate_time
    retry_time = _retry_time(bench)
    try:
        retry = bench.run(ke.wait_event(
            lambda e: e.kind is KeEventKind.FRAME_RECEIVED and e.partner_nwk == nwk and e.command is KeCommand.INITIATE
            and e.at > sent.at, max(0.0, sent.at + retry_time - bench.clock.monotonic()), "the retry"))
    except TimeoutError:
        check(False, expected=f"a new Initiate Key Establishment within {retry_time:g} s of the unanswered "
                              "Ephemeral Data", observed=ke_trail(testbed),
              rule="SE 1.x 10.7.4: an initiator that times out may start again")
    waited = retry.at - sent.at
    check(waited >= advertised,
          expected=f"the DUT waits at least the golden's advertised Ephemeral Data generate time ({advertised} s)",
          observed=f"it started again {waited:.3f} s after its Ephemeral Data",
          rule="SE 1.x 10.7.2.3.1: the responder's advertised generate time bounds the initiator's wait")


@then("the DUT does not act on it")
def not_acted(bench, testbed):
    acted, observed = _acted(bench, testbed, testbed.notes["probe"])
    check(not acted, expected="no Read Attributes Response nor a Default Response SUCCESS to an SE command that is "
                              "not secured with the DUT's CBKE link key: no answer, or a Default Response "
                              "NOT_AUTHORIZED or FAILURE", observed=observed, rule=RULE_NOT_ACTED)


@then("every Key Establishment frame from the DUT is secured at the network layer and not APS-encrypted")
def ke_frames_nwk_only(bench, testbed):
    nwk = dut_nwk(testbed)
    _completed(bench, testbed)  # the whole exchange is on the air
    received = testbed.golden.ke.events_from(nwk, KeEventKind.FRAME_RECEIVED)
    on_air = _dut_ke_frames(testbed)
    bad = [e for e in received if e.aps_encrypted]
    bad_air = [f for f, _ in on_air if f.aps_secured or not f.nwk_secured]
    check(len(received) >= 3 and not bad and on_air and not bad_air,
          expected="Initiate, Ephemeral Data and Confirm Key from the DUT under NWK security, without APS encryption",
          observed=f"{len(received)} KE frames reached the golden, {len(bad)} APS-encrypted; {len(on_air)} on the "
          f"air, {len(bad_air)} APS-secured or NWK-unsecured" + (f"; first: {bad_air[0].describe()}" if bad_air else ""),
          rule="SE 1.x 5.4.7 / 10.7: Key Establishment frames use network-layer security only")


@then("the value names exactly the CBKE suites the DUT claims")
def suite_value(bench, testbed):
    records = testbed.notes.get("suite_records")
    expected = suite_bitmap(bench.dut_ke_suites)
    observed = testbed.notes.get("suite_error", "no answer")
    ok = False
    suite_id = KeyEstablishmentCluster.AttributeDefs.key_establishment_suite.id
    record = attribute_record(records or (), suite_id)
    if records is not None and record is None:
        observed = f"no record for attribute 0x{suite_id:04X} in the response ({len(records)} records)"
    elif record is not None and record.status == Status.SUCCESS:
        value = record.value.value
        ok = isinstance(value, int) and value == expected
        observed = f"0x{value:04X}" if isinstance(value, int) else f"a {type(value).__name__} value {value!r}"
    elif record is not None:
        observed = f"status {record.status!r}"
    check(ok, expected=f"KeyEstablishmentSuite 0x{expected:04X} (suites {list(bench.dut_ke_suites)})",
          observed=observed, rule="SE 1.x 10.7.2.2.1: KeyEstablishmentSuite bitmap (bit 0 suite 1, bit 1 suite 2)")


# -- The DUT as responder (TC-KE-4.3 .. 4.12) -----------------------------------------------------------------

RULE_NO_KEY = ("SE 1.x C.4.2.2.2 / 10.7.4: a refused certificate ends the exchange at Initiate: the responder "
               "sends no Ephemeral Data and derives no key")
RULE_TSN = ("ZCL frame format, Transaction Sequence Number (ZCL r6 2.4.1.3): a response carries the sequence "
            "number of the request it answers; SE 1.x 10.7.2.4 Key Establishment responses")
RULE_GENERATE_TIMES = ("SE 1.x 10.7.2.4.1: the responder's Ephemeral Data Generate Time and Confirm Key Generate "
                       "Time are the times it takes to answer Ephemeral Data and Confirm Key; the initiator's "
                       "timeouts are built on them (10.7.4)")
RULE_INITIATE_RESPONSE = "SE 1.x 10.7.2.4.1: Initiate Key Establishment Response (suite, generate times, identity)"


def _exchange_events(bench, testbed, kind=None):
    """The golden's events with the DUT from the start of the exchange the golden initiated (the DUT's own
    exchange at joining may end at the very instant the golden starts)."""
    since = testbed.notes["ke_started_at"]
    events = testbed.golden.ke.events_from(dut_nwk(testbed))
    start = next((i for i, e in enumerate(events) if e.at >= since and e.kind is KeEventKind.STARTED
                  and e.role is Role.INITIATOR), len(events))
    return [e for e in events[start:] if kind is None or e.kind is kind]


@then("the DUT derives no key in that exchange")
def derives_no_key(bench, testbed):
    derived = [e for e in _exchange_events(bench, testbed)
               if (e.kind is KeEventKind.FRAME_RECEIVED and e.command in (KeCommand.EPHEMERAL_DATA, KeCommand.CONFIRM_KEY))
               or e.kind is KeEventKind.COMPLETED]
    check(not derived, expected="no Ephemeral Data, Confirm Key or completed exchange from the DUT after it refused "
                                "the certificate", observed="; ".join(str(e) for e in derived) or ke_trail(testbed),
          rule=RULE_NO_KEY)


@then("the DUT does not act on an SE command secured with the key the golden derived in that exchange")
def ignores_refused_macu_key(bench, testbed):
    keyed = [e for e in _exchange_events(bench, testbed) if e.key is not None
             and e.kind in (KeEventKind.TERMINATED, KeEventKind.COMPLETED)]
    if not keyed:
        raise GoldenKeError("the golden holds no key of the exchange it sent the wrong MACU in (its engine keeps "
                            "keys to itself), so the probe cannot be sent")
    _key_not_used(bench, testbed, keyed[-1].key, "the key of the exchange whose MACU did not verify",
                  "SE 1.x C.4.2.2.6: a key whose MACU did not verify is discarded")


@then("the DUT answers the Ephemeral Data with Terminate Key Establishment status BAD_MESSAGE")
def answers_ephemeral_with_terminate(bench, testbed):
    sent, answer = _answer(bench, testbed, KeCommand.EPHEMERAL_DATA)
    check(sent is not None, expected="the golden sent its Ephemeral Data (after the DUT's Initiate response)",
          observed=ke_trail(testbed), rule=RULE_CBKE)
    ok = answer is not None and answer.command is KeCommand.TERMINATE and answer.status == KeStatus.Bad_Message
    check(ok, expected="the DUT's next Key Establishment frame is Terminate with BAD_MESSAGE (it validates the "
                       "ephemeral key before it answers with its own)",
          observed=("no answer" if answer is None else str(answer)) + f"; {ke_trail(testbed)}",
          rule="SE 1.x C.4.2.2.3 / C.3: a received ephemeral key is a valid point of the suite's curve, checked "
               "before use; 10.7.2.4.4: BAD_MESSAGE")


def _ephemeral_keys(testbed) -> list[tuple[str, bytes]]:
    """Every ephemeral public key the DUT sent, with the role it sent it in, in capture order."""
    keys = []
    for _observed, zcl in _dut_ke_frames(testbed):
        if zcl is None or zcl.is_general or zcl.command_id != KeCommand.EPHEMERAL_DATA:
            continue
        role = "initiator" if zcl.direction == Direction.Client_to_Server else "responder"
        if keys and keys[-1] == (role, bytes(zcl.payload)):
            continue  # the same frame again (a MAC or APS retry)
        keys.append((role, bytes(zcl.payload)))
    return keys


@then("the DUT's ephemeral public key differs from the one it sent in its CBKE at joining")
def fresh_ephemeral(bench, testbed):
    keys = _ephemeral_keys(testbed)
    # The exchange at joining is the DUT's as initiator when it joined the golden's network, and as responder
    # when the golden joined the network the DUT formed (its Trust Center is the server there): in both roles the
    # golden-initiated exchange is the last one with the DUT as responder, and every key before it is earlier.
    last = max((i for i, (role, _key) in enumerate(keys) if role == "responder"), default=None)
    responder = [keys[last][1]] if last is not None else []
    initiator = [k for _role, k in keys[:last]] if last is not None else []
    check(bool(initiator) and bool(responder),
          expected="the DUT's Ephemeral Data in its CBKE at joining and as responder in the golden's exchange",
          observed=f"{len(initiator)} before, {len(responder)} in the golden's exchange", rule=RULE_CBKE)
    reused = [k for k in responder if k in initiator]
    check(not reused, expected="a new ephemeral public key in the golden-initiated exchange",
          observed=f"the DUT sent {reused[0].hex().upper()} in both exchanges" if reused else "",
          rule="SE 1.x C.4.2.2.3: each exchange generates a new ephemeral key pair (ECMQV, SEC 1 6.2)")


def _dut_initiates(testbed, direction: Direction, name: str, rule: str) -> list[Initiate]:
    """The Initiate Key Establishment frames the DUT sent in `direction` (requests as client, responses as
    server), parsed, in capture order; a malformed one fails the case."""
    out = []
    for _observed, zcl in _dut_ke_frames(testbed):
        if zcl is None or zcl.is_general or zcl.command_id != KeCommand.INITIATE or zcl.direction != direction:
            continue
        try:
            out.append(parse_payload(KeCommand.INITIATE, zcl.payload))
        except KeFrameError as exc:
            check(False, expected=f"a well-formed {name}", observed=str(exc), rule=rule)
    return out


def _initiate_responses(testbed):
    """The Initiate Key Establishment Responses the DUT sent (it is the server there)."""
    return _dut_initiates(testbed, Direction.Server_to_Client, "Initiate Key Establishment Response",
                          RULE_INITIATE_RESPONSE)


def _initiate_response(testbed) -> Initiate:
    responses = _initiate_responses(testbed)
    check(bool(responses), expected="an Initiate Key Establishment Response from the DUT on the air",
          observed=ke_trail(testbed), rule=RULE_INITIATE_RESPONSE)
    return responses[-1]


def _answer(bench, testbed, command: KeCommand):
    """(the golden's *command* frame, the DUT's next KE frame after it) in the exchange under judgement, as
    events; None for either that is not there."""
    events = _exchange_events(bench, testbed)
    index = next((i for i, e in enumerate(events) if e.kind is KeEventKind.FRAME_SENT and e.command is command), None)
    if index is None:
        return None, None
    return events[index], next((e for e in events[index + 1:] if e.kind is KeEventKind.FRAME_RECEIVED), None)


def _answer_time(bench, testbed, command: KeCommand) -> tuple[float, float] | None:
    """(when the golden sent *command*, when the DUT's answer to it came) in the exchange under judgement."""
    sent, answer = _answer(bench, testbed, command)
    return (sent.at, answer.at) if sent is not None and answer is not None else None


def _answers_within(bench, testbed, command: KeCommand, advertised: int, name: str) -> None:
    transit = bench.pixit_seconds("ke_transit_time", 1)
    times = _answer_time(bench, testbed, command)
    check(times is not None, expected=f"the DUT answers the golden's {command.name}", observed=ke_trail(testbed),
          rule=RULE_CBKE)
    took = times[1] - times[0]
    check(took <= advertised + transit,
          expected=f"the DUT answers {command.name} within its advertised {name} ({advertised} s) and the PIXIT "
                   f"transit time ({transit:g} s)",
          observed=f"it answered after {took:.3f} s", rule=RULE_GENERATE_TIMES)


@then("the DUT answers Ephemeral Data within its advertised Ephemeral Data Generate Time")
def ephemeral_in_time(bench, testbed):
    response = _initiate_response(testbed)
    _answers_within(bench, testbed, KeCommand.EPHEMERAL_DATA, response.ephemeral_data_generate_time,
                    "Ephemeral Data Generate Time")


@then("the DUT answers Confirm Key within its advertised Confirm Key Generate Time")
def confirm_in_time(bench, testbed):
    response = _initiate_response(testbed)
    _answers_within(bench, testbed, KeCommand.CONFIRM_KEY, response.confirm_key_generate_time,
                    "Confirm Key Generate Time")


@then("each Key Establishment response from the DUT carries the ZCL sequence number of the golden's request")
def responses_carry_tsn(bench, testbed):
    requests = {}  # command -> the tsn of the golden's latest request, in capture order
    pairs = []
    frames = sorted([(o.timestamp, 0, zcl) for o, zcl in _dut_ke_frames(testbed, to_dut=True)]
                    + [(o.timestamp, 1, zcl) for o, zcl in _dut_ke_frames(testbed)], key=lambda f: (f[0], f[1]))
    for _at, from_dut, zcl in frames:
        if zcl is None or zcl.is_general or zcl.command_id not in (KeCommand.INITIATE, KeCommand.EPHEMERAL_DATA,
                                                                   KeCommand.CONFIRM_KEY):
            continue
        if not from_dut and zcl.direction == Direction.Client_to_Server:
            requests[zcl.command_id] = zcl.tsn
        elif from_dut and zcl.direction == Direction.Server_to_Client and zcl.command_id in requests:
            pairs.append((KeCommand(zcl.command_id), requests[zcl.command_id], zcl.tsn))
    check(len({command for command, _, _ in pairs}) == 3,
          expected="the DUT's Initiate, Ephemeral Data and Confirm Key responses to the golden's requests on the air",
          observed=f"responses to {sorted({c.name for c, _, _ in pairs})}", rule=RULE_CBKE)
    wrong = [f"{command.name} response 0x{got:02X} to request 0x{asked:02X}" for command, asked, got in pairs
             if got != asked]
    check(not wrong, expected="each response carries its request's ZCL sequence number",
          observed="; ".join(wrong), rule=RULE_TSN)


@then(parsers.parse("the DUT answers with an Initiate Key Establishment Response naming suite {suite:d}"))
def initiate_response_suite(bench, testbed, suite):
    response = _initiate_response(testbed)
    testbed.notes["initiate_response"] = response
    expected = suite_bitmap([suite])
    check(response.suite == expected, expected=f"suite 0x{expected:04X} (suite {suite}, the one requested)",
          observed=f"suite 0x{response.suite:04X}", rule=RULE_INITIATE_RESPONSE)


@then("the response's generate times are at least one second")
def initiate_response_times(testbed):
    response = testbed.notes["initiate_response"]
    times = (response.ephemeral_data_generate_time, response.confirm_key_generate_time)
    check(min(times) >= 1, expected="Ephemeral Data and Confirm Key Generate Times of at least 1 s",
          observed=f"{times[0]} s and {times[1]} s",
          rule=f"{RULE_GENERATE_TIMES}: a time of 0 leaves the initiator no time to wait for an answer that takes any")


@then(parsers.parse("the response's certificate is a suite {suite:d} certificate from the test CA for the DUT's "
                    "IEEE address"))
def initiate_response_certificate(bench, testbed, suite):
    response = testbed.notes["initiate_response"]
    try:
        certificate = parse_certificate(response.identity, suite)
    except CryptoError as exc:
        check(False, expected=f"a suite {suite} implicit certificate", observed=str(exc),
              rule="SE 1.x C.4: implicit certificate format")
    subject = testbed.dut_ieee.to_bytes(8, "big")
    issuer = bench.ke_material.issuer
    wrong = []
    if certificate.issuer != issuer:
        wrong.append(f"issuer {certificate.issuer.hex().upper()}, expected {issuer.hex().upper()} (the test CA)")
    if certificate.subject != subject:
        wrong.append(f"subject {certificate.subject.hex().upper()}, expected {subject.hex().upper()} (the DUT's IEEE)")
    if isinstance(certificate, Suite2Certificate) and not certificate.key_usage & KEY_USAGE_KEY_AGREEMENT:
        wrong.append(f"key usage 0x{certificate.key_usage:02X} without key agreement (0x08)")
    try:
        certificate.reconstruction_point()
    except CryptoError as exc:
        wrong.append(str(exc))
    check(not wrong, expected=f"a suite {suite} certificate issued by the test CA to the DUT's IEEE address",
          observed="; ".join(wrong),
          rule="SE 1.x C.4: certificate issuer (the CA), subject (the device's IEEE), suite 2 type 0x00, curve "
               "0x0D, hash 0x08, key usage with key agreement (0x08)")


#: How long the golden holds its Ephemeral Data back after the DUT's Initiate response (TC-KE-4.13): the second
#: node initiates meanwhile. Well inside the DUT's wait for it (its margin plus the golden's advertised time).
SECOND_PARTNER_WINDOW = 1.0  # seconds


@given("a second golden node has joined the network")
def second_partner_joined(bench, testbed):
    bench.run(bench.second_ke_partner(testbed), 60, "a second golden node joining")


async def _second_initiator_mid_exchange(bench, testbed):
    golden, partner = testbed.golden.ke, testbed.ke_partner
    nwk, endpoint, since = dut_nwk(testbed), bench.dut_profile.endpoint, testbed.notes["ke_started_at"]
    running = asyncio.ensure_future(golden.initiate(nwk, endpoint, ieee=testbed.dut_ieee))
    second = None
    try:
        await golden.wait_event(lambda e: e.partner_nwk == nwk and e.at >= since and e.kind is KeEventKind.FRAME_RECEIVED
                                and e.command is KeCommand.INITIATE, _ke_time(bench),
                                "the DUT's Initiate Key Establishment Response")
        second = await partner.establish(nwk, endpoint, partner_ieee=testbed.dut_ieee,
                                         suite=min(bench.dut_ke_suites), retry=NO_RETRY)
    except TimeoutError:
        pass  # the DUT did not answer the golden: the steps say so from the golden's events
    return await running, second


@when("the golden initiates key establishment with the DUT and the second node initiates while it runs")
def golden_and_second_initiate(bench, testbed):
    _arm(testbed, delay_command=KeCommand.INITIATE, delay_seconds=SECOND_PARTNER_WINDOW)
    testbed.notes["ke_started_at"] = bench.clock.monotonic()
    bound = 3 * _ke_time(bench) + 60
    testbed.notes["golden_outcome"], testbed.notes["second_outcome"] = bench.run(
        _second_initiator_mid_exchange(bench, testbed), bound, "golden-initiated CBKE with a second initiator")


@then("the DUT answers the second node with Terminate Key Establishment status NO_RESOURCES and a wait time")
def second_partner_busy(bench, testbed):
    second = testbed.notes["second_outcome"]
    ok = (second is not None and second.by is TerminatedBy.PARTNER and second.status == KeStatus.No_Resources
          and (second.wait_time or 0) > 0)
    check(ok, expected="Terminate Key Establishment from the DUT to the second initiator with NO_RESOURCES and a "
                       "wait time above 0, while its exchange with the golden runs",
          observed=("the second node never initiated: the DUT did not answer the golden's Initiate"
                    if second is None else str(second) + (f", wait {second.wait_time} s" if second.wait_time is not
                                                          None else "")) + f"; {ke_trail(testbed)}",
          rule="SE 1.x 10.7.2.4.4: NO_RESOURCES and its wait time; one exchange at a time (reference "
               "implementation: Silicon Labs key-establishment.c terminates a second partner with NO_RESOURCES)")

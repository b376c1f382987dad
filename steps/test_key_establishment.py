"""Steps of features/key_establishment: CBKE with the golden ESI as Trust Center, its test hooks and probes.

The DUT is judged by what reaches the golden (its Key Establishment events, with bench-clock times), by the
capture (certificates, security of KE frames) and by whether it acts on SE probes under chosen keys.
"""

from __future__ import annotations

import pytest
from pytest_bdd import given, parsers, then, when
from zigpy.zcl.foundation import Direction, GeneralCommand, Status

from harness.bdd import certification_cases
from harness.crypto import CryptoError, parse_certificate
from harness.golden.golden import ESI_ENDPOINT
from harness.ke import (
    CertificateMangle,
    GoldenKeFaults,
    KeCommand,
    KeEventKind,
    TerminatedBy,
    suite_bitmap,
    suite_from_bitmap,
)
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


def _dut_ke_frames(testbed):
    """(observed frame, ZCL frame) of every Key Establishment frame the DUT put on the air."""
    nwk = dut_nwk(testbed)
    out = []
    for frame in testbed.observed():
        if frame.nwk is None or frame.nwk.src != nwk or frame.aps is None or frame.aps.cluster != KeyEstablishmentCluster.cluster_id:
            continue
        if frame.aps.profile != SE_PROFILE_ID:
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


def _golden_initiates(bench, testbed):
    testbed.notes["ke_started_at"] = bench.clock.monotonic()
    bound = 3 * _ke_time(bench) + 60  # the exchange's own timeouts end it well before
    testbed.notes["golden_outcome"] = bench.run(testbed.golden.ke.initiate(
        dut_nwk(testbed), bench.dut_profile.endpoint, ieee=testbed.dut_ieee), bound, "golden-initiated CBKE")


@when("the golden ESI initiates key establishment with the DUT")
def golden_initiates(bench, testbed):
    _golden_initiates(bench, testbed)


@when("the golden ESI initiates key establishment with the DUT naming a suite the DUT does not claim")
def golden_initiates_unclaimed(bench, testbed):
    _arm(testbed, offer_suite=_unclaimed_suite_bit(bench))
    _golden_initiates(bench, testbed)


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
    initiates = []
    for _observed, zcl in _dut_ke_frames(testbed):
        if zcl is None or zcl.is_general or zcl.command_id != KeCommand.INITIATE:
            continue
        if zcl.direction != Direction.Client_to_Server:
            continue
        try:
            initiates.append(parse_payload(KeCommand.INITIATE, zcl.payload))
        except KeFrameError as exc:
            check(False, expected="a well-formed Initiate Key Establishment request", observed=str(exc),
                  rule="SE 1.x 10.7.2.3.1: Initiate Key Establishment Request")
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
    probe = _probe(bench, testbed, link_key=completed[-1].key)
    acted, observed = _acted(bench, testbed, probe)
    check(not acted, expected="no Read Attributes Response nor a Default Response SUCCESS to Read Attributes "
                              "secured with the unconfirmed key (no answer, or a Default Response NOT_AUTHORIZED "
                              "or FAILURE)", observed=observed,
          rule=f"SE 1.x 5.4.7: a key whose MACV did not verify is discarded; {RULE_NOT_ACTED}")


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

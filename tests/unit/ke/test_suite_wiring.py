"""The pieces the suite's CBKE wiring adds: the bench's test-CA material, the device faults the reference IHD
seeds (any suite, silent on bad certificates), engine swaps and the KeyEstablishmentSuite attribute."""

from __future__ import annotations

import asyncio

import pytest

from harness.crypto import TestCA, parse_certificate
from harness.crypto.ecqv import TEST_ISSUER
from harness.ke import (
    CertificateMangle,
    DeviceKeFaults,
    GoldenKeFaults,
    KeCommand,
    KeEventKind,
    KeResult,
    KeyEstablishment,
    RetryPolicy,
)
from harness.ke.events import TerminatedBy
from harness.ke.material import KeMaterial, KeMaterialError
from harness.se.datamodel import Side
from harness.se.types import KeyEstablishmentStatus as S
from harness.zcl import AttributeKey, ZclEngine

from .conftest import DEVICE_IEEE, DEVICE_NWK, ENDPOINT, GOLDEN_IEEE, GOLDEN_NWK, make_engine

NO_RETRY = RetryPolicy(busy_retries=0, timeout_retries=0)
# A test CA private key (any scalar below sect163k1's n); a public test value, not a secret.
CA_KEY = "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"


def _terminates_from_device(pair):
    return [e for e in pair.gke.events_of(KeEventKind.TERMINATED) if e.by is TerminatedBy.PARTNER]


# -- KeMaterial ------------------------------------------------------------------------------------------------

def test_seeded_material_is_reproducible_and_uses_the_test_issuer():
    a, b = KeMaterial.seeded(), KeMaterial.seeded()
    assert a.ca_public_key(1) == b.ca_public_key(1)
    assert a.issuer == TEST_ISSUER
    assert "redacted" in repr(a)


def test_material_mints_certificates_for_the_subject_with_the_profile_issuer():
    ca = TestCA.from_bytes(bytes.fromhex(CA_KEY.replace(":", "")))
    material = KeMaterial.from_profile("11:22:33:44:55:66:77:88", ca.public_key_bytes(1).hex(), CA_KEY)
    assert material.issuer == bytes.fromhex("1122334455667788")
    engine = material.engine(DEVICE_IEEE, (1,))
    certificate = parse_certificate(asyncio.run(engine.certificate(1)), 1)
    assert certificate.subject == DEVICE_IEEE.to_bytes(8, "big")
    assert certificate.issuer == bytes.fromhex("1122334455667788")
    assert material.engine(DEVICE_IEEE, (1,)) is engine  # minted once per identity


def test_material_refuses_a_public_key_that_is_not_the_private_keys():
    other = TestCA.from_bytes(bytes.fromhex("05" * 20)).public_key_bytes(1).hex()
    with pytest.raises(KeMaterialError, match="public_key is not the public key"):
        KeMaterial.from_profile("11:22:33:44:55:66:77:88", other, CA_KEY)


def test_material_refuses_bad_hex():
    with pytest.raises(KeMaterialError, match="must be hex"):
        KeMaterial.from_profile("not hex", "00", CA_KEY)


def test_foreign_subject_fault_mints_another_subject():
    material = KeMaterial.seeded()
    faulty = material.engine(DEVICE_IEEE, (1,), DeviceKeFaults(foreign_subject=True))
    certificate = parse_certificate(asyncio.run(faulty.certificate(1)), 1)
    assert certificate.subject != DEVICE_IEEE.to_bytes(8, "big")


# -- device faults the reference IHD seeds ----------------------------------------------------------------------

def test_conformant_initiator_refuses_a_suite_it_did_not_ask_for(pair_factory):
    pair = pair_factory(golden=GoldenKeFaults(offer_suite=0x0002))
    outcome = pair.establish(retry=NO_RETRY, suite=1)
    assert outcome.status == S.Unsupported_Suite and outcome.by is TerminatedBy.LOCAL


def test_accept_any_suite_initiator_carries_on(pair_factory):
    pair = pair_factory(golden=GoldenKeFaults(offer_suite=0x0002), device=DeviceKeFaults(accept_any_suite=True))
    outcome = pair.establish(retry=NO_RETRY, suite=1)
    assert outcome.success
    assert not [e for e in _terminates_from_device(pair) if e.status == S.Unsupported_Suite]


def test_accept_any_suite_responder_carries_on(link, pair_factory):
    pair = pair_factory(golden=GoldenKeFaults(offer_suite=0x0002), device=DeviceKeFaults(accept_any_suite=True))
    # The golden initiates towards the device (the device is the responder here).
    outcome = link.run(pair.gke.establish(DEVICE_NWK, ENDPOINT, suite=1, retry=NO_RETRY))
    assert outcome.success


def test_conformant_responder_refuses_an_unsupported_suite(link, pair_factory):
    pair = pair_factory(golden=GoldenKeFaults(offer_suite=0x0002))
    outcome = link.run(pair.gke.establish(DEVICE_NWK, ENDPOINT, suite=1, retry=NO_RETRY))
    assert outcome.status == S.Unsupported_Suite and outcome.by is TerminatedBy.PARTNER


@pytest.mark.parametrize("mangle", [CertificateMangle.ISSUER, CertificateMangle.LENGTH, CertificateMangle.SUBJECT,
                                    CertificateMangle.CORRUPT_BYTE])
def test_silent_on_bad_certificate_sends_no_terminate(pair_factory, mangle):
    conformant = pair_factory(golden=GoldenKeFaults(certificate=mangle))
    conformant.establish(retry=NO_RETRY, suite=1)
    assert _terminates_from_device(conformant), "a conformant device terminates"

    faulty = pair_factory(golden=GoldenKeFaults(certificate=mangle), device=DeviceKeFaults(silent_on_bad_certificate=True))
    outcome = faulty.establish(retry=NO_RETRY, suite=1)
    assert outcome.result is KeResult.TERMINATED and outcome.status is None
    assert not _terminates_from_device(faulty)
    assert not [e for e in faulty.dke.events_of(KeEventKind.FRAME_SENT) if e.command is KeCommand.EPHEMERAL_DATA]


# -- engine swap and the suite attribute --------------------------------------------------------------------------

def test_set_engine_republishes_the_suite_attribute(pair_factory, ca, identities):
    pair = pair_factory(golden_suites=(1, 2))
    key = AttributeKey(ENDPOINT, 0x0800, Side.SERVER, 0x0000)
    assert pair.golden.zcl.store.get(key) == 0x0003
    pair.gke.set_engine(make_engine(ca, identities, GOLDEN_IEEE, (1,), seed=5))
    assert pair.golden.zcl.store.get(key) == 0x0001
    assert pair.establish(retry=NO_RETRY).suite == 1


def test_a_removed_suite_attribute_stays_removed(link, ca, identities):
    """A host that carries the cluster without KeyEstablishmentSuite (a seeded fault) keeps it missing."""
    zcl = ZclEngine(lambda packet: None)
    zcl.store.add_cluster(ENDPOINT, 0x0800, Side.SERVER)
    zcl.store.remove_attribute(AttributeKey(ENDPOINT, 0x0800, Side.SERVER, 0x0000))
    KeyEstablishment(zcl, ENDPOINT, make_engine(ca, identities, GOLDEN_IEEE), send=zcl._send,
                     ieee_of=lambda nwk: GOLDEN_IEEE if nwk == GOLDEN_NWK else None)
    assert zcl.store.entry(AttributeKey(ENDPOINT, 0x0800, Side.SERVER, 0x0000)) is None
    # The client side was not carried at all: the state machine adds it with the attribute.
    assert zcl.store.get(AttributeKey(ENDPOINT, 0x0800, Side.CLIENT, 0x0000)) == 0x0001

"""Evidence that holds: the journal's sealed chain, signing at the source, pinned verification, atomic outputs.

Each auditor's probe of issue 15 is a test here: re-sign with another key, strip the signature, edit a
verdict, remove a record, append an end line to a killed run, and a JUnit or summary file that does not parse.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from harness.atomic import write_atomically
from harness.results import (
    JOURNAL_NAME,
    Journal,
    OverallVerdict,
    RunScope,
    Verdict,
    key_fingerprint,
    read_journal,
    record_hash,
)
from reports.__main__ import main
from reports.build import SigningRefused, build_report
from reports.junit import add_suite_properties
from reports.manifest import ManifestError, keygen, load_private_key, load_public_key, verify

from .samples import case, run_info

IDS = ["TC-JOIN-1.1", "TC-JOIN-1.2", "TC-JOIN-1.3"]
JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="1"><testcase classname="steps.test_joining" name="t"/></testsuite>
</testsuites>
"""


def _conformant_run(run_dir: Path, *, failed: str | None = None, complete: bool = True,
                    lab_key: Ed25519PrivateKey | None = None) -> Journal:
    """A run of every applicable case (so a clean one is CONFORMANT), written through the real Journal."""
    journal = Journal.open(run_dir, run_info(scope=RunScope(applicable=IDS)))
    for case_id in IDS:
        journal.record(case(case_id, Verdict.FAILED if case_id == failed else Verdict.PASSED))
    if complete:
        journal.close({"exitstatus": 0}, lab_key=lab_key)
    else:
        journal.__exit__(None, None, None)  # the process is killed: no end record, the sealing key is gone
    (run_dir / "junit.xml").write_text(JUNIT)
    return journal


def _lines(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / JOURNAL_NAME).read_text().splitlines()]


def _write_lines(run_dir: Path, records: list[dict]) -> None:
    (run_dir / JOURNAL_NAME).write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records))


# -- the chain -----------------------------------------------------------------------------------------------

def test_an_untouched_journal_is_intact_and_sealed_by_its_end_record(tmp_path: Path) -> None:
    journal = _conformant_run(tmp_path)
    contents = read_journal(tmp_path)
    chain = contents.chain
    assert chain.status == "intact" and contents.complete and chain.broken_at is None
    assert chain.records == 5 and chain.head == journal.head == record_hash(_lines(tmp_path)[-1])
    records = _lines(tmp_path)
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5]
    assert records[0]["chain_key"] == chain.chain_key and chain.signer == "unsigned"
    # The sealing key's private half was never written: only the 32-byte public key and 64-byte seals are hex.
    assert all(len(r["seal"]) == 128 for r in records) and len(records[0]["chain_key"]) == 64
    assert build_report(tmp_path).verdict is OverallVerdict.CONFORMANT


def test_an_edited_verdict_breaks_the_chain_and_the_rebuilt_report_is_not_conformant(tmp_path: Path) -> None:
    _conformant_run(tmp_path, failed="TC-JOIN-1.2")
    assert build_report(tmp_path).verdict is OverallVerdict.NOT_CONFORMANT
    records = _lines(tmp_path)
    records[2]["case"]["verdict"] = "passed"  # the auditor's probe: failed -> passed, then rebuild
    _write_lines(tmp_path, records)
    contents = read_journal(tmp_path)
    assert contents.chain.status == "broken" and contents.chain.broken_at == 3
    assert "seal does not verify" in contents.chain.problem and contents.complete is False
    built = build_report(tmp_path)
    summary = json.loads(built.summary.read_text())
    assert built.verdict is OverallVerdict.INCONCLUSIVE
    assert summary["overall"]["reasons"][0].startswith(
        "the journal's chain is broken at line 3: evidence was altered")
    assert summary["integrity"]["chain"] == "broken" and summary["integrity"]["chain_broken_at"] == 3


def test_a_record_resealed_under_another_key_is_still_an_alteration(tmp_path: Path) -> None:
    _conformant_run(tmp_path, failed="TC-JOIN-1.2")
    records = _lines(tmp_path)
    records[2]["case"]["verdict"] = "passed"
    forger = Ed25519PrivateKey.generate()
    records[2]["seal"] = forger.sign(b"se-journal/2 record " + bytes.fromhex(record_hash(records[2]))).hex()
    _write_lines(tmp_path, records)
    assert read_journal(tmp_path).chain.broken_at == 3


def test_a_removed_record_breaks_the_chain_where_it_was(tmp_path: Path) -> None:
    _conformant_run(tmp_path, failed="TC-JOIN-1.2")
    records = _lines(tmp_path)
    del records[2]  # the failed case disappears
    _write_lines(tmp_path, records)
    chain = read_journal(tmp_path).chain
    assert chain.status == "broken" and chain.broken_at == 3 and "removed" in chain.problem
    assert build_report(tmp_path).verdict is OverallVerdict.INCONCLUSIVE


def test_an_end_line_appended_to_a_killed_run_does_not_complete_it(tmp_path: Path) -> None:
    journal = _conformant_run(tmp_path, complete=False)
    assert read_journal(tmp_path).chain.status == "unsealed"
    # The forger even gets the sequence number and the previous hash right; only the seal is out of reach.
    end = {"type": "end", "finished": "2025-03-01T13:00:00+00:00", "summary": {"exitstatus": 0},
           "seq": 5, "prev": journal.head, "seal": "00" * 64}
    with (tmp_path / JOURNAL_NAME).open("a") as file:
        file.write(json.dumps(end) + "\n")
    contents = read_journal(tmp_path)
    assert contents.chain.status == "broken" and contents.chain.broken_at == 5 and contents.complete is False
    built = build_report(tmp_path)
    assert built.verdict is not OverallVerdict.CONFORMANT and built.complete is False


def test_a_record_appended_after_the_end_breaks_the_chain(tmp_path: Path) -> None:
    journal = _conformant_run(tmp_path)
    extra = {"type": "case", "case": case("TC-JOIN-9.9", Verdict.PASSED).model_dump(mode="json"),
             "seq": 6, "prev": journal.head, "seal": "00" * 64}
    with (tmp_path / JOURNAL_NAME).open("a") as file:
        file.write(json.dumps(extra) + "\n")
    contents = read_journal(tmp_path)
    assert contents.chain.broken_at == 6 and contents.complete is False


def test_a_torn_end_record_reads_as_an_unsealed_incomplete_run(tmp_path: Path) -> None:
    _conformant_run(tmp_path)
    path = tmp_path / JOURNAL_NAME
    data = path.read_bytes()
    path.write_bytes(data[: data.rstrip(b"\n").rfind(b"\n") + 60])  # killed while the end record was written
    contents = read_journal(tmp_path)
    assert contents.torn_tail and contents.chain.status == "unsealed" and contents.complete is False
    assert build_report(tmp_path).verdict is OverallVerdict.INCONCLUSIVE


def test_the_lab_signs_the_chain_head_at_the_source(tmp_path: Path) -> None:
    lab_key = Ed25519PrivateKey.generate()
    _conformant_run(tmp_path, lab_key=lab_key)
    chain = read_journal(tmp_path).chain
    assert chain.intact and chain.signer == key_fingerprint(lab_key.public_key())
    records = _lines(tmp_path)
    for field in ("lab_key", "lab_seal"):  # stripping the lab's signature is an alteration too
        stripped = [dict(r) for r in records]
        del stripped[-1][field]
        _write_lines(tmp_path, stripped)
        assert read_journal(tmp_path).chain.broken_at == 5, field
    resigned = [dict(r) for r in records]
    other = Ed25519PrivateKey.generate()
    resigned[-1]["lab_seal"] = other.sign(b"se-journal/2 head " + bytes.fromhex(record_hash(records[-1]))).hex()
    _write_lines(tmp_path, resigned)
    assert "lab's signature" in read_journal(tmp_path).chain.problem


# -- signing and pinned verification -------------------------------------------------------------------------

def _verify(capsys: pytest.CaptureFixture[str], run_dir: Path, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["verify", str(run_dir), *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_signed_at_the_source_verifies_only_against_the_pinned_key(
    tmp_path: Path, lab_keys: tuple[Path, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SE_REPORTS_TRUST", raising=False)
    private, public = lab_keys
    run = tmp_path / "run"
    lab_key = load_private_key(private)
    _conformant_run(run, lab_key=lab_key)
    build_report(run, lab_key=lab_key)
    lab_fp = key_fingerprint(load_public_key(public))
    code, out = _verify(capsys, run, "--public-key", str(public))
    assert code == 0 and f"intact, signed by {lab_fp}" in out and f"signed at the source by {lab_fp}" in out
    code, out = _verify(capsys, run)
    assert code == 3 and "integrity only: signer not authenticated" in out and "signed by ed25519" not in out
    monkeypatch.setenv("SE_REPORTS_TRUST", str(public.parent))  # the trust store: a folder of lab public keys
    keygen(tmp_path / "other.key", tmp_path / "other.pub")
    code, out = _verify(capsys, run)
    assert code == 0 and f"signed by {lab_fp}" in out


def test_re_signing_with_another_key_is_detected(tmp_path: Path, lab_keys: tuple[Path, Path],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    private, public = lab_keys
    run = tmp_path / "run"
    _conformant_run(run, lab_key=load_private_key(private))
    keygen(tmp_path / "forger.key", tmp_path / "forger.pub")
    assert main(["build", str(run), "--key", str(tmp_path / "forger.key")]) == 0
    code, out = _verify(capsys, run, "--public-key", str(public))
    assert code == 1 and "does not match MANIFEST.sig under the given public key" in out
    code, out = _verify(capsys, run)  # unpinned, the forger's consistent signature proves nothing
    assert code == 3 and "signer not authenticated" in out


def test_stripping_the_signature_is_detected(tmp_path: Path, lab_keys: tuple[Path, Path],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    private, public = lab_keys
    run = tmp_path / "run"
    lab_key = load_private_key(private)
    _conformant_run(run, lab_key=lab_key)
    build_report(run, lab_key=lab_key)
    (run / "MANIFEST.sig").unlink()
    code, out = _verify(capsys, run)
    assert code == 1 and "MANIFEST.sig missing but the manifest says it was signed" in out
    assert main(["build", str(run)]) == 0  # rebuilt unsigned: consistent again, but not the lab's
    code, out = _verify(capsys, run, "--public-key", str(public))
    assert code == 1 and "MANIFEST.sig missing: the run was not signed" in out
    code, out = _verify(capsys, run)
    assert code == 3 and "integrity only: signer not authenticated (unsigned" in out


def test_a_report_rebuilt_from_an_edited_journal_cannot_verify_as_the_labs(
    tmp_path: Path, lab_keys: tuple[Path, Path], capsys: pytest.CaptureFixture[str],
) -> None:
    private, public = lab_keys
    run = tmp_path / "run"
    lab_key = load_private_key(private)
    _conformant_run(run, failed="TC-JOIN-1.2", lab_key=lab_key)
    build_report(run, lab_key=lab_key)
    records = _lines(run)
    records[2]["case"]["verdict"] = "passed"
    _write_lines(run, records)
    assert main(["build", str(run)]) == 0
    assert json.loads((run / "summary.json").read_text())["overall"]["verdict"] == "INCONCLUSIVE"
    for pinned in ([], ["--public-key", str(public)]):
        code, out = _verify(capsys, run, *pinned)
        assert code == 1 and "evidence: journal.jsonl: the journal's chain is broken at line 3" in out
    # Nor can the lab be made to sign it: build --key and manifest --key refuse, in one line, exit 1.
    capsys.readouterr()
    assert main(["build", str(run), "--key", str(private)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "refusing to sign: the journal's chain is broken at line 3" in err
    assert main(["manifest", str(run), "--key", str(private)]) == 1
    assert not (run / "MANIFEST.sig").exists()
    with pytest.raises(SigningRefused):
        build_report(run, lab_key=lab_key)


def test_a_journal_rechained_by_a_forger_is_not_signed_at_the_source(
    tmp_path: Path, lab_keys: tuple[Path, Path], capsys: pytest.CaptureFixture[str],
) -> None:
    # The forger rewrites every record under a sealing key of their own: a consistent chain, but the lab's
    # signature of the head cannot come along, and neither can the lab's signature of the manifest.
    private, public = lab_keys
    run = tmp_path / "run"
    _conformant_run(run, failed="TC-JOIN-1.2", lab_key=load_private_key(private))
    records = _lines(run)
    records[2]["case"]["verdict"] = "passed"
    forger, head = Ed25519PrivateKey.generate(), "0" * 64
    forger_public = forger.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    for record in records:
        for field in ("lab_key", "lab_seal", "seal"):
            record.pop(field, None)
        record["chain_key"] = forger_public.hex() if record["type"] == "run" else record.get("chain_key")
        if record["chain_key"] is None:
            del record["chain_key"]
        record["prev"] = head
        head = record_hash(record)
        record["seal"] = forger.sign(b"se-journal/2 record " + bytes.fromhex(head)).hex()
    _write_lines(run, records)
    chain = read_journal(run).chain
    assert chain.intact and chain.signer == "unsigned"
    assert main(["build", str(run)]) == 0
    code, out = _verify(capsys, run, "--public-key", str(public))
    assert code == 1 and "not signed at the source" in out


def test_verify_checks_that_junit_and_summary_parse_and_follow_the_journal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    _conformant_run(tmp_path)
    (tmp_path / "junit.xml").write_bytes(b"")  # the auditor's 0-byte junit.xml, then a rebuild
    assert main(["build", str(tmp_path)]) == 0
    code, out = _verify(capsys, tmp_path)
    assert code == 1 and "does not parse: junit.xml" in out
    assert f"{tmp_path}: NOT intact" in out and f"{tmp_path}: intact" not in out
    (tmp_path / "junit.xml").write_text(JUNIT)
    (tmp_path / "summary.json").write_text('{"overall": ')
    assert main(["manifest", str(tmp_path)]) == 0
    code, out = _verify(capsys, tmp_path)
    assert code == 1 and "does not parse: summary.json: not JSON" in out
    summary = json.loads(build_report(tmp_path).summary.read_text())
    assert summary["overall"]["verdict"] == "CONFORMANT"
    _conformant_run(tmp_path / "failing", failed="TC-JOIN-1.1")
    summary_path = build_report(tmp_path / "failing").summary
    forged = json.loads(summary_path.read_text())
    forged["overall"]["verdict"] = "CONFORMANT"
    summary_path.write_text(json.dumps(forged))
    assert main(["manifest", str(tmp_path / "failing")]) == 0
    code, out = _verify(capsys, tmp_path / "failing")
    assert code == 1 and "does not follow from the journal (NOT CONFORMANT)" in out


def test_the_report_shows_the_signer_and_the_chain_head(tmp_path: Path) -> None:
    lab_key = Ed25519PrivateKey.generate()
    _conformant_run(tmp_path, lab_key=lab_key)
    built = build_report(tmp_path, lab_key=lab_key)
    integrity = json.loads(built.summary.read_text())["integrity"]
    head = read_journal(tmp_path).chain.head
    lab_fp = key_fingerprint(lab_key.public_key())
    assert integrity["signer"] == integrity["journal_signer"] == lab_fp
    assert integrity["chain"] == "intact" and integrity["chain_head"] == head
    page = built.html.read_text()
    assert 'id="integrity"' in page and lab_fp in page and head in page
    unsigned = json.loads(build_report(tmp_path).summary.read_text())["integrity"]
    assert unsigned["signer"] == "unsigned" and unsigned["journal_signer"] == lab_fp


def test_trust_store_and_lab_key_problems_are_one_line(tmp_path: Path, lab_keys: tuple[Path, Path],
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    _conformant_run(tmp_path / "run")
    build_report(tmp_path / "run")
    store = tmp_path / "store"
    store.mkdir()
    code, out = _verify(capsys, tmp_path / "run", "--public-key", str(store))
    assert code == 2 and "trust store holds no public key" in out and out.count("\n") == 1
    (store / "junk.pem").write_text("not a key")
    code, out = _verify(capsys, tmp_path / "run", "--public-key", str(store))
    assert code == 2 and "junk.pem" in out
    p256 = tmp_path / "p256.key"
    p256.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with pytest.raises(ManifestError, match="must be Ed25519"):
        load_private_key(p256)


# -- atomic outputs ------------------------------------------------------------------------------------------

def test_a_failed_replace_leaves_the_old_file_whole_and_no_temporary(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "summary.json"
    write_atomically(target, '{"old": true}')

    def killed(*_args: object) -> None:
        raise OSError("killed before the rename")

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(OSError):
        write_atomically(target, '{"new": true}')
    assert target.read_text() == '{"old": true}' and sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


def test_junit_properties_are_written_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    junit = tmp_path / "junit.xml"
    junit.write_text(JUNIT)
    monkeypatch.setattr(os, "replace", lambda *_args: (_ for _ in ()).throw(OSError("killed")))
    with pytest.raises(OSError):
        add_suite_properties(junit, run_info())
    assert junit.read_text() == JUNIT  # the auditor found a 0-byte file here
    monkeypatch.undo()
    add_suite_properties(junit, run_info())
    assert 'name="dut.model"' in junit.read_text()


def test_a_killed_writers_leftover_is_kept_out_of_the_manifest(tmp_path: Path) -> None:
    _conformant_run(tmp_path)
    (tmp_path / ".summary.json.x1y2.partial").write_text('{"half": ')
    manifest = json.loads(build_report(tmp_path).manifest.read_text())
    assert not any(name.endswith(".partial") for name in manifest["files"])
    assert not list(tmp_path.glob(".*.partial")) and verify(tmp_path).ok

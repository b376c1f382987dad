"""Integrity manifest: altered, removed and added files, Ed25519 signatures, CLI exit codes."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from harness.results import key_fingerprint
from reports.__main__ import main
from reports.manifest import (
    ManifestError,
    keygen,
    load_private_key,
    load_public_key,
    verify,
    write_manifest,
)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    (run / "TC-JOIN-1.2").mkdir(parents=True)
    (run / "report.html").write_text("<html>NOT CONFORMANT</html>")
    (run / "summary.json").write_text('{"overall": "NOT CONFORMANT"}')
    (run / "TC-JOIN-1.2" / "capture.pcap").write_bytes(bytes(range(256)))
    return run


def test_manifest_lists_every_file_with_its_sha256(run_dir: Path) -> None:
    manifest = json.loads(write_manifest(run_dir).read_text())
    assert sorted(manifest["files"]) == ["TC-JOIN-1.2/capture.pcap", "report.html", "summary.json"]
    # SHA-256 of the bytes 0x00..0xFF (a well-known value).
    assert manifest["files"]["TC-JOIN-1.2/capture.pcap"] == {
        "sha256": "40aff2e9d2d8922e47afd4648e6967497158785fbd1da870e7110266bf944880", "size": 256}
    assert manifest["signing_key"] is None and not (run_dir / "MANIFEST.sig").exists()
    assert verify(run_dir).ok


def test_altered_removed_and_added_files_are_each_named(run_dir: Path) -> None:
    write_manifest(run_dir)
    (run_dir / "summary.json").write_text('{"overall": "CONFORMANT"}')
    (run_dir / "TC-JOIN-1.2" / "capture.pcap").unlink()
    (run_dir / "TC-JOIN-1.2" / "extra.log").write_text("slipped in")
    result = verify(run_dir)
    assert not result.ok
    assert result.altered == ["summary.json"]
    assert result.removed == ["TC-JOIN-1.2/capture.pcap"]
    assert result.added == ["TC-JOIN-1.2/extra.log"]
    assert result.problems() == ["altered: summary.json", "removed: TC-JOIN-1.2/capture.pcap",
                                 "added: TC-JOIN-1.2/extra.log"]


def test_same_size_single_byte_change_is_detected(run_dir: Path) -> None:
    write_manifest(run_dir)
    path = run_dir / "TC-JOIN-1.2" / "capture.pcap"
    data = bytearray(path.read_bytes())
    data[100] ^= 0x01
    path.write_bytes(bytes(data))
    assert verify(run_dir).altered == ["TC-JOIN-1.2/capture.pcap"]


def test_signed_manifest_verifies_under_the_lab_key(run_dir: Path, lab_keys: tuple[Path, Path]) -> None:
    private, public = lab_keys
    write_manifest(run_dir, load_private_key(private))
    result = verify(run_dir, load_public_key(public))
    assert result.ok and result.pinned and result.signed_by is not None
    unpinned = verify(run_dir)
    assert unpinned.ok and not unpinned.pinned and unpinned.signed_by == result.signed_by


def test_another_key_is_a_bad_signature(run_dir: Path, lab_keys: tuple[Path, Path]) -> None:
    write_manifest(run_dir, Ed25519PrivateKey.generate())  # signed, but not by the lab
    result = verify(run_dir, load_public_key(lab_keys[1]))
    assert not result.ok and result.signature_problems == [
        "MANIFEST.json does not match MANIFEST.sig under the given public key"]


def test_rewritten_manifest_breaks_the_signature(run_dir: Path, lab_keys: tuple[Path, Path]) -> None:
    private, public = lab_keys
    write_manifest(run_dir, load_private_key(private))
    # A forger alters a file and updates its hash in the manifest, but cannot re-sign.
    (run_dir / "summary.json").write_text('{"overall": "CONFORMANT"}')
    manifest = json.loads((run_dir / "MANIFEST.json").read_text())
    manifest["files"]["summary.json"]["sha256"] = __import__("hashlib").sha256(
        b'{"overall": "CONFORMANT"}').hexdigest()
    (run_dir / "MANIFEST.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    for key in (load_public_key(public), None):
        result = verify(run_dir, key)
        assert result.altered == [] and len(result.signature_problems) == 1 and not result.ok


def test_missing_or_garbled_signature(run_dir: Path, lab_keys: tuple[Path, Path]) -> None:
    private, public = lab_keys
    write_manifest(run_dir, load_private_key(private))
    (run_dir / "MANIFEST.sig").write_text("zz not hex\n")
    assert verify(run_dir).signature_problems == ["MANIFEST.sig is not a hex signature"]
    (run_dir / "MANIFEST.sig").unlink()
    assert "the manifest says it was signed" in verify(run_dir).signature_problems[0]
    write_manifest(run_dir)  # unsigned, but the lab expects a signature
    assert verify(run_dir, load_public_key(public)).signature_problems == [
        "MANIFEST.sig missing: the run was not signed"]


def test_rewriting_the_manifest_drops_a_stale_signature(run_dir: Path, lab_keys: tuple[Path, Path]) -> None:
    write_manifest(run_dir, load_private_key(lab_keys[0]))
    write_manifest(run_dir)
    assert not (run_dir / "MANIFEST.sig").exists() and verify(run_dir).ok


def test_unusable_manifests(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="no manifest"):
        verify(tmp_path)
    (tmp_path / "MANIFEST.json").write_text("{not json")
    with pytest.raises(ManifestError, match="not JSON"):
        verify(tmp_path)
    (tmp_path / "MANIFEST.json").write_text('{"format": 1, "files": {"../etc/passwd": {"sha256": "00"}}}')
    with pytest.raises(ManifestError, match="outside the run directory"):
        verify(tmp_path)
    with pytest.raises(ManifestError, match="not a directory"):
        verify(tmp_path / "absent")


def test_keygen_files(tmp_path: Path, lab_keys: tuple[Path, Path]) -> None:
    private, public = lab_keys
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    with pytest.raises(ManifestError, match="refusing to overwrite"):
        keygen(private, tmp_path / "other.pub")
    with pytest.raises(ManifestError, match="not a PEM public key"):
        load_public_key(private)
    with pytest.raises(ManifestError, match="not found"):
        load_private_key(tmp_path / "absent.key")


def test_cli_verify_exit_codes_and_output(run_dir: Path, lab_keys: tuple[Path, Path],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    private, public = lab_keys
    assert main(["manifest", str(run_dir), "--key", str(private)]) == 0
    capsys.readouterr()
    assert main(["verify", str(run_dir), "--public-key", str(public)]) == 0
    assert f"intact, signed by {key_fingerprint(load_public_key(public))}" in capsys.readouterr().out

    (run_dir / "report.html").write_text("<html>CONFORMANT</html>")
    (run_dir / "new.txt").write_text("x")
    assert main(["verify", str(run_dir), "--public-key", str(public)]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["altered: report.html", "added: new.txt"]
    assert "NOT intact (2 problem(s))" in captured.err

    assert main(["verify", str(run_dir / "absent")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_cli_keygen(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keygen", str(tmp_path / "k"), str(tmp_path / "k.pub")]) == 0
    assert capsys.readouterr().out.startswith("public key ")
    assert main(["keygen", str(tmp_path / "k"), str(tmp_path / "k2.pub")]) == 2

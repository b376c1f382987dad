"""A suite run signs at the source with the lab key (--lab-key, SE_REPORTS_LAB_KEY); a key that cannot sign
stops the run at start with one line, exit 4."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from harness.results import key_fingerprint, read_journal
from reports.manifest import keygen, load_public_key, verify
from tests.support.suite_process import run_pytest, suite_env


def _pytest(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return run_pytest("-q", *args, env=suite_env(env), timeout=600)


@pytest.fixture
def p256_key(tmp_path: Path) -> Path:
    path = tmp_path / "p256.key"
    path.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return path


@pytest.mark.parametrize(("key", "words"), [
    ("absent.key", ["--lab-key", "absent.key", "not found", "reports keygen"]),
    ("p256", ["--lab-key", "must be Ed25519, not", "reports keygen"]),
    ("lab.pub", ["--lab-key", "not an unencrypted PEM private key"]),
])
def test_a_key_that_cannot_sign_stops_the_run_at_start(tmp_path: Path, p256_key: Path, key: str,
                                                       words: list[str]) -> None:
    keygen(tmp_path / "lab.key", tmp_path / "lab.pub")
    path = p256_key if key == "p256" else tmp_path / key
    artifacts = tmp_path / "run"
    for how in ([f"--lab-key={path}"], []):  # the option, then the environment variable
        done = _pytest("steps/test_joining.py", f"--artifacts={artifacts}", *how,
                       env={} if how else {"SE_REPORTS_LAB_KEY": str(path)})
        errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR:")]
        assert done.returncode == 4 and len(errors) == 1, done.stderr
        assert all(word in errors[0] for word in words), errors[0]
        assert "Traceback" not in done.stderr and not (artifacts / "journal.jsonl").exists()


def test_a_run_with_a_lab_key_signs_its_journal_and_manifest_as_it_finishes(tmp_path: Path) -> None:
    keygen(tmp_path / "lab.key", tmp_path / "lab.pub")
    artifacts = tmp_path / "run"
    done = _pytest("steps/test_joining.py", f"--artifacts={artifacts}",
                   env={"SE_REPORTS_LAB_KEY": str(tmp_path / "lab.key")})
    assert (artifacts / "summary.json").exists(), done.stdout[-3000:] + done.stderr[-3000:]
    lab = load_public_key(tmp_path / "lab.pub")
    chain = read_journal(artifacts).chain
    assert chain.intact and chain.signer == key_fingerprint(lab)
    result = verify(artifacts, lab)
    assert result.ok and result.pinned and result.signed_by == key_fingerprint(lab), result.problems()
    integrity = json.loads((artifacts / "summary.json").read_text())["integrity"]
    assert integrity["signer"] == integrity["journal_signer"] == key_fingerprint(lab)
    assert integrity["chain_head"] == chain.head
    assert "PRIVATE KEY" not in "".join(p.read_text(errors="replace") for p in artifacts.rglob("*") if p.is_file())

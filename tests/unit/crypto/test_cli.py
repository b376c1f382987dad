"""`python -m harness.crypto` reproduces the Annex C values and fails with one clear line on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.crypto.curves import curve_for_suite
from harness.crypto.ecqv import parse_certificate

from .vectors import INSTALL_CODE, INSTALL_CODE_CRC_LE, INSTALL_CODE_LINK_KEY, SUITE1, SUITES

REPO = Path(__file__).resolve().parents[3]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.crypto", *args], cwd=REPO, capture_output=True, text=True, timeout=60
    )


def run_json(*args: str) -> dict:
    result = run(*args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("code", [INSTALL_CODE, INSTALL_CODE + INSTALL_CODE_CRC_LE])
def test_link_key(code: str) -> None:
    out = run_json("link-key", code)
    assert out["crc"] == INSTALL_CODE_CRC_LE
    assert out["link_key"] == INSTALL_CODE_LINK_KEY


def test_cert_with_ca_reconstructs_the_annex_c_key() -> None:
    party = SUITE1["initiator"]
    out = run_json("cert", party["certificate"], "--ca", SUITE1["ca_public_key"])
    assert out["suite"] == 1
    assert out["subject"] == "0000000000000002" and out["issuer"] == "5445535453454341"
    assert out["digest_e"] == party["cert_digest_e"]
    assert out["public_key"] == party["static_public"]


@pytest.mark.parametrize("suite", [1, 2])
@pytest.mark.parametrize("role", ["initiator", "responder"])
def test_cbke_reproduces_annex_c(suite: int, role: str) -> None:
    vectors = SUITES[suite]
    own = vectors[role]
    peer = vectors["responder" if role == "initiator" else "initiator"]
    out = run_json(
        "cbke", "--suite", str(suite), "--ca", vectors["ca_public_key"], "--role", role,
        "--cert", own["certificate"], "--key", own["static_private"], "--ephemeral-key", own["ephemeral_private"],
        "--peer-cert", peer["certificate"], "--peer-ephemeral", peer["ephemeral_public"],
    )  # fmt: skip
    for name in ("z", "mac_key", "key_data", "mac_u", "mac_v"):
        assert out[name] == vectors["shared_secret_z" if name == "z" else name]


@pytest.mark.parametrize("suite", [1, 2])
def test_mint_issues_a_certificate_that_reconstructs(suite: int) -> None:
    out = run_json("mint", "--ca-key", "0123456789ABCDEF", "--subject", "000D6F000A9069E8", "--suite", str(suite))
    cert = parse_certificate(bytes.fromhex(out["certificate"]))
    assert cert.suite == suite and cert.subject == bytes.fromhex("000D6F000A9069E8")
    curve = curve_for_suite(suite)
    public = cert.public_key(bytes.fromhex(out["ca_public_key"]))
    assert curve.base_multiply(int(out["private_key"], 16)) == public


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("link-key", INSTALL_CODE + "C3B6"), "CRC mismatch"),
        (("link-key", "83FED3407A9397"), "is 7 bytes"),
        (("link-key", "xyz"), "not hexadecimal"),
        (("cert", "00" * 47), "expected 48 (suite 1) or 74 (suite 2)"),
        (("cert", SUITE1["initiator"]["certificate"], "--ca", "04" + "00" * 21), "CA public key: prefix 04"),
        (("mint", "--ca-key", "00", "--subject", "000D6F000A9069E8"), "CA private key is out of range"),
        (("mint", "--ca-key", "01", "--subject", "0D6F"), "subject EUI-64 is 8 bytes, got 2"),
        (("cbke", "--suite", "3"), "invalid choice: 3"),
        (("frobnicate",), "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_arguments_give_one_line(args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_cbke_rejects_a_bad_peer_ephemeral_in_one_line() -> None:
    vectors = SUITES[1]
    own, peer = vectors["initiator"], vectors["responder"]
    result = run(
        "cbke", "--suite", "1", "--ca", vectors["ca_public_key"], "--role", "initiator",
        "--cert", own["certificate"], "--key", own["static_private"], "--ephemeral-key", own["ephemeral_private"],
        "--peer-cert", peer["certificate"], "--peer-ephemeral", "02" + "00" * 21,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == "error: cbke: peer ephemeral public key: x = 0 is the point of order 2, not a valid key"

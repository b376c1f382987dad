"""Integrity of a run directory: MANIFEST.json (SHA-256 of every file) and its Ed25519 signature MANIFEST.sig.

``write_manifest`` hashes every file under the directory except the manifest and its signature, and signs
the manifest's exact bytes with a lab's Ed25519 private key when one is given (both files written
atomically). ``verify`` recomputes the hashes and names every altered, removed or added file, a missing or
bad signature, a journal whose chain does not verify, and a junit.xml or summary.json that does not parse
or does not follow from the journal. A signature is only worth the key it is checked against: ``verify``
with pinned keys (``--public-key`` or the trust store) says who signed; without them the key recorded in
the manifest is used, which proves consistency, not origin (docs/reports.md, "Trust model").
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from harness.atomic import write_atomically
from harness.results import (
    JOURNAL_NAME,
    ChainState,
    JournalError,
    key_fingerprint,
    public_key_hex,
    read_journal,
    signs,
    utc_now,
)

MANIFEST_NAME = "MANIFEST.json"
SIGNATURE_NAME = "MANIFEST.sig"
MANIFEST_FORMAT = 1
_CHUNK = 1 << 20


class ManifestError(ValueError):
    """A manifest or key that cannot be read or used; the message names the file and the problem."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files(run_dir: Path) -> dict[str, Path]:
    """Every regular file under run_dir by its POSIX relative path, the manifest and signature excluded."""
    found: dict[str, Path] = {}
    for root, dirs, names in os.walk(run_dir):
        dirs.sort()
        for name in names:
            path = Path(root) / name
            relative = path.relative_to(run_dir).as_posix()
            if relative in (MANIFEST_NAME, SIGNATURE_NAME) or not path.is_file():
                continue
            found[relative] = path
    return dict(sorted(found.items()))


def load_private_key(path: Path | str) -> Ed25519PrivateKey:
    path = Path(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise ManifestError(f"{path}: lab private key not found") from None
    except (ValueError, TypeError) as exc:
        raise ManifestError(f"{path}: not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ManifestError(f"{path}: the lab key must be Ed25519, not {type(key).__name__}")
    return key


def load_public_key(path: Path | str) -> Ed25519PublicKey:
    path = Path(path)
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except FileNotFoundError:
        raise ManifestError(f"{path}: lab public key not found") from None
    except (ValueError, TypeError) as exc:
        raise ManifestError(f"{path}: not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ManifestError(f"{path}: the lab key must be Ed25519, not {type(key).__name__}")
    return key


def load_trust_store(path: Path | str) -> list[Ed25519PublicKey]:
    """The lab public keys to pin: one PEM file, or every ``*.pem`` and ``*.pub`` file of a folder.

    A file in the folder that is not an Ed25519 public key is an error, not skipped: a trust store that
    silently dropped a key would make a genuine report fail without saying why."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".pem", ".pub") and p.is_file())
        if not files:
            raise ManifestError(f"{path}: trust store holds no public key (*.pem or *.pub)")
        return [load_public_key(file) for file in files]
    return [load_public_key(path)]


def keygen(private_path: Path | str, public_path: Path | str) -> str:
    """Write a new Ed25519 lab key pair as PEM; returns the public key as hex. Refuses to overwrite."""
    private_path, public_path = Path(private_path), Path(public_path)
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for path in (private_path, public_path):
        if path.exists():
            raise ManifestError(f"{path}: already exists; refusing to overwrite a lab key")
    # The private key file is created owner-only before any byte of the key is written to it.
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(private_pem)
    public_path.write_bytes(public_pem)
    return public_key_hex(key.public_key())


def write_manifest(run_dir: Path | str, private_key: Ed25519PrivateKey | None = None) -> Path:
    """Write run_dir/MANIFEST.json (and MANIFEST.sig when a key is given); returns the manifest path."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ManifestError(f"{run_dir}: not a directory")
    signature_path = run_dir / SIGNATURE_NAME
    signature_path.unlink(missing_ok=True)  # a stale signature would not match the new manifest
    manifest: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "algorithm": "sha256",
        "created": utc_now().isoformat(),
        "signing_key": (
            {"algorithm": "ed25519", "public_key": public_key_hex(private_key.public_key())}
            if private_key is not None else None
        ),
        "files": {
            name: {"sha256": _sha256(path), "size": path.stat().st_size}
            for name, path in _files(run_dir).items()
        },
    }
    data = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")
    manifest_path = run_dir / MANIFEST_NAME
    # Manifest first, then its signature: a kill between the two leaves a manifest that says it was signed
    # and no signature, which verify reports; neither file is ever seen half written.
    write_atomically(manifest_path, data)
    if private_key is not None:
        write_atomically(signature_path, private_key.sign(data).hex().encode("ascii") + b"\n")
    return manifest_path


@dataclass
class Verification:
    """What ``verify`` found; ``ok`` when nothing was altered, removed or added, the signature holds, the
    journal's chain verifies and the files a reader parses do parse."""

    altered: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    signature_problems: list[str] = field(default_factory=list)
    unparsable: list[str] = field(default_factory=list)  # "junit.xml: malformed XML ..."
    evidence_problems: list[str] = field(default_factory=list)  # the journal's chain, summary vs journal
    signed_by: str | None = None  # fingerprint of the key that verified the signature
    pinned: bool = False  # the signing key is one the caller pinned
    journal: ChainState | None = None  # None when the directory has no readable journal

    @property
    def ok(self) -> bool:
        return not (self.altered or self.removed or self.added or self.signature_problems or self.unparsable
                    or self.evidence_problems)

    def problems(self) -> list[str]:
        return (
            [f"altered: {name}" for name in self.altered]
            + [f"removed: {name}" for name in self.removed]
            + [f"added: {name}" for name in self.added]
            + [f"bad signature: {problem}" for problem in self.signature_problems]
            + [f"does not parse: {problem}" for problem in self.unparsable]
            + [f"evidence: {problem}" for problem in self.evidence_problems]
        )


def _read_manifest(path: Path) -> tuple[bytes, dict[str, Any]]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ManifestError(f"{path}: no manifest (write one with reports.manifest / `reports build`)") from None
    try:
        manifest = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path}: not JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise ManifestError(f"{path}: not a format {MANIFEST_FORMAT} manifest")
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("sha256"), str) for v in files.values()
    ):
        raise ManifestError(f"{path}: 'files' must map each path to its sha256")
    for name in files:
        posix = PurePosixPath(name)
        if posix.is_absolute() or ".." in posix.parts:
            raise ManifestError(f"{path}: file {name!r} is outside the run directory")
    return data, manifest


def verify(
    run_dir: Path | str, public_key: Ed25519PublicKey | Iterable[Ed25519PublicKey] | None = None,
) -> Verification:
    """Check run_dir against its manifest (and signature), the journal's chain, and that junit.xml and
    summary.json parse. ``public_key`` pins one lab key or several (a trust store): only then does
    ``pinned`` say the signer is known. Raises ManifestError when there is no usable manifest."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ManifestError(f"{run_dir}: not a directory")
    trusted = (None if public_key is None
               else [public_key] if isinstance(public_key, Ed25519PublicKey) else list(public_key))
    data, manifest = _read_manifest(run_dir / MANIFEST_NAME)
    result = Verification()
    recorded: dict[str, Any] = manifest["files"]
    present = _files(run_dir)
    for name, entry in recorded.items():
        path = present.get(name)
        if path is None:
            result.removed.append(name)
        elif _sha256(path) != entry["sha256"]:
            result.altered.append(name)
    result.added = [name for name in present if name not in recorded]
    _check_signature(run_dir, data, manifest, trusted, result)
    _check_evidence(run_dir, trusted, result)
    return result


def _check_signature(
    run_dir: Path, data: bytes, manifest: dict[str, Any], trusted: list[Ed25519PublicKey] | None,
    result: Verification,
) -> None:
    signature_path = run_dir / SIGNATURE_NAME
    recorded_key = (manifest.get("signing_key") or {}).get("public_key")
    if not signature_path.exists():
        if trusted is not None:
            result.signature_problems.append(f"{SIGNATURE_NAME} missing: the run was not signed")
        elif recorded_key:
            result.signature_problems.append(f"{SIGNATURE_NAME} missing but the manifest says it was signed")
        return
    try:
        signature = bytes.fromhex(signature_path.read_text(encoding="ascii").strip())
    except (UnicodeDecodeError, ValueError):
        result.signature_problems.append(f"{SIGNATURE_NAME} is not a hex signature")
        return
    if trusted is not None:
        # Pinned: only a key the caller trusts can make the signature good; the manifest's own claim is moot.
        for key in trusted:
            if signs(key, signature, data):
                result.signed_by, result.pinned = key_fingerprint(key), True
                return
        result.signature_problems.append(
            "MANIFEST.json does not match MANIFEST.sig under "
            + ("the given public key" if len(trusted) == 1 else f"any of the {len(trusted)} pinned keys")
        )
        return
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(recorded_key or ""))
    except ValueError:
        result.signature_problems.append("the manifest does not record a valid Ed25519 public key")
        return
    if not signs(key, signature, data):
        result.signature_problems.append("MANIFEST.json does not match MANIFEST.sig under the key recorded in "
                                         "the manifest")
        return
    result.signed_by = key_fingerprint(key)


def _check_evidence(run_dir: Path, trusted: list[Ed25519PublicKey] | None, result: Verification) -> None:
    """What the file hashes cannot show: that the journal's records verify, that junit.xml and summary.json
    parse, and that the summary's verdict and chain head are the ones its journal gives."""
    from reports.junit import JUnitFileError, load  # here: junit pulls in junitparser, verify alone needs it
    from reports.summary import build_summary

    if (run_dir / "junit.xml").exists():
        try:
            load(run_dir / "junit.xml")
        except JUnitFileError as exc:
            result.unparsable.append(str(exc).removeprefix(f"{run_dir}/"))
    summary: Any = None
    if (run_dir / "summary.json").exists():
        try:
            summary = json.loads((run_dir / "summary.json").read_bytes())
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            result.unparsable.append(f"summary.json: not JSON ({exc})")
        else:
            if not isinstance(summary, dict):
                result.unparsable.append("summary.json: not a JSON object")
                summary = None
    if not (run_dir / JOURNAL_NAME).exists():
        return  # not a run directory (or the journal is gone, which the manifest reports as removed)
    try:
        contents = read_journal(run_dir)
    except JournalError as exc:
        result.evidence_problems.append(str(exc).removeprefix(f"{run_dir}/"))
        return
    chain = result.journal = contents.chain
    if chain is not None and chain.status == "broken":
        result.evidence_problems.append(f"{JOURNAL_NAME}: {chain.describe()}")
        return
    if trusted is not None and chain is not None and chain.lab_key:
        if chain.signer not in {key_fingerprint(key) for key in trusted}:
            result.evidence_problems.append(
                f"{JOURNAL_NAME}: signed at the source by {chain.signer}, which is not a pinned key")
    if summary is not None and "overall" in summary:
        expected = build_summary(contents, run_dir)
        claimed = summary.get("overall", {}).get("verdict") if isinstance(summary.get("overall"), dict) else None
        if claimed != expected["overall"]["verdict"]:
            result.evidence_problems.append(
                f"summary.json: overall verdict {claimed!r} does not follow from the journal "
                f"({expected['overall']['verdict']})")
        integrity = summary.get("integrity") if isinstance(summary.get("integrity"), dict) else {}
        if integrity.get("chain_head") not in (None, chain.head if chain else None):
            result.evidence_problems.append("summary.json: its chain head is not the journal's")
        signer = result.signed_by or "unsigned"
        if not result.signature_problems and integrity.get("signer") not in (None, signer):
            result.evidence_problems.append(
                f"summary.json: names its signer {integrity.get('signer')!r}, but MANIFEST.sig is by {signer}")

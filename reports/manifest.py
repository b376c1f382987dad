"""Integrity of a run directory: MANIFEST.json (SHA-256 of every file) and its Ed25519 signature MANIFEST.sig.

``write_manifest`` hashes every file under the directory except the manifest and its signature, and signs
the manifest's exact bytes with a lab's Ed25519 private key when one is given. ``verify`` recomputes the
hashes and names every altered, removed or added file and a missing or bad signature. A signature is only
worth the key it is checked against: ``verify`` with ``public_key`` pins the lab's key; without it the key
recorded in the manifest is used, which proves consistency, not origin.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from harness.results import utc_now

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


def public_key_hex(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


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
    manifest_path.write_bytes(data)
    if private_key is not None:
        signature_path.write_bytes(private_key.sign(data).hex().encode("ascii") + b"\n")
    return manifest_path


@dataclass
class Verification:
    """What ``verify`` found; ``ok`` when nothing was altered, removed or added and the signature holds."""

    altered: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    signature_problems: list[str] = field(default_factory=list)
    signed_by: str | None = None  # public key (hex) that verified the signature
    pinned: bool = False  # the signing key was the one the caller supplied

    @property
    def ok(self) -> bool:
        return not (self.altered or self.removed or self.added or self.signature_problems)

    def problems(self) -> list[str]:
        return (
            [f"altered: {name}" for name in self.altered]
            + [f"removed: {name}" for name in self.removed]
            + [f"added: {name}" for name in self.added]
            + [f"bad signature: {problem}" for problem in self.signature_problems]
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


def verify(run_dir: Path | str, public_key: Ed25519PublicKey | None = None) -> Verification:
    """Check run_dir against its manifest (and signature). Raises ManifestError when there is no usable one."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ManifestError(f"{run_dir}: not a directory")
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
    _check_signature(run_dir, data, manifest, public_key, result)
    return result


def _check_signature(
    run_dir: Path, data: bytes, manifest: dict[str, Any], public_key: Ed25519PublicKey | None,
    result: Verification,
) -> None:
    signature_path = run_dir / SIGNATURE_NAME
    recorded_key = (manifest.get("signing_key") or {}).get("public_key")
    if not signature_path.exists():
        if public_key is not None:
            result.signature_problems.append(f"{SIGNATURE_NAME} missing: the run was not signed")
        elif recorded_key:
            result.signature_problems.append(f"{SIGNATURE_NAME} missing but the manifest says it was signed")
        return
    try:
        signature = bytes.fromhex(signature_path.read_text(encoding="ascii").strip())
    except (UnicodeDecodeError, ValueError):
        result.signature_problems.append(f"{SIGNATURE_NAME} is not a hex signature")
        return
    if public_key is not None:
        key, result.pinned = public_key, True
    else:
        try:
            key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(recorded_key or ""))
        except ValueError:
            result.signature_problems.append("the manifest does not record a valid Ed25519 public key")
            return
    try:
        key.verify(signature, data)
    except InvalidSignature:
        result.signature_problems.append(
            "MANIFEST.json does not match MANIFEST.sig under "
            + ("the given public key" if public_key is not None else "the key recorded in the manifest")
        )
        return
    result.signed_by = public_key_hex(key)

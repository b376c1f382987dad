"""Fixtures shared by the report tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from reports.manifest import keygen


@pytest.fixture
def lab_keys(tmp_path: Path) -> tuple[Path, Path]:
    """A fresh Ed25519 lab key pair: (private PEM, public PEM), in tmp_path."""
    private, public = tmp_path / "lab.key", tmp_path / "lab.pub"
    keygen(private, public)
    return private, public

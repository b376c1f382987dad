"""Fixtures shared by the integration self-tests."""

from __future__ import annotations

import os
import shutil

import pytest


@pytest.fixture(scope="session")
def tshark() -> str:
    """Wireshark's tshark, the independent check of our frames. CI installs it (.ci/run), so there a missing
    tshark fails the test; on a developer's machine it is skipped with the command that installs it."""
    path = shutil.which("tshark")
    if path is None:
        message = "tshark is not installed: apt-get update && apt-get install -y tshark"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path

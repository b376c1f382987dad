"""The pytest plugin of the suite: the only module of harness/ that knows pytest.

The options, fixtures, PICS gating and verdict classes arrive with the suite skeleton; until then the
plugin only declares the markers the suite and its self-tests use.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: a self-test that takes more than a few seconds")
    config.addinivalue_line("markers", "tshark: needs Wireshark's tshark on PATH")

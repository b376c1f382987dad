"""Fixtures: golden ESI <-> DUT links (tests/unit/esi/esi_link.py) in virtual time."""

from tests.unit.clients.conftest import link, loop, make_link  # noqa: F401 - re-exported fixtures

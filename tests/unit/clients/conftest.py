"""Fixtures: the same virtual-time loop and golden ESI <-> DUT links as tests/unit/esi (one definition)."""

from tests.unit.esi.conftest import link, loop, make_link  # noqa: F401  (fixtures are found by name)

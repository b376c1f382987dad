"""Fixtures: a virtual-time loop and a factory of golden ESI <-> DUT links on it."""

from __future__ import annotations

import pytest

from harness.clock import new_virtual_loop

from .esi_link import EsiLink


@pytest.fixture
def loop():
    loop = new_virtual_loop()
    yield loop
    loop.close()


@pytest.fixture
def make_link(loop):
    links: list[EsiLink] = []

    def make(**kwargs) -> EsiLink:
        link = EsiLink(loop, **kwargs)
        links.append(link)
        return link

    yield make
    for link in links:
        link.close()


@pytest.fixture
def link(make_link) -> EsiLink:
    return make_link()

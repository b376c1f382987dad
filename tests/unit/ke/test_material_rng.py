"""KeMaterial.engine: certificates are the bench's fixed material, ephemeral keys come from the case's stream."""

from __future__ import annotations

import asyncio
from random import Random

from harness.ke.material import KeMaterial

IEEE = 0x000D6F0000001001


def _ephemerals(engine, count: int = 2) -> list[bytes]:
    async def draw() -> list[bytes]:
        return [(await engine.start(1)).ephemeral_public for _ in range(count)]

    return asyncio.run(draw())


def test_ephemeral_keys_follow_the_given_stream_and_certificates_do_not():
    material = KeMaterial.seeded()
    first = material.engine(IEEE, (1,), rng=Random(1))
    _ephemerals(material.engine(IEEE, (1,), rng=Random(9)))  # another case draws from its own stream
    again = material.engine(IEEE, (1,), rng=Random(1))
    other = material.engine(IEEE, (1,), rng=Random(2))
    certificate = asyncio.run(first.certificate(1))
    assert asyncio.run(other.certificate(1)) == certificate  # one identity, one certificate
    keys = _ephemerals(first)
    assert keys == _ephemerals(again)  # whatever the engines of other cases drew in between
    assert keys != _ephemerals(other)
    assert keys[0] != keys[1]  # a stream never repeats an ephemeral key within a case

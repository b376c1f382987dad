"""A test double for tests/integration/test_output_bounds.py: the reference OpenSEG gateway answering with
20 MB (a misbehaving gateway), loaded into a suite run with ``-p tests.integration.oversized_gateway``.

Each answer keeps its status and shape and carries one oversized value where a step reports what it saw:
- JSON: the first reading row gets a summation the meter never served and an extra 20 MB string, and every other answer an
  extra 20 MB field;
- Green Button: the UsagePoint's ServiceCategory kind becomes a 20 MB number (the schema rejects it and
  quotes it).
OVERSIZED_GATEWAY_BYTES sets the size (default 20 MB).
"""

from __future__ import annotations

import json
import os

from harness.openseg import server

SIZE = int(os.environ.get("OVERSIZED_GATEWAY_BYTES", str(20 * 1000 * 1000)))
_original_dispatch = server.GatewayApi._dispatch


def _oversized(response: server.Response) -> server.Response:
    body = response.body
    if response.content_type == "application/json":
        try:
            data = json.loads(body)
        except ValueError:
            return response
        rows = data.get("readings") if isinstance(data, dict) else None
        if isinstance(rows, list) and rows and isinstance(rows[0], list) and len(rows[0]) >= 2:
            rows[0] = [rows[0][0], -1, "9" * SIZE]  # a summation the meter never served
        elif isinstance(data, dict):
            data["padding"] = "9" * SIZE
        new_body = json.dumps(data).encode()
    elif b"<espi:kind>0</espi:kind>" in body:
        new_body = body.replace(b"<espi:kind>0</espi:kind>", b"<espi:kind>" + b"9" * SIZE + b"</espi:kind>", 1)
    else:
        return response
    return server.Response(response.status, new_body, response.content_type, response.headers)


async def _dispatch(self, request: server.Request) -> server.Response:
    return _oversized(await _original_dispatch(self, request))


server.GatewayApi._dispatch = _dispatch

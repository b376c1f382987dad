"""OpenSEG consumer API (docs/openseg-api.md): the profile's resources, the client the steps use, the
reference gateway's server and cache, Green Button (ESPI) exports and the home-network filter.

- api: resource names, default paths, query rules and error bodies of the profile.
- client: OpenSegClient, an aiohttp client on the bench loop (home or foreign source address), and raw sockets
  for malformed, oversized, slow and massed requests.
- server: the reference gateway's own HTTP/1.1 server (GatewayApi) over a GatewayData source.
- cache: ReadingCache, the 48-hour circular cache of meter readings, and its flash copy (to_records, from_records).
- greenbutton: build, parse and check ESPI Atom exports (schema harness/openseg/espi.xsd).
- network: HomeNetwork, which client addresses count as the home network.
"""

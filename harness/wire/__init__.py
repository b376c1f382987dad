"""The Zigbee wire format: byte-exact frame codecs (MAC, NWK, APS, ZDO) and NWK/APS frame security.

- frames: the codecs, shared by every side that reads or writes a frame (the simulator, the golden, the real
  bench, verify/, the joining steps);
- security: NWK and APS frame security (AES-CCM*, nonces, key derivation for the key-transport keys);
- material: a node's security material (network keys, link keys, frame counters).

It imports only the ground floor (crypto) and zigpy's types; nothing above it imports it backwards.
"""

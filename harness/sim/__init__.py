"""The simulated Zigbee network.

- air: virtual air on one channel, link table, seeded fault injection, sniffers;
- node: a Zigbee PRO node (MAC, NWK, APS, ZDO) with roles coordinator / router / end device (receiver on),
  single hop; behaviour: its knobs; zdo: the ZDO server; discovery: finding a node's peers;
- trust_center: SE Trust Center on the coordinator (install-code admission, key transport, rejoin, leave,
  network key update);

The wire format (frames, NWK/APS security, key material) is harness.wire's; the emulators built on this network
are harness.emulator's. The simulator imports only the floors below it (wire, crypto, clock, capture).
"""

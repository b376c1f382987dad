"""The simulated Zigbee network.

- air: virtual air on one channel, link table, seeded fault injection, sniffers;
- node: a Zigbee PRO node (MAC, NWK, APS, ZDO) with roles coordinator / router / end device (receiver on),
  single hop; behaviour: its knobs; material: its security material; zdo: the ZDO server;
- trust_center: SE Trust Center on the coordinator (install-code admission, key transport, rejoin, leave,
  network key update);
- frames, security: byte-exact codecs and NWK/APS frame security (the codec engineer's);
- demo / __main__: ``python -m harness.sim demo --pcap PATH --keys PATH``.
"""

"""Real Zigbee frames captured from devices, as public test data, with the keys that decrypt them.

Source: kristian/zbtk (NodeJS ZigBee toolkit), test/parse/zep/*.hex and test/parse/*.hex at commits
c136abd0 / f9e05d74, and test.js for the keys ("transport key 1" = the network key, and the link key of
install code EE91 7C25 E941 23C2 27B9 3F4D 50A0 C34F 373D). Each file is a ZEP v2 packet: 32 bytes of
ZEP header, then the 802.15.4 PSDU whose last two bytes are the sniffer's RSSI/LQI (ZEP "LQI mode"),
not an FCS; the expected field values come from the matching .json files in the same repository.
"""

from __future__ import annotations

ZEP_HEADER = 32

NETWORK_KEY = bytes.fromhex("52f0fe8052ebb35907daa243c95a2ff4")
INSTALL_CODE = "EE917C25E94123C227B93F4D50A0C34F373D"
INSTALL_CODE_LINK_KEY = bytes.fromhex("4c23a848a76f432113510a301c5fdfd2")

# name -> ZEP packet hex
ZEP = {
    # test/parse/wpan_beacon.hex
    "beacon": "4558020113fffe0086d84f0cd1c0b242080008c6d1000000000000000000001c00802ede8cd63eff8f000000228fd5aa3d"
    "1344830d11ffffff00f5e5",
    # test/parse/wpan_cmd_assoc_rsp.hex
    "association_response": "4558020113fffe0086d84f0cd297abb8810008c6dd000000000000000000001b63cc30de8c7db023feffa7"
    "db285db1000000ee1f0002deba00f5e5",
    # test/parse/wpan_cmd_data_req.hex
    "data_request": "4558020113fffe0033d84f489a3950b956000a91ab000000000000000000000c63887cde8c153292fe040ccb",
    # test/parse/zep/aps_cmd_transport_key.hex (APS secured with the key-transport key of the install code key)
    "transport_key": "4558020113fffe0086d84f0cd2d45f9df60008c6e90000000000000000000049618833de8cdebad63e4800debad"
    "63e018821d7307eb001006c5948fefff52e3c22036185d0ef7c9ba3a70bdb1011bf7784163460f39365f209fb5b7c73f213fbc0848"
    "4cf0984e4f5e5",
    # test/parse/zep/nwk_cmd_leave.hex (NWK secured)
    "leave": "4558020113fffe00acd84f31e5cd64d7f1000c162a000000000000000000002f618827de8cd63e6ba90912fdff6ba901e67db0"
    "23feffa7db2828800003007db023feffa7db2800b4078f035c9414df",
    # test/parse/nwk_cmd_rejoin_req.hex (NWK secured)
    "rejoin_request": "4558020113fffe00acd84f31e5f21815a1000c1630000000000000000000002f618829de8c15326ba9091215326b"
    "a901e77db023feffa7db2828810003007db023feffa7db280060bbdaf07c7614df",
    # test/parse/nwk_cmd_rejoin_rsp.hex (NWK secured, both IEEE addresses in the NWK header)
    "rejoin_response": "4558020113fffe0077d84f0cacdb4bb5e1000003a2000000000000000000003961883bde8c2720d63e091a2720d6"
    "3e01de7db023feffa7db285db1000000ee1f00282c5c8e005db1000000ee1f0000949644c4fb5a1d6cf3e3",
    # test/parse/aps_ack.hex (NWK secured, source routed, APS ack inside)
    "aps_ack": "4558020113fffe0067d84fad057c2a886a000500d20000000000000000000031618887de8cd63e00004806f97c00001e3401"
    "00d63e2818fb78006c5948fefff52e3c0044f44184c518462b188f1d81e7e7",
}


def psdu(name: str) -> bytes:
    """The 802.15.4 PSDU of a vector (its last two bytes are RSSI/LQI, not an FCS)."""
    return bytes.fromhex(ZEP[name])[ZEP_HEADER:]


def with_fcs(name: str) -> bytes:
    """The PSDU with a real FCS in place of the sniffer's RSSI/LQI bytes."""
    from harness.wire.frames.mac import fcs

    body = psdu(name)[:-2]
    return body + fcs(body).to_bytes(2, "little")

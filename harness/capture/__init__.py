"""Captures of the simulated air: pcap files and the Wireshark keys that decrypt them.

- pcap: ``PcapWriter(path).write(virtual_seconds, psdu)`` (link type 195, 802.15.4 with FCS; deterministic
  bytes), ``pcap_bytes(frames)``, ``read_pcap(path_or_bytes) -> PcapCapture(linktype, records)``.
- live: ``LivePcap(path).read_new()`` reads the frames a sniffer appended to a growing pcap since the last call
  (the pcap module's format table); ``SnifferFault`` when the capture is not the live one.
- keys: ``write_key_file(path, [(key, label), ...])`` writes a ``zigbee_pc_keys`` UAT file;
  ``tshark_key_options(path_or_keys)`` gives the ``-o uat:zigbee_pc_keys:...`` arguments for tshark.
"""

from .keys import CaptureKey, KeyFileError, key_file_text, read_key_file, tshark_key_options, write_key_file
from .live import LivePcap, SnifferFault
from .pcap import (
    LINKTYPE_IEEE802_15_4_NOFCS,
    LINKTYPE_IEEE802_15_4_WITHFCS,
    CaptureError,
    PcapCapture,
    PcapRecord,
    PcapWriter,
    pcap_bytes,
    read_pcap,
)

__all__ = [
    "LINKTYPE_IEEE802_15_4_NOFCS",
    "LINKTYPE_IEEE802_15_4_WITHFCS",
    "CaptureError",
    "CaptureKey",
    "KeyFileError",
    "LivePcap",
    "PcapCapture",
    "PcapRecord",
    "PcapWriter",
    "SnifferFault",
    "key_file_text",
    "pcap_bytes",
    "read_key_file",
    "read_pcap",
    "tshark_key_options",
    "write_key_file",
]

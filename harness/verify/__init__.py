"""Packet verification, separate from stimulus: decode what was on the air, with the keys the bench knows.

A scenario's capture (live frames in simulation, a sniffer's pcap on hardware) is decoded layer by layer
into :class:`ObservedFrame` records; steps ask questions of the decoded list. The same code re-verifies a
saved capture offline (``decode_pcap``), so a verdict can be checked without rerunning the bench.
"""

from .capture import Keyring, ObservedFrame, decode_frames, decode_pcap

__all__ = ["Keyring", "ObservedFrame", "decode_frames", "decode_pcap"]

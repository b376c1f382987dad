"""Emulators built on the simulated network: the EZSP NCP emulator (ncp/) and the capture demo (demo.py).

    python -m harness.emulator demo --pcap demo.pcap --keys demo.keys [--seed N]
    python -m harness.emulator ncp [--device ihd] [--pcap air.pcap]

They sit above the simulator and the reference devices: they host a reference device on the emulated air.
"""

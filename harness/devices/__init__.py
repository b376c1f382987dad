"""Reference devices: conformant Smart Energy devices that play the DUT in simulation, each with a catalogue
of seeded faults (the suite's proof that every scenario can fail).

``catalogue.MODELS`` maps a ``--dut sim:<model>`` name to its class.
"""

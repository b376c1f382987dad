"""Judges of what a joined device says about itself: its Device_annce, Node Descriptor and Power Descriptor,
each against the capability information of its own MAC association request (TC-JOIN-1.10).

Rules (Zigbee spec 053474r17, field layouts as Wireshark's packet-zbee-zdp.c and zigpy.zdo.types decode them):
- Device_annce (2.4.3.1.11): NWKAddr is the address the device was given, IEEEAddr its own, Capability the MAC
  capability information field (IEEE 802.15.4-2006 7.3.1.2) of the local device, the one it associated with.
- Node Descriptor (2.3.2.3): logical type (2.3.2.3.1) router when the device associated as a full-function
  device, end device otherwise (a joining device is never the coordinator); APS flags not supported, 0
  (2.3.2.3.4); frequency band 2400-2483.5 MHz only (2.3.2.3.5; SE 1.x runs on 2.4 GHz); MAC capability flags
  the association's capability field (2.3.2.3.6); manufacturer code (2.3.2.3.7) the one the profile names;
  maximum buffer size 0x00-0x7F (2.3.2.3.8); maximum incoming and outgoing transfer sizes 0x0000-0x7FFF
  (2.3.2.3.9, 2.3.2.3.11); server mask (2.3.2.3.10): a device that joined the golden Trust Center is not the
  primary Trust Center (bit 0), and the reserved bits 7-8 are 0.
- Power Descriptor (2.3.2.4): a receiver on when idle is synchronised with the node descriptor (current power
  mode 0, 2.3.2.4.1); the current power source (2.3.2.4.3) is one source, among the available ones (2.3.2.4.2):
  constant (mains) power exactly when the capability field says mains powered; the current level (2.3.2.4.4) is
  one of 0 (critical), 4 (33 %), 8 (66 %), 12 (100 %), and 100 % on constant power.

Each judge returns its findings, one line per field that is wrong, each naming expectation and observation.
"""

from __future__ import annotations

import zigpy.zdo.types as zdo_t

from harness.wire.frames.mac import CapabilityInformation

RULE_ANNCE = "Zigbee spec 2.4.3.1.11 (Device_annce) and IEEE 802.15.4-2006 7.3.1.2 (capability information)"
RULE_NODE_DESCRIPTOR = "Zigbee spec 2.4.3.1.3 and 2.3.2.3.1-2.3.2.3.12 (Node Descriptor); SE 1.x: 2.4 GHz"
RULE_POWER_DESCRIPTOR = "Zigbee spec 2.4.3.1.4 and 2.3.2.4.1-2.3.2.4.4 (Node Power Descriptor)"

#: The capability field's bits, as 802.15.4-2006 Figure 56 names them.
CAPABILITY_BITS = (
    ("alternate_pan_coordinator", "alternate PAN coordinator"),
    ("full_function_device", "device type (FFD)"),
    ("mains_powered", "power source (mains)"),
    ("rx_on_when_idle", "receiver on when idle"),
    ("security_capable", "security capability"),
    ("allocate_address", "allocate address"),
)
SERVER_MASK_PRIMARY_TRUST_CENTER = 0x0001
SERVER_MASK_RESERVED = 0x0180  # bits 7-8; bits 9-15 are the stack compliance revision (0 before revision 21)
MAX_BUFFER_SIZE = 0x7F
MAX_TRANSFER_SIZE = 0x7FFF
POWER_LEVELS = {0x0: "critical", 0x4: "33 %", 0x8: "66 %", 0xC: "100 %"}


def describe_capability(byte: int) -> str:
    capability = CapabilityInformation.from_byte(byte)
    named = [name for attribute, name in CAPABILITY_BITS if getattr(capability, attribute)]
    return f"0x{byte:02X} ({', '.join(named) or 'no bit set'})"


def capability_findings(what: str, associated: int, observed: int) -> list[str]:
    """The capability bits of *observed* (a Device_annce's or a node descriptor's) that differ from those of the
    association request, *associated*."""
    want, got = CapabilityInformation.from_byte(associated), CapabilityInformation.from_byte(observed)
    findings = [f"{what} {name}: expected {int(getattr(want, attribute))} as in the association request, observed "
                f"{int(getattr(got, attribute))}"
                for attribute, name in CAPABILITY_BITS if getattr(want, attribute) != getattr(got, attribute)]
    reserved = observed & 0x30
    if reserved:
        findings.append(f"{what} reserved bits 4-5: expected 0, observed 0x{reserved:02X}")
    return findings


def judge_annce(fields: list, *, ieee: int, nwk: int, associated: int) -> list[str]:
    """A Device_annce's (NWKAddr, IEEEAddr, Capability) against the device's IEEE, given address and association
    capability."""
    annce_nwk, annce_ieee, capability = int(fields[0]), fields[1], int(fields[2])
    findings = []
    if annce_nwk != nwk:
        findings.append(f"Device_annce NWKAddr: expected 0x{nwk:04X} (given at association), observed 0x{annce_nwk:04X}")
    if int.from_bytes(bytes(annce_ieee), "little") != ieee:
        findings.append(f"Device_annce IEEEAddr: expected {ieee:016X}, observed {annce_ieee}")
    return findings + capability_findings("Device_annce capability", associated, capability)


def judge_node_descriptor(descriptor: zdo_t.NodeDescriptor, *, associated: int,
                          manufacturer_code: int | None) -> list[str]:
    """A Node Descriptor against the association capability and the profile's manufacturer code (None: any)."""
    findings = []
    router = CapabilityInformation.from_byte(associated).full_function_device
    logical = zdo_t.LogicalType.Router if router else zdo_t.LogicalType.EndDevice
    if descriptor.logical_type != logical:
        findings.append(f"logical type: expected {logical.name} ({int(logical)}), as the association's device type "
                        f"bit ({int(router)}) says, observed {descriptor.logical_type!r}")
    if descriptor.aps_flags:
        findings.append(f"APS flags: expected 0 (not supported), observed {int(descriptor.aps_flags)}")
    band = zdo_t.NodeDescriptor.FrequencyBand.Freq2400MHz
    if int(descriptor.frequency_band) != int(band):
        findings.append(f"frequency band: expected 2400-2483.5 MHz only (0x{int(band):02X}), observed "
                        f"0x{int(descriptor.frequency_band):02X}")
    findings += capability_findings("MAC capability flags", associated, int(descriptor.mac_capability_flags))
    if manufacturer_code is not None and int(descriptor.manufacturer_code) != manufacturer_code:
        findings.append(f"manufacturer code: expected 0x{manufacturer_code:04X} (DUT profile "
                        f"identity.manufacturer_code), observed 0x{int(descriptor.manufacturer_code):04X}")
    if not 0 < int(descriptor.maximum_buffer_size) <= MAX_BUFFER_SIZE:
        findings.append(f"maximum buffer size: expected 1-{MAX_BUFFER_SIZE} octets, observed "
                        f"{int(descriptor.maximum_buffer_size)}")
    for name, value in (("incoming", descriptor.maximum_incoming_transfer_size),
                        ("outgoing", descriptor.maximum_outgoing_transfer_size)):
        if not 0 < int(value) <= MAX_TRANSFER_SIZE:
            findings.append(f"maximum {name} transfer size: expected 1-{MAX_TRANSFER_SIZE} octets, observed {int(value)}")
    mask = int(descriptor.server_mask)
    if mask & SERVER_MASK_PRIMARY_TRUST_CENTER:
        findings.append(f"server mask: expected the primary Trust Center bit clear (the golden is the Trust Center), "
                        f"observed 0x{mask:04X}")
    if mask & SERVER_MASK_RESERVED:
        findings.append(f"server mask: expected reserved bits 7-8 clear, observed 0x{mask:04X}")
    return findings


def judge_power_descriptor(descriptor: zdo_t.PowerDescriptor, *, associated: int) -> list[str]:
    """A Power Descriptor against the association's power source and receiver-on-when-idle bits."""
    power = zdo_t.PowerDescriptor
    capability = CapabilityInformation.from_byte(associated)
    findings = []
    mode = int(descriptor.current_power_mode)
    if capability.rx_on_when_idle and mode != power.CurrentPowerMode.RxOnSyncedWithNodeDesc:
        findings.append(f"current power mode: expected 0 (synchronised with receiver on when idle, which the "
                        f"association sets), observed {mode}")
    source, available = int(descriptor.current_power_source), int(descriptor.available_power_sources)
    if source not in (1, 2, 4, 8):
        findings.append(f"current power source: expected exactly one source, observed 0x{source:X}")
    elif not available & source:
        findings.append(f"available power sources: expected to include the current one 0x{source:X}, observed "
                        f"0x{available:X}")
    mains = int(power.PowerSources.MainsPower)
    if capability.mains_powered and source != mains:
        findings.append(f"current power source: expected constant (mains) power 0x{mains:X}, as the association's "
                        f"power source bit says, observed 0x{source:X}")
    if not capability.mains_powered and source & mains:
        findings.append(f"current power source: expected a battery, as the association's power source bit says, "
                        f"observed 0x{source:X}")
    level = int(descriptor.current_power_source_level)
    if level not in POWER_LEVELS:
        findings.append(f"current power source level: expected one of 0, 4, 8, 12, observed 0x{level:X}")
    elif source == mains and level != 0xC:
        findings.append(f"current power source level: expected 100 % (0xC) on constant power, observed "
                        f"{POWER_LEVELS[level]} (0x{level:X})")
    return findings

"""A node's security material: network keys, link keys, frame counters and sequence numbers.

Everything here is inspectable by the harness (tests read counters and keys to judge a DUT's behaviour),
but keys never appear in a repr or a log line.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(repr=False)
class LinkKeyEntry:
    """An APS link key with a partner, and the APS frame counters used with it."""

    key: bytes
    tx_counter: int = 0
    rx_counter: int | None = None  # highest frame counter received from the partner under this key

    def __repr__(self) -> str:
        return f"LinkKeyEntry(key=<redacted>, tx_counter={self.tx_counter}, rx_counter={self.rx_counter})"


@dataclass(repr=False)
class SecurityMaterial:
    network_keys: dict[int, bytes] = field(default_factory=dict)  # key sequence number -> key
    active_key_seq: int | None = None
    nwk_tx_counter: int = 0
    nwk_rx_counters: dict[int, int] = field(default_factory=dict)  # source IEEE -> highest counter seen
    link_keys: dict[int, LinkKeyEntry] = field(default_factory=dict)  # partner IEEE -> entry
    # The TC link key a device is commissioned with (install-code derived) before it knows the TC's IEEE.
    preconfigured_tc_link_key: bytes | None = None
    trust_center_ieee: int | None = None
    mac_seq: int = 0
    nwk_seq: int = 0
    aps_counter: int = 0
    zdo_tsn: int = 0

    @property
    def network_key(self) -> bytes | None:
        if self.active_key_seq is None:
            return None
        return self.network_keys.get(self.active_key_seq)

    def next_mac_seq(self) -> int:
        self.mac_seq = (self.mac_seq + 1) & 0xFF
        return self.mac_seq

    def next_nwk_seq(self) -> int:
        self.nwk_seq = (self.nwk_seq + 1) & 0xFF
        return self.nwk_seq

    def next_aps_counter(self) -> int:
        self.aps_counter = (self.aps_counter + 1) & 0xFF
        return self.aps_counter

    def next_nwk_tx_counter(self) -> int:
        counter = self.nwk_tx_counter
        self.nwk_tx_counter = (counter + 1) & 0xFFFFFFFF
        return counter

    def factory_reset(self) -> None:
        """What a factory reset clears: the network, every key but the preconfigured Trust Center link key, and
        every counter, which starts again from 0. In place: a stack's parts hold on to its tables."""
        self.forget_network()
        self.link_keys.clear()
        self.trust_center_ieee = None
        self.nwk_tx_counter = self.mac_seq = self.nwk_seq = self.aps_counter = self.zdo_tsn = 0

    def forget_network(self) -> None:
        """What leaving clears: network keys and the incoming NWK counters. Link keys stay."""
        self.network_keys.clear()
        self.active_key_seq = None
        self.nwk_rx_counters.clear()

    def __repr__(self) -> str:
        return (
            f"SecurityMaterial(network_key_seqs={sorted(self.network_keys)}, active_key_seq={self.active_key_seq}, "
            f"nwk_tx_counter={self.nwk_tx_counter}, link_keys={sorted(f'{k:016x}' for k in self.link_keys)}, "
            f"trust_center_ieee={self.trust_center_ieee})"
        )

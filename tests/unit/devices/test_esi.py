"""The reference ESI on its own: it forms a network of its own choosing, its Trust Center's link-key table holds
a home's worth of install codes and refuses more, and a factory reset forms a new network with the table empty.
(What it does on the air is judged by the Trust Center cases; the fault matrix shows each of its faults.)"""

from __future__ import annotations

from harness.crypto import InstallCode
from harness.devices.esi import ReferenceEsi
from harness.devices.esi_trust_center import KEY_TABLE_SIZE


def _codes(count: int) -> list[tuple[int, InstallCode]]:
    return [(0x00124B0000000000 + n, InstallCode(n.to_bytes(2, "big") * 4)) for n in range(1, count + 1)]


def test_it_forms_its_own_network_as_coordinator(build):
    esi = build(ReferenceEsi)
    node = esi.node
    assert node.joined and node.nwk == 0x0000 and node.extended_pan_id == esi.ieee
    assert node.security.network_key is not None and node.security.active_key_seq == 0
    assert not node.permitting, "a freshly formed ESI keeps its permit-join window closed until told"


def test_the_link_key_table_holds_its_size_and_refuses_more(build):
    esi = build(ReferenceEsi)
    codes = _codes(KEY_TABLE_SIZE + 1)
    assert KEY_TABLE_SIZE >= 50, "a home's 50 devices (TC-TC-6.1) must fit"
    for ieee, code in codes:
        esi.add_install_code(ieee, code)
    table = esi.trust_center.key_table
    assert len(table) == KEY_TABLE_SIZE
    assert codes[0][0] in table and codes[-1][0] not in table, "a full table refuses the newcomer, keeps the first"
    assert table[codes[0][0]] == codes[0][1].link_key


def test_the_seeded_small_table_drops_its_oldest(build):
    esi = build(ReferenceEsi, faults=("tc-small-key-table",))
    codes = _codes(33)
    for ieee, code in codes:
        esi.add_install_code(ieee, code)
    table = esi.trust_center.key_table
    assert len(table) == 32 and codes[0][0] not in table and codes[-1][0] in table
    assert codes[0][0] not in esi.node.security.link_keys, "the dropped key is gone from the stack too"


def test_a_factory_reset_forms_a_new_network_with_an_empty_table(build):
    esi = build(ReferenceEsi)
    before = (esi.node.pan_id, esi.node.security.network_key)
    ieee, code = _codes(1)[0]
    esi.add_install_code(ieee, code)
    esi.factory_reset()
    assert esi.node.joined and (esi.node.pan_id, esi.node.security.network_key) != before
    assert not esi.trust_center.key_table and ieee not in esi.node.security.link_keys

"""Wireshark zigbee_pc_keys export: record format, file round trip, tshark options, no secrets in reprs."""

from __future__ import annotations

import pytest

from harness.capture import (
    CaptureKey,
    KeyFileError,
    key_file_text,
    read_key_file,
    tshark_key_options,
    write_key_file,
)

NWK_KEY = bytes.fromhex("01030507090B0D0F00020406080A0C0D")
TC_KEY = b"ZigBeeAlliance09"


def test_record_format():
    # The form Wireshark's UAT uses: "key","byte order","label".
    assert CaptureKey(TC_KEY, "ZigBeeAlliance09").record == (
        '"5A:69:67:42:65:65:41:6C:6C:69:61:6E:63:65:30:39","Normal","ZigBeeAlliance09"'
    )


def test_file_round_trip_and_duplicates(tmp_path):
    path = write_key_file(tmp_path / "zigbee_pc_keys", [(NWK_KEY, "network key 0"), (TC_KEY, "tc"), (NWK_KEY, "dup")])
    text = path.read_text()
    assert text == key_file_text([(NWK_KEY, "network key 0"), (TC_KEY, "tc")])
    assert [(k.key, k.label) for k in read_key_file(path)] == [(NWK_KEY, "network key 0"), (TC_KEY, "tc")]


def test_reverse_byte_order_is_read(tmp_path):
    path = tmp_path / "keys"
    path.write_text('"' + NWK_KEY[::-1].hex(":") + '","Reverse","rev"\n')
    assert read_key_file(path)[0].key == NWK_KEY


def test_tshark_options(tmp_path):
    path = write_key_file(tmp_path / "keys", [(NWK_KEY, "nwk"), (TC_KEY, "tc")])
    options = tshark_key_options(path)
    assert options == [
        "-o", 'uat:zigbee_pc_keys:"01:03:05:07:09:0B:0D:0F:00:02:04:06:08:0A:0C:0D","Normal","nwk"',
        "-o", 'uat:zigbee_pc_keys:"5A:69:67:42:65:65:41:6C:6C:69:61:6E:63:65:30:39","Normal","tc"',
    ]
    assert tshark_key_options([(NWK_KEY, "nwk"), (TC_KEY, "tc")]) == options


def test_bad_keys_and_records(tmp_path):
    with pytest.raises(KeyFileError, match="16 bytes"):
        CaptureKey(b"short", "x")
    with pytest.raises(KeyFileError, match="quotes"):
        CaptureKey(NWK_KEY, 'a"b')
    path = tmp_path / "keys"
    path.write_text("not a record\n")
    with pytest.raises(KeyFileError, match="line 1"):
        read_key_file(path)


def test_repr_hides_the_key():
    text = repr(CaptureKey(TC_KEY, "tc"))
    assert "ZigBeeAlliance09" not in text and TC_KEY.hex() not in text.lower()

"""Redaction of install codes, keys and private keys from text, JSON-like data and files."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.redact import REDACTED, REDACTION_NOTES, RedactionError, Redactor, redact_tree

from .samples import INSTALL_CODE, LINK_KEY

NETWORK_KEY = "01030507090B0D0F00020406080A0C0D"  # the simulated bench's test network key
CODE = INSTALL_CODE[:-4]  # without its CRC (C3B5)


@pytest.fixture
def redactor() -> Redactor:
    redactor = Redactor([NETWORK_KEY])
    redactor.add_install_code(INSTALL_CODE)
    return redactor


def _spaced(hex_text: str, sep: str) -> str:
    return sep.join(hex_text[i:i + 2] for i in range(0, len(hex_text), 2))


@pytest.mark.parametrize(
    "shown",
    [
        INSTALL_CODE, INSTALL_CODE.lower(), CODE, CODE.lower(), LINK_KEY, LINK_KEY.lower(), NETWORK_KEY,
        _spaced(INSTALL_CODE, ":"), _spaced(CODE, " "), _spaced(LINK_KEY.lower(), "-"), _spaced(NETWORK_KEY, "."),
        _spaced(LINK_KEY, ", 0x").join(["0x", ""]), "0x" + LINK_KEY.lower(),
        _spaced(bytes.fromhex(LINK_KEY)[::-1].hex(), ":"),  # byte-reversed, as zigpy prints EUI64-style values
        repr(bytes.fromhex(LINK_KEY))[2:-1],  # inside b'...' in a log line
        _spaced(INSTALL_CODE[:16], "").lower() + _spaced(INSTALL_CODE[16:], ":"),  # mixed separators
    ],
)
def test_secret_shown_any_way_is_redacted(redactor: Redactor, shown: str) -> None:
    text = f"APS Transport Key: key={shown} seq=4"
    assert redactor.redact_text(text) == f"APS Transport Key: key={REDACTED} seq=4"


def test_code_with_crc_is_redacted_whole(redactor: Redactor) -> None:
    # Without the longest-first rule the code would be replaced and its CRC left behind.
    assert redactor.redact_text(f"ic {INSTALL_CODE}.") == f"ic {REDACTED}."


def test_secret_inside_a_frame_dump_is_redacted(redactor: Redactor) -> None:
    frame = "21 05 " + _spaced(NETWORK_KEY.lower(), " ") + " 00 0d 6f"
    assert redactor.redact_text(frame) == f"21 05 {REDACTED} 00 0d 6f"


def test_ordinary_data_is_left_alone(redactor: Redactor) -> None:
    text = "IEEE 00:0D:6F:00:00:00:10:01, PAN 0x1A62, part of a code 83FED3407A93, model IHD-7"
    assert redactor.redact_text(text) == text


def test_pem_private_key_blocks_are_always_redacted() -> None:
    text = "key:\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB0l\nAbCd==\n-----END EC PRIVATE KEY-----\nend"
    assert Redactor().redact_text(text) == f"key:\n{REDACTED}\nend"


def test_json_like_structures(redactor: Redactor) -> None:
    data = {
        "pixit": {"join_timeout": "30 s", "Install-Code": "whatever it holds"},
        "observations": [f"key {LINK_KEY}", ("tuple", bytes.fromhex(NETWORK_KEY))],
        "test_ca": {"private_key": "00ab", "public_key": "0203"},
        "secrets_revealed": False,
        "count": 3,
        LINK_KEY: "a key used as a key",
    }
    assert redactor.redact(data) == {
        "pixit": {"join_timeout": "30 s", "Install-Code": REDACTED},
        "observations": [f"key {REDACTED}", ["tuple", REDACTED]],
        "test_ca": {"private_key": REDACTED, "public_key": "0203"},
        "secrets_revealed": False,
        "count": 3,
        REDACTED: "a key used as a key",
    }
    assert data["pixit"]["Install-Code"] == "whatever it holds"  # a copy: the input is untouched


@pytest.mark.parametrize("name", ["tc_key_update_time", "network_key_seq", "nwk_key_sequence_number",
                                  "link_key_timeout"])
def test_a_parameter_about_a_key_stays_readable(redactor: Redactor, name: str) -> None:
    # A PIXIT that times or counts something about a key is no secret: a reviewer must see the value the run used.
    assert redactor.redact({"pixit": {name: "5 s"}}) == {"pixit": {name: "5 s"}}


@pytest.mark.parametrize("name", ["tc_key", "network_key", "tc_link_key", "install_codes", "install_code_hex"])
def test_a_key_field_is_redacted(redactor: Redactor, name: str) -> None:
    assert redactor.redact({name: "00112233"}) == {name: REDACTED}


def test_redact_file(tmp_path: Path, redactor: Redactor) -> None:
    log = tmp_path / "dut.log"
    log.write_text(f"join with {INSTALL_CODE}\nok\n")
    assert redactor.redact_file(log) is True
    assert log.read_text() == f"join with {REDACTED}\nok\n"
    assert redactor.redact_file(log) is False


def test_bad_secrets_are_refused_without_echoing_them() -> None:
    with pytest.raises(RedactionError, match="too short") as caught:
        Redactor(["0A1B2C"])
    assert "0A1B2C" not in str(caught.value)
    with pytest.raises(RedactionError, match="must be hex"):
        Redactor(["not-a-key-at-all"])


def test_repr_shows_no_secret(redactor: Redactor) -> None:
    assert repr(redactor) == "Redactor(<8 secret(s)>)"
    assert LINK_KEY not in repr(redactor).upper()


LINK = bytes.fromhex(LINK_KEY)


@pytest.mark.parametrize(
    "shown",
    [
        json.dumps(repr(LINK))[1:-1],  # a step parameter's repr inside allure's JSON: backslashes doubled
        html.escape(repr(LINK)),  # inside JUnit XML or the HTML report
        base64.b64encode(LINK).decode(),
        base64.urlsafe_b64encode(LINK[::-1]).decode().rstrip("="),
        ", ".join(str(b) for b in LINK),  # a decimal byte list
    ],
)
def test_escaped_encoded_and_listed_forms_are_redacted(redactor: Redactor, shown: str) -> None:
    assert shown not in redactor.redact_text(f"param={shown};")
    assert REDACTED in redactor.redact_text(f"param={shown};")


def test_base64_inside_a_longer_blob_is_redacted(redactor: Redactor) -> None:
    for prefix in (b"x", b"xy", b"xyz"):
        blob = base64.b64encode(prefix + LINK + b"tail").decode()
        assert REDACTED in redactor.redact_text(blob), prefix


def test_testbed_repr_shows_no_link_key() -> None:
    from harness.testbed import Testbed

    testbed = Testbed(name="case", golden=None, dut=None, dut_ieee=0x000D6F0000001001, dut_link_key=LINK,
                      keyring=None, frames=[(0.0, LINK)])
    shown = repr(testbed)
    assert "case" in shown and "000d6f0000001001" in shown
    assert Redactor([LINK]).redact_text(shown) == shown  # no form of the key in it


def test_redact_tree_covers_every_file_and_zeroes_binary_secrets(tmp_path: Path, redactor: Redactor) -> None:
    (tmp_path / "allure-results").mkdir()
    (tmp_path / "allure-results" / "x-result.json").write_text(json.dumps({"value": f"Testbed(key={LINK!r})"}))
    (tmp_path / "junit.xml").write_text(f"<testcase><failure>{html.escape(repr(LINK))}</failure></testcase>")
    pcap = b"\xd4\xc3\xb2\xa1" + bytes(20) + LINK + b"\x01\x02" + LINK[::-1]
    (tmp_path / "TC-1").mkdir()
    (tmp_path / "TC-1" / "capture.pcap").write_bytes(pcap)
    (tmp_path / "clean.txt").write_text("nothing secret here\n")
    notes = redact_tree(tmp_path, redactor)
    assert sorted(n.split(":")[0] for n in notes) == ["TC-1/capture.pcap", "allure-results/x-result.json",
                                                      "junit.xml"]
    assert "2 secret(s) overwritten" in next(n for n in notes if "pcap" in n)
    zeroed = (tmp_path / "TC-1" / "capture.pcap").read_bytes()
    assert len(zeroed) == len(pcap) and LINK not in zeroed and LINK[::-1] not in zeroed
    assert zeroed[24:40] == bytes(16) and zeroed[40:42] == b"\x01\x02"  # everything else in place
    assert json.loads((tmp_path / "allure-results" / "x-result.json").read_text())["value"] == \
        f"Testbed(key=b'{REDACTED}')"
    assert (tmp_path / REDACTION_NOTES).read_text().count("\n") == 4  # a heading and one line per file
    assert LINK_KEY.lower() not in (tmp_path / REDACTION_NOTES).read_text().lower()
    assert not list(tmp_path.rglob("*.partial"))
    assert redact_tree(tmp_path, redactor) == []  # nothing left to find


_AROUND = st.text(alphabet="0123456789abcdefABCDEFxX :._,-\tghq\n{}\"", max_size=40)


@settings(max_examples=300, deadline=None)
@given(before=_AROUND, after=_AROUND, sep=st.sampled_from(["", ":", " ", "-", ".", ", 0x"]),
       upper=st.booleans())
def test_a_secret_among_any_hex_like_text_is_redacted(before: str, after: str, sep: str, upper: bool) -> None:
    # The scan for runs of hex skips starts that can't begin a run as long as a secret (harness/redact.py
    # _HEX_RUN): whatever digits and separators stand next to a secret, it is still found.
    shown = _spaced(LINK_KEY.upper() if upper else LINK_KEY.lower(), sep)
    redacted = Redactor([LINK_KEY]).redact_text(f"{before}{shown}{after}")
    assert LINK_KEY.lower() not in "".join(c for c in redacted.lower() if c in "0123456789abcdef")

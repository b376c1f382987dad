"""Bad input to a suite run is one line and exit 4 (issue 15 item 6, issue 14 claims and bounds).

Each row runs `python -m pytest steps ...` as a user would (forked from a pre-imported interpreter, the UTF-8 BOM
row in a new one: tests/support/suite_process.py) and asserts: exit 4, exactly one non-blank line of
output (stdout and stderr together) that names the field and the fix, no traceback, and no secret echoed.
"""

from __future__ import annotations

import codecs
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.support.suite_process import ROOT, run_pytest

IHD = ROOT / "profiles" / "dut" / "sim-ihd.yaml"
PCT = ROOT / "profiles" / "dut" / "sim-pct.yaml"
SIM_BENCH = ROOT / "profiles" / "bench" / "sim.yaml"
SECRET = "5A17C0DE"  # planted in the secret rows; no output may carry it


def run_suite(*args: str, path: str = "steps", fresh: bool = False) -> subprocess.CompletedProcess:
    return run_pytest(path, *args, timeout=300, fresh=fresh)


def _yaml(tmp: Path, name: str, source: Path, change: Callable[[dict], None]) -> Path:
    doc = yaml.safe_load(source.read_text())
    change(doc)
    path = tmp / name
    path.write_text(yaml.safe_dump(doc))
    return path


def _bytes(tmp: Path, name: str, raw: bytes) -> Path:
    path = tmp / name
    path.write_bytes(raw)
    return path


def _file(tmp: Path) -> Path:
    path = tmp / "a-file"
    path.write_text("not a folder")
    return path


_LATIN1_COMMENT = b"# caf\xe9\n"  # a Latin-1 accent: not UTF-8
_CA = {"issuer": "11:22:33:44:55:66:77:88", "public_key": "02" + "11" * 21}

#: name -> (arguments built in a temporary folder, words the one line must hold: the field, then the fix)
ROWS: dict[str, tuple[Callable[[Path], list[str]], list[str]]] = {
    "profile-latin1": (lambda t: [f"--profile={_bytes(t, 'latin1.yaml', IHD.read_text().replace('Suite', 'Suité').encode('latin-1'))}"],
                       ["latin1.yaml", "not UTF-8", "save the profile as UTF-8"]),
    "profile-utf16": (lambda t: [f"--profile={_bytes(t, 'utf16.yaml', codecs.BOM_UTF16_LE + IHD.read_text().encode('utf-16-le'))}"],
                      ["utf16.yaml", "saved as UTF-16", "save the profile as UTF-8"]),
    "bench-latin1": (lambda t: [f"--bench={_bytes(t, 'bench.yaml', SIM_BENCH.read_bytes() + _LATIN1_COMMENT)}"],
                     ["bench.yaml", "not UTF-8", "save the profile as UTF-8"]),
    "install-code-length": (lambda t: [f"--profile={_yaml(t, 'ic.yaml', IHD, lambda d: d.update(install_code=SECRET))}"],
                            ["install_code", "4 bytes", "6, 8, 12 or 16 bytes"]),
    "network-key-length": (lambda t: [f"--bench={_yaml(t, 'nk.yaml', SIM_BENCH, lambda d: d.update(network_key=SECRET))}"],
                           ["network_key", "16 hex bytes, got 4 bytes"]),
    "ca-private-key-2-bytes": (lambda t: [f"--bench={_yaml(t, 'ca.yaml', SIM_BENCH, lambda d: d.update(test_ca={**_CA, 'private_key': SECRET[:4]}))}"],
                               ["test_ca.private_key", "21 hex bytes, got 2 bytes"]),
    "artifacts-proc": (lambda t: ["--artifacts=/proc/se-run"], ["--artifacts=/proc/se-run", "kernel filesystem",
                                                                "choose a writable folder"]),
    "artifacts-sys": (lambda t: ["--artifacts=/sys/se-run"], ["--artifacts=/sys/se-run", "kernel filesystem"]),
    "artifacts-file": (lambda t: [f"--artifacts={_file(t)}"], ["--artifacts=", "is a file", "choose a writable folder"]),
    "artifacts-below-file": (lambda t: [f"--artifacts={_file(t)}/run"], ["--artifacts=", "which is a file",
                                                                         "choose a writable folder"]),
    "dut-empty": (lambda t: ["--dut="], ["--dut is empty", "give sim:<model>"]),
    "profile-empty": (lambda t: ["--profile="], ["--profile is empty", "leave --profile out"]),
    "bench-empty": (lambda t: ["--bench="], ["--bench is empty", "leave --bench out"]),
    "radio-empty": (lambda t: ["--radio="], ["--radio is empty", "give sim or ezsp:<port>"]),
    "artifacts-empty": (lambda t: ["--artifacts="], ["--artifacts is empty", "leave --artifacts out"]),
    "pixit-negative": (lambda t: ["--pixit=join_timeout=-5s"], ["--pixit join_timeout=-5s", "below its minimum 1 s",
                                                                "give 1 s to 254 s"]),
    "pixit-zero": (lambda t: ["--pixit=response_time=0"], ["--pixit response_time=0", "below its minimum 100 ms"]),
    "pixit-beyond": (lambda t: ["--pixit=timing_tolerance=3700s"], ["--pixit timing_tolerance=3700s",
                                                                    "above its maximum 30 s", "whole minutes",
                                                                    "give 1 s to 30 s"]),
    "pixit-read-interval": (lambda t: ["--dut=sim:openseg", "--pixit=meter_read_interval=900s"],
                            ["--pixit meter_read_interval=900s", "above its maximum 4 s", "LBNL-182358",
                             "may only tighten"]),
    "pixit-tolerance-over-interval": (lambda t: ["--dut=sim:openseg", "--pixit=meter_read_interval=1s"],
                                      ["--pixit meter_read_interval=1s", "at most the read interval",
                                       "change one of them"]),
    "pixit-unknown": (lambda t: ["--pixit=join_timout=30s"], ["--pixit join_timout=30s", "unknown PIXIT",
                                                              "did you mean join_timeout?"]),
    "profile-pixit-beyond": (lambda t: [f"--profile={_yaml(t, 'px.yaml', IHD, lambda d: d['pixit'].update(join_timeout='1 h'))}"],
                             ["px.yaml", "pixit.join_timeout", "above its maximum 254 s", "Mgmt_Permit_Joining_req"]),
    "pics-ke-off": (lambda t: ["--pics=SE.KE.C=false"], ["--pics SE.KE.C=false", "mandatory for SE-IPD (0x0502)",
                                                         "rule: SE 1.x", "drop the override"]),
    "pics-pct-time-off": (lambda t: ["--dut=sim:pct", "--pics=SE.TIME.C=false"],
                          ["--pics SE.TIME.C=false", "mandatory for SE-PCT (0x0503)", "drop the override"]),
    "profile-pct-cancel-off": (lambda t: ["--dut=sim:pct", f"--profile={_yaml(t, 'pct.yaml', PCT, lambda d: d['pics'].update({'SE.DRLC.C.C01.Rx': False}))}"],
                               ["pct.yaml", "pics.SE.DRLC.C.C01.Rx", "mandatory for SE-PCT (0x0503)",
                                "set it true or remove the line"]),
}


@pytest.mark.parametrize("row", list(ROWS))
def test_bad_input_is_one_line_and_exit_4(tmp_path, row):
    build, words = ROWS[row]
    done = run_suite(*build(tmp_path))
    output = done.stdout + done.stderr
    lines = [line for line in output.splitlines() if line.strip()]
    assert done.returncode == 4, output[-3000:]
    assert len(lines) == 1, f"expected one line, got:\n{output[-3000:]}"
    line = lines[0]
    assert line.startswith("ERROR: "), line
    for word in words:
        assert word in line, f"{word!r} missing from {line!r}"
    assert "Traceback" not in output and "INTERNALERROR" not in output
    assert SECRET.lower() not in output.lower() and SECRET[:4].lower() not in output.lower()


def test_a_utf8_bom_profile_is_accepted(tmp_path):
    """A BOM is what some Windows editors write: accepted silently (the suite collects its cases)."""
    path = _bytes(tmp_path, "bom.yaml", codecs.BOM_UTF8 + IHD.read_bytes())
    done = run_suite(f"--profile={path}", "--collect-only", "-q", fresh=True)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "TC-JOIN" in done.stdout or "test_" in done.stdout


def test_a_widening_pixit_is_listed_in_the_run(tmp_path):
    """Inside its bound but more lenient than the default: the run info, summary and report list it."""
    import json

    artifacts = tmp_path / "run"
    done = run_suite(f"--artifacts={artifacts}", "--pixit=timing_tolerance=10s", "--pixit=join_timeout=10s",
                     path="steps/test_time.py")
    assert (artifacts / "summary.json").is_file(), (done.stdout + done.stderr)[-3000:]
    summary = json.loads((artifacts / "summary.json").read_text())
    assert list(summary["widened"]) == ["timing_tolerance"]  # a shorter join timeout is stricter, not wider
    assert summary["widened"]["timing_tolerance"].startswith("10 s (longer than the default 2 s")
    assert "timing_tolerance" in (artifacts / "report.html").read_text().split('id="widened"')[1]

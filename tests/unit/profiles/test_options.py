"""Run options that cannot work are one OptionError line: empty values, unusable artifact folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import options as options_module
from harness.options import OptionError, not_empty, parse_dut, prepare_artifacts


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_option_is_refused_not_read_as_the_default(value):
    with pytest.raises(OptionError, match=r"^--profile is empty: give the DUT profile"):
        not_empty("--profile", value, "the DUT profile YAML")
    with pytest.raises(OptionError, match=r"^--dut is empty: give sim:<model>"):
        parse_dut(value)


def test_an_option_not_given_stays_not_given():
    assert not_empty("--bench", None, "x") is None
    assert not_empty("--bench", "profiles/bench/sim.yaml", "x") == "profiles/bench/sim.yaml"


def test_artifacts_folder_is_created(tmp_path):
    folder = prepare_artifacts(tmp_path / "a" / "b")
    assert folder.is_dir() and folder.is_absolute()


@pytest.mark.parametrize(("where", "words"), [
    ("/proc/se-run", ["/proc is a kernel filesystem"]),
    ("/sys/se-run", ["/sys is a kernel filesystem"]),
    ("/dev/se-run", ["/dev is a kernel filesystem"]),
    ("FILE", ["is a file, not a folder"]),
    ("FILE/below", ["is below", "which is a file"]),
])
def test_an_unusable_artifacts_folder_is_one_line(tmp_path, where, words):
    file = tmp_path / "file.txt"
    file.write_text("x")
    path = Path(where.replace("FILE", str(file)))
    with pytest.raises(OptionError) as caught:
        prepare_artifacts(path)
    text = str(caught.value)
    assert text.startswith(f"--artifacts={path}: ") and text.endswith("--artifacts=reports/runs/mine")
    assert all(word in text for word in words), text
    assert not (tmp_path / "file.txt" / "below").exists()


def test_an_unwritable_artifacts_folder_is_one_line(tmp_path, monkeypatch):
    # Permission bits do not stop root, so the check itself (os.access) is made to say "not writable".
    monkeypatch.setattr(options_module.os, "access", lambda path, mode: False)
    with pytest.raises(OptionError, match=r"the folder is not writable; choose a writable folder"):
        prepare_artifacts(tmp_path / "ro")


def test_a_folder_that_cannot_be_created_is_one_line(tmp_path, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(OptionError, match=r"cannot create it \(Permission denied\)"):
        prepare_artifacts(tmp_path / "new")

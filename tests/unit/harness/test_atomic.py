"""harness/atomic.py: a report written atomically is readable as any new file would be, not owner-only."""

from __future__ import annotations

import stat

from harness import atomic
from harness.atomic import write_atomically


def test_a_new_file_gets_the_umask_mode_not_mkstemps_owner_only(tmp_path):
    path = write_atomically(tmp_path / "summary.json", "{}")
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode == 0o666 & ~atomic._UMASK, f"{oct(mode)}: not the mode a new file gets under the process umask"


def test_a_replaced_file_keeps_its_mode(tmp_path):
    path = tmp_path / "report.html"
    path.write_text("old")
    path.chmod(0o640)
    write_atomically(path, "new")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640 and path.read_text() == "new"

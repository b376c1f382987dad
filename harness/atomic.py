"""Write a run's output files so that a reader never sees half of one.

Each file is written to a temporary file in the same folder (a rename is atomic only within one filesystem),
flushed and fsynced, then renamed over the target with ``os.replace``; the folder is fsynced so the rename
survives a power cut. A process killed at any point leaves either the old file (or none) or the new one whole,
plus at most a ``.<name>.*.partial`` leftover, which ``remove_partials`` clears before a manifest is written.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

PARTIAL_SUFFIX = ".partial"


def write_atomically(path: Path | str, data: bytes | str) -> Path:
    """Replace ``path`` with ``data`` (str is written as UTF-8) in one rename; returns the path."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=PARTIAL_SUFFIX)
    try:
        # mkstemp makes the file owner-only; a report is read by others (CI artifact upload, the lab's staff):
        # give it the mode of the file it replaces, else what the umask gives a new file.
        os.fchmod(fd, path.stat().st_mode & 0o777 if path.exists() else _new_file_mode())
        with os.fdopen(fd, "wb") as file:
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


def _read_umask() -> int:
    umask = os.umask(0)
    os.umask(umask)  # reading the umask means setting it: put it back at once (once, at import, not per write)
    return umask


_UMASK = _read_umask()


def _new_file_mode() -> int:
    return 0o666 & ~_UMASK


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (a new or renamed file) durable; a no-op where directories cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_partials(folder: Path | str) -> list[str]:
    """Delete the temporary files a killed writer left in ``folder`` (not below it); returns their names."""
    removed = []
    for path in sorted(Path(folder).glob(f".*{PARTIAL_SUFFIX}")):
        if path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed

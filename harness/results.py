"""Results of a run: run information, case results, verdicts, and the journal written as the run goes.

The journal (``journal.jsonl`` in the run directory) is the single source of a conformance report. Its first
line describes the run (DUT identity, PICS, PIXITs, suite version, bench), each further line is one finished
case, and a last line marks the run complete. Every line is flushed and fsynced when written, so a run killed
with SIGKILL keeps every case it finished; ``read_journal`` tolerates the torn last line such a kill can leave.

No pytest here: harness/plugin.py builds these objects from its hooks and calls ``Journal.record``.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import platform
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal, Self, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.redact import Redactor

JOURNAL_NAME = "journal.jsonl"
JOURNAL_FORMAT = 1
_M = TypeVar("_M", bound=BaseModel)


class JournalError(ValueError):
    """A journal that cannot be written or read: the message names the file, the line and the problem."""


class Verdict(StrEnum):
    """The verdict of one case (docs/reports.md)."""

    PASSED = "passed"
    FAILED = "failed"  # the DUT did not conform
    ERROR = "error"  # a bench fault (radio gone, serial timeout): never counted against the DUT
    NOT_APPLICABLE = "not_applicable"  # the DUT's PICS do not claim what the case tests
    BLOCKED = "blocked"  # a manual step nobody performed


class OverallVerdict(StrEnum):
    """The verdict of a run."""

    CONFORMANT = "CONFORMANT"
    NOT_CONFORMANT = "NOT CONFORMANT"
    INCONCLUSIVE = "INCONCLUSIVE"


def utc_now() -> datetime:
    return datetime.now(UTC)


def _aware_utc(value: datetime) -> datetime:
    # A naive time in a report is ambiguous across labs in different zones: refuse it.
    if value.tzinfo is None:
        raise ValueError("time has no UTC offset; use datetime.now(UTC)")
    return value.astimezone(UTC)


UtcTime = Annotated[datetime, AfterValidator(_aware_utc)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DutIdentity(_Model):
    """Who was tested, as the DUT's Basic cluster answered and its profile declares."""

    manufacturer: str = ""
    model: str = ""
    firmware: str = ""  # Basic SWBuildID / ApplicationVersion as the profile or DUT gives it
    date_code: str = ""
    ieee: str = ""
    device_type: str = ""  # e.g. "In-Home Display (0x0507)"
    profile: str = ""  # the DUT profile file the run used


class BenchInfo(_Model):
    """What tested it: the golden radio and whether the air was simulated."""

    id: str = ""
    radio: str = ""  # "sim", "ezsp:/dev/ttyACM0"
    radio_firmware: str = ""
    simulated: bool = True


class RunInfo(_Model):
    """The first line of a journal: everything a reader needs to know what a run judged and how."""

    dut: DutIdentity = Field(default_factory=DutIdentity)
    pics: dict[str, Any] = Field(default_factory=dict)
    pixit: dict[str, Any] = Field(default_factory=dict)
    suite_version: str = ""
    bench: BenchInfo = Field(default_factory=BenchInfo)
    started: UtcTime = Field(default_factory=utc_now)
    options: dict[str, Any] = Field(default_factory=dict)  # dut spec, faults, command line choices
    host: str = Field(default_factory=lambda: default_host())
    secrets_revealed: bool = False  # --reveal-secrets: the report then says so on its first line

    @property
    def pics_hash(self) -> str:
        return pics_hash(self.pics)


class Step(_Model):
    """One Gherkin step as it ran."""

    keyword: str
    text: str
    outcome: Literal["passed", "failed", "error", "skipped", "not_run"] = "passed"


class CaseMessage(_Model):
    """Why a case failed or errored: the expectation, what was observed, and the rule's source.

    ``text`` carries a free-form message when the failure was not raised with the structured fields.
    """

    expectation: str = ""
    observation: str = ""
    rule: str = ""
    text: str = ""


class BenchErrorRecord(_Model):
    """A bench fault that was retried (bounded) before the case's final attempt."""

    attempt: int = Field(ge=1)
    error: str
    at: UtcTime | None = None


def _relative_attachment(value: str) -> str:
    # Attachments are links in the report: a path outside the run directory would link to (and reveal)
    # something the manifest does not cover.
    path = PurePosixPath(value)
    if not value or path.is_absolute() or ".." in path.parts or "\\" in value or ":" in path.parts[0]:
        raise ValueError(f"attachment {value!r} must be a path relative to the run directory, without '..'")
    return path.as_posix()


class CaseResult(_Model):
    """The result of one finished case (one pytest item)."""

    nodeid: str
    case_id: str = ""  # TC-JOIN-1.1
    title: str = ""
    area: str = ""  # the feature folder: joining, attributes, drlc ...
    pics: list[str] = Field(default_factory=list)
    mandatory: bool = True
    verdict: Verdict
    started: UtcTime = Field(default_factory=utc_now)
    duration_s: float = Field(default=0.0, ge=0.0)
    steps: list[Step] = Field(default_factory=list)
    message: CaseMessage | None = None
    attachments: list[Annotated[str, AfterValidator(_relative_attachment)]] = Field(default_factory=list)
    bench_errors: list[BenchErrorRecord] = Field(default_factory=list)

    @field_validator("message", mode="before")
    @classmethod
    def _free_text(cls, value: Any) -> Any:
        return CaseMessage(text=value) if isinstance(value, str) else value


class Totals(_Model):
    """How many cases ended with each verdict."""

    passed: int = 0
    failed: int = 0
    error: int = 0
    not_applicable: int = 0
    blocked: int = 0

    @classmethod
    def of(cls, cases: Iterable[CaseResult]) -> Totals:
        totals = cls()
        for case in cases:
            setattr(totals, case.verdict.value, getattr(totals, case.verdict.value) + 1)
        return totals

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.error + self.not_applicable + self.blocked


@dataclass(frozen=True)
class Assessment:
    """The overall verdict of a run and the reasons a reader is shown for it."""

    verdict: OverallVerdict
    reasons: tuple[str, ...]


def assess(cases: Iterable[CaseResult], complete: bool) -> Assessment:
    """The overall verdict (docs/reports.md):

    NOT CONFORMANT when a mandatory case failed (an observed non-conformance stands even in an incomplete
    run, and retries never hide it); CONFORMANT only when the run completed, at least one applicable mandatory
    case ran, every applicable mandatory case passed and nothing errored or was blocked; INCONCLUSIVE otherwise.
    """
    cases = list(cases)
    failed_mandatory = [c for c in cases if c.mandatory and c.verdict is Verdict.FAILED]
    if failed_mandatory:
        ids = ", ".join(c.case_id or c.nodeid for c in failed_mandatory)
        return Assessment(OverallVerdict.NOT_CONFORMANT, (f"mandatory case(s) failed: {ids}",))
    reasons: list[str] = []
    if not complete:
        reasons.append("the run is incomplete: it stopped before its last case")
    errored = [c for c in cases if c.verdict is Verdict.ERROR]
    if errored:
        reasons.append(f"{len(errored)} case(s) ended in a bench error (not counted against the DUT)")
    blocked = [c for c in cases if c.verdict is Verdict.BLOCKED]
    if blocked:
        reasons.append(f"{len(blocked)} case(s) blocked: a manual step was not performed")
    applicable_mandatory = [c for c in cases if c.mandatory and c.verdict is not Verdict.NOT_APPLICABLE]
    if not applicable_mandatory:
        reasons.append("no applicable mandatory case ran")
    if reasons:
        return Assessment(OverallVerdict.INCONCLUSIVE, tuple(reasons))
    return Assessment(
        OverallVerdict.CONFORMANT,
        (f"all {len(applicable_mandatory)} applicable mandatory case(s) passed",),
    )


def pics_hash(pics: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the PICS as canonical JSON with sorted keys: equal claims give equal hashes."""
    canonical = json.dumps(dict(pics), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def suite_version(root: Path | str | None = None) -> str:
    """``git describe --always --dirty`` of the suite's checkout, or the installed package version."""
    root = Path(root) if root is not None else Path(__file__).resolve().parent.parent
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=root, capture_output=True, text=True, timeout=10, check=False,
        )
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass  # no git on this machine, or not a checkout: fall back to the package version
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("se-conformance")
    except PackageNotFoundError:
        return "unknown"


def default_host() -> str:
    """``user@host`` of the machine that ran the suite."""
    try:
        return f"{getpass.getuser()}@{platform.node()}"
    except (KeyError, OSError):
        return platform.node()


class Journal:
    """The append-only record of a run. ``open`` writes the run line; ``record`` each finished case.

    A redactor, when given, is applied to every line before it reaches the disk (secrets never land in the
    run directory); the plugin passes none with --reveal-secrets.
    """

    def __init__(self, path: Path, file: Any, redactor: Redactor | None) -> None:
        self.path = path
        self._file = file
        self._redactor = redactor
        self._closed = False
        self.run_info: RunInfo | None = None

    @classmethod
    def open(cls, run_dir: Path | str, run_info: RunInfo, redactor: Redactor | None = None) -> Self:
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        path = run_dir / JOURNAL_NAME
        try:
            file = path.open("x", encoding="utf-8", newline="\n")
        except FileExistsError:
            raise JournalError(f"{path}: a journal already exists; use a fresh run directory") from None
        journal = cls(path, file, redactor)
        journal.run_info = run_info
        journal._write({"type": "run", "format": JOURNAL_FORMAT, "run": run_info.model_dump(mode="json")})
        _fsync_dir(run_dir)  # the directory entry must survive a crash as well as the file's contents
        return journal

    def record(self, case: CaseResult) -> None:
        self._write({"type": "case", "case": case.model_dump(mode="json")})

    def update_dut(self, dut: DutIdentity) -> None:
        """Record the DUT's identity as read from the DUT itself (Basic cluster) once the run knows it."""
        self._write({"type": "dut", "dut": dut.model_dump(mode="json")})

    def close(self, summary: Mapping[str, Any] | None = None) -> None:
        """Mark the run complete. ``summary`` is free-form (exit status, interrupted ...), kept as is."""
        self._write({"type": "end", "finished": utc_now().isoformat(), "summary": dict(summary or {})})
        self._file.close()
        self._closed = True

    def _write(self, entry: dict[str, Any]) -> None:
        if self._closed:
            raise JournalError(f"{self.path}: the journal is closed; nothing can be recorded after close()")
        if self._redactor is not None:
            entry = self._redactor.redact(entry)
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
        # One write per line, then flush and fsync: a kill leaves at most the line being written torn.
        self._file.write(line + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        # Leaving the block by an exception does not complete the run: only close() marks it complete.
        if not self._closed:
            self._file.close()
            self._closed = True


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # some filesystems cannot open a directory; the file itself is fsynced
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@dataclass(frozen=True)
class JournalContents:
    run: RunInfo
    cases: list[CaseResult]
    complete: bool
    summary: dict[str, Any]
    finished: datetime | None
    torn_tail: bool  # the last line was cut off (a killed run) and was ignored

    def __iter__(self):  # (run, cases, complete) = read_journal(...)
        return iter((self.run, self.cases, self.complete))


def read_journal(run_dir: Path | str) -> JournalContents:
    """Read ``run_dir/journal.jsonl``. Unpacks as ``(run_info, cases, complete)``.

    A last line without its newline that does not parse is a killed writer's torn line: it is ignored and
    the run reads as incomplete. Any other bad line raises JournalError naming its number.
    """
    path = Path(run_dir) / JOURNAL_NAME
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise JournalError(f"{path}: no journal here (is this a run directory?)") from None
    except OSError as exc:
        raise JournalError(f"{path}: cannot read: {exc.strerror}") from None
    lines = data.split(b"\n")
    tail = lines.pop()  # b"" when the file ends with a newline
    entries: list[tuple[int, dict[str, Any]]] = [
        (number, _parse_line(path, number, raw)) for number, raw in enumerate(lines, 1) if raw.strip()
    ]
    torn = False
    if tail.strip():
        try:
            entries.append((len(lines) + 1, _parse_line(path, len(lines) + 1, tail)))
        except JournalError:
            torn = True
    if not entries:
        raise JournalError(f"{path}: empty journal: the run stopped before it recorded its run information")
    first_number, first = entries[0]
    if first.get("type") != "run":
        raise JournalError(f"{path}: line {first_number}: the first line must describe the run (type 'run')")
    if first.get("format") != JOURNAL_FORMAT:
        raise JournalError(
            f"{path}: line {first_number}: journal format {first.get('format')!r} is not {JOURNAL_FORMAT}"
        )
    run = _validate(path, first_number, RunInfo, first.get("run"))
    cases: list[CaseResult] = []
    complete, summary, finished = False, {}, None
    for number, entry in entries[1:]:
        kind = entry.get("type")
        if complete:
            raise JournalError(f"{path}: line {number}: a line after the completion line")
        if kind == "case":
            cases.append(_validate(path, number, CaseResult, entry.get("case")))
        elif kind == "dut":
            run = run.model_copy(update={"dut": _validate(path, number, DutIdentity, entry.get("dut"))})
        elif kind == "end":
            complete = True
            summary = entry.get("summary") if isinstance(entry.get("summary"), dict) else {}
            finished = _finished(entry.get("finished"))
        else:
            raise JournalError(f"{path}: line {number}: unknown entry type {kind!r}")
    return JournalContents(run, cases, complete, summary, finished, torn)


def _parse_line(path: Path, number: int, raw: bytes) -> dict[str, Any]:
    try:
        entry = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise JournalError(f"{path}: line {number}: not a JSON line ({exc})") from None
    if not isinstance(entry, dict):
        raise JournalError(f"{path}: line {number}: expected a JSON object, got {type(entry).__name__}")
    return entry


def _validate(path: Path, number: int, model: type[_M], value: Any) -> _M:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(entry)"
        raise JournalError(
            f"{path}: line {number}: {model.__name__}.{where}: {first['msg']}"
            + (f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else "")
        ) from None


def _finished(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None

"""Results of a run: run information, case results, verdicts, and the journal written as the run goes.

The journal (``journal.jsonl`` in the run directory) is the single source of a conformance report. Its first
line describes the run (DUT identity, PICS, PIXITs, suite version, bench), each further line is one finished
case, and a last line marks the run complete. Every line is flushed and fsynced when written, so a run killed
with SIGKILL keeps every case it finished; ``read_journal`` tolerates the torn last line such a kill can leave.
Each record is hash-chained and sealed as it is written (``Journal``), so ``read_journal`` can tell an intact
journal from one a record was edited in, removed from or appended to afterwards (``ChainState``).

No pytest here: harness/plugin.py builds these objects from its hooks and calls ``Journal.record``.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import platform
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Annotated, Literal, Self, TextIO, TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue, ValidationError, field_validator

from harness.atomic import fsync_dir
from harness.redact import Redactor

JOURNAL_NAME = "journal.jsonl"
JOURNAL_FORMAT = 2  # 2: every record chained and sealed (seq, prev, seal)
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
    PARTIAL = "PARTIAL"  # every case that ran passed, but the run was a selection or overrode the profile

    @property
    def exit_code(self) -> int:
        """The pytest exit status of a run with this verdict (docs/reports.md); pytest's own 2-5 stay theirs."""
        return _EXIT_CODES[self]


_EXIT_CODES = {
    OverallVerdict.CONFORMANT: 0,
    OverallVerdict.NOT_CONFORMANT: 1,
    OverallVerdict.INCONCLUSIVE: 6,
    OverallVerdict.PARTIAL: 7,
}


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


class RunScope(_Model):
    """What part of the suite a run judged, and on which claims: the difference between a complete run and a
    selection. Written when the run starts, so a killed run still says what it set out to judge."""

    selection: list[str] = Field(default_factory=list)  # "-k announces", "test paths: steps/test_joining.py"
    overrides: list[str] = Field(default_factory=list)  # "--pics SE.KE.C=false", "--pixit join_timeout=45s"
    applicable: list[str] = Field(default_factory=list)  # every case key the claims make applicable

    @property
    def narrowed(self) -> bool:
        return bool(self.selection or self.overrides)


class RunInfo(_Model):
    """The first line of a journal: everything a reader needs to know what a run judged and how."""

    dut: DutIdentity = Field(default_factory=DutIdentity)
    pics: dict[str, bool] = Field(default_factory=dict)
    pixit: dict[str, str] = Field(default_factory=dict)  # name -> value as given ("30 s")
    #: PIXITs in force that make a check more lenient than its default (harness.pixits.widened): name -> why.
    widened: dict[str, str] = Field(default_factory=dict)
    suite_version: str = ""
    bench: BenchInfo = Field(default_factory=BenchInfo)
    started: UtcTime = Field(default_factory=utc_now)
    options: dict[str, JsonValue] = Field(default_factory=dict)  # dut spec, faults, command line choices
    host: str = Field(default_factory=lambda: default_host())
    secrets_revealed: bool = False  # --reveal-secrets: the report then says so on its first line
    scope: RunScope | None = None  # None in journals written before the scope was recorded
    observed_dut: DutIdentity | None = None  # the Basic identity read on the air (a "dut" journal line)
    # The run's seed (--seed, or drawn when none was given): replaying it reproduces every case's random
    # choices and simulated captures (docs/architecture.md, "Reproducible runs"). None in older journals.
    seed: int | None = Field(default=None, ge=0)

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
    def _free_text(cls, value: object) -> object:
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


def identity_mismatches(declared: DutIdentity, observed: DutIdentity | None) -> list[str]:
    """Where the DUT on the air contradicts the one its profile describes (Basic ManufacturerName and
    ModelIdentifier); empty when they agree.

    Both attributes are optional in ZCL Basic (SE 1.x mandates only ZCLVersion and PowerSource), so a DUT
    that does not serve them contradicts nothing: it is tied to its profile by joining with the profile's
    IEEE address and install code, and the report says the names were not served.
    """
    if observed is None:
        return []  # no identification was attempted (a journal from before it was recorded)
    problems = []
    for field_name, label in (("manufacturer", "manufacturer"), ("model", "model")):
        want, got = getattr(declared, field_name).strip(), getattr(observed, field_name).strip()
        if want and got and got != want:
            problems.append(f"{label}: the profile declares {want!r}, the DUT answers {got!r}")
    return problems


def assess(
    cases: Iterable[CaseResult],
    complete: bool,
    scope: RunScope | None = None,
    identity_problems: Iterable[str] = (),
) -> Assessment:
    """The overall verdict (docs/reports.md), which claims no more than the run showed:

    - NOT CONFORMANT when a mandatory case failed (an observed non-conformance stands even in an incomplete
      or partial run, and retries never hide it);
    - INCONCLUSIVE when the run stopped early, a case errored or was blocked, no applicable mandatory case
      ran, or the DUT on the air is not the one the profile describes;
    - PARTIAL when every case that ran passed but the run was a selection (paths, -k, -m, --case ...), an
      override of the profile's PICS or PIXITs, or left applicable cases of the catalogue unrun;
    - CONFORMANT only for a complete run of every applicable case on the profile's own claims and parameters.
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
    identity = list(identity_problems)
    if identity:
        reasons.append("not the DUT the profile describes: " + "; ".join(identity))
    if reasons:
        return Assessment(OverallVerdict.INCONCLUSIVE, tuple(reasons))
    partial = scope_gaps(cases, scope)
    if partial:
        return Assessment(OverallVerdict.PARTIAL, tuple(partial))
    return Assessment(
        OverallVerdict.CONFORMANT,
        (f"all {len(applicable_mandatory)} applicable mandatory case(s) passed",),
    )


def assess_run(run: RunInfo, cases: Iterable[CaseResult], complete: bool,
               chain: ChainState | None = None) -> Assessment:
    """``assess`` of one journal's run: on its recorded scope and the DUT identity it observed on the air. A
    journal whose chain is broken is not evidence: the run is then INCONCLUSIVE whatever its cases say."""
    assessment = assess(cases, complete, run.scope, identity_mismatches(run.dut, run.observed_dut))
    if chain is None or chain.status != "broken":
        return assessment
    return Assessment(OverallVerdict.INCONCLUSIVE, (chain.describe(), *assessment.reasons))


def not_run(cases: Iterable[CaseResult], scope: RunScope | None) -> list[str]:
    """Applicable case keys of the catalogue that no journal record covers, in catalogue order."""
    if scope is None:
        return []
    ran = {c.case_id for c in cases}
    return [key for key in scope.applicable if key not in ran]


def scope_gaps(cases: Iterable[CaseResult], scope: RunScope | None) -> list[str]:
    """Why a run that passed everything it ran is still not a complete conformance run (empty: it is)."""
    cases = list(cases)
    if scope is None:
        return ["the run recorded no scope (a journal from before scopes were recorded): completeness unknown"]
    reasons = [f"selection: {', '.join(scope.selection)}"] if scope.selection else []
    if scope.overrides:
        reasons.append(f"the profile's claims or parameters were overridden: {', '.join(scope.overrides)}")
    missing = not_run(cases, scope)
    if missing:
        shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        reasons.append(f"{len(missing)} applicable case(s) of {len(scope.applicable)} did not run: {shown}")
    return reasons


def pics_hash(pics: Mapping[str, JsonValue]) -> str:
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
    """The append-only, sealed record of a run. ``open`` writes the run line; ``record`` each finished case.

    A redactor, when given, is applied to every line before it reaches the disk (secrets never land in the
    run directory); the plugin passes none with --reveal-secrets.

    Every record is chained and sealed as it is written (docs/reports.md, "Trust model"): it carries its
    sequence number (``seq``), the hash of the record before it (``prev``) and an Ed25519 signature
    (``seal``) of its own hash by a key generated in memory when the journal is opened. Only the public half
    (``chain_key``, in the run line) is ever written; the private half is dropped at close and dies with the
    process, so once the run is over nobody can edit, remove or append a record, an end record included,
    without the chain saying so. With a lab key, ``close`` also has the lab sign the chain head (``lab_seal``
    on the end record): the journal is then signed at the source.
    """

    def __init__(self, path: Path, file: TextIO, redactor: Redactor | None) -> None:
        self.path = path
        self._file = file
        self._redactor = redactor
        self._closed = False
        self._seal_key: Ed25519PrivateKey | None = None
        self._seq = 0
        self._head = CHAIN_GENESIS
        self.chain_key = ""  # hex of the run's sealing public key
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
        # Generated here and never written: the seal of this run's records cannot be made by anyone later.
        journal._seal_key = Ed25519PrivateKey.generate()
        journal.chain_key = public_key_hex(journal._seal_key.public_key())
        journal._write({"type": "run", "format": JOURNAL_FORMAT, "run": run_info.model_dump(mode="json")},
                       chain={"chain_key": journal.chain_key})
        fsync_dir(run_dir)  # the directory entry must survive a crash as well as the file's contents
        return journal

    @property
    def head(self) -> str:
        """Hash (hex) of the last record written: it covers every record before it."""
        return self._head

    def record(self, case: CaseResult) -> None:
        self._write({"type": "case", "case": case.model_dump(mode="json")})

    def update_dut(self, dut: DutIdentity) -> None:
        """Record the DUT's identity as read on the air (Basic cluster) once the run knows it."""
        self._write({"type": "dut", "dut": dut.model_dump(mode="json")})

    def update_bench_firmware(self, radio_firmware: str) -> None:
        """Record the golden radio's firmware (EZSP NCP board info and protocol) once the radio is open."""
        self._write({"type": "bench", "radio_firmware": radio_firmware})

    def close(
        self, summary: Mapping[str, JsonValue] | None = None, lab_key: Ed25519PrivateKey | None = None
    ) -> None:
        """Mark the run complete with the sealed end record. ``summary`` is free-form (exit status ...), kept as
        is. With ``lab_key`` the lab signs the chain head, which covers every record of the run."""
        entry: dict[str, JsonValue] = {
            "type": "end", "finished": utc_now().isoformat(), "summary": dict(summary or {})
        }
        chain = {"lab_key": public_key_hex(lab_key.public_key())} if lab_key is not None else None
        self._write(entry, chain=chain, lab_key=lab_key)
        self._file.close()
        self._closed = True
        self._seal_key = None

    def _write(self, entry: dict[str, JsonValue], *, chain: Mapping[str, str] | None = None,
               lab_key: Ed25519PrivateKey | None = None) -> None:
        if self._closed or self._seal_key is None:
            raise JournalError(f"{self.path}: the journal is closed; nothing can be recorded after close()")
        if self._redactor is not None:
            entry = self._redactor.redact(entry)
        # The chain fields are added after redaction: a redactor must never be able to alter a key or hash.
        entry = {**entry, **(chain or {}), "seq": self._seq + 1, "prev": self._head}
        digest = record_hash(entry)
        entry["seal"] = self._seal_key.sign(_RECORD_SEAL + bytes.fromhex(digest)).hex()
        if lab_key is not None:
            entry["lab_seal"] = lab_key.sign(_HEAD_SEAL + bytes.fromhex(digest)).hex()
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
        # One write per line, then flush and fsync: a kill leaves at most the line being written torn, and a
        # torn line is never a valid record, so a torn end record reads as an unsealed (incomplete) run.
        self._file.write(line + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._seq += 1
        self._head = digest

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        # Leaving the block by an exception does not complete the run: only close() marks it complete.
        if not self._closed:
            self._file.close()
            self._closed = True
            self._seal_key = None


# -- the journal's chain and seals -------------------------------------------------------------------------

CHAIN_GENESIS = "0" * 64  # the "previous record" of the run line
# Domain prefixes: a signature made for one purpose (a record, the chain head) never verifies for another,
# nor as a signature of a manifest (which is a JSON object and so starts with "{").
_RECORD_SEAL = b"se-journal/2 record "
_HEAD_SEAL = b"se-journal/2 head "
_SIGNATURE_FIELDS = frozenset({"seal", "lab_seal"})  # what signs a record is not part of its hash


def record_hash(entry: Mapping[str, JsonValue]) -> str:
    """SHA-256 (hex) of a journal record as canonical JSON (sorted keys, ASCII), its signatures left out."""
    body = {key: value for key, value in entry.items() if key not in _SIGNATURE_FIELDS}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def key_fingerprint(public_key: Ed25519PublicKey | bytes | str) -> str:
    """How reports name a signer: ``ed25519:`` and the first 32 hex digits of SHA-256 of the raw public key."""
    if isinstance(public_key, Ed25519PublicKey):
        raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    else:
        raw = bytes.fromhex(public_key) if isinstance(public_key, str) else public_key
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:32]


def public_key_hex(key: Ed25519PublicKey) -> str:
    """The raw 32-byte public key as hex, as journals and manifests record a key."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def _public_key(value: object) -> Ed25519PublicKey | None:
    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(value)) if isinstance(value, str) else None
    except ValueError:
        return None


def signs(key: Ed25519PublicKey, signature: object, message: bytes) -> bool:
    """Whether ``signature`` (raw bytes, or hex text as a journal records it) is ``key``'s signature of
    ``message``; False for anything else."""
    try:
        raw = bytes.fromhex(signature) if isinstance(signature, str) else signature
        if not isinstance(raw, bytes):
            return False
        key.verify(raw, message)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


@dataclass(frozen=True)
class ChainState:
    """What ``read_journal`` found of the journal's chain and seals.

    ``intact``: every record verifies and the run's end record is present; ``unsealed``: every record verifies
    but there is no end record (the run was killed or crashed; nothing is known to be altered, but the run is
    incomplete); ``broken``: the record on line ``broken_at`` does not verify: evidence was altered.
    """

    status: Literal["intact", "unsealed", "broken"]
    records: int  # records that verified, from the first
    head: str  # hash of the last record that verified ("" when none did)
    chain_key: str = ""  # the run's sealing public key (hex) from the run line
    broken_at: int | None = None
    problem: str = ""
    lab_key: str = ""  # hex of the lab key whose seal on the end record verified; "" when not signed at source

    @property
    def intact(self) -> bool:
        return self.status == "intact"

    @property
    def signer(self) -> str:
        """The fingerprint of the lab key that signed the journal at the source, or "unsigned"."""
        return key_fingerprint(self.lab_key) if self.lab_key else "unsigned"

    def describe(self) -> str:
        if self.status == "broken":
            return f"the journal's chain is broken at line {self.broken_at}: evidence was altered ({self.problem})"
        if self.status == "unsealed":
            return (f"the journal's chain holds for its {self.records} record(s) but has no end record: "
                    "the run stopped before it finished")
        return f"the journal's chain is intact: {self.records} record(s), sealed by the run's end record"


def check_chain(entries: list[tuple[int, dict[str, JsonValue]]]) -> ChainState:
    """Verify the chain of a journal's records, given as (line number, parsed record) in file order."""
    count, head = 0, CHAIN_GENESIS
    given_key = entries[0][1].get("chain_key") if entries else None
    chain_key = given_key if isinstance(given_key, str) else ""
    key = _public_key(chain_key)

    def broken(number: int, problem: str) -> ChainState:
        return ChainState("broken", count, head if count else "", chain_key if key else "", number, problem)

    if key is None:
        return broken(entries[0][0] if entries else 1, "the run line carries no valid chain key: not a sealed journal")
    lab_key = ""
    for index, (number, entry) in enumerate(entries, 1):
        if entry.get("seq") != index:
            return broken(number, f"record {index} is numbered {entry.get('seq')!r}: a record was removed, "
                                  "inserted or moved")
        if entry.get("prev") != head:
            return broken(number, "it does not follow the record before it")
        digest = record_hash(entry)
        if not signs(key, entry.get("seal"), _RECORD_SEAL + bytes.fromhex(digest)):
            return broken(number, "its seal does not verify: the record was edited, or written after the run")
        if "lab_key" in entry or "lab_seal" in entry:
            lab = _public_key(entry.get("lab_key"))
            if entry.get("type") != "end" or lab is None or not signs(
                lab, entry.get("lab_seal"), _HEAD_SEAL + bytes.fromhex(digest)
            ):
                return broken(number, "the lab's signature of the chain head does not verify")
            lab_key = str(entry["lab_key"])  # text: lab is not None
        head, count = digest, count + 1
    status: Literal["intact", "unsealed"] = "intact" if entries[-1][1].get("type") == "end" else "unsealed"
    return ChainState(status, count, head, chain_key, lab_key=lab_key)


@dataclass(frozen=True)
class JournalContents:
    run: RunInfo
    cases: list[CaseResult]
    complete: bool  # the end record is present and the whole chain verifies
    summary: dict[str, JsonValue]
    finished: datetime | None
    torn_tail: bool  # the last line was cut off (a killed run) and was ignored
    chain: ChainState | None = None  # always set by read_journal

    def __iter__(self) -> Iterator[RunInfo | list[CaseResult] | bool]:  # (run, cases, complete) = read_journal(...)
        return iter((self.run, self.cases, self.complete))


def read_journal(run_dir: Path | str) -> JournalContents:
    """Read ``run_dir/journal.jsonl``. Unpacks as ``(run_info, cases, complete)``; ``.chain`` says whether the
    records verify (intact, unsealed: no end record, or broken at line N).

    A last line without its newline that does not parse is a killed writer's torn line: it is ignored and
    the run reads as incomplete. Any other bad line raises JournalError naming its number. A record that
    does not verify does not raise: the chain reads as broken, and the run is never complete.
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
    entries: list[tuple[int, dict[str, JsonValue]]] = [
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
    chain = check_chain(entries)
    run = _validate(path, first_number, RunInfo, first.get("run"))
    cases: list[CaseResult] = []
    ended, finished = False, None
    summary: dict[str, JsonValue] = {}
    for number, entry in entries[1:]:
        kind = entry.get("type")
        if ended:
            if chain.status == "broken":
                break  # records after an end record are past a break the chain already reports
            raise JournalError(f"{path}: line {number}: a line after the completion line")
        if kind == "case":
            cases.append(_validate(path, number, CaseResult, entry.get("case")))
        elif kind == "dut":
            # Declared (the profile, in the run line) and observed (read on the air) are kept apart, so a
            # report can set them side by side and a mismatch cannot overwrite the claim it contradicts.
            run = run.model_copy(update={"observed_dut": _validate(path, number, DutIdentity, entry.get("dut"))})
        elif kind == "bench":
            firmware = entry.get("radio_firmware")
            if not isinstance(firmware, str):
                raise JournalError(f"{path}: line {number}: a bench line needs radio_firmware (text)")
            run = run.model_copy(update={"bench": run.bench.model_copy(update={"radio_firmware": firmware})})
        elif kind == "end":
            ended = True
            given_summary = entry.get("summary")
            summary = given_summary if isinstance(given_summary, dict) else {}
            finished = _finished(entry.get("finished"))
        else:
            raise JournalError(f"{path}: line {number}: unknown entry type {kind!r}")
    # Complete only when the end record is there and the chain holds up to it: an end line appended to a
    # killed run does not verify, so it completes nothing.
    return JournalContents(run, cases, ended and chain.intact, summary, finished, torn, chain)


def _parse_line(path: Path, number: int, raw: bytes) -> dict[str, JsonValue]:
    try:
        entry = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise JournalError(f"{path}: line {number}: not a JSON line ({exc})") from None
    if not isinstance(entry, dict):
        raise JournalError(f"{path}: line {number}: expected a JSON object, got {type(entry).__name__}")
    return entry


def _validate(path: Path, number: int, model: type[_M], value: object) -> _M:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(entry)"
        raise JournalError(
            f"{path}: line {number}: {model.__name__}.{where}: {first['msg']}"
            + (f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else "")
        ) from None


def _finished(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None

"""Redaction of a run's secrets (install codes, link and network keys, private keys) from text and JSON data.

A Redactor is built from the secret values of the run. It replaces each value wherever it appears as hex —
upper or lower case, with or without separators between bytes (``:``, ``-``, ``.``, ``_``, spaces, ``, ``),
with ``0x`` prefixes, in either byte order, or as a Python bytes literal — and, in JSON-like data, the value
of any field whose name says it holds a secret, and any PEM private key block whatever its value.
``--reveal-secrets`` bypasses redaction: the plugin then passes no Redactor at all.
"""

from __future__ import annotations

import base64
import functools
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.atomic import write_atomically
from harness.crypto.install_code import InstallCode

LOGGER = logging.getLogger(__name__)
REDACTED = "[redacted]"
#: Written into a run folder by :func:`redact_tree` when it had to change files after they were written.
REDACTION_NOTES = "REDACTIONS.txt"
# Shorter values would match ordinary data (a 4-byte value is a counter, a timestamp ...); the shortest
# Smart Energy secret is a 6-byte install code.
MIN_SECRET_BYTES = 6

_SEPARATOR = r"(?:[ \t:._-]|,[ \t]*)?"
_PEM_PRIVATE_KEY = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?-----END \1PRIVATE KEY-----", re.DOTALL
)
# Field names (normalised to lower case with '_') whose string values are secrets whatever they hold.
#: Field names whose values are secrets. A name that goes on to say what it counts or times about a key
#: (tc_key_update_time, network_key_seq) names a parameter, not a key: its value stays readable in the report.
_SECRET_FIELD = re.compile(
    r"(install_?code|link_?key|network_?key|nwk_?key|private_?key|tc_?key|secret(?!s_revealed)|passw(or)?d)"
    r"(?!_(update|seq|sequence|time|timeout|count)\b|_(update|seq|sequence)_)"
)


class RedactionError(ValueError):
    """A value that cannot serve as a secret to redact (too short, not hex)."""


def _secret_bytes(value: bytes | bytearray | str) -> bytes:
    if isinstance(value, bytes | bytearray):
        raw = bytes(value)
    else:
        text = re.sub(r"[\s:._-]", "", value)
        if text[:2].lower() == "0x":
            text = text[2:]
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise RedactionError("a secret given as text must be hex (separators allowed)") from None
    if len(raw) < MIN_SECRET_BYTES:
        # Never echo the value: it is a secret even when it is a useless one.
        raise RedactionError(
            f"a secret of {len(raw)} byte(s) is too short to redact safely (at least {MIN_SECRET_BYTES})"
        )
    return raw


def _hex_pattern(raw: bytes) -> str:
    return _SEPARATOR.join(f"(?:0x)?{byte:02x}" for byte in raw)


# How a character of a literal form (a bytes literal, base64) may look once the form sits inside a JSON
# string, an XML attribute or HTML text: a step parameter's repr in allure-results is JSON-escaped, in
# junit.xml it is XML-escaped. The literal itself comes last in each group.
_ESCAPED = {
    "\\": r"(?:\\\\|\\)",
    '"': r'(?:\\"|&quot;|&#34;|&#x22;|")',
    "'": r"(?:&#39;|&#x27;|&apos;|\\u0027|')",
    "<": r"(?:&lt;|&#60;|&#x3c;|\\u003c|<)",
    ">": r"(?:&gt;|&#62;|&#x3e;|\\u003e|>)",
    "&": r"(?:&amp;|&#38;|\\u0026|&)",
    "/": r"(?:\\/|/)",
}


def _literal_pattern(text: str) -> str:
    return "".join(_ESCAPED.get(ch) or re.escape(ch) for ch in text)


def base64_forms(raw: bytes) -> list[str]:
    """The base64 texts of a secret: standard and URL-safe, with and without padding, and the part fully
    determined by the secret when it sits at another offset inside a longer base64 blob (12 characters or
    more, so that no ordinary text matches)."""
    forms: set[str] = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(raw).decode("ascii")
        forms.update((whole, whole.rstrip("=")))
        for shift in (0, 1, 2):
            # With `shift` unknown bytes before it (and any after it), the 4-character groups whose 3 bytes
            # all belong to the secret are the same whatever those bytes were.
            encoded = encode(bytes(shift) + raw).decode("ascii")
            first = 1 if shift else 0  # group 0 holds the unknown bytes
            last = (shift + len(raw)) // 3  # groups from this one on hold bytes after the secret
            core = encoded[4 * first:4 * last]
            if len(core) >= 12:
                forms.add(core)
    return sorted(forms, key=len, reverse=True)


@dataclass(frozen=True)
class _Patterns:
    literal: re.Pattern[str]
    hex: re.Pattern[str]
    hex_digits: tuple[str, ...]  # a run of hex holds a secret only if its bare digits contain one of these
    decimal: re.Pattern[str]
    base64: tuple[str, ...]


# Where a secret shown as hex or as a list of numbers can be: maximal runs of hex digits (or numbers) and
# the separators _hex_pattern allows.
# A secret's bytes are pairs of digits, so a piece of one digit is never part of one.
# A run shorter than a secret's 2 * MIN_SECRET_BYTES digits can't hold one: the lookahead skips, inside the
# regex engine, every start without that many of the run's characters after it (most of a log's words), which
# finds the same long runs as without it, about three times as fast on prose.
# Explicit upper and lower case classes instead of re.IGNORECASE: the same matches, several times faster.
_HEX_RUN = re.compile(rf"(?=[0-9a-fA-FxX \t:._,-]{{{2 * MIN_SECRET_BYTES}}})"
                      r"(?:0[xX])?[0-9a-fA-F]{2,}(?:(?:[ \t:._-]|,[ \t]*)(?:0[xX])?[0-9a-fA-F]{2,})*")
# Starts only where a number starts: from inside a long run of digits (a DUT's 20 MB answer) every start
# would scan to the run's end, quadratic in its length (40,000 digits took 20 s).
_DECIMAL_RUN = re.compile(rf"(?<!\d)\d+(?:,\s*\d+){{{MIN_SECRET_BYTES - 1},}}")
_NOT_HEX_DIGITS = re.compile(r"0x|[^0-9a-f]")


@functools.lru_cache(maxsize=8)
def _patterns_for(ordered: tuple[bytes, ...]) -> _Patterns:
    """The patterns of a set of secrets, longest first. Compiled once per process: a run builds a Redactor for
    its journal, its evidence and its report from the same secrets, and compiling takes longer than most of
    what it then redacts."""
    return _Patterns(
        # b'...' in a log line or a step parameter, however the file around it escapes it.
        literal=re.compile("|".join(_literal_pattern(repr(raw)[2:-1]) for raw in ordered)),
        hex=re.compile("|".join(_hex_pattern(raw) for raw in ordered), re.IGNORECASE),
        hex_digits=tuple(raw.hex() for raw in ordered),
        # Decimal byte lists (a zigpy list type's repr, a JSON array of bytes).
        decimal=re.compile("|".join(r"(?<!\d)" + r",\s*".join(map(str, raw)) + r"(?!\d)" for raw in ordered)),
        base64=tuple(sorted({f for raw in ordered for f in base64_forms(raw)}, key=len, reverse=True)),
    )


def _holds(digits: str, secrets: tuple[str, ...]) -> bool:
    return any(secret in digits for secret in secrets)


def _within(runs: re.Pattern[str], detailed: re.Pattern[str], text: str, worth: Callable[[str], bool]) -> str:
    parts, last = [], 0
    # A log names the same few addresses thousands of times: each distinct run is judged once per text.
    judged: dict[str, str] = {}
    for run in runs.finditer(text):
        found = run.group()
        redacted = judged.get(found)
        if redacted is None:
            redacted = judged[found] = detailed.sub(REDACTED, found) if worth(found) else found
        if redacted != found:
            parts += [text[last:run.start()], redacted]
            last = run.end()
    return "".join(parts) + text[last:] if parts else text


#: A text this long or shorter is redacted once and its result kept; at most this many are kept.
_SHORT_TEXT = 64
_SHORT_TEXTS_KEPT = 4096


class Redactor:
    """Replaces the secret values of a run, given as bytes or hex text, by ``[redacted]``."""

    def __init__(self, secrets: Iterable[bytes | bytearray | str] = ()) -> None:
        self._secrets: set[bytes] = set()
        self._pattern: _Patterns | None = None
        # Short texts come back again and again (a journal record's keys, a step's name): each is redacted once.
        self._short: dict[str, str] = {}
        for secret in secrets:
            self.add(secret)

    def __repr__(self) -> str:  # the whole point is never to show them
        return f"Redactor(<{len(self._secrets)} secret(s)>)"

    def __len__(self) -> int:
        return len(self._secrets)

    def add(self, secret: bytes | bytearray | str) -> None:
        raw = _secret_bytes(secret)
        self._secrets.update((raw, raw[::-1]))  # keys are often shown byte-reversed (zigpy EUI64 style)
        self._pattern = None
        self._short.clear()

    def add_install_code(self, code: InstallCode | bytes | str) -> None:
        """An install code with and without its CRC, and the link key derived from it."""
        if not isinstance(code, InstallCode):
            code = InstallCode.parse(code)
        self.add(code.with_crc)
        self.add(code.code)
        self.add(code.link_key)

    @classmethod
    def from_profiles(cls, dut: Any = None, bench: Any = None) -> Redactor:
        """The secrets a DUT profile and a bench profile hold (harness.profiles models)."""
        redactor = cls()
        if dut is not None:
            redactor.add_install_code(dut.install_code_value)
            network = getattr(dut, "network", None)
            for device in getattr(network, "han_devices", ()):  # the golden's HAN devices in a DUT's network
                redactor.add_install_code(device.install_code_value)
        if bench is not None:
            redactor.add(bench.network_key.get_secret_value())
            test_ca = getattr(bench, "test_ca", None)
            if test_ca is not None and test_ca.private_key is not None:
                redactor.add(test_ca.private_key.get_secret_value())
        return redactor

    def _compiled(self) -> _Patterns | None:
        if self._pattern is None and self._secrets:
            # Longest first, so a code with its CRC is replaced whole rather than leaving the CRC behind.
            self._pattern = _patterns_for(tuple(sorted(self._secrets, key=lambda raw: (-len(raw), raw))))
        return self._pattern

    def redact_text(self, text: str) -> str:
        if len(text) > _SHORT_TEXT:
            return self._redact_text(text)
        redacted = self._short.get(text)
        if redacted is None:
            if len(self._short) >= _SHORT_TEXTS_KEPT:
                self._short.clear()
            redacted = self._short[text] = self._redact_text(text)
        return redacted

    def _redact_text(self, text: str) -> str:
        text = _PEM_PRIVATE_KEY.sub(REDACTED, text)
        patterns = self._compiled()
        if patterns is None:
            return text
        text = patterns.literal.sub(REDACTED, text)  # first: a literal's printable bytes may look like hex
        # The detailed patterns (dozens of alternatives) run only inside the runs of hex or numbers that could
        # hold a secret, found by one simple pattern: a large log is otherwise seconds per megabyte.
        text = _within(_HEX_RUN, patterns.hex, text, lambda run: len(run) >= 2 * MIN_SECRET_BYTES and _holds(
            _NOT_HEX_DIGITS.sub("", run.lower()), patterns.hex_digits))
        text = _within(_DECIMAL_RUN, patterns.decimal, text, lambda run: True)
        for form in patterns.base64:  # case-sensitive literals: plain substring search
            for shown in (form, form.replace("/", "\\/")):  # JSON may escape '/'
                if shown in text:
                    text = text.replace(shown, REDACTED)
        return text

    def redact(self, value: Any) -> Any:
        """A copy of JSON-like data (dicts, lists, tuples, strings, bytes) with every secret replaced."""
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, bytes | bytearray):
            return self.redact_text(bytes(value).hex())
        if isinstance(value, Mapping):
            return {
                self.redact_text(str(key)): (
                    self._redact_field(item) if _is_secret_field(str(key)) else self.redact(item)
                )
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.redact(item) for item in value]
        return value

    def _redact_field(self, value: Any) -> Any:
        if isinstance(value, str | bytes | bytearray):
            return REDACTED if value else value
        if isinstance(value, list | tuple | Mapping):
            return self.redact(value)
        return value  # a flag or a number (secrets_revealed: true) is not itself a secret

    def redact_bytes(self, data: bytes) -> tuple[bytes, int]:
        """Binary data (a capture) with every secret's raw bytes, in either order, overwritten by zeros of the
        same length, so offsets and lengths of everything else stay valid; and how many were overwritten."""
        found = 0
        buffer = bytearray(data)
        for secret in sorted(self._secrets, key=len, reverse=True):
            start = buffer.find(secret)
            while start != -1:
                buffer[start:start + len(secret)] = bytes(len(secret))
                found += 1
                start = buffer.find(secret, start + len(secret))
        return bytes(buffer), found

    def redact_file(self, path: Path | str) -> bool:
        """Rewrite a UTF-8 text file (a log, a JUnit file) with its secrets replaced; True when it changed."""
        path = Path(path)
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        redacted = self.redact_text(text)
        if redacted == text:
            return False
        path.write_text(redacted, encoding="utf-8", errors="surrogateescape")
        return True


def _is_secret_field(name: str) -> bool:
    return _SECRET_FIELD.search(re.sub(r"[\s.-]", "_", name).lower()) is not None


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _replace_file(path: Path, data: bytes) -> None:
    mode = path.stat().st_mode & 0o7777
    write_atomically(path, data)  # a reader never sees half a file; a killed pass leaves only a .partial
    os.chmod(path, mode)


def redact_path(path: Path, redactor: Redactor) -> str | None:
    """Redact one file in place (text: every form of every secret; binary: raw secrets zeroed byte-for-byte).
    Returns what was done, or None when the file held no secret."""
    data = path.read_bytes()
    if _is_text(data):
        text = data.decode("utf-8")
        redacted = redactor.redact_text(text)
        if redacted == text:
            return None
        _replace_file(path, redacted.encode("utf-8"))
        return "text redacted"
    zeroed, count = redactor.redact_bytes(data)
    if not count:
        return None
    _replace_file(path, zeroed)
    return f"{count} secret(s) overwritten with zero bytes"


#: Files of a run folder that are sealed evidence (harness/results.py Journal, reports/manifest.py).
_SEALED = frozenset({"journal.jsonl", "MANIFEST.json", "MANIFEST.sig"})


def _holds_secret(path: Path, redactor: Redactor) -> bool:
    text = path.read_bytes().decode("utf-8", errors="replace")
    return redactor.redact_text(text) != text


def redact_tree(run_dir: Path | str, redactor: Redactor) -> list[str]:
    """One pass over every file under a run folder (JSON, XML, HTML, logs, allure-results, captures) before
    its manifest is written, whatever wrote the file (pytest's JUnit writer and allure never see the
    redactor). Text files get :meth:`Redactor.redact_text`; binary files (pcap) get every raw secret
    zeroed byte-for-byte. Returns one note per changed file, and writes them into ``REDACTIONS.txt``."""
    run_dir = Path(run_dir)
    notes: list[str] = []
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file() and not p.is_symlink()):
        if path.name == REDACTION_NOTES:
            continue
        if path.parent == run_dir and path.name in _SEALED:
            # Sealed evidence is never rewritten (that would break its chain or signature): the journal is
            # redacted as each record is written. Should a secret still be there, say so loudly instead.
            if _holds_secret(path, redactor):
                notes.append(f"{path.name}: holds a secret and is sealed, so it was NOT rewritten; "
                             "do not publish this run folder")
            continue
        done = redact_path(path, redactor)
        if done is not None:
            notes.append(f"{path.relative_to(run_dir).as_posix()}: {done}")
    if notes:
        LOGGER.warning("secrets found after the run and redacted in %d file(s): %s", len(notes), "; ".join(notes))
        (run_dir / REDACTION_NOTES).write_text(
            "# Files in which secrets were redacted after they were written (harness/redact.py redact_tree)\n"
            + "\n".join(notes) + "\n", encoding="utf-8")
    return notes

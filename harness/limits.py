"""Size limits on what a run writes, so a DUT cannot decide how much we write.

A DUT controls what it answers: a gateway that answers with 20 MB, a device that floods the air. Whatever of
that reaches an output (a failure message, a log line, a capture, an Allure result or attachment) is cut to
a limit here, and the cut says how much went: "[... 19,987,654 characters cut ...]". A message keeps its
head (the exception name and first lines say what went wrong) and its tail (where it went wrong).

Limits (chosen so a whole suite's output stays in the tens of MB whatever the DUT does):
- a message field (expectation, observation, rule, text): 16 KiB each, so a journal message is at most 64 KiB;
- a pytest failure text, and each captured section (stdout, stderr, log) the terminal shows under a failure:
  64 KiB each; a captured section keeps mostly its tail, where the case went wrong;
- a line of a scenario or DUT log: 4 KiB; a log file: 1 Mi characters; any other attachment: 4 MiB; a
  capture: 16 MiB (whole frames);
- an Allure result: each string 16 KiB (a step parameter, a name), a status message or trace 64 KiB.
"""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path
from typing import Any

KIB = 1024
MIB = 1024 * KIB

MESSAGE_FIELD_LIMIT = 16 * KIB  # characters per message field; four fields make a 64 KiB message
MESSAGE_LIMIT = 4 * MESSAGE_FIELD_LIMIT
LOG_LINE_LIMIT = 4 * KIB
LOG_FILE_LIMIT = MIB  # characters of a log file (at most 4 MiB in UTF-8, the attachment limit)
ATTACHMENT_LIMIT = 4 * MIB  # bytes of a text attachment (log.txt, dut-log.txt, an Allure attachment)
CAPTURE_LIMIT = 16 * MIB  # bytes of a capture.pcap (whole frames only)
ALLURE_STRING_LIMIT = 16 * KIB
ALLURE_DETAILS_LIMIT = 64 * KIB  # an Allure status message or trace
#: Of a cut text, this share of the limit keeps its head; the rest keeps its tail.
HEAD_SHARE = 0.75


def cut_note(count: int, unit: str = "characters") -> str:
    return f"[... {count:,} {unit} cut by the suite's output limit ...]"


def clip(text: str, limit: int = MESSAGE_FIELD_LIMIT, *, head_share: float = HEAD_SHARE) -> str:
    """*text* if it fits in *limit* characters, else its head and tail around a note saying how much was cut.

    The result is never longer than *limit* (for any limit above a few dozen characters)."""
    if len(text) <= limit:
        return text
    # The note's length depends on the count it prints; a count has at most as many digits as len(text).
    room = max(0, limit - len(cut_note(len(text))) - 2)
    head = int(room * head_share)
    tail = room - head
    cut = len(text) - head - tail
    return f"{text[:head]}\n{cut_note(cut)}\n{text[len(text) - tail:] if tail else ''}"


def _byte_note(count: int) -> bytes:
    return ("\n" + cut_note(count, "bytes") + "\n").encode()


def clip_bytes(data: bytes, limit: int = ATTACHMENT_LIMIT) -> bytes:
    """*data* if it fits in *limit* bytes, else its head followed by a note saying how many bytes were cut."""
    if len(data) <= limit:
        return data
    keep = max(0, limit - len(_byte_note(len(data))))
    return data[:keep] + _byte_note(len(data) - keep)


def clip_message(message: dict[str, str] | None) -> dict[str, str] | None:
    """Every field of a journal message clipped to MESSAGE_FIELD_LIMIT."""
    if message is None:
        return None
    return {key: clip(str(value)) for key, value in message.items()}


def copy_clipped(source: Path, destination: Path, limit: int = ATTACHMENT_LIMIT) -> None:
    """Copy *source* to *destination*; only its head, with the cut note, when it is larger than *limit*."""
    size = os.path.getsize(source)
    if size <= limit:
        shutil.copy2(source, destination)
        return
    keep = max(0, limit - len(_byte_note(size)))
    with open(source, "rb") as stream:
        head = stream.read(keep)
    Path(destination).write_bytes(head + _byte_note(size - keep))


# -- Allure ------------------------------------------------------------------------------------------------

def clip_allure_item(item: Any, limit: int = ALLURE_STRING_LIMIT) -> Any:
    """Clip every string of an Allure result or container (attrs objects, in place); status messages and
    traces to ALLURE_DETAILS_LIMIT, everything else (names, step parameters, labels) to *limit*."""
    import attr

    def walk(obj: Any) -> Any:
        if isinstance(obj, str):
            return clip(obj, limit)
        if isinstance(obj, list):
            obj[:] = [walk(value) for value in obj]
            return obj
        if attr.has(type(obj)):
            details = type(obj).__name__ == "StatusDetails"
            for field in attr.fields(type(obj)):
                value = getattr(obj, field.name)
                if details and isinstance(value, str):
                    setattr(obj, field.name, clip(value, ALLURE_DETAILS_LIMIT))
                elif isinstance(value, str | list) or attr.has(type(value)):
                    setattr(obj, field.name, walk(value))
        return obj

    return walk(item)


def bound_allure_output() -> Any | None:
    """Make what allure writes in this process bounded: results, containers and attachments.

    Two parts. A hook clips every result before any other hook sees it (registered last among the tryfirst
    hooks, it runs first: redacting or copying 20 MB strings would cost time before they are cut). And
    allure-pytest-bdd's ``AllureFileLogger`` (registered in its pytest_configure) is swapped, in place, for
    the bounded subclass below and registered again under its own name (its cleanup unregisters it by object,
    so it must stay the same object): attachments are clipped as they are written, results once more.
    Returns the clipping hook (for :func:`release_allure_clipper` at the session's end), None without allure."""
    try:
        import allure_commons
        from allure_commons.logger import AllureFileLogger
    except ImportError:  # allure is optional at run time
        return None
    manager = allure_commons.plugin_manager
    bounded, clipper_class = _allure_classes()
    found = False
    for plugin in list(manager.get_plugins()):
        if type(plugin) is AllureFileLogger:
            name = manager.get_name(plugin)
            manager.unregister(plugin)
            plugin.__class__ = bounded
            manager.register(plugin, name)
        found |= isinstance(plugin, AllureFileLogger)
    if not found:
        return None
    clipper = clipper_class()
    manager.register(clipper)
    return clipper


def release_allure_clipper(clipper: Any) -> None:
    import allure_commons

    if allure_commons.plugin_manager.is_registered(clipper):
        allure_commons.plugin_manager.unregister(clipper)


@functools.cache
def _allure_classes() -> tuple[type, type]:
    """The bounded file logger and the clipping hook (defined once allure is known to be installed)."""
    from allure_commons import hookimpl
    from allure_commons.logger import AllureFileLogger

    class BoundedAllureFileLogger(AllureFileLogger):
        """AllureFileLogger whose results and attachments are clipped to the suite's output limits."""

        def _report_item(self, item):
            super()._report_item(clip_allure_item(item))

        @hookimpl
        def report_attached_file(self, source, file_name):
            tmp = self._report_dir / f"{file_name}.tmp"
            copy_clipped(Path(source), tmp, CAPTURE_LIMIT if str(source).endswith(".pcap") else ATTACHMENT_LIMIT)
            os.replace(tmp, self._report_dir / file_name)

        @hookimpl
        def report_attached_data(self, body, file_name):
            data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
            super().report_attached_data(clip_bytes(data), file_name)

    class ClipAllureResults:
        """Clips each result and container before the other allure hooks see it."""

        @hookimpl(tryfirst=True)
        def report_result(self, result):
            clip_allure_item(result)

        @hookimpl(tryfirst=True)
        def report_container(self, container):
            clip_allure_item(container)

    return BoundedAllureFileLogger, ClipAllureResults


__all__ = [
    "ALLURE_DETAILS_LIMIT", "ALLURE_STRING_LIMIT", "ATTACHMENT_LIMIT", "CAPTURE_LIMIT", "LOG_FILE_LIMIT",
    "LOG_LINE_LIMIT",
    "MESSAGE_FIELD_LIMIT", "MESSAGE_LIMIT", "bound_allure_output", "clip", "clip_allure_item", "clip_bytes",
    "clip_message", "copy_clipped", "cut_note", "release_allure_clipper",
]

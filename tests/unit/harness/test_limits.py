"""harness/limits.py and message_of: what a DUT sends cannot decide how much a run writes."""

from __future__ import annotations

import re

import pytest

from harness.limits import (
    ALLURE_DETAILS_LIMIT,
    ALLURE_STRING_LIMIT,
    MESSAGE_FIELD_LIMIT,
    clip,
    clip_allure_item,
    clip_bytes,
    copy_clipped,
)
from harness.run_record import message_of
from harness.verdict import NonConformance

CUT = re.compile(r"\[\.\.\. ([0-9,]+) (characters|bytes) cut by the suite's output limit \.\.\.\]")


def _cut(text: str) -> int:
    match = CUT.search(text)
    assert match is not None, text[:200]
    return int(match.group(1).replace(",", ""))


def test_short_text_is_untouched():
    assert clip("abc", 100) == "abc"
    assert clip_bytes(b"abc", 100) == b"abc"


@pytest.mark.parametrize("limit", [200, 4096, MESSAGE_FIELD_LIMIT])
def test_clip_keeps_head_and_tail_and_says_how_much_went(limit):
    text = "HEAD" + "x" * 1_000_000 + "TAIL"
    clipped = clip(text, limit)
    assert len(clipped) <= limit
    assert clipped.startswith("HEAD") and clipped.endswith("TAIL")
    kept = len(clipped) - len(CUT.search(clipped).group(0)) - 2
    assert _cut(clipped) == len(text) - kept  # the note counts exactly what is missing


def test_clip_bytes_keeps_the_head_within_the_limit():
    data = b"\x01" * 10_000_000
    clipped = clip_bytes(data, 4096)
    assert len(clipped) <= 4096 and clipped.startswith(b"\x01" * 100)
    assert _cut(clipped.decode("latin-1")) == len(data) - clipped.index(b"\n")


def test_copy_clipped(tmp_path):
    big, small = tmp_path / "big.txt", tmp_path / "small.txt"
    big.write_bytes(b"a" * 100_000)
    small.write_bytes(b"b" * 10)
    copy_clipped(big, tmp_path / "big-copy", 1000)
    copy_clipped(small, tmp_path / "small-copy", 1000)
    assert (tmp_path / "small-copy").read_bytes() == b"b" * 10
    copied = (tmp_path / "big-copy").read_bytes()
    assert len(copied) <= 1000 and _cut(copied.decode()) == 100_000 - copied.index(b"\n")


def test_a_long_message_keeps_its_exception_name_and_first_lines():
    """message_of kept only the last 4000 characters: a 20 MB message lost its name and its start."""
    answer = "first line of what the gateway said\nsecond line\n" + "9" * 20_000_000
    exception = ValueError(answer)
    traceback = "steps/test_openseg.py:42: in parse\n    ...\n" + f"E   ValueError: {answer}\n" + \
                "steps/test_openseg.py:42: ValueError"
    message = message_of(exception, traceback)
    text = message["text"]
    assert len(text) <= MESSAGE_FIELD_LIMIT
    assert text.startswith("ValueError: first line of what the gateway said\nsecond line\n")
    assert text.endswith("steps/test_openseg.py:42: ValueError")  # where it happened
    assert _cut(text) > 19_000_000


def test_a_short_message_keeps_its_whole_traceback():
    assert message_of(KeyError("k"), "long traceback") == {"text": "long traceback"}


def test_structured_fields_are_clipped_each():
    failure = NonConformance("HTTP 200 with the readings", "first row " + "9" * 20_000_000, "LBNL-182358")
    message = message_of(failure, "")
    assert message["expectation"] == "HTTP 200 with the readings" and message["rule"] == "LBNL-182358"
    assert len(message["observation"]) <= MESSAGE_FIELD_LIMIT
    assert message["observation"].startswith("first row 999") and _cut(message["observation"]) > 19_000_000


def test_an_allure_result_is_clipped_in_place():
    from allure_commons.model2 import Parameter, StatusDetails, TestResult, TestStepResult

    huge = "9" * 5_000_000
    step = TestStepResult(name="Then the export is valid", parameters=[Parameter(name="testbed", value=huge)],
                          statusDetails=StatusDetails(message=huge, trace=huge))
    result = TestResult(name="TC-OSEG-5.1", steps=[step], statusDetails=StatusDetails(message=huge, trace=huge))
    assert clip_allure_item(result) is result
    assert result.name == "TC-OSEG-5.1"
    assert len(step.parameters[0].value) <= ALLURE_STRING_LIMIT
    for details in (step.statusDetails, result.statusDetails):
        assert ALLURE_STRING_LIMIT < len(details.message) <= ALLURE_DETAILS_LIMIT
        assert _cut(details.trace) > 4_900_000

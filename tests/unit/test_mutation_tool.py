"""The mutation instrument (python -m tests.mutation): its targets exist and its draw is reproducible."""

from __future__ import annotations

from pathlib import Path

from tests.mutation.sample import Mutant, draw_sample, enumerate_mutants
from tests.mutation.targets import ALL_MODELS, TARGETS

ROOT = Path(__file__).resolve().parents[2]


def test_every_target_is_a_reference_device_module_judged_on_known_devices():
    for module, models in TARGETS.items():
        assert (ROOT / module).is_file(), f"{module}: the mutation target list names a module that is gone"
        assert models and set(models) <= set(ALL_MODELS), f"{module}: judged on unknown devices {models}"
        assert not module.startswith(("harness/golden", "harness/verify", "steps")), \
            f"{module}: the judging side is not a mutation target (its mutants would change the expectation)"


def test_the_draw_is_seeded_and_without_repeats():
    mutants = enumerate_mutants(ROOT, ["harness/devices/lcd.py"])
    assert len(mutants) > 10, "cosmic-ray found almost no mutants in the LCD"
    first, again, other = (draw_sample(mutants, 10, 1), draw_sample(mutants, 10, 1), draw_sample(mutants, 10, 2))
    assert first == again, "the same seed drew another sample"
    assert first != other, "another seed drew the same sample"
    assert len(set(first)) == 10 and set(first) <= set(mutants)
    assert draw_sample(mutants, 10_000, 1) == sorted(mutants), "a sample larger than the population is all of it"


def test_a_mutant_names_its_place():
    mutant = Mutant(module="harness/devices/ihd.py", line=12, operator="core/NumberReplacer", occurrence=3)
    assert mutant.key == "harness/devices/ihd.py:12 core/NumberReplacer#3"


def test_mutants_inside_type_annotations_are_left_out():
    """Every reference-device module postpones its annotations (PEP 563): a mutant there is equivalent."""
    from tests.mutation.sample import _in_annotation, annotation_spans
    from tests.mutation.targets import TARGETS

    source = "from __future__ import annotations\ndef f(a: int | None = 1 | 2) -> str | bytes:\n    x: int | str = 3 | 4\n"
    spans = annotation_spans(source)
    assert _in_annotation((2, 11), spans) and _in_annotation((2, 36), spans) and _in_annotation((3, 9), spans)
    assert not _in_annotation((2, 25), spans) and not _in_annotation((3, 17), spans)  # the defaults and the value
    root = Path(__file__).resolve().parents[2]
    assert all("from __future__ import annotations" in (root / module).read_text() for module in TARGETS)


def test_code_only_a_seeded_fault_runs_is_left_out():
    """The suite judges the conformant device: the body of ``if faults.has(FAULT):`` and the rest of a condition
    after ``faults.has(FAULT) and`` never run there, so their mutants are equivalent for it."""
    from tests.mutation.sample import _in_annotation, fault_only_spans

    source = ("def f(self, x):\n"
              "    if self.faults.has(A) and x == 3:\n"
              "        return x + 1\n"
              "    if x > 2:\n"
              "        return x - 1\n"
              "    return x * 2\n")
    spans = fault_only_spans(source)
    assert _in_annotation((2, 32), spans) and _in_annotation((3, 17), spans)  # x == 3, then x + 1
    assert not _in_annotation((4, 9), spans) and not _in_annotation((5, 17), spans)  # a conformant branch
    assert not _in_annotation((6, 13), spans)


def test_a_fault_setting_that_is_off_when_conformant_guards_fault_only_code():
    """``if self.faults.wrong_mac:`` (a KE fault setting, off unless seeded) guards fault-only code too; a field
    that is no fault setting, and ``if not faults.x:`` (the conformant branch), do not."""
    from tests.mutation.sample import _in_annotation, fault_only_spans

    source = ("def f(self, faults, x):\n"
              "    if self.faults.wrong_mac and x:\n"
              "        return x + 1\n"
              "    if faults.ignore_multiplier:\n"
              "        return x - 1\n"
              "    if self.faults.not_a_setting:\n"
              "        return x * 2\n"
              "    if not faults.ignore_multiplier:\n"
              "        return x * 3\n"
              "    return x\n")
    spans = fault_only_spans(source)
    assert _in_annotation((2, 32), spans) and _in_annotation((3, 17), spans)
    assert _in_annotation((5, 17), spans)
    assert not _in_annotation((7, 17), spans) and not _in_annotation((9, 17), spans)


def test_fault_only_code_in_not_return_conditional_expressions_and_device_fault_flags_is_left_out():
    """The rest of ``faults.x and ...`` is fault-only wherever the conjunction stands (``not (...)``, ``return``,
    an assignment); so is the fault's branch of ``a if faults.x else b``, and code guarded by a device's own fault
    flag (``self._flag = self.faults.acts(FAULT, ...)``). The fault's own test, the conformant branch, a flag not
    assigned from the faults, and a conjunction whose fault is not first, are not."""
    from tests.mutation.sample import _in_annotation, fault_only_spans

    source = ("class D:\n"
              "    def __init__(self, faults):\n"
              "        self._flag = self.faults.acts(F, watch)\n"
              "        self._other = self.store.has(x)\n"
              "    def f(self, x, faults):\n"
              "        if not (self.faults.forward_only and x < 3):\n"
              "            x = 1\n"
              "        y = 86400 if self.faults.scheduled_prices_from_tomorrow else 0\n"
              "        if self._flag and x == 2:\n"
              "            return x + 5\n"
              "        if self._other:\n"
              "            return x + 6\n"
              "        if x > 1 and faults.ignore_multiplier:\n"
              "            return x + 7\n"
              "        return self.faults.reject_unknown_fields and len(x) > 9\n")
    spans = fault_only_spans(source)
    assert _in_annotation((6, 42), spans)  # x < 3, inside not (...)
    assert not _in_annotation((6, 20), spans) and not _in_annotation((7, 16), spans)  # the fault's test; x = 1
    assert _in_annotation((8, 12), spans) and not _in_annotation((8, 69), spans)  # 86400; the conformant 0
    assert _in_annotation((9, 26), spans) and _in_annotation((10, 19), spans)  # x == 2, then x + 5
    assert not _in_annotation((12, 19), spans)  # self._other is no fault flag
    assert not _in_annotation((13, 11), spans) and not _in_annotation((14, 19), spans)  # the fault is not first
    assert _in_annotation((15, 57), spans) and not _in_annotation((15, 15), spans)  # len(x) > 9; the fault's test


def test_a_mutant_is_judged_by_the_cases_that_run_its_statement():
    """The innermost statement holding the mutant's line (a multi-line call counts as one); the cases that ran
    any of its lines; code run outside every case ("": at import) asks for the whole suite; none, for nothing."""
    from tests.mutation.cases_by_line import CasesByLine, statement_span

    source = ("def f(x):\n"
              "    y = g(x,\n"
              "          x + 1)\n"
              "    if y:\n"
              "        return y\n"
              "    return 0\n")
    assert statement_span(source, 3) == (2, 3)
    assert statement_span(source, 5) == (5, 5)
    assert statement_span(source, 4) == (4, 5)  # the if, its body with it: a superset of the cases
    ran = CasesByLine({"m.py": {1: frozenset({""}), 2: frozenset({"a", "b"}), 5: frozenset({"b"})}})
    assert ran.cases_for("m.py", 3, (2, 3)) == ("a", "b")
    assert ran.cases_for("m.py", 5, (5, 5)) == ("b",)
    assert ran.cases_for("m.py", 6, (6, 6)) == ()
    assert ran.cases_for("m.py", 1, (1, 6)) is None


def test_an_earlier_draw_is_found_again_in_todays_code(tmp_path):
    """--draw-at: the mutants drawn at an earlier revision are judged again on today's code, each found by the
    change it makes: wherever its line has moved, in a line rewritten around its expression (a fault's branch
    added), and not in a line that was there before; a mutant whose expression is gone is reported, not judged."""
    from tests.mutation.sample import carry_sample, change_of

    then, today = tmp_path / "then", tmp_path / "today"
    module = "harness/devices/example.py"
    old = ("from __future__ import annotations\n\n\ndef level(x):\n    return x + 1\n\n\n"
           "def gain(x):\n    return x * 3\n\n\ndef tier(now):\n    return now // 60\n\n\n"
           "def demand(now):\n    return watts(now // 60)\n")
    # Today: a constant above `level`, a new neighbour beside `x + 1`, `gain` without its product, and `demand`
    # rewritten around its expression (the line `tier` keeps is not where `demand`'s mutants went).
    new = ("from __future__ import annotations\n\nLIMIT = 7\n\n\ndef level(x):\n    y = 0\n    return x + 1\n\n\n"
           "def gain(x):\n    return x - 3\n\n\ndef tier(now):\n    return now // 60\n\n\n"
           "def demand(now):\n    minute = now % 60 if faults.has(F) else now // 60\n    return watts(minute)\n")
    for tree, text in ((then, old), (today, new)):
        (tree / module).parent.mkdir(parents=True)
        (tree / module).write_text(text)
    drawn = [m for m in enumerate_mutants(then, [module]) if m.operator.startswith("core/ReplaceBinaryOperator_")]
    plus, times, floor = ([m for m in drawn if m.line == line] for line in (5, 9, 17))
    assert plus and times and floor, drawn
    carried, gone, origin = carry_sample(then, today, plus + times + floor, enumerate_mutants(today, [module]))
    assert {origin[m] for m in carried} == set(plus + floor), "every mutant of a statement still there is found"
    assert {m.line for m in carried if origin[m] in plus} == {8}, "found on the line the statement moved to"
    assert {m.line for m in carried if origin[m] in floor} == {20}, "found in the rewritten line, not in tier's"
    assert all(change_of(today, m).in_place()[1:3] == change_of(then, origin[m]).in_place()[1:3] for m in carried)
    assert {m for m, _ in gone} == set(times), "a mutant whose expression is gone is reported as changed since"
    assert (today / module).read_text() == new, "matching left today's code as it was"

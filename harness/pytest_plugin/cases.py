"""Certification cases as pytest items: Gherkin tags become markers, case ids become keywords (``-k TC-JOIN-1.5``)
and ``--case`` selects by id; applicability is decided from the claims at collection; the run's scope
(selection, overrides, every applicable case of the catalogue) is worked out for the journal.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.pytest_plugin.keys import ROOT, RUN_OPTIONS, SUITE_DIRS
from harness.pytest_plugin.options import claimed_pics, option_values, profiles, relative_path

_TAG_MARKERS = {"id": "case_id", "pics": "pics", "area": "area"}


@pytest.hookimpl(tryfirst=True)
def pytest_bdd_apply_tag(tag: str, function):
    prefix, sep, value = tag.partition(":")
    if sep and prefix in _TAG_MARKERS:
        return getattr(pytest.mark, _TAG_MARKERS[prefix])(value)(function)
    return None


def case_key(item: pytest.Item) -> str | None:
    """The case id, with the Scenario Outline example for parametrized cases: TC-ATTR-1.2[Basic]."""
    marker = item.get_closest_marker("case_id")
    if marker is None:
        return None
    callspec = getattr(item, "callspec", None)
    return f"{marker.args[0]}[{callspec.id}]" if callspec is not None else marker.args[0]


def case_id_of(item: pytest.Item) -> str:
    marker = item.get_closest_marker("case_id")
    return marker.args[0] if marker is not None else ""


@pytest.hookimpl(tryfirst=True)  # before pytest's own -k/-m deselection, which reads the keywords added here
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any(item.get_closest_marker("case_id") for item in items):
        return
    from harness.cases import catalogue, matches
    from harness.pics import evaluate

    patterns = option_values(config, "case")
    if patterns:
        keys = {id(i): case_key(i) for i in items}
        chosen = [i for i in items if (key := keys[id(i)]) is None or matches(patterns, case_id_of(i), key)]
        dropped = [i for i in items if i not in chosen]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = chosen
    pics = claimed_pics(config)
    specs = {spec.key: spec for spec in catalogue()}
    for item in items:
        key = case_key(item)
        if key is None:
            continue
        # Applicability comes from the case catalogue, the same one the run's scope is judged against: the
        # scenario's @pics: tags and, for a Scenario Outline example whose steps say "Given the DUT claims the
        # <cluster> <side>", that PICS item (so a failed commissioning never produces a verdict for a cluster
        # the DUT does not claim).
        spec = specs.get(key)
        for expression in spec.pics if spec is not None else ():
            if expression not in {m.args[0] for m in item.iter_markers("pics")}:
                item.add_marker(pytest.mark.pics(expression))
        # `-k TC-JOIN-1.5` selects by case id (a keyword match, like the function name's).
        item.extra_keyword_matches.update({key, case_id_of(item)})
        item.user_properties.append(("case_id", key))
        # Allure labels, so a lab can filter Allure results by case id and PICS.
        item.add_marker(pytest.mark.allure_label(key, label_type="case_id"))
        for marker in item.iter_markers("pics"):
            item.add_marker(pytest.mark.allure_label(marker.args[0], label_type="pics"))
        for marker in item.iter_markers("pics"):
            expression = marker.args[0]
            if not evaluate(expression, pics):
                item.add_marker(pytest.mark.skip(reason=f"not applicable: the DUT does not claim PICS {expression}"))


def scenario_template(item: pytest.Item):
    from pytest_bdd.scenario import scenario_wrapper_template_registry

    function = getattr(item, "obj", None)
    if function is None:
        return None
    try:
        return scenario_wrapper_template_registry.get(function)
    except TypeError:  # not weak-referenceable: not a scenario
        return None


def scenario_title(item: pytest.Item) -> str | None:
    """The Gherkin scenario's name, with a Scenario Outline's example filled in."""
    template = scenario_template(item)
    if template is None:
        return None
    callspec = getattr(item, "callspec", None)
    example = callspec.params.get("_pytest_bdd_example", {}) if callspec is not None else {}
    return template.render(example).name if example else template.name


def selection_of(config: pytest.Config) -> list[str]:
    """How this run narrowed the suite, in the words a reader would use to repeat it."""
    selection = []
    paths = [arg for arg in config.args if Path(arg.split("::")[0]).resolve() not in (*SUITE_DIRS, ROOT)]
    if paths:
        selection.append(f"test paths {' '.join(sorted(relative_path(p) for p in paths))}")
    if config.option.keyword:
        selection.append(f"-k {config.option.keyword!r}")
    if config.option.markexpr:
        selection.append(f"-m {config.option.markexpr!r}")
    for node in sorted(getattr(config.option, "deselect", None) or []):
        selection.append(f"--deselect {relative_path(node)}")
    for pattern in sorted(option_values(config, "case")):
        selection.append(f"--case {pattern}")
    if getattr(config.option, "lf", False):
        selection.append("--last-failed")
    if getattr(config.option, "maxfail", 0):
        selection.append(f"--maxfail {config.option.maxfail} (-x)")
    return selection


def run_scope(config: pytest.Config):
    """The run's scope for the journal: selection, overrides, and every case the DUT's claims make applicable
    (from the feature files, whatever pytest collected)."""
    from harness.cases import catalogue
    from harness.results import RunScope

    options = config.stash[RUN_OPTIONS]
    overrides = [f"--pics {k}={v}" for k, v in sorted(options.pics.items())]
    overrides += [f"--pixit {k}={v}" for k, v in sorted(options.pixit.items())]
    dut_profile, _ = profiles(config)
    pics = claimed_pics(config)
    applicable = [case.key for case in catalogue() if case.applicable(pics) and _profile_admits(case, dut_profile)]
    return RunScope(selection=selection_of(config), overrides=overrides, applicable=applicable)


def _profile_admits(case, dut_profile) -> bool:
    # OpenSEG cases apply to a profile with an openseg section (steps/test_openseg.py), not to a PICS item.
    return case.area != "openseg" or getattr(dut_profile, "openseg", None) is not None

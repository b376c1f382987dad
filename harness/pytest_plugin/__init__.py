"""The pytest layer of the suite: the only package of harness/ that knows pytest (harness/plugin.py loads it).

One module per concern: options, cases (markers, selection, scope), fixtures, outcomes (verdicts and
retries), evidence (journal, JUnit, Allure, report) and terminal. Everything below it (bench, devices,
results, reports) takes plain values and never imports pytest.
"""

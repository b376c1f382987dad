"""Imported by each xdist worker's fork server (suite_process.PRELOAD): the work every suite run would
otherwise repeat before its first case, done once per worker.

- The feature files parsed: pytest-bdd keeps each parsed feature in a module-level table keyed by its absolute
  path, which both the case catalogue (harness.cases) and the step modules' ``scenarios()`` read; a forked run
  inherits the table and parses nothing. The fork server's freshness stamp covers the feature files, so an edit
  to one while the tests run sends the next run to a new interpreter.
- The tables of the curves' base point multiples (harness.crypto.curves, fixed-base multiplication), which
  every key establishment, signed DRLC report and test certificate uses.
"""

from harness.cases import catalogue
from harness.crypto.curves import SECT163K1, SECT283K1

catalogue()
SECT163K1.base_table()
SECT283K1.base_table()

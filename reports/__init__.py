"""Conformance reports: `python -m reports` (build, verify, merge, diff) arrives with the reports issue."""

"""Conformance reports of a run: HTML and JSON summary, integrity manifest, JUnit properties/merge/diff.

Command line: ``python -m reports {build,manifest,verify,keygen,merge,diff}`` (docs/reports.md).
"""

from reports.build import BuiltReport, build_report
from reports.junit import JUnitFileError, add_suite_properties, diff, merge
from reports.manifest import ManifestError, keygen, load_private_key, load_public_key, verify, write_manifest

__all__ = [
    "BuiltReport",
    "JUnitFileError",
    "ManifestError",
    "add_suite_properties",
    "build_report",
    "diff",
    "keygen",
    "load_private_key",
    "load_public_key",
    "merge",
    "verify",
    "write_manifest",
]

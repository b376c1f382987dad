"""``python -m reports``: build, manifest, verify, keygen, merge, diff (docs/reports.md).

Exit status:

- 0 success. verify: intact, and signed by a pinned lab key (``--public-key`` or ``$SE_REPORTS_TRUST``);
  diff: nothing regressed.
- 1 a finding. verify: an altered, removed or added file, a bad or missing signature, a journal whose chain
  is broken, a junit.xml or summary.json that does not parse or does not follow from the journal;
  build/manifest with a lab key: refused to sign a journal whose chain is broken; diff: a regression.
- 2 a usage problem or a missing/malformed input (no manifest, no journal, an unreadable key), told in one
  line on stderr.
- 3 verify: intact, but integrity only: the signer is not authenticated (no key pinned; the run is unsigned
  or signed by a key nobody vouched for).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from harness.redact import Redactor
from harness.results import JournalError, key_fingerprint
from reports import nightly
from reports.build import SigningRefused, build_report, check_signable
from reports.junit import JUnitFileError, diff, merge
from reports.manifest import ManifestError, keygen, load_private_key, load_trust_store, verify, write_manifest

LAB_KEY_ENV = "SE_REPORTS_LAB_KEY"  # path of the lab's Ed25519 private key, when the lab signs its reports
TRUST_ENV = "SE_REPORTS_TRUST"  # the lab public keys verify pins: one PEM file, or a folder of *.pem / *.pub
EXIT_OK, EXIT_FINDING, EXIT_USAGE, EXIT_INTEGRITY_ONLY = 0, 1, 2, 3


class _CommandError(ValueError):
    """A problem with a command's input that is not a journal, manifest or JUnit file (a profile)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's usage dump becomes one line, exit 2 as before
        self.exit(2, f"{self.prog}: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m reports", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    build = commands.add_parser("build", help="write report.html, summary.json and MANIFEST.json for a run")
    build.add_argument("dir", type=Path)
    build.add_argument("--key", type=Path, default=os.environ.get(LAB_KEY_ENV) or None,
                       help=f"Ed25519 private key (PEM) to sign the manifest (default: ${LAB_KEY_ENV})")
    build.add_argument("--no-manifest", action="store_true", help="do not write MANIFEST.json")
    build.add_argument("--dut-profile", type=Path, help="redact the secrets of this DUT profile too")
    build.add_argument("--bench-profile", type=Path, help="redact the secrets of this bench profile too")

    manifest = commands.add_parser("manifest", help="write (and sign) MANIFEST.json for a directory")
    manifest.add_argument("dir", type=Path)
    manifest.add_argument("--key", type=Path, default=os.environ.get(LAB_KEY_ENV) or None)

    check = commands.add_parser("verify", help="check a directory against its MANIFEST.json and signature")
    check.add_argument("dir", type=Path)
    check.add_argument("--public-key", type=Path, default=os.environ.get(TRUST_ENV) or None,
                       help="the lab's Ed25519 public key (PEM), or a folder of them, to pin "
                            f"(default: ${TRUST_ENV}); without one verify proves integrity only (exit 3)")

    keys = commands.add_parser("keygen", help="make an Ed25519 lab key pair (PEM files)")
    keys.add_argument("private", type=Path)
    keys.add_argument("public", type=Path)

    join = commands.add_parser("merge", help="merge JUnit files (benches, DUTs) into one")
    join.add_argument("out", type=Path)
    join.add_argument("inputs", type=Path, nargs="+")

    compare = commands.add_parser("diff", help="new failures, fixes, flaky and slower cases between JUnit files")
    compare.add_argument("old", type=Path)
    compare.add_argument("new", type=Path)
    compare.add_argument("--max-slowdown", type=float, default=50.0, metavar="PERCENT",
                         help="a passing case is slower beyond this growth (default 50)")
    compare.add_argument("--min-slowdown", type=float, default=1.0, metavar="SECONDS",
                         help="... and beyond this many seconds (default 1.0)")
    nightly.add_parser(commands, _Parser)  # `nightly run|report`: its exit codes are in reports/nightly.py
    return parser


def _build(args: argparse.Namespace) -> int:
    redactor = Redactor()
    if args.dut_profile or args.bench_profile:
        # Imported here: the profile schemas pull in the SE data model, which only this option needs.
        from harness.profiles import ProfileError, load_bench_profile, load_dut_profile

        try:
            redactor = Redactor.from_profiles(
                dut=load_dut_profile(args.dut_profile) if args.dut_profile else None,
                bench=load_bench_profile(args.bench_profile) if args.bench_profile else None,
            )
        except ProfileError as exc:
            raise _CommandError(str(exc)) from None
    key = load_private_key(args.key) if args.key else None
    built = build_report(args.dir, redactor=redactor, lab_key=key, manifest=not args.no_manifest)
    state = "" if built.complete else " (INCOMPLETE run)"
    print(f"{built.verdict.value}{state}: {built.html}")
    return EXIT_OK


def _manifest(args: argparse.Namespace) -> int:
    key = load_private_key(args.key) if args.key else None
    if key is not None:
        check_signable(args.dir)
    print(write_manifest(args.dir, key))
    return EXIT_OK


def _verify(args: argparse.Namespace) -> int:
    trusted = load_trust_store(args.public_key) if args.public_key else None
    result = verify(args.dir, trusted)
    for line in result.problems():
        print(line)
    chain = result.journal
    if chain is not None and chain.status != "broken":
        source = (f"signed at the source by {chain.signer}" if chain.lab_key
                  else "not signed at the source")
        print(f"journal: chain {chain.status}, {chain.records} record(s), head {chain.head}, {source}")
    if not result.ok:
        print(f"{args.dir}: NOT intact ({len(result.problems())} problem(s))", file=sys.stderr)
        return EXIT_FINDING
    if result.pinned:
        print(f"{args.dir}: intact, signed by {result.signed_by}")
        return EXIT_OK
    named = f"the manifest names {result.signed_by}" if result.signed_by else "unsigned"
    print(f"{args.dir}: intact; integrity only: signer not authenticated ({named}; pin the lab's public key "
          f"with --public-key or ${TRUST_ENV})")
    return EXIT_INTEGRITY_ONLY


def _diff(args: argparse.Namespace) -> int:
    if args.max_slowdown < 0 or args.min_slowdown < 0:
        raise JUnitFileError("--max-slowdown and --min-slowdown must not be negative")
    result = diff(args.old, args.new, max_slowdown=args.max_slowdown / 100, min_slowdown_s=args.min_slowdown)
    for line in result.lines():
        print(line)
    print("regressed" if result.regressed else "no regression")
    return 1 if result.regressed else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "build":
            return _build(args)
        if args.command == "manifest":
            return _manifest(args)
        if args.command == "verify":
            return _verify(args)
        if args.command == "keygen":
            public = keygen(args.private, args.public)
            print(f"public key {public} (fingerprint {key_fingerprint(public)})")
            return 0
        if args.command == "merge":
            merged = merge(args.out, args.inputs)
            print(f"{args.out}: {merged.tests} case(s) from {len(args.inputs)} file(s)")
            return 0
        if args.command == "nightly":
            return nightly.main(args)
        return _diff(args)
    except SigningRefused as exc:
        print(f"reports {args.command}: {exc}", file=sys.stderr)
        return EXIT_FINDING
    except (JournalError, ManifestError, JUnitFileError, _CommandError) as exc:
        print(f"reports {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())

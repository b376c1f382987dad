"""Mutation testing of the reference devices: how much of their behaviour the conformance suite judges.

    python -m tests.mutation [--sample 200] [--seed 1] [--workers 2] [--out mutation-results]
    tox -e mutation

cosmic-ray (a maintained mutation tool) enumerates every mutant of the reference devices' own code and
applies each one; this script draws a seeded sample of them, runs the conformance cases that execute the
mutated statement (measured by coverage in a conformant run, cases_by_line.py; --whole-suite runs every case)
against the reference devices that execute it (each in a private copy of the tree, one per worker), and
writes the kill rate and every survivor with its diff. Not in CI. docs/mutation.md has the last figure and the
survivor triage.

What counts:
- killed: the suite's verdict was not CONFORMANT (NOT CONFORMANT, or INCONCLUSIVE because the mutated
  device broke the exchange), or the run passed its deadline;
- survived: every case that runs the mutated statement still passed, on every targeted reference device.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from .sample import (
    MutationRun,
    carry_sample,
    checkout_modules,
    draw_sample,
    enumerate_mutants,
    run_sample,
)
from .targets import TARGETS, models_for


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=200, help="how many mutants to draw (default 200)")
    parser.add_argument("--seed", type=int, default=1, help="the draw's seed (default 1)")
    parser.add_argument("--workers", type=int, default=2, help="suite runs side by side (default 2)")
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds one suite run may take")
    parser.add_argument("--out", type=Path, default=Path("mutation-results"), help="where the results go")
    parser.add_argument("--whole-suite", action="store_true",
                        help="judge every mutant with the whole suite, not only the cases that run its statement")
    parser.add_argument("--draw-at", metavar="REVISION",
                        help="draw the sample from the code at this git revision, then judge the same mutants on "
                             "today's code (each found by the change it makes): an earlier run's sample judged again")
    parser.add_argument("--module", action="append", default=[],
                        help="mutate only this module (path under the repository; repeatable)")
    args = parser.parse_args(argv)
    if args.sample < 1 or args.workers < 1:
        parser.error("--sample and --workers must be at least 1")
    root = Path(__file__).resolve().parents[2]
    modules = args.module or list(TARGETS)
    unknown = [m for m in modules if m not in TARGETS]
    if unknown:
        parser.error(f"--module {unknown[0]}: not a reference-device module; use one of {', '.join(TARGETS)}")
    mutants = enumerate_mutants(root, modules)
    sample = draw_sample(mutants, args.sample, args.seed)
    population, drawn_as, gone = len(mutants), {}, []
    if args.draw_at:
        with tempfile.TemporaryDirectory() as old, tempfile.TemporaryDirectory() as new:
            old_tree = checkout_modules(root, args.draw_at, modules, Path(old))
            new_tree = Path(new)  # today's working copy of the modules, which cosmic-ray rewrites while matching
            for module in modules:
                (new_tree / module).parent.mkdir(parents=True, exist_ok=True)
                (new_tree / module).write_text((root / module).read_text())
            then = enumerate_mutants(old_tree, modules)
            drawn, population = draw_sample(then, args.sample, args.seed), len(then)
            sample, gone, origin = carry_sample(old_tree, new_tree, drawn, mutants)
            drawn_as = {today.key: was.key for today, was in origin.items()}
        print(f"drew {len(drawn)} of {population} at {args.draw_at} with seed {args.seed}; {len(sample)} found in "
              f"today's code, {len(gone)} changed since", flush=True)
        for mutant, why in gone:
            print(f"  changed since {args.draw_at}: {mutant.key} ({why})", flush=True)
    else:
        print(f"{len(mutants)} mutants in {len(modules)} modules; drawing {len(sample)} with seed {args.seed}",
              flush=True)
    run = MutationRun(root=root, out=args.out, workers=args.workers, timeout=args.timeout, seed=args.seed,
                      population=population, models_for=models_for, select=not args.whole_suite,
                      drawn_at=args.draw_at, drawn_as=drawn_as, gone=gone)
    summary = run_sample(run, sample)
    print(summary.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())

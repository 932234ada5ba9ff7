"""The ``windows`` command of ``vitalproc``: recordings -> labelled windows by a recipe.

Exit codes: 0 ok, 1 some case failed (the rest are written),
2 a usage error (a bad recipe, naming its key or line; a signal no case has; windows no
recording fits; an annotation file that does not parse; no such source).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ._common import (
    EXIT_DATA,
    EXIT_OK,
    add_pool_flags,
    add_progress_flag,
    fail,
    pool_flags_error,
    pool_options,
)

#: This group's commands.
COMMANDS = ("windows",)


def add_commands(subparsers: Any, command: str | None = None) -> None:
    """Add ``windows`` to the ``vitalproc`` command's subparsers."""
    p = subparsers.add_parser(
        "windows",
        help="cut recordings into labelled, checked windows by a recipe",
        description="Cut recordings into fixed-length windows with labels and validity "
        "flags, as a recipe (a TOML file, or a shipped recipe's name) says, "
        "split by subject. Writes one .npy array per signal and an index "
        "table (index.parquet) into OUT. Re-running into OUT resumes.",
    )
    p.add_argument(
        "recipe",
        nargs="?",
        metavar="RECIPE",
        help="a recipe file (.toml) or a shipped recipe (--list-recipes)",
    )
    p.add_argument(
        "sources",
        nargs="*",
        metavar="SOURCE",
        help="a .vital file, a folder (every *.vital below it), or a dataset "
        "`vitalproc convert` wrote",
    )
    p.add_argument("-o", "--output", metavar="OUT", help="the output folder")
    p.add_argument(
        "--list-recipes",
        action="store_true",
        help="list the shipped recipes and what each reproduces",
    )
    p.add_argument(
        "--cases",
        metavar="FILE",
        help="only these cases: a CSV with a caseid column, or one id a line",
    )
    p.add_argument(
        "--clinical",
        metavar="TABLE",
        help="a CSV/Parquet table with caseid and the subject column: the "
        "split keeps a subject's cases together",
    )
    add_pool_flags(p, "worker processes (default: the machine's cores; 1: in this process)")
    add_progress_flag(p)
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no summary line (failed cases are still reported)",
    )
    p.set_defaults(func=cmd_windows)


def cmd_windows(args: argparse.Namespace) -> int:
    """``vitalproc windows RECIPE SOURCE... -o OUT``."""
    from ..windows import AnnotationError, RecipeError, build
    from ..windows.shipped import describe_shipped

    if args.list_recipes:
        for name, text in describe_shipped():
            print(f"{name}\n    {' '.join(text.split())}")
        return EXIT_OK
    if not args.recipe or not args.sources:
        return fail("windows", "needs a RECIPE and at least one SOURCE (or --list-recipes)")
    if not args.output:
        return fail("windows", "needs -o OUT, the output folder")
    problem = pool_flags_error(args)
    if problem:
        return fail("windows", problem)
    try:
        report = build(
            args.recipe,
            args.sources,
            args.output,
            **pool_options(args),
            cases=args.cases,
            clinical=args.clinical,
        )
    except (RecipeError, AnnotationError, FileNotFoundError, ValueError) as exc:
        return fail("windows", exc)
    except ImportError as exc:
        return fail("windows", exc, EXIT_DATA)
    for r in report.failed:
        print(f"vitalproc windows: {r.caseid} ({r.source}): {r.reason}", file=sys.stderr)
    if not args.quiet:
        print(f"{report.out}: {report.summary()}", file=sys.stderr)
    return EXIT_OK if not report.failed else EXIT_DATA

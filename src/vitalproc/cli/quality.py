"""The ``qc`` and ``cohort`` commands of ``vitalproc``: signal quality and cohorts.

Exit codes: 0 ok, 1 some case failed (or a missing extra), 2 a usage error (a bad rule,
limits table, clinical table, window or option).
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

#: This group's commands, in the order ``--help`` lists them.
COMMANDS = ("qc", "cohort")


def _window(text: str) -> tuple[str, tuple[str, str]]:
    name, sep, columns = text.partition("=")
    start, comma, end = columns.partition(",")
    if not (sep and comma and name and start and end):
        raise argparse.ArgumentTypeError(
            f"expected NAME=START_COLUMN,END_COLUMN (anaesthesia=anestart,aneend), not {text!r}"
        )
    return name, (start.strip(), end.strip())


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected seconds above 0, not {text!r}")
    return value


def add_commands(subparsers: Any, command: str | None = None) -> None:
    """Add ``qc`` and ``cohort`` to the ``vitalproc`` command's subparsers (both,
    whatever ``command``: they are few)."""
    qc = subparsers.add_parser(
        "qc",
        help="quality metrics of every track, from the native records",
        description="Measure every wave and numeric track of .vital recordings or of "
        "converted datasets: cadence, coverage, runs and gaps, range, "
        "flatline, clipping, spikes, polarity, record order (docs/quality.md). "
        "A dataset gets the table as its view 'qc' (vitalproc query DATASET "
        '"SELECT * FROM qc"). Re-running measures only what changed.',
    )
    qc.add_argument(
        "sources",
        nargs="+",
        metavar="SOURCE",
        help="a .vital file, a folder (every *.vital below it), a glob, or a "
        "dataset folder (read from its Parquet files)",
    )
    qc.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="the metrics table (.parquet or .csv); needed unless every source is a dataset",
    )
    qc.add_argument(
        "--clinical",
        metavar="TABLE",
        help="a clinical table (CSV or Parquet, one row per case) for --window",
    )
    qc.add_argument(
        "--window",
        action="append",
        type=_window,
        default=[],
        metavar="NAME=START,END",
        help="coverage over a span per case from two clinical columns, as "
        "coverage_NAME (seconds from the recording's start); repeatable",
    )
    qc.add_argument(
        "--caseid-column",
        default="caseid",
        metavar="NAME",
        help="the clinical table's case id column (default caseid)",
    )
    qc.add_argument(
        "--absolute-windows", action="store_true", help="window columns hold Unix seconds"
    )
    qc.add_argument(
        "--limits",
        metavar="CSV",
        help="your own limits table (its kinds replace the packaged ones)",
    )
    qc.add_argument(
        "--gap",
        type=_seconds,
        default=5.0,
        metavar="S",
        help="a hole in the records longer than this is a counted gap (5)",
    )
    qc.add_argument(
        "--clip",
        type=_seconds,
        default=0.02,
        metavar="S",
        help="a run at the track's minimum or maximum this long is clipping (0.02)",
    )
    qc.add_argument(
        "--flat",
        type=_seconds,
        default=5.0,
        metavar="S",
        help="flatline duration for kinds whose limits give none (5)",
    )
    add_pool_flags(qc)
    add_progress_flag(qc)
    qc.add_argument("-q", "--quiet", action="store_true", help="no summary line")
    qc.set_defaults(func=cmd_qc)

    co = subparsers.add_parser(
        "cohort",
        help="apply inclusion rules: the cases kept, and the exclusion flow",
        description="Apply the rules of a TOML file in order over a clinical table, track "
        "presence and qc metrics (docs/quality.md). Writes cases.csv (column "
        "caseid), excluded.csv, flow.txt, flow.md, flow.json, flow.png and "
        "flow.svg into the output folder, and prints the flow.",
    )
    co.add_argument("rules", metavar="RULES", help="the rules file (.toml)")
    co.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="DIR",
        help="the folder for the cohort's files (created if missing)",
    )
    co.add_argument("--clinical", metavar="TABLE", help="instead of the rules' clinical")
    co.add_argument(
        "--qc", metavar="TABLE", help="instead of the rules' qc: a table or a dataset folder"
    )
    co.add_argument("--no-figure", action="store_true", help="no flow.png/flow.svg")
    co.add_argument("-q", "--quiet", action="store_true", help="do not print the flow")
    co.set_defaults(func=cmd_cohort)


def cmd_qc(args: argparse.Namespace) -> int:
    """``vitalproc qc SOURCE... -o PATH``."""
    from ..quality.errors import QualityInputError
    from ..quality.metrics import Thresholds
    from ..quality.runner import is_dataset, qc

    problem = pool_flags_error(args)
    if problem:
        return fail("qc", problem)
    if args.output is None and not all(is_dataset(s) for s in args.sources):
        return fail("qc", "-o PATH is needed unless every source is a dataset folder")
    if args.output and not args.output.lower().endswith((".parquet", ".csv")):
        return fail("qc", f"-o {args.output!r}: use a .parquet or .csv name")
    names = [name for name, _ in args.window]
    if len(set(names)) != len(names):
        return fail("qc", "a --window name is given twice")
    try:
        report = qc(
            args.sources,
            args.output,
            clinical=args.clinical,
            windows=dict(args.window),
            caseid_column=args.caseid_column,
            absolute_windows=args.absolute_windows,
            limits=args.limits,
            thresholds=Thresholds(args.gap, args.clip, args.flat),
            **pool_options(args),
        )
    except (QualityInputError, FileNotFoundError) as exc:
        return fail("qc", exc)
    except (BlockingIOError, ImportError) as exc:
        return fail("qc", exc, EXIT_DATA)
    for result in report.failed:
        print(f"vitalproc qc: {result.source}: {result.error}", file=sys.stderr)
    if not args.quiet:
        print(f"{', '.join(report.outputs)}: {report.summary()}", file=sys.stderr)
    return EXIT_OK if report.ok else EXIT_DATA


def cmd_cohort(args: argparse.Namespace) -> int:
    """``vitalproc cohort RULES -o DIR``."""
    from ..quality.cohort import cohort
    from ..quality.errors import QualityInputError

    try:
        result = cohort(
            args.rules,
            args.output,
            clinical=args.clinical,
            qc=args.qc,
            figure=False if args.no_figure else None,
        )
    except (QualityInputError, FileNotFoundError) as exc:
        return fail("cohort", exc)
    except ImportError as exc:
        return fail("cohort", exc, EXIT_DATA)
    if not args.quiet:
        sys.stdout.write(result.to_text())
    return EXIT_OK

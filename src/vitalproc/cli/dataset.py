"""The ``convert`` and ``query`` commands of ``vitalproc``: datasets of many recordings.

Exit codes: 0 ok, 1 some input failed (or the query failed), 2 a usage error (no such
input or dataset, bad options, SQL that does not parse or bind).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ._common import (
    EXIT_DATA,
    EXIT_OK,
    EXIT_USAGE,
    add_pool_flags,
    add_progress_flag,
    fail,
    pool_flags_error,
    pool_options,
)

#: This group's commands, in the order ``--help`` lists them.
COMMANDS = ("convert", "query")
QUERY_FORMATS = ("table", "csv", "parquet")


def add_commands(subparsers: Any, command: str | None = None) -> None:
    """Add ``convert`` and ``query`` to the ``vitalproc`` command's subparsers (both,
    whatever ``command``: they are few)."""
    conv = subparsers.add_parser(
        "convert",
        help="convert recordings into a Parquet dataset",
        description="Convert .vital recordings into a dataset folder: one Parquet file per "
        "recording (vitaldb's v1.7 long schema), a manifest "
        "(_manifest.parquet) and a track table (_tracks.parquet). Re-running "
        "converts only new or changed files.",
    )
    conv.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="a .vital file, a folder (every *.vital below it) or a glob",
    )
    conv.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="DATASET",
        help="the dataset folder (created if missing)",
    )
    add_pool_flags(conv)
    conv.add_argument(
        "--strict",
        action="store_true",
        help="fail a file at its first fault instead of reading around it",
    )
    conv.add_argument(
        "--compression-level",
        type=int,
        metavar="N",
        help="zstd level of every column of the outputs (default: 1, and -1 for integer samples)",
    )
    add_progress_flag(conv)
    conv.add_argument(
        "-q", "--quiet", action="store_true", help="no summary line (failures are still reported)"
    )
    conv.set_defaults(func=cmd_convert)

    query = subparsers.add_parser(
        "query",
        help="run SQL (duckdb) over a dataset",
        description="Run SQL over a dataset with the views recordings (the manifest), "
        "tracks (every track of every case) and samples (every record: "
        "caseid, dt, dname, tname, dtname, unit, ivals, fvals, nval, sval, "
        'srate, gain, bias). Example: vitalproc query DATASET "SELECT caseid, '
        "avg(nval) FROM samples WHERE tname = 'HR' GROUP BY caseid\"",
    )
    query.add_argument("dataset", metavar="DATASET")
    query.add_argument("sql", metavar="SQL")
    query.add_argument(
        "-o", "--output", metavar="PATH", help="write the result to a .csv or .parquet file"
    )
    query.add_argument(
        "-f",
        "--format",
        choices=QUERY_FORMATS,
        help="table (default on stdout), csv, or parquet (needs -o); "
        "default with -o: from its suffix",
    )
    query.add_argument(
        "--max-rows", type=int, default=40, metavar="N", help="rows a table shows (default 40)"
    )
    query.set_defaults(func=cmd_query)


def cmd_convert(args: argparse.Namespace) -> int:
    """``vitalproc convert INPUT... -o DATASET``."""
    from ..dataset.batch import convert

    problem = pool_flags_error(args)
    if problem:
        return fail("convert", problem)
    try:
        report = convert(
            args.inputs,
            args.output,
            **pool_options(args),
            strict=args.strict,
            compression_level=args.compression_level,
        )
    except FileNotFoundError as exc:
        return fail("convert", exc)
    except (BlockingIOError, ImportError) as exc:
        return fail("convert", exc, EXIT_DATA)
    for result in report.failed:
        print(f"vitalproc: {result.source}: {result.error}", file=sys.stderr)
    if not args.quiet:
        print(f"{report.dataset}: {report.summary()}", file=sys.stderr)
    return EXIT_OK if report.ok else EXIT_DATA


def cmd_query(args: argparse.Namespace) -> int:
    """``vitalproc query DATASET SQL [-o PATH]``."""
    from ..dataset.query import open_dataset

    fmt = args.format
    if fmt is None:
        suffix = os.path.splitext(args.output or "")[1].lower()
        fmt = {".csv": "csv", ".parquet": "parquet"}.get(suffix, "table")
        if args.output and fmt == "table":
            return fail(
                "query",
                f"cannot tell the format of {args.output!r}: use a .csv or "
                ".parquet name, or --format",
            )
    if (fmt == "parquet" and not args.output) or (fmt == "table" and args.output):
        return fail(
            "query",
            f"--format {fmt} " + ("needs -o" if fmt == "parquet" else "prints to stdout: drop -o"),
        )
    try:
        dataset = open_dataset(args.dataset)
        import duckdb
    except (FileNotFoundError, ImportError) as exc:
        return fail("query", exc, EXIT_USAGE if isinstance(exc, FileNotFoundError) else EXIT_DATA)
    try:
        with dataset.connect() as con:
            relation = con.sql(args.sql)
            if relation is not None:  # None: a statement without a result
                _emit(relation, fmt, args.output, args.max_rows)
    except duckdb.ProgrammingError as exc:  # does not parse, unknown table or column
        return fail("query", exc)
    except (duckdb.Error, OSError) as exc:
        return fail("query", exc, EXIT_DATA)
    return EXIT_OK


def _emit(relation: Any, fmt: str, output: str | None, max_rows: int) -> None:
    if fmt == "table":
        relation.show(max_rows=max_rows)
    elif output is None:  # CSV on stdout
        import pyarrow.csv as pcsv

        from ..dataset.query import arrow_table

        pcsv.write_csv(arrow_table(relation), sys.stdout.buffer)
    elif fmt == "csv":
        relation.write_csv(output)
    else:
        relation.write_parquet(output, compression="zstd")

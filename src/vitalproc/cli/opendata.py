"""The ``fetch`` command of ``vitalproc``: cases of the VitalDB open dataset, in parallel.

Exit codes: 0 every case fetched, 1 some case failed (each is listed with its reason on
stderr), 2 a usage error (bad case list, jobs, URL or mirror folder).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ._common import EXIT_DATA, EXIT_OK, add_progress_flag, fail

#: This group's commands, in the order ``--help`` lists them.
COMMANDS = ("fetch",)


def add_commands(subparsers: Any, command: str | None = None) -> None:
    """Add ``fetch`` to the ``vitalproc`` command's subparsers."""
    p = subparsers.add_parser(
        "fetch",
        help="download cases of the VitalDB open dataset (cached, in parallel)",
        description="Download cases of the VitalDB open dataset into the local cache (and "
        "-o DIR), several at a time, with retries; a case already cached is "
        "not downloaded again. With --tracks, only the bytes up to the wanted "
        "tracks of each packed file are fetched, and DIR/<caseid>.vital holds "
        "those tracks only.",
        epilog="Example: vitalproc fetch --cases 1-500,812 --tracks ART,HR -o cases",
    )
    p.add_argument(
        "--cases", required=True, metavar="IDS", help="case ids and ranges, e.g. 1-500,812"
    )
    p.add_argument(
        "-t",
        "--tracks",
        metavar="NAMES",
        help="comma-separated track names (as vitaldb's load_case: exact "
        "'Device/Track' or a suffix such as 'HR')",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        help="write <caseid>.vital files here (hard links to the cache when "
        "possible); default: the cache only",
    )
    p.add_argument(
        "-j", "--jobs", type=int, default=8, metavar="N", help="parallel downloads (default 8)"
    )
    p.add_argument(
        "--convert",
        metavar="DATASET",
        help="also convert the fetched cases into a Parquet dataset, with the "
        "clinical and lab tables beside them",
    )
    p.add_argument(
        "--offline", action="store_true", help="use only what is cached; fail the other cases"
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument(
        "--api-url",
        metavar="URL",
        help="the web API (default: $VITALPROC_API_URL or https://api.vitaldb.net)",
    )
    src.add_argument(
        "--mirror",
        metavar="DIR",
        help="a local copy of the public release (vital_files/NNNN.vital, "
        "clinical_data.csv, lab_data.csv, track_names.csv)",
    )
    p.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="the cache folder (default: $VITALPROC_CACHE_DIR or the platform's cache folder)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="how long a connection or read may stall (default 30)",
    )
    add_progress_flag(p)
    p.add_argument(
        "-q", "--quiet", action="store_true", help="no summary line (failures are still listed)"
    )
    p.set_defaults(func=cmd_fetch)


def cmd_fetch(args: argparse.Namespace) -> int:
    from .. import opendata
    from ..opendata import settings

    try:
        caseids = opendata.parse_cases(args.cases)
    except ValueError as exc:
        return fail("fetch", f"--cases: {exc}")
    if args.jobs < 1:
        return fail("fetch", "--jobs must be at least 1")
    if args.tracks is not None and not args.output:
        return fail("fetch", "--tracks writes files of those tracks: give -o DIR")
    if args.api_url is not None:
        if "://" not in args.api_url:
            return fail("fetch", f"--api-url: not a URL: {args.api_url!r}")
        settings.api_url = args.api_url
    if args.mirror is not None:
        if not os.path.isdir(os.path.join(args.mirror, "vital_files")):
            return fail("fetch", f"--mirror: no vital_files folder in {args.mirror!r}")
        settings.mirror = args.mirror
    if args.cache_dir is not None:
        settings.cache_dir = args.cache_dir
    if args.timeout is not None:
        settings.timeout = args.timeout
    if args.offline:
        settings.offline = True
    try:
        report = opendata.fetch(
            caseids,
            args.tracks,
            args.output,
            jobs=args.jobs,
            convert=args.convert,
            progress=args.progress,
        )
    except (OSError, ValueError) as exc:
        return fail("fetch", exc, EXIT_DATA)
    lines = report.summary().splitlines()
    if not args.quiet:
        print(lines[0], file=sys.stderr)
    for line in lines[1:]:
        print(line, file=sys.stderr)
    return EXIT_DATA if report.failed else EXIT_OK

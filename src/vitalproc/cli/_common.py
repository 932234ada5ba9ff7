"""What every command group of ``vitalproc`` shares: the exit codes, the messages on
stderr, and the flags several commands take (see ``vitalproc.cli``)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ._args import count, go_time_arg, time_arg, track_types

#: The exit codes of every command: 0 ok, 1 a data or format error (in any input, or a
#: failed query or conversion), 2 a usage error (bad flags, no such input or dataset).
EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2
#: Stopped by Ctrl-C (the shells' 128 + SIGINT).
EXIT_INTERRUPTED = 130
PROG = "vitalproc"


class UsageError(Exception):
    """A bad command line (exit 2)."""


class DataError(Exception):
    """A bad input file or an impossible request for it (exit 1)."""


class Reporter:
    """Messages on stderr: one line each, prefixed with the program and the file."""

    def __init__(self, args: argparse.Namespace):
        self.quiet = getattr(args, "quiet", False)
        self.verbose = getattr(args, "verbose", False)

    def error(self, where: str | None, message: str) -> None:
        print(f"{PROG}: error: {where + ': ' if where else ''}{message}", file=sys.stderr)

    def warn(self, where: str | None, message: str) -> None:
        if not self.quiet:
            print(f"{PROG}: warning: {where + ': ' if where else ''}{message}", file=sys.stderr)

    def note(self, message: str) -> None:
        if self.verbose:
            print(f"{PROG}: {message}", file=sys.stderr)

    def say(self, message: str) -> None:
        """What the user asked to be told (``--memprofile``'s peaks); not with --quiet."""
        if not self.quiet:
            print(f"{PROG}: {message}", file=sys.stderr)


def quiet_pipe() -> None:
    """stdout's reader went away (``| head``): stop writing, and say nothing at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout without a file descriptor (captured)
        pass


def fail(command: str, message: object, code: int = EXIT_USAGE) -> int:
    """Say ``vitalproc COMMAND: MESSAGE`` on stderr and give back ``code`` (the batch
    commands' form of an error: no ``error:`` word, one line)."""
    print(f"{PROG} {command}: {message}", file=sys.stderr)
    return code


def describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}"
    return str(exc) or type(exc).__name__


# -- flags several commands take --------------------------------------------------


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", "-quiet", action="store_true", help="no warnings, only errors")
    p.add_argument(
        "-v",
        "--verbose",
        "-verbose",
        action="store_true",
        help="say what is read and written; a traceback with an error",
    )
    p.add_argument(
        "--compat",
        choices=("vitaldb",),
        help="read exactly what vitaldb 1.7.2 reads (default: recover more)",
    )
    g = p.add_argument_group("profiling")
    g.add_argument(
        "--cpuprofile",
        "-cpuprofile",
        metavar="FILE",
        help="write a cProfile profile of the run to FILE (pstats.Stats(FILE))",
    )
    g.add_argument(
        "--memprofile",
        "-memprofile",
        metavar="FILE",
        help="trace Python's allocations: write a tracemalloc snapshot taken "
        "at the end of the run to FILE (tracemalloc.Snapshot.load(FILE)) "
        "and print the peaks on stderr",
    )


def add_pool_flags(
    p: argparse.ArgumentParser, jobs_help: str = "worker processes (default: the machine's cores)"
) -> None:
    """``-j/--jobs``, ``--engine`` and ``--scheduler``: the commands that run cases on
    the process pool or a dask cluster (``convert``, ``qc``, ``windows``)."""
    p.add_argument("-j", "--jobs", type=int, metavar="N", help=jobs_help)
    p.add_argument(
        "--engine",
        choices=("local", "dask"),
        default="local",
        help="a local process pool (default) or a dask.distributed cluster",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="the dask scheduler (with --engine dask; default: a local cluster of --jobs workers)",
    )


def pool_flags_error(args: argparse.Namespace) -> str | None:
    """What is wrong with ``add_pool_flags``' flags, or None."""
    if args.jobs is not None and args.jobs < 1:
        return f"--jobs must be at least 1, not {args.jobs}"
    if args.scheduler and args.engine != "dask":
        return "--scheduler needs --engine dask"
    return None


def pool_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keywords of ``add_pool_flags``' and ``add_progress_flag``'s flags, as
    ``convert``, ``qc`` and ``windows.build`` take them."""
    return {
        "jobs": args.jobs,
        "engine": args.engine,
        "scheduler": args.scheduler,
        "progress": args.progress,
    }


def add_progress_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a progress bar on stderr (default: when it is a terminal)",
    )


def add_track_flags(p: argparse.ArgumentParser) -> list[argparse.Action]:
    """Add the track selection flags; returns them."""
    add = p.add_argument_group("track selection").add_argument
    return [
        add(
            "-t",
            "--tracks",
            "-tracks",
            "--track-pattern",
            "-track-pattern",
            action="append",
            metavar="NAMES",
            help="comma-separated names or patterns: exact 'Device/Track', a suffix ('HR' "
            "also matches 'PLETH_HR'), 'Device/*', or a shell glob on the full or "
            "the track name ('*_HR', 'Bx50/ECG?'); repeatable",
        ),
        add(
            "--track",
            action="append",
            metavar="NAME",
            help="one name or pattern, not split on commas; repeatable",
        ),
        add(
            "-x",
            "--exclude",
            action="append",
            metavar="NAMES",
            help="names or patterns to leave out (as --tracks)",
        ),
        add(
            "--track-type",
            "-track-type",
            type=track_types,
            metavar="TYPES",
            help="wave, numeric, string (comma-separated)",
        ),
        add(
            "--max-tracks",
            "-max-tracks",
            type=count,
            metavar="N",
            help="the first N selected tracks, in file order",
        ),
    ]


def add_record_flags(p: argparse.ArgumentParser) -> list[argparse.Action]:
    """Add the record selection flags; returns them."""
    add = p.add_argument_group("record selection").add_argument
    return [
        add(
            "--start",
            type=time_arg,
            metavar="TIME",
            help="first record time: seconds from the file start (90, 5m, 2h; negative: "
            "from its end), a Unix time (@1700000000, or any number from 1e9), or "
            "ISO 8601 (file's timezone unless one is given)",
        ),
        add(
            "--end",
            type=time_arg,
            metavar="TIME",
            help="records before this time (exclusive); same forms as --start",
        ),
        add(
            "-start-time",
            "--start-time",
            dest="start_time",
            type=go_time_arg,
            metavar="UNIX",
            help="the Go processor's form of --start: Unix seconds, 0 = no bound",
        ),
        add(
            "-end-time",
            "--end-time",
            dest="end_time",
            type=go_time_arg,
            metavar="UNIX",
            help="the Go processor's form of --end: Unix seconds, 0 = no bound",
        ),
        add(
            "--max-samples",
            "-max-samples",
            "--max-records",
            dest="max_records",
            type=count,
            metavar="N",
            help="the first N selected records of each track (default: all)",
        ),
        add(
            "--physical",
            action="store_true",
            help="apply gain and offset to integer samples and values (float64)",
        ),
    ]

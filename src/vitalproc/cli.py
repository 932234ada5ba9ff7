"""The ``vitalproc`` command: parses arguments, calls the library, maps errors to exit codes.

Subcommands: ``info``, ``tracks``, ``devices``, ``export``, ``grid`` (and those of
``vitalproc.dataset_cli`` when it is installed). Each subparser sets ``func``, a
``handler(args) -> int``. Exit codes: 0 ok, 1 a data or format error (in any input
file), 2 a usage error. The seed's single-dash flags (``-tracks``, ``-format``...) are
accepted as aliases, and a command line without a subcommand is an ``export``.
What each command does is in ``_commands.py``.
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from ._cliargs import count, interval, seed_time_arg, time_arg, track_types
from ._commands import (
    EXIT_DATA,
    EXIT_OK,
    EXIT_USAGE,
    PROG,
    Reporter,
    UsageError,
    cmd_export,
    cmd_grid,
    cmd_info,
    cmd_list,
    describe,
    quiet_pipe,
)
from ._version import __version__

# -- the parser ------------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", "-quiet", action="store_true",
                   help="no warnings, only errors")
    p.add_argument("-v", "--verbose", "-verbose", action="store_true",
                   help="say what is read and written; a traceback with an error")
    p.add_argument("--compat", choices=("vitaldb",),
                   help="read exactly what vitaldb 1.7.2 reads (default: recover more)")
    g = p.add_argument_group("profiling")
    g.add_argument("--cpuprofile", "-cpuprofile", metavar="FILE",
                   help="write a cProfile profile of the run to FILE (pstats.Stats(FILE))")
    g.add_argument("--memprofile", "-memprofile", metavar="FILE",
                   help="trace Python's allocations: write a tracemalloc snapshot taken "
                        "at the end of the run to FILE (tracemalloc.Snapshot.load(FILE)) "
                        "and print the peaks on stderr")


def _add_tracks(p: argparse.ArgumentParser) -> list[argparse.Action]:
    """Add the track selection flags; returns them."""
    add = p.add_argument_group("track selection").add_argument
    return [
        add("-t", "--tracks", "-tracks", "--track-pattern", "-track-pattern",
            action="append", metavar="NAMES",
            help="comma-separated names or patterns: exact 'Device/Track', a suffix ('HR' "
                 "also matches 'PLETH_HR'), 'Device/*', or a shell glob on the full or "
                 "the track name ('*_HR', 'Bx50/ECG?'); repeatable"),
        add("--track", action="append", metavar="NAME",
            help="one name or pattern, not split on commas; repeatable"),
        add("-x", "--exclude", action="append", metavar="NAMES",
            help="names or patterns to leave out (as --tracks)"),
        add("--track-type", "-track-type", type=track_types, metavar="TYPES",
            help="wave, numeric, string (comma-separated)"),
        add("--max-tracks", "-max-tracks", type=count, metavar="N",
            help="the first N selected tracks, in file order"),
    ]


def _add_records(p: argparse.ArgumentParser) -> list[argparse.Action]:
    """Add the record selection flags; returns them."""
    add = p.add_argument_group("record selection").add_argument
    return [
        add("--start", type=time_arg, metavar="TIME",
            help="first record time: seconds from the file start (90, 5m, 2h; negative: "
                 "from its end), a Unix time (@1700000000, or any number from 1e9), or "
                 "ISO 8601 (file's timezone unless one is given)"),
        add("--end", type=time_arg, metavar="TIME",
            help="records before this time (exclusive); same forms as --start"),
        add("-start-time", "--start-time", dest="start_time", type=seed_time_arg,
            metavar="UNIX", help="the seed's --start: Unix seconds, 0 = no bound"),
        add("-end-time", "--end-time", dest="end_time", type=seed_time_arg,
            metavar="UNIX", help="the seed's --end: Unix seconds, 0 = no bound"),
        add("--max-samples", "-max-samples", "--max-records", dest="max_records",
            type=count, metavar="N",
            help="the first N selected records of each track (default: all)"),
        add("--physical", action="store_true",
            help="apply gain and offset to integer samples and values (float64)"),
    ]


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser: every subcommand, or only ``command`` (one of
    ``OWN_COMMANDS``; what ``main`` builds to run it: a few ms less than all)."""
    p = _Parser(prog=PROG, allow_abbrev=False, description=(
        "Read VitalDB .vital recordings: list them, export them as JSON, MessagePack, "
        "CSV, Parquet, Arrow or text, or resample them onto a time grid."),
        epilog="Exit codes: 0 ok, 1 a data or format error, 2 a usage error.")
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, add in _COMMANDS.items():
        if command in (None, name):
            add(sub, name)
    if command is None:
        try:
            from .dataset_cli import add_commands
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.dataset_cli":
                raise
        else:
            add_commands(sub)
        from .windows_cli import add_commands as add_windows

        add_windows(sub)
    p.set_defaults(commands=frozenset(sub.choices))
    return p


def _add_info(sub: Any, name: str) -> None:
    info = sub.add_parser(name, allow_abbrev=False, help="file span, devices and counts")
    info.add_argument("files", nargs="+", metavar="FILE")
    info.add_argument("--format", "-format", choices=("text", "json"), default="text",
                      help="text (default) or one JSON object per line")
    info.add_argument("--json", dest="format", action="store_const", const="json",
                      help="the same as --format json")
    _add_common(info)
    info.set_defaults(func=cmd_info)


def _add_list(sub: Any, name: str) -> None:
    s = sub.add_parser(name, allow_abbrev=False, help=f"list the {name} of a recording")
    s.add_argument("files", nargs=1, metavar="FILE")
    s.add_argument("--format", "-format", choices=("table", "json", "csv"),
                   default="table", help="table (default), json or csv")
    selecting = _add_tracks(s)
    _add_common(s)
    s.set_defaults(func=cmd_list, what=name,
                   selecting=tuple((a.dest, a.default) for a in selecting))


def _add_export(sub: Any, name: str) -> None:
    from .writers.registry import NAMES

    ex = sub.add_parser(name, allow_abbrev=False, help="export the records",
                        description="Export records, tracks in file order, records "
                                    "in file order; the same input gives the same bytes.")
    ex.add_argument("files", nargs="+", metavar="FILE")
    ex.add_argument("-f", "--format", "-format", type=str.lower, choices=NAMES,
                    help="default: from the output's suffix, else json")
    ex.add_argument("-o", "--output", metavar="PATH",
                    help="output file ('-': stdout, the default); with several input "
                         "files a directory or a name holding {stem}")
    ex.add_argument("--compact", "-compact", action="store_true",
                    help="JSON on one line")
    ex.add_argument("--wave-cells", action="store_true",
                    help="CSV: one row per wave record (samples as a JSON array) "
                         "instead of one per sample")
    ex.add_argument("--max-memory", type=count, default=160, metavar="MB",
                    help="track data held at once (default 160 MB; 0: no limit): a "
                         "bigger recording is exported a group of tracks at a time, "
                         "reading the file once per group; the output is the same")
    modes = ex.add_argument_group("what to write (default: everything)")
    modes.add_argument("--summary", "-summary", action="store_true",
                       help="per track: metadata, records_count, first and last record")
    modes.add_argument("--info-only", "-info-only", action="store_true",
                       help="file_info only")
    modes.add_argument("--list-tracks", "-list-tracks", action="store_true",
                       help="tracks without records")
    modes.add_argument("--list-devices", "-list-devices", action="store_true",
                       help="devices only")
    selecting = _add_tracks(ex) + _add_records(ex)
    _add_common(ex)
    # the flags that select tracks or records, and their defaults (_commands._raw_plan)
    ex.set_defaults(func=cmd_export, selecting=tuple((a.dest, a.default) for a in selecting))


def _add_grid(sub: Any, name: str) -> None:
    grid = sub.add_parser(name, allow_abbrev=False,
                          help="resample tracks onto a time grid (vitaldb's to_numpy)")
    grid.add_argument("files", nargs=1, metavar="FILE")
    grid.add_argument("-i", "--interval", type=interval, metavar="S",
                      help="grid step in seconds (default: 1 / the highest sampling rate)")
    grid.add_argument("-f", "--format", "-format", type=str.lower,
                      choices=("csv", "parquet"), help="default: from -o's suffix, else csv")
    grid.add_argument("-o", "--output", metavar="PATH", help="output file (default: stdout)")
    grid.add_argument("--time", choices=("unix", "relative", "none"), default="unix",
                      help="first column: Unix seconds (default), seconds from the start, "
                           "or none")
    _add_tracks(grid)
    _add_common(grid)
    grid.set_defaults(func=cmd_grid)


#: This module's commands, in the order ``--help`` lists them, and what adds each.
_COMMANDS = {"info": _add_info, "tracks": _add_list, "devices": _add_list,
             "export": _add_export, "grid": _add_grid}
OWN_COMMANDS = frozenset(_COMMANDS)


# -- entry point --------------------------------------------------------------------------------

def _mistyped_command(word: str, commands: Sequence[str]) -> str | None:
    """The command ``word`` was probably meant to be, when it is no file but looks like one
    of ``commands`` (the seed's ``vitalproc FILE`` form makes any other word a file name)."""
    import difflib
    import os

    if word.startswith("-") or os.path.exists(word) or "/" in word or "." in word:
        return None
    close = difflib.get_close_matches(word, list(commands), n=1, cutoff=0.6)
    return close[0] if close else None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (``vitalproc`` console script).

    Run as the program (no ``argv``), one of this module's commands ends the process
    itself once its output is flushed (``_exit``).
    """
    program = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in OWN_COMMANDS:
        parser = build_parser(argv[0])
    else:
        parser = build_parser()
        if not argv:
            parser.print_usage(sys.stderr)
            return EXIT_USAGE
        commands = parser.get_default("commands")
        if argv[0] not in commands and argv[0] not in ("-h", "--help", "--version"):
            typo = _mistyped_command(argv[0], commands)
            if typo:
                print(f"{PROG}: error: unknown command {argv[0]!r} (did you mean "
                      f"{typo!r}?)", file=sys.stderr)
                return EXIT_USAGE
            argv.insert(0, "export")  # the seed's form: `vitalproc [flags] FILE`
            parser = build_parser("export")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_USAGE
    code = _profiled(args, lambda: _dispatch(args))
    if program and args.command in OWN_COMMANDS:  # (the dataset commands may leave
        _exit(code)  # worker pools or clusters to the interpreter's shutdown)
    return code


def _dispatch(args: argparse.Namespace) -> int:
    """The command's handler, its errors mapped to exit codes."""
    from .errors import VitalWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VitalWarning)  # reported from vf.warnings instead
        try:
            return args.func(args)
        except UsageError as exc:
            print(f"{PROG}: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except BrokenPipeError:
            quiet_pipe()
            return EXIT_OK
        except KeyboardInterrupt:
            return 130
        except ImportError as exc:
            if getattr(args, "verbose", False):
                raise
            print(f"{PROG}: error: {exc}", file=sys.stderr)
            return EXIT_DATA


def _exit(code: int) -> None:
    """End the process now: the interpreter's teardown (freeing every object, unloading
    numpy) takes 8-15 ms, a tenth of a small export, and does nothing that the end of the
    process does not. Every output file is closed by then; stdout and stderr are flushed
    here."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        quiet_pipe()
    except (OSError, ValueError):
        pass
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(code)


# -- --cpuprofile, --memprofile -----------------------------------------------------------------

def _profiled(args: argparse.Namespace, run: Any) -> int:
    """``run()`` under ``--cpuprofile``/``--memprofile`` (``_profiling``): a missing
    output folder is a usage error; a profile that cannot be written, a data error."""
    cpu, mem = getattr(args, "cpuprofile", None), getattr(args, "memprofile", None)
    if not (cpu or mem):
        return run()
    for flag, path in (("--cpuprofile", cpu), ("--memprofile", mem)):
        if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            print(f"{PROG}: error: {flag} {path!r}: no such folder", file=sys.stderr)
            return EXIT_USAGE
    from ._profiling import profiled

    report = Reporter(args)
    code, error = profiled(run, cpu, mem, report.note, report.say)
    if error is not None:
        report.error(None, f"cannot write a profile: {describe(error)}")
        return max(code, EXIT_DATA)
    return code

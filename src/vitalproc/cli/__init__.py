"""The ``vitalproc`` command: parses arguments, calls the library, maps errors to exit codes.

The commands come in groups, one module each, listed in ``_GROUPS``: ``read`` (``info``,
``tracks``, ``devices``, ``export``, ``grid``), ``dataset`` (``convert``, ``query``),
``synth``, ``quality`` (``qc``, ``cohort``), ``viewer`` (``plot``, ``view``), ``windows``
and ``opendata`` (``fetch``).
A command line without a command is an ``export`` (the Go processor's form,
``vitalproc [flags] FILE``), and the Go processor's single-dash flags (``-tracks``,
``-format``...) are accepted as aliases.

Adding a command group
----------------------
Write ``vitalproc/cli/<group>.py`` and add ``"<group>"`` to ``_GROUPS``. The module
declares:

``COMMANDS``
    A tuple of its command names, in the order ``--help`` lists them.
``add_commands(subparsers, command=None)``
    Adds its parsers to ``subparsers`` (``add_parser(name, ...)``): all of them, or, when
    ``command`` is given, at least that one (the one about to run; building only it
    saves a few ms of start-up). Each parser sets ``func``: ``handler(args) -> int``,
    returning an exit code of ``_common`` (``EXIT_OK`` 0, ``EXIT_DATA`` 1 for bad data
    or a failed run, ``EXIT_USAGE`` 2 for a bad command line; a handler may raise
    ``_common.UsageError`` for the latter). ``_common.add_common``,
    ``add_track_flags`` and ``add_record_flags`` add the flags most commands share.
``FAST_EXIT`` (optional, default False)
    True when the process may end as soon as the command is done, skipping the
    interpreter's teardown (no worker pool, cluster or thread is left to shut down).

The command line imports a group module to read its ``COMMANDS`` and builds only the
parsers of the group that holds the command: a group module imports nothing heavy at
module level (no numpy, pyarrow...), only inside its handlers. A group module that is
missing is skipped. A library feature never imports this package.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from importlib import import_module
from types import ModuleType
from typing import Any

from .._version import __version__
from ._common import (
    EXIT_DATA,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    PROG,
    Reporter,
    UsageError,
    describe,
    quiet_pipe,
)

#: The command groups, one module of this package each, in the order ``--help`` lists
#: their commands.
_GROUPS = ("read", "dataset", "synth", "quality", "viewer", "windows", "opendata")

# -- the parser ------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _groups() -> Iterator[ModuleType]:
    """The modules of ``_GROUPS`` that are there, imported one at a time as asked for."""
    for name in _GROUPS:
        try:
            yield import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise


def _group_of(command: str) -> ModuleType | None:
    """The group module holding ``command`` (the groups after it are not imported)."""
    return next((g for g in _groups() if command in g.COMMANDS), None)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser: every command, or only ``command``'s group's parsers
    (what ``main`` builds to run it)."""
    p = _Parser(
        prog=PROG,
        allow_abbrev=False,
        description=(
            "Read VitalDB .vital recordings: list them, export them as JSON, MessagePack, "
            "CSV, Parquet, Arrow or text, or resample them onto a time grid."
        ),
        epilog="Exit codes: 0 ok, 1 a data or format error, 2 a usage error.",
    )
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    if command is None:
        for group in _groups():
            group.add_commands(sub)
    else:
        group = _group_of(command)
        if group is not None:
            group.add_commands(sub, command)
    p.set_defaults(commands=frozenset(sub.choices))
    return p


# -- entry point --------------------------------------------------------------------------------


def _mistyped_command(word: str, commands: Sequence[str]) -> str | None:
    """The command ``word`` was probably meant to be, when it is no file but looks like one
    of ``commands`` (the ``vitalproc FILE`` form makes any other word a file name)."""
    import difflib
    import os

    if word.startswith("-") or os.path.exists(word) or "/" in word or "." in word:
        return None
    close = difflib.get_close_matches(word, list(commands), n=1, cutoff=0.6)
    return close[0] if close else None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (``vitalproc`` console script).

    Run as the program (no ``argv``), a command of a ``FAST_EXIT`` group ends the process
    itself once its output is flushed (``_exit``).
    """
    program = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    group = _group_of(argv[0]) if argv else None
    if group is not None:
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
                print(
                    f"{PROG}: error: unknown command {argv[0]!r} (did you mean {typo!r}?)",
                    file=sys.stderr,
                )
                return EXIT_USAGE
            argv.insert(0, "export")  # the Go processor's form: `vitalproc [flags] FILE`
            parser = build_parser("export")
            group = _group_of("export")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_USAGE
    code = _profiled(args, lambda: _dispatch(args))
    if program and getattr(group, "FAST_EXIT", False):  # (other commands may leave
        _exit(code)  # worker pools or clusters to the interpreter's shutdown)
    return code


def _dispatch(args: argparse.Namespace) -> int:
    """The command's handler, its errors mapped to exit codes."""
    from ..errors import VitalWarning

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
            return EXIT_INTERRUPTED
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

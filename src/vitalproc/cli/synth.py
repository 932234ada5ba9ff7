"""The ``synth`` command of ``vitalproc``: a synthetic recording with its ground truth.

A command group (see ``vitalproc.cli``). Exit codes: 0 ok, 1 the files could not be
written, 2 a usage error (an option value that does not parse or does not fit the
recording, named in the message). What it generates: ``vitalproc.synth``
(``docs/synth.md``).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ._common import EXIT_DATA, EXIT_OK, EXIT_USAGE, PROG

COMMANDS = ("synth",)
FAST_EXIT = True


def _parts(text: str, what: str, names: tuple[str, ...]) -> list[str]:
    parts = text.split(":")
    if not len(names) - sum(n.startswith("[") for n in names) <= len(parts) <= len(names):
        raise argparse.ArgumentTypeError(f"{what} {text!r}: give {':'.join(names)}")
    return parts


def _number(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what}: {text!r} is not a number") from None


def hypotension_arg(text: str) -> int | tuple[float, float, float]:
    """``N`` (a count) or ``START:DURATION[:LEVEL]`` (seconds, seconds, mmHg)."""
    if text.isdigit():
        return int(text)
    parts = _parts(text, "--hypotension", ("START", "DURATION", "[LEVEL]"))
    start, duration = (_number(p, "--hypotension") for p in parts[:2])
    level = _number(parts[2], "--hypotension") if len(parts) == 3 else 65.0
    return (start, duration, level)


def artifact_arg(text: str) -> tuple[Any, ...]:
    """``KIND:START:DURATION[:TRACK]`` (a track name may hold ':' no more than a file's)."""
    kind, _, rest = text.partition(":")
    parts = rest.split(":", 2)
    if not kind or len(parts) < 2:
        raise argparse.ArgumentTypeError(f"--artifact {text!r}: give KIND:START:DURATION[:TRACK]")
    item: tuple[Any, ...] = (kind, _number(parts[0], "--artifact"), _number(parts[1], "--artifact"))
    return item + ((parts[2],) if len(parts) == 3 else ())


def rhythm_arg(text: str) -> tuple[str, float, float]:
    parts = _parts(text, "--rhythm-span", ("CLASS", "START", "DURATION"))
    return (parts[0], _number(parts[1], "--rhythm-span"), _number(parts[2], "--rhythm-span"))


def count_arg(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a count (0, 1, 2 ...)")
    return int(text)


def add_commands(subparsers: Any, command: str | None = None) -> None:
    """Add ``synth`` to the ``vitalproc`` command's subparsers."""
    p = subparsers.add_parser(
        "synth",
        help="write a synthetic recording with its ground truth",
        description="Write a realistic synthetic .vital recording (VitalDB devices and "
        "tracks, waves and the numerics computed from them) with injected "
        "episodes and artifacts, and its ground truth beside it: "
        "<stem>.truth.json and, with a rhythm option, <stem>.rhythm.csv. "
        "Times are seconds from the recording's start.",
        epilog="Exit codes: 0 ok, 1 the files could not be written, 2 a usage error. "
        "See docs/synth.md.",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="the .vital file to write (required unless --list-shapes)",
    )
    p.add_argument(
        "--profile",
        choices=("or", "icu", "demo"),
        help="operating room (VitalDB devices), ICU bedside monitor (GE Bx50) "
        "or Vital Recorder's simulator device (default: or)",
    )
    p.add_argument("--hours", type=float, help="length (default 1)")
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of every random draw: the same options give the same bytes",
    )
    p.add_argument(
        "--start",
        metavar="TIME",
        help="recording start: Unix seconds or ISO 8601 (UTC unless it says); "
        "default 2024-03-22T13:59:59.1Z",
    )
    p.add_argument(
        "--dgmt",
        type=int,
        metavar="MINUTES",
        help="the header's time zone field (default -540, UTC+9)",
    )
    e = p.add_argument_group("episodes and artifacts (counts are placed from the random seed)")
    e.add_argument(
        "--hypotension",
        action="append",
        type=hypotension_arg,
        metavar="N|S:D[:L]",
        help="a count of episodes, or START:DURATION[:MAP_LEVEL] (repeatable)",
    )
    e.add_argument(
        "--artifacts",
        type=count_arg,
        metavar="N",
        help="a count of artifacts, kinds in turn on their default tracks",
    )
    e.add_argument(
        "--artifact",
        action="append",
        type=artifact_arg,
        metavar="KIND:S:D[:TRACK]",
        help="flatline, clipping, spikes, gap, inverted or zeroed at START for "
        "DURATION seconds, on TRACK or the kind's default (repeatable)",
    )
    e.add_argument(
        "--rhythm",
        action="store_true",
        help="rhythm changes: one span each of AF, PVC, BRADY and BAD",
    )
    e.add_argument(
        "--rhythm-span",
        action="append",
        type=rhythm_arg,
        metavar="CLASS:S:D",
        help="AF, PVC, BRADY or BAD from START for DURATION seconds (repeatable)",
    )
    s = p.add_argument_group("shapes of real recordings")
    s.add_argument(
        "--shape", metavar="NAME", help="a named shape (see --list-shapes); other options change it"
    )
    s.add_argument("--list-shapes", action="store_true", help="list the named shapes")
    s.add_argument(
        "--redeclare",
        nargs="?",
        const=34,
        type=count_arg,
        metavar="N",
        help="N track names (default 34) declared again mid-file",
    )
    s.add_argument(
        "--outliers",
        action="store_true",
        help="two stray timestamps stretching the file to 13 hours",
    )
    s.add_argument(
        "--string-tracks",
        type=count_arg,
        metavar="N",
        help="N extra string tracks (monitor messages)",
    )
    s.add_argument(
        "--tracks", metavar="NAMES", help="only these tracks (comma-separated, full or short names)"
    )
    s.add_argument("--oversize", action="store_true", help="wave records over 1 MB")
    s.add_argument(
        "--truncate", action="store_true", help="cut the stream inside a record packet near the end"
    )
    s.add_argument("--packed", action="store_true", help="vitaldb's packed layout")
    s.add_argument(
        "--compress-level",
        type=int,
        metavar="N",
        help="gzip level 0-9 (default 1; 0-3 ISA-L, above zlib)",
    )
    p.add_argument(
        "--progress", action="store_true", help="a progress bar even when stderr is not a terminal"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(func=run)


def _arguments(args: argparse.Namespace) -> dict[str, Any]:
    """The ``synth`` keyword arguments the options give (only those given, over the
    shape's when ``--shape`` is used)."""
    kw: dict[str, Any] = {}
    given = {k: v for k, v in vars(args).items() if v not in (None, False)}
    if args.profile is not None or args.shape is None:
        kw["profile"] = args.profile or "or"
    if args.hours is not None or args.shape is None:
        kw["hours"] = 1.0 if args.hours is None else args.hours
    kw["seed"] = args.seed
    for name in (
        "start",
        "dgmt",
        "oversize",
        "truncate",
        "packed",
        "outliers",
        "string_tracks",
        "redeclare",
    ):
        if name in given:
            kw[name] = given[name]
    if args.compress_level is not None:
        kw["compresslevel"] = args.compress_level
    if args.tracks:
        kw["tracks"] = [t.strip() for t in args.tracks.split(",") if t.strip()]
    if args.hypotension:
        counts = [h for h in args.hypotension if isinstance(h, int)]
        if counts and len(args.hypotension) > 1:
            raise ValueError(
                "--hypotension: give one count or START:DURATION[:LEVEL] items, not both"
            )
        kw["hypotension"] = counts[0] if counts else args.hypotension
    if args.artifacts is not None and args.artifact:
        raise ValueError("--artifacts N and --artifact KIND:...: give one or the other")
    if args.artifacts is not None:
        kw["artifacts"] = args.artifacts
    elif args.artifact:
        kw["artifacts"] = args.artifact
    if args.rhythm and args.rhythm_span:
        raise ValueError("--rhythm and --rhythm-span: give one or the other")
    if args.rhythm:
        kw["rhythm"] = True
    elif args.rhythm_span:
        kw["rhythm"] = args.rhythm_span
    return kw


def run(args: argparse.Namespace) -> int:
    from .. import synth as synth_module

    shapes = synth_module.shapes
    if args.list_shapes:
        for name, shape in shapes.SHAPES.items():
            print(f"{name:14} {shape.description}")
        return EXIT_OK
    if not args.output:
        print(f"{PROG}: error: -o/--output is required", file=sys.stderr)
        return EXIT_USAGE
    folder = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(folder):
        print(f"{PROG}: error: -o {args.output!r}: no such folder", file=sys.stderr)
        return EXIT_USAGE
    bar = _progress_bar(args)
    try:
        kw = _arguments(args)
        if bar is not None:
            kw["progress"] = bar
        if args.shape is not None:
            rec = shapes.make(args.shape, args.output, **kw)
        else:
            rec = synth_module.synth(args.output, **kw)
    except ValueError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(
            f"{PROG}: error: cannot write {args.output!r}: {exc.strerror or exc}", file=sys.stderr
        )
        return EXIT_DATA
    finally:
        if bar is not None:
            bar.close()
    if not args.quiet:
        truth = rec.truth
        extras = [synth_module.sidecar_paths(args.output)[0]]
        if rec.rhythm:
            extras.append(synth_module.sidecar_paths(args.output)[1])
        print(
            f"{PROG}: wrote {args.output} ({len(rec.data) / 1e6:.1f} MB, "
            f"{len(truth['tracks'])} tracks, {truth['records']:,} records, "
            f"{len(truth['episodes'])} episodes, {len(truth['artifacts'])} artifacts) "
            f"and {', '.join(extras)}",
            file=sys.stderr,
        )
    return EXIT_OK


class _Bar:
    """tqdm over the generator's steps."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=1, unit="step", desc="synth", file=sys.stderr, leave=False)

    def __call__(self, done: int, total: int, step: str) -> None:
        self._bar.total = total
        self._bar.set_postfix_str(step, refresh=False)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        self._bar.close()


def _progress_bar(args: argparse.Namespace) -> _Bar | None:
    if args.quiet or not (args.progress or sys.stderr.isatty()):
        return None
    try:
        return _Bar()
    except ImportError:
        return None

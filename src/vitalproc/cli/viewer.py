"""The ``plot`` and ``view`` commands of ``vitalproc``: a picture of a recording, and the
local web viewer.

A command group of ``vitalproc.cli`` (see its docstring). Exit codes: 0 ok, 1 a data
error (a file that cannot be read), 2 a usage error (no such file, no such track, a bad
range, size or suffix, a port in use).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import threading
from typing import Any

from ._args import time_arg
from ._common import EXIT_DATA, EXIT_OK, EXIT_USAGE, PROG

COMMANDS = ("plot", "view")


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text!r}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535, not {value}")
    return value


def add_commands(subparsers: Any, command: str | None = None) -> None:
    """Add ``plot`` and ``view`` to the ``vitalproc`` command's subparsers."""
    plot = subparsers.add_parser(
        "plot",
        help="draw a recording (PNG, SVG, PDF; or a self-contained HTML page)",
        description="Draw a recording as Vital Recorder shows it: one lane per track in "
        "the recording's order, grouped by device; waves as min/max "
        "envelopes (one column per pixel: every excursion of hours of "
        "500 Hz shows), numerics over time, strings and events as labelled "
        "marks, on the recording's local time.",
    )
    plot.add_argument("file", metavar="FILE", help="a .vital file or a converted case's .parquet")
    plot.add_argument(
        "-o", "--output", metavar="PATH", help="the picture: .png, .svg or .pdf (by the suffix)"
    )
    plot.add_argument(
        "--html",
        metavar="PATH",
        help="also (or only) a self-contained HTML snapshot that zooms and pans, no server needed",
    )
    plot.add_argument(
        "-t",
        "--tracks",
        action="append",
        metavar="NAMES",
        help="comma-separated names: exact 'Device/Track', a suffix ('HR'), "
        "or 'Device/*'; repeatable (default: every track)",
    )
    plot.add_argument(
        "--start",
        type=time_arg,
        metavar="TIME",
        help="seconds from the start (90, 5m, 2h; negative: from the end), "
        "a Unix time (@1700000000) or ISO 8601 in the file's timezone",
    )
    plot.add_argument("--end", type=time_arg, metavar="TIME", help="as --start")
    plot.add_argument(
        "--width", type=_positive, default=16.0, metavar="IN", help="inches (default 16)"
    )
    plot.add_argument(
        "--height", type=_positive, metavar="IN", help="inches (default: what the lanes need)"
    )
    plot.add_argument(
        "--dpi",
        type=_positive,
        default=100.0,
        metavar="N",
        help="pixels per inch (default 100; with --width, the envelope's columns)",
    )
    plot.add_argument(
        "--theme",
        choices=("dark", "light"),
        default="dark",
        help="dark (default, the track colours as recorded) or light",
    )
    plot.add_argument(
        "--columns",
        type=int,
        default=1600,
        metavar="N",
        help="envelope columns of the HTML snapshot (default 1600)",
    )
    plot.set_defaults(func=cmd_plot)

    view = subparsers.add_parser(
        "view",
        help="look at a recording or a dataset in the browser (local web viewer)",
        description="Serve a recording, a converted case or a dataset folder on "
        "127.0.0.1 and open it in the browser: lanes, zoom and pan from the "
        "whole case to single samples, a track picker, values under the "
        "cursor. Nothing leaves the machine. Ctrl-C stops it.",
    )
    view.add_argument("path", metavar="FILE_OR_DATASET")
    view.add_argument(
        "-p", "--port", type=_port, default=0, metavar="N", help="the port (default: any free one)"
    )
    view.add_argument(
        "--no-browser", action="store_true", help="print the URL, do not open a browser"
    )
    view.add_argument(
        "-t",
        "--tracks",
        action="append",
        metavar="NAMES",
        help="only these tracks (as plot's --tracks)",
    )
    view.add_argument("-v", "--verbose", action="store_true", help="log every request")
    view.set_defaults(func=cmd_view)


def _error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def _tracks(args: argparse.Namespace) -> list[str] | None:
    if not args.tracks:
        return None
    return [name for group in args.tracks for name in group.split(",") if name]


def cmd_plot(args: argparse.Namespace) -> int:
    from ..viewer.static import check_path

    if not args.output and not args.html:
        _error("plot: give -o PATH (.png, .svg, .pdf) and/or --html PATH")
        return EXIT_USAGE
    if args.output:
        try:
            check_path(args.output)
        except ValueError as exc:
            _error(f"plot: {exc}")
            return EXIT_USAGE
    for out in (args.output, args.html):
        folder = os.path.dirname(os.path.abspath(out)) if out else None
        if folder and not os.path.isdir(folder):
            _error(f"plot: {out}: no such folder")
            return EXIT_USAGE
    if not os.path.exists(args.file):
        _error(f"plot: {args.file}: no such file")
        return EXIT_USAGE
    # matplotlib's import (a third of the command) runs while the file is read: the
    # read holds no GIL most of the time.
    warm = threading.Thread(target=_import_matplotlib, daemon=True) if args.output else None
    if warm is not None:
        warm.start()
    tracks = _tracks(args)
    try:
        vf = _read(args.file, tracks)
    except ValueError as exc:  # VitalFormatError
        _error(f"plot: {args.file}: {exc}")
        return EXIT_DATA
    if warm is not None:
        warm.join()
    if tracks and not vf.trks:
        _error(f"plot: no track of {args.file} matches {', '.join(tracks)}")
        return EXIT_USAGE
    options: dict[str, Any] = {"start": args.start, "end": args.end}
    try:
        if args.output:
            from ..viewer.static import render

            picture = render(
                vf, width=args.width, height=args.height, dpi=args.dpi, theme=args.theme, **options
            )
            picture.save(args.output)
        if args.html:
            from ..viewer.snapshot import write_html

            write_html(vf, args.html, columns=args.columns, **options)
    except (ValueError, KeyError) as exc:
        _error(f"plot: {exc.args[0] if exc.args else exc}")
        return EXIT_USAGE
    except ImportError as exc:
        _error(f"plot: {exc}")
        return EXIT_DATA
    return EXIT_OK


def _import_matplotlib() -> None:
    try:
        import matplotlib.backends.backend_agg
        import matplotlib.figure  # noqa: F401
    except ImportError:
        pass  # reported when the picture is drawn


def _read(path: str, tracks: list[str] | None) -> Any:
    import warnings

    from ..errors import VitalWarning
    from ..io.reader import read

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VitalWarning)  # what was recovered is drawn
        return read(path, tracks=tracks)


def cmd_view(args: argparse.Namespace) -> int:
    if not os.path.exists(args.path):
        _error(f"view: {args.path}: no such file or folder")
        return EXIT_USAGE
    try:
        from ..viewer.server import serve

        serve(
            args.path,
            port=args.port,
            open_browser=not args.no_browser,
            tracks=_tracks(args),
            verbose=args.verbose,
        )
    except OSError as exc:
        if getattr(exc, "errno", None) in (98, 48, 10048):  # address in use
            _error(f"view: port {args.port} is in use (try --port 0)")
            return EXIT_USAGE
        if isinstance(exc, FileNotFoundError):
            _error(f"view: {exc}")
            return EXIT_USAGE
        raise
    except KeyError as exc:
        _error(f"view: {exc.args[0] if exc.args else exc}")
        return EXIT_USAGE
    except ValueError as exc:
        _error(f"view: {args.path}: {exc}")
        return EXIT_DATA
    return EXIT_OK

"""The commands that read recordings: ``info``, ``tracks``, ``devices``, ``export`` and
``grid``. Each reads its inputs with the command line's selection, writes what was
asked, reports on stderr, one bad file not stopping the others.

Heavy libraries (numpy, pyarrow...) are imported only by the commands that need them: a
command line that selects nothing lists or exports (msgpack) from the reader's own
buffers without numpy (``_raw_plan``), and where numpy is needed its import starts on a
thread while the file is read (``_preload``).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from typing import IO, Any

from ._args import count, interval
from ._common import (
    EXIT_DATA,
    EXIT_OK,
    DataError,
    Reporter,
    UsageError,
    add_common,
    add_record_flags,
    add_track_flags,
    describe,
    quiet_pipe,
)

#: This group's commands, in the order ``--help`` lists them.
COMMANDS = ("info", "tracks", "devices", "export", "grid")
#: The process ends as soon as one of these commands is done (``vitalproc.cli``): they
#: leave no worker pool or thread behind that needs the interpreter's shutdown.
FAST_EXIT = True


def add_commands(subparsers: Any, command: str | None = None) -> None:
    """Add this group's parsers to ``vitalproc``'s ``subparsers``: all of them, or only
    ``command``'s (the one about to run: building one parser is a few ms less)."""
    for name in COMMANDS:
        if command in (None, name):
            _ADD[name](subparsers, name)


# -- the parsers -------------------------------------------------------------------------------


def _add_info(sub: Any, name: str) -> None:
    info = sub.add_parser(name, allow_abbrev=False, help="file span, devices and counts")
    info.add_argument("files", nargs="+", metavar="FILE")
    info.add_argument(
        "--format",
        "-format",
        choices=("text", "json"),
        default="text",
        help="text (default) or one JSON object per line",
    )
    info.add_argument(
        "--json",
        dest="format",
        action="store_const",
        const="json",
        help="the same as --format json",
    )
    add_common(info)
    info.set_defaults(func=cmd_info)


def _add_list(sub: Any, name: str) -> None:
    s = sub.add_parser(name, allow_abbrev=False, help=f"list the {name} of a recording")
    s.add_argument("files", nargs=1, metavar="FILE")
    s.add_argument(
        "--format",
        "-format",
        choices=("table", "json", "csv"),
        default="table",
        help="table (default), json or csv",
    )
    selecting = add_track_flags(s)
    add_common(s)
    s.set_defaults(
        func=cmd_list, what=name, selecting=tuple((a.dest, a.default) for a in selecting)
    )


def _add_export(sub: Any, name: str) -> None:
    from ..writers.registry import NAMES

    ex = sub.add_parser(
        name,
        allow_abbrev=False,
        help="export the records",
        description="Export records, tracks in file order, records "
        "in file order; the same input gives the same bytes.",
    )
    ex.add_argument("files", nargs="+", metavar="FILE")
    ex.add_argument(
        "-f",
        "--format",
        "-format",
        type=str.lower,
        choices=NAMES,
        help="default: from the output's suffix, else json",
    )
    ex.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="output file ('-': stdout, the default); with several input "
        "files a directory or a name holding {stem}",
    )
    ex.add_argument("--compact", "-compact", action="store_true", help="JSON on one line")
    ex.add_argument(
        "--wave-cells",
        action="store_true",
        help="CSV: one row per wave record (samples as a JSON array) instead of one per sample",
    )
    ex.add_argument(
        "--max-memory",
        type=count,
        default=160,
        metavar="MB",
        help="track data held at once (default 160 MB; 0: no limit): a "
        "bigger recording is exported a group of tracks at a time, "
        "reading the file once per group; the output is the same",
    )
    modes = ex.add_argument_group("what to write (default: everything)")
    modes.add_argument(
        "--summary",
        "-summary",
        action="store_true",
        help="per track: metadata, records_count, first and last record",
    )
    modes.add_argument("--info-only", "-info-only", action="store_true", help="file_info only")
    modes.add_argument(
        "--list-tracks", "-list-tracks", action="store_true", help="tracks without records"
    )
    modes.add_argument("--list-devices", "-list-devices", action="store_true", help="devices only")
    selecting = add_track_flags(ex) + add_record_flags(ex)
    add_common(ex)
    # the flags that select tracks or records, and their defaults (_raw_plan)
    ex.set_defaults(func=cmd_export, selecting=tuple((a.dest, a.default) for a in selecting))


def _add_grid(sub: Any, name: str) -> None:
    grid = sub.add_parser(
        name, allow_abbrev=False, help="resample tracks onto a time grid (vitaldb's to_numpy)"
    )
    grid.add_argument("files", nargs=1, metavar="FILE")
    grid.add_argument(
        "-i",
        "--interval",
        type=interval,
        metavar="S",
        help="grid step in seconds (default: 1 / the highest sampling rate)",
    )
    grid.add_argument(
        "-f",
        "--format",
        "-format",
        type=str.lower,
        choices=("csv", "parquet"),
        help="default: from -o's suffix, else csv",
    )
    grid.add_argument("-o", "--output", metavar="PATH", help="output file (default: stdout)")
    grid.add_argument(
        "--time",
        choices=("unix", "relative", "none"),
        default="unix",
        help="first column: Unix seconds (default), seconds from the start, or none",
    )
    add_track_flags(grid)
    add_common(grid)
    grid.set_defaults(func=cmd_grid)


#: What adds each command's parser.
_ADD = {
    "info": _add_info,
    "tracks": _add_list,
    "devices": _add_list,
    "export": _add_export,
    "grid": _add_grid,
}


# -- shared steps ------------------------------------------------------------------------------


def _selectors(args: argparse.Namespace) -> tuple[list[str] | None, list[str] | None]:
    names = [n.strip() for arg in args.tracks or () for n in arg.split(",") if n.strip()]
    names += [n for n in args.track or () if n]
    excluded = [n.strip() for arg in args.exclude or () for n in arg.split(",") if n.strip()]
    return names or None, excluded or None


def _read(
    path: str,
    args: argparse.Namespace,
    tracks: Any = None,
    exclude: Any = None,
    header_only: bool = False,
    survey: bool = False,
) -> Any:
    """Read one input (``survey``: survey it, ``reader.survey``); a bad file becomes a
    ``DataError`` with one clear message."""
    from ..errors import VitalError
    from ..io import reader

    compat = getattr(args, "compat", None)
    try:
        if survey:
            return reader.survey(path, tracks, exclude, compat)
        return reader.read(
            path, tracks=tracks, exclude=exclude, header_only=header_only, compat=compat
        )
    except FileNotFoundError:
        raise DataError("no such file") from None
    except IsADirectoryError:
        raise DataError("is a directory, not a .vital file") from None
    except PermissionError:
        raise DataError("permission denied") from None
    except VitalError as exc:
        raise DataError(str(exc).replace(f" in {path!r}", "")) from exc
    except OSError as exc:
        raise DataError(exc.strerror or str(exc)) from exc


def _report_read(report: Reporter, path: str, vf: Any) -> None:
    for issue in vf.warnings:
        report.warn(path, issue.message)


def _read_selected(path: str, args: argparse.Namespace, report: Reporter, **selection: Any) -> Any:
    """Read ``path`` with the command line's track selection; return its ``Plan``."""
    from .._names import close_names
    from ..ops.selection import Selection, plan
    from ..writers._groups import grouped_plan, needs_groups

    names, excluded = _selectors(args)
    pushed, pushed_out = Selection(tracks=names, exclude=excluded).pushdown()
    budget = (getattr(args, "max_memory", None) or 0) << 20
    found = None
    if needs_groups(path, budget):  # too big to hold: a group of tracks at a time
        found = _read(path, args, pushed, pushed_out, survey=True)
        vf = found.vf
    else:
        vf = _read(path, args, pushed, pushed_out)
    _report_read(report, path, vf)
    start = getattr(args, "start", None) or getattr(args, "start_time", None)
    end = getattr(args, "end", None) or getattr(args, "end_time", None)
    sel = Selection(
        tracks=names,
        exclude=excluded,
        types=args.track_type,
        max_tracks=args.max_tracks,
        start=start.resolve(vf) if start else None,
        end=end.resolve(vf) if end else None,
        **selection,
    )
    if found is None:
        result = plan(vf, sel, source=path)
    else:
        result = grouped_plan(
            path, sel, budget, pushed, pushed_out, getattr(args, "compat", None), found
        )
        report.note(
            f"{path}: {len(result.parts)} tracks in {result.parts.groups} groups "
            f"of at most {budget >> 20} MB, one read of the file each"
        )
    if result.unmatched:
        known = list(vf.trks) if pushed is None else list(_read(path, args, header_only=True).trks)
        for name in result.unmatched:
            close = close_names(name, known)
            hint = f" (close: {', '.join(close)})" if close else ""
            report.warn(path, f"no track matches {name!r}{hint}")
        if not result.parts:
            raise DataError("no track matches the selection")
    return result


def _stdout() -> IO[bytes]:
    sys.stdout.flush()
    return sys.stdout.buffer


def _run(args: argparse.Namespace, per_file: Any) -> int:
    """``per_file(path)`` for each input; errors reported one line each, others go on."""
    report = Reporter(args)
    status = EXIT_OK
    for path in args.files:
        try:
            per_file(path, report)
        except BrokenPipeError:
            quiet_pipe()
            return status
        except DataError as exc:
            if report.verbose:
                import traceback

                traceback.print_exception(exc)
            report.error(path, str(exc))
            status = EXIT_DATA
        except (OSError, ValueError) as exc:
            if report.verbose:
                raise
            report.error(path, describe(exc))
            status = EXIT_DATA
    return status


# -- info, tracks, devices --------------------------------------------------------------------


def _iso(t: float, dgmt: int) -> str | None:
    import datetime

    try:
        zone = datetime.timezone(datetime.timedelta(minutes=-dgmt))
        return datetime.datetime.fromtimestamp(t, zone).isoformat()
    except (OverflowError, OSError, ValueError):
        return None


def info_dict(path: str, vf: Any) -> dict[str, Any]:
    """``vitalproc info``'s facts about one recording (no numpy needed)."""
    return {
        "file": path,
        "start": _iso(vf.dtstart, vf.dgmt),
        "end": _iso(vf.dtend, vf.dgmt),
        "dtstart": vf.dtstart,
        "dtend": vf.dtend,
        "duration_s": vf.dtend - vf.dtstart,
        "utc_offset_min": -vf.dgmt,
        "packed": vf.packed,
        "devices": [{"name": d.name, "type": d.type, "port": d.port} for d in vf.devs.values()],
        "tracks": len(vf.trks),
        "records": sum(len(t) for t in vf.trks.values()),
        "warnings": [w.message for w in vf.warnings],
    }


def _print_info(d: dict[str, Any]) -> None:
    print(d["file"])
    print(f"  start     {d['start']}  ({d['dtstart']!r})")
    print(f"  end       {d['end']}  ({d['dtend']!r})")
    print(
        f"  duration  {d['duration_s']:.3f} s   UTC offset {d['utc_offset_min']:+d} min"
        f"   packed {d['packed']}"
    )
    print(f"  devices   {', '.join(x['name'] for x in d['devices']) or '-'}")
    print(f"  tracks    {d['tracks']}   records {d['records']}")


def _json(obj: Any, indent: int | None = None) -> str:
    """Standard JSON (NaN and infinities as null), UTF-8 text kept."""
    import json

    def finite(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: finite(x) for k, x in v.items()}
        if isinstance(v, list):
            return [finite(x) for x in v]
        return v

    return json.dumps(finite(obj), ensure_ascii=False, indent=indent)


def cmd_info(args: argparse.Namespace) -> int:
    def one(path: str, report: Reporter) -> None:
        vf = _read(path, args)
        _report_read(report, path, vf)
        d = info_dict(path, vf)
        if args.format == "json":
            print(_json(d))
        else:
            _print_info(d)
        sys.stdout.flush()

    return _run(args, one)


def _table(rows: list[dict[str, Any]], out: IO[str]) -> None:
    if not rows:
        return
    keys = list(rows[0])
    cells = [[_cell(r[k]) for k in keys] for r in rows]
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    out.write("  ".join(k.ljust(w) for k, w in zip(keys, widths)).rstrip() + "\n")
    for c in cells:
        out.write("  ".join(v.ljust(w) for v, w in zip(c, widths)).rstrip() + "\n")


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.10g}"
    return "" if value is None else str(value)


_TRACK_COLUMNS = (
    "name",
    "type_name",
    "dtype",
    "unit",
    "sample_rate",
    "gain",
    "offset",
    "records_count",
)


def cmd_list(args: argparse.Namespace) -> int:
    """``tracks`` and ``devices``: a table on a terminal, or JSON, or CSV."""

    def one(path: str, report: Reporter) -> None:
        from ..ops.selection import listing

        selection = dict(records=False, sections=(args.what,))
        plan_ = (
            _selects_all(args) and _raw_plan(path, args, report, **selection)
        ) or _read_selected(path, args, report, **selection)
        _, rows = listing(plan_)
        out = sys.stdout
        if args.format == "json":
            out.write(_json(rows, indent=1) + "\n")
        elif args.format == "csv":
            from ..writers.csv import write_listing

            out.flush()
            write_listing(plan_, sys.stdout.buffer)
        else:
            if args.what == "tracks":
                rows = [{k: r[k] for k in _TRACK_COLUMNS} for r in rows]
            _table(rows, out)
        out.flush()

    return _run(args, one)


# -- export ------------------------------------------------------------------------------------


def _sections(args: argparse.Namespace) -> tuple[tuple[str, ...], bool]:
    """The document's sections and whether records are written (the Go processor's modes)."""
    wanted = [
        s
        for s, flag in (
            ("file_info", args.info_only),
            ("devices", args.list_devices),
            ("tracks", args.list_tracks),
        )
        if flag
    ]
    if args.summary:
        return ("file_info", "devices", "tracks"), False
    if wanted:
        return tuple(wanted), False
    return ("file_info", "devices", "tracks"), True


def _outputs(args: argparse.Namespace, fmt: Any) -> list[str | None]:
    """One output path per input (None: stdout)."""
    out = args.output
    if out in (None, "-"):
        if len(args.files) > 1 and fmt.name != "text":
            raise UsageError(
                "several input files need -o DIR or -o NAME{stem}.EXT (or --format text)"
            )
        return [None] * len(args.files)
    if len(args.files) == 1 and "{stem}" not in out and not _is_folder(out):
        return [out]
    if "{stem}" in out:
        paths = [out.replace("{stem}", _stem(f)) for f in args.files]
    elif _is_folder(out):
        os.makedirs(out, exist_ok=True)
        paths = [os.path.join(out, _stem(f) + fmt.suffixes[0]) for f in args.files]
    else:
        raise UsageError(
            f"-o {out!r}: with several input files, give a directory or a name holding {{stem}}"
        )
    if len(set(paths)) != len(paths):
        raise UsageError("two input files would write the same output file")
    return paths


def _is_folder(path: str) -> bool:
    """An output naming a folder: an existing one, or a name ending with a separator."""
    return path.endswith(os.sep) or os.path.isdir(path)


def _stem(path: str) -> str:
    name = os.path.basename(path)
    return name[: -len(".vital")] if name.lower().endswith(".vital") else name


def _choose_format(args: argparse.Namespace, default: str) -> Any:
    from ..writers import registry

    if args.format:
        return registry.get(args.format)
    if (
        args.output not in (None, "-")
        and not _is_folder(args.output)
        and "{stem}" not in args.output
    ):
        found = registry.for_path(args.output)
        if found is None:
            raise UsageError(
                f"cannot tell the format from {args.output!r}: use --format "
                f"({', '.join(registry.NAMES)})"
            )
        return found
    if args.output and "{stem}" in args.output:
        found = registry.for_path(args.output.replace("{stem}", ""))
        if found is not None:
            return found
    return registry.get(default)


def _selects_all(args: argparse.Namespace) -> bool:
    """Whether the command line leaves every track and record selection flag at its
    default (``--max-samples`` aside)."""
    return all(
        getattr(args, dest) == default for dest, default in args.selecting if dest != "max_records"
    )


def _raw_plan(path: str, args: argparse.Namespace, report: Reporter, **selection: Any) -> Any:
    """For a command line that selects no track and no time window (``_selects_all``):
    the plan of every track over the reader's own buffers, so that a writer taking it
    (msgpack) runs without importing numpy (``writers/_raw.py``); None for a recording
    exported a group of tracks at a time (``_read_selected`` then makes the plan)."""
    from ..ops.selection import Selection, plan
    from ..writers._groups import needs_groups
    from ..writers._raw import raw_plan

    if needs_groups(path, (getattr(args, "max_memory", None) or 0) << 20):
        return None
    vf = _read(path, args)
    _report_read(report, path, vf)
    sel = Selection(**selection)
    return raw_plan(vf, sel, path) or plan(vf, sel, source=path)


def _preload(module: str) -> None:
    """Start importing ``module`` on a thread. numpy takes ~50 ms to import, mostly
    holding the GIL; inflating the file (~20 ms for an hour-long recording) releases it,
    so the two overlap instead of adding up. A failed import is left to the code that
    needs the module, which imports it again and reports the error."""
    if module in sys.modules:
        return
    import importlib
    import threading

    def load() -> None:
        try:
            importlib.import_module(module)
        except ImportError:
            pass

    threading.Thread(target=load, name=f"vitalproc-import-{module}", daemon=True).start()


def _lean_arrow() -> None:
    """Before pyarrow loads: its default allocator (mimalloc) keeps ~50 MB more resident
    than malloc while an export streams. The user's own setting wins."""
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")


def cmd_export(args: argparse.Namespace) -> int:
    _lean_arrow()
    fmt = _choose_format(args, "json")
    sections, records = _sections(args)
    if (
        fmt.name in ("csv", "parquet", "arrow")
        and not records
        and not args.summary
        and len(sections) > 1
    ):
        raise UsageError(
            f"{fmt.name} holds one table: choose one of --info-only, "
            f"--list-devices, --list-tracks or --summary"
        )
    outputs = dict(zip(args.files, _outputs(args, fmt)))
    if fmt.binary and outputs[args.files[0]] is None and sys.stdout.isatty():
        raise UsageError(
            f"{fmt.name} is binary: not writing it to a terminal (use -o PATH or a pipe)"
        )
    writer = fmt.load()
    if not writer.is_available():
        Reporter(args).error(
            None,
            f"the {fmt.name} format needs "
            f"{', '.join(writer.REQUIRES)}: pip install "
            f"'vitalproc[{writer.EXTRA}]'",
        )
        return EXIT_DATA
    options: dict[str, Any] = {}
    if fmt.name == "json":
        options["compact"] = args.compact
    elif fmt.name == "csv":
        options["wave_cells"] = args.wave_cells

    selection = dict(
        max_records=args.max_records,
        physical=args.physical,
        sections=sections,
        records=records,
        summary=args.summary,
    )
    raw = getattr(writer, "TAKES_RAW_PLAN", False) and _selects_all(args)
    if not raw:
        _preload("numpy")

    def one(path: str, report: Reporter) -> None:
        from .._files import atomic_file
        from ..writers._output import write_streamed

        plan_ = (raw and _raw_plan(path, args, report, **selection)) or _read_selected(
            path, args, report, **selection
        )
        plan_.release = True  # this recording is read for this export only
        dest = outputs[path]
        report.note(f"{path}: {len(plan_.parts)} tracks -> {dest or 'stdout'} ({fmt.name})")
        if dest is None:
            write_streamed(_stdout(), writer.write_plan, plan_, **options)
            return
        with atomic_file(dest, durable=False) as out:
            write_streamed(out, writer.write_plan, plan_, **options)

    return _run(args, one)


# -- grid ----------------------------------------------------------------------------------------


def cmd_grid(args: argparse.Namespace) -> int:
    """``vf.to_numpy(names, interval, return_timestamp=True)``, written as CSV or Parquet."""
    _lean_arrow()
    fmt = args.format or (
        "parquet" if args.output and args.output.lower().endswith((".parquet", ".pq")) else "csv"
    )

    def one(path: str, report: Reporter) -> None:
        from .._files import atomic_file
        from ..writers.grid import grid_table, write_grid

        plan_ = _read_selected(path, args, report, records=False)
        names = [p.name for p in plan_.parts]
        grid = plan_.vf.to_numpy(names, args.interval, return_timestamp=True)
        table = grid_table(plan_, names, grid, args.time)
        if args.output in (None, "-"):
            write_grid(table, fmt, _stdout())
        else:
            with atomic_file(args.output, durable=False) as out:
                write_grid(table, fmt, out)

    return _run(args, one)

"""The ``vitalproc`` command: parses arguments, calls the library, maps errors to exit codes.

Exit codes: 0 ok, 1 a data or format error (in any input file), 2 a usage error.
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
import warnings
from collections.abc import Sequence

from ._version import __version__

EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2


def _span(vf) -> dict:
    tz = datetime.timezone(datetime.timedelta(minutes=-vf.dgmt))

    def iso(t: float) -> str | None:
        try:
            return datetime.datetime.fromtimestamp(t, tz).isoformat()
        except (OverflowError, OSError, ValueError):
            return None

    return {"start": iso(vf.dtstart), "end": iso(vf.dtend), "dtstart": vf.dtstart,
            "dtend": vf.dtend, "duration_s": vf.dtend - vf.dtstart,
            "utc_offset_min": -vf.dgmt}


def info_dict(path: str, vf) -> dict:
    return {
        "file": path,
        **_span(vf),
        "packed": vf.packed,
        "devices": [{"name": d.name, "type": d.type, "port": d.port} for d in vf.devs.values()],
        "tracks": len(vf.trks),
        "records": sum(len(t) for t in vf.trks.values()),
        "warnings": [w.message for w in vf.warnings],
    }


def track_rows(vf) -> list[dict]:
    return [{"name": name, "type": t.type_name, "fmt": t.fmt, "unit": t.unit,
             "srate": t.srate, "gain": t.gain, "offset": t.offset, "records": len(t)}
            for name, t in vf.trks.items()]


def _print_info(d: dict) -> None:
    print(f"{d['file']}")
    print(f"  start     {d['start']}  ({d['dtstart']})")
    print(f"  end       {d['end']}  ({d['dtend']})")
    print(f"  duration  {d['duration_s']:.1f} s   UTC offset {d['utc_offset_min']:+d} min"
          f"   packed {d['packed']}")
    print(f"  devices   {', '.join(x['name'] for x in d['devices']) or '-'}")
    print(f"  tracks    {d['tracks']}   records {d['records']}")
    for w in d["warnings"]:
        print(f"  warning   {w}")


def _print_table(rows: list[dict]) -> None:
    if not rows:
        return
    keys = list(rows[0])
    widths = {k: max(len(k), *(len(str(r[k])) for r in rows)) for k in keys}
    print("  ".join(k.ljust(widths[k]) for k in keys))
    for r in rows:
        print("  ".join(str(r[k]).ljust(widths[k]) for k in keys))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vitalproc", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"vitalproc {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    info = sub.add_parser("info", help="file span, devices and counts")
    info.add_argument("files", nargs="+", metavar="FILE")
    info.add_argument("--json", action="store_true", help="one JSON object per file")
    for name, what in (("tracks", "the tracks"), ("devices", "the devices")):
        s = sub.add_parser(name, help=f"list {what} of a recording")
        s.add_argument("file", metavar="FILE")
        s.add_argument("--format", choices=("table", "json"), default="table")
    return p


def _read(path: str):
    from .reader import read

    return read(path)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .errors import VitalError, VitalWarning

    warnings.simplefilter("ignore", VitalWarning)  # reported from vf.warnings instead
    files = args.files if args.command == "info" else [args.file]
    status = EXIT_OK
    for path in files:
        try:
            vf = _read(path)
        except (OSError, VitalError) as exc:
            print(f"vitalproc: {path}: {exc}", file=sys.stderr)
            status = EXIT_DATA
            continue
        if args.command == "info":
            d = info_dict(path, vf)
            print(json.dumps(d)) if args.json else _print_info(d)
        else:
            rows = track_rows(vf) if args.command == "tracks" else [
                {"name": d.name, "type": d.type, "port": d.port} for d in vf.devs.values()]
            print(json.dumps(rows, indent=1)) if args.format == "json" else _print_table(rows)
    return status

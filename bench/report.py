"""Turn run.py's raw results into the project's target checks and docs/benchmarks.md."""

from __future__ import annotations

import operator
from typing import Any

from corpus import REAL_FILES

Report = dict[str, Any]

OPS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt}
MB = 1e6  # decimal megabytes, as design.md gives the corpus sizes
SYNTHETIC = ("icu_1h.vital", "or_4h.vital")
PACKED = "or_4h_packed.vital"


# ---- figures


def _row(report: Report, file: str, case: str) -> dict[str, Any]:
    """One measurement's raw result; empty when that case did not run on that file."""
    rows = (r for r in report["results"] if r["file"] == file and r["case"] == case)
    return next(rows, {})


def _median(report: Report, file: str, case: str) -> float | None:
    return _row(report, file, case).get("median_s")


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _speedup(report: Report, file: str, kind: str) -> float | None:
    """vitaldb's time over vitalproc's for one kind of read (full, tracks, header)."""
    return _ratio(
        _median(report, file, f"vitaldb_{kind}"),
        _median(report, file, f"vitalproc_{kind}"),
    )


def _over_floor(report: Report, file: str) -> float | None:
    """vitalproc's full read over the fastest inflate of the same file."""
    return _ratio(
        _median(report, file, "vitalproc_full"),
        _median(report, file, "inflate_libdeflate"),
    )


def _rss_over_inflated(report: Report, file: str) -> float | None:
    """vitalproc's peak RSS in a full read over the file's inflated size."""
    rss = _row(report, file, "vitalproc_full").get("peak_rss_bytes")
    return _ratio(rss, report["files"].get(file, {}).get("inflated_bytes"))


def _tracks_over_full(report: Report, file: str) -> float | None:
    """vitalproc's selective read over its full read of the same file."""
    return _ratio(
        _median(report, file, "vitalproc_tracks"),
        _median(report, file, "vitalproc_full"),
    )


def _full_speedup(report: Report, file: str) -> float | None:
    return _speedup(report, file, "full")


def _import_time(report: Report, file: str) -> float | None:
    return report["imports"].get("import vitalproc", {}).get("median_s")


# ---- targets

# (what, files, figure, comparison, limit). The inflate floor is judged where inflating
# dominates; on the real files (tens of kB) fixed per-call costs do, and their tables
# still show the ratio.
TARGETS = [
    ("vitalproc full / libdeflate inflate", SYNTHETIC, _over_floor, "<=", 1.3),
    ("vitaldb / vitalproc, full read", SYNTHETIC, _full_speedup, ">=", 8),
    ("vitaldb / vitalproc, full read", REAL_FILES, _full_speedup, ">=", 10),
    ("vitalproc peak RSS / inflated", ("or_4h.vital",), _rss_over_inflated, "<=", 1.5),
    ("vitalproc 3 numerics / full read", (PACKED,), _tracks_over_full, "<=", 0.10),
    ('`python -c "import vitalproc"`, s', ("",), _import_time, "<", 0.150),
]


def evaluate_targets(report: Report) -> list[dict[str, Any]]:
    """The project's speed and memory targets, each with the figure of this run."""
    results = []
    for what, files, figure, op, limit in TARGETS:
        for file in files:
            value = figure(report, file)
            met = None if value is None else OPS[op](value, limit)
            row = {"target": what, "file": file, "measured": value}
            results.append(row | {"op": op, "limit": limit, "met": met})
    return results


# ---- markdown


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _targets_table(targets: list[dict[str, Any]]) -> list[str]:
    lines = ["| target | file | measured | limit | status |", "|---|---|---:|---|---|"]
    for t in targets:
        status = {True: "met", False: "**not met**", None: "not measured"}[t["met"]]
        figure, limit = _fmt(t["measured"]), f"{t['op']} {t['limit']}"
        lines.append(f"| {t['target']} | {t['file']} | {figure} | {limit} | {status} |")
    return lines


def _case_row(r: dict[str, Any], floor: float | None) -> str:
    if "error" in r:
        return f"| {r['case']} | - | - | - | {r['error']} |"
    result = f"{r['out_bytes']} bytes" if "out_bytes" in r else f"{r['tracks']} tracks"
    ms = f"{r['median_s'] * 1e3:.4g}"
    rss = f"{r['peak_rss_bytes'] / MB:.0f} ({r['base_rss_bytes'] / MB:.0f})"
    ratio = _fmt(_ratio(r["median_s"], floor), 2)
    return f"| {r['case']} | {ms} | {rss} | {ratio} | {result} |"


def _file_section(report: Report, name: str, info: dict[str, Any]) -> list[str]:
    floor = _median(report, name, "inflate_libdeflate")
    sizes = f"{info['bytes'] / MB:.3f} MB on disk, {info['inflated_bytes'] / MB:.3f} MB"
    tracks = ", ".join(f"`{t}`" for t in info["tracks"])
    speedups = ", ".join(
        f"{kind} {_fmt(_speedup(report, name, kind), 1)}x"
        for kind in ("full", "tracks", "header")
    )
    return [
        f"### {name}",
        "",
        f"{sizes} inflated; the track cases read {tracks}.",
        "",
        "| case | median ms | peak RSS MB | x libdeflate | result |",
        "|---|---:|---:|---:|---|",
        *(_case_row(r, floor) for r in report["results"] if r["file"] == name),
        "",
        f"vitaldb / vitalproc: {speedups}.",
        "",
    ]


def _imports_table(imports: dict[str, Any]) -> list[str]:
    if not imports:
        return ["Not run."]
    lines = ["| command | median ms |", "|---|---:|"]
    for code, r in imports.items():
        shown = f"{r['median_s'] * 1e3:.0f}" if "median_s" in r else r["error"]
        lines.append(f'| `python -c "{code}"` | {shown} |')
    return lines


def _header(report: Report) -> list[str]:
    m = report["machine"]
    method = (
        f"Written by `{report['command']}` on {report['date']}. Each figure is the"
        f" median of {report['reps']} timed repetitions after {report['warmup']}"
        " warm-up call(s), each case in a fresh child process (interpreter start and"
        " imports not counted; peak RSS of that child, and in brackets its RSS before"
        " the first call). `bench/README.md` says what each case means. The machines"
        " are shared and noisy: the ratios are what count. Raw figures:"
        " `benchmarks.json`."
    )
    lines = ["# Benchmarks", "", method, ""]
    if report["vitalproc_missing"]:
        why = report["vitalproc_missing"]
        lines += [f"**vitalproc could not be imported** (`{why}`): cases skipped.", ""]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    return [
        *lines,
        "## Machine",
        "",
        f"- CPU: {m['cpu']}, {m['cores']} cores; RAM {m['ram_gib']} GiB",
        f"- {versions}",
        "",
    ]


def render_markdown(report: Report) -> str:
    lines = _header(report)
    lines += ["## Targets", "", *_targets_table(report["targets"]), ""]
    lines += ["## Per file", ""]
    for name, info in report["files"].items():
        lines += _file_section(report, name, info)
    lines += ["## Import time", "", "A fresh interpreter's wall time, one line run."]
    lines += ["", *_imports_table(report["imports"]), ""]
    return "\n".join(lines)

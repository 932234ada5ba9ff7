"""Run the benchmark cases on the standard corpus; write docs/benchmarks.{md,json}.

    python bench/run.py            # everything: tens of minutes (+1 min to make or_4h)
    python bench/run.py --quick    # 2 repetitions, no or_4h: a few minutes
    python bench/run.py --cases 'vitaldb_*,inflate_*' --files icu_1h --reps 3
    python bench/run.py --big      # and the 24-hour recording's exports (+2 min to make it)

Every measurement runs in a child process of its own (cases.py). If vitalproc cannot
be imported yet, its cases are reported as skipped and everything else still runs.
"""

from __future__ import annotations

import argparse
import datetime
import fnmatch
import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from cases import CASES, run_case, startup_time, vitalproc_missing
from corpus import BIG, REPO, CorpusFile, corpus_files, ensure, inflated_size
from report import evaluate_targets, render_markdown

# Case (g); `pass` measures the interpreter's own start, for scale.
IMPORTS = ("pass", "import vitaldb", "import vitalproc")
SKIPPED = "skipped: vitalproc not importable"
# On the 24-hour recording: the exports whose peak RSS is bounded, timed once each
# (a call takes tens of seconds, and memory, not time, is what is judged).
BIG_CASES = ("cli_export_parquet", "cli_export_json")


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 repetitions, no or_4h")
    ap.add_argument(
        "--big",
        action="store_true",
        help="also export the 24-hour recording (bounded memory)",
    )
    ap.add_argument("--reps", type=int, help="timed repetitions (default 5; quick 2)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed calls first")
    ap.add_argument("--cases", default="*", help="globs over case names, or 'import'")
    ap.add_argument("--files", default="*", help="globs over corpus file names")
    ap.add_argument("--out", type=Path, default=REPO / "docs", help="output folder")
    a = ap.parse_args()
    a.reps = a.reps or (2 if a.quick else 5)
    return a


def matches(name: str, patterns: str) -> bool:
    """Whether a name (with or without its suffix) fits comma-separated globs."""
    names = (name, Path(name).stem)
    return any(fnmatch.fnmatch(n, p.strip()) for n in names for p in patterns.split(","))


def machine() -> dict[str, Any]:
    """CPU model, cores, RAM and the versions that decide the figures."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    models = [line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line]
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem_kib = next(int(line.split()[1]) for line in meminfo if "MemTotal" in line)
    versions = {"python": platform.python_version()}
    for dist in ("numpy", "isal", "deflate", "vitaldb", "vitalproc"):
        try:  # metadata, not import: a half-written vitalproc must not stop the run
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    cpu = models[0] if models else "unknown"
    ram_gib = round(mem_kib / 2**20, 1)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": ram_gib,
        "versions": versions,
    }


def describe(f: CorpusFile) -> dict[str, Any]:
    """What the report says about one input file."""
    return {
        "path": str(f.path),
        "bytes": f.path.stat().st_size,
        "inflated_bytes": inflated_size(f.path),
        "tracks": list(f.tracks),
    }


def run_files(files: list[CorpusFile], a: argparse.Namespace, skip: bool) -> list[dict]:
    """Every selected case on every file, in cases.py's order; progress to stderr."""
    results = []
    for f in files:
        big = f.name in BIG
        for name in filter(lambda n: matches(n, a.cases), CASES):
            if big and name not in BIG_CASES:
                continue
            row = {"file": f.name, "case": name}
            if skip and name.startswith("vitalproc"):
                row["error"] = SKIPPED
            else:
                row |= run_case(
                    name, f.path, f.tracks, 1 if big else a.reps, 0 if big else a.warmup
                )
            results.append(row)
            ms, mb = row.get("median_s", 0) * 1e3, row.get("peak_rss_bytes", 0) / 1e6
            shown = row.get("error") or f"{ms:10.4g} ms {mb:6.0f} MB"
            print(f"{f.name:28} {name:32} {shown}", file=sys.stderr, flush=True)
    return results


def run_imports(a: argparse.Namespace, skip: bool) -> dict[str, Any]:
    """Case (g): a fresh interpreter's start plus one import."""
    if not matches("import", a.cases):
        return {}
    out = {}
    for code in IMPORTS:
        if skip and "vitalproc" in code:
            out[code] = {"error": SKIPPED}
        else:
            out[code] = startup_time(code, runs=3 if a.quick else 7)
        shown = out[code].get("error") or f"{out[code]['median_s'] * 1e3:.0f} ms"
        print(f"python -c {code!r:37} {shown}", file=sys.stderr, flush=True)
    return out


def main() -> None:
    a = parse_args()
    files = [f for f in corpus_files(a.quick, a.big) if matches(f.name, a.files)]
    for f in files:
        ensure(f)
    missing = vitalproc_missing()
    report = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join(["python bench/run.py", *sys.argv[1:]]),
        "reps": a.reps,
        "warmup": a.warmup,
        "machine": machine(),
        "vitalproc_missing": missing,
        "files": {f.name: describe(f) for f in files},
        "results": run_files(files, a, skip=missing is not None),
        "imports": run_imports(a, skip=missing is not None),
    }
    report["targets"] = evaluate_targets(report)
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "benchmarks.json").write_text(json.dumps(report, indent=1) + "\n")
    (a.out / "benchmarks.md").write_text(render_markdown(report))
    print(f"wrote {a.out}/benchmarks.md and benchmarks.json", file=sys.stderr)


if __name__ == "__main__":
    main()

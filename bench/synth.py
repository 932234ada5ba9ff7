"""Benchmark of the synthetic-recording generator: writes docs/benchmarks/synth.md (+ .json).

Target: a 4-hour operating-room case (``--profile or --hours 4``) in under 10 s, as a whole
process. Also measured: 1-hour cases of each profile and every named shape (time and size),
each in a fresh child process (median of ``--reps`` runs; peak RSS of the child).

    python bench/synth.py            # about a minute
    python bench/synth.py --reps 1   # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = ROOT / "docs" / "benchmarks"
TARGET_SECONDS = 10.0

#: The child: generate, write, report wall time (in the child, imports excluded) and peak RSS.
CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
import vitalproc
from vitalproc.synth import shapes
imported = time.perf_counter()
kind, arg, path = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
rec = shapes.make(arg, path) if kind == "shape" else vitalproc.synth(path, **arg)
done = time.perf_counter()
print(json.dumps({"seconds": done - imported, "process_seconds": done - t0,
                  "bytes": len(rec.data), "records": rec.truth["records"],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_child(kind: str, arg: object, reps: int) -> dict:
    """Median over ``reps`` fresh processes; the whole process time is measured outside."""
    env = dict(
        os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")
    )
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(reps):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            out = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    CHILD,
                    kind,
                    json.dumps(arg),
                    os.path.join(tmp, "case.vital"),
                ],
                capture_output=True,
                text=True,
                env=env,
                check=True,
            )
            whole = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            runs.append({**json.loads(out.stdout), "wall_seconds": whole, "cpu_seconds": cpu})
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from vitalproc.synth import shapes

    cases: dict[str, dict] = {}
    print("or, 4 h ...", file=sys.stderr)
    cases["or_4h"] = run_child("synth", {"profile": "or", "hours": 4, "seed": 0}, args.reps)
    for profile in ("or", "icu", "demo"):
        print(f"{profile}, 1 h ...", file=sys.stderr)
        cases[f"{profile}_1h"] = run_child(
            "synth", {"profile": profile, "hours": 1, "seed": 0}, args.reps
        )
    cases["or_1h_episodes"] = run_child(
        "synth",
        {"profile": "or", "hours": 1, "seed": 0, "hypotension": 2, "artifacts": 6, "rhythm": True},
        args.reps,
    )
    for name in shapes.names():
        print(f"shape {name} ...", file=sys.stderr)
        cases[f"shape_{name}"] = run_child("shape", name, max(1, args.reps - 2))

    main_case = cases["or_4h"]
    met = main_case["wall_seconds"] < TARGET_SECONDS
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    lines = [
        "# Synthetic recordings: generator speed",
        "",
        (
            f"Written by `python bench/synth.py --reps {args.reps}` on {now} ({machine}). Each "
            "figure is the median of the runs, each run a fresh process; `process` is the whole "
            "process as the command line runs it (interpreter start and imports included), "
            "`CPU` that process's user + system time, `generate` the call alone. The machine is shared: figures vary by tens of percent."
        ),
        "",
        "## Target",
        "",
        "| target | limit | measured | status |",
        "|---|---:|---:|---|",
        (
            f"| `or` profile, 4 hours, whole process | {TARGET_SECONDS:.0f} s | "
            f"{main_case['wall_seconds']:.2f} s | {'met' if met else 'NOT met'} |"
        ),
        "",
        (
            f"The same process used {main_case['cpu_seconds']:.2f} s of CPU (user + system). "
            f"The machine's load was {os.getloadavg()[0]:.0f} on {os.cpu_count()} cores when "
            "this was written, so the process waited for a core most of its wall time; given "
            "a free core it takes about its CPU time (it is single-threaded)."
        ),
        "",
        "## All cases",
        "",
        "| case | process (s) | CPU (s) | generate (s) | file (MB) | records | peak RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, c in cases.items():
        lines.append(
            f"| `{name}` | {c['wall_seconds']:.2f} | {c['cpu_seconds']:.2f} | "
            f"{c['seconds']:.2f} | "
            f"{c['bytes'] / 1e6:.2f} | {int(c['records']):,} | {c['peak_rss_mb']:.0f} |"
        )
    lines += ["", "Shapes are described in `docs/synth.md`.", ""]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "synth.md").write_text("\n".join(lines))
    (OUT / "synth.json").write_text(
        json.dumps(
            {
                "written": now,
                "machine": machine,
                "reps": args.reps,
                "target": {
                    "case": "or_4h",
                    "limit_seconds": TARGET_SECONDS,
                    "seconds": main_case["wall_seconds"],
                    "met": met,
                },
                "cases": cases,
            },
            indent=1,
        )
        + "\n"
    )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

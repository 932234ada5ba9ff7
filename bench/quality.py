"""Signal quality benchmarks: writes docs/benchmarks/quality.md and quality.json.

    python bench/quality.py                 # the 4-hour targets and the 200-case run
    python bench/quality.py --big           # also one worker's peak RSS on 24 hours
    python bench/quality.py --reps 5 --cases 200

Targets (each measured in a fresh child process, medians of --reps after a warm-up):

- qc of or_4h from the .vital file (read included) at most 2.5x a full read of it;
- qc of or_4h from a converted dataset at most 2x that full read;
- 200 generated cases (a converted dataset) through qc then cohort: two workers at
  least 1.8x one;
- one worker's peak RSS on or_24h below 400 MB (--big).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO / "src"))

import corpus

OUT = REPO / "docs" / "benchmarks"


# ---- children: one measurement each ------------------------------------------------------


def _timed(call, reps: int) -> list[float]:
    call()  # warm-up (and the page cache)
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


def child(name: str, path: str, reps: int) -> dict:
    import resource

    import vitalproc
    from vitalproc.quality.runner import CaseTask, qc_case

    if name == "read":
        times = _timed(lambda: vitalproc.read(path), reps)
    elif name in ("qc_case", "qc_case_1thread"):
        task = CaseTask(path, "case", threads=1 if name.endswith("1thread") else 2)

        def call():
            result = qc_case(task)
            assert result.status == "ok", result.error

        times = _timed(call, reps)
    elif name == "qc_rss":  # one worker's work, once, no warm-up: its peak is the figure
        start = time.perf_counter()
        result = qc_case(CaseTask(path, "case", threads=1))
        assert result.status == "ok", result.error
        times = [time.perf_counter() - start]
    else:
        raise SystemExit(f"unknown child {name}")
    return {
        "times": times,
        "median": statistics.median(times),
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def run_child(name: str, path: Path, reps: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    out = subprocess.run(
        [sys.executable, __file__, "--child", name, str(path), "--reps", str(reps)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        raise SystemExit(f"{name} failed: {out.stderr.strip().splitlines()[-1:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---- the 200-case dataset ----------------------------------------------------------------


def make_cases(folder: Path, count: int, distinct: int = 20, minutes: int = 5) -> None:
    """``count`` recordings (``distinct`` different ones, hard-linked): three 500 Hz waves
    and three numerics of ``minutes`` each, some with a gap or a flat stretch."""
    import numpy as np

    import vitalproc

    folder.mkdir(parents=True, exist_ok=True)
    originals = []
    rng = np.random.default_rng(7)
    for k in range(distinct):
        vf = vitalproc.VitalFile.blank()
        n = minutes * 60 * 500
        t = np.arange(n) / 500.0
        beat = (t * (1 + 0.3 * rng.random())) % 1.0
        art = 80 + 40 * np.exp(-beat / 0.3) + rng.normal(0, 1, n)
        if k % 3 == 0:  # a flat stretch
            art[20000:40000] = art[20000]
        step = 500  # one-second records
        keep = np.ones(n // step, bool)
        if k % 4 == 0:  # a gap
            keep[100:160] = False
        starts = 1_700_000_000.0 + np.arange(n // step)[keep]
        for name, signal in (
            ("ART", art),
            ("PLETH", 50 - art / 2),
            ("ECG_II", 0.1 * np.sin(2 * np.pi * t)),
        ):
            samples = signal.reshape(-1, step)[keep].astype(np.float32)
            vf.add_track(f"SNUADC/{name}", dt=starts, samples=samples, srate=500.0)
        times = 1_700_000_000.0 + np.arange(0, minutes * 60, 2.0)
        for name, value in (("HR", 70), ("SPO2", 98), ("BIS", 45)):
            vf.add_track(f"Solar8000/{name}", dt=times, values=value + rng.normal(0, 1, len(times)))
        path = folder / f"g{k:02d}.vital"
        vf.to_vital(str(path), compresslevel=1)
        originals.append(path)
    for i in range(count):
        os.link(originals[i % distinct], folder / f"case{i:03d}.vital")
    for path in originals:
        path.unlink()


RULES = """title = "Generated cohort"
clinical = "clinical.csv"
[tracks]
ART = ["SNUADC/ART", "SNUADC/FEM"]
[[rule]]
name = "Adults"
require = "age >= 18"
[[rule]]
name = "Arterial pressure recorded"
require = "ART present"
[[rule]]
name = "No flat arterial pressure"
require = "ART flatline < 0.01"
[[rule]]
name = "Arterial pressure covers the case"
require = "ART coverage >= 0.95"
"""


def pool_run(count: int, reps: int, work: Path) -> dict:
    import vitalproc

    raw, ds = work / "vital", work / "ds"
    make_cases(raw, count)
    vitalproc.convert([str(raw)], str(ds), jobs=2, progress=False)
    ages = [(i * 37) % 90 for i in range(count)]
    (work / "clinical.csv").write_text(
        "caseid,age\n" + "".join(f"case{i:03d},{a}\n" for i, a in enumerate(ages))
    )
    (work / "rules.toml").write_text(RULES)
    result = {}
    for jobs in (1, 2):
        times = []
        for rep in range(reps + 1):
            (ds / "_qc.parquet").unlink(missing_ok=True)  # measured afresh, not resumed
            start = time.perf_counter()
            report = vitalproc.qc([str(ds)], jobs=jobs, progress=False)
            flow = vitalproc.cohort(
                work / "rules.toml", work / f"cohort{jobs}", qc=str(ds), figure=False
            )
            elapsed = time.perf_counter() - start
            assert report.ok and flow.start == count
            if rep:  # the first is a warm-up
                times.append(elapsed)
        result[jobs] = {
            "times": times,
            "median": statistics.median(times),
            "included": len(flow.included),
        }
    vitalproc.cohort(work / "rules.toml", OUT / "quality-flow", qc=str(ds))
    for name in ("cases.csv", "excluded.csv"):  # the case lists are not documentation
        (OUT / "quality-flow" / name).unlink()
    return result


# ---- the report --------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--cases", type=int, default=200)
    ap.add_argument("--big", action="store_true", help="also the 24-hour recording")
    ap.add_argument(
        "--add-big",
        action="store_true",
        help="only the 24-hour measurement, added to the last run's report",
    )
    ap.add_argument("--child", nargs=2, metavar=("NAME", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], args.reps)))
        return
    files = {f.name: f for f in corpus.corpus_files(big=args.big or args.add_big)}
    if args.add_big:
        figures = json.loads((OUT / "quality.json").read_text())
        figures["pool"] = {int(k): v for k, v in figures["pool"].items()}
        big = files["or_24h.vital"]
        if not big.path.exists():
            corpus.ensure(big)
        figures["rss_24h"] = run_child("qc_rss", big.path, 1)
        figures["command"] += " (then --add-big)"
        write_report(figures)
        return
    or4 = files["or_4h.vital"]
    if not or4.path.exists():  # (made by the shared tool beside the repository)
        corpus.ensure(or4)
    OUT.mkdir(parents=True, exist_ok=True)
    figures: dict = {"command": " ".join(sys.argv[1:]), "reps": args.reps, "cases": args.cases}
    with tempfile.TemporaryDirectory(prefix="vitalproc-quality-") as tmp:
        work = Path(tmp)
        import vitalproc

        ds = work / "or_ds"
        vitalproc.convert([str(or4.path)], str(ds), jobs=1, progress=False)
        case = ds / "or_4h.parquet"
        for name, path in (
            ("read", or4.path),
            ("qc_case", or4.path),
            ("qc_case_1thread", or4.path),
            ("qc_dataset", case),
            ("qc_dataset_1thread", case),
        ):
            child_name = name.replace("qc_dataset", "qc_case")
            figures[name] = run_child(child_name, path, args.reps)
            print(f"{name}: {figures[name]['median']:.3f} s", file=sys.stderr)
        figures["pool"] = pool_run(args.cases, max(1, args.reps - 2), work / "pool")
        print(f"pool: {figures['pool']}", file=sys.stderr)
        if args.big:
            big = files["or_24h.vital"]
            if not big.path.exists():
                corpus.ensure(big)
            figures["rss_24h"] = run_child("qc_rss", big.path, 1)
            print(f"rss_24h: {figures['rss_24h']}", file=sys.stderr)
    figures["load_average"] = os.getloadavg()
    write_report(figures)


def _status(ok: bool) -> str:
    return "met" if ok else "not met"


def write_report(f: dict) -> None:
    read = f["read"]["median"]
    qc_vital = f["qc_case"]["median"] / read
    qc_ds = f["qc_dataset"]["median"] / read
    pool = f["pool"]
    speedup = pool[1]["median"] / pool[2]["median"]
    targets = [
        (
            "qc of or_4h from the .vital file, read included",
            f"{qc_vital:.2f}x a full read",
            "<= 2.5x",
            qc_vital <= 2.5,
        ),
        (
            "qc of or_4h from a converted dataset",
            f"{qc_ds:.2f}x the full read",
            "<= 2x",
            qc_ds <= 2.0,
        ),
        (
            f"{f['cases']} generated cases through qc then cohort",
            f"two workers {speedup:.2f}x one",
            ">= 1.8x",
            speedup >= 1.8,
        ),
    ]
    if "rss_24h" in f:
        rss = f["rss_24h"]["peak_rss"] / 2**20
        targets.append(
            ("one worker's peak RSS, qc of or_24h", f"{rss:.0f} MB", "< 400 MB", rss < 400)
        )
    lines = [
        "## Signal quality (`bench/quality.py`)",
        "",
        (
            f"Command: `python bench/quality.py {f['command']}`; medians of {f['reps']} "
            "repetitions after a warm-up, each measurement in a fresh process. The machine "
            "has 2 cores shared with other work: ratios within one run are what count. "
            f"Load average at the end of the run: {f.get('load_average', ['?'])[0]}"
            " (on 2 cores: the two-worker figure cannot show a speed-up the machine does "
            "not have to give)."
        ),
        "",
        "| target | measured | limit | status |",
        "|---|---|---|---|",
        *[f"| {what} | {got} | {limit} | {_status(ok)} |" for what, got, limit, ok in targets],
        "",
        "| measurement | median (s) | peak RSS (MB) |",
        "|---|---:|---:|",
    ]
    labels = {
        "read": "`vitalproc.read(or_4h)`: the full read",
        "qc_case": "qc of or_4h from the .vital file (one worker's work: read + "
        "every metric, tracks on 2 threads)",
        "qc_case_1thread": "the same, tracks on 1 thread",
        "qc_dataset": "qc of or_4h from the converted dataset (2 threads)",
        "qc_dataset_1thread": "the same, 1 thread",
    }
    for key, label in labels.items():
        lines.append(f"| {label} | {f[key]['median']:.3f} | {f[key]['peak_rss'] / 2**20:.0f} |")
    for jobs in (1, 2):
        lines.append(
            f"| {f['cases']} cases, qc + cohort, {jobs} worker{'s' * (jobs > 1)} "
            f"({pool[jobs]['included']} included) | {pool[jobs]['median']:.2f} | |"
        )
    if "rss_24h" in f:
        lines.append(
            f"| qc of or_24h in one process (peak is the figure) | "
            f"{f['rss_24h']['median']:.1f} | {f['rss_24h']['peak_rss'] / 2**20:.0f} |"
        )
    else:
        lines.append("| qc of or_24h | not run (`--big`) | |")
    lines += [
        "",
        (
            f"The {f['cases']} cases are 20 generated 5-minute recordings (three "
            "500 Hz waves, three numerics, some with a gap or a flat stretch) "
            "hard-linked over and over and converted into a dataset; qc reads them "
            "from the dataset, and each timing starts without a `_qc.parquet` "
            "(nothing resumed), then runs the cohort. Its flow diagram: "
            "`docs/benchmarks/quality-flow/flow.png`."
        ),
        "",
    ]
    (OUT / "quality.md").write_text("\n".join(lines))
    (OUT / "quality.json").write_text(
        json.dumps(
            {
                **f,
                "targets": [
                    {"what": w, "measured": g, "limit": lim, "met": ok} for w, g, lim, ok in targets
                ],
            },
            indent=2,
            default=str,
        )
        + "\n"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()

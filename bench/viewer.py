"""Benchmark of the plots and the web viewer on or_4h (4 hours, 70 tracks, 46.8 M samples).

    python bench/viewer.py [--reps 3]

Writes docs/benchmarks/viewer.md and docs/benchmarks/viewer.json. Targets:

- ``vitalproc plot or_4h.vital -o x.png``, all tracks, end to end (a whole process,
  read included): under 2 s.
- The viewer's first view of or_4h, after the server has read the file: under 1 s
  (navigation start to lanes drawn, in headless Chromium, plus nothing else: the
  server prepared the case before printing its URL; that preparation is reported).
- A zoom or pan answered in under 100 ms at any level (``/api/view`` round trips over
  HTTP, every lane, 1,400 columns, spans from the whole case to 2 s).
- From a converted dataset, first view under 0.5 s: opening a case not yet open
  (reading its Parquet, summaries, the page) plus the page load.
- The HTML snapshot of or_4h under 5 MB.

Wall-clock figures on a shared machine move with its load: each is the median of
``--reps`` runs, and the CPU time of the measured process is given beside it.
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
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
import corpus

OUT = REPO / "docs" / "benchmarks"
CHROMIUM = "/usr/bin/chromium"


def child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def bench_plot(path: Path, reps: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    walls, cpus = [], []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "case.png"
        for k in range(reps + 1):
            cpu0, t0 = child_cpu(), time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "vitalproc", "plot", str(path), "-o", str(out)],
                check=True,
                env=env,
            )
            wall, cpu = time.perf_counter() - t0, child_cpu() - cpu0
            if k:  # the first run warms the page cache
                walls.append(wall)
                cpus.append(cpu)
        size = out.stat().st_size
    return {
        "wall": statistics.median(walls),
        "cpu": statistics.median(cpus),
        "walls": walls,
        "png_bytes": size,
    }


def bench_snapshot(path: Path) -> dict:
    import vitalproc
    from vitalproc.viewer.snapshot import write_html

    vf = vitalproc.read(path)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        size = write_html(vf, Path(tmp) / "case.html")
        return {"bytes": size, "seconds": time.perf_counter() - t0}


def page_load(browser, url: str) -> dict:
    page = browser.new_page(viewport={"width": 1500, "height": 950})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_function("window.VitalViewer && VitalViewer.state.ready", timeout=60_000)
    page.evaluate("VitalViewer.whenIdle()")
    # Two animation frames: Bokeh has drawn what init gave it.
    ready = page.evaluate("""() => new Promise((done) => requestAnimationFrame(() =>
        requestAnimationFrame(() => done(performance.now()))))""")
    times = page.evaluate("VitalViewer.state.times")
    page.close()
    return {
        "drawn_ms": ready,
        "init_ms": times["init"],
        "ready_ms": times["ready"],
        "errors": errors,
    }


def api_times(
    url: str,
    spans: list[tuple[str, float]],
    start: float,
    reps: int,
    lanes: int,
    case: str | None = None,
) -> list[dict]:
    rows = []
    for label, seconds in spans:
        walls: list[float] = []
        cpus: list[float] = []
        for k in range(reps + 2):
            # Pans: each repetition a different place in the case (and never the same
            # query twice: the server keeps its last answers).
            a = start + k + (k * 997.0) % max(1.0, 14400 - seconds) * 1000
            q = f"api/view?start={a}&end={a + seconds * 1000}&px=1400"
            if case:
                q += f"&case={case}"
            t0 = time.perf_counter()
            with urllib.request.urlopen(url + q) as r:
                body = r.read()
                timing = dict(
                    part.strip().split(";dur=") for part in r.headers["Server-Timing"].split(",")
                )
            if k >= 2:
                walls.append(time.perf_counter() - t0)
                cpus.append(float(timing["cpu"]))
        rows.append(
            {
                "span": label,
                "ms": 1000 * statistics.median(walls),
                "max_ms": 1000 * max(walls),
                "cpu_ms": statistics.median(cpus),
                "bytes": len(body),
                "lanes": lanes,
            }
        )
    return rows


SPANS = [
    ("4 h (whole case)", 14400.0),
    ("1 h", 3600.0),
    ("10 min", 600.0),
    ("1 min", 60.0),
    ("10 s", 10.0),
    ("2 s", 2.0),
]


def bench_viewer(path: Path, dataset: Path, reps: int) -> dict:
    from playwright.sync_api import sync_playwright

    from vitalproc.viewer.server import Viewer

    out: dict = {}
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    viewer = Viewer(path).start()
    out["prepare_s"] = viewer.prepare_seconds
    out["start_s"] = time.perf_counter() - t0
    out["start_cpu_s"] = time.process_time() - cpu0
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        loads = [page_load(browser, viewer.url) for _ in range(reps + 1)][1:]
        out["first_view_ms"] = statistics.median(x["drawn_ms"] for x in loads)
        out["first_view_runs"] = loads
        info = json.loads(urllib.request.urlopen(viewer.url + "api/tracks").read())
        out["api"] = api_times(viewer.url, SPANS, info["start"], reps, len(info["lanes"]))
        viewer.stop()

        # A dataset: opening a case (Parquet read, summaries, page), then its page load.
        ds_view = Viewer(dataset).start()
        case = ds_view.recording.cases[0]
        opens = []
        for _ in range(reps):
            ds_view.recording._scenes.clear()  # as if the case was never opened
            t0 = time.perf_counter()
            ds_view.recording.open(case)
            opens.append(time.perf_counter() - t0)
        loads = [page_load(browser, ds_view.url + f"?case={case}") for _ in range(reps + 1)][1:]
        out["dataset_open_s"] = statistics.median(opens)
        out["dataset_page_ms"] = statistics.median(x["drawn_ms"] for x in loads)
        info = json.loads(urllib.request.urlopen(ds_view.url + f"api/tracks?case={case}").read())
        out["dataset_api"] = api_times(
            ds_view.url, SPANS[:1] + SPANS[-1:], info["start"], reps, len(info["lanes"]), case
        )
        ds_view.stop()
        browser.close()
    return out


def ensure_dataset(path: Path) -> Path:
    import vitalproc

    ds = path.parent / "viewer_ds"
    vitalproc.convert([str(path)], str(ds), jobs=1, progress=False)
    return ds


def write(results: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "viewer.json").write_text(json.dumps(results, indent=1) + "\n")
    p, v, s = results["plot"], results["viewer"], results["snapshot"]
    worst = max(r["ms"] for r in v["api"])
    ds_first = v["dataset_open_s"] * 1000 + v["dataset_page_ms"]

    def met(ok: bool) -> str:
        return "met" if ok else "**not met**"

    lines = [
        "# Plots and the web viewer",
        "",
        (
            f"`python bench/viewer.py --reps {results['reps']}` on `or_4h.vital` (4 hours, "
            "70 tracks: 9 waves with 46.8 M samples, 60 numerics, an event track), "
            f"{results['machine']}; load average at the start {results['load']}. "
            "Medians of the repetitions; wall-clock figures on this shared machine move with "
            "its load, so CPU time is given where it is the measured process's own."
        ),
        "",
        "| target | measured | limit | status |",
        "|---|---|---|---|",
        (
            f"| `vitalproc plot or_4h.vital -o case.png`, whole process | {p['wall']:.2f} s wall "
            f"({p['cpu']:.2f} s CPU) | 2 s | {met(p['wall'] < 2)} |"
        ),
        (
            f"| viewer, first view of or_4h after the server read it (navigation to lanes "
            f"drawn) | {v['first_view_ms']:.0f} ms | 1000 ms | {met(v['first_view_ms'] < 1000)} |"
        ),
        (
            f"| zoom or pan answered, any level (slowest median below) | {worst:.0f} ms | "
            f"100 ms | {met(worst < 100)} |"
        ),
        (
            f"| from a converted dataset, first view (case opened + page) | {ds_first:.0f} ms "
            f"({v['dataset_open_s'] * 1000:.0f} + {v['dataset_page_ms']:.0f}) | 500 ms | "
            f"{met(ds_first < 500)} |"
        ),
        (
            f"| HTML snapshot of or_4h | {s['bytes'] / 1e6:.2f} MB | 5 MB | "
            f"{met(s['bytes'] < 5e6)} |"
        ),
        "",
        (
            "Range queries (`/api/view`, all 70 lanes, 1,400 columns, over HTTP; each "
            "repetition at another place in the case):"
        ),
        "",
        "| span | median (wall) | slowest | server CPU (median) | reply |",
        "|---|---|---|---|---|",
    ]
    for r in v["api"]:
        lines.append(
            f"| {r['span']} | {r['ms']:.1f} ms | {r['max_ms']:.1f} ms | "
            f"{r['cpu_ms']:.1f} ms | {r['bytes'] / 1e3:.0f} kB |"
        )
    for r in v["dataset_api"]:
        lines.append(
            f"| {r['span']}, from the dataset | {r['ms']:.1f} ms | "
            f"{r['max_ms']:.1f} ms | {r['cpu_ms']:.1f} ms | {r['bytes'] / 1e3:.0f} kB |"
        )
    lines += [
        "",
        (
            f"The viewer's start on or_4h (read, the record summaries of every track, the "
            f"page with its 1,600-column overview; once, before the URL is printed): "
            f"{v['prepare_s']:.2f} s wall, {v['start_cpu_s']:.2f} s CPU (including the "
            f"import of Bokeh). The snapshot took {s['seconds']:.2f} s to write. The PNG of "
            f"or_4h is {p['png_bytes'] / 1e6:.2f} MB (1,600 x 2,730 pixels)."
        ),
        "",
    ]
    (OUT / "viewer.md").write_text("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    sys.path.insert(0, str(REPO / "src"))
    if not (corpus.SHARED / "tools").is_dir():
        # A worktree sits one folder deeper than a clone: shared/ is beside its parent.
        corpus.SHARED = Path(os.environ.get("VITALPROC_SHARED") or REPO.parent.parent / "shared")
    f = next(c for c in corpus.corpus_files() if c.name == "or_4h.vital")
    corpus.ensure(f)
    load = os.getloadavg()[0]
    results = {
        "reps": args.reps,
        "load": round(load, 2),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
    }
    results["plot"] = bench_plot(f.path, args.reps)
    results["snapshot"] = bench_snapshot(f.path)
    dataset = ensure_dataset(f.path)
    results["viewer"] = bench_viewer(f.path, dataset, args.reps)
    write(results)
    print((OUT / "viewer.md").read_text())


if __name__ == "__main__":
    main()

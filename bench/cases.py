"""The measured cases, and the child process that times one of them.

Each case function does its imports and set-up, then returns the call to time, so that
interpreter start, imports and (for the inflate floor) reading the file stay outside
the figure. The parent runs every measurement in a fresh interpreter:

    python bench/cases.py CASE FILE [--tracks A,B,C] [--reps N] [--warmup N]

which prints one JSON line: the times, their median and the peak RSS of the child,
which is the peak of this one measurement because nothing else ran there.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Setup = Callable[[str, list[str]], Callable[[], Any]]

# name -> set-up function. Registration order is the order of every run: the inflate
# floor first, then each vitaldb case followed by its vitalproc counterpart.
CASES: dict[str, Setup] = {}
# A repetition of a very short call (the real files read in about a millisecond) repeats
# the call until it lasts this long, so clock resolution and jitter do not dominate.
MIN_REP_SECONDS = 0.05
CHILD_TIMEOUT = 1800


def case(setup: Setup) -> Setup:
    """Register a case under its function name."""
    CASES[setup.__name__] = setup
    return setup


def golden_vitaldb() -> Any:
    """vitaldb 1.7.2 with the golden-standard fix (FMT 7/8 read as float64) applied."""
    import vitaldb
    import vitaldb.utils

    # Upstream maps fmt 7/8 to 'l'/'L', 8 bytes on 64-bit Linux: silent partial reads.
    vitaldb.utils.FMT_TYPE_LEN[7] = ("i", 4)
    vitaldb.utils.FMT_TYPE_LEN[8] = ("I", 4)
    return vitaldb


# ---- inflate floor: the whole gzip stream in one call, its bytes already in memory


@case
def inflate_libdeflate(path: str, tracks: list[str]) -> Callable[[], Any]:
    import deflate

    data = Path(path).read_bytes()
    return lambda: deflate.gzip_decompress(data)


@case
def inflate_isal(path: str, tracks: list[str]) -> Callable[[], Any]:
    from isal import isal_zlib

    data = Path(path).read_bytes()
    return lambda: isal_zlib.decompress(data, wbits=31)


@case
def inflate_zlib(path: str, tracks: list[str]) -> Callable[[], Any]:
    import zlib

    data = Path(path).read_bytes()
    return lambda: zlib.decompress(data, wbits=31)


# ---- readers: each reads the file itself (the page cache is warm after the warm-up)


@case
def vitaldb_full(path: str, tracks: list[str]) -> Callable[[], Any]:
    vitaldb = golden_vitaldb()
    return lambda: vitaldb.VitalFile(path)


@case
def vitalproc_full(path: str, tracks: list[str]) -> Callable[[], Any]:
    import vitalproc

    return lambda: vitalproc.read(path)


@case
def vitaldb_tracks(path: str, tracks: list[str]) -> Callable[[], Any]:
    vitaldb = golden_vitaldb()
    return lambda: vitaldb.VitalFile(path, track_names=tracks)


@case
def vitalproc_tracks(path: str, tracks: list[str]) -> Callable[[], Any]:
    import vitalproc

    return lambda: vitalproc.read(path, tracks=tracks)


@case
def vitaldb_header(path: str, tracks: list[str]) -> Callable[[], Any]:
    vitaldb = golden_vitaldb()
    return lambda: vitaldb.VitalFile(path, header_only=True)


@case
def vitalproc_header(path: str, tracks: list[str]) -> Callable[[], Any]:
    import vitalproc

    return lambda: vitalproc.read(path, header_only=True)


# ---- writers: each loads the file once, outside the figure, then writes it packed at
# vitaldb's default level 9 into a temporary folder removed when the child exits. The
# call returns the recording, so the summary counts the tracks written.


def _scratch_file(name: str) -> str:
    import atexit
    import shutil

    folder = tempfile.mkdtemp(prefix="vitalproc-bench-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return os.path.join(folder, name)


@case
def vitaldb_to_vital(path: str, tracks: list[str]) -> Callable[[], Any]:
    vitaldb = golden_vitaldb()
    vf = vitaldb.VitalFile(path)
    out = _scratch_file("out.vital")
    return lambda: (vf.to_vital(out, compresslevel=9, packed=True), vf)[1]


@case
def vitalproc_to_vital(path: str, tracks: list[str]) -> Callable[[], Any]:
    import vitalproc

    vf = vitalproc.read(path)
    out = _scratch_file("out.vital")
    return lambda: (vf.to_vital(out, compresslevel=9, packed=True), vf)[1]


# ---- the command line, end to end: each call is a fresh `vitalproc` process,
# interpreter start included, writing to a temporary folder; the figures to compare are
# the Go processor's published figures: icu_1h 0.19 s msgpack, 0.33 s compact JSON;
# or_4h 3.0 s and 4.8 s, 1 GB peak RSS. The call returns the process's own peak RSS.
# The command runs as an installed package does, its bytecode cached (pip compiles it at
# install): a shell exporting PYTHONDONTWRITEBYTECODE would otherwise make every call
# compile vitalproc's modules again (~15 ms); the cache is a scratch folder, filled by
# the warm-up call.


def _cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = _scratch_folder()
    return env


def _cli(args: list[str], env: dict[str, str] | None = None) -> dict[str, int]:
    script = Path(sys.executable).with_name("vitalproc")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "vitalproc"]
    proc = subprocess.run(command + args, check=False, capture_output=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(_last_line(proc.stderr.decode(), f"exit {proc.returncode}"))
    # the largest child waited for so far: every call runs the same command
    return {"child_peak_rss_bytes": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024}


def _cli_export(fmt: str, *flags: str) -> Setup:
    def setup(path: str, tracks: list[str]) -> Callable[[], Any]:
        out = _scratch_file(f"out.{fmt}")
        env = _cli_env()
        return lambda: _cli(["export", path, "--format", fmt, "-o", out, "--quiet", *flags], env)

    return setup


for _name, _fmt, _flags in (
    ("msgpack", "msgpack", ()),
    ("json", "json", ("--compact",)),
    ("parquet", "parquet", ()),
    ("arrow", "arrow", ()),
    ("csv", "csv", ()),
    ("csv_cells", "csv", ("--wave-cells",)),
    ("text", "text", ()),
):
    _setup = _cli_export(_fmt, *_flags)
    _setup.__name__ = f"cli_export_{_name}"
    case(_setup)


@case
def cli_info(path: str, tracks: list[str]) -> Callable[[], Any]:
    env = _cli_env()
    return lambda: _cli(["info", path], env)


# ---- datasets converting to Parquet, and reading back ---------------------------
# A conversion call writes into a fresh folder (all are removed at exit, not between
# calls: deleting 20 outputs takes 30-90 ms, no part of converting, and as a fixed cost in
# both --jobs figures it would pull their ratio down) and returns the first output read
# back header-only, so the summary's track count shows that the output reads.
# Targets: --jobs 2 at least 1.8x the files/s of --jobs 1 (20 copies of
# icu_1h); --jobs 1 per file at most 2x vitalproc_full; vitalproc_convert at least 8x
# faster than vitaldb_convert on or_4h; vitalproc_convert_worker (one worker's work in
# this process: its peak RSS is a worker's) under 400 MB on or_4h; vitalproc_wave_track
# at least 50x and vitalproc_numeric_grid at least 20x faster than their vitaldb cases.


def _scratch_folder() -> str:
    import atexit
    import shutil

    folder = tempfile.mkdtemp(prefix="vitalproc-bench-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def convert_copies(path: str) -> int:
    """Copies per call of the throughput cases: 20 (the target's figure), fewer for big
    files (as many as fit in 150 MB, at least 2), so or_4h takes seconds, not minutes."""
    return max(2, min(20, 150_000_000 // os.path.getsize(path)))


def _fresh_dataset(folder: str) -> Callable[[], str]:
    """A new dataset folder name in ``folder`` (a scratch folder) at each call."""
    import itertools

    counter = itertools.count()
    return lambda: os.path.join(folder, f"ds{next(counter)}")


def _first_output(report: Any) -> Any:
    import vitalproc

    if not report.ok:
        raise RuntimeError(report.failed[0].error)
    return vitalproc.read(os.path.join(report.dataset, report.results[0].output), header_only=True)


def _convert_jobs(jobs: int) -> Setup:
    def setup(path: str, tracks: list[str]) -> Callable[[], Any]:
        import vitalproc

        folder = _scratch_folder()
        inputs = os.path.join(folder, "in")
        os.mkdir(inputs)
        for i in range(convert_copies(path)):  # distinct names, the same bytes
            os.link(path, os.path.join(inputs, f"copy{i:02d}.vital"))
        fresh = _fresh_dataset(folder)
        return lambda: _first_output(vitalproc.convert(inputs, fresh(), jobs=jobs, progress=False))

    setup.__name__ = f"vitalproc_convert_jobs{jobs}"
    return setup


for _jobs in (1, 2):
    case(_convert_jobs(_jobs))


@case
def vitaldb_convert(path: str, tracks: list[str]) -> Callable[[], Any]:
    vitaldb = golden_vitaldb()
    out = os.path.join(_scratch_folder(), "out.parquet")

    def call() -> Any:
        vf = vitaldb.VitalFile(path)
        vf.to_parquet(out)
        return vf

    return call


@case
def vitalproc_convert(path: str, tracks: list[str]) -> Callable[[], Any]:
    import vitalproc

    fresh = _fresh_dataset(_scratch_folder())
    return lambda: _first_output(vitalproc.convert(path, fresh(), jobs=1, progress=False))


@case
def vitalproc_convert_worker(path: str, tracks: list[str]) -> Callable[[], Any]:
    from vitalproc.dataset import batch

    fresh = _fresh_dataset(_scratch_folder())

    def call() -> Any:
        folder = fresh()
        os.mkdir(folder)
        result = batch.convert_file(batch.Task(os.path.abspath(path), "case", folder))
        if result.status == "failed":
            raise RuntimeError(result.error)
        return _first_output_of(folder, result.output)

    return call


def _first_output_of(folder: str, name: str) -> Any:
    import vitalproc

    return vitalproc.read(os.path.join(folder, name), header_only=True)


def _fastest_wave_and_numerics(path: str) -> tuple[str, list[str]]:
    """The first wave track of the highest rate (a 500 Hz SNUADC wave in or_4h), and
    every numeric track, by vitaldb's header-only read."""
    vf = golden_vitaldb().VitalFile(path, header_only=True)
    waves = [t for t in vf.trks.values() if t.type == 1]
    wave = max(waves, key=lambda t: t.srate).dtname if waves else ""
    return wave, [t.dtname for t in vf.trks.values() if t.type == 2]


def _dataset_of(path: str) -> Any:
    """``path`` converted (outside the figure); the opened dataset and its one case."""
    import vitalproc

    folder = os.path.join(_scratch_folder(), "ds")
    report = vitalproc.convert(path, folder, jobs=1, progress=False)
    _first_output(report)
    return vitalproc.open_dataset(folder), report.results[0].caseid


@case
def vitaldb_wave_track(path: str, tracks: list[str]) -> Callable[[], Any]:
    vitaldb = golden_vitaldb()
    wave, _ = _fastest_wave_and_numerics(path)
    return lambda: vitaldb.VitalFile(path, track_names=[wave])


@case
def vitalproc_wave_track(path: str, tracks: list[str]) -> Callable[[], Any]:
    wave, _ = _fastest_wave_and_numerics(path)
    dataset, caseid = _dataset_of(path)
    return lambda: dataset.load(caseid, [wave])


@case
def vitaldb_numeric_grid(path: str, tracks: list[str]) -> Callable[[], Any]:
    vitaldb = golden_vitaldb()
    _, numerics = _fastest_wave_and_numerics(path)

    def call() -> Any:
        vf = vitaldb.VitalFile(path, track_names=numerics)
        vf.to_numpy(numerics, 1)
        return vf

    return call


@case
def vitalproc_numeric_grid(path: str, tracks: list[str]) -> Callable[[], Any]:
    _, numerics = _fastest_wave_and_numerics(path)
    dataset, caseid = _dataset_of(path)

    def call() -> Any:
        vf = dataset.load(caseid, numerics)
        vf.to_numpy(numerics, 1)
        return vf

    return call


# ---- end of datasets


# ---- time grid (views.py): to_numpy from a loaded file, all tracks at 100 Hz and at 1 s
# (target: at least 20x faster than vitaldb), and the three selected tracks at 500 Hz end
# to end after a selective read (at least 8x). Each call returns the file, so that the
# result column counts its tracks; the grid is freed inside the timing, in both.


def _grid_case(reader: str, interval: float) -> Setup:
    """A case timing ``to_numpy`` of every track at ``interval`` on a file read beforehand."""

    def setup(path: str, tracks: list[str]) -> Callable[[], Any]:
        if reader == "vitaldb":
            vf = golden_vitaldb().VitalFile(path)
        else:
            import vitalproc

            vf = vitalproc.read(path)
        names = list(vf.trks)  # vitaldb has no "every track" (None raises TypeError)

        def call() -> Any:
            vf.to_numpy(names, interval)
            return vf

        return call

    return setup


for _label, _interval in (("100hz", 0.01), ("1s", 1.0)):
    for _reader in ("vitaldb", "vitalproc"):  # each vitaldb case before its counterpart
        _setup = _grid_case(_reader, _interval)
        _setup.__name__ = f"{_reader}_to_numpy_{_label}"
        case(_setup)


@case
def vitaldb_tracks_to_numpy_500hz(path: str, tracks: list[str]) -> Callable[[], Any]:
    vitaldb = golden_vitaldb()

    def call() -> Any:
        vf = vitaldb.VitalFile(path, track_names=tracks)
        vf.to_numpy(tracks, 1 / 500)
        return vf

    return call


@case
def vitalproc_tracks_to_numpy_500hz(path: str, tracks: list[str]) -> Callable[[], Any]:
    import vitalproc

    def call() -> Any:
        vf = vitalproc.read(path, tracks=tracks)
        vf.to_numpy(tracks, 1 / 500)
        return vf

    return call


# ---- end of time grid


# ---- long frames (frames.py): to_arrow() of a loaded file (target: under 10 % of
# vitalproc_full, no copy of wave samples). pyarrow is imported in the set-up; the call
# returns the file, so that the result column counts its tracks.


@case
def vitalproc_to_arrow(path: str, tracks: list[str]) -> Callable[[], Any]:
    import pyarrow  # noqa: F401  (its import is not the conversion's cost)

    import vitalproc

    vf = vitalproc.read(path)

    def call() -> Any:
        vf.to_arrow()
        return vf

    return call


# ---- end of long frames


# ---- the child: time one case


def peak_rss_bytes() -> int:
    """Peak resident set of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def summarize(result: Any) -> dict[str, int]:
    """A sanity figure: bytes inflated, or tracks read (0 tracks: the read failed)."""
    if isinstance(result, (bytes, bytearray, memoryview)):
        return {"out_bytes": len(result)}
    if isinstance(result, dict):  # a command-line case: its process's peak RSS
        return result
    return {"tracks": len(getattr(result, "trks", ()))}


def measure(call: Callable[[], Any], reps: int, warmup: int) -> dict[str, Any]:
    """Warm up at least once, size a repetition from one more call (none when
    ``warmup`` is 0: the big files), time `reps`."""
    base_rss = peak_rss_bytes()  # interpreter, imports and set-up only
    for i in range(max(1, warmup)):
        t0 = time.perf_counter()
        result = call()
        last = time.perf_counter() - t0
        if i == 0:
            summary = summarize(result)
        del result  # two results alive at once would inflate the peak RSS
    if warmup:
        # Sized from a call after the warm-up: a case's first call pays lazy imports and
        # first-use set-up, and sized from it a call of microseconds would be timed one
        # at a time (timer and cold-cache noise, not the call).
        t0 = time.perf_counter()
        call()
        last = time.perf_counter() - t0
    inner = max(1, math.ceil(MIN_REP_SECONDS / max(last, 1e-9)))
    times = []
    for _ in range(reps):
        gc.collect()  # the previous repetition's garbage is not this one's cost
        t0 = time.perf_counter()
        for _ in range(inner):
            call()
        times.append((time.perf_counter() - t0) / inner)
    return {
        "median_s": statistics.median(times),
        "times_s": times,
        "calls_per_rep": inner,
        "peak_rss_bytes": peak_rss_bytes(),
        "base_rss_bytes": base_rss,
        **summary,
    }


def child_main() -> None:
    ap = argparse.ArgumentParser(description="time one benchmark case in this process")
    ap.add_argument("case", choices=list(CASES))
    ap.add_argument("file")
    ap.add_argument("--tracks", default="", help="comma-separated track names")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    a = ap.parse_args()
    call = CASES[a.case](a.file, [t for t in a.tracks.split(",") if t])
    print(json.dumps(measure(call, a.reps, a.warmup)))


# ---- the parent's side


def _last_line(text: str, default: str) -> str:
    """The line of a child's stderr that says what went wrong."""
    lines = text.strip().splitlines()
    return lines[-1] if lines else default


def run_case(
    name: str, path: Path, tracks: tuple[str, ...], reps: int, warmup: int
) -> dict[str, Any]:
    """Time one case on one file in a fresh child; a failure returns {'error': ...}."""
    script = str(Path(__file__).resolve())
    cmd = [sys.executable, script, name, str(path), "--tracks", ",".join(tracks)]
    cmd += ["--reps", str(reps), "--warmup", str(warmup)]
    try:
        proc = subprocess.run(
            cmd, check=False, capture_output=True, text=True, timeout=CHILD_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {CHILD_TIMEOUT} s"}
    if proc.returncode != 0 or not proc.stdout.strip():
        return {"error": _last_line(proc.stderr, f"exit status {proc.returncode}")}
    # The JSON is the last line: vitaldb prints its own read errors to stdout.
    return json.loads(proc.stdout.strip().splitlines()[-1])


def startup_time(code: str, runs: int) -> dict[str, Any]:
    """Median wall time of `python -c CODE` in fresh interpreters (case g).

    Modules load from cached bytecode, as from an installed package: this environment
    may set PYTHONDONTWRITEBYTECODE, and an editable install has no __pycache__, so
    every run would compile the sources again. The cache lives outside the source
    tree, and a first, untimed run fills it.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times = []
    with tempfile.TemporaryDirectory() as cache:
        env["PYTHONPYCACHEPREFIX"] = cache
        for _ in range(runs + 1):
            t0 = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-c", code], env=env, check=False, capture_output=True
            )
            times.append(time.perf_counter() - t0)
            if proc.returncode != 0:
                return {"error": _last_line(proc.stderr.decode(), "failed")}
    return {"median_s": statistics.median(times[1:]), "times_s": times[1:]}


def vitalproc_missing() -> str | None:
    """Why vitalproc cannot be benchmarked yet, or None when its reader imports."""
    proc = subprocess.run(
        [sys.executable, "-c", "import vitalproc; vitalproc.read"],
        check=False,
        capture_output=True,
        text=True,
    )
    return None if proc.returncode == 0 else _last_line(proc.stderr, "import failed")


if __name__ == "__main__":
    child_main()

"""``qc``: the metrics table of many recordings, on the process pool ``convert`` uses.

Sources are ``.vital`` files, folders and globs (as ``convert`` takes them) and converted
datasets (a folder holding ``_manifest.parquet``: its cases are read from their Parquet
files, no ``.vital`` file is opened). Each case is measured by ``qc_case`` in a worker and
comes back as one ``CaseResult``: a case that cannot be read is that case's ``failed``
row, never the run's end. A worker that dies fails only the cases it held (``batch``'s
pool retries them one at a time).

Resumable: every row names its source's size and mtime and a fingerprint of the settings
(limits, thresholds, that case's windows); a re-run keeps the rows of cases whose three
still match and measures the others.
"""

from __future__ import annotations

import hashlib
import math
import os
import resource
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..dataset.batch import Outcomes
from .errors import QualityInputError
from .metrics import DEFAULT_THRESHOLDS, Thresholds, measured, track_metrics

if TYPE_CHECKING:
    import pyarrow as pa

    from ..dataset.case_reader import CaseTracks
    from ..model import VitalFile

#: The metrics table's file inside a dataset (``vitalproc query DATASET "... FROM qc"``).
DATASET_TABLE = "_qc.parquet"

#: Recordings estimated to inflate past this many bytes are measured a group of tracks
#: at a time (each group one more read of the file), to bound a worker's memory: the
#: export's budget (160 MB).
DEFAULT_BUDGET = 160 << 20

#: Threads measuring the tracks of one recording at once (the pass releases the GIL).
TRACK_THREADS = 2

#: What ``qc_case`` imports as it runs: imported once for all local workers.
WORKER_MODULES = (
    "vitalproc.quality.metrics",
    "vitalproc.quality._pass",
    "vitalproc.quality.limits",
    "vitalproc.dataset.case_reader",
)


@dataclass(frozen=True)
class CaseTask:
    """One case to measure, as a worker gets it."""

    source: str  # a .vital file or a dataset's case file (.parquet)
    caseid: str
    windows: tuple[tuple[str, float, float], ...] = ()  # name, start, end
    relative: bool = True  # window times in seconds from the recording's start
    limits: str | None = None  # a user's limits table
    thresholds: Thresholds = DEFAULT_THRESHOLDS
    budget: int = DEFAULT_BUDGET
    settings: str = ""  # fingerprint of all of the above but the source
    threads: int = TRACK_THREADS


@dataclass
class CaseResult:
    """What became of one case: ``ok`` (``rows``: one per measured track), ``failed``
    (``error``), or ``kept`` (unchanged since the last run: its old rows stand)."""

    source: str
    caseid: str
    status: str
    error: str | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    size: int | None = None
    mtime_ns: int | None = None
    settings: str = ""
    seconds: float = 0.0
    peak_rss: int | None = None


@dataclass
class QcReport(Outcomes):
    """All results of one ``qc`` call and the metrics table it wrote."""

    table: pa.Table
    results: list[CaseResult]
    seconds: float
    outputs: list[str]

    def summary(self) -> str:
        n = self.count
        return (
            f"{n('ok')} measured, {n('kept')} unchanged, {n('failed')} failed, "
            f"{self.table.num_rows} rows in {self.seconds:.1f} s"
        )


# ---- one case, in a worker ---------------------------------------------------------------


def case_rows(
    vf: VitalFile,
    caseid: str,
    limits: Any,
    thresholds: Thresholds,
    windows: Mapping[str, tuple[float, float]],
    threads: int = 1,
) -> list[dict[str, Any]]:
    """One row per wave or numeric track of a recording, in file order."""
    names = [n for n, t in vf.trks.items() if measured(t)]

    def one(name: str) -> dict[str, Any]:
        return {
            "caseid": caseid,
            "track": name,
            **track_metrics(vf.trks[name], limits, thresholds, windows),
        }

    if threads < 2 or len(names) < 2:
        return [one(n) for n in names]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(threads) as pool:  # the pass runs without the GIL
        return list(pool.map(one, names))


def _absolute(task: CaseTask, dtstart: float) -> dict[str, tuple[float, float]]:
    base = dtstart if task.relative else 0.0
    return {
        name: (base + a, base + b)
        if math.isfinite(a) and math.isfinite(b)
        else (math.nan, math.nan)
        for name, a, b in task.windows
    }


def qc_case(task: CaseTask) -> CaseResult:
    """Measure one case (in a worker). Never raises: a case that cannot be read is a
    ``failed`` result with the error."""
    from ..errors import VitalFormatError, VitalWarning
    from .limits import load_limits

    start = time.perf_counter()
    result = CaseResult(task.source, task.caseid, "failed", settings=task.settings)
    try:
        stat = os.stat(task.source)
        result.size, result.mtime_ns = stat.st_size, stat.st_mtime_ns
        limits = load_limits(task.limits)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", VitalWarning)  # the read's recoveries
            result.rows = _measure(task, limits)
        result.status = "ok"
    except (OSError, VitalFormatError, ValueError, MemoryError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    except Exception as exc:
        # case is that case's failure, and the others go on
        result.error = f"internal error, please report: {type(exc).__name__}: {exc}"
    finally:
        result.seconds = time.perf_counter() - start
        result.peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return result


def _measure(task: CaseTask, limits: Any) -> list[dict[str, Any]]:
    from ..dataset.case_reader import open_tracks, read_case
    from ..io.reader import read, read_only, survey
    from ..writers._groups import estimated_size

    if task.source.lower().endswith(".parquet"):
        case = open_tracks(task.source)
        if case is not None:
            return _measure_case_tracks(case, task, limits)
        vf = read_case(task.source)  # a file vitaldb wrote: no layout to read it by track
        return case_rows(
            vf, task.caseid, limits, task.thresholds, _absolute(task, vf.dtstart), task.threads
        )
    size = estimated_size(task.source)
    if size is None or size <= task.budget:
        vf = read(task.source)
        return case_rows(
            vf, task.caseid, limits, task.thresholds, _absolute(task, vf.dtstart), task.threads
        )
    # A recording too big to hold: its record times first (8 bytes a record), then a
    # group of tracks at a time, each one more read of the file (as the export does).
    found = survey(task.source)
    names = [n for n, t in found.vf.trks.items() if measured(t)]
    rows = []
    for group in _cut(names, found.nbytes, task.budget):
        vf = read_only(task.source, set(group))
        vf.dtstart, vf.dtend = found.vf.dtstart, found.vf.dtend
        vf.trks = {n: vf.trks[n] for n in group}
        rows += case_rows(
            vf,
            task.caseid,
            limits,
            task.thresholds,
            _absolute(task, found.vf.dtstart),
            task.threads,
        )
        del vf  # let the group go before the next one is read
    return rows


def _measure_case_tracks(case: CaseTracks, task: CaseTask, limits: Any) -> list[dict[str, Any]]:
    """A dataset case, a track at a time: each read from its own row groups and measured
    on the same thread, ``task.threads`` tracks at once (the Parquet decode and the pass
    both release the GIL), largest first so that the threads finish together, holding at
    most ``task.budget`` bytes of tracks (a bigger track alone)."""
    names = [n for n, t in case.header.trks.items() if measured(t)]
    windows = _absolute(task, case.header.dtstart)

    def one(name: str) -> dict[str, Any]:
        trk = case.track(name)
        return {
            "caseid": task.caseid,
            "track": name,
            **track_metrics(trk, limits, task.thresholds, windows),
        }

    return _in_order(_bounded_map(one, names, case.nbytes, task.budget, task.threads), names)


def _bounded_map(
    work: Any, names: list[str], nbytes: Any, budget: int, threads: int
) -> list[dict[str, Any]]:
    """``work(name)`` of every name on up to ``threads`` threads, biggest first, while
    the ``nbytes(name)`` of the names in hand add up to at most ``budget`` (a name bigger
    than that alone). In no particular order."""
    if threads < 2 or len(names) < 2:
        return [work(n) for n in names]
    import threading
    from concurrent.futures import ThreadPoolExecutor

    held = 0
    room = threading.Condition()

    def bounded(name: str) -> dict[str, Any]:
        nonlocal held
        need = nbytes(name)
        with room:
            room.wait_for(lambda: held == 0 or held + need <= budget)
            held += need
        try:
            return work(name)
        finally:
            with room:
                held -= need
                room.notify_all()

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(bounded, sorted(names, key=nbytes, reverse=True)))


def _cut(names: list[str], size: Any, budget: int) -> list[list[str]]:
    """Consecutive tracks in groups of at most ``budget`` bytes (``size(name)``); a track
    bigger than that is a group of its own."""
    groups: list[list[str]] = []
    held = 0
    for name in names:
        nbytes = size(name)
        if not groups or held + nbytes > budget:
            groups.append([])
            held = 0
        groups[-1].append(name)
        held += nbytes
    return groups


def _in_order(rows: list[dict[str, Any]], names: list[str]) -> list[dict[str, Any]]:
    rank = {n: i for i, n in enumerate(names)}
    return sorted(rows, key=lambda r: rank.get(r["track"], len(rank)))


# ---- the run -----------------------------------------------------------------------------


def is_dataset(path: str) -> bool:
    from ..dataset.manifest import MANIFEST_NAME

    return os.path.isdir(path) and os.path.exists(os.path.join(path, MANIFEST_NAME))


def _sources(inputs: Iterable[str | os.PathLike]) -> tuple[list[tuple[str, str]], list[str]]:
    """(path, caseid) of every case named, and the dataset folders among the inputs."""
    from ..dataset.batch import find_inputs, new_caseid
    from ..dataset.query import open_dataset

    files: list[str] = []
    datasets: list[str] = []
    cases: list[tuple[str, str]] = []
    for item in [os.fspath(i) for i in inputs]:
        if is_dataset(item):
            ds = open_dataset(item)
            datasets.append(ds.path)
            cases += [(ds.case_path(c), c) for c in ds.cases]
        else:
            files.append(item)
    taken = {c for _, c in cases}
    if files:
        cases += [(p, new_caseid(p, taken)) for p in find_inputs(files)]
    return cases, datasets


def _read_windows(
    clinical: Any, windows: Mapping[str, tuple[str, str]], caseid_column: str
) -> dict[str, dict[str, tuple[float, float]]]:
    """caseid -> window name -> (start, end) from the clinical table's columns."""
    if not windows:
        return {}
    if clinical is None:
        raise QualityInputError("windows need a clinical table (clinical=...)")
    from .clinical import read_clinical

    table = read_clinical(clinical, caseid_column)
    out: dict[str, dict[str, tuple[float, float]]] = {}
    for name, (a, b) in windows.items():
        if not name.isidentifier():
            raise QualityInputError(f"window name {name!r}: use letters, digits and _")
        for column in (a, b):
            if column not in table.columns:
                raise QualityInputError(
                    f"window {name!r}: the clinical table has no column {column!r} "
                    f"(it has {', '.join(map(str, table.columns))})"
                )
        for caseid, start, end in zip(table.caseids, table.numbers(a), table.numbers(b)):
            if caseid is not None:
                out.setdefault(caseid, {})[name] = (start, end)
    return out


def _fingerprint(*parts: Any) -> str:
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:16]


def qc(
    sources: Iterable[str | os.PathLike] | str | os.PathLike,
    output: str | os.PathLike | None = None,
    *,
    clinical: Any = None,
    windows: Mapping[str, tuple[str, str]] | None = None,
    caseid_column: str = "caseid",
    absolute_windows: bool = False,
    limits: str | os.PathLike | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    jobs: int | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    progress: bool | None = None,
    budget: int = DEFAULT_BUDGET,
) -> QcReport:
    """Quality metrics of every wave and numeric track of many recordings.

    Parameters
    ----------
    sources
        ``.vital`` files, folders (every ``*.vital`` below), globs, and dataset folders
        (written by ``vitalproc.convert``; read from their Parquet files).
    output
        A ``.parquet`` or ``.csv`` file for the table. With a dataset among the sources,
        its cases' rows are also written into it (``_qc.parquet``: the view ``qc`` of
        ``vitalproc query``). Re-running measures only what changed.
    clinical, windows, caseid_column, absolute_windows
        ``windows`` maps a name to two columns of the ``clinical`` table (CSV or
        Parquet, one row per case, ids in ``caseid_column``): each adds
        ``coverage_<name>``, the coverage over that span of each case. Times are seconds
        from the recording's start (VitalDB's clinical table), or Unix seconds with
        ``absolute_windows``.
    limits
        A limits table of your own (see ``load_limits``): its kinds replace the
        packaged ones.
    thresholds
        Gap, clipping and default flatline thresholds.
    jobs, engine, scheduler, progress
        As in ``vitalproc.convert``.
    budget
        Bytes of samples a worker holds at once: a bigger recording is read a group of
        tracks at a time.

    Returns
    -------
    QcReport
        ``table`` (pyarrow): one row per (case, track) with the columns of
        ``docs/quality.md``, and one row per failed case (``status`` ``failed``,
        ``error``); ``results``, one per case.

    Raises
    ------
    QualityInputError
        A bad limits table, window or clinical table (the message names the line or
        column).
    FileNotFoundError
        A source matches nothing.
    """
    from ..dataset.batch import ENGINES, Progress, run_dask, run_local
    from .limits import load_limits
    from .table import to_table, write_table

    if engine not in ENGINES:
        raise QualityInputError(f"engine must be one of {ENGINES}, not {engine!r}")
    jobs = jobs if jobs is not None else (os.cpu_count() or 1)
    if jobs < 1:
        raise QualityInputError(f"jobs must be at least 1, not {jobs}")
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    loaded = load_limits(limits)  # a bad table fails here, not in every worker
    began = time.perf_counter()
    cases, datasets = _sources(sources)
    per_case = _read_windows(clinical, windows or {}, caseid_column)
    names = list(windows or {})
    base = CaseTask(
        "",
        "",
        relative=not absolute_windows,
        limits=os.path.abspath(limits) if limits is not None else None,
        thresholds=thresholds,
        budget=budget,
        threads=1 if jobs > 1 else TRACK_THREADS,
    )
    common = (loaded.fingerprint(), thresholds, absolute_windows, names)
    previous = _previous_rows(output, datasets)
    tasks, results = [], []
    for path, caseid in cases:
        spans = per_case.get(caseid, {})
        wins = tuple((n, *spans.get(n, (math.nan, math.nan))) for n in names)
        task = replace(
            base, source=path, caseid=caseid, windows=wins, settings=_fingerprint(common, wins)
        )
        old = previous.get((path, caseid))
        try:
            stat = os.stat(path)
        except OSError as exc:
            results.append(CaseResult(path, caseid, "failed", error=f"{type(exc).__name__}: {exc}"))
            continue
        if (
            old
            and old[0]["status"] == "ok"
            and old[0]["size"] == stat.st_size
            and old[0]["mtime_ns"] == stat.st_mtime_ns
            and old[0]["settings"] == task.settings
        ):
            results.append(
                CaseResult(
                    path,
                    caseid,
                    "kept",
                    rows=old,
                    size=stat.st_size,
                    mtime_ns=stat.st_mtime_ns,
                    settings=task.settings,
                )
            )
            continue
        tasks.append(task)
    bar = Progress(len(tasks), progress)

    def done(result: Any) -> None:
        if not isinstance(result, CaseResult):  # the pool's record of a dead worker
            error = result.error or ""
            if "worker process died" in error:
                error = "the worker process died measuring this case (killed, or out of memory)"
            result = CaseResult(result.source, result.caseid, "failed", error=error)
        results.append(result)
        bar.update(result.size or 0)

    try:
        if engine == "local":
            run_local(qc_case, tasks, jobs, done, WORKER_MODULES)  # type: ignore[arg-type]
        else:
            run_dask(qc_case, tasks, scheduler, jobs, done)  # type: ignore[arg-type]
    finally:
        bar.close()
    order = {(p, c): i for i, (p, c) in enumerate(cases)}
    results.sort(key=lambda r: order.get((r.source, r.caseid), len(order)))
    table = to_table(results, names)
    outputs = []
    if output is not None:
        write_table(table, os.fspath(output))
        outputs.append(os.fspath(output))
    for folder in datasets:
        mine = [r for r in results if os.path.dirname(r.source) == folder]
        write_table(to_table(mine, names), os.path.join(folder, DATASET_TABLE))
        outputs.append(os.path.join(folder, DATASET_TABLE))
    return QcReport(table, results, time.perf_counter() - began, outputs)


def _previous_rows(
    output: Any, datasets: Sequence[str]
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Rows of an earlier run, by (source, caseid): from ``output`` and the datasets'
    own tables."""
    from .table import read_table

    rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
    paths = ([os.fspath(output)] if output is not None else []) + [
        os.path.join(d, DATASET_TABLE) for d in datasets
    ]
    for path in paths:
        for row in read_table(path):
            rows.setdefault((row["source"], row["caseid"]), []).append(row)
    return rows

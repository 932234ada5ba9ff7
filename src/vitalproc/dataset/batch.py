"""Many recordings -> one dataset, on a local process pool or a dask.distributed cluster.

``convert(inputs, dataset)`` writes one Parquet file per recording (vitaldb's v1.7 long
schema, ``writers/vitaldb_parquet``) and the dataset's manifest and track tables
(``manifest.py``). Each file is converted by ``convert_file`` in a worker and comes back as
one ``FileResult``: a failure is that file's record, never the run's end.

- Resumable: an input whose size and mtime match its manifest row is skipped unopened;
  one whose size matches but mtime does not is hashed, and skipped if the content is the
  same. Each output's footer names its source, so outputs a killed run finished are
  taken back into the manifest on the next run.
- Nothing half-written: each output is written under a hidden temporary name, synced and
  renamed. Temporary files a killed run left behind are removed by the next run, which
  holds a lock on the dataset while it works.
- A worker that dies (killed, out of memory) fails only the files it held: those are
  retried one at a time, and a file that still kills its worker is recorded as failed.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import importlib
import os
import resource
import sys
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from .._deps import available, require
from .._files import TMP_SUFFIX, atomic_file
from . import manifest
from .case_reader import read_layout

ENGINES = ("local", "dask")
LOCK_NAME = ".lock"

#: Compressed bytes read to learn a file header's own span (see ``_header_span``).
HEADER_PROBE = 1 << 16

#: Bytes read at a time to hash a source.
HASH_BUFFER = 1 << 18

#: Tasks queued per local worker: enough to keep it busy, few to retry if one dies.
QUEUE_PER_WORKER = 2

#: What the local workers' server imports once, before it forks any worker, so that no
#: worker imports it again: what tasks need (pyarrow imports pandas on its first Arrow
#: array built from numpy, half a second or more per process; ``np.median`` loads
#: ``numpy.ma``). Each ``run_local`` call adds its work's modules; the server is started
#: by the first call of a process, with the modules named up to then.
PRELOAD = [
    "numpy",
    "numpy.ma",
    "pyarrow.parquet",
    "pandas",
    "vitalproc.dataset.batch",
    "vitalproc.io.reader",
]


@dataclass(frozen=True)
class Task:
    """One input to convert, as a worker gets it."""

    source: str
    caseid: str
    dataset: str
    expected_hash: str | None = None  # skip when the content still hashes to this
    strict: bool = False
    compat: str | None = None
    compression_level: int | None = None


@dataclass
class FileResult:
    """What became of one input file.

    ``status``: ``ok`` / ``warned`` (converted; ``warned``: the read recovered data, see
    ``warnings``), ``failed`` (``error`` says why; no output), ``unchanged`` (new mtime,
    same content: not rewritten) or ``skipped`` (same size and mtime: not opened).
    """

    source: str
    caseid: str
    status: str
    error: str | None = None
    size: int | None = None
    mtime_ns: int | None = None
    hash: str | None = None
    output: str | None = None
    output_bytes: int | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    peak_rss: int | None = None  # the worker process's peak so far (bytes)

    @property
    def converted(self) -> bool:
        """Whether this run wrote the file's output (``ok`` or ``warned``)."""
        return self.status in manifest.CONVERTED


class Outcomes:
    """What the report of every batch run (``convert``, ``qc``, window building) gives:
    its per-input ``results``, each with a ``status``, counted and judged one way."""

    results: list[Any]

    def count(self, *statuses: str) -> int:
        """How many inputs ended with one of ``statuses``."""
        return sum(r.status in statuses for r in self.results)

    @property
    def failed(self) -> list[Any]:
        """The results of the inputs that could not be processed."""
        return [r for r in self.results if r.status == "failed"]

    @property
    def ok(self) -> bool:
        """No input failed."""
        return not self.failed


@dataclass
class ConversionReport(Outcomes):
    """All the results of one ``convert`` call, one per input file."""

    dataset: str
    results: list[FileResult]
    seconds: float

    def summary(self) -> str:
        """One line: how many files were converted, unchanged, failed, and how fast."""
        return (
            f"{self.count('ok', 'warned')} converted ({self.count('warned')} with "
            f"warnings), {self.count('skipped', 'unchanged')} unchanged, "
            f"{self.count('failed')} failed in {self.seconds:.1f} s"
        )


# ---- one file, in a worker -------------------------------------------------------------


def convert_file(task: Task) -> FileResult:
    """Convert one recording into ``<task.dataset>/<task.caseid>.parquet`` (in a worker).

    Parameters
    ----------
    task
        The source, its case id and output folder, and the read options. With
        ``task.expected_hash``, a file whose bytes still hash to it is not converted
        again (status ``unchanged``).

    Returns
    -------
    FileResult
        Never raises: a file that cannot be read or written is a ``failed`` result with
        the error, and no output is left.
    """
    from ..errors import VitalFormatError, VitalWarning
    from ..io.reader import read
    from . import schema as vp

    start = time.perf_counter()
    result = FileResult(task.source, task.caseid, "failed")
    try:
        stat = os.stat(task.source)
        result.size, result.mtime_ns = stat.st_size, stat.st_mtime_ns
        result.hash = _sha256(task.source)
        if result.hash == task.expected_hash:
            result.status = "unchanged"
            return result
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", VitalWarning)  # kept in vf.warnings
            vf = read(task.source, strict=task.strict, compat=task.compat)
        span = _header_span(task.source)
        output = f"{task.caseid}.parquet"
        source = {
            "path": task.source,
            "size": result.size,
            "mtime_ns": result.mtime_ns,
            "hash": result.hash,
            "caseid": task.caseid,
        }
        options = (
            {} if task.compression_level is None else {"compression_level": task.compression_level}
        )
        with atomic_file(os.path.join(task.dataset, output)) as f:
            vp.write(vf, f, header_span=span, source=source, **options)
        result.output = output
        result.output_bytes = os.path.getsize(os.path.join(task.dataset, output))
        result.warnings = [w.message for w in vf.warnings]
        result.status = "warned" if vf.warnings else "ok"
    except (OSError, VitalFormatError, ValueError, MemoryError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    except Exception as exc:
        # conversion is that file's failure, and the other files go on
        result.error = f"internal error, please report: {type(exc).__name__}: {exc}"
    finally:
        result.seconds = time.perf_counter() - start
        result.peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return result


def _sha256(path: str) -> str:
    # Read into one reused buffer that stays in the CPU's cache: a sixth faster than
    # fresh 1 MB chunks (the hash itself is about 0.6 ms a MB with SHA instructions).
    digest = hashlib.sha256()
    buffer = bytearray(HASH_BUFFER)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buffer):
            digest.update(view[:n])
    return "sha256:" + digest.hexdigest()


def _header_span(path: str) -> tuple[float, float] | None:
    """The span the file header itself declares, before records widened it: what a
    reader of a track selection needs to rebuild that selection's span. Read from the
    first bytes with every track excluded, so that no record widens it."""
    from ..errors import VitalFormatError, VitalWarning
    from ..io.reader import read

    with open(path, "rb") as f:
        prefix = f.read(HEADER_PROBE)
    for source in (prefix, path):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", VitalWarning)  # the probe is cut short
            try:
                probe = read(source, exclude=[""], header_only=True)
            except VitalFormatError:
                continue  # the header lies past the probe: read the whole file
        return probe.dtstart, probe.dtend
    return None


# ---- engines -----------------------------------------------------------------------------

Work = Callable[[Task], FileResult]


def run_local(
    work: Work,
    tasks: Iterable[Task],
    jobs: int,
    done: Callable[[FileResult], None],
    preload: Iterable[str] = (),
) -> None:
    """Run ``work`` on every task in a local process pool, handing each result to
    ``done`` as it comes. When a worker dies, the tasks it may have held are retried one
    at a time in a fresh pool; one that kills its worker again is a failed result.
    ``preload``: modules the work imports as it runs, imported once for all workers
    (see ``PRELOAD``)."""
    import multiprocessing

    # forkserver: workers start from a clean process, not a copy of a caller that may
    # hold threads (a notebook, a dask client).
    context = multiprocessing.get_context("forkserver")
    for module in (work.__module__, *preload):
        if module not in PRELOAD and module != "__main__":
            PRELOAD.append(module)
    context.set_forkserver_preload(list(PRELOAD))
    # As many workers as cores: each on one thread (Arrow's own pools would add a
    # thread per core in every worker, to fight over the same cores).
    threads = 1 if jobs >= (os.cpu_count() or 1) else 0
    # This process needs most of the same modules for what it does with the results
    # (pyarrow's pandas above all): imported meanwhile, while the server starts.
    warm = threading.Thread(target=_import_all, args=(PRELOAD,), daemon=True)
    warm.start()
    try:
        _run_pool(work, deque(tasks), jobs, done, context, threads)
    finally:
        warm.join()


def _import_all(modules: Iterable[str]) -> None:
    for module in modules:
        if module not in sys.modules:
            # only a head start: whatever fails here is imported, or fails, where used
            with contextlib.suppress(Exception):
                importlib.import_module(module)


def _run_pool(
    work: Work,
    queue: deque[Task],
    jobs: int,
    done: Callable[[FileResult], None],
    context: Any,
    threads: int,
) -> None:
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    suspects: deque[Task] = deque()
    while queue or suspects:
        alone = bool(suspects)
        source = suspects if alone else queue
        with ProcessPoolExecutor(
            1 if alone else jobs,
            mp_context=context,
            initializer=_init_worker,
            initargs=(threads,),
        ) as pool:
            running: dict[Any, Task] = {}
            broken = False
            while (source or running) and not broken:
                while source and len(running) < (1 if alone else jobs * QUEUE_PER_WORKER):
                    task = source.popleft()
                    running[pool.submit(work, task)] = task
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    task = running.pop(future)
                    try:
                        done(future.result())
                    except BrokenProcessPool:
                        broken = True
                        if alone:
                            done(_died(task))
                        else:
                            suspects.append(task)
            if broken and not alone:
                suspects.extend(running.values())


def _init_worker(threads: int) -> None:
    """A local worker's start: with ``threads``, Arrow's thread pools that size."""
    if threads:
        import pyarrow as pa

        pa.set_cpu_count(threads)
        pa.set_io_thread_count(threads)


def _died(task: Task) -> FileResult:
    return FileResult(
        task.source,
        task.caseid,
        "failed",
        error="the worker process died converting this file (killed, or out of memory)",
    )


def run_dask(
    work: Work,
    tasks: list[Task],
    scheduler: str | None,
    jobs: int,
    done: Callable[[FileResult], None],
) -> None:
    """Run ``work`` on every task on a dask.distributed cluster (a local one of ``jobs``
    workers without a scheduler address). A task the cluster fails (a worker killed
    too often, a lost connection) is a failed result."""
    distributed = require("distributed", "dataset", "engine='dask'")
    Client, LocalCluster, as_completed = (
        distributed.Client,
        distributed.LocalCluster,
        distributed.as_completed,
    )
    with contextlib.ExitStack() as stack:
        if scheduler:
            client = stack.enter_context(Client(scheduler))
        else:
            cluster = stack.enter_context(
                LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True)
            )
            client = stack.enter_context(Client(cluster))
        futures = client.map(work, tasks, pure=False)
        owner = {f.key: t for f, t in zip(futures, tasks)}
        for future in as_completed(futures):
            try:
                done(future.result())
            except Exception as exc:
                # whatever the cluster raises for one file is that file's failure
                task = owner[future.key]
                done(
                    FileResult(
                        task.source,
                        task.caseid,
                        "failed",
                        error=f"{type(exc).__name__} on the cluster: {exc}",
                    )
                )


# ---- the run -----------------------------------------------------------------------------


def find_inputs(inputs: Iterable[str | os.PathLike]) -> list[str]:
    """Absolute paths of the recordings named by files, folders (every ``*.vital`` below
    them) and glob patterns, sorted, each once.

    Raises
    ------
    FileNotFoundError
        An input that is no file or folder and matches nothing.
    """
    found: set[str] = set()
    for item in map(os.fspath, inputs):
        paths = [item] if os.path.exists(item) else sorted(glob.glob(item, recursive=True))
        if not paths:
            raise FileNotFoundError(f"no such file, folder or match: {item!r}")
        for path in paths:
            if os.path.isdir(path):
                found.update(
                    p
                    for p in glob.glob(os.path.join(path, "**", "*"), recursive=True)
                    if p.lower().endswith(".vital") and os.path.isfile(p)
                )
            else:
                found.add(path)
    return sorted({os.path.abspath(p) for p in found})


def new_caseid(source: str, taken: set[str]) -> str:
    """The file name without ``.vital``; a name already taken (or reserved: ``_``/``.``
    start the dataset's own files) gets a suffix from its path's hash."""
    stem = os.path.basename(source)
    if stem.lower().endswith(".vital"):
        stem = stem[: -len(".vital")]
    stem = stem.lstrip("_.") or "case"
    name = stem
    if name in taken:
        name = f"{stem}-{hashlib.sha1(source.encode()).hexdigest()[:8]}"
    taken.add(name)
    return name


class Progress:
    """A progress bar on stderr (tqdm): items done, and the rate of an amount they add
    up (MB/s by default); by default only on a terminal with tqdm installed, nothing in
    a pipe. ``enabled=True`` without tqdm raises ImportError naming the extra.

    Parameters
    ----------
    total, initial
        Items in all, and done before this run.
    enabled
        True, False, or None: when stderr is a terminal.
    unit, desc
        The bar's unit (``file``, ``case``) and label.
    rate, scale, digits
        The postfix: ``amount * scale / second`` with ``digits`` decimals and the
        label ``rate`` (bytes as ``MB/s`` by default).
    """

    def __init__(
        self,
        total: int,
        enabled: bool | None,
        unit: str = "file",
        initial: int = 0,
        desc: str | None = None,
        rate: str = "MB/s",
        scale: float = 1e-6,
        digits: int = 1,
    ):
        self.bar = None
        self.amount = 0.0
        self.form = f"{{:.{digits}f}} {rate}"
        self.scale = scale
        self.start = time.perf_counter()
        if not total or enabled is False or (enabled is None and not sys.stderr.isatty()):
            return
        if enabled is None and not available("tqdm"):
            return  # a bar nobody asked for is not worth an error
        tqdm = require("tqdm", "dataset", "a progress bar").tqdm
        self.bar = tqdm(
            total=total,
            initial=initial,
            unit=unit,
            desc=desc,
            file=sys.stderr,
            dynamic_ncols=True,
        )

    def update(self, amount: float = 0) -> None:
        """One more item done, which adds ``amount`` to the rate's total."""
        if self.bar is None:
            return
        self.amount += amount
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        self.bar.set_postfix_str(
            self.form.format(self.amount * self.scale / elapsed), refresh=False
        )
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def convert(
    inputs: Iterable[str | os.PathLike] | str | os.PathLike,
    dataset: str | os.PathLike,
    *,
    jobs: int | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    progress: bool | None = None,
    strict: bool = False,
    compat: str | None = None,
    compression_level: int | None = None,
) -> ConversionReport:
    """Convert recordings into a dataset: one Parquet file each, a manifest, a track table.

    Parameters
    ----------
    inputs
        ``.vital`` files, folders (every ``*.vital`` below) and glob patterns.
    dataset
        The dataset folder (created if missing). Re-running converts only what is new or
        changed, and takes back outputs a killed run finished.
    jobs
        Worker processes; default: the machine's cores.
    engine
        ``"local"`` (a process pool) or ``"dask"`` (a dask.distributed cluster).
    scheduler
        The dask scheduler's address; None with ``engine="dask"``: a local cluster.
    progress
        A progress bar on stderr; None: only when stderr is a terminal.
    strict, compat
        Passed to ``vitalproc.read``: ``strict=True`` fails a file at the first fault.
    compression_level
        zstd level of every column (default: ``vitaldb_parquet.COMPRESSION_LEVEL``,
        and ``IVALS_COMPRESSION_LEVEL`` for integer samples).

    Returns
    -------
    ConversionReport
        One ``FileResult`` per input; ``report.ok`` is False when any failed.

    Raises
    ------
    FileNotFoundError
        An input matches nothing.
    ValueError
        An unknown engine, or ``jobs`` < 1.
    BlockingIOError
        Another conversion is writing to the same dataset.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
    if jobs is None:
        jobs = os.cpu_count() or 1
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}")
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    sources = find_inputs(inputs)
    folder = os.path.abspath(dataset)
    os.makedirs(folder, exist_ok=True)
    began = time.perf_counter()
    with _locked(folder):
        _remove_stale_temporaries(folder)
        rows, tracks = manifest.reconcile(folder)
        plan = _Conversion(folder, rows, tracks)
        tasks = plan.tasks(
            sources,
            Task(
                source="",
                caseid="",
                dataset=folder,
                strict=strict,
                compat=compat,
                compression_level=compression_level,
            ),
        )
        bar = Progress(len(tasks), progress)

        def done(result: FileResult) -> None:
            plan.record(result)
            bar.update(result.size or 0)

        try:
            if engine == "local":
                run_local(convert_file, tasks, jobs, done)
            else:  # the workers write the outputs: the folder must be theirs too
                run_dask(convert_file, tasks, scheduler, jobs, done)
        finally:  # also on Ctrl-C: what finished is in the manifest
            bar.close()
            plan.save()
    return ConversionReport(folder, plan.results, time.perf_counter() - began)


@contextlib.contextmanager
def _locked(folder: str) -> Iterator[None]:
    """One conversion at a time per dataset (where the OS has ``flock``)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with open(os.path.join(folder, LOCK_NAME), "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise BlockingIOError(f"another conversion is writing to {folder}") from exc
        yield


def _remove_stale_temporaries(folder: str) -> None:
    for path in glob.glob(os.path.join(folder, f".*{TMP_SUFFIX}")):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


class _Conversion:
    """The manifest as it stands, what to convert, and the results as they come.

    A converted file's manifest row and track rows are made from its output's footer
    (read here, not sent back by the worker): the output is the one record of what was
    converted, and the results stay small however many files there are.
    """

    def __init__(self, folder: str, rows: dict[str, dict], tracks: Any):
        self.folder = folder
        self.rows = rows  # source -> manifest row
        self.tracks = tracks  # the track table as it was (Arrow)
        self.new_tracks: dict[str, Any] = {}  # caseid -> its new rows (Arrow)
        self.dropped: set[str] = set()  # cases whose old rows go
        self.results: list[FileResult] = []

    def tasks(self, sources: list[str], template: Task) -> list[Task]:
        taken = {row["caseid"] for row in self.rows.values()}
        tasks = []
        for source in sources:
            row = self.rows.get(source)
            caseid = row["caseid"] if row else new_caseid(source, taken)
            try:
                stat = os.stat(source)
            except OSError as exc:
                self.record(
                    FileResult(source, caseid, "failed", error=f"{type(exc).__name__}: {exc}")
                )
                continue
            have = (
                row is not None
                and row["status"] in manifest.CONVERTED
                and os.path.exists(os.path.join(self.folder, row["output"]))
            )
            if have and row["size"] == stat.st_size and row["mtime"] == stat.st_mtime_ns:
                self.results.append(
                    FileResult(
                        source,
                        caseid,
                        "skipped",
                        size=row["size"],
                        mtime_ns=row["mtime"],
                        hash=row["hash"],
                        output=row["output"],
                    )
                )
                continue
            expected = row["hash"] if have and row["size"] == stat.st_size else None
            tasks.append(replace(template, source=source, caseid=caseid, expected_hash=expected))
        return tasks

    def record(self, result: FileResult) -> None:
        import pyarrow as pa

        self.results.append(result)
        old = self.rows.get(result.source)
        if result.status == "unchanged":
            self.rows[result.source] = {**old, "mtime": result.mtime_ns}
            return
        self.dropped.add(result.caseid)
        if result.converted:
            layout = read_layout(os.path.join(self.folder, result.output))
            self.rows[result.source] = manifest.manifest_row(
                result.caseid,
                result.output,
                result.status,
                None,
                layout,
                result.output_bytes,
                result.seconds,
            )
            self.new_tracks[result.caseid] = pa.Table.from_pylist(
                manifest.track_rows(result.caseid, layout), schema=manifest.tracks_schema()
            )
            return
        # Failed: an older output no longer stands for this source.
        if old is not None and old.get("output"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(self.folder, old["output"]))
        self.new_tracks.pop(result.caseid, None)
        self.rows[result.source] = manifest.failed_row(
            result.caseid,
            result.source,
            result.error or "",
            result.size,
            result.mtime_ns,
            result.hash,
            result.seconds,
        )

    def save(self) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        kept = self.tracks.filter(
            pc.invert(
                pc.is_in(self.tracks.column("caseid"), pa.array(sorted(self.dropped), pa.string()))
            )
        )
        manifest.write_tables(
            self.folder,
            list(self.rows.values()),
            pa.concat_tables([kept, *self.new_tracks.values()]),
        )

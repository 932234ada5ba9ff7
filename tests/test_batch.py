"""Converting many recordings: the manifest, resuming, faults, kills, engines, the command.

What a converted case reads back as is ``test_dataset``'s subject; here every check is on
the run: which files are converted, skipped or failed, what the manifest says, that no
half-written file is ever left, and that the dask engine writes the very same dataset.
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow.parquet as pq
import pytest

import vitalproc
from test_dataset import read_quietly, recording_differences
from vitalproc.dataset import batch
from vitalproc.dataset.case_reader import read_layout
from vitalproc.dataset.manifest import MANIFEST_NAME, TRACKS_NAME
from vitalproc.dataset.query import open_dataset

from fixtures_catalog import FIXTURES, T0
from vitalbytes import F32, I16, NUM, WAVE, VitalBuilder, gzip_bytes

GOOD = ("typical", "vitaldb_packed_many", "numeric_all_fmts")
#: Inputs that are no recording: the conversion fails, the others go on.
CORRUPT = {"bad_magic": "no VITA signature", "ends_after_version": "header"}
TIMING = ("converted_at", "seconds")  # manifest columns that differ from run to run


def make_inputs(folder, names=GOOD + tuple(CORRUPT) + ("gzip_truncated_raw",)):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / f"{name}.vital").write_bytes(FIXTURES[name]())
    return folder


def manifest(folder) -> dict[str, dict]:
    """The manifest's rows by case, ``mtime`` in integer nanoseconds."""
    table = pq.read_table(folder / MANIFEST_NAME)
    table = table.set_column(
        table.schema.get_field_index("mtime"), "mtime", table.column("mtime").cast("int64")
    )
    return {r["caseid"]: r for r in table.to_pylist()}


def leftovers(folder) -> list[str]:
    """Temporary files in a dataset folder."""
    return glob.glob(os.path.join(folder, f".*{batch.TMP_SUFFIX}"))


def cases_equal(a, b) -> None:
    """Two datasets hold the same cases, byte for byte, and the same tables."""
    names = sorted(p.name for p in a.glob("*.parquet"))
    assert names == sorted(p.name for p in b.glob("*.parquet"))
    for name in names:
        if name.startswith("_"):
            continue
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    strip = [{k: v for k, v in r.items() if k not in TIMING} for r in manifest(a).values()]
    assert strip == [{k: v for k, v in r.items() if k not in TIMING} for r in manifest(b).values()]
    assert pq.read_table(a / TRACKS_NAME).equals(pq.read_table(b / TRACKS_NAME))


@pytest.fixture(scope="module")
def big_vital(tmp_path_factory):
    """30 minutes of four 500 Hz waves: its output takes long enough to write that a
    test can kill the conversion in the middle of it."""
    rng = np.random.default_rng(20231114)
    b = VitalBuilder().header(dgmt=-540, dtstart=T0, dtend=T0 + 1800)
    b.device(1, "SNUADC", "SNUADC")
    for k in range(4):
        b.track(k + 1, WAVE, I16, f"W{k}", srate=500.0, gain=0.01, did=1)
    b.track(9, NUM, F32, "HR", did=1)
    walk = np.cumsum(rng.integers(-20, 21, size=(4, 1800 * 500)), axis=1).clip(-32000, 32000)
    for s in range(1800):
        for k in range(4):
            b.wave(k + 1, T0 + s, walk[k, s * 500 : (s + 1) * 500].tolist())
        b.number(9, T0 + s, 60.0 + s % 7)
    path = tmp_path_factory.mktemp("big") / "big.vital"
    path.write_bytes(gzip_bytes(b.bytes()))
    return path


# ---- one run ------------------------------------------------------------------------------


def test_every_file_gets_a_manifest_row(tmp_path):
    inputs = make_inputs(tmp_path / "in")
    report = vitalproc.convert(inputs, tmp_path / "ds", jobs=2, progress=False)
    assert not report.ok and len(report.results) == 6
    status = {r.caseid: r.status for r in report.results}
    assert status == {
        **dict.fromkeys(GOOD, "ok"),
        **dict.fromkeys(CORRUPT, "failed"),
        "gzip_truncated_raw": "warned",
    }
    rows = manifest(tmp_path / "ds")
    assert set(rows) == set(status)
    for case, row in rows.items():
        src = inputs / f"{case}.vital"
        stat = src.stat()
        assert row["source"] == str(src) and row["status"] == status[case]
        assert row["size"] == stat.st_size
        assert row["mtime"] == stat.st_mtime_ns  # nanoseconds, exactly
        assert row["hash"] == "sha256:" + hashlib.sha256(src.read_bytes()).hexdigest()
        assert row["vitalproc_version"] == vitalproc.__version__
        if case in CORRUPT:
            assert CORRUPT[case] in row["error"] and row["output"] is None
            assert not (tmp_path / "ds" / f"{case}.parquet").exists()
            continue
        vf = read_quietly(src)
        assert row["error"] is None and row["output"] == f"{case}.parquet"
        assert (row["dtstart"], row["dtend"], row["dgmt"]) == (vf.dtstart, vf.dtend, vf.dgmt)
        assert row["timezone"] == "+09:00"
        assert row["tracks"] == len(vf.trks)
        assert row["records"] == sum(len(t) for t in vf.trks.values())
        assert row["warnings"] == [w.message for w in vf.warnings]
        assert row["output_bytes"] == (tmp_path / "ds" / row["output"]).stat().st_size
    assert rows["gzip_truncated_raw"]["warnings"]
    assert leftovers(tmp_path / "ds") == []
    for r in report.results:
        assert (r.seconds > 0 and (r.peak_rss or 0) > 0) or r.status == "failed"


def test_strict_fails_a_file_the_default_reads_around(tmp_path):
    inputs = make_inputs(tmp_path / "in", ["gzip_truncated_raw"])
    report = vitalproc.convert(inputs, tmp_path / "ds", jobs=1, strict=True)
    assert report.results[0].status == "failed"
    assert "VitalFormatError" in report.results[0].error


# ---- resuming ------------------------------------------------------------------------------


def test_rerun_skips_unchanged_and_converts_what_changed(tmp_path):
    inputs = make_inputs(tmp_path / "in", GOOD)
    ds = tmp_path / "ds"
    vitalproc.convert(inputs, ds, jobs=2)
    outputs = {p.name: p.stat().st_mtime_ns for p in ds.glob("[!_]*.parquet")}
    again = vitalproc.convert(inputs, ds, jobs=2)
    assert {r.status for r in again.results} == {"skipped"}
    assert {p.name: p.stat().st_mtime_ns for p in ds.glob("[!_]*.parquet")} == outputs

    typical = inputs / "typical.vital"
    os.utime(typical, ns=(time.time_ns(), time.time_ns() + 10**9))  # same bytes, new mtime
    third = {r.caseid: r.status for r in vitalproc.convert(inputs, ds, jobs=2).results}
    assert third == {
        "typical": "unchanged",
        "vitaldb_packed_many": "skipped",
        "numeric_all_fmts": "skipped",
    }
    assert manifest(ds)["typical"]["mtime"] == typical.stat().st_mtime_ns
    assert (ds / "typical.parquet").stat().st_mtime_ns == outputs["typical.parquet"]

    typical.write_bytes(FIXTURES["gzip_multi_member"]())  # new content
    (inputs / "header_26.vital").write_bytes(FIXTURES["header_26"]())
    (ds / "numeric_all_fmts.parquet").unlink()
    fourth = {r.caseid: r.status for r in vitalproc.convert(inputs, ds, jobs=2).results}
    assert fourth == {
        "typical": "ok",
        "vitaldb_packed_many": "skipped",
        "numeric_all_fmts": "ok",
        "header_26": "ok",
    }
    assert (
        recording_differences(read_quietly(typical), vitalproc.read(ds / "typical.parquet")) == []
    )
    assert sorted(open_dataset(ds).cases) == sorted(GOOD + ("header_26",))


def test_tables_rebuilt_from_the_outputs(tmp_path):
    """A run killed before it wrote the manifest: the outputs' footers name their sources."""
    inputs = make_inputs(tmp_path / "in", GOOD)
    vitalproc.convert(inputs, tmp_path / "ds", jobs=2)
    shutil.copytree(tmp_path / "ds", tmp_path / "copy")
    for name in (MANIFEST_NAME, TRACKS_NAME):
        (tmp_path / "ds" / name).unlink()
    again = vitalproc.convert(inputs, tmp_path / "ds", jobs=2)
    assert {r.status for r in again.results} == {"skipped"}
    cases_equal(tmp_path / "ds", tmp_path / "copy")


def test_a_failed_reconversion_removes_the_stale_output(tmp_path):
    inputs = make_inputs(tmp_path / "in", ["typical"])
    vitalproc.convert(inputs, tmp_path / "ds", jobs=1)
    (inputs / "typical.vital").write_bytes(FIXTURES["bad_magic"]())
    report = vitalproc.convert(inputs, tmp_path / "ds", jobs=1)
    assert report.results[0].status == "failed"
    assert not (tmp_path / "ds" / "typical.parquet").exists()
    assert open_dataset(tmp_path / "ds").cases == []


# ---- nothing half-written, whatever happens -------------------------------------------------


def _case_temporaries(folder) -> list[str]:
    """Temporary files of case outputs (not of the manifest or track table)."""
    return [p for p in leftovers(folder) if not os.path.basename(p).startswith("._")]


def _wait_for_temporary(folder, proc, timeout=60.0) -> list[str]:
    """Poll until a case output is being written; its temporary files."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        found = _case_temporaries(folder)
        if found:
            return found
        time.sleep(0.001)
    return []


def _convert_in_a_child(inputs, ds, jobs=1) -> subprocess.Popen:
    """``convert`` in a process group of its own (killed whole, its workers too)."""
    code = (
        "import sys, vitalproc; "
        "r = vitalproc.convert(sys.argv[1], sys.argv[2], jobs=int(sys.argv[3])); "
        "sys.exit(0 if r.ok else 1)"
    )
    env = {**os.environ, "TMPDIR": str(ds.parent)}  # what a killed forkserver leaves
    return subprocess.Popen(
        [sys.executable, "-c", code, str(inputs), str(ds), str(jobs)],
        start_new_session=True,
        env=env,
    )


def test_killed_conversion_leaves_no_partial_file_and_resumes(tmp_path, big_vital):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(4):
        shutil.copy(big_vital, inputs / f"big{i}.vital")
    ds = tmp_path / "ds"
    proc = _convert_in_a_child(inputs, ds)
    try:
        assert _wait_for_temporary(ds, proc), "the conversion ended before it was killed"
        os.killpg(proc.pid, signal.SIGKILL)  # the run and its workers, mid-file
    finally:
        proc.wait()
    # Whatever has an output's name is complete: it reads back as its source.
    done = sorted(p for p in ds.glob("[!_.]*.parquet"))
    assert len(done) < 4
    for path in done:
        assert recording_differences(read_quietly(big_vital), vitalproc.read(path), False) == []
    report = vitalproc.convert(inputs, ds, jobs=2)
    assert report.ok and leftovers(ds) == []
    assert sorted(r.status for r in report.results) == sorted(
        ["skipped"] * len(done) + ["ok"] * (4 - len(done))
    )
    vitalproc.convert(inputs, tmp_path / "clean", jobs=2)
    cases_equal(ds, tmp_path / "clean")


def test_a_killed_worker_fails_nothing(tmp_path, big_vital):
    """The files a killed worker held are retried alone, and convert."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(4):
        shutil.copy(big_vital, inputs / f"big{i}.vital")
    ds = tmp_path / "ds"
    proc = _convert_in_a_child(inputs, ds, jobs=2)
    try:
        writer = None
        while writer is None and proc.poll() is None:  # the file may be renamed first
            writer = _process_holding(_wait_for_temporary(ds, proc))
        assert writer is not None and writer != proc.pid, "no worker caught writing"
        os.kill(writer, signal.SIGKILL)
        assert proc.wait(timeout=120) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert {r["status"] for r in manifest(ds).values()} == {"ok"}
    assert len(open_dataset(ds).cases) == 4


def _process_holding(paths) -> int | None:
    """The pid of a process that has one of ``paths`` open."""
    wanted = {os.path.realpath(p) for p in paths}
    for fd_dir in glob.glob("/proc/[0-9]*/fd"):
        try:
            for fd in os.listdir(fd_dir):
                if os.path.realpath(os.path.join(fd_dir, fd)) in wanted:
                    return int(fd_dir.split("/")[2])
        except OSError:
            continue
    return None


def work_or_die(task: batch.Task) -> batch.FileResult:
    """A work function whose worker dies on the file named 'poison'."""
    if "poison" in task.source:
        os._exit(9)
    return batch.FileResult(task.source, task.caseid, "ok")


def test_a_file_that_kills_its_worker_fails_alone(tmp_path):
    tasks = [
        batch.Task(str(tmp_path / f"{n}.vital"), n, str(tmp_path))
        for n in ("a", "b", "poison", "c", "d")
    ]
    results = []
    batch.run_local(work_or_die, tasks, 2, results.append)
    status = {r.caseid: r.status for r in results}
    assert status == {"a": "ok", "b": "ok", "poison": "failed", "c": "ok", "d": "ok"}
    assert "died" in next(r.error for r in results if r.caseid == "poison")


def test_atomic_file(tmp_path):
    target = tmp_path / "out.bin"
    with pytest.raises(RuntimeError), batch.atomic_file(str(target)) as f:
        f.write(b"half")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []
    with batch.atomic_file(str(target)) as f:
        f.write(b"whole")
    assert target.read_bytes() == b"whole" and list(tmp_path.iterdir()) == [target]
    assert target.stat().st_mode & 0o777 == 0o644


def test_stale_temporaries_removed_and_one_run_at_a_time(tmp_path):
    inputs = make_inputs(tmp_path / "in", ["typical"])
    ds = tmp_path / "ds"
    ds.mkdir()
    stale = ds / f".typical.parquet.x1y2{batch.TMP_SUFFIX}"
    stale.write_bytes(b"left by a killed run")
    with open(ds / batch.LOCK_NAME, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with pytest.raises(BlockingIOError, match="another conversion"):
            vitalproc.convert(inputs, ds)
        assert stale.exists()
    assert vitalproc.convert(inputs, ds).ok
    assert not stale.exists()


# ---- inputs and case ids ----------------------------------------------------------------------


def test_inputs_files_folders_globs(tmp_path):
    make_inputs(tmp_path / "a", ["typical", "header_26"])
    make_inputs(tmp_path / "a" / "deep", ["header_10"])
    (tmp_path / "a" / "notes.txt").write_text("not a recording")
    make_inputs(tmp_path / "b", ["typical"])
    found = batch.find_inputs(
        [tmp_path / "a", str(tmp_path / "b" / "*.vital"), tmp_path / "a" / "typical.vital"]
    )
    assert found == sorted(
        str(p)
        for p in [
            tmp_path / "a" / "typical.vital",
            tmp_path / "a" / "header_26.vital",
            tmp_path / "a" / "deep" / "header_10.vital",
            tmp_path / "b" / "typical.vital",
        ]
    )
    with pytest.raises(FileNotFoundError, match="nothing"):
        batch.find_inputs([tmp_path / "nothing*.vital"])


def test_case_ids_unique_and_stable(tmp_path):
    make_inputs(tmp_path / "a", ["typical"])
    make_inputs(tmp_path / "b", ["typical"])
    (tmp_path / "b" / "_manifest.vital").write_bytes(FIXTURES["header_26"]())
    ds = tmp_path / "ds"
    first = {r.source: r.caseid for r in vitalproc.convert(tmp_path, ds, jobs=2).results}
    assert sorted(first.values())[:2] == ["manifest", "typical"]
    assert len(set(first.values())) == 3
    other = next(c for c in first.values() if c.startswith("typical-"))
    assert first[str(tmp_path / "b" / "typical.vital")] == other
    again = {r.source: r.caseid for r in vitalproc.convert(tmp_path, ds, jobs=2).results}
    assert again == first


# ---- the dask engine ---------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_dask_engine_writes_the_same_dataset(tmp_path):
    import distributed

    inputs = make_inputs(tmp_path / "in")
    local = vitalproc.convert(inputs, tmp_path / "local", jobs=2)
    with distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
        local_directory=tmp_path / "scratch",
    ) as cluster:
        remote = vitalproc.convert(
            inputs, tmp_path / "dask", engine="dask", scheduler=cluster.scheduler_address
        )
    assert sorted((r.caseid, r.status) for r in remote.results) == sorted(
        (r.caseid, r.status) for r in local.results
    )
    cases_equal(tmp_path / "local", tmp_path / "dask")


# ---- the command ---------------------------------------------------------------------------------


def run_cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "vitalproc", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def test_convert_command(tmp_path):
    inputs = make_inputs(tmp_path / "in")
    failed = run_cli("convert", inputs, "-o", tmp_path / "ds", "--jobs", "2")
    assert failed.returncode == 1
    assert "bad_magic.vital" in failed.stderr and "2 failed" in failed.stderr
    assert "file/s" not in failed.stderr  # no progress bar in a pipe
    good = make_inputs(tmp_path / "good", GOOD)
    ok = run_cli("convert", str(good / "*.vital"), "-o", tmp_path / "ds2", "--progress")
    assert ok.returncode == 0 and "3 converted" in ok.stderr
    assert "file/s" in ok.stderr or "file]" in ok.stderr  # the bar, forced
    assert sorted(open_dataset(tmp_path / "ds2").cases) == sorted(GOOD)
    assert run_cli("convert", tmp_path / "none*", "-o", tmp_path / "x").returncode == 2
    assert run_cli("convert", good, "-o", tmp_path / "x", "-j", "0").returncode == 2
    assert (
        run_cli(
            "convert", good, "-o", tmp_path / "x", "--scheduler", "tcp://127.0.0.1:1"
        ).returncode
        == 2
    )
    assert run_cli("convert", good).returncode == 2  # no -o


@pytest.mark.corpus
def test_corpus_recording_converts_and_reads_back(corpus, tmp_path):
    report = vitalproc.convert(corpus["icu_1h"], tmp_path / "ds", jobs=1)
    assert report.ok
    result = report.results[0]
    assert result.peak_rss < 400e6
    back = vitalproc.read(tmp_path / "ds" / result.output)
    assert recording_differences(read_quietly(corpus["icu_1h"]), back) == []
    assert read_layout(tmp_path / "ds" / result.output)["source"]["hash"] == result.hash

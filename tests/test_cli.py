"""The ``vitalproc`` command: the installed entry point in a subprocess for what only a
process shows (exit codes, pipes, stdout bytes, the console script), ``cli.main`` in-process
for every flag and bad input."""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import msgpack
import numpy as np
import pytest

import vitalproc
from conftest import REAL_FILES
from vitalproc import cli
from vitalproc.cli._args import parse_time
from vitalproc.ops import selection as _base

from fixtures_catalog import FIXTURES

SCRIPT = Path(sys.executable).with_name("vitalproc")
#: The installed console script (as users run it); from a source tree that is not
#: installed (PYTHONPATH=src), the same entry point through ``python -m vitalproc``.
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "vitalproc"]
REAL = str(REAL_FILES[0])


def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    """The command line, as ``COMMAND`` runs it."""
    return subprocess.run([*COMMAND, *args], capture_output=True, timeout=300, **kwargs)


def read(path) -> vitalproc.VitalFile:
    return vitalproc.read(path)


@pytest.fixture
def fixture_file(tmp_path):
    """A built fixture written to a file."""

    def make(name: str) -> str:
        path = tmp_path / f"{name}.vital"
        path.write_bytes(FIXTURES[name]())
        return str(path)

    return make


def main(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# -- the process: console script, stdout bytes, pipes, exit codes -----------------------------


def test_readme_first_command_and_version():
    proc = subprocess.run(
        [sys.executable, "-m", "vitalproc", "info", vitalproc.SAMPLE],
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert b"tracks    16   records 625" in proc.stdout
    version = run("--version")
    assert version.returncode == 0
    assert version.stdout.decode().strip() == f"vitalproc {vitalproc.__version__}"


def test_export_to_stdout_is_the_api_and_deterministic():
    first = run("export", REAL, "--format", "json", "--compact")
    again = run("export", REAL, "-format=json", "-compact")  # the Go processor's spelling
    assert first.returncode == 0 and first.stderr == b""
    assert first.stdout == again.stdout
    doc = json.loads(first.stdout)
    vf = read(REAL)
    assert list(doc["tracks"]) == list(vf.trks)
    for name, trk in vf.trks.items():
        got = doc["tracks"][name]["records"]
        assert [r["dt"] for r in got] == trk.dt.tolist()
        if trk.type == 1:
            assert [v for r in got for v in r["val"]] == trk.samples.tolist()
        elif trk.type == 2:
            assert np.array([r["val"] for r in got], np.float32).tobytes() == trk.values.tobytes()


def test_several_files_to_every_format(tmp_path):
    import duckdb
    import pyarrow as pa

    files = [str(p) for p in REAL_FILES]
    models = {Path(f).stem: read(f) for f in files}
    for fmt in ("msgpack", "parquet", "arrow", "csv"):
        proc = run("export", *files, "-o", str(tmp_path / fmt) + os.sep, "-f", fmt)
        assert proc.returncode == 0, proc.stderr
    for stem, vf in models.items():
        doc = msgpack.unpackb((tmp_path / "msgpack" / f"{stem}.msgpack").read_bytes())
        assert [t["records_count"] for t in doc["tracks"].values()] == [
            len(t) for t in vf.trks.values()
        ]
        rows = duckdb.sql(f"SELECT count(*) FROM '{tmp_path / 'parquet' / stem}.parquet'")
        assert rows.fetchall() == [(sum(len(t) for t in vf.trks.values()),)]
        table = pa.ipc.open_file(str(tmp_path / "arrow" / f"{stem}.arrow")).read_all()
        assert table.column("track").to_pylist() == [
            n for n, t in vf.trks.items() for _ in range(len(t))
        ]
        with open(tmp_path / "csv" / f"{stem}.csv", newline="") as f:
            lines = sum(1 for _ in csv.reader(f)) - 1
        assert lines == sum(len(t.samples) if t.type == 1 else len(t) for t in vf.trks.values())
    leftovers = [p for p in tmp_path.rglob("*") if p.name.startswith(".")]
    assert leftovers == []


def test_pipe_closed_early_ends_quietly():
    with subprocess.Popen(
        [*COMMAND, "export", str(REAL_FILES[-1]), "-f", "text"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        head = proc.stdout.read(100)
        proc.stdout.close()
        err = proc.stderr.read()
        assert proc.wait(timeout=120) == 0
    assert head.startswith(b"=== File ===") and err == b""


def test_bad_input_in_a_process(tmp_path):
    missing = run("export", str(tmp_path / "nope.vital"), "-o", str(tmp_path / "x.json"))
    assert missing.returncode == 1
    assert missing.stderr.decode().splitlines() == [
        f"vitalproc: error: {tmp_path / 'nope.vital'}: no such file"
    ]
    assert list(tmp_path.iterdir()) == []
    usage = run("export", REAL, "--bogus")
    assert usage.returncode == 2 and len(usage.stderr.splitlines()) == 1
    assert b"Traceback" not in usage.stderr + missing.stderr


def test_grid_command_is_to_numpy(tmp_path):
    out = tmp_path / "grid.csv"
    proc = run("grid", REAL, "--interval", "0.5", "-t", "HR,PLETH_SAT_O2", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    vf = vitalproc.read(REAL, tracks=["HR", "PLETH_SAT_O2"])  # as vitaldb's vital_recs
    names = list(vf.trks)
    want = vf.to_numpy(names, 0.5, return_timestamp=True)
    rows = list(csv.reader(out.read_text().splitlines()))
    assert rows[0] == ["Time", *names]
    got = np.array([[float(c) if c else math.nan for c in r] for r in rows[1:]])
    np.testing.assert_array_equal(got[:, 0], want[:, 0])
    np.testing.assert_array_equal(got[:, 1:].astype(np.float32), want[:, 1:].astype(np.float32))


# -- info, tracks, devices --------------------------------------------------------------------


def test_info_text_and_json(capsys, tmp_path):
    bad = tmp_path / "bad.vital"
    bad.write_bytes(b"not gzip at all")
    code, out, err = main(capsys, "info", REAL, str(bad), vitalproc.SAMPLE, "--json")
    assert code == 1
    docs = [json.loads(line) for line in out.splitlines()]
    assert [d["file"] for d in docs] == [REAL, vitalproc.SAMPLE]  # the bad one did not stop
    assert docs[1]["tracks"] == 16 and docs[1]["records"] == 625
    assert err.splitlines() == [
        f"vitalproc: error: {bad}: not a gzip file at compressed byte offset 0"
    ]
    code, out, _ = main(capsys, "info", vitalproc.SAMPLE)
    assert code == 0 and "UTC offset +120 min" in out


def test_json_listings_never_hold_nan(capsys, fixture_file):
    def strict(text):
        return json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c} in JSON"))

    path = fixture_file("nan_inf_dt")
    code, out, _ = main(capsys, "info", path, "--json", "--quiet")
    assert code == 0 and strict(out)["dtstart"] is None
    code, out, _ = main(capsys, "tracks", fixture_file("numeric_all_fmts"), "-f", "json")
    assert code == 0 and strict(out)


def test_tracks_and_devices_listings(capsys):
    vf = read(REAL)
    code, out, _ = main(capsys, "tracks", REAL)
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()[1:]] == list(vf.trks)
    code, out, _ = main(capsys, "tracks", REAL, "--format", "json", "--track-type", "wave")
    assert [t["name"] for t in json.loads(out)] == [n for n, t in vf.trks.items() if t.type == 1]
    code, out, _ = main(capsys, "tracks", REAL, "--format", "csv", "-x", "*HR")
    assert [r["name"] for r in csv.DictReader(io.StringIO(out))] == [
        n for n in vf.trks if not n.endswith("HR")
    ]
    code, out, _ = main(capsys, "devices", REAL, "--format", "json")
    assert json.loads(out) == [
        {"name": d.name, "type_name": d.type, "port": d.port} for d in vf.devs.values()
    ]


# -- export flags -----------------------------------------------------------------------------


def export(capsys, *args: str) -> tuple[int, dict, str]:
    code, out, err = main(capsys, "export", REAL, "--compact", *args)
    return code, (json.loads(out) if out else {}), err


def test_track_flags(capsys):
    vf = read(REAL)
    every = list(vf.trks)
    _, doc, _ = export(capsys, "--tracks", "HR", "-tracks", "ECG_II")
    assert list(doc["tracks"]) == [n for n in every if n.endswith(("HR", "ECG_II"))]
    _, doc, _ = export(capsys, "--track-pattern", "*_HR,ABP*", "--max-tracks", "2")
    assert (
        list(doc["tracks"])
        == [n for n in every if n.endswith("_HR") or n.split("/")[-1].startswith("ABP")][:2]
    )
    _, doc, _ = export(capsys, "-x", "Intellivue/*", "--track-type", "STRING,wav")
    assert list(doc["tracks"]) == [
        n for n, t in vf.trks.items() if t.type == 5 and not n.startswith("Intellivue/")
    ]
    assert doc["file_info"]["tracks_count"] == len(doc["tracks"])
    code, _, err = main(capsys, "export", REAL, "--track-type", "video")
    assert code == 2 and "unknown track type 'video'" in err


def test_unknown_track_names(capsys, tmp_path):
    code, doc, err = export(capsys, "-t", "HRX,Intellivue/ECG_II")
    assert code == 0 and list(doc["tracks"]) == ["Intellivue/ECG_II"]
    assert err == (f"vitalproc: warning: {REAL}: no track matches 'HRX' (close: Intellivue/HR)\n")
    code, doc, err = export(capsys, "-t", "HRX", "--quiet")
    assert code == 1 and doc == {}
    assert err == f"vitalproc: error: {REAL}: no track matches the selection\n"
    out = tmp_path / "x.json"
    code, _, _ = main(capsys, "export", REAL, "--track", "A,B", "-o", str(out))
    assert code == 1 and not out.exists()


def test_record_flags(capsys):
    name = next(n for n, t in read(REAL).trks.items() if t.type == 1)
    vf = vitalproc.read(REAL, tracks=[name])  # its span is the selection's (vitaldb's rule)
    dt = vf.trks[name].dt.tolist()
    offset = float(dt[2] - vf.dtstart)
    _, doc, _ = export(capsys, "-t", name, "--start", repr(offset), "--max-samples", "3")
    assert [r["dt"] for r in doc["tracks"][name]["records"]] == dt[2:5]
    _, doc, _ = export(capsys, "-t", name, "--start", f"@{dt[1]!r}", "--end", repr(dt[4]))
    assert [r["dt"] for r in doc["tracks"][name]["records"]] == dt[1:4]
    _, doc, _ = export(capsys, "-t", name, "-start-time", repr(dt[1]), "-end-time", "0")
    assert doc["tracks"][name]["records_count"] == len(dt) - 1
    iso = parse_time("2019-06-27T13:14:20", False).resolve(vf)
    _, doc, _ = export(capsys, "-t", name, "--start", "2019-06-27T13:14:20")
    assert doc["tracks"][name]["records_count"] == sum(t >= iso for t in dt)
    _, doc, _ = export(capsys, "-t", name, "--start=-5s")
    assert doc["tracks"][name]["records_count"] == sum(t >= vf.dtend - 5 for t in dt)
    _, doc, _ = export(capsys, "-t", name, "--physical", "--max-samples", "1")
    trk = vf.trks[name]
    assert (
        doc["tracks"][name]["records"][0]["val"]
        == (trk.samples[: trk.offsets[1]] * trk.gain + trk.offset).tolist()
    )
    code, _, err = main(capsys, "export", REAL, "--start", "yesterday")
    assert code == 2 and err.count("\n") == 1 and "invalid time 'yesterday'" in err
    code, _, err = main(capsys, "export", REAL, "--max-samples", "lots")
    assert code == 2 and "not a whole number" in err


def test_parse_time():
    class File:
        dtstart, dtend, dgmt = 1_700_000_000.0, 1_700_003_600.0, -540

    f = File()
    assert parse_time("90").resolve(f) == f.dtstart + 90
    assert parse_time("5m").resolve(f) == f.dtstart + 300
    assert parse_time("1.5h").resolve(f) == f.dtstart + 5400
    assert parse_time("-10").resolve(f) == f.dtend - 10
    assert parse_time("1700000100").resolve(f) == 1_700_000_100
    assert parse_time("@12.5").resolve(f) == 12.5
    assert parse_time("2023-11-15T07:13:20").resolve(f) == f.dtstart  # file's zone: KST
    assert parse_time("2023-11-14T22:13:20Z").resolve(f) == f.dtstart
    assert parse_time("0", absolute=True) is None
    assert parse_time("300", absolute=True).resolve(f) == 300
    for bad in ("", "5x", "@5m", "nan", "tomorrow"):
        with pytest.raises(Exception, match="invalid time"):
            parse_time(bad)


def test_modes(capsys):
    vf = read(REAL)
    _, doc, _ = export(capsys, "--summary")
    name, trk = next(iter(vf.trks.items()))
    assert doc["tracks"][name]["records_count"] == len(trk)
    assert doc["tracks"][name]["last_record"]["dt"] == trk.dt[-1]
    _, doc, _ = export(capsys, "-info-only")
    assert list(doc) == ["file_info"]
    _, doc, _ = export(capsys, "--list-devices", "--info-only")
    assert list(doc) == ["file_info", "devices"]
    _, doc, _ = export(capsys, "-list-tracks")
    assert list(doc) == ["tracks"] and "records" not in doc["tracks"][name]
    code, out, _ = main(capsys, "export", REAL, "--list-tracks", "-f", "csv")
    assert next(csv.DictReader(io.StringIO(out)))["name"] == name
    code, _, err = main(capsys, "export", REAL, "--info-only", "--list-devices", "-f", "csv")
    assert code == 2 and "one table" in err
    code, out, _ = main(capsys, "export", REAL, "-f", "text", "--summary", "-t", name)
    assert f"{len(trk)} records" in out and "first" in out


def test_csv_wave_cells(capsys):
    vf = read(REAL)
    name = next(n for n, t in vf.trks.items() if t.type == 1)
    _, out, _ = main(capsys, "export", REAL, "-f", "csv", "-t", name, "--wave-cells")
    rows = list(csv.reader(io.StringIO(out)))[1:]
    trk = vf.trks[name]
    assert len(rows) == len(trk)
    assert json.loads(rows[0][2]) == trk.samples[: trk.offsets[1]].tolist()


def test_outputs(capsys, tmp_path, monkeypatch):
    code, _, _ = main(capsys, "export", REAL, "-o", str(tmp_path / "a.parquet"))
    assert code == 0 and (tmp_path / "a.parquet").read_bytes()[:4] == b"PAR1"
    code, _, err = main(capsys, "export", REAL, "-o", str(tmp_path / "a.xyz"))
    assert code == 2 and "cannot tell the format" in err
    files = [str(p) for p in REAL_FILES]
    code, _, _ = main(capsys, "export", *files, "-o", str(tmp_path / "{stem}.msgpack"))
    assert code == 0 and sorted(p.name for p in tmp_path.glob("*.msgpack")) == sorted(
        Path(f).stem + ".msgpack" for f in files
    )
    code, _, err = main(capsys, "export", *files, "-f", "json")
    assert code == 2 and "several input files" in err
    code, out, _ = main(capsys, "export", *files, "-f", "text", "--info-only")
    assert out.count("=== File ===") == len(files)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, _, err = main(capsys, "export", REAL, "-f", "msgpack")
    assert code == 2 and "binary" in err


def test_no_partial_output(capsys, tmp_path, monkeypatch):
    from vitalproc.writers import json as json_writer

    def fail_midway(plan, out, compact=False):
        out.write(b'{"file_info":')
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(json_writer, "write_plan", fail_midway)
    target = tmp_path / "out.json"
    code, _, err = main(capsys, "export", REAL, "-o", str(target))
    assert code == 1 and list(tmp_path.iterdir()) == []
    assert err == f"vitalproc: error: {REAL}: No space left on device\n"
    with pytest.raises(OSError):  # --verbose: the traceback, not one line
        cli.main(["export", REAL, "-o", str(target), "--verbose"])
    assert list(tmp_path.iterdir()) == []


def test_bad_files_do_not_stop_the_others(capsys, tmp_path, fixture_file):
    corrupt = tmp_path / "corrupt.vital"
    corrupt.write_bytes(gzip.compress(b"VITX" + bytes(40)))
    folder = tmp_path / "folder.vital"
    folder.mkdir()
    out = tmp_path / "out"
    code, _, err = main(
        capsys,
        "export",
        str(corrupt),
        str(folder),
        REAL,
        fixture_file("string_values"),
        "-o",
        str(out) + os.sep,
    )
    assert code == 1
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [Path(REAL).stem + ".json", "string_values.json"]
    )
    lines = err.splitlines()
    assert len(lines) == 2 and all(line.startswith("vitalproc: error: ") for line in lines)
    assert "is a directory" in lines[1]
    code, _, err = main(capsys, "export", str(corrupt), "--verbose")
    assert code == 1 and "Traceback" in err


def test_recovery_warnings_and_quiet(capsys, fixture_file):
    path = fixture_file("record_over_1mb")
    code, _, err = main(capsys, "export", path, "--info-only")
    assert code == 0 and err.startswith(f"vitalproc: warning: {path}: ")
    code, _, err = main(capsys, "export", path, "--info-only", "--quiet")
    assert code == 0 and err == ""
    code, out, _ = main(capsys, "export", path, "--compat", "vitaldb", "--list-tracks")
    assert code == 0 and json.loads(out)["tracks"]


def test_go_processor_invocation_without_subcommand(capsys):
    code, out, _ = main(
        capsys, "-format", "json", "-tracks", "Intellivue/HR", "-max-samples", "1", REAL
    )
    doc = json.loads(out)
    assert code == 0 and list(doc["tracks"]) == ["Intellivue/HR"]
    assert doc["tracks"]["Intellivue/HR"]["records_count"] == 1
    assert main(capsys)[0] == 2
    assert main(capsys, "export")[0] == 2


def test_every_subcommand_has_help(capsys):
    for command in ("info", "tracks", "devices", "export", "grid"):
        code, out, _ = main(capsys, command, "--help")
        assert code == 0 and out.startswith(f"usage: vitalproc {command}")
    assert {"convert", "query"} <= set(cli.build_parser().get_default("commands"))


def test_export_selection_matches_the_library(capsys, tmp_path):
    """The command's output equals the writer called on the API's selection."""

    out = tmp_path / "x.msgpack"
    code, _, _ = main(
        capsys, "export", REAL, "-o", str(out), "-t", "*HR", "--max-samples", "4", "--physical"
    )
    vf = read(REAL)
    expected = io.BytesIO()
    sel = _base.Selection(tracks=["*HR"], max_records=4, physical=True)
    vitalproc.export(vf, expected, "msgpack", sel)
    doc, want = msgpack.unpackb(out.read_bytes()), msgpack.unpackb(expected.getvalue())
    del doc["file_info"]["file"]
    assert code == 0 and doc == want


def test_msgpack_and_json_exports_without_numpy(tmp_path):
    """With nothing selected, the msgpack and JSON exports (and the tracks listing) of a
    recording with integer waves never import numpy: their bytes come from the reader's
    buffers, and equal the writers' on the API's plan."""
    from vitalproc.writers import json as json_writer
    from vitalproc.writers import msgpack as msgpack_writer

    out = {name: tmp_path / name for name in ("x.msgpack", "x.json", "compact.json")}
    check = (
        "import sys; from vitalproc import cli; code = cli.main(sys.argv[1:]); "
        "assert 'numpy' not in sys.modules, 'numpy imported'; sys.exit(code)"
    )
    for args in (
        ["export", REAL, "-o", str(out["x.msgpack"]), "-f", "msgpack", "-max-samples", "0"],
        ["export", REAL, "-o", str(out["x.json"])],
        ["export", REAL, "-o", str(out["compact.json"]), "--compact"],
        ["tracks", REAL, "--format", "json"],
    ):
        proc = subprocess.run(
            [sys.executable, "-c", check, *args], capture_output=True, timeout=120
        )
        assert proc.returncode == 0, proc.stderr
    for name, writer, options in (
        ("x.msgpack", msgpack_writer, {}),
        ("x.json", json_writer, {"compact": False}),
        ("compact.json", json_writer, {"compact": True}),
    ):
        expected = io.BytesIO()
        writer.write_plan(_base.plan(read(REAL), source=REAL), expected, **options)
        assert out[name].read_bytes() == expected.getvalue(), name


def test_cpu_and_memory_profiles(capsys, tmp_path):
    import pstats
    import tracemalloc

    cpu, mem = tmp_path / "cpu.prof", tmp_path / "mem.snap"
    code, _, err = main(
        capsys,
        "export",
        REAL,
        "-o",
        str(tmp_path / "x.json"),
        "-cpuprofile",
        str(cpu),
        "-memprofile",
        str(mem),
    )  # the Go processor's spellings
    assert code == 0 and not tracemalloc.is_tracing()
    stats = pstats.Stats(str(cpu)).stats  # type: ignore[attr-defined]
    assert any(name == "cmd_export" for _, _, name in stats)
    snapshot = tracemalloc.Snapshot.load(str(mem))
    assert snapshot.traces and err.startswith("vitalproc: memory: peak ")
    code, _, err = main(
        capsys,
        "info",
        REAL,
        "--cpuprofile",
        str(tmp_path / "i.prof"),
        "--memprofile",
        str(tmp_path / "i.snap"),
        "--quiet",
    )
    assert code == 0 and err == "" and pstats.Stats(str(tmp_path / "i.prof")).total_calls
    bad = tmp_path / "no" / "cpu.prof"
    code, _, err = main(capsys, "export", REAL, "--cpuprofile", str(bad))
    assert code == 2 and "no such folder" in err
    cpu.unlink()
    code, _, err = main(
        capsys, "export", str(tmp_path / "missing.vital"), "--cpuprofile", str(cpu)
    )  # written when the run fails too
    assert code == 1 and pstats.Stats(str(cpu)).total_calls  # type: ignore[attr-defined]
    assert "--cpuprofile FILE, -cpuprofile FILE" in main(capsys, "export", "--help")[1]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_output_to_a_fifo_or_device_is_written_not_replaced(capsys, tmp_path):
    """`-o /dev/null` or a FIFO: written to directly (a rename would replace the node)."""
    import stat
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    code, _, err = main(capsys, "export", REAL, "-f", "msgpack", "-o", str(fifo))
    reader.join(timeout=60)
    assert code == 0, err
    assert stat.S_ISFIFO(fifo.stat().st_mode) and sorted(os.listdir(tmp_path)) == ["pipe"]
    assert msgpack.unpackb(got[0])["file_info"]["file"] == REAL


def test_mistyped_command_is_a_usage_error(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["exprt", "case.vital"]) == 2
    assert "did you mean 'export'" in capsys.readouterr().err
    # A word that is no command stays the Go processor's `vitalproc FILE` form: a missing file.
    assert cli.main(["case.vital"]) == 1

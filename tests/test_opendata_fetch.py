"""``vitalproc.opendata.fetch`` and ``vitalproc fetch``: parallel downloads, selective
fetches, failures with reasons, a killed run resumed, conversion into a dataset."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import vitalproc
import vitalproc.opendata as od
from opendata_server import DatasetServer, make_case, tables_for
from vitalproc.cli import main
from vitalproc.opendata import settings, tables
from vitalproc.opendata.cache import CaseStore, verify_file

CASEIDS = tuple(range(1, 7))
NUMERICS = ["Solar8000/HR", "ART_MBP", "BIS/BIS"]
# The folder the imported vitalproc lives in (installed or src/), for the subprocesses
SRC = os.path.dirname(os.path.dirname(vitalproc.__file__))


@pytest.fixture(scope="module")
def cases():
    return {c: make_case(c, seconds=60, wave_rate=500) for c in CASEIDS}


@pytest.fixture
def server(cases, tmp_path, monkeypatch):
    with DatasetServer(cases, tables_for(cases), stall=30) as srv:
        monkeypatch.setattr(settings, "api_url", srv.url)
        monkeypatch.setattr(settings, "cache_dir", str(tmp_path / "cache"))
        monkeypatch.setattr(settings, "timeout", 0.5)
        monkeypatch.setattr(settings, "retries", 3)
        monkeypatch.setattr(settings, "backoff", 0.01)
        monkeypatch.setattr(settings, "offline", False)
        monkeypatch.setattr(settings, "mirror", None)
        tables.forget()
        yield srv
        tables.forget()


def test_parse_cases():
    assert od.parse_cases("1-3,812, 2") == [1, 2, 3, 812]
    for bad in ("", "a", "3-1", "0", "1-x"):
        with pytest.raises(ValueError):
            od.parse_cases(bad)


def test_fetch_whole_files(server, cases, tmp_path):
    out = tmp_path / "out"
    server.fault(server.case_path(2), "close", "500")
    report = od.fetch([*CASEIDS, 99], output=out, jobs=4)
    assert [r.caseid for r in report.results] == [*CASEIDS, 99]
    assert [r.status for r in report.results] == ["fetched"] * 6 + ["failed"]
    assert report.failed[0].reason == "HTTP 404 Not Found"
    assert "case 99: HTTP 404 Not Found" in report.summary()
    for c in CASEIDS:
        assert (out / f"{c}.vital").read_bytes() == cases[c]
    assert report.nbytes >= sum(len(d) for d in cases.values())
    # again: nothing over the network
    n = len(server.requests)
    again = od.fetch(CASEIDS, output=out, jobs=4)
    assert {r.status for r in again.results} == {"cached"} and again.nbytes == 0
    assert len(server.requests) == n


def test_fetch_tracks_only(server, cases, tmp_path):
    out = tmp_path / "few"
    report = od.fetch(CASEIDS, NUMERICS, out, jobs=3)
    assert not report.failed
    for c in CASEIDS:
        sent = server.sent[server.case_path(c)]
        assert sent <= 0.15 * len(cases[c])
        small = vitalproc.read(str(out / f"{c}.vital"))
        full = vitalproc.read(cases[c], NUMERICS)
        assert (
            small.get_track_names()
            == full.get_track_names()
            == ["Solar8000/HR", "Solar8000/ART_MBP", "BIS/BIS"]
        )
        np.testing.assert_array_equal(small.to_numpy(NUMERICS, 1), full.to_numpy(NUMERICS, 1))
        assert small.warnings == []
    assert CaseStore().cached(1) is None  # prefixes are not complete files


def test_cli_fetch_convert_and_usage(server, cases, tmp_path, capsys):
    out, ds = tmp_path / "o", tmp_path / "ds"
    code = main(
        [
            "fetch",
            "--cases",
            "1-3,5",
            "-o",
            str(out),
            "-j",
            "2",
            "--convert",
            str(ds),
            "--api-url",
            server.url,
            "--no-progress",
        ]
    )
    assert code == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    assert "4 cases in" in err and "4 fetched" in err
    dataset = vitalproc.open_dataset(str(ds))
    assert sorted(dataset.cases) == ["1", "2", "3", "5"]
    import pandas as pd

    clinical = pd.read_parquet(ds / "_clinical_data.parquet")
    assert clinical["caseid"].tolist() == [1, 2, 3, 5] and clinical.shape[1] == 74
    assert sorted(set(pd.read_parquet(ds / "_lab_data.parquet")["caseid"])) == [1, 2, 3, 5]
    # a failed case: exit 1, its reason on stderr
    assert main(["fetch", "--cases", "4,98", "-o", str(out), "--no-progress", "-q"]) == 1
    assert "case 98: HTTP 404" in capsys.readouterr().err
    # offline: what is cached only
    assert main(["fetch", "--cases", "1,6", "--offline", "--no-progress", "-q"]) == 1
    assert "case 6: offline" in capsys.readouterr().err
    for argv, word in (
        (["--cases", "3-1"], "--cases"),
        (["--cases", "1", "-j", "0"], "jobs"),
        (["--cases", "1", "--tracks", "HR"], "-o DIR"),
        (["--cases", "1", "--mirror", str(tmp_path)], "vital_files"),
        (["--cases", "1", "--api-url", "nope"], "not a URL"),
    ):
        assert main(["fetch", *argv]) == 2
        assert word in capsys.readouterr().err


def test_fetch_from_mirror(server, cases, tmp_path, monkeypatch):
    root = tmp_path / "mirror"
    (root / "vital_files").mkdir(parents=True)
    for c in CASEIDS:
        (root / "vital_files" / f"{c:04d}.vital").write_bytes(cases[c])
    n = len(server.requests)
    assert (
        main(
            [
                "fetch",
                "--cases",
                "1-6",
                "--mirror",
                str(root),
                "-t",
                "HR,BIS",
                "-o",
                str(tmp_path / "m"),
                "--no-progress",
                "-q",
            ]
        )
        == 0
    )
    assert len(server.requests) == n
    small = vitalproc.read(str(tmp_path / "m" / "4.vital"))
    assert small.get_track_names() == ["Solar8000/HR", "BIS/BIS"]


def test_killed_fetch_resumes(server, cases, tmp_path):
    """A fetch killed mid-way leaves no corrupt file; run again, every case completes and
    the interrupted ones resume where they stopped (Range)."""
    stalled = (2, 5)
    for c in stalled:
        server.fault(server.case_path(c), "stall_body")  # half the body, then silence
    cache = tmp_path / "cache"
    env = dict(
        os.environ, PYTHONPATH=SRC, VITALPROC_API_URL=server.url, VITALPROC_CACHE_DIR=str(cache)
    )
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys; from vitalproc.cli import main; "
                "sys.exit(main(['fetch', '--cases', '1-6', '-j', '6', "
                "'--timeout', '60', '--no-progress']))"
            ),
        ],
        env=env,
        stderr=subprocess.PIPE,
    )
    store = CaseStore()
    parts = [store.path(c) + ".part" for c in stalled]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if all(os.path.exists(p) and os.path.getsize(p) > 0 for p in parts):
            break
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    sizes = {c: os.path.getsize(store.path(c) + ".part") for c in stalled}
    for c in stalled:
        assert 0 < sizes[c] < len(cases[c]) and store.cached(c) is None
    n = len(server.requests)
    report = od.fetch(CASEIDS, jobs=3)
    assert not report.failed
    for c in CASEIDS:
        path = store.cached(c)
        assert path and verify_file(path)
        with open(path, "rb") as f:
            assert f.read() == cases[c]
    resumed = dict(r for r in server.requests[n:] if r[0] in {server.case_path(c) for c in stalled})
    for c in stalled:
        assert resumed[server.case_path(c)] == f"bytes={sizes[c]}-"
    assert not [name for name in os.listdir(store.folder) if name.endswith(".part")]

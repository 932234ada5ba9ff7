"""``qc`` over files, folders and datasets (parallel, resumable, fault-isolated), its
table as a dataset view, and ``cohort``: rules, the exclusion flow, bad input."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import vitalproc
from quality_signals import T0, faulty_recording
from vitalproc.quality import QualityInputError, load_limits, track_metrics

HERE = os.path.dirname(__file__)
# The folder the imported vitalproc lives in (installed or src/), for the subprocesses
SRC = os.path.dirname(os.path.dirname(vitalproc.__file__))


def run_cli(*args, cwd=None):
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(
        [sys.executable, "-m", "vitalproc", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def same_rows(a, b):
    """Equal tables, NaN equal to NaN."""

    def key(table):
        return [
            {k: "NaN" if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
            for row in table.to_pylist()
        ]

    return key(a) == key(b)


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    """Three recordings (one with an inverted pleth, one without its ART), a file that
    is no recording, a clinical table and a dataset converted from the recordings."""
    folder = tmp_path_factory.mktemp("qc")
    vitals = folder / "vital"
    vitals.mkdir()
    for name, inverted, drop in (("a", False, None), ("b", True, None), ("c", False, "SNUADC/ART")):
        vf = faulty_recording(inverted_pleth=inverted)
        if drop:
            del vf.trks[drop]
        vf.to_vital(str(vitals / f"{name}.vital"))
    (folder / "broken.vital").write_bytes(b"not a recording at all")
    (folder / "clinical.csv").write_text(
        "caseid,age,ane_type,anestart,aneend\n"
        "a,61,General,50,380\n"
        "b,17,General,0,600\n"
        "c,45,General,0,600\n"
        "d,70,Spinal,0,100\n"
    )
    report = vitalproc.convert([str(vitals)], str(folder / "ds"), jobs=1, progress=False)
    assert report.ok
    return folder


def test_qc_of_files_matches_the_metrics_of_each_track(recordings):
    out = recordings / "qc.parquet"
    report = vitalproc.qc(
        [recordings / "vital"],
        out,
        clinical=recordings / "clinical.csv",
        windows={"anaesthesia": ("anestart", "aneend")},
        jobs=2,
        progress=False,
    )
    assert report.ok and [r.status for r in report.results] == ["ok"] * 3
    rows = pq.read_table(out).to_pylist()
    assert {(r["caseid"], r["track"]) for r in rows} == {
        (c, t)
        for c in "abc"
        for t in ("SNUADC/ART", "SNUADC/PLETH", "SNUADC/ECG_II", "Solar8000/HR")
        if (c, t) != ("c", "SNUADC/ART")
    }
    vf = vitalproc.read(recordings / "vital" / "a.vital")
    want = track_metrics(
        vf.trks["SNUADC/ART"],
        load_limits(),
        windows={"anaesthesia": (vf.dtstart + 50, vf.dtstart + 380)},
    )
    row = next(r for r in rows if r["caseid"] == "a" and r["track"] == "SNUADC/ART")
    for key, value in want.items():
        assert row[key] == value or (
            isinstance(value, float) and math.isnan(value) and math.isnan(row[key])
        ), key
    assert row["spikes"] == 2 and row["gaps"] == 1 and 0 < row["flatline"] < 0.05
    assert row["coverage_anaesthesia"] < 1 and row["coverage"] == pytest.approx(0.95)
    inverted = {r["caseid"]: r["inverted"] for r in rows if r["track"] == "SNUADC/PLETH"}
    assert inverted == {"a": False, "b": True, "c": False}


def test_qc_of_a_dataset_equals_qc_of_its_files_and_is_queryable(recordings):
    files = vitalproc.qc(
        [recordings / "vital"], recordings / "f.parquet", jobs=1, progress=False
    ).table
    # a dataset's cases are read from Parquet: moving the .vital files away proves it
    moved = recordings / "vital_away"
    os.rename(recordings / "vital", moved)
    try:
        ds = vitalproc.qc([recordings / "ds"], jobs=1, progress=False)
    finally:
        os.rename(moved, recordings / "vital")
    assert ds.ok and ds.outputs == [str(recordings / "ds" / "_qc.parquet")]
    drop = ["source", "size", "mtime_ns"]
    assert same_rows(ds.table.drop(drop), files.drop(drop))
    result = run_cli(
        "query",
        recordings / "ds",
        "SELECT caseid, track, spikes, inverted FROM qc WHERE track = "
        "'SNUADC/PLETH' ORDER BY caseid",
        "--format",
        "csv",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:] == [
        '"a","SNUADC/PLETH",,false',
        '"b","SNUADC/PLETH",,true',
        '"c","SNUADC/PLETH",,false',
    ]


def test_qc_is_resumable_and_fault_isolated(recordings, tmp_path):
    work = tmp_path / "in"
    work.mkdir()
    for name in ("a", "b"):
        os.link(recordings / "vital" / f"{name}.vital", work / f"{name}.vital")
    os.link(recordings / "broken.vital", work / "broken.vital")
    out = tmp_path / "qc.parquet"
    first = vitalproc.qc([work], out, jobs=2, progress=False)
    status = {r.caseid: r.status for r in first.results}
    assert status == {"a": "ok", "b": "ok", "broken": "failed"}
    (failed,) = first.failed
    assert "VitalFormatError" in failed.error
    second = vitalproc.qc([work], out, jobs=2, progress=False)
    assert {r.caseid: r.status for r in second.results} == {
        "a": "kept",
        "b": "kept",
        "broken": "failed",
    }
    ok = pc.field("status") == "ok"
    assert same_rows(second.table.filter(ok), first.table.filter(ok))
    os.utime(work / "a.vital", ns=(1, 1))  # a changed source is measured again
    third = vitalproc.qc([work], out, jobs=1, progress=False)
    assert {r.caseid: r.status for r in third.results}["a"] == "ok"
    changed = vitalproc.qc(
        [work], out, jobs=1, progress=False, thresholds=vitalproc.quality.Thresholds(gap_s=60)
    )
    assert {r.caseid: r.status for r in changed.results}["b"] == "ok"  # new settings
    result = run_cli("qc", work, "-o", tmp_path / "cli.parquet", "-j", "1")
    assert result.returncode == 1 and "broken.vital" in result.stderr


def test_qc_bad_input_exits_2(recordings, tmp_path):
    limits = tmp_path / "limits.csv"
    limits.write_text("kind,tracks,unit,min,max,flat_s,spike\nheart_rate,HR,/min,250,20,,\n")
    result = run_cli("qc", recordings / "vital", "-o", tmp_path / "q.parquet", "--limits", limits)
    assert result.returncode == 2 and "line 2" in result.stderr and "above max" in result.stderr
    result = run_cli(
        "qc",
        recordings / "vital",
        "-o",
        tmp_path / "q.parquet",
        "--clinical",
        recordings / "clinical.csv",
        "--window",
        "ane=anestart,nosuch",
    )
    assert result.returncode == 2 and "'nosuch'" in result.stderr
    result = run_cli(
        "qc",
        recordings / "vital",
        "-o",
        tmp_path / "q.parquet",
        "--clinical",
        recordings / "clinical.csv",
        "--caseid-column",
        "id",
        "--window",
        "ane=anestart,aneend",
    )
    assert result.returncode == 2 and "no case id column 'id'" in result.stderr
    assert run_cli("qc", recordings / "vital").returncode == 2  # no -o


RULES = """
title = "Arterial pressure cohort"
clinical = "clinical.csv"
qc = "qc_rules.parquet"

[tracks]
ART = ["SNUADC/FEM", "SNUADC/ART"]

[[rule]]
name = "Adults"
require = "age >= 18"

[[rule]]
name = "General anaesthesia"
require = "ane_type == 'General'"

[[rule]]
name = "Arterial pressure recorded"
require = "ART present"

[[rule]]
name = "Arterial pressure covers anaesthesia"
require = "ART coverage >= 0.9 during anaesthesia and ART spikes <= 5"
"""


@pytest.fixture(scope="module")
def rules(recordings):
    vitalproc.qc(
        [recordings / "vital"],
        recordings / "qc_rules.parquet",
        clinical=recordings / "clinical.csv",
        windows={"anaesthesia": ("anestart", "aneend")},
        jobs=1,
        progress=False,
    )
    path = recordings / "rules.toml"
    path.write_text(RULES)
    return path


def test_cohort_flow_counts_each_case_at_its_first_failed_rule(rules, tmp_path):
    out = tmp_path / "cohort"
    result = vitalproc.cohort(rules, out)
    # a: adult, general, ART present, its coverage over 50..380 s: the ART gap (400-430)
    # is outside, so it stays; b: 17; c: no ART; d: spinal (and no recording)
    assert result.start == 4
    assert [(s.rule, s.removed, s.remaining) for s in result.steps] == [
        ("Adults", 1, 3),
        ("General anaesthesia", 1, 2),
        ("Arterial pressure recorded", 1, 1),
        ("Arterial pressure covers anaesthesia", 0, 1),
    ]
    assert result.included == ["a"]
    assert result.excluded == {
        "b": "Adults",
        "d": "General anaesthesia",
        "c": "Arterial pressure recorded",
    }
    assert (out / "cases.csv").read_text() == "caseid\na\n"
    flow = json.loads((out / "flow.json").read_text())
    assert flow["start"] == 4 and flow["included"] == 1 and len(flow["steps"]) == 4
    assert (
        "| 3 | Arterial pressure recorded (`ART present`) | 1 | 1 |"
        in (out / "flow.md").read_text()
    )
    assert (out / "flow.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (out / "flow.svg").read_bytes()[:400]
    cli = run_cli("cohort", rules, "-o", tmp_path / "cli", "--no-figure")
    assert cli.returncode == 0 and "Included" in cli.stdout
    assert not (tmp_path / "cli" / "flow.png").exists()


@pytest.mark.parametrize(
    "require, message",
    [
        ("agee >= 18", "rule 1 ('bad'): unknown column 'agee'"),
        ("ART coverge >= 0.9", "unknown metric 'coverge'"),
        ("ART coverage >= 0.9 during surgery", "unknown metric 'coverage_surgery'"),
        ("NOSUCH present", "unknown track 'NOSUCH'"),
        ("NOSUCH flatline < 0.1", "unknown track 'NOSUCH'"),
        ("age >= ", "expected a number or a quoted text"),
    ],
)
def test_cohort_bad_rules_are_named_and_exit_2(rules, tmp_path, require, message):
    path = tmp_path / "bad.toml"
    path.write_text(
        f'clinical = "{rules.parent / "clinical.csv"}"\n'
        f'qc = "{rules.parent / "qc_rules.parquet"}"\n'
        f'[tracks]\nART = ["SNUADC/ART"]\n'
        f'[[rule]]\nname = "bad"\nrequire = "{require}"\n'
    )
    with pytest.raises(QualityInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        vitalproc.cohort(path)
    result = run_cli("cohort", path, "-o", tmp_path / "out")
    assert result.returncode == 2 and "bad.toml: rule 1" in result.stderr


def test_cohort_clinical_table_without_caseid_column_exits_2(rules, tmp_path):
    table = tmp_path / "clinical.csv"
    table.write_text("id,age\na,50\n")
    result = run_cli("cohort", rules, "-o", tmp_path / "out", "--clinical", table)
    assert result.returncode == 2 and "no case id column 'caseid'" in result.stderr
    typo = tmp_path / "typo.toml"
    typo.write_text('clinical = "x.csv"\nrulez = 1\n[[rule]]\nrequire = "a > 1"\n')
    result = run_cli("cohort", typo, "-o", tmp_path / "out")
    assert result.returncode == 2 and "unknown key(s) rulez" in result.stderr


def test_window_coverage_uses_the_clinical_span(recordings):
    rows = pq.read_table(recordings / "qc_rules.parquet").to_pylist()
    art = next(r for r in rows if r["caseid"] == "a" and r["track"] == "SNUADC/ART")
    assert art["coverage_anaesthesia"] == pytest.approx(1.0)  # 50..380 s: no gap there
    assert art["start"] == pytest.approx(T0)
    b = next(r for r in rows if r["caseid"] == "b" and r["track"] == "SNUADC/ART")
    assert b["coverage_anaesthesia"] == pytest.approx(0.95)  # 0..600 s holds the gap


def test_a_recording_too_big_to_hold_is_measured_a_group_of_tracks_at_a_time(recordings):
    from vitalproc.quality.runner import CaseTask, qc_case

    for source in (recordings / "vital" / "a.vital", recordings / "ds" / "a.parquet"):
        whole = qc_case(CaseTask(str(source), "a"))
        grouped = qc_case(CaseTask(str(source), "a", budget=1))  # one track per read
        assert whole.status == grouped.status == "ok"
        assert [{k: repr(v) for k, v in r.items()} for r in grouped.rows] == [
            {k: repr(v) for k, v in r.items()} for r in whole.rows
        ]
        assert len(whole.rows) == 4

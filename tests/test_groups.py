"""Exports of big recordings, a group of tracks at a time (``writers/_groups.py``).

The survey and the partial reads must see exactly what a full read holds, whatever the
file's faults, and a grouped export must write the same bytes as a single-read one.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

import vitalproc
from conftest import REAL_FILES
from vitalproc.errors import VitalError, VitalWarning
from vitalproc.io.reader import read_only, survey
from vitalproc.ops.selection import Selection, plan
from vitalproc.writers import registry
from vitalproc.writers._groups import estimated_size, grouped_plan, needs_groups

import fixtures_catalog

FIXTURES = sorted(fixtures_catalog.FIXTURES)


def _caught(fn, *args, **kwargs):
    """``fn``'s result (or the VitalError it raised) and the warning messages it gave."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            result = fn(*args, **kwargs)
        except VitalError as exc:
            result = exc
    return result, [str(w.message) for w in seen if issubclass(w.category, VitalWarning)]


def _same_span(a, b) -> bool:
    return np.array_equal([a.dtstart, a.dtend], [b.dtstart, b.dtend], equal_nan=True)


@pytest.mark.parametrize("compat", [None, "vitaldb"])
@pytest.mark.parametrize("name", FIXTURES)
def test_survey_sees_what_a_full_read_holds(name, compat):
    gz = fixtures_catalog.FIXTURES[name]()
    full, full_warnings = _caught(vitalproc.read, gz, compat=compat)
    found, found_warnings = _caught(survey, gz, compat=compat)
    if isinstance(full, VitalError):
        assert type(found) is type(full) and str(found) == str(full)
        return
    assert found_warnings == full_warnings
    vf = found.vf
    assert list(vf.trks) == list(full.trks) and list(vf.devs) == list(full.devs)
    assert _same_span(vf, full)
    assert [w.code for w in vf.warnings] == [w.code for w in full.warnings]
    for dtname, trk in full.trks.items():
        assert np.array_equal(found.dt[dtname], trk.dt, equal_nan=True), dtname
        assert len(vf.trks[dtname]) == 0 and len(vf.trks[dtname].data) == 0
        if trk.offsets is not None:
            assert found.nval[dtname] == len(trk.data)
        assert found.nbytes(dtname) == (
            trk.dt.nbytes
            + trk.data.nbytes
            + (trk.offsets.nbytes - 8 if trk.offsets is not None else 0)
        ), dtname


@pytest.mark.parametrize("name", FIXTURES)
def test_read_only_holds_the_named_tracks_as_a_full_read(name):
    gz = fixtures_catalog.FIXTURES[name]()
    full, _ = _caught(vitalproc.read, gz)
    if isinstance(full, VitalError):
        return
    wanted = set(list(full.trks)[::2])
    part, _ = _caught(read_only, gz, wanted)
    assert list(part.trks) == list(full.trks) and _same_span(part, full)
    for dtname, trk in full.trks.items():
        got = part.trks[dtname]
        if dtname in wanted:
            assert np.array_equal(got.dt, trk.dt, equal_nan=True), dtname
            assert got.data.tobytes() == trk.data.tobytes(), dtname
            assert (got.offsets is None) == (trk.offsets is None)
            if trk.offsets is not None:
                assert np.array_equal(got.offsets, trk.offsets)
        else:
            assert len(got) == 0 and len(got.data) == 0


def _write(fmt: str, plan_) -> bytes:
    out = io.BytesIO()
    registry.get(fmt).load().write_plan(plan_, out)
    return out.getvalue()


GROUPED_SOURCES = [p.name for p in REAL_FILES] + [
    "wave_all_fmts",
    "numeric_all_fmts",
    "string_values",
    "device_redeclared",
    "tid_reused",
    "track_no_device",
    "redeclared_gain",
    "redeclared_interleaved",
    "redeclared_new_rate_type",
]


def _source(name: str, tmp_path):
    for p in REAL_FILES:
        if p.name == name:
            return str(p)
    path = tmp_path / f"{name}.vital"
    path.write_bytes(fixtures_catalog.FIXTURES[name]())
    return str(path)


def _selections(vf):
    start = vf.dtstart + (vf.dtend - vf.dtstart) / 3
    return {
        "all": Selection(),
        "window": Selection(start=start, end=start + (vf.dtend - vf.dtstart) / 4),
        "first records": Selection(max_records=3, exclude=["*HR*"]),
        "numerics": Selection(types=frozenset({2})),
    }


@pytest.mark.parametrize("fmt", registry.NAMES)
@pytest.mark.parametrize("name", GROUPED_SOURCES)
def test_grouped_export_writes_the_same_bytes(name, fmt, tmp_path):
    path = _source(name, tmp_path)
    vf, _ = _caught(vitalproc.read, path)
    for label, sel in _selections(vf).items():
        expected = _write(fmt, plan(_caught(vitalproc.read, path)[0], sel, source=path))
        for budget in (1, 4000):  # every track alone; a few per group
            grouped = _caught(grouped_plan, path, sel, budget)[0]  # the survey warns
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # the groups' reads say nothing again
                got = _write(fmt, grouped)
            assert got == expected, (label, budget)
            # each group is read at most once, however the writer walks its parts
            assert grouped.parts.reads <= grouped.parts.groups


def test_groups_respect_the_budget_and_the_file_order():
    path = str(max(REAL_FILES, key=lambda p: p.stat().st_size))
    found, _ = _caught(survey, path)
    budget = 50_000
    grouped = grouped_plan(path, Selection(), budget, found=found)
    parts = grouped.parts
    groups = list({id(g): g for g in parts.group_of.values()}.values())
    assert [p.name for g in groups for p in g] == list(found.vf.trks)  # file order
    assert len(groups) > 2
    for g in groups:
        size = sum(found.nbytes(p.name) for p in g)
        assert size <= budget or len(g) == 1
    # Reading happens lazily, once per group, as a writer walks the parts.
    assert parts.reads == 0
    _write("msgpack", grouped)
    assert parts.reads == len(groups)


@pytest.mark.parametrize(
    "name", ["wave_nsamp_mismatch", "zero_length_packet", "redeclared_new_fmt", "record_over_1mb"]
)
def test_a_grouped_export_warns_once(name, tmp_path):
    path = tmp_path / f"{name}.vital"
    path.write_bytes(fixtures_catalog.FIXTURES[name]())
    _, expected = _caught(vitalproc.read, str(path))
    assert expected  # these fixtures warn on a full read

    def export():
        return _write("json", grouped_plan(str(path), Selection(), 1))

    _, got = _caught(export)
    assert got == expected


def test_estimated_size_and_the_decision(tmp_path):
    import gzip

    path = str(REAL_FILES[0])
    size = estimated_size(path)
    assert size >= len(gzip.decompress(REAL_FILES[0].read_bytes()))
    assert needs_groups(path, size - 1) and not needs_groups(path, size)
    assert not needs_groups(path, 0)  # no budget: never
    assert estimated_size(str(tmp_path / "missing.vital")) is None
    assert not needs_groups(str(tmp_path / "missing.vital"), 1)


def test_a_converted_case_is_exported_whole(tmp_path):
    """A ``.parquet`` case is no gzip stream: its trailer says nothing of its size, and
    the survey cannot read it. It is exported from one read, whatever the budget."""
    from vitalproc.dataset.batch import convert

    convert([str(REAL_FILES[0])], str(tmp_path / "ds"), jobs=1, progress=False)
    case = next((tmp_path / "ds").glob("[!_]*.parquet"))
    assert estimated_size(str(case)) is None and not needs_groups(str(case), 1)
    out = tmp_path / "case.json"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "vitalproc",
            "export",
            str(case),
            "-o",
            str(out),
            "--max-memory",
            "1",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    tracks = json.loads(out.read_text())["tracks"]
    assert set(tracks) == set(vitalproc.read(str(case)).trks)


@pytest.mark.corpus
def test_cli_grouped_export_of_a_big_recording_is_identical(corpus, tmp_path):
    src = str(corpus["or_1h"])
    outs = []
    for budget in ("0", "10"):
        out = tmp_path / f"or_{budget}.msgpack"
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "vitalproc",
                "export",
                src,
                "-o",
                str(out),
                "--max-memory",
                budget,
                "--verbose",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        outs.append(out.read_bytes())
        grouped = "groups of at most 10 MB" in run.stderr
        assert grouped == (budget == "10"), run.stderr
    assert outs[0] == outs[1]

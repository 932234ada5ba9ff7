"""build(): failures recorded, resuming, the split, case lists, the output's readers, the
command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from recordings import make_case

import vitalproc
from vitalproc.windows import AnnotationError, RecipeError

SHORT = """
[[signals]]
name = "art"
tracks = ["SNUADC/ART"]
rate = 100

[[signals]]
name = "map"
tracks = ["Solar8000/ART_MBP"]
interval = 2
method = "last"

[windows]
length = 20
stride = 30

[[labels]]
name = "pressure"
kind = "regression"
signal = "map"
aggregate = "mean"

[[rules]]
rule = "nan_fraction"
value = 0.1
"""


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cases")
    for i in range(5):
        make_case(folder / f"{i + 1:02d}.vital", 400 + 60 * i, dips=[(100, 200)], seed=i)
    make_case(folder / "06.vital", 400, seed=9, with_map=False)  # no MAP numeric
    recipe = folder.parent / "short.toml"
    recipe.write_text(SHORT)
    return folder, recipe


def test_a_case_without_a_signal_is_recorded_and_the_rest_finish(cases, tmp_path):
    folder, recipe = cases
    report = vitalproc.windows.build(recipe, [folder], tmp_path / "o", jobs=1)
    assert [r.caseid for r in report.failed] == ["06"]
    assert "no track for signal 'map'" in report.failed[0].reason
    ws = vitalproc.windows.open(tmp_path / "o")
    assert sorted(set(ws.index.caseid)) == ["01", "02", "03", "04", "05"]
    assert ws.arrays["art"].shape == (len(ws), 2000) and ws.arrays["map"].shape == (len(ws), 10)
    table = ws.cases.set_index("caseid")
    assert table.loc["06", "status"] == "failed"
    assert table.loc["01", "tracks"] == "art=SNUADC/ART, map=Solar8000/ART_MBP"
    assert table.loc["01", "hash"].startswith("sha256:")
    # the regression label is the mean of the window's MAP values
    row = ws.index.iloc[3]
    assert row.pressure == pytest.approx(np.nanmean(ws.arrays["map"][3]), rel=1e-6)


def test_a_signal_no_case_has_is_an_error_naming_it(cases, tmp_path):
    folder = cases[0]
    text = SHORT.replace('["Solar8000/ART_MBP"]', '["Nowhere/ART_MBP", "Nope/MBP"]')
    (tmp_path / "r.toml").write_text(text)
    with pytest.raises(
        RecipeError,
        match=r"signals\[1\]\.tracks: no case has any of "
        r"Nowhere/ART_MBP, Nope/MBP",
    ):
        vitalproc.windows.build(tmp_path / "r.toml", [folder], tmp_path / "o", jobs=1)


def test_a_lead_longer_than_every_recording_is_an_error(cases, tmp_path):
    folder = cases[0]
    text = SHORT.replace("stride = 30", "stride = 30\nlead = 3600\nhorizon = 60")
    (tmp_path / "r.toml").write_text(text)
    with pytest.raises(RecipeError, match=r"windows\.lead: no recording is long enough"):
        vitalproc.windows.build(tmp_path / "r.toml", [folder / "01.vital"], tmp_path / "o", jobs=1)


def test_an_annotation_file_that_does_not_parse_stops_with_its_line(tmp_path):
    make_case(tmp_path / "r.vital", 200, dips=[], ecg=True, rhythm=[(0, "sinus")])
    with open(tmp_path / "r.rhythm.csv", "a") as f:
        f.write("later,af\n")
    with pytest.raises(AnnotationError, match=r"r\.rhythm\.csv:3: time 'later'"):
        vitalproc.windows.build("rhythm_windows", [tmp_path], tmp_path / "o", jobs=1)


def test_resume_takes_back_finished_cases(cases, tmp_path):
    folder, recipe = cases
    out = tmp_path / "o"
    first = vitalproc.windows.build(recipe, [folder], out, jobs=1)
    arrays = np.array(vitalproc.windows.open(out).arrays["art"])
    # a killed run: one case's part gone, a half-written part left behind
    import shutil

    shutil.rmtree(out / ".parts" / "03")
    (out / ".parts" / ".tmp-03-999").mkdir()
    again = vitalproc.windows.build(recipe, [folder], out, jobs=1)
    status = {r.caseid: r.status for r in again.results}
    assert status == {
        "01": "resumed",
        "02": "resumed",
        "03": "ok",
        "04": "resumed",
        "05": "resumed",
        "06": "failed",
    }
    assert not (out / ".parts" / ".tmp-03-999").exists()
    assert again.windows == first.windows
    assert np.array_equal(
        np.array(vitalproc.windows.open(out).arrays["art"]), arrays, equal_nan=True
    )
    # another recipe into the same folder is refused
    (tmp_path / "other.toml").write_text(SHORT.replace("stride = 30", "stride = 15"))
    with pytest.raises(ValueError, match="windows of another recipe"):
        vitalproc.windows.build(tmp_path / "other.toml", [folder], out, jobs=1)


def test_split_groups_subjects_and_is_deterministic(cases, tmp_path):
    folder, recipe = cases
    clinical = tmp_path / "clinical.csv"
    clinical.write_text("caseid,subjectid,age\n01,p1,50\n02,p1,51\n03,p2,60\n04,p3,70\n05,p4,30\n")
    a = vitalproc.windows.build(recipe, [folder], tmp_path / "a", jobs=1, clinical=str(clinical))
    b = vitalproc.windows.build(recipe, [folder], tmp_path / "b", jobs=1, clinical=str(clinical))
    ia = vitalproc.windows.open(a.out).index
    ib = vitalproc.windows.open(b.out).index
    assert ia.split.tolist() == ib.split.tolist()
    assert set(ia.split) <= {"train", "val", "test"}
    per_subject = ia.groupby("subjectid").split.nunique()
    assert (per_subject == 1).all() and set(per_subject.index) == {"p1", "p2", "p3", "p4"}
    assert ia[ia.caseid == "01"].split.iloc[0] == ia[ia.caseid == "02"].split.iloc[0]
    from vitalproc.windows.recipe import Split
    from vitalproc.windows.split import assign

    subjects = [f"s{i}" for i in range(100)]
    one = assign(subjects, Split(seed=1))
    assert one == assign(list(reversed(subjects)), Split(seed=1)) != assign(subjects, Split(seed=2))
    counts = {k: list(one.values()).count(k) for k in ("train", "val", "test")}
    assert counts == {"train": 70, "val": 15, "test": 15}


def test_case_list_selects_cases(cases, tmp_path):
    folder, recipe = cases
    (tmp_path / "cohort.csv").write_text("caseid,group\n02,a\n04,b\n99,c\n")
    report = vitalproc.windows.build(
        recipe, [folder], tmp_path / "o", jobs=1, cases=str(tmp_path / "cohort.csv")
    )
    assert [r.caseid for r in report.results] == ["02", "04"]
    with pytest.raises(ValueError, match="none of the 1 listed cases"):
        vitalproc.windows.build(recipe, [folder], tmp_path / "p", jobs=1, cases=["77"])


def test_two_workers_give_the_same_output(cases, tmp_path):
    folder, recipe = cases
    one = vitalproc.windows.build(recipe, [folder], tmp_path / "one", jobs=1)
    two = vitalproc.windows.build(recipe, [folder], tmp_path / "two", jobs=2)
    assert one.windows == two.windows
    w1, w2 = vitalproc.windows.open(one.out), vitalproc.windows.open(two.out)
    assert np.array_equal(np.array(w1.arrays["art"]), np.array(w2.arrays["art"]), equal_nan=True)
    cols = ["caseid", "t_start", "pressure", "valid", "reason", "split"]
    assert w1.index[cols].equals(w2.index[cols])
    assert [r.caseid for r in two.failed] == ["06"]


def test_output_opens_in_numpy_pandas_polars_and_as_a_dataset(cases, tmp_path):
    folder, recipe = cases
    vitalproc.windows.build(recipe, [folder], tmp_path / "o", jobs=1)
    arr = np.load(tmp_path / "o" / "art.npy", mmap_mode="r")  # no copy
    assert isinstance(arr, np.memmap) and arr.dtype == np.float32
    ws = vitalproc.windows.open(tmp_path / "o")
    assert isinstance(ws.arrays["art"], np.memmap)
    assert list(ws.index.columns[:4]) == ["caseid", "subjectid", "t_start", "offset"]
    assert {"pressure", "valid", "reason", "split"} <= set(ws.index.columns)
    pl = ws.to_polars()
    assert pl.height == len(ws) and pl["caseid"].to_list() == ws.index.caseid.tolist()
    item = ws[5]
    assert set(item) == {"art", "map", "pressure", "valid"}
    assert np.array_equal(item["art"], ws.arrays["art"][5], equal_nan=True)
    assert isinstance(item["pressure"], float) and isinstance(item["valid"], bool)
    with pytest.raises(IndexError):
        ws[len(ws)]
    valid = ws.subset(valid=True)
    assert len(valid) == int(ws.index.valid.sum()) and all(
        valid[i]["valid"] for i in range(len(valid))
    )
    train = ws.subset("train", valid=None, fields=["art"])
    assert len(train) == int((ws.index.split == "train").sum())
    assert set(train[0]) == {"art"}
    build = json.loads((tmp_path / "o" / "build.json").read_text())
    assert build["recipe_hash"].startswith("sha256:") and build["windows"] == len(ws)
    assert set(build["sources"]) == {"01", "02", "03", "04", "05", "06"}
    code = (
        "import sys, vitalproc; ws = vitalproc.windows.open(sys.argv[1]); ws[0]; "
        "ws.index; print('torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "o")],
        check=True,
        capture_output=True,
        text=True,
        env=_env(),
    ).stdout
    assert out.strip() == "False"


def test_dataloader_takes_the_window_set(cases, tmp_path):
    torch = pytest.importorskip("torch")
    folder, recipe = cases
    vitalproc.windows.build(recipe, [folder], tmp_path / "o", jobs=1)
    ws = vitalproc.windows.open(tmp_path / "o").subset(valid=True)
    loader = torch.utils.data.DataLoader(ws, batch_size=8, shuffle=False)
    batch = next(iter(loader))
    assert batch["art"].shape == (8, 2000) and batch["art"].dtype == torch.float32
    assert batch["pressure"].shape == (8,)
    assert torch.equal(batch["art"][3], torch.from_numpy(ws[3]["art"]))
    assert sum(len(b["art"]) for b in loader) == len(ws)


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(os.path.dirname(vitalproc.__file__)), env.get("PYTHONPATH", "")]
    )
    return env


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "vitalproc", "windows", *map(str, args)],
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
    )


def test_command_line(cases, tmp_path):
    folder, recipe = cases
    listed = _cli("--list-recipes")
    assert listed.returncode == 0
    assert [ln for ln in listed.stdout.splitlines() if not ln.startswith(" ")] == [
        "hypotension_art",
        "hypotension_map",
        "rhythm_windows",
    ]
    (tmp_path / "ids.txt").write_text("01\n02\n")
    ok = _cli(recipe, folder, "-o", tmp_path / "o", "--cases", tmp_path / "ids.txt", "-j", "1")
    assert ok.returncode == 0, ok.stderr
    assert "windows" in ok.stderr and "0 failed" in ok.stderr
    failed = _cli(recipe, folder, "-o", tmp_path / "p", "-j", "1")
    assert (
        failed.returncode == 1 and "06" in failed.stderr and "no track for signal" in failed.stderr
    )
    (tmp_path / "bad.toml").write_text(SHORT.replace("stride = 30", "stride = 0"))
    bad = _cli(tmp_path / "bad.toml", folder, "-o", tmp_path / "q")
    assert bad.returncode == 2 and "windows.stride: must be > 0, not 0" in bad.stderr
    assert _cli("hypotension_art", folder).returncode == 2  # no -o
    assert _cli("no_such_recipe", folder, "-o", tmp_path / "r").returncode == 2
    assert _cli(recipe, tmp_path / "missing", "-o", tmp_path / "r").returncode == 2


def test_an_unexpected_fault_in_one_case_is_recorded(cases, tmp_path, monkeypatch):
    from vitalproc.windows import runner

    folder, recipe = cases
    real = runner.cut_case

    def cut(rc, vf, intervals=None):
        if vf.dtend - vf.dtstart > 600:  # cases 05 (640 s) only
            raise TypeError("a bug")
        return real(rc, vf, intervals)

    monkeypatch.setattr(runner, "cut_case", cut)
    report = vitalproc.windows.build(recipe, [folder], tmp_path / "o", jobs=1)
    failed = {r.caseid: r.reason for r in report.failed}
    assert failed["05"] == "TypeError: a bug" and set(failed) == {"05", "06"}
    assert report.windows > 0

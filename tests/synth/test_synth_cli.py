"""``vitalproc synth``: the real entry point in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import vitalproc


def run(*argv, cwd=None):
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(
            [os.path.dirname(os.path.dirname(vitalproc.__file__))] + sys.path
        ),
    )
    return subprocess.run(
        [sys.executable, "-m", "vitalproc", "synth", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
    )


def test_writes_the_file_and_its_truth(tmp_path):
    out = tmp_path / "case.vital"
    done = run(
        "-o",
        str(out),
        "--profile",
        "icu",
        "--hours",
        "0.2",
        "--seed",
        "4",
        "--hypotension",
        "300:120:60",
        "--artifact",
        "flatline:500:20",
        "--artifact",
        "gap:600:30:Bx50/PLETH",
        "--rhythm-span",
        "AF:100:60",
    )
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stderr
    truth = json.loads((tmp_path / "case.truth.json").read_text())
    assert truth["episodes"][0]["params"]["map_level"] == 60
    assert [(a["kind"], a["track"]) for a in truth["artifacts"]] == [
        ("flatline", "Bx50/ART1"),
        ("gap", "Bx50/PLETH"),
    ]
    assert (tmp_path / "case.rhythm.csv").read_text().splitlines()[:3] == [
        "time,class",
        "0.000,N",
        "100.000,AF",
    ]
    # the same options in Python give the same bytes
    same = vitalproc.synth(
        profile="icu",
        hours=0.2,
        seed=4,
        hypotension=[(300, 120, 60)],
        artifacts=[("flatline", 500, 20), ("gap", 600, 30, "Bx50/PLETH")],
        rhythm=[("AF", 100, 60)],
    )
    assert out.read_bytes() == same.data


def test_shape_and_list(tmp_path):
    listed = run("--list-shapes")
    assert listed.returncode == 0
    assert listed.stdout.split()[0] == "demo_overlap"
    done = run("-o", str(tmp_path / "tiny.vital"), "--shape", "tiny", "-q")
    assert done.returncode == 0 and done.stderr == ""
    assert (tmp_path / "tiny.vital").read_bytes() == vitalproc.synth.shapes.make("tiny").data


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--artifact", "smudge:1:2"], "unknown artifact kind 'smudge'"),
        (["--artifact", "flatline:x:2"], "is not a number"),
        (["--hypotension", "1:2:3:4"], "START:DURATION"),
        (["--profile", "ward"], "invalid choice"),
        (["--hours", "0"], "hours must be positive"),
        (["--shape", "round"], "unknown shape 'round'"),
        (["--artifacts", "2", "--artifact", "gap:1:2"], "one or the other"),
    ],
)
def test_usage_errors(tmp_path, argv, message):
    done = run("-o", str(tmp_path / "x.vital"), *argv)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.vital").exists()


def test_output_folder_missing(tmp_path):
    done = run("-o", str(tmp_path / "no" / "x.vital"))
    assert done.returncode == 2 and "no such folder" in done.stderr

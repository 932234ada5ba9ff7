"""Shared fixtures: the real recordings, the fixture catalog, the vitaldb reference, and
the generated corpus."""

from __future__ import annotations

import os
import pathlib
import warnings

import pytest

import fixtures_catalog  # tests/ is on the path: pyproject.toml's pytest pythonpath

HERE = pathlib.Path(__file__).parent

REAL_FILES = sorted((HERE / "data").glob("*.vital"))
REPO = HERE.parent


def read_source(source: str):
    """A real recording (by file name) or a catalog fixture (by name), read afresh; the
    warnings fixtures give about what they recover are not the point here."""
    import vitalproc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vitalproc.VitalWarning)
        if source in fixtures_catalog.FIXTURES:
            return vitalproc.read(fixtures_catalog.FIXTURES[source]())
        return vitalproc.read(next(p for p in REAL_FILES if p.name == source))


@pytest.fixture(scope="session")
def vitaldb():
    return fixtures_catalog._vitaldb()


def reference(gz_or_path, **kwargs):
    """vitaldb 1.7.2 (+ FMT 7/8 fix) reading bytes or a path."""
    if isinstance(gz_or_path, (str, os.PathLike)):
        gz_or_path = pathlib.Path(gz_or_path).read_bytes()
    return fixtures_catalog.read_with_vitaldb(gz_or_path, **kwargs)[0]


#: The recordings the corpus tests read: benchmark-like cases made by the package's own
#: generator (the benchmark's make_vital.py files are bigger; these keep the suite fast).
CORPUS = {
    "icu_1h": {"profile": "icu", "hours": 1.0, "seed": 11},
    "or_1h": {"profile": "or", "hours": 1.0, "seed": 12},
}


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """``{name: path}`` of the generated corpus recordings (made once per session)."""
    import vitalproc

    out = tmp_path_factory.mktemp("corpus")
    files = {}
    for name, arguments in CORPUS.items():
        files[name] = out / f"{name}.vital"
        vitalproc.synth(files[name], **arguments)
    return files

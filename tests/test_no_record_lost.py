"""Default reads lose no record: every file's records, counted by an independent walk of
its packets (``packet_count.py``), are all in ``vitalproc.read``'s tracks."""
from __future__ import annotations

import re
import warnings
from collections import Counter

import pytest
from conftest import REAL_FILES
from fixtures_catalog import FIXTURES
from packet_count import count_records
from test_parity import REJECTED

import vitalproc


def held(vf: vitalproc.VitalFile) -> Counter:
    """Records per track name; a track kept apart for a declaration of another type or
    sampling rate (``Name#k``) counts under its name."""
    out: Counter = Counter()
    for name, trk in vf.trks.items():
        base = re.sub(r"#\d+$", "", name)
        out[base if base != name and base in vf.trks else name] += len(trk)
    return out


def check(gz: bytes) -> None:
    expected = count_records(gz)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vitalproc.VitalWarning)
        vf = vitalproc.read(gz)
    assert +held(vf) == +expected


@pytest.mark.parametrize("name", sorted(set(FIXTURES) - REJECTED))
def test_fixtures(name):
    check(FIXTURES[name]())


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_real_files(path):
    check(path.read_bytes())

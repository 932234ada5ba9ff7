"""A short, deterministic fuzz run in CI: mutated real and fixture files through ``read``.

Hypothesis (derandomized: the same examples on every run) mutates the seed files of the
atheris harness, inflated or compressed, and feeds each mutant to the failure-contract
oracle of ``fuzz/contract.py``: only ``VitalFormatError`` may escape ``read``, every model
is well formed, every warning names its offset, strict mode raises exactly where the
default read warns, the streaming and whole-file paths agree, a selection loses nothing.
The findings of the long atheris runs (``tests/data/fuzz/``) are replayed the same way.
"""

from __future__ import annotations

import pathlib
import sys

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import vitalproc
from conftest import REPO

sys.path.insert(0, str(REPO))  # the fuzz package (a development tool beside src/)
from fuzz import contract
from fuzz.seeds import inflate_prefix, seed_files

FINDINGS = sorted((REPO / "tests" / "data" / "fuzz").glob("*.vital"))

#: Seeds small enough for many mutants a second (the 1 MB-record fixtures are left to
#: the atheris runs).
SEEDS = {name: gz for name, gz in seed_files().items() if len(gz) < 120_000}
INFLATED = {name: inflate_prefix(gz) for name, gz in SEEDS.items()}
SEEDS = {name: gz for name, gz in SEEDS.items() if len(INFLATED[name]) < 120_000}

#: Values a mutation writes over 4 bytes: lengths and counts that lie.
LIES = (0, 1, 0xFFFF, 1_000_001, 0x7FFFFFFF, 0xFFFFFFFF)


@st.composite
def mutants(draw) -> tuple[str, str, bytes, int]:
    """(seed name, target kind, mutated bytes, option flags)."""
    name = draw(st.sampled_from(sorted(SEEDS)))
    kind = draw(st.sampled_from([contract.INFLATED, contract.GZIP]))
    data = bytearray(INFLATED[name] if kind == contract.INFLATED else SEEDS[name])
    for _ in range(draw(st.integers(1, 3))):
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "lie", "insert", "delete", "truncate"]))
        if op == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "lie":
            data[pos : pos + 4] = draw(st.sampled_from(LIES)).to_bytes(4, "little")
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 64))]
        else:
            del data[pos:]
    return name, kind, bytes(data), draw(st.integers(0, 255))


@settings(
    derandomize=True,
    database=None,
    max_examples=1500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutants())
def test_mutated_files_keep_the_contract(case):
    name, kind, data, flags = case
    note(f"seed {name}, {kind}, {len(data)} bytes, flags {flags:#04x}")
    outcome = contract.check(data, kind, flags)
    assert isinstance(outcome, (vitalproc.VitalFile, vitalproc.VitalFormatError))


@pytest.mark.parametrize("path", FINDINGS, ids=lambda p: p.name)
@pytest.mark.parametrize("flags", [0x00, 0x3D, 0x3E, 0x7F, 0xBC])
def test_fuzz_findings_keep_the_contract(path: pathlib.Path, flags: int):
    outcome = contract.check(path.read_bytes(), contract.GZIP, flags)
    assert isinstance(outcome, (vitalproc.VitalFile, vitalproc.VitalFormatError))


def test_findings_are_documented():
    listed = (REPO / "tests" / "data" / "fuzz" / "README.md").read_text()
    assert FINDINGS and all(f"`{p.name}`" in listed for p in FINDINGS)

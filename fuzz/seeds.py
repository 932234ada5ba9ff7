"""Seed inputs for the fuzz targets: the real recordings and the fixture catalog."""

from __future__ import annotations

import hashlib
import pathlib
import sys
import zlib

REPO = pathlib.Path(__file__).resolve().parent.parent
TESTS = REPO / "tests"

#: Option bytes each seed is written with (see ``fuzz.contract.check``): plain, and every
#: variation switched on.
SEED_FLAGS = (0x00, 0x3D)


def seed_files() -> dict[str, bytes]:
    """Whole files by name: ``tests/data/*.vital``, the regression inputs of
    ``tests/data/fuzz/`` and every fixture of the catalog."""
    files = {p.name: p.read_bytes() for p in sorted((TESTS / "data").glob("*.vital"))}
    files.update(
        (p.name, p.read_bytes()) for p in sorted((TESTS / "data" / "fuzz").glob("*.vital"))
    )
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    from fixtures_catalog import FIXTURES

    files.update((name, build()) for name, build in sorted(FIXTURES.items()))
    return files


def inflate_prefix(gz: bytes) -> bytes:
    """Every byte the gzip members of ``gz`` inflate to before any fault."""
    out = []
    while gz[:2] == b"\x1f\x8b":
        d = zlib.decompressobj(wbits=31)
        try:
            out.append(d.decompress(gz))
        except zlib.error:
            break
        if not d.eof:
            break
        gz = d.unused_data
    return b"".join(out)


def write_seeds(directory: pathlib.Path, kind: str) -> int:
    """Write the seed inputs of target ``kind`` ("inflated" or "gzip"); returns how many."""
    directory.mkdir(parents=True, exist_ok=True)
    n = 0
    for gz in seed_files().values():
        body = inflate_prefix(gz) if kind == "inflated" else gz
        for flags in SEED_FLAGS:
            data = bytes([flags]) + body
            (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)
            n += 1
    return n

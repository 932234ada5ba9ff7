"""Find or make the standard benchmark corpus.

    python bench/corpus.py [--quick]    # make what is missing, then list the files

Synthetic recordings come from ../shared/tools/make_vital.py (same bytes everywhere) and
are kept in bench/.corpus/ (or $VITALPROC_CORPUS); the real recordings are read where
they lie, in ../shared/data/real/.
"""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import shapes

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
# shared/ sits beside the repository: /work/shared here, a sibling of the clone in CI
# ($VITALPROC_SHARED elsewhere, e.g. from a worktree).
SHARED = Path(os.environ.get("VITALPROC_SHARED") or REPO.parent / "shared")

# The selective-read case asks for one wave and two numerics, as an analysis would.
OR_TRACKS = ("SNUADC/ART", "Solar8000/NUM00", "BIS/BIS")
ICU_TRACKS = ("Bx50/ECG1", "Bx50/HR", "Bx50/SPO2")
REAL_TRACKS = ("Intellivue/ECG_II", "Intellivue/HR", "Intellivue/PLETH_SAT_O2")
# vitaldb's packed writer stores numerics before waves, so a reader can stop early.
PACKED_TRACKS = ("Solar8000/NUM00", "Solar8000/NUM01", "Primus/NUM00")

REAL_FILES = (
    "test_intellivue_demo1.vital",
    "test_data_demo.vital",
    "test_intelliue_demo2.vital",
)
SYNTHETIC = {  # name -> make_vital.py arguments
    "icu_1h.vital": ("--hours", "1", "--profile", "icu"),
    "or_4h.vital": ("--hours", "4", "--profile", "or"),
    "or_24h.vital": ("--hours", "24", "--profile", "or"),
}
# The scale test (431 MB on disk, 700 MB inflated): only with --big, and only the
# export cases that measure bounded memory run on it (bench/run.py, BIG_CASES).
BIG = {"or_24h.vital"}
PACKED = {"or_4h_packed.vital": "or_4h.vital"}  # packed copy -> its source
LARGE = {"or_4h.vital", "or_4h_packed.vital"}  # left out by --quick
# The shape corpus: one small file per shape of real recordings the corpus above lacks
# (shapes.py writes them; the harness's `shape` targets judge them with the real files
# and icu_1h/or_4h).
SHAPE_FILES = tuple(shapes.SHAPES)


@dataclass(frozen=True)
class CorpusFile:
    """One benchmark input and the tracks its selective-read cases ask for."""

    name: str
    path: Path
    tracks: tuple[str, ...]


def cache_dir() -> Path:
    """Where generated recordings live: $VITALPROC_CORPUS or bench/.corpus/."""
    return Path(os.environ.get("VITALPROC_CORPUS") or BENCH / ".corpus")


def corpus_files(quick: bool = False, big: bool = False) -> list[CorpusFile]:
    """The standard corpus, small files first (``big``: and the 24-hour recording), then
    the shape corpus (``shapes.py``); nothing is made here."""
    cache = cache_dir()
    real = SHARED / "data" / "real"
    files = [CorpusFile(name, real / name, REAL_TRACKS) for name in REAL_FILES]
    files += [CorpusFile(name, cache / name, ()) for name in SHAPE_FILES]
    files += [
        CorpusFile("icu_1h.vital", cache / "icu_1h.vital", ICU_TRACKS),
        CorpusFile("or_4h.vital", cache / "or_4h.vital", OR_TRACKS),
        CorpusFile("or_4h_packed.vital", cache / "or_4h_packed.vital", PACKED_TRACKS),
        CorpusFile("or_24h.vital", cache / "or_24h.vital", OR_TRACKS),
    ]
    return [f for f in files if not (quick and f.name in LARGE) and (big or f.name not in BIG)]


def ensure(f: CorpusFile) -> None:
    """Make a generated file if it is missing; fail clearly if a real one is."""
    if f.name not in SHAPE_FILES and not (SHARED / "tools" / "make_vital.py").is_file():
        sys.exit(f"the benchmark corpus needs {SHARED}, the shared/ beside the repo")
    if f.name in SHAPE_FILES:
        shapes.make(f.path.parent)
    elif f.name in SYNTHETIC or f.name in PACKED:
        _make(f.path)
    elif not f.path.is_file():
        sys.exit(f"missing real recording {f.path}")


def _make(path: Path) -> None:
    """Make one generated file, and first the source of a packed copy, if missing."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name in PACKED:
        source = path.with_name(PACKED[path.name])
        _make(source)
        _pack(source, path)
    else:
        _generate(path, SYNTHETIC[path.name])


def _generate(out: Path, args: tuple[str, ...]) -> None:
    """Run make_vital.py into a temporary name: a broken run leaves no half file."""
    print(f"generating {out.name}: make_vital.py {' '.join(args)}", file=sys.stderr)
    part = out.with_name(out.name + ".part")
    tool = SHARED / "tools" / "make_vital.py"
    subprocess.run([sys.executable, str(tool), str(part), *args], check=True)
    part.replace(out)


def _pack(src: Path, out: Path) -> None:
    """Write a packed copy with vitaldb's own writer, as packed files arise in use.

    This runs in a child: vitaldb holds the recording as Python objects (over 0.5 GB),
    which the parent should not keep while it launches the measurements.
    """
    print(f"writing {out.name}: vitaldb to_vital(packed=True)", file=sys.stderr)
    part = out.with_name(out.name + ".part")
    code = (
        "import sys, cases\n"
        "vf = cases.golden_vitaldb().VitalFile(sys.argv[1])\n"
        "vf.to_vital(sys.argv[2], packed=True)\n"
    )
    cmd = [sys.executable, "-c", code, str(src), str(part)]
    subprocess.run(cmd, check=True, cwd=BENCH)  # cwd: `import cases` finds bench/
    part.replace(out)


def inflated_size(path: Path) -> int:
    """Bytes after gunzip, counted in chunks so that the parent process stays small; a
    stream cut short (the truncated shape) counts what inflates before the cut."""
    total = 0
    with gzip.open(path, "rb") as f:
        try:
            while chunk := f.read(1 << 16):
                total += len(chunk)
        except EOFError:
            pass
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="leave out or_4h and its copy")
    ap.add_argument("--big", action="store_true", help="also the 24-hour recording")
    a = ap.parse_args()
    for f in corpus_files(a.quick, a.big):
        ensure(f)
        print(f"{f.path}\t{f.path.stat().st_size}")


if __name__ == "__main__":
    main()

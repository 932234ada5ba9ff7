"""The shape corpus: one recording per shape of real operating-room files that the
standard corpus does not have, made by the package's generator (``vitalproc.synth``'s
``shapes``: overlapping demo-device records, re-declared names, stray timestamps that
stretch a 20-minute case to 13 hours, 80 tracks with 52 string tracks, a file under
1 KB, records over 1 MB, a stream cut inside a packet, vitaldb's packed layout).

    python bench/shapes.py [FOLDER]     # make what is missing, then list the files

The same arguments give the same bytes, so the corpus is the same everywhere.
"""

from __future__ import annotations

import sys
from pathlib import Path

from vitalproc.synth import shapes as _shapes

#: corpus file name -> the generator's shape name
SHAPES = {f"shape_{name}.vital": name for name in _shapes.names()}


def make(folder: Path) -> list[Path]:
    """Write every shape file missing from ``folder`` with its truth sidecar (the
    generator writes each through a temporary name, so an interrupted run leaves no half
    file); their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for file, name in SHAPES.items():
        path = folder / file
        if not path.exists():
            _shapes.make(name, path)
        paths.append(path)
    return paths


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from corpus import cache_dir

    for p in make(Path(sys.argv[1]) if len(sys.argv) > 1 else cache_dir()):
        print(f"{p}\t{p.stat().st_size}")

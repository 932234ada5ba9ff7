"""Typed stub of the compiled cell loops of a time grid (``_grid.pyx``)."""
from typing import Any

import numpy as np
from numpy.typing import NDArray

PARALLEL_CELLS: int

def object_block(nrows: int, ncols: int, fill: object) -> NDArray[np.object_]: ...
def put_floats(out: NDArray[np.object_], start: int, rows: NDArray[np.int64] | None,
               values: NDArray[np.float32], held: NDArray[np.int64] | None = None,
               keys: NDArray[np.uint16] | None = None) -> None: ...
def find_samples(positions: NDArray[np.int64], start: NDArray[np.int64],
                 first: NDArray[np.int64], count: NDArray[np.int64]) -> NDArray[np.int64]: ...
def copy_runs(dst: NDArray[np.float32], src: NDArray[np.float32], at: NDArray[np.int64],
              first: NDArray[np.int64], count: NDArray[np.int64]) -> None: ...
def _fill_part(block: NDArray[np.object_], lo: int, hi: int, fill: Any) -> None: ...

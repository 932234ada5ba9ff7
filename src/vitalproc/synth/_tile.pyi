import numpy as np

def tile(
    out: np.ndarray,
    starts: np.ndarray,
    level0: np.ndarray,
    level1: np.ndarray,
    scale: np.ndarray,
    template: np.ndarray,
    add: bool,
) -> None: ...
def overlap_add(
    out: np.ndarray,
    centres: np.ndarray,
    tables: np.ndarray,
    kinds: np.ndarray,
    amp: np.ndarray,
    before: int,
) -> None: ...
def scatter_rows(out: np.ndarray, rows: np.ndarray, positions: np.ndarray) -> None: ...
def quantise(
    x: np.ndarray, out: np.ndarray, gain: float, offset: float, lo: float, hi: float
) -> None: ...
def add_tiled(out: np.ndarray, bank: np.ndarray, shifts: np.ndarray) -> None: ...

# Signatures of the compiled envelope walk (_envelope.pyx); numpy arrays typed loosely,
# as the memoryview dtypes are fused.
import numpy as np

def summarize(
    data: np.ndarray,
    bounds: np.ndarray,
    sentinel: int | None,
    smin: np.ndarray,
    smax: np.ndarray,
    simin: np.ndarray,
    simax: np.ndarray,
) -> None: ...
def walk(
    data: np.ndarray,
    offsets: np.ndarray,
    dt: np.ndarray,
    r0: int,
    r1: int,
    period: float,
    t0: float,
    width: float,
    ncol: int,
    sentinel: int | None,
    bmin: np.ndarray,
    bmax: np.ndarray,
    bimin: np.ndarray,
    bimax: np.ndarray,
    block: int,
    rmin: np.ndarray,
    rmax: np.ndarray,
    rimin: np.ndarray,
    rimax: np.ndarray,
    vmin: np.ndarray,
    vmax: np.ndarray,
    imin: np.ndarray,
    imax: np.ndarray,
) -> None: ...

# Signature of the compiled quality pass (_pass.pyx).
from typing import Any

import numpy as np

def track_pass(
    dt: np.ndarray,
    data: np.ndarray,
    offsets: np.ndarray | None,
    order: np.ndarray | None,
    base: float,
    wave: bool,
    h: float,
    scaled: bool,
    gain: float,
    offset: float,
    has_sentinel: bool,
    sentinel: float,
    lo: float,
    hi: float,
    flat_s: float,
    clip_s: float,
    spike_thr: float,
    polarity: bool,
    gap_s: float,
    windows: np.ndarray,
    events: list[Any] | None,
) -> dict[str, Any]: ...

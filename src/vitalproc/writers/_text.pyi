"""Typed stub of the compiled JSON text of integer samples (``_text.pyx``)."""

import numpy as np
from numpy.typing import NDArray

def wave_records(
    dt_json: bytes | bytearray | memoryview | NDArray[np.uint8],
    samples: NDArray[np.integer],
    offsets: NDArray[np.int64],
    a: int,
    b: int,
) -> bytearray: ...
def scalar_records(
    dt_json: bytes | bytearray | memoryview | NDArray[np.uint8],
    val_json: bytes | bytearray | memoryview | NDArray[np.uint8],
) -> bytearray: ...

# Signatures of the compiled running-window kernels (_running.pyx).
import numpy as np

def moving_average(x: np.ndarray, starts: np.ndarray, length: int, m: int) -> np.ndarray: ...
def moving_extreme(
    x: np.ndarray, starts: np.ndarray, length: int, m: int, maximum: bool
) -> np.ndarray: ...

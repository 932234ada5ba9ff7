# cython: language_level=3
"""The moving average of many windows of one signal, in one pass.

Each window's running sum starts at its own first sample, in float32 (NaN taken as 0), as
``numpy.cumsum(x, dtype=float32)`` of that window alone adds them: one addition after the
other. numpy's cumsum along the rows of a (windows, samples) array gives the same values
but walks the array column by column, a tenth of the speed; windows that overlap would
also be copied first. Here each window is summed straight from the signal.
"""
cimport cython
from libc.stdint cimport int64_t
from libc.math cimport isnan

import numpy as np


@cython.boundscheck(False)
@cython.wraparound(False)
def moving_average(const float[::1] x, const int64_t[::1] starts, Py_ssize_t length,
                   Py_ssize_t m):
    """(windows, length - m + 1) float32: for window k, with ``c`` the running sum of
    ``x[starts[k] : starts[k] + length]`` (NaN as 0) after a leading 0,
    ``(c[j + m] - c[j]) / m``. The caller checks that every window lies inside ``x``."""
    cdef Py_ssize_t k = starts.shape[0], nout = length - m + 1, w, j, a
    out_arr = np.empty((k, max(nout, 0)), np.float32)
    if nout <= 0 or k == 0:
        return out_arr
    cdef float[:, ::1] out = out_arr
    c_arr = np.empty(length + 1, np.float32)
    cdef float[::1] c = c_arr
    cdef float s, v, fm = <float>m
    with nogil:
        for w in range(k):
            a = starts[w]
            s = 0
            c[0] = 0
            for j in range(length):
                v = x[a + j]
                if not isnan(v):
                    s = s + v
                c[j + 1] = s
            for j in range(nout):
                out[w, j] = (c[j + m] - c[j]) / fm
    return out_arr


@cython.boundscheck(False)
@cython.wraparound(False)
def moving_extreme(const float[::1] x, const int64_t[::1] starts, Py_ssize_t length,
                   Py_ssize_t m, bint maximum):
    """The largest (``maximum``) or smallest value of each window's moving average, NaN
    values ignored (``numpy.nanmax``/``nanmin``; NaN when all are): ``moving_average``
    followed by the reduction, without the (windows, length) array between."""
    cdef Py_ssize_t k = starts.shape[0], nout = length - m + 1, w, j, a
    out_arr = np.full(k, np.nan, np.float32)
    if nout <= 0 or k == 0:
        return out_arr
    cdef float[::1] out = out_arr
    c_arr = np.empty(length + 1, np.float32)
    cdef float[::1] c = c_arr
    cdef float s, v, fm = <float>m, best
    cdef bint seen
    with nogil:
        for w in range(k):
            a = starts[w]
            s = 0
            c[0] = 0
            for j in range(length):
                v = x[a + j]
                if not isnan(v):
                    s = s + v
                c[j + 1] = s
            seen = False
            best = 0
            for j in range(nout):
                v = (c[j + m] - c[j]) / fm
                if isnan(v):
                    continue
                if not seen or (v > best if maximum else v < best):
                    best = v
                    seen = True
            if seen:
                out[w] = best
    return out_arr

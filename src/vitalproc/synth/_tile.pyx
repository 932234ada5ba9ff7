# cython: language_level=3
"""The synthetic waves' sample loops: templates laid over beats and breaths.

A wave is a sequence of spans (beats, breaths), each the same template stretched to the
span's length on top of a level that moves linearly across the span. numpy would need a
span index, a phase and a handful of temporaries per sample (or a Python loop per span);
here each sample is written once. Which spans, levels and templates: ``waves.py``.
"""
cimport cython
from libc.stdint cimport int8_t, int64_t
from libc.string cimport memcpy

import numpy as np


@cython.boundscheck(False)
@cython.wraparound(False)
def tile(float[::1] out, const int64_t[::1] starts, const double[::1] level0,
         const double[::1] level1, const double[::1] scale, const double[::1] template,
         bint add):
    """Span k covers samples ``starts[k] .. starts[k+1]`` (clipped to ``out``): there
    ``level0[k] + (level1[k] - level0[k]) * phase + scale[k] * template(phase)``, phase
    0..1 across the span, the template linearly interpolated. ``add``: added to ``out``."""
    cdef Py_ssize_t n = out.shape[0], nspan = starts.shape[0] - 1, last = template.shape[0] - 1
    cdef Py_ssize_t k, j, lo, hi, i
    cdef int64_t a, b
    cdef double length, phase, pos, frac, value
    with nogil:
        for k in range(nspan):
            a = starts[k]
            b = starts[k + 1]
            lo = a if a > 0 else 0
            hi = b if b < n else n
            if hi <= lo:
                continue
            length = <double>(b - a)
            for j in range(lo, hi):
                phase = (j - a) / length
                pos = phase * last
                i = <Py_ssize_t>pos
                frac = pos - i
                value = (level0[k] + (level1[k] - level0[k]) * phase
                         + scale[k] * (template[i] + frac * (template[i + 1] - template[i])))
                if add:
                    out[j] += <float>value
                else:
                    out[j] = <float>value


@cython.boundscheck(False)
@cython.wraparound(False)
def overlap_add(float[::1] out, const int64_t[::1] centres, const double[:, ::1] tables,
                const int8_t[::1] kinds, const double[::1] amp, Py_ssize_t before):
    """Add ``amp[k] * tables[kinds[k]]`` with its sample ``before`` at ``centres[k]``."""
    cdef Py_ssize_t n = out.shape[0], width = tables.shape[1], k, j, a
    with nogil:
        for k in range(centres.shape[0]):
            a = centres[k] - before
            for j in range(width):
                if 0 <= a + j < n:
                    out[a + j] += <float>(amp[k] * tables[kinds[k], j])


@cython.boundscheck(False)
@cython.wraparound(False)
def scatter_rows(unsigned char[::1] out, const unsigned char[:, ::1] rows,
                 const int64_t[::1] positions):
    """Copy row k of ``rows`` to ``out[positions[k]:]`` (packets into their place in the
    time-ordered stream)."""
    cdef Py_ssize_t k, width = rows.shape[1]
    if positions.shape[0] != rows.shape[0]:
        raise ValueError("one position per row")
    for k in range(positions.shape[0]):
        if positions[k] < 0 or positions[k] + width > out.shape[0]:
            raise ValueError("a row past the end of the stream")
    with nogil:
        for k in range(positions.shape[0]):
            memcpy(&out[positions[k]], &rows[k, 0], width)

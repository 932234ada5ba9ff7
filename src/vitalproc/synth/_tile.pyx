# cython: language_level=3
"""The synthetic waves' sample loops: templates laid over beats and breaths.

A wave is a sequence of spans (beats, breaths), each the same template stretched to the
span's length on top of a level that moves linearly across the span. numpy would need a
span index, a phase and a handful of temporaries per sample (or a Python loop per span);
here each sample is written once. Which spans, levels and templates: ``waves.py``.
"""
cimport cython
from libc.stdint cimport int8_t, int64_t
from libc.math cimport rint
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


ctypedef fused stored_t:
    unsigned char
    signed char
    short
    unsigned short
    int
    unsigned int


@cython.boundscheck(False)
@cython.wraparound(False)
def quantise(const float[::1] x, stored_t[::1] out, double gain, double offset,
             double lo, double hi):
    """``out = clip(rint((x - offset) / gain), lo, hi)`` in one pass (an ADC's counts);
    NaN (a sample in no record) becomes the count of ``offset``, 0."""
    cdef Py_ssize_t j
    cdef double v, scale = 1.0 / gain
    with nogil:
        for j in range(x.shape[0]):
            v = x[j]
            if v != v:
                v = 0.0
            else:
                v = rint((v - offset) * scale)
                if v < lo:
                    v = lo
                elif v > hi:
                    v = hi
            out[j] = <stored_t>v


@cython.boundscheck(False)
@cython.wraparound(False)
def add_tiled(float[::1] out, const float[::1] bank, const int64_t[::1] shifts):
    """Add ``bank`` (twice the block length: a block, then the same block again) laid end to
    end, block k read from ``shifts[k]``: noise without a second array the wave's size."""
    cdef Py_ssize_t block = bank.shape[0] // 2, n = out.shape[0], k, j, a, m
    if shifts.shape[0] * block < n:
        raise ValueError("too few shifts for the samples")
    for k in range(shifts.shape[0]):
        if not 0 <= shifts[k] < block:
            raise ValueError("a shift outside the block")
    with nogil:
        for k in range(shifts.shape[0]):
            a = k * block
            m = block if a + block <= n else n - a
            for j in range(m):
                out[a + j] += bank[shifts[k] + j]

# cython: language_level=3
"""The min/max envelope of a track over pixel columns, from its native records.

A sample ``i`` of record ``r`` lies at ``(dt[r] - t0) + i * period`` seconds from the
view's start and belongs to column ``floor(that / width)``; columns run from 0 to
``ncol - 1``, samples outside them are left out. Each column keeps the smallest and
largest valid sample and where they are (global sample index), so the caller can draw
them in the order they occurred. A gap sentinel of an integer format (what packed files
put between records) and NaN are not samples. Records may come in any order and
overlap: each updates the columns it covers.

The walk goes column by column through a record (two float operations find where a
column ends, checked against the per-sample rule), so the inner loop is a plain min/max
over a slice of the column, through per-block summaries where a column spans whole
blocks or whole records (exact: a summary is used only when all of its samples lie in
the column). The tests apply the rule per sample and compare.
"""
cimport cython
from libc.math cimport ceil, floor, isnan
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t

from vitalproc._samples cimport sample_t


cdef inline Py_ssize_t _col(double base, Py_ssize_t i, double period, double width) noexcept nogil:
    # The one rule, used everywhere: a sample's column.
    return <Py_ssize_t>floor((base + i * period) / width)


@cython.boundscheck(False)
@cython.wraparound(False)
cdef inline void _scan(const sample_t[:] data, Py_ssize_t g0, Py_ssize_t g1,
                       bint has_sentinel, sample_t sentinel, double* lo, double* hi,
                       int64_t* ilo, int64_t* ihi) noexcept nogil:
    # min/max of data[g0:g1] merged into lo/hi. Values first, in a loop of selects the
    # compiler vectorises, then where they are (the first occurrence, an early exit).
    cdef Py_ssize_t j, jl = -1, jh = -1
    cdef sample_t v, l = 0, h = 0
    cdef const sample_t* p = &data[0]
    for j in range(g0, g1):  # the first sample that counts
        v = p[j]
        if sample_t is float or sample_t is double:
            if v == v:
                break
        elif not (has_sentinel and v == sentinel):
            break
    else:
        return
    l = v
    h = v
    g0 = j
    if sample_t is float or sample_t is double:
        for j in range(g0, g1):
            v = p[j]
            l = v if v < l else l  # NaN compares false: left out
            h = v if v > h else h
    elif has_sentinel:
        for j in range(g0, g1):
            v = p[j]
            v = l if v == sentinel else v
            l = v if v < l else l
            v = h if p[j] == sentinel else p[j]
            h = v if v > h else h
    else:
        for j in range(g0, g1):
            v = p[j]
            l = v if v < l else l
            h = v if v > h else h
    for j in range(g0, g1):
        if p[j] == l:
            jl = j
            break
    for j in range(g0, g1):
        if p[j] == h:
            jh = j
            break
    if ilo[0] < 0 or <double>l < lo[0]:
        lo[0] = l
        ilo[0] = jl
    if ihi[0] < 0 or <double>h > hi[0]:
        hi[0] = h
        ihi[0] = jh


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _range(const sample_t[:] data, Py_ssize_t g0, Py_ssize_t g1, bint has_sentinel,
                 sample_t sentinel, const double[:] bmin, const double[:] bmax,
                 const int64_t[:] bimin, const int64_t[:] bimax, Py_ssize_t block,
                 double* lo, double* hi, int64_t* ilo, int64_t* ihi) noexcept nogil:
    # data[g0:g1] through the block summaries where whole blocks lie inside: exact, and
    # a wide column costs one step per block instead of one per sample.
    cdef Py_ssize_t b0, b1, b
    if block <= 0 or g1 - g0 < 2 * block:
        _scan(data, g0, g1, has_sentinel, sentinel, lo, hi, ilo, ihi)
        return
    b0 = (g0 + block - 1) // block
    b1 = g1 // block
    _scan(data, g0, b0 * block, has_sentinel, sentinel, lo, hi, ilo, ihi)
    for b in range(b0, b1):
        if bimin[b] < 0:
            continue
        if ilo[0] < 0 or bmin[b] < lo[0]:
            lo[0] = bmin[b]
            ilo[0] = bimin[b]
        if ihi[0] < 0 or bmax[b] > hi[0]:
            hi[0] = bmax[b]
            ihi[0] = bimax[b]
    _scan(data, b1 * block, g1, has_sentinel, sentinel, lo, hi, ilo, ihi)


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _walk(const sample_t[:] data, const int64_t[:] offsets, const double[:] dt,
                Py_ssize_t r0, Py_ssize_t r1, double period, double t0, double width,
                Py_ssize_t ncol, bint has_sentinel, sample_t sentinel,
                const double[:] bmin, const double[:] bmax, const int64_t[:] bimin,
                const int64_t[:] bimax, Py_ssize_t block, bint has_records,
                const double[:] rmin, const double[:] rmax, const int64_t[:] rimin,
                const int64_t[:] rimax, double[:] vmin, double[:] vmax, int64_t[:] imin, int64_t[:] imax) noexcept nogil:
    cdef Py_ssize_t r, a, n, i, c, end
    cdef double base
    for r in range(r0, r1):
        a = offsets[r]
        n = offsets[r + 1] - a
        if n <= 0:
            continue
        base = dt[r] - t0
        if isnan(base):
            continue
        if has_records and base >= 0:
            # The usual case of a wide view: the whole record in one column.
            c = _col(base, 0, period, width)
            if c >= ncol:
                continue
            if c == _col(base, n - 1, period, width):
                if rimin[r] >= 0:
                    if imin[c] < 0 or rmin[r] < vmin[c]:
                        vmin[c] = rmin[r]
                        imin[c] = rimin[r]
                    if imax[c] < 0 or rmax[r] > vmax[c]:
                        vmax[c] = rmax[r]
                        imax[c] = rimax[r]
                continue
        # First sample at or after the view's start.
        i = 0
        if base < 0:
            if period <= 0:
                continue
            i = <Py_ssize_t>ceil(-base / period)
            if i < 0:
                i = 0
            while i > 0 and _col(base, i - 1, period, width) >= 0:
                i -= 1
            while i < n and _col(base, i, period, width) < 0:
                i += 1
        while i < n:
            c = _col(base, i, period, width)
            if c >= ncol:
                break
            # The column's last sample + 1: an estimate, then the rule decides.
            if period <= 0:
                end = n
            else:
                end = <Py_ssize_t>ceil(((c + 1) * width - base) / period)
                if end <= i:
                    end = i + 1
                if end > n:
                    end = n
                while end > i + 1 and _col(base, end - 1, period, width) > c:
                    end -= 1
                while end < n and _col(base, end, period, width) <= c:
                    end += 1
            if i == 0 and end == n and has_records:
                # The whole record in one column: its summary.
                if rimin[r] >= 0:
                    if imin[c] < 0 or rmin[r] < vmin[c]:
                        vmin[c] = rmin[r]
                        imin[c] = rimin[r]
                    if imax[c] < 0 or rmax[r] > vmax[c]:
                        vmax[c] = rmax[r]
                        imax[c] = rimax[r]
            else:
                _range(data, a + i, a + end, has_sentinel, sentinel, bmin, bmax, bimin,
                       bimax, block, &vmin[c], &vmax[c], &imin[c], &imax[c])
            i = end


@cython.boundscheck(False)
@cython.wraparound(False)
def summarize(const sample_t[:] data, const int64_t[:] bounds, sentinel, double[:] smin,
              double[:] smax, int64_t[:] simin, int64_t[:] simax):
    """Min/max (and where, by global index) of every segment ``data[bounds[k]:
    bounds[k+1]]``: blocks or records, what ``walk`` uses for wide columns. An empty
    segment has index -1."""
    cdef Py_ssize_t ns = bounds.shape[0] - 1, k
    if ns < 0 or smin.shape[0] < ns or smax.shape[0] < ns or simin.shape[0] < ns \
            or simax.shape[0] < ns:
        raise ValueError("summaries shorter than the segments")
    if ns > 0 and (bounds[0] < 0 or bounds[ns] > data.shape[0]):
        raise ValueError("segments outside the samples")
    cdef bint has = sentinel is not None
    cdef sample_t sv = sentinel if has else 0
    cdef double lo, hi
    cdef int64_t ilo, ihi
    with nogil:
        for k in range(ns):
            lo = 0
            hi = 0
            ilo = -1
            ihi = -1
            _scan(data, bounds[k], bounds[k + 1], has, sv, &lo, &hi, &ilo, &ihi)
            smin[k] = lo
            smax[k] = hi
            simin[k] = ilo
            simax[k] = ihi


def walk(const sample_t[:] data, const int64_t[:] offsets, const double[:] dt,
         Py_ssize_t r0, Py_ssize_t r1, double period, double t0, double width,
         Py_ssize_t ncol, sentinel, const double[:] bmin, const double[:] bmax,
         const int64_t[:] bimin, const int64_t[:] bimax, Py_ssize_t block,
         const double[:] rmin, const double[:] rmax, const int64_t[:] rimin,
         const int64_t[:] rimax, double[:] vmin, double[:] vmax, int64_t[:] imin,
         int64_t[:] imax):
    """Update ``vmin``/``vmax`` (values) and ``imin``/``imax`` (global sample indices;
    start them at -1: no sample yet) of ``ncol`` columns of ``width`` seconds from
    ``t0`` with the records ``r0 .. r1-1``. ``period`` is 1/srate (0: every sample at
    its record's time, as numerics). ``sentinel`` is the integer gap value, or None (NaN
    is skipped). ``bmin``.. are ``summarize``'s of global blocks of ``block`` samples
(0: none), ``rmin``.. of the records (empty: none). The GIL is
    released: the viewer's server answers requests on parallel threads."""
    if r0 < 0 or r1 > dt.shape[0] or r1 + 1 > offsets.shape[0]:
        raise ValueError("record range outside the track")
    if not width > 0:
        raise ValueError("column width must be positive")
    if vmin.shape[0] < ncol or vmax.shape[0] < ncol or imin.shape[0] < ncol \
            or imax.shape[0] < ncol:
        raise ValueError("output arrays shorter than ncol")
    if r1 > r0 and (offsets[r1] > data.shape[0] or offsets[r0] < 0):
        raise ValueError("offsets outside the samples")
    if block > 0 and bmin.shape[0] < data.shape[0] // block:
        raise ValueError("block summaries shorter than the samples' blocks")
    cdef bint has_records = rmin.shape[0] > 0
    if has_records and (rmin.shape[0] < r1 or rmax.shape[0] < r1 or rimin.shape[0] < r1
                        or rimax.shape[0] < r1):
        raise ValueError("record summaries shorter than the records")
    cdef bint has = sentinel is not None
    cdef sample_t sv = sentinel if has else 0
    with nogil:
        _walk(data, offsets, dt, r0, r1, period, t0, width, ncol, has, sv, bmin, bmax,
              bimin, bimax, block, has_records, rmin, rmax, rimin, rimax, vmin, vmax,
              imin, imax)

# cython: language_level=3
"""The cell writes of an object time grid: ``to_numpy``'s loop over cells when its result
is an object array (vitaldb's dtype as soon as a string track or datetimes are in it).

numpy makes such an array in two passes over every cell (``None``, then NaN) and turns
each float32 sample it is given into a new Python float. At 100 Hz over a 4-hour case that
is 100 M cells, and those passes, not the grid's arithmetic, are most of the call. Here the
block is NaN from one pass, and a float32 value seen recently is stored as the same Python
float again (a reference, not an allocation): physiological waves are ADC counts, a few
thousand distinct values over millions of samples. Values are unchanged, only shared.

Which cells get which values is decided in ``views.py``; these loops only store them.
"""
cimport cython
cimport numpy as cnp
from cpython.ref cimport Py_XDECREF, PyObject
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t
from libc.stdlib cimport calloc, free
from libc.string cimport memcpy
from libc.math cimport NAN, ceil, isinf

import threading

import numpy as np

cnp.import_array()

cdef extern from "Python.h":
    # A new reference or NULL, kept as a pointer (Cython would release an ``object``).
    PyObject* new_float "PyFloat_FromDouble"(double value)
    object PyUnicode_DecodeUTF8(const char* s, Py_ssize_t size, const char* errors)

cdef extern from "numpy/arrayobject.h":
    # Declared here because numpy's .pxd leaves it out (it steals ``descr``). With no
    # data given, an object array comes back zeroed (NULL cells), not filled with None.
    object PyArray_NewFromDescr(void* subtype, void* descr, int nd,
                                cnp.npy_intp* dims, cnp.npy_intp* strides, void* data,
                                int flags, PyObject* obj)

# Floats made so far, by key (8/16-bit raw samples: one slot per raw value) or, for
# other values, by float32 bit pattern (direct-mapped: a collision makes a new float).
cdef enum:
    KEY_SLOTS = 65536
    CACHE_BITS = 14


cdef struct Slot:
    uint32_t bits
    PyObject* obj

_OBJECT = np.dtype(object)

#: Cells from which object_block fills with two threads (a thread costs ~0.1 ms).
PARALLEL_CELLS = 1 << 22


cdef void _fill_cells(PyObject** cell, Py_ssize_t n, PyObject* fill) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        cell[i] = fill


def _fill_part(cnp.ndarray block, Py_ssize_t lo, Py_ssize_t hi, object fill):
    # Stores only: the references are counted by object_block, which keeps ``fill``.
    cdef PyObject** cell = <PyObject**>cnp.PyArray_DATA(block)
    cdef PyObject* f = <PyObject*>fill
    with nogil:
        _fill_cells(cell + lo, hi - lo, f)


def object_block(Py_ssize_t nrows, Py_ssize_t ncols, object fill):
    """A C-ordered ``(nrows, ncols)`` object array with ``fill`` in every cell.

    A big block is filled by two threads: the time goes into first touching its pages,
    which the kernel does for both cores at once.
    """
    if nrows < 0 or ncols < 0:
        raise ValueError("negative array dimensions")
    cdef cnp.npy_intp dims[2]
    dims[0] = nrows
    dims[1] = ncols
    cnp.Py_INCREF(_OBJECT)  # stolen by the call
    block = PyArray_NewFromDescr(<void*>np.ndarray, <void*>_OBJECT, 2, dims,
                                 NULL, NULL, 0, NULL)
    cdef Py_ssize_t n = nrows * ncols, half = n // 2
    if n >= PARALLEL_CELLS:
        helper = threading.Thread(target=_fill_part, args=(block, half, n, fill))
        helper.start()
        _fill_part(block, 0, half, fill)
        helper.join()
    else:
        _fill_part(block, 0, n, fill)
    (<PyObject*>fill).ob_refcnt += n  # one reference per cell, counted once
    return block


cdef PyObject** _cells(cnp.ndarray out, Py_ssize_t start, Py_ssize_t count,
                       const int64_t[::1] rows) except NULL:
    """``out``'s cells, after checking that every write stays inside it."""
    if out.ndim != 1 or out.dtype != _OBJECT or not out.flags.c_contiguous:
        raise TypeError("out must be a contiguous 1-d object array")
    cdef Py_ssize_t n = out.shape[0], i
    if rows is None:
        if start < 0 or count > n - start:
            raise IndexError("rows out of range")
    else:
        if rows.shape[0] != count:
            raise ValueError("rows and values differ in length")
        for i in range(count):
            if not 0 <= rows[i] < n:
                raise IndexError("rows out of range")
    return <PyObject**>cnp.PyArray_DATA(out)


@cython.boundscheck(False)
@cython.wraparound(False)
cdef inline uint32_t _mix(uint32_t h) nogil:
    # murmur3's finalizer: nearby bit patterns (one wave's values) spread over the slots
    h ^= h >> 16
    h *= 0x85ebca6bu
    h ^= h >> 13
    h *= 0xc2b2ae35u
    h ^= h >> 16
    return h


def put_floats(cnp.ndarray out, Py_ssize_t start, const int64_t[::1] rows,
               const float[::1] values, const int64_t[::1] held=None,
               const uint16_t[::1] keys=None):
    """``out[rows] = values`` as numpy stores float32 values in an object array (Python
    floats of the same value), the last write to a row winning. ``rows`` None: the rows
    from ``start`` on. ``held``: where it is negative, that value is not stored (the
    row holds no sample; ``find_samples``). ``keys``: a 16-bit key per value such that
    equal keys have equal values (the raw samples of an 8/16-bit wave)."""
    cdef Py_ssize_t n = values.shape[0], i, r
    cdef PyObject** cell = _cells(out, start, n, rows)
    if held is not None and held.shape[0] != n:
        raise ValueError("held and values differ in length")
    if keys is not None and keys.shape[0] != n:
        raise ValueError("keys and values differ in length")
    cdef Py_ssize_t nslots = KEY_SLOTS if keys is not None else 1 << CACHE_BITS
    cdef Slot* cache = <Slot*>calloc(nslots, sizeof(Slot))
    if cache == NULL:
        raise MemoryError()
    cdef uint32_t bits, h
    cdef float v
    cdef PyObject* obj
    cdef PyObject* old
    try:
        for i in range(n):
            if held is not None and held[i] < 0:
                continue
            v = values[i]
            memcpy(&bits, &v, 4)
            h = keys[i] if keys is not None else _mix(bits) >> (32 - CACHE_BITS)
            obj = cache[h].obj
            if obj == NULL or cache[h].bits != bits:
                obj = new_float(<double>v)
                if obj == NULL:
                    raise MemoryError()
                Py_XDECREF(cache[h].obj)
                cache[h].bits = bits
                cache[h].obj = obj
            obj.ob_refcnt += 1  # the cell's reference; the cache keeps its own
            r = start + i if rows is None else rows[i]
            old = cell[r]
            cell[r] = obj
            Py_XDECREF(old)
    finally:
        for i in range(nslots):
            Py_XDECREF(cache[i].obj)
        free(cache)


@cython.boundscheck(False)
@cython.wraparound(False)
def find_samples(const int64_t[::1] positions, const int64_t[::1] start,
                 const int64_t[::1] first, const int64_t[::1] count):
    """For each buffer position, the index in the track's samples of the one it holds:
    ``first[r] + position - start[r]`` for the run ``r`` covering it, -1 where no run
    does. Runs are disjoint and in order of ``start``; positions do not decrease (one
    merge of both, so the cost is their lengths added, not multiplied)."""
    cdef Py_ssize_t n = positions.shape[0], nruns = start.shape[0], i, r = 0
    if first.shape[0] != nruns or count.shape[0] != nruns:
        raise ValueError("start, first and count differ in length")
    found = np.empty(n, np.int64)
    cdef int64_t[::1] out = found
    cdef int64_t pos
    for i in range(n):
        pos = positions[i]
        while r < nruns and start[r] + count[r] <= pos:
            r += 1
        out[i] = first[r] + (pos - start[r]) if r < nruns and start[r] <= pos else -1
    return found


@cython.boundscheck(False)
@cython.wraparound(False)
def copy_runs(float[::1] dst, const float[::1] src, const int64_t[::1] at,
              const int64_t[::1] first, const int64_t[::1] count):
    """``dst[at[r]:at[r] + count[r]] = src[first[r]:first[r] + count[r]]`` for every run
    ``r`` in order (a later run overwrites): a wave's records onto its buffer."""
    cdef Py_ssize_t nruns = at.shape[0], r
    if first.shape[0] != nruns or count.shape[0] != nruns:
        raise ValueError("at, first and count differ in length")
    for r in range(nruns):
        if not (count[r] >= 0 and 0 <= at[r] <= dst.shape[0] - count[r]
                and 0 <= first[r] <= src.shape[0] - count[r]):
            raise IndexError("a run outside its buffers")
    for r in range(nruns):
        if count[r]:
            memcpy(&dst[at[r]], &src[first[r]], count[r] * sizeof(float))


@cython.boundscheck(False)
@cython.wraparound(False)
def paint_samples(const int64_t[::1] positions, const int64_t[::1] start,
                  const int64_t[::1] first, const int64_t[::1] count):
    """``find_samples`` for runs that may overlap and come in any order: each run, in
    its order, paints the positions it covers (``first[r] + position - start[r]``), so a
    later run overwrites an earlier one, as vitaldb writes records into its buffer in
    file order. -1 where no run covers a position. ``positions`` do not decrease; each
    run finds its first position by bisection, so the cost is the number of positions
    painted plus a logarithm per run, never a sort of every sample."""
    cdef Py_ssize_t n = positions.shape[0], nruns = start.shape[0], i, r, lo, hi, mid
    if first.shape[0] != nruns or count.shape[0] != nruns:
        raise ValueError("start, first and count differ in length")
    found = np.full(n, -1, np.int64)
    cdef int64_t[::1] out = found
    cdef int64_t s, e, f
    with nogil:
        for r in range(nruns):
            s = start[r]
            e = s + count[r]
            f = first[r]
            lo, hi = 0, n
            while lo < hi:  # the first position >= s
                mid = (lo + hi) >> 1
                if positions[mid] < s:
                    lo = mid + 1
                else:
                    hi = mid
            i = lo
            while i < n and positions[i] < e:
                out[i] = f + (positions[i] - s)
                i += 1
    return found


ctypedef fused value_t:
    float
    double


@cython.boundscheck(False)
@cython.wraparound(False)
@cython.cdivision(True)
cdef inline Py_ssize_t _row(double t, double dtstart, double interval, double top) noexcept nogil:
    # vitaldb's int((dt - dtstart) / interval), clamped in floating point first (huge
    # and infinite times stay in range); -1 for a NaN time, which shows nowhere.
    cdef double x = (t - dtstart) / interval
    if x != x:
        return -1
    if x < 0:
        x = 0
    if x > top:
        x = top
    return <Py_ssize_t>x


def record_rows(const double[::1] dt, double dtstart, double interval, Py_ssize_t nret):
    """The grid row of each record of a numeric or string track (``_row``), -1 for a
    record with a NaN time. ``nret`` > 0."""
    cdef Py_ssize_t n = dt.shape[0], i
    rows = np.empty(n, np.int64)
    cdef int64_t[::1] out = rows
    cdef double top = <double>(nret - 1)
    with nogil:
        for i in range(n):
            out[i] = _row(dt[i], dtstart, interval, top)
    return rows


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _put_records(float* out, Py_ssize_t nret, const double* dt, const value_t* values,
                       Py_ssize_t n, double dtstart, double interval) noexcept nogil:
    cdef double top = <double>(nret - 1)
    cdef Py_ssize_t i, r
    cdef float v
    cdef uint32_t bits
    for i in range(n):
        r = _row(dt[i], dtstart, interval, top)
        if r < 0:
            continue
        if value_t is float:
            v = values[i]
            if v != v:  # float -> double -> float sets the quiet bit of a NaN
                memcpy(&bits, &v, 4)
                bits |= 0x00400000u
                memcpy(&v, &bits, 4)
            out[r] = v
        else:
            out[r] = <float>values[i]


cdef int _put_track(float* o, Py_ssize_t nret, object dt, object values, double dtstart,
                    double interval) except -1:
    cdef cnp.ndarray t = np.ascontiguousarray(dt, np.float64)
    cdef cnp.ndarray v = values
    if v.ndim != 1 or t.ndim != 1 or v.shape[0] != t.shape[0]:
        raise ValueError("dt and values must be 1-d, one value per record")
    cdef int typenum = cnp.PyArray_TYPE(v)
    if typenum != cnp.NPY_FLOAT32 and typenum != cnp.NPY_FLOAT64 or \
            not cnp.PyArray_ISNOTSWAPPED(v):
        v = np.ascontiguousarray(v, np.float64)  # integers exactly
        typenum = cnp.NPY_FLOAT64
    else:
        v = np.ascontiguousarray(v)
    if typenum == cnp.NPY_FLOAT32:
        _put_records(o, nret, <const double*>cnp.PyArray_DATA(t),
                     <const float*>cnp.PyArray_DATA(v), t.shape[0], dtstart, interval)
    else:
        _put_records(o, nret, <const double*>cnp.PyArray_DATA(t),
                     <const double*>cnp.PyArray_DATA(v), t.shape[0], dtstart, interval)
    return 0


def put_records(cnp.ndarray out, dt, values, double dtstart, double interval):
    """A numeric track onto its grid row ``out`` (float32, ``len(out)`` rows): each
    record's value as float32 at its row ``int((dt - dtstart) / interval)`` (clamped,
    none for a NaN time), in file order, so the last record of a row wins (vitaldb's
    rule) without sorting. float32 values go through a double as vitaldb's do (a
    signalling NaN comes back quiet); others are rounded from float64 to float32."""
    if out.ndim != 1 or cnp.PyArray_TYPE(out) != cnp.NPY_FLOAT32 or \
            not cnp.PyArray_IS_C_CONTIGUOUS(out) or not cnp.PyArray_ISWRITEABLE(out):
        raise TypeError("out must be a writable contiguous 1-d float32 array")
    if out.shape[0]:
        _put_track(<float*>cnp.PyArray_DATA(out), out.shape[0], dt, values, dtstart,
                   interval)


def put_numerics(cnp.ndarray block, list rows, list dts, list values, double dtstart,
                 double interval):
    """``put_records`` of several numeric tracks onto rows of a C-ordered 2-d float32
    ``block``: track ``k`` onto row ``rows[k]``. One call for all of a grid's numeric
    tracks: on a small file, per-track calls would be most of ``to_numpy``."""
    if block.ndim != 2 or cnp.PyArray_TYPE(block) != cnp.NPY_FLOAT32 or \
            not cnp.PyArray_IS_C_CONTIGUOUS(block) or not cnp.PyArray_ISWRITEABLE(block):
        raise TypeError("block must be a writable C-ordered 2-d float32 array")
    if not len(rows) == len(dts) == len(values):
        raise ValueError("rows, dts and values differ in length")
    cdef Py_ssize_t nrow = block.shape[0], nret = block.shape[1], k, j
    cdef float* base = <float*>cnp.PyArray_DATA(block)
    if nret == 0:
        return
    for k in range(len(rows)):
        j = rows[k]
        if not 0 <= j < nrow:
            raise IndexError("row outside the block")
        _put_track(base + j * nret, nret, dts[k], values[k], dtstart, interval)


@cython.boundscheck(False)
@cython.wraparound(False)
def wave_runs(const double[::1] dt, const int64_t[::1] offsets, double dtstart, double srate,
              int64_t nsamp):
    """vitaldb's placement of a wave's records in its buffer of ``nsamp`` samples: record
    ``i`` starts at ``ceil((dt[i] - dtstart) * srate)`` and is cut to the buffer; a record
    with no sample, a NaN time or nothing inside the buffer does not show.

    Returns ``(start, first, count, ordered)``: the buffer position, first sample index
    and sample count of each record that shows, in file order, and whether both their
    starts and their ends never decrease."""
    cdef Py_ssize_t n = dt.shape[0], i, k = 0
    if offsets.shape[0] != n + 1:
        raise ValueError("offsets must hold one more item than dt")
    start_a = np.empty(n, np.int64)
    first_a = np.empty(n, np.int64)
    count_a = np.empty(n, np.int64)
    cdef int64_t[::1] start = start_a, first = first_a, count = count_a
    cdef double s
    cdef int64_t c, b, f, cut
    cdef bint ordered = True
    with nogil:
        for i in range(n):
            c = offsets[i + 1] - offsets[i]
            s = ceil((dt[i] - dtstart) * srate)
            if not (c > 0 and s < nsamp and s + c > 0):  # False for a NaN start too
                continue
            b = <int64_t>s
            f = offsets[i]
            if b < 0:  # samples before the buffer's start
                cut = -b
                b, f, c = 0, f + cut, c - cut
            if b + c > nsamp:  # ... and after its end
                c = nsamp - b
            if k and (b < start[k - 1] or b + c < start[k - 1] + count[k - 1]):
                ordered = False
            start[k], first[k], count[k] = b, f, c
            k += 1
    return start_a[:k], first_a[:k], count_a[:k], ordered


cdef inline float _as_float32(float v) noexcept nogil:
    # float -> double -> float, as vitaldb's values go: a signalling NaN comes back quiet
    cdef uint32_t bits
    if v != v:
        memcpy(&bits, &v, 4)
        bits |= 0x00400000u
        memcpy(&v, &bits, 4)
    return v


cdef int _store(PyObject** cell, Py_ssize_t r, PyObject* obj) except -1:
    # A new reference into a cell; the old one released.
    cdef PyObject* old = cell[r]
    cell[r] = obj
    Py_XDECREF(old)
    return 0


cdef inline cnp.ndarray _vector(object a, int typenum):
    """``a`` itself when it is a contiguous native 1-d array of ``typenum`` (no numpy
    call: on a small file those calls would cost more than the cells), else a copy."""
    if isinstance(a, cnp.ndarray) and cnp.PyArray_NDIM(<cnp.ndarray>a) == 1 and \
            cnp.PyArray_TYPE(<cnp.ndarray>a) == typenum and \
            cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a) and \
            cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray>a):
        return <cnp.ndarray>a
    return np.ascontiguousarray(a, cnp.PyArray_DescrFromType(typenum))


@cython.boundscheck(False)
@cython.wraparound(False)
cdef int _put_floats(PyObject** cell, Py_ssize_t nret, object dt, object values,
                     double dtstart, double interval) except -1:
    # Each record's value as float32, stored as a Python float, in file order.
    cdef cnp.ndarray t = _vector(dt, cnp.NPY_FLOAT64)
    cdef cnp.ndarray v = values
    if v.ndim != 1 or cnp.PyArray_TYPE(v) != cnp.NPY_FLOAT32:
        v = _vector(v, cnp.NPY_FLOAT64)  # integers exactly
    else:
        v = _vector(v, cnp.NPY_FLOAT32)
    cdef Py_ssize_t n = t.shape[0], i, r
    if v.shape[0] != n:
        raise ValueError("dt and values must be 1-d, one value per record")
    cdef const double* times = <const double*>cnp.PyArray_DATA(t)
    cdef bint single = cnp.PyArray_TYPE(v) == cnp.NPY_FLOAT32
    cdef const float* f32 = <const float*>cnp.PyArray_DATA(v)
    cdef const double* f64 = <const double*>cnp.PyArray_DATA(v)
    cdef double top = <double>(nret - 1)
    cdef float x
    cdef PyObject* obj
    for i in range(n):
        r = _row(times[i], dtstart, interval, top)
        if r < 0:
            continue
        x = _as_float32(f32[i]) if single else <float>f64[i]
        obj = new_float(<double>x)
        if obj == NULL:
            raise MemoryError()
        _store(cell, r, obj)
    return 0


@cython.boundscheck(False)
@cython.wraparound(False)
cdef int _put_texts(PyObject** cell, Py_ssize_t nret, object dt, object data, object ends,
                    double dtstart, double interval) except -1:
    # Each record's text (its bytes ``data[ends[i]:ends[i + 1]]`` decoded as UTF-8, bad
    # bytes dropped: ``Track.texts``) in file order; only records that show are decoded.
    cdef cnp.ndarray t = _vector(dt, cnp.NPY_FLOAT64)
    cdef cnp.ndarray d = _vector(data, cnp.NPY_UINT8)
    cdef cnp.ndarray e = _vector(ends, cnp.NPY_INT64)
    cdef Py_ssize_t n = t.shape[0], nd = d.shape[0], i, r
    if e.shape[0] != n + 1:
        raise ValueError("ends must hold one more item than dt")
    cdef const double* times = <const double*>cnp.PyArray_DATA(t)
    cdef const char* raw = <const char*>cnp.PyArray_DATA(d)
    cdef const int64_t* at = <const int64_t*>cnp.PyArray_DATA(e)
    cdef double top = <double>(nret - 1)
    cdef int64_t a, b
    cdef object text
    cdef object whole = None
    for i in range(n):
        r = _row(times[i], dtstart, interval, top)
        if r < 0:
            continue
        a, b = at[i], at[i + 1]
        if 0 <= a <= b <= nd:
            text = PyUnicode_DecodeUTF8(raw + a, b - a, "ignore")
        else:  # boundaries of an edited track: Python's slice rules, as Track.texts
            if whole is None:
                whole = d.tobytes()
            text = whole[a:b].decode("utf-8", "ignore")
        cnp.Py_INCREF(text)
        _store(cell, r, <PyObject*>text)
    return 0


def put_record_floats(cnp.ndarray out, dt, values, double dtstart, double interval):
    """``put_records`` onto a row of an object grid (contiguous 1-d object ``out``): each
    record's value as float32, stored as a Python float, in file order (the last record
    of a row wins)."""
    cdef PyObject** cell = _cells(out, 0, 0, None)
    if out.shape[0]:
        _put_floats(cell, out.shape[0], dt, values, dtstart, interval)


def put_object_rows(cnp.ndarray block, list rows, list dts, list values, list ends,
                    double dtstart, double interval):
    """Numeric and string tracks onto rows of a C-ordered 2-d object ``block``, track
    ``k`` onto row ``rows[k]``: ``ends[k]`` None, its values as ``put_record_floats``
    stores them; else the texts of a string track (``values[k]`` its UTF-8 bytes,
    ``ends[k]`` its record boundaries). One call for all of them: on a small file,
    per-track calls would be most of ``to_numpy``."""
    if block.ndim != 2 or cnp.PyArray_TYPE(block) != cnp.NPY_OBJECT or \
            not cnp.PyArray_IS_C_CONTIGUOUS(block) or not cnp.PyArray_ISWRITEABLE(block):
        raise TypeError("block must be a writable C-ordered 2-d object array")
    if not len(rows) == len(dts) == len(values) == len(ends):
        raise ValueError("rows, dts, values and ends differ in length")
    cdef Py_ssize_t nrow = block.shape[0], nret = block.shape[1], k, j
    cdef PyObject** base = <PyObject**>cnp.PyArray_DATA(block)
    if nret == 0:
        return
    for k in range(len(rows)):
        j = rows[k]
        if not 0 <= j < nrow:
            raise IndexError("row outside the block")
        if ends[k] is None:
            _put_floats(base + j * nret, nret, dts[k], values[k], dtstart, interval)
        else:
            _put_texts(base + j * nret, nret, dts[k], values[k], ends[k], dtstart, interval)


@cython.boundscheck(False)
@cython.wraparound(False)
def put_record_objects(cnp.ndarray out, dt, list values, double dtstart, double interval):
    """Each record's object (a string track's texts) at its grid row of a contiguous 1-d
    object ``out``, in file order (the last record of a row wins)."""
    cdef Py_ssize_t nret = out.shape[0], n, i, r
    cdef PyObject** cell = _cells(out, 0, 0, None)
    if nret == 0:
        return
    cdef cnp.ndarray t = np.ascontiguousarray(dt, np.float64)
    n = t.shape[0]
    if t.ndim != 1 or len(values) != n:
        raise ValueError("dt and values must be 1-d, one value per record")
    cdef const double* times = <const double*>cnp.PyArray_DATA(t)
    cdef double top = <double>(nret - 1)
    cdef object item
    for i in range(n):
        r = _row(times[i], dtstart, interval, top)
        if r < 0:
            continue
        item = values[i]
        cnp.Py_INCREF(item)
        _store(cell, r, <PyObject*>item)


@cython.boundscheck(False)
@cython.wraparound(False)
@cython.cdivision(True)
def linspace_picks(int64_t nsamp, Py_ssize_t nrows):
    """``np.linspace(0, nsamp - 1, nrows).astype(np.int64)`` (vitaldb's decimation of a
    wave buffer), by numpy's own float64 steps (``i * step``, or ``i / div * delta`` when
    the step underflows, the last row ``nsamp - 1``), without its Python-level set-up,
    which costs more than the loop on a grid of a few thousand rows."""
    if nrows < 0:
        raise ValueError("negative row count")
    picks = np.empty(nrows, np.int64)
    cdef int64_t[::1] out = picks
    cdef double stop = <double>(nsamp - 1), div = <double>(nrows - 1), step, y
    cdef Py_ssize_t i
    with nogil:
        if nrows > 1:
            step = stop / div
            for i in range(nrows):
                if step == 0:
                    y = (<double>i / div) * stop
                else:
                    y = <double>i * step
                out[i] = <int64_t>(y + 0.0)
            out[nrows - 1] = <int64_t>stop
        elif nrows == 1:
            out[0] = <int64_t>(0.0 * stop)
    return picks


from vitalproc._samples cimport sample_t


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _wave_cells(float* out, Py_ssize_t nrows, const int64_t* idx, const sample_t* data,
                      bint gap, int64_t sentinel, bint scale, float gain,
                      float offset) noexcept nogil:
    # views._wave_values, cell by cell: float32, the gap filler NaN, gain and offset in
    # float32 arithmetic, +-inf and values over 4e9 NaN. Rows with no sample keep NaN.
    cdef Py_ssize_t k
    cdef int64_t i
    cdef float v
    for k in range(nrows):
        i = idx[k]
        if i < 0:
            continue
        if sample_t is not float and sample_t is not double:
            if gap and <int64_t>data[i] == sentinel:
                out[k] = NAN
                continue
        v = <float>data[i]
        if scale:
            v = v * gain
            v = v + offset
        if isinf(v) or v > <float>4e9:
            v = NAN
        out[k] = v


#: The sample dtypes put_wave takes (native byte order); others go through numpy.
WAVE_TYPENUMS = frozenset((cnp.NPY_INT8, cnp.NPY_UINT8, cnp.NPY_INT16, cnp.NPY_UINT16,
                           cnp.NPY_INT32, cnp.NPY_UINT32, cnp.NPY_FLOAT32, cnp.NPY_FLOAT64))


@cython.boundscheck(False)
@cython.wraparound(False)
def put_wave(float[::1] out, const int64_t[::1] positions, const int64_t[::1] start,
             const int64_t[::1] first, const int64_t[::1] count, cnp.ndarray data,
             bint gap, int64_t sentinel, bint scale, double gain, double offset):
    """A wave's records onto its grid row ``out`` (float32, NaN already): row ``k`` shows
    buffer position ``positions[k]`` (ascending; None: position ``k``), which holds the
    sample of the last record in file order covering it (``wave_runs``' runs, each
    painting the positions it covers, as vitaldb writes its buffer), and takes
    ``views._wave_values``' value of that sample. One pass, no index array per sample
    in Python: on a small grid the numpy calls cost more than the cells."""
    cdef Py_ssize_t n = out.shape[0], nruns = start.shape[0], r, k, lo, hi, mid
    cdef Py_ssize_t ndata = data.shape[0] if data.ndim == 1 else -1
    cdef int typenum = cnp.PyArray_TYPE(data)
    if ndata < 0 or typenum not in WAVE_TYPENUMS or not cnp.PyArray_IS_C_CONTIGUOUS(data) \
            or not cnp.PyArray_ISNOTSWAPPED(data):
        raise TypeError("data must be a contiguous native 1-d array of a sample dtype")
    if first.shape[0] != nruns or count.shape[0] != nruns:
        raise ValueError("start, first and count differ in length")
    if positions is not None and positions.shape[0] != n:
        raise ValueError("positions and out differ in length")
    for r in range(nruns):
        if not (count[r] >= 0 and 0 <= first[r] <= ndata - count[r]):
            raise IndexError("a run outside the samples")
    if n == 0:
        return
    idx_a = np.full(n, -1, np.int64)
    cdef int64_t[::1] idx = idx_a
    cdef int64_t s, e, f
    cdef float g = <float>gain, o = <float>offset
    cdef const void* src = cnp.PyArray_DATA(data)
    with nogil:
        for r in range(nruns):
            s, e, f = start[r], start[r] + count[r], first[r]
            if positions is None:
                lo = s if s > 0 else 0
                hi = e if e < n else n
                for k in range(lo, hi):
                    idx[k] = f + (k - s)
                continue
            lo, hi = 0, n
            while lo < hi:  # the first position >= s
                mid = (lo + hi) >> 1
                if positions[mid] < s:
                    lo = mid + 1
                else:
                    hi = mid
            k = lo
            while k < n and positions[k] < e:
                idx[k] = f + (positions[k] - s)
                k += 1
        if typenum == cnp.NPY_INT8:
            _wave_cells(&out[0], n, &idx[0], <const int8_t*>src, gap, sentinel, scale, g, o)
        elif typenum == cnp.NPY_UINT8:
            _wave_cells(&out[0], n, &idx[0], <const uint8_t*>src, gap, sentinel, scale, g, o)
        elif typenum == cnp.NPY_INT16:
            _wave_cells(&out[0], n, &idx[0], <const int16_t*>src, gap, sentinel, scale, g, o)
        elif typenum == cnp.NPY_UINT16:
            _wave_cells(&out[0], n, &idx[0], <const uint16_t*>src, gap, sentinel, scale, g, o)
        elif typenum == cnp.NPY_INT32:
            _wave_cells(&out[0], n, &idx[0], <const int32_t*>src, gap, sentinel, scale, g, o)
        elif typenum == cnp.NPY_UINT32:
            _wave_cells(&out[0], n, &idx[0], <const uint32_t*>src, gap, sentinel, scale, g, o)
        elif typenum == cnp.NPY_FLOAT32:
            _wave_cells(&out[0], n, &idx[0], <const float*>src, gap, sentinel, scale, g, o)
        else:
            _wave_cells(&out[0], n, &idx[0], <const double*>src, gap, sentinel, scale, g, o)

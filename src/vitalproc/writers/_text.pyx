# cython: language_level=3
"""Records as JSON text: the loop over every sample of a wave export, and the pairing of
times and values of a numeric one.

orjson writes numpy arrays of integers as fast as this, but numpy costs an export of an
hour-long recording about a third of its run to import. A recording just read holds its
samples in the reader's own buffers (``writers/_raw.py``), and this writes them from
there: the same bytes as ``orjson.dumps([{"dt": dt, "val": array}, ...])`` without the
brackets, for every integer dtype of the format.
"""
cimport cython
from libc.stdint cimport (int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t,
                          uint64_t)
from cpython.bytearray cimport PyByteArray_FromStringAndSize
from libc.string cimport memcpy

ctypedef fused sample_t:
    int8_t
    uint8_t
    int16_t
    uint16_t
    int32_t
    uint32_t

# "00" to "99": two digits per step
cdef char PAIRS[200]
cdef int _i
for _i in range(100):
    PAIRS[2 * _i] = 48 + _i // 10
    PAIRS[2 * _i + 1] = 48 + _i % 10

#: Characters of a sample at most ("-2147483648", "4294967295") and its comma.
cdef enum:
    SAMPLE_MAX = 12
# '{"dt":' and ',"val":[' and ']}' and ','
cdef enum:
    RECORD_FIXED = 6 + 8 + 2 + 1


cdef inline Py_ssize_t _put_int(char* out, int64_t value) noexcept nogil:
    """``value`` in decimal at ``out``; the number of characters."""
    cdef Py_ssize_t sign = 0, n = 1
    cdef uint64_t v = <uint64_t>value, rest
    if value < 0:
        out[0] = 45  # '-'
        out += 1
        sign = 1
        v = <uint64_t>(-value)
    rest = v
    while rest >= 10:  # the digits' count first: then they go straight into place
        rest //= 10
        n += 1
    cdef char* p = out + n
    while v >= 100:
        p -= 2
        memcpy(p, &PAIRS[2 * (v % 100)], 2)
        v //= 100
    if v >= 10:
        memcpy(p - 2, &PAIRS[2 * v], 2)
    else:
        p -= 1
        p[0] = <char>(48 + v)
    return sign + n

cdef inline Py_ssize_t _next_item(const unsigned char[::1] array, Py_ssize_t at,
                                  Py_ssize_t stop):
    """The end of the JSON array item starting at ``at`` (a number or ``null``)."""
    while at < stop and array[at] != 44:  # ','
        at += 1
    return at


cdef int _check_array(const unsigned char[::1] array, str name) except -1:
    if array.shape[0] < 2 or array[0] != 91 or array[array.shape[0] - 1] != 93:
        raise ValueError(f"{name} is not a JSON array")
    return 0


def wave_records(const unsigned char[::1] dt_json, samples, const int64_t[::1] offsets,
                 Py_ssize_t a, Py_ssize_t b):
    """Records ``[a, b)`` of a wave as JSON objects ``{"dt":...,"val":[...]}`` separated by
    commas. ``dt_json``: orjson's text of those records' times (``[t,t,...]``), each
    copied as is; ``samples``: a buffer of 8, 16 or 32-bit integers (``memoryview``
    format ``bBhHiI``); ``offsets``: record ``i``'s samples are
    ``samples[offsets[i]:offsets[i + 1]]``. Returns a ``bytearray``."""
    # By hand, not by Cython's fused dispatch: that imports numpy, which this avoids.
    view = memoryview(samples)
    code = view.format
    if code == "b":
        return _wave_records[int8_t](dt_json, view, offsets, a, b)
    if code == "B":
        return _wave_records[uint8_t](dt_json, view, offsets, a, b)
    if code == "h":
        return _wave_records[int16_t](dt_json, view, offsets, a, b)
    if code == "H":
        return _wave_records[uint16_t](dt_json, view, offsets, a, b)
    if code == "i":
        return _wave_records[int32_t](dt_json, view, offsets, a, b)
    if code == "I":
        return _wave_records[uint32_t](dt_json, view, offsets, a, b)
    raise TypeError(f"samples of format {code!r}: integers of 8, 16 or 32 bits wanted")


@cython.boundscheck(False)
@cython.wraparound(False)
cdef object _wave_records(const unsigned char[::1] dt_json, const sample_t[::1] samples,
                          const int64_t[::1] offsets, Py_ssize_t a, Py_ssize_t b):
    cdef Py_ssize_t n = b - a, i, k, lo, hi, total = 0
    if n < 0 or a < 0 or b + 1 > offsets.shape[0]:
        raise IndexError("records out of range")
    for i in range(a, b):
        lo, hi = offsets[i], offsets[i + 1]
        if not 0 <= lo <= hi <= samples.shape[0]:
            raise IndexError("record offsets outside the samples")
        total += hi - lo
    _check_array(dt_json, "dt_json")
    out = PyByteArray_FromStringAndSize(NULL, dt_json.shape[0] + n * RECORD_FIXED +
                                        total * SAMPLE_MAX)  # not zeroed: written over
    cdef char* o = out
    cdef Py_ssize_t w = 0, d = 1, d_end, dt_stop = dt_json.shape[0] - 1
    for i in range(a, b):
        d_end = _next_item(dt_json, d, dt_stop)
        if d_end == d:
            raise ValueError("fewer times than records in dt_json")
        if i > a:
            o[w] = 44
            w += 1
        memcpy(o + w, b'{"dt":', 6)
        w += 6
        memcpy(o + w, &dt_json[d], d_end - d)
        w += d_end - d
        d = d_end + 1
        memcpy(o + w, b',"val":[', 8)
        w += 8
        lo, hi = offsets[i], offsets[i + 1]
        for k in range(lo, hi):
            if k > lo:
                o[w] = 44
                w += 1
            w += _put_int(o + w, samples[k])
        memcpy(o + w, b']}', 2)
        w += 2
    if d <= dt_stop and n:
        raise ValueError("more times than records in dt_json")
    del out[w:]
    return out


@cython.boundscheck(False)
@cython.wraparound(False)
def scalar_records(const unsigned char[::1] dt_json, const unsigned char[::1] val_json):
    """Records ``{"dt":...,"val":...}`` separated by commas, pairing the items of two JSON
    arrays of numbers (orjson's text of the times and of the values, copied as is).
    Returns a ``bytearray``."""
    _check_array(dt_json, "dt_json")
    _check_array(val_json, "val_json")
    out = PyByteArray_FromStringAndSize(NULL, dt_json.shape[0] + val_json.shape[0] +
                                        (dt_json.shape[0] // 2 + 1) * RECORD_FIXED)
    cdef char* o = out
    cdef Py_ssize_t w = 0, d = 1, v = 1, d_end, v_end
    cdef Py_ssize_t d_stop = dt_json.shape[0] - 1, v_stop = val_json.shape[0] - 1
    while d < d_stop or v < v_stop:
        d_end = _next_item(dt_json, d, d_stop)
        v_end = _next_item(val_json, v, v_stop)
        if d_end == d or v_end == v:
            raise ValueError("dt_json and val_json differ in length")
        if w:
            o[w] = 44
            w += 1
        memcpy(o + w, b'{"dt":', 6)
        w += 6
        memcpy(o + w, &dt_json[d], d_end - d)
        w += d_end - d
        memcpy(o + w, b',"val":', 7)
        w += 7
        memcpy(o + w, &val_json[v], v_end - v)
        w += v_end - v
        o[w] = 125  # '}'
        w += 1
        d, v = d_end + 1, v_end + 1
    del out[w:]
    return out

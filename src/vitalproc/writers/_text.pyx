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
    if value < 0:
        out[0] = 45  # '-'
        return 1 + _put_uint(out + 1, <uint64_t>0 - <uint64_t>value)  # (INT64_MIN too)
    return _put_uint(out, <uint64_t>value)

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


# ---- CSV rows: numbers as Arrow's CSV writer formats them --------------------------------
#
# The CSV export's times are float64 in the shortest form that reads back to the same
# double, written as Arrow writes doubles: plain digits (no ".0" for a whole number) for a
# leading digit from 10^-6 to 10^9, an exponent outside. ``_put_shortest`` finds the
# shortest digits exactly, in 128-bit integers, for 10^-3 <= |x| < 10^10 (every time of a
# recording); any other value (and the rare tie on a rounding boundary) is left to Arrow:
# the row kernels then return None and the writer formats that batch as before.

ctypedef unsigned long long u64
cdef extern from *:
    # GCC's and Clang's 128-bit integer: every product below fits in it exactly.
    ctypedef unsigned long long u128 "unsigned __int128"

cdef u128 POW10[21]
cdef int _j
POW10[0] = 1
for _j in range(1, 21):
    POW10[_j] = POW10[_j - 1] * 10

#: Characters of a time at most: sign, 17 digits, point, up to 3 leading zeros.
DEF TIME_MAX = 24


cdef inline Py_ssize_t _put_uint(char* out, u64 v) noexcept nogil:
    """``v`` in decimal at ``out``; the number of characters."""
    cdef Py_ssize_t n = 1
    cdef u64 rest = v
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
    return n


cdef inline int _reads_back(u128 M, int shift, int k) noexcept nogil:
    """Whether the ``k``-decimal number nearest to ``M / 2^shift`` reads back as it: 1,
    0, or -1 when it is a tie or on the rounding boundary (decided by round-half-even)."""
    cdef u128 P = M * POW10[k], half = <u128>1 << (shift - 1)
    cdef u128 m = (P + half) >> shift
    cdef u128 back = m << shift
    cdef u128 diff2 = 2 * (back - P if back >= P else P - back)
    if diff2 > POW10[k]:
        return 0
    if diff2 == POW10[k] or (P & ((<u128>1 << shift) - 1)) == half:
        return -1
    return 1


@cython.cdivision(True)
cdef Py_ssize_t _put_shortest(char* out, double x) noexcept nogil:
    """``x`` as Arrow's CSV writer writes a double, at ``out``: the number of characters,
    or -1 for a value this does not handle (outside 10^-3 <= |x| < 10^10, or a tie)."""
    cdef u64 bits
    memcpy(&bits, &x, 8)
    cdef bint neg = (bits >> 63) != 0
    cdef int biased = <int>((bits >> 52) & 0x7FF)
    cdef u64 frac = bits & ((<u64>1 << 52) - 1)
    if biased == 0 or biased == 0x7FF or frac == 0:
        return -1  # zero, subnormal, inf, NaN, or a power of two (an uneven gap below)
    cdef double ax = -x if neg else x
    if not (1e-3 <= ax < 1e10):
        return -1
    cdef int shift = 1075 - biased  # x = M / 2^shift, 19 <= shift <= 62 here
    cdef u128 M = (<u128>1 << 52) | frac
    cdef u128 m = 0
    cdef int k, lo = 0, hi, found = -1, fit, p = -3
    cdef double tens = 1e-2
    while p < 9 and ax >= tens:  # p: the decimal exponent of x's leading digit
        p += 1
        tens *= 10
    # Reading back is monotone in the number of decimals (a finer grid holds a closer
    # candidate). Most times need 17 significant digits: try 16 first; if they do not
    # read back, count up from there, else bisect below them.
    k = 15 - p if 15 - p < 20 else 20
    fit = _reads_back(M, shift, k)
    if fit < 0:
        return -1  # a tie or a boundary: left to Arrow
    if fit == 0:
        for k in range(k + 1, 21):
            fit = _reads_back(M, shift, k)
            if fit < 0:
                return -1
            if fit:
                found = k
                break
    else:
        found, hi = k, k - 1
        while lo <= hi:
            k = (lo + hi) >> 1
            fit = _reads_back(M, shift, k)
            if fit < 0:
                return -1
            if fit:
                found, hi = k, k - 1
            else:
                lo = k + 1
    if found < 0:
        return -1
    k = found
    m = (M * POW10[k] + (<u128>1 << (shift - 1))) >> shift
    cdef char digits[24]
    cdef Py_ssize_t nd = _put_uint(digits, <u64>m), w = 0, lead
    if nd - 1 - k >= 10:
        return -1  # rounded up to 10^10: Arrow writes an exponent
    if neg:
        out[0] = 45  # '-'
        w = 1
    if k == 0:
        memcpy(out + w, digits, nd)
        return w + nd
    if nd > k:
        memcpy(out + w, digits, nd - k)
        w += nd - k
        out[w] = 46  # '.'
        memcpy(out + w + 1, digits + nd - k, k)
        return w + 1 + k
    out[w] = 48
    out[w + 1] = 46
    w += 2
    for lead in range(k - nd):
        out[w + lead] = 48
    w += k - nd
    memcpy(out + w, digits, nd)
    return w + nd


def format_double(double x):
    """``x`` as the CSV rows write a time (``_put_shortest``), or None where Arrow is left
    to write it. For tests."""
    cdef char buf[TIME_MAX]
    cdef Py_ssize_t n = _put_shortest(buf, x)
    return None if n < 0 else buf[:n].decode()


def csv_sample_rows(const unsigned char[::1] prefix, const double[::1] times, samples):
    """One CSV row per sample, ``prefix`` + time + ``,`` + sample + LF, as a ``bytearray``;
    None when a time is one ``_put_shortest`` leaves to Arrow. ``samples``: integers of
    8, 16 or 32 bits (``memoryview`` formats ``bBhHiI``), one per time."""
    view = memoryview(samples)
    code = view.format
    if code == "b":
        return _sample_rows[int8_t](prefix, times, view)
    if code == "B":
        return _sample_rows[uint8_t](prefix, times, view)
    if code == "h":
        return _sample_rows[int16_t](prefix, times, view)
    if code == "H":
        return _sample_rows[uint16_t](prefix, times, view)
    if code == "i":
        return _sample_rows[int32_t](prefix, times, view)
    if code == "I":
        return _sample_rows[uint32_t](prefix, times, view)
    raise TypeError(f"samples of format {code!r}: integers of 8, 16 or 32 bits wanted")


@cython.boundscheck(False)
@cython.wraparound(False)
cdef object _sample_rows(const unsigned char[::1] prefix, const double[::1] times,
                         const sample_t[::1] samples):
    cdef Py_ssize_t n = times.shape[0], lp = prefix.shape[0], i, w = 0, t
    if samples.shape[0] != n:
        raise ValueError("times and samples differ in length")
    out = PyByteArray_FromStringAndSize(NULL, n * (lp + TIME_MAX + SAMPLE_MAX + 1) + 1)
    cdef char* o = out
    with nogil:
        for i in range(n):
            if lp:
                memcpy(o + w, &prefix[0], lp)
            w += lp
            t = _put_shortest(o + w, times[i])
            if t < 0:
                w = -1
                break
            w += t
            o[w] = 44  # ','
            w += 1
            w += _put_int(o + w, samples[i])
            o[w] = 10  # LF
            w += 1
    if w < 0:
        return None
    del out[w:]
    return out


def csv_cell_rows(const unsigned char[::1] prefix, const double[::1] times, samples,
                  const int64_t[::1] offsets):
    """One CSV row per wave record: ``prefix`` + time + ``,"[`` + its samples separated
    by commas + ``]"`` + LF (the JSON array of the samples, quoted as Arrow quotes every
    string), as a ``bytearray``; None when a time is left to Arrow. Record ``i``'s
    samples are ``samples[offsets[i]:offsets[i + 1]]`` (integers of 8, 16 or 32 bits)."""
    view = memoryview(samples)
    code = view.format
    if code == "b":
        return _cell_rows[int8_t](prefix, times, view, offsets)
    if code == "B":
        return _cell_rows[uint8_t](prefix, times, view, offsets)
    if code == "h":
        return _cell_rows[int16_t](prefix, times, view, offsets)
    if code == "H":
        return _cell_rows[uint16_t](prefix, times, view, offsets)
    if code == "i":
        return _cell_rows[int32_t](prefix, times, view, offsets)
    if code == "I":
        return _cell_rows[uint32_t](prefix, times, view, offsets)
    raise TypeError(f"samples of format {code!r}: integers of 8, 16 or 32 bits wanted")


@cython.boundscheck(False)
@cython.wraparound(False)
cdef object _cell_rows(const unsigned char[::1] prefix, const double[::1] times,
                       const sample_t[::1] samples, const int64_t[::1] offsets):
    cdef Py_ssize_t n = times.shape[0], lp = prefix.shape[0], i, k, lo, hi, w = 0, t
    if offsets.shape[0] != n + 1:
        raise ValueError("offsets must hold one more item than times")
    for i in range(n):
        if not 0 <= offsets[i] <= offsets[i + 1] <= samples.shape[0]:
            raise IndexError("record offsets outside the samples")
    cdef Py_ssize_t total = offsets[n] - offsets[0] if n else 0
    out = PyByteArray_FromStringAndSize(NULL, n * (lp + TIME_MAX + 6) + total * SAMPLE_MAX + 1)
    cdef char* o = out
    with nogil:
        for i in range(n):
            if lp:
                memcpy(o + w, &prefix[0], lp)
            w += lp
            t = _put_shortest(o + w, times[i])
            if t < 0:
                w = -1
                break
            w += t
            memcpy(o + w, b',"[', 3)
            w += 3
            lo, hi = offsets[i], offsets[i + 1]
            for k in range(lo, hi):
                if k > lo:
                    o[w] = 44
                    w += 1
                w += _put_int(o + w, samples[k])
            memcpy(o + w, b']"\n', 3)
            w += 3
    if w < 0:
        return None
    del out[w:]
    return out

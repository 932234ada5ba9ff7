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
# Arrow writes a float64 or float32 in the shortest form that reads back to the same value
# (double-conversion's ToShortest / ToShortestSingle): plain digits (no ".0" for a whole
# number) when the leading digit's decimal exponent is -6 to 9, an exponent outside; "0",
# "-0", "nan", "inf", "-inf". ``_put_f64`` and ``_put_f32`` find the shortest digits
# exactly, in 128-bit integers, for 10^-3 <= |x| < 10^10 (float64: every time of a
# recording) and 10^-5 <= |x| < 2^24 (float32); any other value, and the rare tie on a
# rounding boundary, is left to Arrow: the row kernels then return None and the writer
# formats that batch through Arrow.

ctypedef unsigned long long u64
cdef extern from *:
    # GCC's and Clang's 128-bit integer: every product below fits in it exactly.
    ctypedef unsigned long long u128 "unsigned __int128"
    int clzll "__builtin_clzll" (u64) noexcept nogil

#: 10^0 .. 10^19 (10^19 < 2^64).
cdef u64 POW10[20]
POW10[0] = 1
for _j in range(1, 20):
    POW10[_j] = POW10[_j - 1] * 10
#: The fewest decimals k with 10^k > 2^s, for s = 0..63: the nearest k-decimal number to
#: a value of ulp 2^-s is then within half an ulp of it.
cdef int ALWAYS_FITS[64]
cdef int _s, _k
for _s in range(64):
    _k = 0
    while _k < 20 and POW10[_k] <= (<u64>1 << _s):
        _k += 1
    ALWAYS_FITS[_s] = _k

#: Characters of a number at most: sign, 17 digits, point, up to 5 leading zeros.
DEF NUMBER_MAX = 26


cdef inline int _fits(u64 M, int shift, int k, bint pow2, u64* found) noexcept nogil:
    """Whether a ``k``-decimal number reads back as ``M / 2^shift`` (``shift`` >= 1): 1
    (the closest such number in ``found``; of two as close, the even one), 0, or -1
    for a number on the edge of the rounding interval (left to Arrow). ``pow2``: M is
    a power of two, whose gap below is half the one above."""
    cdef u128 P = <u128>M * POW10[k]
    cdef u128 half = <u128>1 << (shift - 1)
    cdef u128 ten = POW10[k]
    cdef u128 m, back, d
    if (P & ((half << 1) - 1)) == half:  # exactly between two k-decimal numbers
        if (half << 1) > ten:
            return 0  # too far from both
        if pow2:
            return -1
        m = P >> shift  # both read back: the even one, as double-conversion does
        found[0] = <u64>(m + (m & 1))
        return 1
    m = (P + half) >> shift
    back = m << shift
    if back >= P:  # the nearest is above the value: the upper half-gap
        d = 2 * (back - P)
        if d < ten:
            found[0] = <u64>m
            return 1
        return -1 if d == ten else 0
    d = P - back  # below: the lower half-gap (a quarter of a gap for a power of two)
    d = 4 * d if pow2 else 2 * d
    if d < ten:
        found[0] = <u64>m
        return 1
    if d == ten:
        return -1
    if not pow2:
        return 0
    d = 2 * (back + (<u128>1 << shift) - P)  # the number above, farther but inside?
    if d < ten:
        found[0] = <u64>(m + 1)
        return 1
    return -1 if d == ten else 0


cdef inline int _digits(u64 v) noexcept nogil:
    """The number of decimal digits of ``v`` (1 for 0)."""
    v |= 1  # the same count (10^t is even or 1), and 0 counts as one digit
    cdef int t = ((64 - clzll(v)) * 1233) >> 12  # 19 at most
    return t + 1 - (v < POW10[t])


cdef inline Py_ssize_t _put_uint(char* out, u64 v) noexcept nogil:
    """``v`` in decimal at ``out``; the number of characters."""
    cdef Py_ssize_t n = _digits(v)
    cdef char* p = out + n
    while v >= 100:
        p -= 2
        memcpy(p, &PAIRS[2 * (v % 100)], 2)
        v //= 100
    if v >= 10:
        memcpy(p - 2, &PAIRS[2 * v], 2)
    else:
        (p - 1)[0] = <char>(48 + v)
    return n


#: Bytes a row kernel may write past a number's end (fixed-size copies, written over).
DEF SPILL = 32


cdef inline Py_ssize_t _put_decimal(char* out, u64 m, int k, bint neg) noexcept nogil:
    """``m / 10^k`` as Arrow lays out a shortest number (plain digits), or -1 when it
    needs an exponent (10^10 or more)."""
    cdef int nd = _digits(m), left
    cdef Py_ssize_t w = 1 if neg else 0, n
    if nd - 1 - k >= 10:
        return -1
    if neg:
        out[0] = 45  # '-'
    if k == 0:
        n = w + nd
    elif nd > k:
        n = w + nd + 1
    else:  # 0.000ddd
        out[w] = 48
        n = w + k + 2
    # Right to left, two digits a step, straight into place (no buffer read back: a
    # load of bytes just stored piecemeal stalls); the point after the k-th digit.
    cdef char* p = out + n
    left = k
    while left >= 2:
        p -= 2
        memcpy(p, &PAIRS[2 * (m % 100)], 2)
        m //= 100
        left -= 2
    if left:
        p -= 1
        p[0] = <char>(48 + m % 10)
        m //= 10
    if k:
        p -= 1
        p[0] = 46  # '.'
    if nd <= k:
        return n
    left = nd - k
    while left >= 2:
        p -= 2
        memcpy(p, &PAIRS[2 * (m % 100)], 2)
        m //= 100
        left -= 2
    if left:
        (p - 1)[0] = <char>(48 + m)
    return n


cdef inline Py_ssize_t _put_special(char* out, bint neg, bint nan, bint inf) noexcept nogil:
    """Zero, NaN or an infinity as Arrow writes it."""
    if nan:
        memcpy(out, b"nan", 3)
        return 3
    cdef Py_ssize_t w = 0
    if neg:
        out[0] = 45
        w = 1
    if inf:
        memcpy(out + w, b"inf", 3)
        return w + 3
    out[w] = 48
    return w + 1


cdef inline Py_ssize_t _put_shortest(char* out, u64 M, int shift, bint neg,
                                     bint pow2) noexcept nogil:
    """The shortest decimal of ``M / 2^shift`` (1 <= shift <= 63), or -1."""
    cdef int k = ALWAYS_FITS[shift], fit, fewer
    cdef u64 m = 0, best = 0
    fit = _fits(M, shift, k, pow2, &m)
    while fit == 0 and k < 19:  # a power of two: its narrower side may need one more
        k += 1
        fit = _fits(M, shift, k, pow2, &m)
    if fit == 0:
        return -1
    # Fewer decimals, while they still read back (a coarser grid never fits where a
    # finer one does not): most values stop at the first step down. An edge case (-1)
    # may fit: it is left to Arrow, should it be the last to.
    while k > 0:
        fewer = _fits(M, shift, k - 1, pow2, &best)
        if fewer == 0:
            break
        k -= 1
        fit, m = fewer, best
    if fit < 0:
        return -1
    return _put_decimal(out, m, k, neg)


cdef inline Py_ssize_t _put_f64(char* out, double x) noexcept nogil:
    """``x`` as Arrow writes a float64; -1 where it is left to Arrow."""
    cdef u64 bits
    memcpy(&bits, &x, 8)
    cdef bint neg = (bits >> 63) != 0
    cdef int biased = <int>((bits >> 52) & 0x7FF)
    cdef u64 frac = bits & ((<u64>1 << 52) - 1)
    if biased == 0x7FF:
        return _put_special(out, neg, frac != 0, frac == 0)
    if biased == 0 and frac == 0:
        return _put_special(out, neg, False, False)
    cdef double ax = -x if neg else x
    if not (1e-3 <= ax < 1e10):
        return -1
    return _put_shortest(out, (<u64>1 << 52) | frac, 1075 - biased, neg, frac == 0)


cdef inline Py_ssize_t _put_f32(char* out, float x) noexcept nogil:
    """``x`` as Arrow writes a float32; -1 where it is left to Arrow."""
    cdef unsigned int bits
    memcpy(&bits, &x, 4)
    cdef bint neg = (bits >> 31) != 0
    cdef int biased = <int>((bits >> 23) & 0xFF)
    cdef u64 frac = bits & 0x7FFFFF
    if biased == 0xFF:
        return _put_special(out, neg, frac != 0, frac == 0)
    if biased == 0 and frac == 0:
        return _put_special(out, neg, False, False)
    cdef float ax = -x if neg else x
    if not (1e-5 <= ax < 16777216.0):
        return -1
    cdef u64 M = (<u64>1 << 23) | frac
    cdef int shift = 150 - biased
    if shift == 0:  # 2^23 <= |x| < 2^24: a whole number, every digit of it needed
        return _put_decimal(out, M, 0, neg)
    return _put_shortest(out, M, shift, neg, frac == 0)


def format_double(double x):
    """``x`` as the CSV rows write a float64, or None where Arrow is left to write it."""
    cdef char buf[NUMBER_MAX]
    cdef Py_ssize_t n = _put_f64(buf, x)
    return None if n < 0 else buf[:n].decode()


def format_float(float x):
    """``x`` (rounded to float32) as the CSV rows write a float32, or None where Arrow
    is left to write it."""
    cdef char buf[NUMBER_MAX]
    cdef Py_ssize_t n = _put_f32(buf, x)
    return None if n < 0 else buf[:n].decode()


from vitalproc._samples cimport sample_t as value_t


cdef inline Py_ssize_t _put_value(char* out, value_t v) noexcept nogil:
    if value_t is float:
        return _put_f32(out, v)
    elif value_t is double:
        return _put_f64(out, v)
    else:
        return _put_int(out, v)


def csv_rows(const unsigned char[::1] prefix, const double[::1] dt, data, offsets=None,
             double srate=0, bint cells=False):
    """CSV rows of records as Arrow's CSV writer writes them, each ``prefix`` + time +
    ``,`` + value + LF, as a ``bytearray``; None where a number is left to Arrow.

    ``dt``: the records' times. Numeric records (``offsets`` None): ``data[i]`` is
    record ``i``'s value. Wave records: record ``i``'s samples are
    ``data[offsets[i]:offsets[i + 1]]`` (``offsets``: ``len(dt) + 1`` int64), one row per
    sample at ``dt[i] + j / srate`` (``j`` its index in the record; ``dt[i]`` when
    ``srate`` is not positive), computed as numpy computes it; with ``cells``, one row per
    record whose value is the JSON array of its samples, quoted (integers only).
    ``data``: a buffer of 8, 16 or 32-bit integers, float32 or float64 (``memoryview``
    formats ``bBhHiIfd``)."""
    # By hand, not by Cython's fused dispatch: that imports numpy, which this avoids.
    view = memoryview(data)
    code = view.format
    cdef const int64_t[::1] offs = offsets if offsets is not None else None
    if code == "b":
        return _rows[int8_t](prefix, dt, view, offs, srate, cells)
    if code == "B":
        return _rows[uint8_t](prefix, dt, view, offs, srate, cells)
    if code == "h":
        return _rows[int16_t](prefix, dt, view, offs, srate, cells)
    if code == "H":
        return _rows[uint16_t](prefix, dt, view, offs, srate, cells)
    if code == "i":
        return _rows[int32_t](prefix, dt, view, offs, srate, cells)
    if code == "I":
        return _rows[uint32_t](prefix, dt, view, offs, srate, cells)
    if code == "f":
        return None if cells else _rows[float](prefix, dt, view, offs, srate, cells)
    if code == "d":
        return None if cells else _rows[double](prefix, dt, view, offs, srate, cells)
    raise TypeError(f"values of format {code!r}: integers of 8 to 32 bits or floats wanted")


@cython.boundscheck(False)
@cython.wraparound(False)
@cython.cdivision(True)
cdef object _rows(const unsigned char[::1] prefix, const double[::1] dt,
                  const value_t[::1] data, const int64_t[::1] offsets, double srate,
                  bint cells):
    cdef Py_ssize_t n = dt.shape[0], lp = prefix.shape[0], i, j, lo, hi, w = 0, t
    cdef Py_ssize_t rows = n, values = n, size
    cdef double at
    cdef bint numeric = offsets is None
    if numeric:
        if data.shape[0] != n:
            raise ValueError("times and values differ in length")
    else:
        if offsets.shape[0] != n + 1:
            raise ValueError("offsets must hold one more item than times")
        for i in range(n):
            if not 0 <= offsets[i] <= offsets[i + 1] <= data.shape[0]:
                raise IndexError("record offsets outside the samples")
        values = offsets[n] - offsets[0] if n else 0
        if not cells:
            rows = values
    size = rows * (lp + NUMBER_MAX + 4) + values * (NUMBER_MAX + 1) + SPILL + 1
    out = PyByteArray_FromStringAndSize(NULL, size)  # not zeroed: written over
    cdef char* o = out
    # The prefix padded to 32 bytes: a fixed-size copy per row, not a call to memcpy.
    cdef char pre[32]
    cdef bint short_prefix = lp <= 32
    if short_prefix and lp:
        memcpy(pre, &prefix[0], lp)
    with nogil:
        for i in range(n):
            if numeric or cells:
                if lp:
                    memcpy(o + w, &prefix[0], lp)
                w += lp
                t = _put_f64(o + w, dt[i])
                if t < 0:
                    w = -1
                    break
                w += t
                if numeric:
                    o[w] = 44  # ','
                    t = _put_value(o + w + 1, data[i])
                    if t < 0:
                        w = -1
                        break
                    w += 1 + t
                    o[w] = 10  # LF
                    w += 1
                    continue
                memcpy(o + w, b',"[', 3)
                w += 3
                lo, hi = offsets[i], offsets[i + 1]
                for j in range(lo, hi):
                    if j > lo:
                        o[w] = 44
                        w += 1
                    w += _put_value(o + w, data[j])  # integers: never -1
                memcpy(o + w, b']"\n', 3)
                w += 3
                continue
            lo, hi = offsets[i], offsets[i + 1]
            at = dt[i]
            for j in range(lo, hi):
                if short_prefix:
                    memcpy(o + w, pre, 32)
                elif lp:
                    memcpy(o + w, &prefix[0], lp)
                w += lp
                # numpy's dt + (j - lo) / srate, to the bit
                t = _put_f64(o + w, at + <double>(j - lo) / srate if srate > 0 else at)
                if t < 0:
                    w = -1
                    break
                w += t
                o[w] = 44
                t = _put_value(o + w + 1, data[j])
                if t < 0:
                    w = -1
                    break
                w += 1 + t
                o[w] = 10
                w += 1
            if w < 0:
                break
    if w < 0:
        return None
    del out[w:]
    return out

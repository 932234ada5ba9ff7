# cython: language_level=3
"""The packet walk of an inflated .vital stream: the one loop that runs once per record.

Compiled because a recording holds up to millions of records and Python spends about a
microsecond on each; this walk spends nanoseconds and releases the GIL, so the next chunk
of the file can inflate on another thread meanwhile. Everything that happens once per file
(header, device and track declarations, commands, raw device data, the error policy) stays
in plain Python in ``reader.py``: the walk hands every packet that is not a record back to
it. Each rule below mirrors a branch of vitaldb 1.7.2's ``VitalFile.load_vital``.

Records are appended to per-track column buffers (record times, record boundaries and the
samples in their on-disk dtype) that grow with ``realloc`` and are handed to numpy without
a copy (``take``).
"""
cimport cython
from cpython.buffer cimport PyBuffer_FillInfo
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t
from libc.stdlib cimport calloc, free, realloc
from libc.string cimport memcpy, memset

# Big columns: anonymous mappings with huge pages on Linux, the heap elsewhere or in a
# portable build (VITALPROC_PORTABLE=1); see _bigmem.h.
cdef extern from "_bigmem.h" nogil:
    const int VP_MAPPED
    void* vp_map(size_t size)
    void* vp_remap(void* p, size_t old_size, size_t size)
    void vp_unmap(void* p, size_t size)

# Walk outcomes, mirrored as ``Status`` in reader.py (a test checks they agree).
cpdef enum:
    END = 0          # every complete packet consumed; ``need`` bytes wanted at ``pos``
    PACKET = 1       # a packet that is not a record starts at ``pos``: Python's turn
    FIRST_REC = 2    # the first record is at ``pos``; Python sets the early-stop offset
    STOP = 3         # the last wanted track's block of a packed file is read
    BIG = 4          # a packet longer than ``big_limit`` starts at ``pos``
    EMPTY = 5        # a packet of length 0 starts at ``pos``
    NOMEM = 6        # a column could not grow

# What a slot keeps of its records. Every mode walks, checks and counts them alike, so
# a read that keeps less still sees the same records, counts and span as a full read.
cpdef enum:
    KEEP_ALL = 0     # times, values and boundaries
    KEEP_DT = 1      # times only (a survey of what a full read would hold)
    KEEP_NONE = 2    # counts only

cdef enum:
    REC = 1                   # Packet.REC
    WAVE = 1                  # TrackType.WAVE
    NUMERIC = 2
    STRING = 5
    MAX_UNPACKED_PACKET = 1000000
    NTIDS = 65536

#: The format numbers compiled in above, for the test that checks them against _constants.
CODES = {"REC": REC, "WAVE": WAVE, "NUMERIC": NUMERIC, "STRING": STRING,
         "MAX_UNPACKED_PACKET": MAX_UNPACKED_PACKET, "NTIDS": NTIDS}


cdef struct Column:
    char* data
    Py_ssize_t size
    Py_ssize_t cap
    bint mapped           # big columns live in their own mapping (see grow)


cdef struct Slot:
    int type
    int itemsize
    double srate
    Py_ssize_t nrec
    int64_t nval          # samples (waves) or bytes (strings) so far
    int keep              # KEEP_ALL, KEEP_DT or KEEP_NONE
    Column dt             # float64 per record
    Column ends           # int64 boundaries, starting with 0 (waves and strings)
    Column val            # samples, values or UTF-8 bytes, as on disk
    bint seq_on           # also note each record's place in the stream (seq)
    Column seq            # int64 stream position per record: orders records of slots
                          # that share a track name (declarations read apart)


# Columns past BIG_COLUMN bytes move to an anonymous mapping with transparent huge pages
# (where VP_MAPPED): first touch of fresh memory (a page fault per 4 kB) otherwise costs
# more than the walk itself, and mremap grows a mapping without copying it.
cdef enum:
    BIG_COLUMN = 1 << 20
    HUGE_PAGE = 2 << 20

#: Whether big columns are mapped (False in a portable build or off Linux).
BIG_COLUMNS_MAPPED = bool(VP_MAPPED)


cdef int grow(Column* c, Py_ssize_t extra) noexcept nogil:
    """Make room for ``extra`` more bytes (1.5x growth)."""
    cdef Py_ssize_t need = c.size + extra
    cdef Py_ssize_t cap
    cdef void* p
    if need <= c.cap:
        return 0
    cap = c.cap + (c.cap >> 1)
    if cap < need:
        cap = need
    if cap < 256:
        cap = 256
    if cap < BIG_COLUMN or not VP_MAPPED:
        p = realloc(c.data, cap)
        if p == NULL:
            return -1
    else:
        cap = (cap + HUGE_PAGE - 1) & ~(<Py_ssize_t>HUGE_PAGE - 1)
        if c.mapped:
            p = vp_remap(c.data, c.cap, cap)
        else:
            p = vp_map(cap)
        if p == NULL:
            return -1
        if not c.mapped:
            if c.size:
                memcpy(p, c.data, c.size)
            free(c.data)
            c.mapped = True
    c.data = <char*>p
    c.cap = cap
    return 0


cdef void release(char* data, Py_ssize_t cap, bint mapped) noexcept nogil:
    if mapped:
        vp_unmap(data, cap)
    else:
        free(data)


cdef inline int append(Column* c, const void* src, Py_ssize_t n) noexcept nogil:
    if n == 0:  # a record without samples; an empty column has no buffer to copy to yet
        return 0
    if c.size + n > c.cap and grow(c, n) < 0:
        return -1
    memcpy(c.data + c.size, src, n)
    c.size += n
    return 0


cdef inline int keep_record(Slot* s, double dt, const uint8_t* value, Py_ssize_t nbytes,
                            bint ends, int64_t position) noexcept nogil:
    """Count one record of slot ``s`` and keep what its ``keep`` asks for: the time;
    with KEEP_ALL the value bytes and (waves, strings: ``ends``) the running end; its
    stream position when ``seq_on``. -1: out of memory."""
    if s.keep != KEEP_NONE:
        if append(&s.dt, &dt, 8) < 0:
            return -1
        if s.keep == KEEP_ALL and (append(&s.val, value, nbytes) < 0
                                   or ends and append(&s.ends, &s.nval, 8) < 0):
            return -1
    s.nrec += 1
    if s.seq_on and s.keep != KEEP_NONE and append(&s.seq, &position, 8) < 0:
        return -1
    return 0


# The stream is little-endian; so are the hosts vitalproc supports (reader.py checks).
cdef inline uint16_t rd_u16(const uint8_t* p) noexcept nogil:
    cdef uint16_t v
    memcpy(&v, p, 2)
    return v


cdef inline uint32_t rd_u32(const uint8_t* p) noexcept nogil:
    cdef uint32_t v
    memcpy(&v, p, 4)
    return v


cdef inline double rd_f64(const uint8_t* p) noexcept nogil:
    cdef double v
    memcpy(&v, p, 8)
    return v


cdef extern from "Python.h":
    # struct's own readers of "<f" and "<d": the same Python floats, NaN bits included.
    double PyFloat_Unpack4(const char* p, int le) except? -1.0
    double PyFloat_Unpack8(const char* p, int le) except? -1.0
    object PyUnicode_DecodeUTF8(const char* s, Py_ssize_t size, const char* errors)

# mindisp f32, maxdisp f32, col u32, srate f32, gain f64, offset f64, montype u8, did u32
cdef enum:
    TRK_FIELDS_SIZE = 37


cdef inline object text_at(const uint8_t* p, Py_ssize_t n, Py_ssize_t pos, Py_ssize_t k):
    """``bytes[pos:pos + k].decode("utf-8", "ignore")`` with the slice clamped to ``n``."""
    cdef Py_ssize_t end = pos + k
    if end > n:
        end = n
    if pos >= end:
        return ""
    return PyUnicode_DecodeUTF8(<const char*>(p + pos), end - pos, "ignore")


def track_info(bytes b, Py_ssize_t plen):
    """A track declaration's fields in the usual layout, read in one call.

    Returns ``(tid, type, fmt, name, unit, mindisp, maxdisp, col, srate, gain, offset,
    montype, did, reclen)`` when the packet (``b``, of declared length ``plen``) holds
    the unit and every fixed field, each within ``b``; else None, and reader.py's field
    by field reading gives the result or the error (a declaration is read once per track:
    this only saves the small file's per-field Python cost).
    """
    cdef const uint8_t* p = b
    cdef Py_ssize_t n = len(b), pos = 8, k
    cdef uint32_t reclen = 0
    if n < 8:
        return None
    k = rd_u32(p + 4)
    name = text_at(p, n, pos, k)
    pos += k
    if not plen > pos or pos + 4 > n:
        return None
    k = rd_u32(p + pos)
    pos += 4
    unit = text_at(p, n, pos, k)
    pos += k
    if plen < pos + TRK_FIELDS_SIZE or n < pos + TRK_FIELDS_SIZE:
        return None
    cdef const char* f = <const char*>(p + pos)
    fields = (
        PyFloat_Unpack4(f, 1), PyFloat_Unpack4(f + 4, 1), rd_u32(p + pos + 8),
        PyFloat_Unpack4(f + 12, 1), PyFloat_Unpack8(f + 16, 1), PyFloat_Unpack8(f + 24, 1),
        p[pos + 32], rd_u32(p + pos + 33),
    )
    pos += TRK_FIELDS_SIZE
    if plen > pos:
        if pos + 4 > n:
            return None
        reclen = rd_u32(p + pos)
        pos += 4
    # The track's own span: only length-checked (vitaldb reads it and drops it).
    if plen > pos:
        if pos + 8 > n:
            return None
        pos += 8
    if plen > pos and pos + 8 > n:
        return None
    return (rd_u16(p), p[2], p[3], name, unit) + fields + (reclen,)


@cython.auto_pickle(False)
cdef class Block:
    """A malloc'd buffer handed to numpy without a copy; freed with the last array.

    Copied or pickled, it becomes a ``bytearray`` of its bytes: Cython's generated pickling
    would carry the pointer as a NUL-terminated bytes object, and the copy would then free
    memory it does not own (``copy.deepcopy`` of a freshly read ``VitalFile`` aborted).
    """

    def __reduce__(self):
        return bytearray, (bytes(memoryview(self)),)

    cdef char* data
    cdef Py_ssize_t size, cap
    cdef bint mapped

    def __getbuffer__(self, Py_buffer* view, int flags):
        PyBuffer_FillInfo(view, self, self.data, self.size, 0, flags)

    def __releasebuffer__(self, Py_buffer* view):
        pass

    def __dealloc__(self):
        release(self.data, self.cap, self.mapped)


cdef Block take_column(Column* c):
    """Move a column's memory into a Block (the Column is left empty)."""
    cdef Block b = Block.__new__(Block)
    cdef char* p
    if c.size and c.size < c.cap and not c.mapped:
        p = <char*>realloc(c.data, c.size)
        if p != NULL:
            c.data = p
            c.cap = c.size
    b.data = c.data
    b.size = c.size
    b.cap = c.cap
    b.mapped = c.mapped
    c.data = NULL
    c.size = c.cap = 0
    c.mapped = False
    return b


@cython.auto_pickle(False)  # its state is C memory: not to be copied
cdef class Walker:
    """Walks packets, appends records of wanted tracks to per-track slots.

    Python owns the policy: it declares slots, maps track ids to them, sets the early-stop
    offset and decides what to do at every status the walk returns.
    """

    cdef int32_t* tid_slot       # track id -> slot + 1, 0 when not read
    cdef int64_t* tid_reclen     # track id -> declared block length (0: none); lazy
    cdef Slot* slots
    cdef Py_ssize_t nslots, slots_cap
    cdef public double dtstart, dtend, maxlen
    cdef public bint header_only, has_maxlen, first_rec_pending
    cdef public int64_t stop_offset, rec_consumed, skip_pending, big_limit
    cdef public int64_t n_big, first_big, base
    cdef public bint skip_empty    # step over packets of length 0 (counted) instead of EMPTY
    cdef public int64_t n_empty, first_empty
    cdef public int64_t n_short, first_short   # wanted records shorter than they declare
    cdef public bint dtstart_set, dtend_set    # a record moved dtstart / dtend
    cdef object _buf
    cdef const uint8_t[::1] _view

    def __cinit__(self):
        # calloc: zeroed pages come free from the kernel; small files touch few of them.
        self.tid_slot = <int32_t*>calloc(NTIDS, sizeof(int32_t))
        if self.tid_slot == NULL:
            raise MemoryError()
        self.tid_reclen = NULL
        self.slots = NULL
        self.nslots = self.slots_cap = 0
        self.first_rec_pending = True
        self.stop_offset = -1
        self.first_big = -1

    def __dealloc__(self):
        cdef Py_ssize_t i
        cdef Slot* s
        for i in range(self.nslots):
            s = &self.slots[i]
            release(s.dt.data, s.dt.cap, s.dt.mapped)
            release(s.ends.data, s.ends.cap, s.ends.mapped)
            release(s.val.data, s.val.cap, s.val.mapped)
            release(s.seq.data, s.seq.cap, s.seq.mapped)
        free(self.slots)
        free(self.tid_slot)
        free(self.tid_reclen)

    # -- set-up, called from Python once per declaration ------------------------------

    def add_slot(self, int type, int itemsize, double srate):
        """A new track to collect records for; returns its slot number."""
        cdef Slot* p
        cdef Py_ssize_t cap
        if self.nslots == self.slots_cap:
            cap = self.slots_cap * 2 if self.slots_cap else 16
            p = <Slot*>realloc(self.slots, cap * sizeof(Slot))
            if p == NULL:
                raise MemoryError()
            self.slots = p
            self.slots_cap = cap
        memset(&self.slots[self.nslots], 0, sizeof(Slot))
        self.nslots += 1
        self.set_slot(self.nslots - 1, type, itemsize, srate, True)
        return self.nslots - 1

    def set_slot(self, Py_ssize_t slot, int type, int itemsize, double srate, bint clear):
        """Update a slot's declaration; ``clear`` drops what it holds (vitaldb's re-declare)."""
        cdef Slot* s = &self.slots[slot]
        cdef int64_t zero = 0
        s.type = type
        s.itemsize = itemsize
        s.srate = srate
        if clear:
            s.nrec = 0
            s.nval = 0
            s.dt.size = s.ends.size = s.val.size = s.seq.size = 0
            if append(&s.ends, &zero, 8) < 0:
                raise MemoryError()

    def clear_slot(self, Py_ssize_t slot):
        cdef Slot* s = &self.slots[slot]
        self.set_slot(slot, s.type, s.itemsize, s.srate, True)

    def order_records(self, Py_ssize_t slot):
        """From now on note each kept record's stream position (``take_seq``); the
        records held so far are noted at the current position, so they sort before
        any record that follows, and after none that came before."""
        cdef Slot* s = &self.slots[slot]
        cdef Py_ssize_t i
        if s.seq_on:
            return
        s.seq_on = True
        if s.keep == KEEP_NONE:
            return
        for i in range(s.nrec):
            if append(&s.seq, &self.rec_consumed, 8) < 0:
                raise MemoryError()

    def take_seq(self, Py_ssize_t slot):
        """Hand over a slot's record positions (int64 Block; empty unless noted)."""
        return take_column(&self.slots[slot].seq)

    def slot_nrec(self, Py_ssize_t slot):
        return self.slots[slot].nrec

    def slot_counts(self, Py_ssize_t slot):
        """(records, samples or text bytes) walked for a slot, whatever it keeps."""
        return self.slots[slot].nrec, self.slots[slot].nval

    def set_keep(self, Py_ssize_t slot, int keep):
        if keep not in (KEEP_ALL, KEEP_DT, KEEP_NONE):
            raise ValueError(f"keep must be KEEP_ALL, KEEP_DT or KEEP_NONE, not {keep}")
        self.slots[slot].keep = keep

    def map_tid(self, int tid, int slot):
        self.tid_slot[tid] = slot + 1

    def set_reclen(self, int tid, int64_t reclen):
        if self.tid_reclen == NULL:
            self.tid_reclen = <int64_t*>calloc(NTIDS, sizeof(int64_t))
            if self.tid_reclen == NULL:
                raise MemoryError()
        self.tid_reclen[tid] = reclen

    def take(self, Py_ssize_t slot):
        """Hand a slot's columns over: (nrec, dt, ends, values) as Blocks."""
        cdef Slot* s = &self.slots[slot]
        return (s.nrec, take_column(&s.dt), take_column(&s.ends), take_column(&s.val))

    # -- the walk ----------------------------------------------------------------------

    def walk(self, buf, Py_ssize_t pos, bint final):
        """Walk packets of ``buf`` from ``pos``; returns (status, pos, need).

        ``need`` is the byte count the next packet needs from ``pos`` (END), or the
        declared length of the packet at ``pos`` (PACKET). ``final`` means no bytes
        follow: a last packet shorter than its declared length is then read as vitaldb
        reads it (its available bytes), not waited for.
        """
        cdef Py_ssize_t need = 0
        cdef int status
        if buf is not self._buf:  # the walk returns to Python often on one buffer
            self._view = buf
            self._buf = buf
        cdef Py_ssize_t n = self._view.shape[0]
        if pos >= n:
            return END, pos, 5
        with nogil:
            status = self._walk(&self._view[0], n, &pos, &need, final)
        return status, pos, need

    def release(self):
        """Forget the current buffer (so that a mapped file can be closed)."""
        self._view = None
        self._buf = None

    cdef inline void note_short(self, Py_ssize_t pos) noexcept nogil:
        """A wanted record too short for what it declares: skipped (as vitaldb), counted."""
        if self.n_short == 0:
            self.first_short = self.base + pos
        self.n_short += 1

    cdef int _walk(self, const uint8_t* b, Py_ssize_t n, Py_ssize_t* ppos,
                   Py_ssize_t* pneed, bint final) noexcept nogil:
        cdef Py_ssize_t pos = ppos[0]
        cdef Py_ssize_t avail, blen, p, k
        cdef uint32_t plen, nsamp, slen
        cdef uint8_t ptype
        cdef double dt, end
        cdef int32_t si
        cdef int64_t rl, nbytes
        cdef const uint8_t* body
        cdef Slot* s
        cdef int status = END

        while True:
            if self.skip_pending > 0:          # vitaldb's f.seek past an unwanted block
                k = n - pos
                if k > self.skip_pending:
                    k = self.skip_pending
                pos += k
                self.skip_pending -= k
                if self.skip_pending > 0:
                    pneed[0] = 0
                    break
            if n - pos < 5:
                pneed[0] = 5
                break
            ptype = b[pos]
            plen = rd_u32(b + pos + 1)
            if self.big_limit > 0 and plen > self.big_limit:
                status = BIG
                break
            avail = n - pos - 5
            if plen > avail and not final:
                pneed[0] = 5 + <Py_ssize_t>plen
                break
            if plen == 0:
                if not self.skip_empty:
                    status = EMPTY
                    break
                if self.n_empty == 0:
                    self.first_empty = self.base + pos
                self.n_empty += 1
                pos += 5
                continue
            blen = plen if plen <= avail else avail
            if blen == 0:                      # final and no body: vitaldb's read() == b''
                pneed[0] = 5 + <Py_ssize_t>plen
                break
            if ptype == REC and self.first_rec_pending:
                status = FIRST_REC
                break
            if plen > MAX_UNPACKED_PACKET:
                if self.n_big == 0:
                    self.first_big = self.base + pos
                self.n_big += 1
            if ptype != REC:
                pneed[0] = plen
                status = PACKET
                break

            # ---- a record --------------------------------------------------------
            self.rec_consumed += 5 + <int64_t>plen
            body = b + pos + 5
            pos += 5 + <Py_ssize_t>plen
            if blen >= 12:
                dt = rd_f64(body + 2)
                si = self.tid_slot[rd_u16(body + 10)] - 1
                p = 2 + rd_u16(body)
                if si < 0:
                    rl = 0 if self.tid_reclen == NULL else self.tid_reclen[rd_u16(body + 10)]
                    if rl > 5 + <int64_t>plen:
                        self.skip_pending = rl - (5 + <int64_t>plen)
                        self.rec_consumed += self.skip_pending
                else:
                    s = &self.slots[si]
                    if self.dtstart == 0 or (dt > 0 and dt < self.dtstart):
                        self.dtstart = dt
                        self.dtstart_set = True
                    if dt > self.dtend:
                        self.dtend = dt
                        self.dtend_set = True
                    if not self.header_only and not (
                            self.has_maxlen and self.dtstart > 0
                            and dt > self.dtstart + self.maxlen):
                        if s.type == WAVE:
                            nbytes = -1
                            if blen >= p + 4:
                                nsamp = rd_u32(body + p)
                                p += 4
                                nbytes = <int64_t>nsamp * s.itemsize
                            if nbytes < 0 or blen < p + nbytes:
                                self.note_short(pos - 5 - <Py_ssize_t>plen)
                            else:
                                s.nval += nsamp
                                if keep_record(s, dt, body + p, nbytes, True,
                                               self.rec_consumed) < 0:
                                    status = NOMEM
                                    break
                                if s.srate > 0:
                                    end = dt + <double>nsamp / s.srate
                                    if end > self.dtend:
                                        self.dtend = end
                                        self.dtend_set = True
                        elif s.type == NUMERIC:
                            if blen < p + s.itemsize:
                                self.note_short(pos - 5 - <Py_ssize_t>plen)
                            elif keep_record(s, dt, body + p, s.itemsize, False,
                                             self.rec_consumed) < 0:
                                status = NOMEM
                                break
                        elif s.type == STRING:
                            p += 4                      # a reserved u32 precedes the text
                            if blen < p + 4:
                                self.note_short(pos - 5 - <Py_ssize_t>plen)
                            else:
                                slen = rd_u32(body + p)
                                p += 4
                                k = blen - p            # vitaldb's slice stops at the packet
                                if k > slen:
                                    k = slen
                                s.nval += k
                                if keep_record(s, dt, body + p, k, True,
                                               self.rec_consumed) < 0:
                                    status = NOMEM
                                    break
            if self.stop_offset > 0 and self.rec_consumed >= self.stop_offset:
                status = STOP
                break
        ppos[0] = pos
        return status

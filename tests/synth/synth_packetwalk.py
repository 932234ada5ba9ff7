"""An independent walk over a .vital stream for the generator's tests: counts what the
file really holds (packets by type, records per track id, track declarations), written
from the format description, sharing no code with the package."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field


@dataclass
class Walk:
    complete: bool = True  # the stream reached its gzip trailer
    inflated: int = 0
    declarations: list[dict] = field(default_factory=list)  # in file order
    records: dict[int, int] = field(default_factory=dict)  # tid -> count
    record_times: dict[int, list] = field(default_factory=dict)
    largest_record: int = 0
    cut_inside_packet: bool = False

    def names(self) -> dict[int, str]:
        return {d["tid"]: d["key"] for d in self.declarations}

    def records_by_name(self) -> dict[str, int]:
        names, out = self.names(), {}
        for tid, n in self.records.items():
            out[names[tid]] = out.get(names[tid], 0) + n
        return out


def inflate(gz: bytes) -> tuple[bytes, bool]:
    d = zlib.decompressobj(47)
    data = d.decompress(gz)
    return data, d.eof


def walk(gz: bytes) -> Walk:
    data, eof = inflate(gz)
    w = Walk(complete=eof, inflated=len(data))
    assert data[:4] == b"VITA"
    pos = 10 + struct.unpack_from("<H", data, 8)[0]
    devices = {}
    while pos < len(data):
        if pos + 5 > len(data):
            w.cut_inside_packet = True
            break
        ptype, length = struct.unpack_from("<BI", data, pos)
        body = data[pos + 5 : pos + 5 + length]
        if len(body) < length:
            w.cut_inside_packet = True
            break
        if ptype == 9:
            (did,) = struct.unpack_from("<I", body, 0)
            p, texts = 4, []
            for _ in range(3):
                (n,) = struct.unpack_from("<I", body, p)
                texts.append(body[p + 4 : p + 4 + n].decode())
                p += 4 + n
            devices[did] = texts[1] or texts[0]
        elif ptype == 0:
            tid, ttype, fmt = struct.unpack_from("<HBB", body, 0)
            (n,) = struct.unpack_from("<I", body, 4)
            name = body[8 : 8 + n].decode()
            p = 8 + n
            (n,) = struct.unpack_from("<I", body, p)
            p += 4 + n
            _mindisp, _maxdisp, _col, srate, gain, offset, _montype, did = struct.unpack_from(
                "<ffIfddBI", body, p
            )
            dname = devices.get(did, "")
            w.declarations.append(
                {
                    "tid": tid,
                    "type": ttype,
                    "fmt": fmt,
                    "name": name,
                    "key": f"{dname}/{name}" if dname else name,
                    "srate": srate,
                    "gain": gain,
                    "offset": offset,
                }
            )
        elif ptype == 1:
            _infolen, dt, tid = struct.unpack_from("<HdH", body, 0)
            w.records[tid] = w.records.get(tid, 0) + 1
            w.record_times.setdefault(tid, []).append(dt)
            w.largest_record = max(w.largest_record, length)
        pos += 5 + length
    return w

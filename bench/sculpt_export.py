# A reader of Sculpt's export format (`sculpt export`, docs/formats.md "Export"), in numpy only, for
# the PyTorch peer of the trained-model inference cases: the peer runs exactly the weights Sculpt
# runs. Returns the header and every tensor dense, as float32.
import json
import struct
import zlib

import numpy as np

MAGIC = b"SCULPTMD"
VERSION = 1


class ExportError(Exception):
    pass


def _values(buf, offset, count, dtype):
    kind = {"f32": "<f4", "f16": "<f2"}.get(dtype)
    if kind is None:
        raise ExportError(f"unknown dtype {dtype!r}")
    width = 4 if dtype == "f32" else 2
    vals = np.frombuffer(buf, dtype=kind, count=count, offset=offset)
    return vals.astype(np.float32), offset + count * width


def _decode(entry, data):
    """One tensor of the header's list, from the data section: a dense float32 array."""
    shape = [int(d) for d in entry["shape"]]
    numel = int(np.prod(shape))
    nnz = int(entry["nnz"])
    start, size = int(entry["offset"]), int(entry["bytes"])
    buf = data[start:start + size]
    if len(buf) != size:
        raise ExportError(f"{entry['name']}: data out of bounds")
    enc = entry["encoding"]
    if enc == "dense":
        vals, end = _values(buf, 0, numel, entry["dtype"])
        out = vals
    elif enc == "csr":
        rows = shape[0]
        cols = numel // rows
        rowptr = np.frombuffer(buf, dtype="<u4", count=rows + 1, offset=0).astype(np.int64)
        pos = 4 * (rows + 1)
        idx_type, idx_width = ("<u2", 2) if cols <= 65536 else ("<u4", 4)
        col = np.frombuffer(buf, dtype=idx_type, count=nnz, offset=pos).astype(np.int64)
        vals, end = _values(buf, pos + idx_width * nnz, nnz, entry["dtype"])
        if rowptr[0] != 0 or rowptr[-1] != nnz or np.any(np.diff(rowptr) < 0):
            raise ExportError(f"{entry['name']}: bad row pointers")
        if nnz and (col.max() >= cols):
            raise ExportError(f"{entry['name']}: column index out of range")
        out = np.zeros((rows, cols), dtype=np.float32)
        row_of = np.repeat(np.arange(rows), np.diff(rowptr))
        out[row_of, col] = vals
    elif enc == "bitmask":
        nbytes = (numel + 7) // 8
        bits = np.unpackbits(np.frombuffer(buf, dtype=np.uint8, count=nbytes), bitorder="little")
        bits = bits[:numel].astype(bool)
        if int(bits.sum()) != nnz:
            raise ExportError(f"{entry['name']}: {int(bits.sum())} bits set, nnz {nnz}")
        vals, end = _values(buf, nbytes, nnz, entry["dtype"])
        out = np.zeros(numel, dtype=np.float32)
        out[bits] = vals
    else:
        raise ExportError(f"{entry['name']}: unknown encoding {enc!r}")
    if end != size:
        raise ExportError(f"{entry['name']}: {size} bytes declared, {end} decoded")
    return out.reshape(shape)


def read_export(path):
    """(header dict, {tensor name: float32 array}) of an export file, checked as Sculpt checks
    it: magic, version, sizes, CRC32."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 20 or raw[:8] != MAGIC:
        raise ExportError(f"{path}: not a Sculpt export (bad magic)")
    version, hlen = struct.unpack_from("<II", raw, 8)
    if version != VERSION:
        raise ExportError(f"{path}: format version {version} is not supported")
    (crc,) = struct.unpack_from("<I", raw, len(raw) - 4)
    if zlib.crc32(raw[:-4]) & 0xFFFFFFFF != crc:
        raise ExportError(f"{path}: corrupted (CRC32)")
    header = json.loads(raw[16:16 + hlen].decode("utf-8"))
    data = raw[16 + hlen:len(raw) - 4]
    if len(data) != int(header["data_bytes"]):
        raise ExportError(f"{path}: {len(data)} data bytes, the header declares "
                          f"{header['data_bytes']}")
    tensors = {e["name"]: _decode(e, data) for e in header["tensors"]}
    return header, tensors

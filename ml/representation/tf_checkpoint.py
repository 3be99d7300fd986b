"""Read TensorFlow 1 checkpoints (the V2 "tensor bundle" format) without TensorFlow.

A checkpoint `prefix` is two or more files:

- `prefix + ".index"`: a LevelDB-format sorted table (SSTable). Key "" holds a `BundleHeaderProto`
  (number of shards, endianness); every other key is a variable name whose value is a
  `BundleEntryProto` (dtype, shape, shard_id, offset, size, crc32c).
- `prefix + ".data-SSSSS-of-NNNNN"`: the shards, each tensor's raw bytes at its entry's offset.

Table layout (LevelDB's table format, which TensorFlow's `lib/io/table` copies): data blocks, a
metaindex block, an index block, and a 48-byte footer (two varint block handles padded to 40
bytes, then the magic number 0xdb4775248b80fb57 as fixed64 little endian). The index block maps a
separator key to each data block's handle (varint offset, varint size). Every block is followed by
a 5-byte trailer: a compression byte (0 none, 1 snappy) and the masked CRC-32C of the block and
that byte. A block is a run of entries `varint shared, varint non_shared, varint value_length,
key suffix, value` (each key shares its first `shared` bytes with the previous key), then the
restart offsets (fixed32 each) and their count (fixed32).

TensorFlow writes the index uncompressed (BundleWriter sets `kNoCompression`), so snappy blocks
are refused with a clear error rather than decoded. Tensor data is checked against each entry's
masked CRC-32C. Only whole tensors of fixed-width numeric types are read: sliced (partitioned)
variables and string/variant tensors are refused.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from core.errors import ModelError

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
BLOCK_TRAILER_SIZE = 5

DTYPES: dict[int, str] = {1: "<f4", 2: "<f8", 3: "<i4", 4: "u1", 5: "<i2", 6: "i1", 9: "<i8", 10: "?", 14: "<u2",
                          17: "<u2", 19: "<f2", 22: "<u4", 23: "<u8"}
"""TensorFlow DataType enum (types.proto) → numpy dtype, little endian. bfloat16 (14) is read as its raw uint16 bits."""


@dataclass(frozen=True)
class TensorEntry:
    """Where one variable's bytes are: a decoded BundleEntryProto."""

    name: str
    dtype: int  # TensorFlow DataType enum
    shape: tuple[int, ...]
    shard_id: int
    offset: int
    size: int
    crc32c: int  # masked, as stored
    sliced: bool


# ---- protobuf wire format: just what the two messages need ----

def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Decode a base-128 varint at pos; return (value, position after it)."""
    value = shift = 0
    while True:
        if pos >= len(buf):
            raise ModelError("checkpoint index is truncated inside a varint: the .index file is damaged; download it again")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise ModelError("checkpoint index has a varint longer than 10 bytes: the .index file is damaged")


def _fields(msg: bytes) -> list[tuple[int, int | bytes]]:
    """Split a protobuf message into (field number, value): ints for varint/fixed fields, bytes for length-delimited."""
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(msg):
        key, pos = _varint(msg, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(msg, pos)
            out.append((number, value))
        elif wire == 1:
            out.append((number, int.from_bytes(msg[pos:pos + 8], "little")))
            pos += 8
        elif wire == 2:
            length, pos = _varint(msg, pos)
            out.append((number, msg[pos:pos + length]))
            pos += length
        elif wire == 5:
            out.append((number, int.from_bytes(msg[pos:pos + 4], "little")))
            pos += 4
        else:
            raise ModelError(f"checkpoint index holds protobuf wire type {wire}, which no bundle message uses: the file is damaged")
    if pos != len(msg):
        raise ModelError("checkpoint index has a protobuf field running past its message: the .index file is damaged")
    return out


def _signed(value: int) -> int:
    """A varint int64 as two's complement (protobuf encodes negative int64 as 10-byte varints)."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _shape(msg: bytes) -> tuple[int, ...]:
    """TensorShapeProto: repeated Dim dim = 2 (Dim: int64 size = 1); unknown_rank = 3."""
    dims: list[int] = []
    for number, value in _fields(msg):
        if number == 2 and isinstance(value, bytes):
            dims.append(next((_signed(v) for n, v in _fields(value) if n == 1 and isinstance(v, int)), 0))
        elif number == 3 and value:
            raise ModelError("a checkpoint tensor has unknown rank; only fully defined shapes can be read")
    return tuple(dims)


def _entry(name: str, msg: bytes) -> TensorEntry:
    """BundleEntryProto: dtype 1, shape 2, shard_id 3, offset 4, size 5, crc32c 6 (fixed32), slices 7."""
    f: dict[int, int | bytes] = {}
    sliced = False
    for number, value in _fields(msg):
        if number == 7:
            sliced = True
        else:
            f[number] = value
    shape = f.get(2, b"")
    return TensorEntry(name=name, dtype=int(f.get(1, 0)), shape=_shape(shape if isinstance(shape, bytes) else b""),
                       shard_id=int(f.get(3, 0)), offset=int(f.get(4, 0)), size=int(f.get(5, 0)),
                       crc32c=int(f.get(6, 0)), sliced=sliced)


# ---- CRC-32C (Castagnoli), as LevelDB and TensorFlow mask it ----

def _crc_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc_table()


def crc32c(data: bytes, crc: int = 0) -> int:
    """CRC-32C of data, continuing from crc (0 to start). Pure Python: ~10 MB/s."""
    table = _CRC_TABLE
    c = crc ^ 0xFFFFFFFF
    for byte in data:
        c = table[(c ^ byte) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def mask_crc(crc: int) -> int:
    """LevelDB's mask: rotate right by 15 bits and add a constant, so a CRC of data holding CRCs is not degenerate."""
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


# ---- LevelDB table ----

def _block(table: bytes, offset: int, size: int, what: str) -> bytes:
    """The contents of the block at (offset, size), its trailer checked."""
    end = offset + size
    if end + BLOCK_TRAILER_SIZE > len(table):
        raise ModelError(f"checkpoint index: the {what} block runs past the end of the file; the .index file is truncated")
    contents, kind = table[offset:end], table[end]
    stored = int.from_bytes(table[end + 1:end + 5], "little")
    if mask_crc(crc32c(table[offset:end + 1])) != stored:
        raise ModelError(f"checkpoint index: the {what} block's CRC-32C does not match; the .index file is damaged")
    if kind == 1:
        raise ModelError("checkpoint index has a snappy-compressed block; TensorFlow writes bundles uncompressed, "
                         "so this is not a tensor bundle index this reader supports")
    if kind != 0:
        raise ModelError(f"checkpoint index block has unknown compression type {kind}: the .index file is damaged")
    return contents


def block_entries(block: bytes) -> list[tuple[bytes, bytes]]:
    """(key, value) pairs of one block, with prefix-compressed keys expanded."""
    if len(block) < 4:
        raise ModelError("checkpoint index has a block shorter than its restart count: the file is damaged")
    restarts = struct.unpack_from("<I", block, len(block) - 4)[0]
    limit = len(block) - 4 - 4 * restarts
    if limit < 0:
        raise ModelError("checkpoint index block claims more restart points than it has room for: the file is damaged")
    out: list[tuple[bytes, bytes]] = []
    key = b""
    pos = 0
    while pos < limit:
        shared, pos = _varint(block, pos)
        non_shared, pos = _varint(block, pos)
        value_length, pos = _varint(block, pos)
        if shared > len(key) or pos + non_shared + value_length > limit:
            raise ModelError("checkpoint index block entry points outside its block: the .index file is damaged")
        key = key[:shared] + block[pos:pos + non_shared]
        pos += non_shared
        out.append((key, block[pos:pos + value_length]))
        pos += value_length
    return out


def read_table(table: bytes) -> list[tuple[bytes, bytes]]:
    """All (key, value) pairs of a LevelDB-format table held in memory, in key order."""
    if len(table) < FOOTER_SIZE or int.from_bytes(table[-8:], "little") != TABLE_MAGIC:
        raise ModelError("not a checkpoint index: the file does not end with the LevelDB table magic number")
    footer = table[-FOOTER_SIZE:]
    _meta_offset, pos = _varint(footer, 0)
    _meta_size, pos = _varint(footer, pos)
    index_offset, pos = _varint(footer, pos)
    index_size, pos = _varint(footer, pos)
    out: list[tuple[bytes, bytes]] = []
    for _separator, handle in block_entries(_block(table, index_offset, index_size, "index")):
        offset, pos = _varint(handle, 0)
        size, _ = _varint(handle, pos)
        out.extend(block_entries(_block(table, offset, size, "data")))
    return out


# ---- the bundle ----

def _index_path(prefix: str | Path) -> str:
    """The string prefix the files hang off: a directory given as a Path means 'dir/' (files 'dir/.index')."""
    p = str(prefix)
    return p + "/" if Path(p).is_dir() and not p.endswith("/") else p


def read_index(prefix: str | Path) -> tuple[int, dict[str, TensorEntry]]:
    """Decode prefix.index: (number of data shards, entries by variable name)."""
    path = Path(_index_path(prefix) + ".index")
    if not path.is_file():
        raise ModelError(f"no checkpoint index at {path}: pass the checkpoint prefix (the path without '.index')")
    num_shards, entries = 1, {}
    for key, value in read_table(path.read_bytes()):
        if key == b"":
            header = dict(_fields(value))
            num_shards = int(header.get(1, 1))
            if int(header.get(2, 0)) != 0:
                raise ModelError(f"checkpoint {prefix} was written big endian; only little-endian bundles are supported")
            continue
        name = key.decode("utf-8")
        entries[name] = _entry(name, value)
    return num_shards, entries


def read_checkpoint(prefix: str | Path, *, verify: bool = True) -> dict[str, NDArray[np.generic]]:
    """Every variable of a TF1 checkpoint as a numpy array of its shape and dtype (C order).

    prefix: the path the checkpoint's files start with (`model.ckpt` for `model.ckpt.index`); a
    directory means files named `.index` and `.data-…` inside it, as musicnn ships them.
    verify: check each tensor's bytes against its CRC-32C (pure Python, ~1 s per 10 MB).

    Raises ModelError for a missing file, a damaged index or data shard, or a tensor this reader cannot hold.
    """
    base = _index_path(prefix)
    num_shards, entries = read_index(prefix)
    shards: dict[int, bytes] = {}
    out: dict[str, NDArray[np.generic]] = {}
    for name, e in entries.items():
        if e.sliced:
            raise ModelError(f"checkpoint variable {name!r} is saved in slices (a partitioned variable): not supported")
        if e.dtype not in DTYPES:
            raise ModelError(f"checkpoint variable {name!r} has TensorFlow dtype {e.dtype}, which is not a fixed-width number")
        if e.shard_id not in shards:
            shard = Path(f"{base}.data-{e.shard_id:05d}-of-{num_shards:05d}")
            if not shard.is_file():
                raise ModelError(f"checkpoint data shard {shard} is missing: copy every '.data-' file next to the .index")
            shards[e.shard_id] = shard.read_bytes()
        raw = shards[e.shard_id][e.offset:e.offset + e.size]
        dtype = np.dtype(DTYPES[e.dtype])
        count = int(np.prod(e.shape, dtype=np.int64))
        if len(raw) != e.size or e.size != count * dtype.itemsize:
            raise ModelError(f"checkpoint variable {name!r}: {e.size} bytes at offset {e.offset} do not hold shape {e.shape} "
                             f"of {dtype}; the data shard is truncated or does not belong to this index")
        if verify and mask_crc(crc32c(raw)) != e.crc32c:
            raise ModelError(f"checkpoint variable {name!r} fails its CRC-32C check: the data shard is damaged; download it again")
        out[name] = np.frombuffer(raw, dtype=dtype).reshape(e.shape).copy()
    return out

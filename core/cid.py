"""Content identifiers byte-identical to `ipfs add --cid-version=1` (Kubo defaults).

Kubo with CIDv1 cuts a file into 256 KiB chunks stored as raw leaves (codec 0x55). A file of
one chunk or less is that raw leaf. Larger files get a balanced DAG of dag-pb (0x70) nodes
holding UnixFS `File` data, at most 174 links each. Hashes are sha2-256, text is base32.
Streaming: memory is bounded by one chunk plus one pending link list per tree level.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from core.errors import InputError
from core.types import Cid

CHUNK_SIZE = 256 * 1024
MAX_LINKS = 174
RAW = 0x55
DAG_PB = 0x70
SHA2_256 = 0x12


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _bytes_field(number: int, value: bytes) -> bytes:
    return _field(number, 2) + _varint(len(value)) + value


def cid_bytes(codec: int, block: bytes) -> bytes:
    """Binary CIDv1 of a block: 0x01 ‖ codec ‖ sha2-256 multihash."""
    return bytes([0x01, codec, SHA2_256, 32]) + hashlib.sha256(block).digest()


def to_text(cid: bytes) -> Cid:
    """Multibase base32 (lower case, no padding, prefix 'b')."""
    return Cid("b" + base64.b32encode(cid).decode().lower().rstrip("="))


def from_text(text: str) -> bytes:
    """Binary CID from its base32 text; raises InputError for anything else."""
    if not text.startswith("b") or len(text) < 10:
        raise InputError(f"{text!r} is not a base32 CIDv1 (it should start with 'b', like 'bafkrei…')")
    body = text[1:].upper()
    try:
        raw = base64.b32decode(body + "=" * (-len(body) % 8))
    except ValueError as exc:
        raise InputError(f"{text!r} is not valid base32: {exc}") from exc
    if len(raw) != 36 or raw[0] != 0x01 or raw[1] not in (RAW, DAG_PB) or raw[2:4] != bytes([SHA2_256, 32]):
        raise InputError(f"{text!r} is not a CIDv1 raw/dag-pb sha2-256 identifier")
    return raw


@dataclass(frozen=True)
class Link:
    cid: bytes
    tsize: int  # bytes of the whole subtree's blocks (Kubo's Tsize)
    filesize: int  # file bytes under the subtree


@dataclass(frozen=True)
class Block:
    cid: bytes
    data: bytes


def _file_node(links: list[Link]) -> bytes:
    """A dag-pb node (links first, then Data) whose Data is UnixFS {Type: File, filesize,
    blocksizes}. Links carry an empty Name, as Kubo writes them."""
    unixfs = _field(1, 0) + _varint(2) + _field(3, 0) + _varint(sum(link.filesize for link in links))
    for link in links:
        unixfs += _field(4, 0) + _varint(link.filesize)
    out = b"".join(
        _bytes_field(2, _bytes_field(1, link.cid) + _bytes_field(2, b"") + _field(3, 0) + _varint(link.tsize))
        for link in links
    )
    return out + _bytes_field(1, unixfs)


def chunks(stream: BinaryIO, size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Fixed-size chunks, reading full chunks even from short reads."""
    while True:
        buf = bytearray()
        while len(buf) < size:
            part = stream.read(size - len(buf))
            if not part:
                break
            buf += part
        if not buf:
            return
        yield bytes(buf)
        if len(buf) < size:
            return


def build_dag(pieces: Iterable[bytes]) -> Iterator[Block]:
    """Yield every block of a file's DAG (leaves and nodes, children before parents); the last
    block yielded is the root. An empty file is one empty raw block."""
    levels: list[list[Link]] = []  # levels[0] holds leaf links not yet grouped

    def push(level: int, link: Link) -> Iterator[Block]:
        while len(levels) <= level:
            levels.append([])
        levels[level].append(link)
        if len(levels[level]) == MAX_LINKS:
            yield from flush(level)

    def flush(level: int) -> Iterator[Block]:
        links = levels[level]
        levels[level] = []
        node = _file_node(links)
        cid = cid_bytes(DAG_PB, node)
        yield Block(cid, node)
        yield from push(level + 1, Link(cid, len(node) + sum(x.tsize for x in links), sum(x.filesize for x in links)))

    first: bytes | None = None
    count = 0
    for piece in pieces:
        count += 1
        if count == 1:
            first = piece
            continue
        if count == 2 and first is not None:
            leaf = Block(cid_bytes(RAW, first), first)
            yield leaf
            yield from push(0, Link(leaf.cid, len(first), len(first)))
        leaf = Block(cid_bytes(RAW, piece), piece)
        yield leaf
        yield from push(0, Link(leaf.cid, len(piece), len(piece)))
    if count <= 1:
        data = first or b""
        yield Block(cid_bytes(RAW, data), data)
        return
    # Close partial nodes bottom-up; a level holding a single link above the leaves is the root.
    level = 0
    while True:
        top = level == len(levels) - 1
        if top and len(levels[level]) == 1 and level > 0:
            return  # the root was the last block yielded
        if levels[level]:
            yield from flush(level)
        level += 1
        if level >= len(levels):
            return


def file_cid(path: Path) -> Cid:
    """The CID `ipfs add --cid-version=1 PATH` prints, computed in bounded memory."""
    try:
        with path.open("rb") as f:
            root = None
            for block in build_dag(chunks(f)):
                root = block
    except FileNotFoundError as exc:
        raise InputError(f"{path} does not exist: check the path") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{path} is a directory: give a file") from exc
    except PermissionError as exc:
        raise InputError(f"{path} is not readable: check its permissions") from exc
    assert root is not None
    return to_text(root.cid)


def bytes_cid(data: bytes) -> Cid:
    import io

    root = None
    for block in build_dag(chunks(io.BytesIO(data))):
        root = block
    assert root is not None
    return to_text(root.cid)

"""The embedded content store: blocks on disk under their CID, verified on every read.

Files are cut into the same DAG as `ipfs add --cid-version=1` (see core.cid), so a file's CID
here is its CID on IPFS, and the blocks can be exported to a Kubo node unchanged.
"""

from __future__ import annotations

import hashlib
import os
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path

from core.cid import DAG_PB, RAW, build_dag, chunks, from_text, to_text
from core.config import Settings
from core.errors import ContentStoreError, InputError
from core.types import Cid


def verify_block(cid: Cid, data: bytes, where: str) -> bytes:
    """`data` if it hashes to `cid`; otherwise a ContentStoreError naming `where` it came from."""
    if hashlib.sha256(data).digest() != from_text(cid)[4:]:
        raise ContentStoreError(
            f"block {cid} from {where} is corrupt: its bytes do not hash to its CID; "
            "remove it there and add the content again"
        )
    return data


class ContentStore(ABC):
    """Where files live, by CID: the embedded block store or a Kubo node. Reads verify every block."""

    @abstractmethod
    def put_file(self, path: Path) -> Cid:
        """Store a file's blocks; returns its CID. Storing the same file twice is a no-op."""

    @abstractmethod
    def put_bytes(self, data: bytes) -> Cid:
        """Store bytes as a file; returns its CID."""

    @abstractmethod
    def has(self, cid: Cid) -> bool:
        """Whether the store holds the block `cid` (without fetching it from elsewhere)."""

    @abstractmethod
    def get_block(self, cid: Cid) -> bytes:
        """A block's bytes, after checking they hash to `cid`."""

    def cat(self, cid: Cid) -> Iterator[bytes]:
        """The file's bytes, chunk by chunk, every block verified."""
        raw = from_text(cid)
        data = self.get_block(cid)
        if raw[1] == RAW:
            yield data
            return
        if raw[1] != DAG_PB:
            raise ContentStoreError(f"{cid} is neither a raw nor a dag-pb block")
        for child in _links(data):
            yield from self.cat(to_text(child))


class BlockStore(ContentStore):
    """The embedded default: one file per block under `root`, named by its CID."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, cid: Cid) -> Path:
        return self.root / cid[-2:] / cid

    def put_file(self, path: Path) -> Cid:
        try:
            stream = path.open("rb")
        except FileNotFoundError as exc:
            raise InputError(f"{path} does not exist: check the path") from exc
        except (IsADirectoryError, PermissionError) as exc:
            raise InputError(f"{path} cannot be read as a file: {exc.strerror}") from exc
        with stream:
            root = None
            for block in build_dag(chunks(stream)):
                self._write(to_text(block.cid), block.data)
                root = block
        assert root is not None
        return to_text(root.cid)

    def put_bytes(self, data: bytes) -> Cid:
        import io

        root = None
        for block in build_dag(chunks(io.BytesIO(data))):
            self._write(to_text(block.cid), block.data)
            root = block
        assert root is not None
        return to_text(root.cid)

    def _write(self, cid: Cid, data: bytes) -> None:
        target = self._path(cid)
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(target)

    def has(self, cid: Cid) -> bool:
        return self._path(cid).exists()

    def get_block(self, cid: Cid) -> bytes:
        from_text(cid)
        path = self._path(cid)
        if not path.exists():
            raise ContentStoreError(f"block {cid} is not in the store at {self.root}: add the file again")
        return verify_block(cid, path.read_bytes(), f"the block store ({path})")


def open_store(settings: Settings) -> ContentStore:
    """The Kubo node when HERITAGE_IPFS_API_URL is set, else the embedded block store."""
    if settings.ipfs_api_url:
        from core.kubo import KuboStore

        return KuboStore(settings.ipfs_api_url, timeout_s=settings.tx_timeout_s)
    return BlockStore(settings.blocks_dir)


def _read_varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def _links(node: bytes) -> list[bytes]:
    """Child CIDs of a dag-pb node, in order."""
    out: list[bytes] = []
    i = 0
    while i < len(node):
        key, i = _read_varint(node, i)
        length, i = _read_varint(node, i)
        body = node[i : i + length]
        i += length
        if key == (2 << 3 | 2):
            j = 0
            while j < len(body):
                k, j = _read_varint(body, j)
                if k & 7 == 2:
                    n, j = _read_varint(body, j)
                    if k >> 3 == 1:
                        out.append(body[j : j + n])
                    j += n
                else:
                    _, j = _read_varint(body, j)
    return out

"""A file's CID in the dashboard itself (core/cid.py: Kubo-identical), so that checking a file
uploads nothing."""

from __future__ import annotations

import io

from core.cid import build_dag, chunks, to_text


def cid_of(data: bytes) -> str:
    """The CID `ipfs add --cid-version=1` prints for `data` (the last block of its DAG is the root)."""
    root = None
    for block in build_dag(chunks(io.BytesIO(data))):
        root = block
    assert root is not None  # an empty file is one empty raw block
    return str(to_text(root.cid))

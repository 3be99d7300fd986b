"""Replacing a file so that a crash leaves either the old content or the new, never a torn or lost
write: the new content is written beside it, flushed to disk, renamed over it, and the rename
itself flushed (the directory). One place for the rule; the transaction journal and the stewards'
stored signatures use it."""

from __future__ import annotations

import os
from pathlib import Path


def replace_durably(path: Path, text: str) -> None:
    """`path` holds `text` once this returns, across a crash of the process or the machine."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)

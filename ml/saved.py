"""Reading the model files the ML commands write: tensors and plain values only
(`torch.load(weights_only=True)`: no pickled code), tagged with a format string."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import torch

from core.errors import InputError


def read_saved(path: Path, *, what: str, formats: tuple[str, ...], command: str) -> dict[str, Any]:
    """The dict saved at `path`, whose "format" is one of `formats`. A missing file, one torch
    cannot read, or one of another format is an InputError naming `what` it should be and the
    `command` that writes one."""
    if not path.exists():
        raise InputError(f"no {what} at {path}: train one with `{command}`")
    try:
        d = torch.load(path, weights_only=True)
    except Exception as exc:  # torch raises several types for a file that is not its format
        raise InputError(f"{path} is not a {what} ({type(exc).__name__}): give a file `{command}` wrote") from exc
    fmt = d.get("format") if isinstance(d, dict) else None
    if fmt not in formats:
        raise InputError(f"{path} is not a {what}: its format is {fmt!r}, not {' or '.join(formats)}; "
                         f"give a file `{command}` wrote")
    saved: dict[str, Any] = d
    return saved


def write_saved(obj: dict[str, Any], path: Path) -> None:
    """torch.save `obj` to `path` so the bytes, hence the CID, depend on the contents alone.

    `torch.save(obj, path)` names the archive's inner folder after the file (`a.pt` holds
    `a/data.pkl`), so the same weights saved as a.pt and b.pt have different CIDs; saved through a
    buffer the folder is always `archive/`. Written to a temporary file and renamed, so a reader
    never sees half a model."""
    import io

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(path)


T = TypeVar("T")
_LOADED: dict[tuple[str, str, int, int], Any] = {}


def cached(path: Path, loader: Callable[[Path], T]) -> T:
    """loader(path), read once per process and kept; read again if the file's size or modification
    time changes. Keyed by the loader too, so two readers of one file do not mix."""
    st = path.stat() if path.exists() else None
    if st is None:
        return loader(path)  # the loader says what is missing
    key = (f"{loader.__module__}.{loader.__qualname__}", str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _LOADED:
        for old in [k for k in _LOADED if k[:2] == key[:2]]:
            del _LOADED[old]
        _LOADED[key] = loader(path)
    value: T = _LOADED[key]
    return value

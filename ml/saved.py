"""Reading the model files the ML commands write: tensors and plain values only
(`torch.load(weights_only=True)`: no pickled code), tagged with a format string."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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

"""The checks every reader of a user's file makes before it decodes anything: a known extension,
an existing file, not an empty one. Each message says what to do."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from core.errors import InputError


def readable(path: Path, formats: Mapping[str, str], *, what: str, convert: str, again: str) -> str:
    """The format `formats` gives `path`'s extension, once the file exists and is not empty.
    InputError otherwise: `what` names the kind of file ("audio", "score"), `convert` says how to
    get a readable one, `again` how to replace an empty one."""
    fmt = formats.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"{what} {path}: unsupported extension {path.suffix or '(none)'!r}; {convert}")
    if not path.is_file():
        raise InputError(f"{what} {path} does not exist: check the path")
    if path.stat().st_size == 0:
        raise InputError(f"{what} {path} is empty (0 bytes): {again}")
    return fmt

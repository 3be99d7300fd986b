"""Reading a YAML file of fields (a scenario, a tradition): one set of input errors for all of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from core.errors import InputError


def read_mapping(path: Path, *, what: str, fields: str, missing: str = "check the path",
                 empty_ok: bool = False) -> dict[str, Any]:
    """The mapping a YAML file holds, for the caller to validate.

    InputError naming `what` (e.g. "scenario file") and `path` when the file cannot be read (`missing`
    says what to do), is not valid YAML, or holds something other than a mapping of fields (`fields`
    names a few of them, e.g. "name, seed, listeners, …"). An empty file is `{}` when `empty_ok`.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{what} {path} could not be read: {exc.strerror}; {missing}") from exc
    except yaml.YAMLError as exc:
        raise InputError(f"{what} {path} is not valid YAML: {str(exc)[:300]}; fix the syntax (indentation, quotes)") from exc
    if data is None and empty_ok:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"{what} {path} must hold a YAML mapping of fields ({fields}), not {type(data).__name__}")
    return data

"""What every ml config dataclass shares: its settings as JSON, for reports, manifests and saved models."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


class JsonConfig:
    """A mixin for frozen config dataclasses: `to_json()` is the fields as a dict (nested configs too)."""

    def to_json(self) -> dict[str, Any]:
        return asdict(cast("DataclassInstance", self))

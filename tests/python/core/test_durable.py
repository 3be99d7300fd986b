"""A durable replace: the content is the new one, no temporary file is left, and a write that
fails midway leaves the old content."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import durable
from core.durable import replace_durably


def test_the_new_content_replaces_the_old_and_nothing_is_left_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "store.json"
    replace_durably(path, '{"a": 1}')
    replace_durably(path, '{"a": 2}')
    assert path.read_text() == '{"a": 2}'
    assert sorted(p.name for p in path.parent.iterdir()) == ["store.json"]


def test_a_failed_write_keeps_the_old_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "store.json"
    replace_durably(path, "old")

    def no_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(durable.os, "fsync", no_disk)
    with pytest.raises(OSError, match="No space"):
        replace_durably(path, "new")
    assert path.read_text() == "old"

"""The `cli` fixture: the command line on one temporary data directory, its chain stopped afterwards
(whether or not the test started it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.python.cli.session import Cli


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    session = Cli(tmp_path)
    try:
        yield session
    finally:
        session.invoke("chain", "down")

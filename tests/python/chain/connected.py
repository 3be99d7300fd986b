"""A chain client on the session's anvil with its own data directory, for module-scoped fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from chain.anvil import Anvil
from chain.client import Chain, connect
from core.config import Settings


@contextmanager
def connected(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[tuple[Chain, Settings]]:
    """Connect (deploying on first use) with data and deployments under a fresh `name` directory; closed on exit."""
    tmp = tmp_path_factory.mktemp(name)
    settings = Settings(data_dir=tmp, deployments_dir=tmp / "deployments", rpc_url=anvil.url)
    chain = connect(settings)
    try:
        yield chain, settings
    finally:
        chain.close()

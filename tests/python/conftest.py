"""Fixtures shared by the Python tests: a real anvil node and the compiled contracts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from web3 import Web3

from chain.anvil import Anvil
from chain.compile import Artifact, compile_contracts
from chain.hardhat import Hardhat
from core.paths import REPO_ROOT


@pytest.fixture(scope="session")
def artifacts() -> dict[str, Artifact]:
    return compile_contracts(cache_dir=REPO_ROOT / "cache" / "artifacts")


@pytest.fixture(scope="session")
def anvil() -> Iterator[Anvil]:
    with Anvil() as node:
        yield node


@pytest.fixture(scope="session")
def w3(anvil: Anvil) -> Web3:
    return Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 30}))


@pytest.fixture()
def tmp_state(tmp_path: Path) -> Path:
    return tmp_path / "anvil-state.json"


@pytest.fixture(scope="session")
def hardhat() -> Iterator[Hardhat]:
    """Hardhat's node (npm `hardhat` 2.x from package.json), the second node the chain suite runs on."""
    with Hardhat() as node:
        yield node

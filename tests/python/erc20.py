"""A plain mintable ERC-20 (tests/sol/mocks/PlainERC20.sol) compiled with the project's solc-js and
deployed on a test's anvil: the token the wallet's ERC-20 payments are tried with."""

from __future__ import annotations

import functools
from typing import Any

import solcx
from web3 import Web3

from chain.compile import OZ_PREFIX
from core.paths import REPO_ROOT, SOLC_WRAPPER

SOURCE = REPO_ROOT / "tests" / "sol" / "mocks" / "PlainERC20.sol"


@functools.cache
def artifact() -> tuple[list[dict[str, Any]], str]:
    """(abi, bytecode) of PlainERC20."""
    out = solcx.compile_standard({
        "language": "Solidity", "sources": {"PlainERC20.sol": {"content": SOURCE.read_text()}},
        "settings": {"optimizer": {"enabled": True, "runs": 200}, "evmVersion": "cancun",
                     "remappings": [f"{OZ_PREFIX}=node_modules/{OZ_PREFIX}"],
                     "outputSelection": {"*": {"PlainERC20": ["abi", "evm.bytecode.object"]}}}},
        base_path=str(REPO_ROOT), allow_paths=[str(REPO_ROOT)], solc_binary=str(SOLC_WRAPPER))
    c = out["contracts"]["PlainERC20.sol"]["PlainERC20"]
    return c["abi"], "0x" + c["evm"]["bytecode"]["object"]


def deploy_token(w3: Web3, deployer: str, *, mint: dict[str, int]) -> str:
    """A new PlainERC20 (symbol MOCK, 18 decimals) sent from `deployer` (an unlocked account),
    with `mint` (address → units) minted; its address."""
    abi, bytecode = artifact()
    tx = w3.eth.contract(abi=abi, bytecode=bytecode).constructor().transact({"from": deployer})
    address = str(w3.eth.wait_for_transaction_receipt(tx)["contractAddress"])
    token = w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi)
    for holder, units in mint.items():
        w3.eth.wait_for_transaction_receipt(token.functions.mint(Web3.to_checksum_address(holder), units).transact({"from": deployer}))
    return address

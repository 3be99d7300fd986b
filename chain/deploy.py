"""Deploy the router and registry, bind them, and record the addresses per chain id."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.contract import Contract

from chain.compile import Artifact
from core.errors import ChainError

DEFAULT_ROYALTY_BPS = 500


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    router: str
    registry: str
    block: int

    def to_json(self) -> dict[str, Any]:
        return {"chainId": self.chain_id, "router": self.router, "registry": self.registry, "block": self.block}


def deploy(
    w3: Web3, artifacts: dict[str, Artifact], *, sender: str, royalty_bps: int = DEFAULT_ROYALTY_BPS
) -> Deployment:
    """Deploy RoyaltyRouter and HeritageRegistry from `sender` (an unlocked account) and bind them."""

    def create(name: str, *args: Any) -> tuple[str, int]:
        art = artifacts[name]
        factory = w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
        tx = factory.constructor(*args).transact({"from": sender})
        receipt = w3.eth.wait_for_transaction_receipt(tx, timeout=60)
        if receipt["status"] != 1 or receipt["contractAddress"] is None:
            raise ChainError(f"deploying {name} failed in transaction {tx.hex()}")
        return str(receipt["contractAddress"]), int(receipt["blockNumber"])

    router_address, block = create("RoyaltyRouter")
    registry_address, _ = create("HeritageRegistry", router_address, royalty_bps)
    router = contract(w3, artifacts["RoyaltyRouter"], router_address)
    receipt = w3.eth.wait_for_transaction_receipt(
        router.functions.bindRegistry(registry_address).transact({"from": sender}), timeout=60
    )
    if receipt["status"] != 1:
        raise ChainError("binding the router to the registry failed")
    return Deployment(chain_id=w3.eth.chain_id, router=router_address, registry=registry_address, block=block)


def contract(w3: Web3, artifact: Artifact, address: str) -> Contract:
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=artifact.abi)


def record(deployment: Deployment, directory: Path) -> Path:
    """Write `deployments/<chainId>.json` atomically."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{deployment.chain_id}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(deployment.to_json(), indent=2) + "\n")
    tmp.replace(path)
    return path

"""Deploy the router and registry, bind them, and record the addresses per chain id."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.contract import Contract

from chain.compile import Artifact
from chain.sender import Sender
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
    w3: Web3,
    artifacts: dict[str, Artifact],
    *,
    sender: str | None = None,
    signer: Sender | None = None,
    royalty_bps: int = DEFAULT_ROYALTY_BPS,
) -> Deployment:
    """Deploy RoyaltyRouter and HeritageRegistry and bind them: from `sender` (an unlocked
    account), or with transactions signed locally by `signer` (a node with no unlocked accounts)."""
    if (sender is None) == (signer is None):
        raise ValueError("deploy from exactly one of `sender` (unlocked) or `signer` (local key)")

    def send(tx: dict[str, Any]) -> dict[str, Any]:
        """Send a transaction (`to` absent: a contract creation) and return its receipt."""
        if signer is not None:
            gas = int(w3.eth.estimate_gas({"from": signer.account.address, **tx}) * 1.2)  # type: ignore[typeddict-item]
            receipt = signer.transact_many(tx.get("to"), [tx["data"]], gas=gas)[0]
            return {"status": int(receipt["status"], 16), "contractAddress": receipt["contractAddress"],
                    "blockNumber": int(receipt["blockNumber"], 16), "transactionHash": receipt["transactionHash"]}
        tx_hash = w3.eth.send_transaction({"from": sender, **tx})  # type: ignore[typeddict-item]
        return dict(w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60))

    def create(name: str, *args: Any) -> tuple[str, int]:
        art = artifacts[name]
        data = w3.eth.contract(abi=art.abi, bytecode=art.bytecode).constructor(*args).data_in_transaction
        receipt = send({"data": data})
        if receipt["status"] != 1 or receipt["contractAddress"] is None:
            raise ChainError(f"deploying {name} failed in transaction {receipt['transactionHash']!r}")
        return Web3.to_checksum_address(receipt["contractAddress"]), int(receipt["blockNumber"])

    router_address, block = create("RoyaltyRouter")
    registry_address, _ = create("HeritageRegistry", router_address, royalty_bps)
    bind = contract(w3, artifacts["RoyaltyRouter"], router_address).functions.bindRegistry(registry_address)
    if send({"to": router_address, "data": bind._encode_transaction_data()})["status"] != 1:
        raise ChainError("binding the router to the registry failed")
    return Deployment(chain_id=int(w3.eth.chain_id), router=router_address, registry=registry_address, block=block)


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

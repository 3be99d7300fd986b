"""Deploy contracts v2 in the documented order (contracts/README.md, tests/sol/utils/Fixture.sol):
router, protocol rules, governance, registry, router.bindRegistry, committee arbitrator, disputes,
router.bindDisputes, study attestations, usage statements, training sets (each new contract last, so
that every earlier address stays as it was); and record the addresses per chain id."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.contract import Contract

from chain.compile import Artifact
from chain.sender import Sender
from core.errors import ChainError

DEFAULT_ROYALTY_BPS = 500
DEFAULT_SUSPENSE_WINDOW_S = 90 * 86_400
"""How long unmatched usage waits in a statement's suspense for its work (UsageStatements)."""


V2_FIELDS = ("governance", "rules", "disputes", "arbitrator")
"""Addresses a v2 deployment records; a deployments/<chainId>.json without them is of contracts v1."""


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    router: str
    registry: str
    block: int
    attestations: str | None = None
    """StudyAttestations; None in a deployment recorded before it existed (`Chain.attestations`
    deploys it on first use)."""
    governance: str = ""
    """HeritageGovernance: the registry delegates its governance functions to it (call them at
    the registry's address)."""
    rules: str = ""
    disputes: str = ""
    arbitrator: str = ""
    statements: str | None = None
    """UsageStatements; None in a deployment recorded before it existed (chain/statements.py
    deploys it on first use)."""
    training_sets: str = ""
    """TrainingSets; "" in a deployment recorded before it existed (`chain.trainingsets` deploys it)."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"chainId": self.chain_id, "router": self.router, "registry": self.registry, "block": self.block,
                               "governance": self.governance, "rules": self.rules, "disputes": self.disputes,
                               "arbitrator": self.arbitrator}
        if self.attestations is not None:
            out["attestations"] = self.attestations
        if self.statements is not None:
            out["statements"] = self.statements
        if self.training_sets:
            out["trainingSets"] = self.training_sets
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Deployment:
        """From deployments/<chainId>.json; ValueError for a v1 file (without the v2 addresses)."""
        missing = [k for k in V2_FIELDS if not data.get(k)]
        if missing:
            raise ValueError(f"it records contracts v1 (no {', '.join(missing)})")
        return cls(chain_id=int(data["chainId"]), router=data["router"], registry=data["registry"], block=int(data["block"]),
                   attestations=data.get("attestations"), statements=data.get("statements"),
                   training_sets=str(data.get("trainingSets", "")), **{k: str(data[k]) for k in V2_FIELDS})


def deploy(
    w3: Web3,
    artifacts: dict[str, Artifact],
    *,
    sender: str | None = None,
    signer: Sender | None = None,
    royalty_bps: int = DEFAULT_ROYALTY_BPS,
    arbitrators: Sequence[str],
    suspense_window_s: int = DEFAULT_SUSPENSE_WINDOW_S,
) -> Deployment:
    """Deploy contracts v2 in order: RoyaltyRouter, ProtocolRules, HeritageGovernance(router, rules,
    bps), HeritageRegistry(router, rules, governance, bps), router.bindRegistry, CommitteeArbitrator
    (`arbitrators`, 1-16 distinct members), HeritageDisputes(registry, router, arbitrator),
    router.bindDisputes, StudyAttestations(registry), UsageStatements(router, registry,
    `suspense_window_s`), TrainingSets(registry); from `sender` (an unlocked account), or with
    transactions signed locally by `signer` (a node with no unlocked accounts)."""
    if not 1 <= len(set(a.lower() for a in arbitrators)) == len(arbitrators) <= 16:
        raise ChainError(f"the dispute committee needs 1-16 distinct members, not {list(arbitrators)}: set "
                         "HERITAGE_ARBITRATORS to their comma-separated addresses")
    send = _sender(w3, sender, signer)
    router_address, block = _create(w3, send, artifacts["RoyaltyRouter"])
    rules, _ = _create(w3, send, artifacts["ProtocolRules"])
    governance, _ = _create(w3, send, artifacts["HeritageGovernance"], router_address, rules, royalty_bps)
    registry_address, _ = _create(w3, send, artifacts["HeritageRegistry"], router_address, rules, governance, royalty_bps)
    router = contract(w3, artifacts["RoyaltyRouter"], router_address)
    _call(send, router_address, router.functions.bindRegistry(registry_address), "binding the router to the registry")
    arbitrator, _ = _create(w3, send, artifacts["CommitteeArbitrator"], [Web3.to_checksum_address(a) for a in arbitrators])
    disputes, _ = _create(w3, send, artifacts["HeritageDisputes"], registry_address, router_address, arbitrator)
    _call(send, router_address, router.functions.bindDisputes(disputes), "binding the router to the disputes contract")
    attestations, _ = _create(w3, send, artifacts["StudyAttestations"], registry_address)
    statements, _ = _create(w3, send, artifacts["UsageStatements"], router_address, registry_address, suspense_window_s)
    training_sets, _ = _create(w3, send, artifacts["TrainingSets"], registry_address)
    return Deployment(chain_id=int(w3.eth.chain_id), router=router_address, registry=registry_address, block=block,
                      attestations=attestations, governance=governance, rules=rules, disputes=disputes,
                      arbitrator=arbitrator, statements=statements, training_sets=training_sets)


def _call(send: Send, to: str, fn: Any, what: str) -> None:
    if send({"to": to, "data": fn._encode_transaction_data()})["status"] != 1:
        raise ChainError(f"{what} failed")


def deploy_attestations(w3: Web3, artifacts: dict[str, Artifact], registry: str, *, sender: str | None = None,
                        signer: Sender | None = None) -> str:
    """Deploy StudyAttestations over an existing `registry`; its address."""
    return _create(w3, _sender(w3, sender, signer), artifacts["StudyAttestations"], Web3.to_checksum_address(registry))[0]


def deploy_statements(w3: Web3, artifacts: dict[str, Artifact], router: str, registry: str, *, sender: str | None = None,
                      signer: Sender | None = None, suspense_window_s: int = DEFAULT_SUSPENSE_WINDOW_S) -> str:
    """Deploy UsageStatements over an existing `router` and `registry`; its address."""
    return _create(w3, _sender(w3, sender, signer), artifacts["UsageStatements"], Web3.to_checksum_address(router),
                   Web3.to_checksum_address(registry), suspense_window_s)[0]


def deploy_training_sets(w3: Web3, artifacts: dict[str, Artifact], registry: str, *, sender: str | None = None,
                         signer: Sender | None = None) -> str:
    """Deploy TrainingSets over an existing `registry`; its address."""
    return _create(w3, _sender(w3, sender, signer), artifacts["TrainingSets"], Web3.to_checksum_address(registry))[0]


Send = Callable[[dict[str, Any]], dict[str, Any]]


def _sender(w3: Web3, sender: str | None, signer: Sender | None) -> Send:
    """A function that sends a transaction (`to` absent: a contract creation) and returns its receipt."""
    if (sender is None) == (signer is None):
        raise ValueError("deploy from exactly one of `sender` (unlocked) or `signer` (local key)")

    def send(tx: dict[str, Any]) -> dict[str, Any]:
        if signer is not None:
            gas = int(w3.eth.estimate_gas({"from": signer.account.address, **tx}) * 1.2)  # type: ignore[typeddict-item]
            receipt = signer.transact_many(tx.get("to"), [tx["data"]], gas=gas)[0]
            return {"status": int(receipt["status"], 16), "contractAddress": receipt["contractAddress"],
                    "blockNumber": int(receipt["blockNumber"], 16), "transactionHash": receipt["transactionHash"]}
        tx_hash = w3.eth.send_transaction({"from": sender, **tx})  # type: ignore[typeddict-item]
        return dict(w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60))

    return send


def _create(w3: Web3, send: Send, art: Artifact, *args: Any) -> tuple[str, int]:
    """Create `art` with constructor `args`: its address and the block."""
    data = w3.eth.contract(abi=art.abi, bytecode=art.bytecode).constructor(*args).data_in_transaction
    receipt = send({"data": data})
    if receipt["status"] != 1 or receipt["contractAddress"] is None:
        raise ChainError(f"deploying {art.name} failed in transaction {receipt['transactionHash']!r}")
    return Web3.to_checksum_address(receipt["contractAddress"]), int(receipt["blockNumber"])


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

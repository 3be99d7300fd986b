"""Helpers for tests that drive contracts v2 through raw web3 calls: deploy with the dev committee,
commit before a registration, and the v2 tuples (Protocol with season, params with salt)."""

from __future__ import annotations

from typing import Any

from web3 import Web3

from chain.anvil import ARBITRATOR_ACCOUNTS
from chain.compile import Artifact
from chain.deploy import Deployment, deploy
from chain.types import registration_commitment


def deploy_dev(w3: Web3, artifacts: dict[str, Artifact]) -> Deployment:
    """Deploy v2 from account 0 with the development committee (accounts 10-12)."""
    accounts = w3.eth.accounts
    return deploy(w3, artifacts, sender=accounts[0], arbitrators=[accounts[i] for i in ARBITRATOR_ACCOUNTS])


def salt_of(cid: bytes) -> bytes:
    return Web3.keccak(b"salt" + cid)


def commit(w3: Web3, registry: Any, registrant: str, cid: bytes) -> bytes:
    """Commit `registrant` to `cid` with `salt_of(cid)` (mined before this returns); the salt."""
    salt = salt_of(cid)
    fn = registry.functions.commitRegistration(registration_commitment(registrant, cid, salt))
    assert w3.eth.wait_for_transaction_receipt(fn.transact({"from": registrant}))["status"] == 1
    return salt


def protocol(floor_ppm: int = 100_000, consent: bool = False) -> tuple[Any, ...]:
    return (True, consent, True, True, True, False, floor_ppm, 0, 1, 0)

GAS = 5_000_000
"""An explicit gas limit for raw `transact`: web3 estimates at the latest block, where a
registration whose commitment was just mined is still `RegistryCommitmentTooNew`."""

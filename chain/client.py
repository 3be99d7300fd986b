"""A connection to the chain with the deployed contracts: the embedded anvil by default."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlparse

import requests
from eth_account import Account
from web3 import HTTPProvider, Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.types import RPCEndpoint

from chain.anvil import Anvil
from chain.compile import Artifact, compile_contracts
from chain.deploy import Deployment, contract, deploy, deploy_attestations, record
from chain.errors import ErrorDecoder
from chain.indexer import Index
from chain.sender import Sender
from core.config import Settings
from core.errors import ChainError


class NodeProvider(HTTPProvider):
    """web3's HTTP provider; a node that stops answering becomes a ChainError that says what to do
    instead of a requests traceback.

    Two costs are cut, measured on the API's relay path (23 RPCs a registration): the chain id,
    which web3 asks for before every transaction and call it validates (10 times a registration),
    is asked once; and for a node on this machine, requests does not read the proxy environment
    on every call (1.3 ms each)."""

    def __init__(self, url: str, **kwargs: Any) -> None:
        session = requests.Session()
        if urlparse(url).hostname in ("127.0.0.1", "localhost", "::1"):
            session.trust_env = False
        super().__init__(url, session=session, cache_allowed_requests=True,
                         cacheable_requests={RPCEndpoint("eth_chainId"), RPCEndpoint("net_version")}, **kwargs)

    def _make_request(self, method: RPCEndpoint, request_data: bytes) -> bytes:
        try:
            return super()._make_request(method, request_data)
        except requests.RequestException as exc:
            raise ChainError(
                f"the EVM node at {self.endpoint_uri} stopped answering ({method}: {type(exc).__name__}): start it again "
                "(`heritage chain up`, or your own node) and rerun the command; what finished is kept "
                "and nothing is registered twice"
            ) from exc


@dataclass
class Chain:
    w3: Web3
    registry: Contract
    router: Contract
    deployment: Deployment
    settings: Settings
    decoder: ErrorDecoder
    anvil: Anvil | None = None
    gas_used: list[int] = field(default_factory=list)
    signer: Sender | None = None
    artifacts: dict[str, Artifact] = field(default_factory=dict, repr=False)
    _attestations: Contract | None = field(default=None, repr=False)
    _attestations_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def accounts(self) -> list[str]:
        """Who may send: the signing key's address, or the node's unlocked accounts."""
        if self.signer is not None:
            return [self.signer.account.address]
        return [str(a) for a in self.w3.eth.accounts]

    def send(self, fn: Any, sender: str, *, value: int = 0) -> Any:
        """Send a transaction from an unlocked account and wait for its receipt; a revert
        raises the contract's named error."""
        if self.signer is not None and sender.lower() != self.signer.account.address.lower():
            raise ChainError(f"{sender} cannot sign here: HERITAGE_PRIVATE_KEY is the key of {self.signer.account.address}")
        try:
            fn.call({"from": sender, "value": value})
            if self.signer is not None:
                return self._send_signed(fn, value)
            tx = fn.transact({"from": sender, "value": value})
        except ContractCustomError as exc:
            raise self.decoder.from_exception(exc) or ChainError(f"transaction reverted: {exc}") from exc
        except ContractLogicError as exc:
            raise ChainError(f"transaction reverted: {exc}") from exc
        receipt = self.w3.eth.wait_for_transaction_receipt(tx, timeout=self.settings.tx_timeout_s)
        if receipt["status"] != 1:
            raise ChainError(f"transaction {tx.hex()} failed on chain")
        self.gas_used.append(int(receipt["gasUsed"]))
        return receipt

    def _send_signed(self, fn: Any, value: int) -> Any:
        assert self.signer is not None
        gas = int(fn.estimate_gas({"from": self.signer.account.address, "value": value}) * 1.2)
        receipt = self.signer.transact_many(fn.address, [fn._encode_transaction_data()], gas=gas, value=value)[0]
        self.gas_used.append(int(receipt["gasUsed"], 16))
        return receipt

    @property
    def attestations(self) -> Contract:
        """The StudyAttestations contract of this deployment. A deployment recorded before the
        contract existed gets it here, on first use (not at connect, so that reads never need an
        account that can send): deployed over the same registry, its address added to
        deployments/<chainId>.json."""
        with self._attestations_lock:
            if self._attestations is None:
                self._attestations = self._bind_attestations()
            return self._attestations

    def _bind_attestations(self) -> Contract:
        art = self.artifacts["StudyAttestations"]
        path = self.settings.deployments_dir / f"{self.deployment.chain_id}.json"
        address = self.deployment.attestations
        if address is None and path.exists():  # another process may have deployed it since we connected
            address = json.loads(path.read_text()).get("attestations")
        if address is not None and len(self.w3.eth.get_code(Web3.to_checksum_address(address))) > 0:
            found = contract(self.w3, art, address)
            serves = str(found.functions.registry().call())
            if serves.lower() != self.deployment.registry.lower():
                raise ChainError(f"the StudyAttestations at {address} named in {path} reads registry {serves}, not this "
                                 f"deployment's {self.deployment.registry}: remove its \"attestations\" entry from {path} "
                                 "and run this again to deploy one for this registry")
            self.deployment = replace(self.deployment, attestations=found.address)
            return found
        if self.signer is not None:
            address = deploy_attestations(self.w3, self.artifacts, self.deployment.registry, signer=self.signer)
        elif accounts := self.accounts():
            address = deploy_attestations(self.w3, self.artifacts, self.deployment.registry, sender=accounts[0])
        else:
            raise ChainError(f"this deployment ({path}) has no StudyAttestations contract yet and the node has no "
                             "unlocked account to deploy it: set HERITAGE_PRIVATE_KEY to a funded key and run this again")
        self.deployment = replace(self.deployment, attestations=address)
        record(self.deployment, self.settings.deployments_dir)
        return contract(self.w3, art, address)

    def index(self) -> Index:
        """The event index of this deployment under the data directory, brought up to the head
        less the confirmation depth. Reads (lists, lineage, payments) come from here."""
        name = f"index-{self.deployment.chain_id}-{self.deployment.registry[2:10].lower()}.sqlite"
        idx = Index(self.settings.data_dir / name)
        self.sync(idx)
        return idx

    def sync(self, idx: Index) -> int:
        """Bring `idx` up to the head less the confirmation depth; the number of new events."""
        return idx.sync(self.w3, {"HeritageRegistry": self.registry, "RoyaltyRouter": self.router},
                        start=self.deployment.block, confirmations=self.settings.confirmations)

    def close(self) -> None:
        if self.anvil is not None:
            self.anvil.stop()
            self.anvil = None


def connect(settings: Settings) -> Chain:
    """Connect to `settings.rpc_url`, or start the embedded anvil with its state on disk; deploy
    the contracts unless `deployments/<chainId>.json` names live ones."""
    from chain.node import running_url

    anvil = None
    url = settings.rpc_url or running_url(settings)
    if url is None:
        anvil = Anvil(state_file=settings.anvil_state, log_file=settings.data_dir / "anvil.log").start()
        url = anvil.url
    w3 = Web3(NodeProvider(url, request_kwargs={"timeout": settings.tx_timeout_s}))
    try:
        connected = w3.is_connected()
    except ChainError:
        connected = False
    if not connected:
        raise ChainError(f"no EVM node answers at {url}: start it or unset HERITAGE_RPC_URL to use the embedded one")
    artifacts = compile_contracts(cache_dir=settings.artifacts_dir)
    signer = None
    if settings.private_key is not None:
        account = Account.from_key(settings.private_key.get_secret_value())
        signer = Sender(w3, url, account, timeout_s=settings.tx_timeout_s, confirmations=settings.confirmations)
    deployment = _existing(w3, settings) or _deploy(w3, artifacts, settings, signer)
    registry = contract(w3, artifacts["HeritageRegistry"], deployment.registry)
    router = contract(w3, artifacts["RoyaltyRouter"], deployment.router)
    decoder = ErrorDecoder(artifacts["HeritageRegistry"].abi, artifacts["RoyaltyRouter"].abi, artifacts["StudyAttestations"].abi)
    return Chain(w3, registry, router, deployment, settings, decoder, anvil, signer=signer, artifacts=artifacts)


def _existing(w3: Web3, settings: Settings) -> Deployment | None:
    path = settings.deployments_dir / f"{w3.eth.chain_id}.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    if len(w3.eth.get_code(Web3.to_checksum_address(data["registry"]))) == 0:
        return None  # a fresh node with the same chain id: deploy again
    return Deployment(chain_id=data["chainId"], router=data["router"], registry=data["registry"], block=data["block"],
                      attestations=data.get("attestations"))


def _deploy(w3: Web3, artifacts: dict[str, Artifact], settings: Settings, signer: Sender | None) -> Deployment:
    if signer is not None:
        deployment = deploy(w3, artifacts, signer=signer)
    else:
        deployment = deploy(w3, artifacts, sender=w3.eth.accounts[0])
    record(deployment, settings.deployments_dir)
    return deployment

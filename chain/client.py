"""A connection to the chain with the deployed contracts: the embedded anvil by default."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlparse

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import HTTPProvider, Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.types import RPCEndpoint

from chain.abi import signature
from chain.anvil import Anvil
from chain.compile import Artifact, compile_contracts
from chain.deploy import Deployment, contract, deploy, deploy_attestations, record
from chain.errors import ErrorDecoder
from chain.indexer import Index
from chain.journal import Journal, Replay
from chain.nodelock import NodeLock
from chain.sender import Sender, dev_account
from core.config import Settings
from core.errors import ChainError, NodeUnavailable


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
            raise NodeUnavailable(
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
    _disputes: Contract | None = field(default=None, repr=False)
    _arbitrator: Contract | None = field(default=None, repr=False)
    _attestations_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _dev_index: dict[str, int] | None = field(default=None, repr=False)
    """The node's development accounts by lower-case address, read once (they never change)."""
    _local_senders: dict[str, Sender] = field(default_factory=dict, repr=False)
    """`local_sender`'s senders by lower-case address (each keeps its connection)."""
    _senders_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    journal: Journal | None = None
    """Every transaction sent or relayed, journalled before it is sent (chain/journal.py)."""
    dev_keys: bool = False
    """Sign locally with anvil's public development keys (chain 31337 without a key of its own),
    so that every transaction has signed bytes to journal."""
    node_lock: NodeLock | None = field(default=None, repr=False)
    replayed: Replay | None = None
    """What the journal's replay did when this process started the embedded node."""

    def accounts(self) -> list[str]:
        """Who may send: the signing key's address, or the node's unlocked accounts."""
        if self.signer is not None:
            return [self.signer.account.address]
        return [str(a) for a in self.w3.eth.accounts]

    def send(self, fn: Any, sender: str, *, value: int = 0) -> Any:
        """Send a transaction from `sender` and wait for its receipt; a revert raises the
        contract's named error. Signed locally and journalled (HERITAGE_PRIVATE_KEY, or anvil's
        development keys on chain 31337), else by the node's unlocked account."""
        if self.signer is not None and sender.lower() != self.signer.account.address.lower():
            raise ChainError(f"{sender} cannot sign here: HERITAGE_PRIVATE_KEY is the key of {self.signer.account.address}")
        try:
            # Checked and estimated against the block it will land in ("pending"): a registration
            # whose commitment was mined in the latest block is valid there, not at "latest".
            fn.call({"from": sender, "value": value}, block_identifier="pending")
            if self.signer is not None:
                return self._send_signed(fn, value)
            if self.dev_keys and self.journal is not None:
                return self._send_journalled(fn, sender, value)
            gas = int(fn.estimate_gas({"from": sender, "value": value}, block_identifier="pending") * 1.2) + 20_000
            tx = fn.transact({"from": sender, "value": value, "gas": gas})
        except (ContractCustomError, ContractLogicError) as exc:
            # anvil's refusal arrives as ContractCustomError; Hardhat's node words the same revert
            # ("reverted with an unrecognized custom error") so web3 raises ContractLogicError, with
            # the same revert data: both are decoded to the contract's named error.
            raise self.decoder.from_exception(exc) or ChainError(f"transaction reverted: {exc}") from exc
        receipt = self.w3.eth.wait_for_transaction_receipt(tx, timeout=self.settings.tx_timeout_s)
        if receipt["status"] != 1:
            raise ChainError(f"transaction {tx.hex()} failed on chain")
        self.gas_used.append(int(receipt["gasUsed"]))
        return receipt

    def dev_key(self, sender: str) -> LocalAccount:
        """The development key of `sender`, one of the embedded node's accounts (`dev_keys`)."""
        if self._dev_index is None:  # one eth_accounts for the connection, not one per send
            self._dev_index = {a.lower(): i for i, a in enumerate(self.accounts())}
        index = self._dev_index.get(sender.lower())
        if index is None:
            raise ChainError(f"{sender} is not one of this node's development accounts: only they sign here")
        return dev_account(index)

    def local_sender(self, sender: str) -> Sender | None:
        """A `Sender` that signs here for `sender` (the signing key's, or a development account's,
        journalled), kept for the connection; None when the node's unlocked accounts sign."""
        if self.signer is not None:
            if self.signer.account.address.lower() != sender.lower():
                raise ChainError(f"{sender} cannot sign here: HERITAGE_PRIVATE_KEY is the key of {self.signer.account.address}")
            return self.signer
        if not (self.dev_keys and self.journal is not None):
            return None
        with self._senders_lock:
            if sender.lower() not in self._local_senders:
                s = self.settings
                self._local_senders[sender.lower()] = Sender(
                    self.w3, str(getattr(self.w3.provider, "endpoint_uri", "")), self.dev_key(sender), timeout_s=s.tx_timeout_s,
                    confirmations=s.confirmations, journal=self.journal, window=s.tx_window, stuck_s=s.tx_stuck_s)
            return self._local_senders[sender.lower()]

    def _send_journalled(self, fn: Any, sender: str, value: int) -> Any:
        assert self.journal is not None
        account = self.dev_key(sender)
        gas = int(fn.estimate_gas({"from": sender, "value": value}, block_identifier="pending") * 1.2) + 20_000
        receipt = self.journal.transact(self.w3, account, fn.address, fn._encode_transaction_data(), gas=gas, value=value,
                                        timeout=self.settings.tx_timeout_s)
        if receipt["status"] != 1:
            raise ChainError(f"transaction {HexBytes(receipt['transactionHash']).to_0x_hex()} failed on chain")
        self.gas_used.append(int(receipt["gasUsed"]))
        return receipt

    def relay(self, raw: bytes) -> Any:
        """Relay a user's signed transaction, journalled; its receipt (chain/journal.py: relay)."""
        from chain.journal import relay

        assert self.journal is not None
        return relay(self.journal, self.w3, raw, timeout=self.settings.tx_timeout_s, window=self.settings.tx_window)

    def _send_signed(self, fn: Any, value: int) -> Any:
        assert self.signer is not None
        gas = int(fn.estimate_gas({"from": self.signer.account.address, "value": value}, block_identifier="pending") * 1.2)
        receipt = self.signer.transact_many(fn.address, [fn._encode_transaction_data()], gas=gas, value=value)[0]
        self.gas_used.append(int(receipt["gasUsed"], 16))
        return receipt

    @property
    def disputes(self) -> Contract:
        """HeritageDisputes: claims with a bond, the arbitrator's ruling, escrow holds, withdrawals."""
        return _v2(self._disputes, "disputes")

    @property
    def arbitrator(self) -> Contract:
        """CommitteeArbitrator: the committee whose majority rules on claims."""
        return _v2(self._arbitrator, "arbitrator")

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
        elif self.dev_keys and self.journal is not None:  # signed here and journalled, like every other send
            with self.journal.locked():  # the nonce read and the send must not interleave with another sender's
                deployer = Sender(self.w3, str(getattr(self.w3.provider, "endpoint_uri", "")), dev_account(0),
                                  timeout_s=self.settings.tx_timeout_s, journal=self.journal)
                address = deploy_attestations(self.w3, self.artifacts, self.deployment.registry, signer=deployer)
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
        key = f"{self.deployment.chain_id}-{self.deployment.registry[2:10].lower()}"
        idx = Index(self.settings.index_url or self.settings.data_dir / f"index-{key}.sqlite",
                    deployment=f"{self.deployment.chain_id}:{self.deployment.registry.lower()}")
        self.sync(idx)
        return idx

    def sync(self, idx: Index, *, wait: bool = True) -> int:
        """Bring `idx` up to the head less the confirmation depth; the number of new events
        (`wait=False`: 0 at once when another process is indexing)."""
        return idx.sync(self.w3, {"HeritageRegistry": self.registry, "RoyaltyRouter": self.router,
                                  "HeritageDisputes": self.disputes},
                        start=self.deployment.block, confirmations=self.settings.confirmations, wait=wait)

    def close(self) -> None:
        if self.anvil is not None:
            self.anvil.stop()
            self.anvil = None
        if self.node_lock is not None:
            self.node_lock.release()
            self.node_lock = None


def _v2(bound: Contract | None, name: str) -> Contract:
    """A contract only v2 deployments have, or a ChainError that says to reconnect."""
    if bound is None:
        raise ChainError(f"this connection has no {name} contract: reconnect (`connect`) to a v2 deployment")
    return bound


def connect(settings: Settings) -> Chain:
    """Connect to `settings.rpc_url`, or to the embedded anvil of the data directory: started
    here with its state on disk (and the journal replayed onto it) when no other process runs it,
    attached to when one does (chain/nodelock.py). Deploy the contracts unless
    `deployments/<chainId>.json` names live ones."""
    anvil, lock, url = _node(settings)
    w3 = Web3(NodeProvider(url, request_kwargs={"timeout": settings.tx_timeout_s}))
    try:
        connected = w3.is_connected()
    except ChainError:
        connected = False
    if not connected:
        if anvil is not None:
            anvil.stop()
        if lock is not None:
            lock.release()
        raise NodeUnavailable(f"no EVM node answers at {url}: start it or unset HERITAGE_RPC_URL to use the embedded one")
    chain_id = int(w3.eth.chain_id)
    journal = Journal.for_chain(settings.data_dir, chain_id)
    replayed = None
    if lock is not None:  # this process owns the embedded node: bring it back to the journal's last write
        replayed = journal.replay(w3, timeout=settings.tx_timeout_s)
    elif settings.rpc_url:  # an external node keeps what it mined: the journal keeps only what may need a resend
        journal.compact(w3, depth=max(64, settings.confirmations))
    artifacts = compile_contracts(cache_dir=settings.artifacts_dir)
    signer = None
    if settings.private_key is not None:
        account = Account.from_key(settings.private_key.get_secret_value())
        signer = Sender(w3, url, account, timeout_s=settings.tx_timeout_s, confirmations=settings.confirmations,
                        journal=journal, window=settings.tx_window, stuck_s=settings.tx_stuck_s)
    dev_keys = signer is None and chain_id == ANVIL_CHAIN_ID
    deployer = signer or (Sender(w3, url, dev_account(0), timeout_s=settings.tx_timeout_s, journal=journal)
                          if dev_keys else None)
    with journal.locked():
        deployment = _existing(w3, settings) or _deploy(w3, artifacts, settings, deployer)
    registry = w3.eth.contract(address=Web3.to_checksum_address(deployment.registry), abi=registry_abi(artifacts))
    router = contract(w3, artifacts["RoyaltyRouter"], deployment.router)
    decoder = ErrorDecoder(*(art.abi for art in artifacts.values()))
    return Chain(w3, registry, router, deployment, settings, decoder, anvil, signer=signer, artifacts=artifacts,
                 journal=journal, dev_keys=dev_keys, node_lock=lock, replayed=replayed,
                 _disputes=contract(w3, artifacts["HeritageDisputes"], deployment.disputes),
                 _arbitrator=contract(w3, artifacts["CommitteeArbitrator"], deployment.arbitrator))


ANVIL_CHAIN_ID = 31337


def _node(settings: Settings) -> tuple[Anvil | None, NodeLock | None, str]:
    """(the anvil started here, this process's lock on the data directory, the node's URL)."""
    if settings.rpc_url:
        return None, None, settings.rpc_url
    lock = NodeLock(settings.data_dir)
    if not lock.acquire():
        return None, None, lock.attach()
    assert lock.fd is not None
    try:
        anvil = Anvil(state_file=settings.anvil_state, state_interval=settings.anvil_state_interval_s,
                      block_time_s=settings.anvil_block_time_s, log_file=settings.data_dir / "anvil.log",
                      keep_fds=(lock.fd,)).start()
    except BaseException:
        lock.release()
        raise
    lock.record(anvil.url, anvil.pid or 0)
    return anvil, lock, anvil.url


def registry_abi(artifacts: dict[str, Artifact]) -> list[dict[str, Any]]:
    """HeritageRegistry's ABI with HeritageGovernance's functions, events and errors added: the
    registry delegates its governance functions to HeritageGovernance (fallback → delegatecall),
    so they are called, and their events emitted, at the registry's address."""
    def key(item: dict[str, Any]) -> tuple[str, str]:
        return str(item.get("type")), signature(item) if "name" in item else ""

    abi = list(artifacts["HeritageRegistry"].abi)
    seen = {key(i) for i in abi}
    for item in artifacts["HeritageGovernance"].abi:
        if item.get("type") not in ("constructor", "fallback", "receive") and key(item) not in seen:
            seen.add(key(item))
            abi.append(item)
    return abi


def _existing(w3: Web3, settings: Settings) -> Deployment | None:
    path = settings.deployments_dir / f"{w3.eth.chain_id}.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    if len(w3.eth.get_code(Web3.to_checksum_address(data["registry"]))) == 0:
        return None  # a fresh node with the same chain id: deploy again
    try:
        return Deployment.from_json(data)
    except ValueError as exc:
        if settings.rpc_url is not None and not settings.api_demo and int(w3.eth.chain_id) != 31337:
            raise ChainError(f"{path} names a deployment this version cannot use: {exc}. Move it aside to deploy "
                             "contracts v2 on this chain (its works stay on the old contracts), or point "
                             "HERITAGE_DEPLOYMENTS_DIR at a v2 deployment") from exc
        return None  # a development chain: deploy v2 next to the old contracts (a fresh catalogue)


def arbitrators(w3: Web3, settings: Settings) -> tuple[str, ...]:
    """The dispute committee: HERITAGE_ARBITRATORS, or on a development node the accounts
    chain.anvil.ARBITRATOR_ACCOUNTS (never a steward, creator or payer of the demo)."""
    from chain.anvil import ARBITRATOR_ACCOUNTS

    if settings.arbitrator_addresses:
        return settings.arbitrator_addresses
    accounts = list(w3.eth.accounts)
    if int(w3.eth.chain_id) == 31337 and len(accounts) > max(ARBITRATOR_ACCOUNTS):
        return tuple(str(accounts[i]) for i in ARBITRATOR_ACCOUNTS)
    raise ChainError("deploying needs the dispute committee: set HERITAGE_ARBITRATORS to 1-16 comma-separated addresses "
                     "of people who are not stewards of a community")


def _deploy(w3: Web3, artifacts: dict[str, Artifact], settings: Settings, signer: Sender | None) -> Deployment:
    members = arbitrators(w3, settings)
    if signer is not None:
        deployment = deploy(w3, artifacts, signer=signer, arbitrators=members)
    else:
        deployment = deploy(w3, artifacts, sender=w3.eth.accounts[0], arbitrators=members)
    record(deployment, settings.deployments_dir)
    return deployment

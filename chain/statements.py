"""The UsageStatements contract, typed: anchor a statement's Merkle root, settle batches through the
router, hold, release and refund suspense, and read back what credited each work.

Every payment a statement makes goes through the router's own `pay`/`payBatch`, so the router's
`Paid` log names the work, the statements contract as payer, the statement root as usage reference
and the period end as usage time: `settlement_logs(chain, root)` finds them all. The domain side
(parsing the usage file, the Merkle tree, batching, community statements) is economy/statements/.

A deployment recorded before the contract existed gets it on first use (`contract`), as
`Chain.attestations` does for StudyAttestations.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import Web3RPCError

from chain.abi import EventDecoder
from chain.client import Chain
from chain.deploy import DEFAULT_SUSPENSE_WINDOW_S, deploy_statements, record
from chain.deploy import contract as bind
from chain.journal import refusal_of
from chain.sender import Sender, dev_account
from core.errors import ChainError
from core.types import Wei, WorkId

MAX_BATCH = 256
"""Most works (or identifiers) one settle/hold transaction carries (the contract's MAX_BATCH)."""
_LOCK = threading.Lock()
_BOUND: dict[tuple[int, str], Contract] = {}


@dataclass(frozen=True)
class StatementView:
    """A statement as the contract stores it."""

    statement_id: int
    root: str
    submitter: str
    anchored_at: int
    line_count: int
    period_start: int
    period_end: int
    batches: int
    total: Wei
    accounted: Wei
    suspense: Wei


@dataclass(frozen=True)
class Logged:
    """One decoded log of a mined transaction: which contract, its index in the block, its event."""

    tx: str
    block: int
    log_index: int
    event: str
    args: Mapping[str, Any]


@dataclass(frozen=True)
class Receipt:
    tx: str
    block: int
    gas_used: int
    logs: tuple[Logged, ...]

    def first(self, event: str) -> Logged:
        for log in self.logs:
            if log.event == event:
                return log
        raise ChainError(f"transaction {self.tx} emitted no {event}: it is not the call this service made; report it")


# ---------------------------------------------------------------------- the contract
def contract(chain: Chain) -> Contract:
    """The deployment's UsageStatements, deployed and recorded here when it has none yet."""
    with _LOCK:
        address = chain.deployment.statements
        key = (id(chain.w3), str(address).lower())
        if key in _BOUND:  # its code was checked once on this connection
            return _BOUND[key]
        if address is None or len(chain.w3.eth.get_code(Web3.to_checksum_address(address))) == 0:
            address = _deploy(chain)
            chain.deployment = replace(chain.deployment, statements=address)
            record(chain.deployment, chain.settings.deployments_dir)
            key = (id(chain.w3), address.lower())
        _BOUND[key] = bind(chain.w3, chain.artifacts["UsageStatements"], address)
        return _BOUND[key]


def deploy_new(chain: Chain, *, suspense_window_s: int) -> str:
    """Deploy a new UsageStatements with its own suspense window over this deployment's router and
    registry, and use it from now on (recorded in deployments/<chainId>.json); its address."""
    with _LOCK:
        address = _deploy(chain, suspense_window_s)
        chain.deployment = replace(chain.deployment, statements=address)
        record(chain.deployment, chain.settings.deployments_dir)
        return address


def _deploy(chain: Chain, window: int = DEFAULT_SUSPENSE_WINDOW_S) -> str:
    router, registry = chain.deployment.router, chain.deployment.registry
    if chain.signer is not None:
        return deploy_statements(chain.w3, chain.artifacts, router, registry, signer=chain.signer, suspense_window_s=window)
    if chain.dev_keys and chain.journal is not None:
        with chain.journal.locked():
            deployer = Sender(chain.w3, str(getattr(chain.w3.provider, "endpoint_uri", "")), dev_account(0),
                              timeout_s=chain.settings.tx_timeout_s, journal=chain.journal)
            return deploy_statements(chain.w3, chain.artifacts, router, registry, signer=deployer,
                                     suspense_window_s=window)
    if accounts := chain.accounts():
        return deploy_statements(chain.w3, chain.artifacts, router, registry, sender=accounts[0], suspense_window_s=window)
    raise ChainError("this deployment has no UsageStatements contract yet and the node has no unlocked account to deploy "
                     "it: set HERITAGE_PRIVATE_KEY to a funded key and run this again")


# ---------------------------------------------------------------------- writes
def anchor(chain: Chain, *, root: bytes, period_start: int, period_end: int, line_count: int, total: Wei,
           sender: str) -> tuple[int, Receipt]:
    """Anchor a statement; (its id, the receipt). A root anchored before reverts
    `UsageStatementsDuplicateRoot`."""
    fn = contract(chain).functions.anchor(root, period_start, period_end, line_count, int(total))
    receipt = _send(chain, fn, sender)
    return int(receipt.first("StatementAnchored").args["id"]), receipt


def settle(chain: Chain, statement_id: int, works: Sequence[WorkId], amounts: Sequence[Wei], *, sender: str) -> Receipt:
    """Pay one batch (at most MAX_BATCH works) of the statement through the router."""
    fn = contract(chain).functions.settle(statement_id, [int(w) for w in works], [int(a) for a in amounts])
    return _send(chain, fn, sender, value=sum(int(a) for a in amounts))


def hold(chain: Chain, statement_id: int, identifiers: Sequence[bytes], amounts: Sequence[Wei], *,
         sender: str) -> Receipt:
    """Hold unmatched identifiers' amounts (at most MAX_BATCH) in the statement's suspense."""
    fn = contract(chain).functions.hold(statement_id, list(identifiers), [int(a) for a in amounts])
    return _send(chain, fn, sender, value=sum(int(a) for a in amounts))


def release(chain: Chain, statement_id: int, identifier: bytes, *, sender: str) -> Receipt:
    """Pay the suspense held for `identifier` to the work it now names (anyone may, within the window)."""
    return _send(chain, contract(chain).functions.release(statement_id, identifier), sender)


def refund(chain: Chain, statement_id: int, *, sender: str) -> Receipt:
    """After the window, send what is left in suspense back to the submitter (`sender`)."""
    return _send(chain, contract(chain).functions.refund(statement_id), sender)


# ---------------------------------------------------------------------- reads
def statement_of_root(chain: Chain, root: bytes) -> int:
    """The id of the statement anchored with `root`; 0 when none."""
    return int(contract(chain).functions.statementOfRoot(root).call())


def statement_count(chain: Chain) -> int:
    return int(contract(chain).functions.statementCount().call())


def statement(chain: Chain, statement_id: int) -> StatementView:
    """A statement as stored; the contract's `UsageStatementsUnknownStatement` for an unknown id."""
    try:
        raw = contract(chain).functions.statementOf(statement_id).call()
    except Exception as exc:
        raise chain.decoder.from_exception(exc) or ChainError(f"reading statement {statement_id} failed: {exc}") from exc
    root, submitter, anchored_at, lines, start, end, batches, total, accounted, suspense = raw
    return StatementView(statement_id, "0x" + bytes(root).hex(), str(submitter), int(anchored_at), int(lines), int(start),
                         int(end), int(batches), Wei(int(total)), Wei(int(accounted)), Wei(int(suspense)))


def work_of(chain: Chain, identifier: bytes) -> WorkId | None:
    """The active work `identifier` (32-byte work id or binary CID) names now; None when none."""
    found = int(contract(chain).functions.workOf(identifier).call())
    return WorkId(found) if found else None


def suspense_of(chain: Chain, statement_id: int, identifier: bytes) -> Wei:
    return Wei(int(contract(chain).functions.suspenseOf(statement_id, identifier).call()))


def suspense_window(chain: Chain) -> int:
    return int(contract(chain).functions.suspenseWindow().call())


def verify_line(chain: Chain, statement_id: int, proof: Sequence[bytes], *, line: int, line_hash: bytes,
                amount: Wei) -> bool:
    """The contract's own check of a line's Merkle proof against the anchored root."""
    fn = contract(chain).functions.verifyLine(statement_id, list(proof), line, line_hash, int(amount))
    return bool(fn.call())


def settlement_logs(chain: Chain, root: bytes, *, from_block: int | None = None) -> list[Logged]:
    """Every router `Paid` log the statement with `root` made (settlement batches and releases),
    in chain order."""
    payer = "0x" + bytes(HexBytes(contract(chain).address)).rjust(32, b"\0").hex()
    topic = "0x" + Web3.keccak(text="Paid(uint256,address,address,uint256,bytes32,uint64)").hex().removeprefix("0x")
    raw = chain.w3.eth.get_logs({"address": chain.router.address, "fromBlock": from_block or chain.deployment.block,
                                 "toBlock": "latest", "topics": [topic, None, None, payer]})
    decoder = _decoder(chain, chain.router)
    out = [_logged(decoder, log) for log in raw]
    return [log for log in out if log is not None and bytes(log.args["usageRef"]) == root]


def statement_logs(chain: Chain, statement_id: int, *, from_block: int | None = None) -> list[Logged]:
    """Every log of the statements contract about `statement_id` (anchored, batches, suspense), in chain order."""
    c = contract(chain)
    topic_id = "0x" + statement_id.to_bytes(32, "big").hex()
    raw = chain.w3.eth.get_logs({"address": c.address, "fromBlock": from_block or chain.deployment.block,
                                 "toBlock": "latest", "topics": [None, topic_id]})
    decoder = _decoder(chain, c)
    return [log for log in (_logged(decoder, r) for r in raw) if log is not None]


def withdrawals(chain: Chain, account: str) -> list[Logged]:
    """The router's `Withdrawn` logs of `account` in ETH, in chain order."""
    topic = "0x" + Web3.keccak(text="Withdrawn(address,address,address,uint256)").hex().removeprefix("0x")
    who = "0x" + bytes(HexBytes(Web3.to_checksum_address(account))).rjust(32, b"\0").hex()
    raw = chain.w3.eth.get_logs({"address": chain.router.address, "fromBlock": chain.deployment.block, "toBlock": "latest",
                                 "topics": [topic, who, "0x" + "00" * 32]})
    decoder = _decoder(chain, chain.router)
    return [log for log in (_logged(decoder, r) for r in raw) if log is not None]


def gas_used(chain: Chain, tx: str) -> int:
    """The gas a mined transaction used (for a send whose answer was lost)."""
    return int(chain.w3.eth.get_transaction_receipt(HexBytes(tx))["gasUsed"])


def block_time(chain: Chain, block: int) -> int:
    return int(chain.w3.eth.get_block(block)["timestamp"])


# ---------------------------------------------------------------------- internals
_DECODERS: dict[str, EventDecoder] = {}


def _decoder(chain: Chain, c: Contract) -> EventDecoder:
    key = str(c.address).lower()
    if key not in _DECODERS:
        _DECODERS[key] = EventDecoder(cast(Sequence[dict[str, Any]], c.abi))
    return _DECODERS[key]


def _logged(decoder: EventDecoder, log: Mapping[str, Any]) -> Logged | None:
    decoded = decoder.decode([HexBytes(t) for t in log["topics"]], HexBytes(log["data"]))
    if decoded is None:
        return None
    return Logged(HexBytes(log["transactionHash"]).to_0x_hex(), _int(log["blockNumber"]), _int(log["logIndex"]),
                  decoded[0], decoded[1])


def _send(chain: Chain, fn: Any, sender: str, *, value: int = 0) -> Receipt:
    try:
        receipt = chain.send(fn, sender, value=value)
    except (Web3RPCError, ValueError) as exc:  # the node's refusal (funds, gas, nonce): a named NodeRefusal
        raise refusal_of(exc) from exc
    decoders = {str(c.address).lower(): _decoder(chain, c) for c in (chain.router, contract_unlocked(chain, fn))}
    logs = []
    for log in receipt["logs"]:
        decoder = decoders.get(str(log["address"]).lower())
        if decoder is not None and (found := _logged(decoder, log)) is not None:
            logs.append(found)
    return Receipt(HexBytes(receipt["transactionHash"]).to_0x_hex(), _int(receipt["blockNumber"]),
                   _int(receipt["gasUsed"]), tuple(logs))


def contract_unlocked(chain: Chain, fn: Any) -> Contract:
    """The statements contract `fn` belongs to (without taking the deploy lock again)."""
    return bind(chain.w3, chain.artifacts["UsageStatements"], str(fn.address))


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)

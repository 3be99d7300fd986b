"""Submit a usage statement: validate every line, match each line's work, anchor the Merkle root,
settle the matched amounts per work in batches through the router and hold the unmatched ones in
suspense, per identifier.

Nothing is sent until the whole file has parsed, its root is known not to be anchored and every
identifier is resolved. Lines naming the same work (by id or by CID) are paid as one amount per
work; the router's `Paid` log for that work, with the statement root as usage reference, is what
credited each of them (`trace`). The file is kept under the data directory by its root, so the
API can serve its lines and proofs later (`stored`).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from eth_utils.crypto import keccak
from web3 import Web3

from chain import statements as cs
from chain.client import Chain
from core.errors import InputError
from core.types import Wei, WorkId
from economy.statements import merkle
from economy.statements.dsr import UsageStatement, parse

T = TypeVar("T")
K = TypeVar("K")


class Attempt(Protocol):
    """Runs a write, perhaps more than once (a retrier); `submit` makes every write safe to run again."""

    def __call__(self, action: Callable[[], T], /) -> T: ...


class StatementUnderfunded(InputError):
    """The submitter holds less than the statement's total."""


class StatementAlreadySubmitted(InputError):
    """The same statement (same Merkle root) is anchored already."""

    def __init__(self, root: bytes, statement_id: int) -> None:
        super().__init__(f"this statement (root 0x{root.hex()}) was submitted already, as statement {statement_id}: a "
                         "statement settles once; check it with `heritage statements verify`")
        self.statement_id = statement_id


@dataclass(frozen=True)
class Plan:
    """A validated statement and what settling it sends."""

    statement: UsageStatement
    tree: merkle.Tree
    matched: dict[WorkId, Wei]
    """Amount per matched work, summed over its lines."""
    unmatched: dict[bytes, Wei]
    """Amount per unmatched identifier (32-byte work id or binary CID), summed over its lines."""

    @property
    def root(self) -> bytes:
        return self.tree.root


@dataclass(frozen=True)
class Submission:
    statement_id: int
    root: str
    lines: int
    total: Wei
    settled: Wei
    held: Wei
    anchor_tx: str | None
    """None when an interrupted settlement was resumed (anchored before)."""
    settle_txs: tuple[str, ...]
    hold_txs: tuple[str, ...]
    gas_used: int


def tree_of(statement: UsageStatement) -> merkle.Tree:
    """The Merkle tree of a statement's lines (leaf: line number, line hash, amount)."""
    return merkle.build([merkle.leaf(line.number, line.line_hash, line.amount) for line in statement.lines])


def plan(statement: UsageStatement, resolve: Callable[[bytes], WorkId | None]) -> Plan:
    """Match each distinct identifier once (`resolve`: identifier → active work or None) and sum per work."""
    matched: dict[WorkId, int] = defaultdict(int)
    unmatched: dict[bytes, int] = defaultdict(int)
    works: dict[bytes, WorkId | None] = {}
    for line in statement.lines:
        ident = line.work.identifier
        if ident not in works:
            works[ident] = resolve(ident)
        work = works[ident]
        if work is None:
            unmatched[ident] += line.amount
        else:
            matched[work] += line.amount
    return Plan(statement, tree_of(statement), {w: Wei(a) for w, a in sorted(matched.items())},
                {i: Wei(a) for i, a in sorted(unmatched.items())})


def prepare(chain: Chain, data: bytes) -> Plan:
    """Parse and match `data` against the chain; StatementAlreadySubmitted when its root is anchored."""
    p = plan(parse(data), lambda ident: cs.work_of(chain, ident))
    existing = cs.statement_of_root(chain, p.root)
    if existing:
        raise StatementAlreadySubmitted(p.root, existing)
    return p


def submit(chain: Chain, data: bytes, *, sender: str, batch: int = cs.MAX_BATCH,
           resolve: Callable[[bytes], WorkId | None] | None = None, attempt: Attempt | None = None) -> Submission:
    """Validate, anchor and settle the usage file `data` from `sender` (the service, which pays the
    statement's total: settled amounts to the router, unmatched ones into suspense).

    A statement anchored by `sender` whose settlement stopped part-way (a crash, a node gone) is
    resumed: only the works not paid and the identifiers not held yet are sent. Any other
    statement anchored before is refused (StatementAlreadySubmitted).

    `resolve` matches an identifier to its work (default: the contract's `workOf`, asked now);
    `attempt` runs each write (anchor, each settle and hold batch) and may run it again after a
    failure, as the royalty simulation's retrier does: a retry first looks on chain whether the
    earlier try landed (its answer lost) and sends nothing then, so nothing is paid twice."""
    attempt = attempt or _direct
    p = plan(parse(data), resolve or (lambda ident: cs.work_of(chain, ident)))
    s = p.statement
    existing = cs.statement_of_root(chain, p.root)
    store(chain, p.root, data)
    anchor_tx: str | None = None
    if existing:
        view = cs.statement(chain, existing)
        if view.accounted >= view.total or view.submitter.lower() != sender.lower():
            raise StatementAlreadySubmitted(p.root, existing)
        statement_id, gas, p = existing, 0, _remaining(chain, existing, p)
    else:
        _funded(chain, sender, s.total)

        def anchor() -> tuple[int, str, int]:
            found, r = cs.anchor(chain, root=p.root, period_start=s.period_start, period_end=s.period_end,
                                 line_count=len(s.lines), total=s.total, sender=sender)
            return found, r.tx, r.gas_used

        def anchored() -> tuple[int, str, int] | None:
            found = cs.statement_of_root(chain, p.root)
            if not found:
                return None
            if cs.statement(chain, found).submitter.lower() != sender.lower():
                raise StatementAlreadySubmitted(p.root, found)  # anchored meanwhile, by another service
            tx = next(log.tx for log in cs.statement_logs(chain, found) if log.event == "StatementAnchored")
            return found, tx, cs.gas_used(chain, tx)
        statement_id, anchor_tx, gas = _once(attempt, anchor, anchored)
    settle_txs, settle_gas = _in_batches(
        chain, attempt, list(p.matched.items()), batch,
        send=lambda works, amounts: cs.settle(chain, statement_id, works, amounts, sender=sender),
        landed=lambda work: _paid_works(chain, statement_id, p.root).get(work))
    hold_txs, hold_gas = _in_batches(
        chain, attempt, list(p.unmatched.items()), batch,
        send=lambda keys, amounts: cs.hold(chain, statement_id, keys, amounts, sender=sender),
        landed=lambda key: _held_keys(cs.statement_logs(chain, statement_id)).get(keccak(key)))
    gas += settle_gas + hold_gas
    return Submission(statement_id, "0x" + p.root.hex(), len(s.lines), s.total, Wei(sum(p.matched.values())),
                      Wei(sum(p.unmatched.values())), anchor_tx, tuple(settle_txs), tuple(hold_txs), gas)


def _funded(chain: Chain, sender: str, total: Wei) -> None:
    held = int(chain.w3.eth.get_balance(Web3.to_checksum_address(sender)))
    if held <= total:
        raise StatementUnderfunded(f"{sender} holds {held} wei, and the statement's total is {total} wei (plus gas): "
                                   "fund the submitting account first; nothing was sent")


def _direct(action: Callable[[], T]) -> T:
    return action()


def _once(attempt: Attempt, send: Callable[[], T], landed: Callable[[], T | None]) -> T:
    """`send` under `attempt`; when `attempt` runs it again, `landed` first says whether an earlier
    try reached the chain (its answer lost), and then its result is taken instead of a second send."""
    tried = False

    def go() -> T:
        nonlocal tried
        if tried and (done := landed()) is not None:
            return done
        tried = True
        return send()
    return attempt(go)


def _in_batches(chain: Chain, attempt: Attempt, items: list[tuple[K, Wei]], batch: int, *,
                send: Callable[[list[K], list[Wei]], cs.Receipt],
                landed: Callable[[K], str | None]) -> tuple[list[str], int]:
    """`items` sent `batch` at a time, each batch once (`_once`): `send(keys, amounts)`, and on a retry
    `landed(first key)`, the transaction that already sent the batch, if any. The transactions and
    the gas they used."""
    txs, gas = [], 0
    for i in range(0, len(items), batch):
        chunk = items[i:i + batch]

        def put(chunk: list[tuple[K, Wei]] = chunk) -> tuple[str, int]:
            r = send([k for k, _ in chunk], [a for _, a in chunk])
            return r.tx, r.gas_used

        def put_before(chunk: list[tuple[K, Wei]] = chunk) -> tuple[str, int] | None:
            tx = landed(chunk[0][0])
            return None if tx is None else (tx, cs.gas_used(chain, tx))
        tx, used = _once(attempt, put, put_before)
        txs.append(tx)
        gas += used
    return txs, gas


def _paid_works(chain: Chain, statement_id: int, root: bytes) -> dict[WorkId, str]:
    """The works the statement's settlement batches paid, each with the transaction that paid it."""
    batches = {log.tx for log in cs.statement_logs(chain, statement_id) if log.event == "BatchSettled"}
    return {WorkId(int(log.args["workId"])): log.tx for log in cs.settlement_logs(chain, root) if log.tx in batches}


def _held_keys(logs: list[cs.Logged]) -> dict[bytes, str]:
    """The identifier keys (keccak256) held in suspense, each with the transaction that held it."""
    return {bytes(log.args["key"]): log.tx for log in logs if log.event == "SuspenseHeld"}


def _remaining(chain: Chain, statement_id: int, p: Plan) -> Plan:
    """What of `p` the statement has not settled or held yet (read from its logs)."""
    paid = _paid_works(chain, statement_id, p.root)
    held = _held_keys(cs.statement_logs(chain, statement_id))
    matched: dict[WorkId, int] = defaultdict(int)
    unmatched: dict[bytes, int] = defaultdict(int)
    works: dict[bytes, WorkId | None] = {}
    for line in p.statement.lines:
        ident = line.work.identifier
        if keccak(ident) in held:
            continue  # accounted for in suspense already (even if its work has been registered since)
        if ident not in works:
            works[ident] = cs.work_of(chain, ident)
        work = works[ident]
        if work is None:
            unmatched[ident] += line.amount
        elif work not in paid:
            matched[work] += line.amount
    return Plan(p.statement, p.tree, {w: Wei(a) for w, a in sorted(matched.items())},
                {i: Wei(a) for i, a in sorted(unmatched.items())})


def _dir(chain: Chain) -> Path:
    return chain.settings.data_dir / "statements" / str(chain.deployment.chain_id)


def store(chain: Chain, root: bytes, data: bytes) -> Path:
    """Keep the usage file under the data directory by its root (written atomically)."""
    path = _dir(chain) / f"{root.hex()}.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def stored_statement(chain: Chain, root: str) -> tuple[UsageStatement, merkle.Tree]:
    """The kept usage file of `root`, parsed, with its tree; the last few are kept in memory (a
    million-line statement takes a minute to parse and hash)."""
    stored(chain, root)  # InputError when it is not here
    path = _dir(chain) / f"{root.removeprefix('0x')}.tsv"
    return _parsed(str(path))


@functools.lru_cache(maxsize=4)
def _parsed(path: str) -> tuple[UsageStatement, merkle.Tree]:
    statement = parse(Path(path).read_bytes())
    return statement, tree_of(statement)


def stored(chain: Chain, root: str) -> bytes:
    """The usage file kept for the statement with `root` (0x hex); InputError when it is not here."""
    path = _dir(chain) / f"{root.removeprefix('0x')}.tsv"
    if not path.exists():
        raise InputError(f"the usage file of statement root {root} is not kept in this data directory: it was submitted "
                         "elsewhere; verify its lines with the file itself (`heritage statements verify FILE --line N`)")
    return path.read_bytes()

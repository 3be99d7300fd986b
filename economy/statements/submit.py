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

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from chain import statements as cs
from chain.client import Chain
from core.errors import InputError
from core.types import Wei, WorkId
from economy.statements import merkle
from economy.statements.dsr import UsageStatement, parse


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
    anchor_tx: str
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


def submit(chain: Chain, data: bytes, *, sender: str, batch: int = cs.MAX_BATCH) -> Submission:
    """Validate, anchor and settle the usage file `data` from `sender` (the service, which pays the
    statement's total: settled amounts to the router, unmatched ones into suspense)."""
    p = prepare(chain, data)
    s = p.statement
    store(chain, p.root, data)
    statement_id, anchored = cs.anchor(chain, root=p.root, period_start=s.period_start, period_end=s.period_end,
                                       line_count=len(s.lines), total=s.total, sender=sender)
    gas = anchored.gas_used
    settle_txs, hold_txs = [], []
    works = list(p.matched.items())
    for i in range(0, len(works), batch):
        chunk = works[i:i + batch]
        r = cs.settle(chain, statement_id, [w for w, _ in chunk], [a for _, a in chunk], sender=sender)
        settle_txs.append(r.tx)
        gas += r.gas_used
    held = list(p.unmatched.items())
    for i in range(0, len(held), batch):
        chunk_h = held[i:i + batch]
        r = cs.hold(chain, statement_id, [k for k, _ in chunk_h], [a for _, a in chunk_h], sender=sender)
        hold_txs.append(r.tx)
        gas += r.gas_used
    return Submission(statement_id, "0x" + p.root.hex(), len(s.lines), s.total, Wei(sum(p.matched.values())),
                      Wei(sum(p.unmatched.values())), anchored.tx, tuple(settle_txs), tuple(hold_txs), gas)


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


def stored(chain: Chain, root: str) -> bytes:
    """The usage file kept for the statement with `root` (0x hex); InputError when it is not here."""
    path = _dir(chain) / f"{root.removeprefix('0x')}.tsv"
    if not path.exists():
        raise InputError(f"the usage file of statement root {root} is not kept in this data directory: it was submitted "
                         "elsewhere; verify its lines with the file itself (`heritage statements verify FILE --line N`)")
    return path.read_bytes()

"""One line of a statement, checked end to end: its Merkle proof against the root anchored on chain
(in Python and by the contract's `verifyLine`), and the settlement that credited it: the router's
`Paid` log (transaction, log index, block time) for the line's work with the statement root as
usage reference; for an unmatched line, its suspense and whether it was released (the release's
`Paid` log) or refunded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from eth_utils.crypto import keccak

from chain import gateway as gw
from chain import statements as cs
from chain.client import Chain
from core.errors import InputError
from core.types import Wei
from economy.statements import merkle
from economy.statements.dsr import UsageLine, UsageStatement, parse
from economy.statements.submit import tree_of

Status = Literal["settled", "held", "released", "refunded"]


class StatementNotAnchored(InputError):
    """The file's Merkle root is not anchored on chain."""


@dataclass(frozen=True)
class Credit:
    """The router log that credited a line (the amount is its work's whole amount in the statement)."""

    work_id: int
    tx: str
    block: int
    log_index: int
    block_time: int
    amount: Wei


@dataclass(frozen=True)
class LineTrace:
    statement_id: int
    line: int
    work: str
    amount: Wei
    leaf: str
    proof: tuple[str, ...]
    root: str
    proof_ok: bool
    """The proof leads to the anchored root (checked here)."""
    contract_ok: bool
    """UsageStatements.verifyLine agrees."""
    status: Status
    credit: Credit | None
    period_end: int

    @property
    def latency_s(self) -> int | None:
        """Seconds from the period's end to the crediting block (settlement latency)."""
        return None if self.credit is None else self.credit.block_time - self.period_end

    @property
    def ok(self) -> bool:
        return self.proof_ok and self.contract_ok and (self.status != "settled" or self.credit is not None)


def statement_id_of(chain: Chain, statement: UsageStatement) -> tuple[int, merkle.Tree]:
    """The id of the statement anchored with this file's root, and its tree."""
    tree = tree_of(statement)
    found = cs.statement_of_root(chain, tree.root)
    if not found:
        raise StatementNotAnchored(f"this file's Merkle root 0x{tree.root.hex()} is anchored by no statement: it is not "
                                   "a submitted statement, or a line changed since (each line's bytes are hashed)")
    return found, tree


def trace_file(chain: Chain, data: bytes, number: int) -> LineTrace:
    """Check file line `number` of the usage file `data` against the chain."""
    statement = parse(data)
    line = statement.line(number)
    statement_id, tree = statement_id_of(chain, statement)
    return trace_line(chain, statement_id, statement, tree, line)


def trace_line(chain: Chain, statement_id: int, statement: UsageStatement, tree: merkle.Tree, line: UsageLine) -> LineTrace:
    view = cs.statement(chain, statement_id)
    root = bytes.fromhex(view.root[2:])
    index = line.number - 2
    leaf = merkle.leaf(line.number, line.line_hash, line.amount)
    proof = tree.proof(index)
    proof_ok = merkle.verify(root, leaf, proof)
    contract_ok = cs.verify_line(chain, statement_id, proof, line=line.number, line_hash=line.line_hash, amount=line.amount)
    status, credit = _settlement(chain, statement_id, root, line)
    return LineTrace(statement_id, line.number, line.work.text, line.amount, "0x" + leaf.hex(),
                     tuple("0x" + p.hex() for p in proof), view.root, proof_ok, contract_ok, status, credit,
                     view.period_end)


def _settlement(chain: Chain, statement_id: int, root: bytes, line: UsageLine) -> tuple[Status, Credit | None]:
    ident = line.work.identifier
    key = keccak(ident)
    logs = cs.statement_logs(chain, statement_id)
    paid = cs.settlement_logs(chain, root)
    if any(log.event == "SuspenseHeld" and bytes(log.args["key"]) == key for log in logs):
        released = [log for log in logs if log.event == "SuspenseReleased" and bytes(log.args["key"]) == key]
        if released:
            rel = released[0]
            return "released", _credit(chain, [p for p in paid if p.tx == rel.tx], int(rel.args["workId"]))
        refunded = any(log.event == "SuspenseRefunded" for log in logs)
        return ("refunded" if refunded else "held"), None
    work = line.work.work_id if line.work.work_id is not None else gw.work_by_content(chain, line.work.cid or b"")
    batches = {log.tx for log in logs if log.event == "BatchSettled"}
    return "settled", None if work is None else _credit(chain, [p for p in paid if p.tx in batches], int(work))


def _credit(chain: Chain, paid: list[cs.Logged], work: int) -> Credit | None:
    for p in paid:
        if int(p.args["workId"]) == work:
            return Credit(work, p.tx, p.block, p.log_index, cs.block_time(chain, p.block), Wei(int(p.args["amount"])))
    return None

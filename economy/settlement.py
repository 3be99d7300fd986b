"""Two ways royalties for streams reach the people they belong to.

Manual/archive: usage is reported per statement cycle; an intermediary matches it to works by
their metadata, keeps a commission, and pays after log-normal reporting and payment delays.
Usage it cannot match goes to the "black box" and is shared out by market share; derivatives
carry no lineage, so their income stays with whoever registered them. Documented in
economy.scenario.ManualSpec.

On-chain: usage is batched (the batch closes on time or size), and each batch is a usage statement
settled by the path real usage reports take (economy/statements/submit.py): a DSR-shaped file,
its Merkle root anchored on UsageStatements, its per-work amounts paid through the router's
`payBatch`; the contracts route every wei up the lineage. Latency is measured per usage event
from its time to the timestamp of the block that credited it, and payouts are read back from the
router's balances at the end of each epoch (historical `eth_call`), never computed here.
The simulated year runs on the node's clock: each transaction's block gets the simulated
submission time (`evm_setNextBlockTimestamp`), so block timestamps are the simulation's.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import numpy as np
import pandas as pd

from chain import calls
from chain import statements as cs
from chain.client import Chain
from chain.sender import Sender, dev_account
from core.errors import ChainError
from core.types import ETH, WorkId
from economy.catalogue import SimulatedCatalogue
from economy.listeners import DAY
from economy.scenario import ManualSpec, OnchainSpec
from economy.statements.dsr import COLUMNS
from economy.statements.submit import submit

PAYER = 0
T = TypeVar("T")


@dataclass
class Settled:
    """The outcome of one regime: per usage event its latency, per holder and epoch its payout."""

    regime: str
    latency_days: np.ndarray  # one per settled usage event
    payouts: pd.DataFrame  # columns: epoch, holder, kind, index, wei
    traceable: float  # share of usage whose money followed the recorded lineage to heritage roots
    events: int
    unsettled: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    statements: tuple[str, ...] = ()
    """On chain: the Merkle root (0x hex) of each usage statement the run anchored and settled."""


def _epoch(times: np.ndarray, t0: float, epoch_days: float) -> np.ndarray:
    return np.floor((times - t0) / (epoch_days * DAY)).astype(int)


# ---------------------------------------------------------------------- manual
def settle_manual(streams: pd.DataFrame, cat: SimulatedCatalogue, spec: ManualSpec, price: int, *, t0: float,
                  epoch_days: float, seed: int) -> Settled:
    rng = np.random.default_rng([seed, 2])
    items = streams["item"].to_numpy()
    times = streams["time"].to_numpy()
    heritage = cat.is_heritage[items]
    matched = rng.random(items.size) >= np.where(heritage, spec.unmatched_heritage, spec.unmatched_other)
    group = cat.item_group
    maker = np.array([it.creator for it in cat.items])
    # Who an archive pays: the community for a heritage work, the registrant for a derivative.
    holder_kind = np.where(heritage, "community", "creator")
    holder_index = np.where(heritage, group[items], maker[items])
    statement = np.floor((times - t0) / (spec.statement_days * DAY)).astype(int)
    net = price * (1 - spec.commission)
    df = pd.DataFrame({"statement": statement, "kind": holder_kind, "index": holder_index, "matched": matched, "time": times})
    rows = []
    latencies = []
    for st in np.unique(statement):
        part = df[df["statement"] == st]
        close = t0 + (int(st) + 1) * spec.statement_days * DAY
        m = part[part["matched"]]
        earned = m.groupby(["kind", "index"]).size().astype(float) * net
        black_box = float((~part["matched"]).sum()) * net
        if earned.sum() > 0:
            earned += black_box * earned / earned.sum()  # market-share distribution of unmatched usage
        for key, wei in earned.items():
            kind, index = cast(tuple[str, int], key)
            paid = close + DAY * (rng.lognormal(np.log(max(spec.reporting_median_days, 1e-3)), spec.reporting_sigma)
                                  + rng.lognormal(np.log(max(spec.payment_median_days, 1e-3)), spec.payment_sigma))
            rows.append((paid, kind, int(index), float(wei)))
            mine = m[(m["kind"] == kind) & (m["index"] == index)]
            latencies.append((paid - mine["time"].to_numpy()) / DAY)
    payouts = pd.DataFrame(rows, columns=["paid", "kind", "index", "wei"])
    payouts["epoch"] = _epoch(payouts["paid"].to_numpy(), t0, epoch_days)
    payouts["holder"] = [cat.treasuries[i] if k == "community" else cat.creators[i]
                         for k, i in zip(payouts["kind"], payouts["index"], strict=True)]
    traceable = float((matched & heritage).sum() / max(items.size, 1))
    return Settled("manual", np.concatenate(latencies) if latencies else np.array([]),
                   payouts[["epoch", "holder", "kind", "index", "wei"]], traceable, int(items.size),
                   extra={"unmatched_share": float(1 - matched.mean()) if items.size else 0.0,
                          "commission_wei": float(items.size * price * spec.commission)})


# ---------------------------------------------------------------------- on-chain
class _Exhausted(ChainError):
    def __init__(self, last: Exception) -> None:
        super().__init__(f"the node failed every retry ({last}); check it, then rerun")
        self.last = last


@dataclass
class _Retrier:
    """Run a node action, retrying a ChainError with exponential back-off; counts attempts and failures."""

    retries: int
    backoff_s: float
    attempts: int = 0
    failures: int = 0

    def __call__(self, action: Callable[[], T]) -> T:
        for attempt in range(self.retries + 1):
            self.attempts += 1
            try:
                return action()
            except ChainError as exc:
                self.failures += 1
                if attempt == self.retries:
                    raise _Exhausted(exc) from exc
                time.sleep(min(self.backoff_s * 2**attempt, 10.0))
        raise AssertionError("unreachable")


@dataclass(frozen=True)
class Batch:
    close: float
    rows: np.ndarray  # indices into the sorted streams


def batches(times: np.ndarray, spec: OnchainSpec, t0: float) -> list[Batch]:
    """Windows of `batch_hours` from t0; a window with more than `batch_size` events closes a
    batch at each batch_size-th event. `times` must be sorted."""
    window = np.floor((times - t0) / (spec.batch_hours * 3600)).astype(int)
    out = []
    for w in np.unique(window):
        idx = np.flatnonzero(window == w)
        for lo in range(0, idx.size, spec.batch_size):
            part = idx[lo:lo + spec.batch_size]
            full = part.size == spec.batch_size and lo + spec.batch_size < idx.size
            close = float(times[part[-1]]) if full else t0 + (int(w) + 1) * spec.batch_hours * 3600
            out.append(Batch(close, part))
    return out


def usage_file(works: np.ndarray, times: np.ndarray, *, price: int, service: str,
               aggregate: bool) -> bytes:
    """A batch's usage as a DSR-shaped statement (economy/statements/dsr.py): its period the days the
    usage fell on, one line per work with its count (`aggregate`) or one line per usage event."""
    day = [dt.datetime.fromtimestamp(float(t), dt.UTC).date().isoformat() for t in (times.min(), times.max())]
    head = "\t".join(COLUMNS)
    if aggregate:
        uniq, counts = np.unique(works, return_counts=True)
        rows = [(int(w), int(c)) for w, c in zip(uniq, counts, strict=True)]
    else:
        rows = [(int(w), 1) for w in works[np.argsort(times, kind="stable")]]
    body = "".join(f"{day[0]}\t{day[1]}\t{service}\tWorldwide\t{w}\tstream\t{c}\t{c * price}\n" for w, c in rows)
    return f"{head}\n{body}".encode()


def settle_onchain(streams: pd.DataFrame, cat: SimulatedCatalogue, chain: Chain, spec: OnchainSpec, price: int, *,
                   t0: float, epoch_days: float, progress: Callable[[int], None] | None = None,
                   backoff_s: float = 0.2) -> Settled:
    """Settle `streams` as one usage statement per batch, through the statement path the real usage
    reports take (economy/statements/submit.py): its Merkle root anchored on UsageStatements, its
    per-work amounts settled through the router in batches. A failed write (node unreachable,
    answer lost, revert) is counted and retried with back-off; a retry first looks on chain whether
    the earlier try landed, a root is anchored once and a work is paid once per statement, so a
    payment is never made twice; after `spec.retries` retries the run stops with a ChainError."""
    order = np.argsort(streams["time"].to_numpy(), kind="stable")
    items = streams["item"].to_numpy()[order]
    times = streams["time"].to_numpy()[order]
    work_of = np.array([it.work_id for it in cat.items])
    w3 = chain.w3
    credited_at = np.full(items.size, np.nan)
    pays = _Retrier(spec.retries, backoff_s)  # statement writes (anchor, settle batches): the on-chain failure rate
    retried_reads = _Retrier(spec.retries, backoff_s)  # reads around them

    def stopped(exc: Exception, what: str) -> ChainError:
        done = int((~np.isnan(credited_at)).sum())
        return ChainError(f"settlement stopped: {what} failed ({exc}); {done} of {items.size} usage events were "
                          "settled before it. Check the node, then rerun")

    def reads(action: Callable[[], T]) -> T:
        try:
            return retried_reads(action)
        except _Exhausted as exc:
            raise stopped(exc.last, f"a read from the node, {spec.retries + 1} times,") from exc.last
    payer = chain.signer.account.address if chain.signer is not None else reads(chain.accounts)[PAYER]
    head = reads(lambda: w3.eth.get_block("latest"))
    start_block = int(head["number"])
    works_known: dict[bytes, WorkId | None] = {}

    def resolve(ident: bytes) -> WorkId | None:  # the catalogue's works stay registered: asked once per run
        if ident not in works_known:
            works_known[ident] = reads(lambda: cs.work_of(chain, ident))
        return works_known[ident]
    gas_total = txs = 0
    roots: list[str] = []
    epoch_end_blocks: dict[int, int] = {}
    for k, b in enumerate(batches(times, spec, t0)):
        works = work_of[items[b.rows]]
        data = usage_file(works, times[b.rows], price=price, service=f"simulation-{start_block}-{k}",
                          aggregate=spec.aggregate)
        submit_at = int(b.close + spec.submit_minutes * 60)

        def attempt(action: Callable[[], T], submit_at: int = submit_at) -> T:
            def timed() -> T:  # each write's block gets the simulated submission time
                latest = int(w3.eth.get_block("latest")["timestamp"])
                w3.provider.make_request("evm_setNextBlockTimestamp", [max(submit_at, latest + 1)])  # type: ignore[arg-type]
                return action()
            return pays(timed)
        since = reads(lambda: w3.eth.block_number)
        try:
            sent = submit(chain, data, sender=payer, batch=min(spec.max_entries_per_tx, cs.MAX_BATCH), resolve=resolve,
                          attempt=attempt)
        except _Exhausted as exc:
            raise stopped(exc.last, f"a statement write, {spec.retries + 1} times,") from exc.last
        except ChainError as exc:
            raise stopped(exc, "a statement read") from exc
        root = bytes.fromhex(sent.root[2:])
        credits = reads(functools.partial(cs.settlement_logs, chain, root, from_block=since + 1))
        block_ts = {blk: reads(functools.partial(cs.block_time, chain, blk)) for blk in {c.block for c in credits}}
        credit_ts = {int(c.args["workId"]): block_ts[c.block] for c in credits}
        credited_at[b.rows] = [credit_ts.get(int(w), np.nan) for w in works]
        for blk, ts in block_ts.items():
            e = int((ts - t0) // (epoch_days * DAY))
            epoch_end_blocks[e] = max(blk, epoch_end_blocks.get(e, 0))
        gas_total += sent.gas_used
        txs += 1 + len(sent.settle_txs) + len(sent.hold_txs)
        roots.append(sent.root)
        if progress is not None:
            progress(int(b.rows.size))
    settled = ~np.isnan(credited_at)
    sender = chain.signer or Sender(w3, str(w3.provider.endpoint_uri), dev_account(PAYER),  # type: ignore[attr-defined]
                                    timeout_s=chain.settings.tx_timeout_s)
    payouts = reads(lambda: _payouts_from_chain(chain, sender, cat, start_block, epoch_end_blocks))
    roots_ok = reads(lambda: _traceable_items(chain, cat))
    traceable = float((settled & roots_ok[items]).sum() / max(items.size, 1))
    return Settled("onchain", (credited_at[settled] - times[settled]) / DAY, payouts, traceable, int(items.size),
                   unsettled=int((~settled).sum()), statements=tuple(roots),
                   extra={"attempts": pays.attempts, "failures": pays.failures, "failure_rate": pays.failures / max(pays.attempts, 1),
                          "read_failures": retried_reads.failures,
                          "transactions": txs, "gas": gas_total, "gas_per_event": gas_total / max(int(settled.sum()), 1),
                          "paid_wei": int(settled.sum()) * price})


def _payouts_from_chain(chain: Chain, sender: Sender, cat: SimulatedCatalogue, start_block: int,
                        epoch_end_blocks: dict[int, int]) -> pd.DataFrame:
    """Credits per holder per epoch: the router's balance at each epoch's last settlement block
    minus the balance at the previous one (historical eth_calls, one JSON-RPC batch per block)."""
    holders = [(t, "community", i) for i, t in enumerate(cat.treasuries)] + [(c, "creator", i) for i, c in enumerate(cat.creators)]
    reads = [{"to": chain.router.address, "data": "0x" + calls.balance_of_calldata(chain, h, ETH).hex()} for h, _, _ in holders]

    def balances(block: int) -> list[int]:
        return [int(r, 16) for r in sender.rpc_batch([("eth_call", [c, hex(block)]) for c in reads])]
    previous = balances(start_block)
    rows: list[tuple[int, str, str, int, float]] = []
    for epoch in sorted(epoch_end_blocks):
        now = balances(epoch_end_blocks[epoch])
        rows.extend((epoch, h, kind, i, float(n - p)) for (h, kind, i), n, p in zip(holders, now, previous, strict=True))
        previous = now
    return pd.DataFrame(rows, columns=["epoch", "holder", "kind", "index", "wei"])


def _traceable_items(chain: Chain, cat: SimulatedCatalogue) -> np.ndarray:
    """Per item: does its recorded lineage resolve to heritage roots (roots non-empty, each a
    heritage work)? Read from the event index, which the audit checks against the chain."""
    from chain.catalogue import load

    indexed = load(chain.index())
    heritage_ids = {w.work_id for w in indexed.works.values() if w.kind == "heritage"}
    return np.array([it.work_id in indexed.works and bool(indexed.works[it.work_id].roots)
                     and all(r in heritage_ids for r in indexed.works[it.work_id].roots) for it in cat.items])

"""The simulation's on-chain arm goes through the statement path real usage reports take: each
batch leaves an anchored usage statement whose every line verifies against the anchored root
(Merkle proof here and the contract's verifyLine), whose settlement credited exactly the lines'
amounts per work, and whose credits, routed to the communities, are the simulation's payouts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
import pytest

from chain import statements as cs
from chain.client import Chain, connect
from core.blockstore import open_store
from core.config import Settings
from economy.catalogue import SimulatedCatalogue, build
from economy.listeners import DAY
from economy.scenario import CatalogueSpec, OnchainSpec
from economy.settlement import Settled, settle_onchain
from economy.statements import community, merkle
from economy.statements.dsr import COLUMNS
from economy.statements.submit import StatementAlreadySubmitted, stored, stored_statement, submit
from economy.statements.trace import trace_line

PRICE = 10**12
T = TypeVar("T")
Run = tuple[Chain, SimulatedCatalogue, pd.DataFrame, Settled]
"""The module's chain, its simulated catalogue, the streams and what settling them did."""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    tmp: Path = tmp_path_factory.mktemp("simarm")
    settings = Settings(data_dir=tmp / "data", deployments_dir=tmp / "data" / "deployments")
    chain = connect(settings)
    try:
        cat = build(chain, open_store(settings), CatalogueSpec(communities=2, max_works_per_community=5, derivative_share=0.4), 4)
        t0 = float(chain.w3.eth.get_block("latest")["timestamp"]) + 3600
        rng = np.random.default_rng(4)
        streams = pd.DataFrame({"listener": rng.integers(30, size=300), "item": rng.integers(len(cat.items), size=300),
                                "time": np.sort(t0 + rng.uniform(0, 4 * DAY, size=300))})
        # Small settle batches, so a statement takes several settle transactions.
        settled = settle_onchain(streams, cat, chain, OnchainSpec(batch_hours=24, max_entries_per_tx=3), PRICE, t0=t0,
                                 epoch_days=2, backoff_s=0.01)
        yield chain, cat, streams, settled
    finally:
        chain.close()


def test_every_line_of_every_statement_verifies_against_its_anchored_root(run: Run) -> None:
    chain, _, streams, settled = run
    assert settled.unsettled == 0 and len(settled.statements) >= 4  # one statement per daily batch
    lines = 0
    for root in settled.statements:
        sid = cs.statement_of_root(chain, bytes.fromhex(root[2:]))
        view = cs.statement(chain, sid)
        assert view.root == root and view.accounted == view.total and view.suspense == 0
        statement, tree = stored_statement(chain, root)
        anchored = bytes.fromhex(view.root[2:])
        for i, line in enumerate(statement.lines):
            leaf = merkle.leaf(line.number, line.line_hash, line.amount)
            assert merkle.verify(anchored, leaf, tree.proof(i))
            # A line whose amount was changed does not verify.
            assert not merkle.verify(anchored, merkle.leaf(line.number, line.line_hash, line.amount + 1), tree.proof(i))
        traced = trace_line(chain, sid, statement, tree, statement.lines[-1])
        assert traced.ok and traced.status == "settled" and traced.contract_ok and traced.credit is not None
        lines += sum(line.count for line in statement.lines)
    assert lines == len(streams)


def test_statement_credits_are_the_simulated_payouts(run: Run) -> None:
    chain, cat, streams, settled = run
    # Per work: the router credited exactly what the statement's lines say, once.
    expected: dict[int, int] = defaultdict(int)
    for i in streams["item"]:
        expected[int(cat.items[i].work_id)] += PRICE
    paid: dict[int, int] = defaultdict(int)
    ids = []
    for root in settled.statements:
        ids.append(cs.statement_of_root(chain, bytes.fromhex(root[2:])))
        for log in cs.settlement_logs(chain, bytes.fromhex(root[2:])):
            paid[int(log.args["workId"])] += int(log.args["amount"])
    assert paid == expected
    assert sum(paid.values()) == settled.payouts["wei"].sum() == len(streams) * PRICE
    # Per community: the statements' credits routed up the lineage are the payouts read back from the router.
    net: dict[str, int] = defaultdict(int)
    for row in community.rows(chain, ids):
        net[row.treasury.lower()] += int(row.amount)
    simulated: dict[str, int] = defaultdict(int)
    com = settled.payouts[settled.payouts["kind"] == "community"]
    for holder, wei in zip(com["holder"], com["wei"], strict=True):
        simulated[str(holder).lower()] += int(wei)
    assert len(net) == 2 and {h: w for h, w in simulated.items() if w} == dict(net)


def test_a_simulated_statement_cannot_be_settled_again(run: Run) -> None:
    chain, _, _, settled = run
    root = settled.statements[0]
    before = chain.w3.eth.get_balance(chain.router.address)
    with pytest.raises(StatementAlreadySubmitted):
        submit(chain, stored(chain, root), sender=chain.accounts()[0])
    assert chain.w3.eth.get_balance(chain.router.address) == before


def test_a_write_whose_answer_was_lost_is_not_sent_again(run: Run) -> None:
    """`submit` under a retrier that runs every write a second time (as after a lost answer): the
    second run finds the first on chain and sends nothing; each work is paid and each unknown
    identifier held exactly once."""
    chain, cat, _, _ = run
    works = sorted({it.work_id for it in cat.items})[:5]
    lines = [f"2026-02-01\t2026-02-01\tlossy-{chain.w3.eth.block_number}\tWorldwide\t{w}\tstream\t1\t{PRICE * (i + 1)}"
             for i, w in enumerate(works)]
    lines.append(f"2026-02-01\t2026-02-01\tlossy\tWorldwide\t987654321\tstream\t1\t{PRICE}")  # no such work: suspense
    data = ("\t".join(COLUMNS) + "\n" + "\n".join(lines) + "\n").encode()
    runs = []

    def twice(action: Callable[[], T]) -> T:
        runs.append(action())
        return action()
    payer = chain.accounts()[0]
    before = chain.w3.eth.get_balance(chain.router.address)
    sent = submit(chain, data, sender=payer, batch=2, attempt=twice)
    paid = sum(PRICE * (i + 1) for i in range(len(works)))
    assert chain.w3.eth.get_balance(chain.router.address) - before == paid, "a batch was paid twice"
    view = cs.statement(chain, sent.statement_id)
    assert view.accounted == view.total == paid + PRICE and view.suspense == PRICE and view.batches == 3
    assert len(runs) == 1 + 3 + 1 and len(set(sent.settle_txs)) == 3 and len(sent.hold_txs) == 1
    assert sent.gas_used == sum(cs.gas_used(chain, tx) for tx in (sent.anchor_tx or "", *sent.settle_txs, *sent.hold_txs))

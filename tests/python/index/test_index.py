"""The event index on both backends (SQLite and PostgreSQL, see conftest.py): resumable,
idempotent, waits for confirmations, rolls back when the node comes back from an older state,
one indexer at a time however many processes share it, and the schema made once by Alembic."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from web3 import Web3

from chain import indexer
from chain.anvil import Anvil
from chain.catalogue import load
from chain.compile import Artifact
from chain.deploy import contract
from chain.indexdb import MIGRATIONS
from chain.indexer import Index
from core.errors import ChainError
from tests.python.chain.v2 import GAS, commit, deploy_dev, protocol

OPEN = protocol()


def cid(i: int) -> bytes:
    return bytes([0x01, 0x55, 0x12, 0x20]) + i.to_bytes(32, "big")


class Net:
    """A deployment on this module's own anvil (tests here revert its state)."""

    def __init__(self, w3: Web3, artifacts: dict[str, Artifact]) -> None:
        self.w3 = w3
        self.dep = deploy_dev(w3, artifacts)
        self.registry = contract(w3, artifacts["HeritageRegistry"], self.dep.registry)
        self.router = contract(w3, artifacts["RoyaltyRouter"], self.dep.router)
        self.contracts = {"HeritageRegistry": self.registry, "RoyaltyRouter": self.router}
        self.acc = w3.eth.accounts
        self.send(self.registry.functions.registerCommunity("Singers", [self.acc[1]], 1, self.acc[2]))
        self.works = 0

    def send(self, fn: Any, value: int = 0) -> None:
        self.w3.eth.wait_for_transaction_receipt(fn.transact({"from": self.acc[1], "value": value, "gas": GAS}))

    def register(self) -> int:
        self.works += 1
        content = cid(10_000 * id(self) % 10**9 + self.works)
        salt = commit(self.w3, self.registry, self.acc[1], content)
        self.send(self.registry.functions.registerHeritageWork((1, content, cid(1), OPEN, [(self.acc[2], 1_000_000)], salt)))
        return self.works

    def sync(self, index: Index, **kw: Any) -> int:
        return index.sync(self.w3, self.contracts, start=self.dep.block, **kw)


@pytest.fixture(scope="module")
def node() -> Iterator[Web3]:
    with Anvil() as anvil:
        yield Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 30}))


@pytest.fixture()
def net(node: Web3, artifacts: dict[str, Artifact]) -> Net:
    return Net(node, artifacts)


def test_resumable_idempotent_and_waits_for_confirmations(net: Net, index_url: str) -> None:
    net.register()
    index = Index(index_url)
    assert index.position() == (-1, 0)
    assert net.sync(index, confirmations=1) > 0
    assert index.last_block() == int(net.w3.eth.block_number) - 1
    assert not index.events("Paid")
    net.send(net.router.functions.pay(1, b"\x01" * 32, 7), value=10**15)
    net.sync(index, confirmations=1)
    assert not index.events("Paid"), "the payment is not yet 1 block deep"
    net.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    net.sync(index, confirmations=1)
    paid = index.events("Paid")
    assert len(paid) == 1 and paid[0]["args"]["amount"] == 10**15 and paid[0]["args"]["usageRef"] == "0x" + "01" * 32
    everything = index.events()
    with index.tx() as db:  # forget how far it got: indexing again changes nothing
        db.execute(text("DELETE FROM meta WHERE key = 'last_block'"))
    net.sync(index, confirmations=1)
    assert index.events() == everything
    again = Index(index_url)  # another process resumes from the stored block
    assert again.last_block() == index.last_block()
    assert net.sync(again, confirmations=1) == 0
    assert [e["work_id"] for e in index.events("HeritageWorkRegistered", 1)] == [1]
    assert index.events(after_block=everything[-1]["block"]) == []
    assert all(e["timestamp"] == net.w3.eth.get_block(e["block"])["timestamp"] for e in everything)
    assert index.events(upto_block=everything[0]["block"]) == [e for e in everything if e["block"] == everything[0]["block"]]


def test_rolls_back_to_the_common_ancestor(net: Net, index_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(indexer, "REWIND_PAGE", 2)  # the search for the ancestor crosses pages
    net.register()
    snapshot = net.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    for _ in range(3):
        net.register()
    index = Index(index_url)
    net.sync(index)
    assert len(index.events("HeritageWorkRegistered")) == 4
    before = load(index)
    net.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    net.works = 1
    net.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    net.sync(index)
    assert index.epoch() == before.index_epoch + 1
    assert index.position() == (index.last_block(), index.epoch()) != (before.last_block, before.index_epoch)
    assert [e["work_id"] for e in index.events("HeritageWorkRegistered")] == [1]
    after = load(index, into=before)  # folded again from scratch: the old branch's works are gone
    assert sorted(after.works) == [1]
    for number, block_hash in index.block_hashes().items():
        assert net.w3.eth.get_block(number)["hash"].to_0x_hex() == block_hash


def test_one_indexer_at_a_time(net: Net, index_url: str) -> None:
    for _ in range(3):
        net.register()
    writer, reader = Index(index_url), Index(index_url)
    assert writer.writer.acquire(wait=False)
    try:
        assert net.sync(reader, wait=False) == 0, "another process is indexing: this one must not write"
        assert reader.last_block() == -1 and reader.events() == []
        done: list[int] = []
        waiting = threading.Thread(target=lambda: done.append(net.sync(reader)))
        waiting.start()
        waiting.join(0.5)
        assert waiting.is_alive() and not done, "a waiting sync must wait for the lock"
    finally:
        writer.writer.release()
    waiting.join(30)
    assert done and done[0] > 0
    assert net.sync(writer) == 0


def test_concurrent_syncs_store_each_event_once(net: Net, index_url: str) -> None:
    for _ in range(4):
        net.register()
    indexes = [Index(index_url) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        stored = list(pool.map(lambda i: net.sync(i, batch=3), indexes))
    keys = [(e["tx"], e["log_index"]) for e in indexes[0].events()]
    assert len(keys) == len(set(keys)) == sum(stored)
    fresh = Index(index_url)
    with fresh.tx() as db:
        db.execute(text("DELETE FROM events"))
        db.execute(text("DELETE FROM meta WHERE key = 'last_block'"))
    net.sync(fresh)
    assert [(e["tx"], e["log_index"]) for e in fresh.events()] == keys


def test_reads_while_indexing_never_miss_an_event(net: Net, index_url: str) -> None:
    """A reader folding the catalogue while another process indexes sees every work once it
    catches up: it folds only what was committed with the last block it read."""
    index, reader = Index(index_url), Index(index_url)
    stop = threading.Event()
    folded = [load(reader)]

    def read() -> None:
        while not stop.is_set():
            folded.append(load(reader, into=folded[-1]))

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for _ in range(6):
            net.register()
            net.sync(index, batch=2)
    finally:
        stop.set()
        thread.join()
    final = load(reader, into=folded[-1])
    assert sorted(final.works) == sorted(load(index).works)
    assert len(final.works) == 6


def test_a_database_holds_one_deployment(index_url: str) -> None:
    Index(index_url, deployment="31337:0xaaaa")
    Index(index_url, deployment="31337:0xaaaa")
    with pytest.raises(ChainError, match="holds the index of deployment 31337:0xaaaa"):
        Index(index_url, deployment="31337:0xbbbb")


def _head() -> str:
    """The newest migration in chain/migrations (one head: the chain of revisions never forks)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    (head,) = ScriptDirectory.from_config(config).get_heads()
    return str(head)


def test_the_schema_is_made_once_by_many_processes_opening_it(index_url: str) -> None:
    opened: list[Callable[[], Index]] = [lambda: Index(index_url) for _ in range(6)]
    with ThreadPoolExecutor(6) as pool:
        indexes = list(pool.map(lambda f: f(), opened))
    with indexes[0].tx() as db:
        assert db.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [_head()]
    assert all(i.last_block() == -1 for i in indexes)


def test_an_index_made_before_alembic_is_upgraded_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE events (block INTEGER NOT NULL, block_hash TEXT NOT NULL, tx TEXT NOT NULL, log_index INTEGER NOT NULL,
            timestamp INTEGER NOT NULL, contract TEXT NOT NULL, name TEXT NOT NULL, work_id INTEGER,
            args TEXT NOT NULL, PRIMARY KEY (block_hash, tx, log_index));
        CREATE INDEX events_by_name ON events (name, block);
        CREATE INDEX events_by_work ON events (work_id, block);
        CREATE TABLE blocks (number INTEGER PRIMARY KEY, hash TEXT NOT NULL);
        INSERT INTO meta VALUES ('last_block', '7');
        INSERT INTO events VALUES (5, '0xb5', '0xt', 0, 1700000000, 'HeritageRegistry', 'Paid', 1, '{"amount": 3}');
    """)
    db.commit()
    db.close()
    index = Index(path)
    assert index.last_block() == 7
    assert index.events("Paid")[0]["args"] == {"amount": 3}


def test_what_every_write_reads_is_found_by_block_not_by_a_scan(tmp_path: Path) -> None:
    """The catalogue's fold after a write (events after its last block) and a sync's replacement
    of a block range go through an index on the block: a scan of every event made each write
    cost as much as the catalogue was large."""
    index = Index(tmp_path / "plan.sqlite")
    with index.tx() as db:
        for query in ("SELECT * FROM events WHERE block > 5 AND block <= 9 ORDER BY block, log_index",
                      "DELETE FROM events WHERE block BETWEEN 5 AND 9"):
            plan = " ".join(str(row[-1]) for row in db.execute(text(f"EXPLAIN QUERY PLAN {query}")))
            assert "events_by_block" in plan and "SCAN events" not in plan.replace("SCAN events USING", ""), plan

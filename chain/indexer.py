"""Event indexer: the contracts' events into SQLite, so that reads come from the index.

Resumable (the last indexed block is stored), idempotent (a log is keyed by block hash, tx hash
and log index, and re-indexing a range replaces it), and safe against reorganisations: only
blocks at least `confirmations` deep are indexed, and the hash of every indexed block that has
events (and of the last block of every batch) is kept. Before each sync the last indexed block's
hash is compared with the node's; where the node no longer has it (a reorg deeper than the
confirmations, a node rewound or restored from an older state, a fresh node under an old index)
the index rolls back to the newest block both still agree on and re-indexes from there, so a read
is never answered from a block the node does not have. Each rollback advances `epoch()`, which
tells holders of anything folded from the index (chain/catalogue.py) to fold again.
PostgreSQL at scale: the SQL here is plain and portable; only the connection differs.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.types import RPCEndpoint

from chain.abi import EventDecoder
from core.errors import ChainError

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    block INTEGER NOT NULL, block_hash TEXT NOT NULL, tx TEXT NOT NULL, log_index INTEGER NOT NULL,
    timestamp INTEGER NOT NULL, contract TEXT NOT NULL, name TEXT NOT NULL, work_id INTEGER,
    args TEXT NOT NULL, PRIMARY KEY (block_hash, tx, log_index)
);
CREATE INDEX IF NOT EXISTS events_by_name ON events (name, block);
CREATE INDEX IF NOT EXISTS events_by_work ON events (work_id, block);
CREATE TABLE IF NOT EXISTS blocks (number INTEGER PRIMARY KEY, hash TEXT NOT NULL);
"""


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


class Index:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, check_same_thread=False)  # the API reads it from worker threads, under its lock
        self.db.executescript(SCHEMA)

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        with self.db:
            yield self.db

    def last_block(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key='last_block'").fetchone()
        return int(row[0]) if row else -1

    def epoch(self) -> int:
        """How many times the index has rolled back (see the module's doc)."""
        row = self.db.execute("SELECT value FROM meta WHERE key='epoch'").fetchone()
        return int(row[0]) if row else 0

    def rewind(self, w3: Web3, *, start: int) -> int | None:
        """Roll back to the newest indexed block the node still has (its hash unchanged); the
        block rolled back to, or None when nothing had to change."""
        last = self.last_block()
        if last < 0:
            return None
        head = int(w3.eth.block_number)
        known = self.db.execute("SELECT number, hash FROM blocks WHERE number <= ? ORDER BY number DESC", (last,)).fetchall()
        ancestor = start - 1
        for number, block_hash in known:
            if number <= head and HexBytes(w3.eth.get_block(number)["hash"]).to_0x_hex() == block_hash:
                ancestor = number
                break
        if ancestor >= last:
            return None
        with self.tx() as db:
            db.execute("DELETE FROM events WHERE block > ?", (ancestor,))
            db.execute("DELETE FROM blocks WHERE number > ?", (ancestor,))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('last_block', ?)", (str(ancestor),))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('epoch', ?)", (str(self.epoch() + 1),))
        return ancestor

    def block_hashes(self) -> dict[int, str]:
        return dict(self.db.execute("SELECT number, hash FROM blocks"))

    def events(self, name: str | None = None, work_id: int | None = None, *, after_block: int = -1) -> list[dict[str, Any]]:
        """Indexed events in chain order, filtered by name, work and `block > after_block`."""
        sql = "SELECT block, tx, log_index, timestamp, contract, name, work_id, args FROM events WHERE block > ?"
        params: list[Any] = [after_block]
        if name is not None:
            sql += " AND name = ?"
            params.append(name)
        if work_id is not None:
            sql += " AND work_id = ?"
            params.append(work_id)
        sql += " ORDER BY block, log_index"
        cols = ("block", "tx", "log_index", "timestamp", "contract", "name", "work_id", "args")
        return [dict(zip(cols, (*row[:-1], json.loads(row[-1])), strict=False)) for row in self.db.execute(sql, params)]

    def sync(self, w3: Web3, contracts: dict[str, Contract], *, start: int, confirmations: int = 0,
             batch: int = 2_000) -> int:
        """Index from the last indexed block (or `start`) up to head − confirmations; returns
        the number of events stored."""
        self.rewind(w3, start=start)
        head = int(w3.eth.block_number) - confirmations
        begin = max(self.last_block() + 1, start)
        stored = 0
        decoders = {
            c.address.lower(): (name, EventDecoder(c.abi))  # type: ignore[arg-type]
            for name, c in contracts.items()
        }
        for lo in range(begin, head + 1, batch):
            hi = min(lo + batch - 1, head)
            hashes = {hi: HexBytes(w3.eth.get_block(hi)["hash"]).to_0x_hex()}
            # Raw JSON-RPC: web3.py's log formatters cost more than decoding the events.
            answer = w3.provider.make_request(RPCEndpoint("eth_getLogs"), [{
                "fromBlock": hex(lo), "toBlock": hex(hi), "address": [c.address for c in contracts.values()]}])
            if "error" in answer:
                raise ChainError(f"eth_getLogs {lo}..{hi} failed: {answer['error']}; retry `heritage` later")
            logs = answer["result"]
            times: dict[int, int] = {}
            rows = []
            for log in logs:
                address = log["address"].lower()
                contract_name, decoder = decoders[address]
                decoded = decoder.decode([HexBytes(t) for t in log["topics"]], HexBytes(log["data"]))
                if decoded is None:
                    continue
                event, raw_args = decoded
                block = int(log["blockNumber"], 16)
                hashes[block] = log["blockHash"]
                if block not in times:
                    times[block] = int(w3.eth.get_block(block)["timestamp"])
                args = _jsonable(raw_args)
                work = args.get("workId", args.get("tokenId"))
                rows.append((block, log["blockHash"], log["transactionHash"],
                             int(log["logIndex"], 16), times[block], contract_name, event,
                             int(work) if work is not None else None, json.dumps(args)))
            with self.tx() as db:
                db.execute("DELETE FROM events WHERE block BETWEEN ? AND ?", (lo, hi))
                db.executemany("INSERT OR REPLACE INTO events VALUES (?,?,?,?,?,?,?,?,?)", rows)
                db.execute("DELETE FROM blocks WHERE number BETWEEN ? AND ?", (lo, hi))
                db.executemany("INSERT INTO blocks VALUES (?, ?)", sorted(hashes.items()))
                db.execute("INSERT OR REPLACE INTO meta VALUES ('last_block', ?)", (str(hi),))
            stored += len(rows)
        return stored


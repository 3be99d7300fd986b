"""Event indexer: the contracts' events into a database (SQLite or PostgreSQL), so that reads come from the index.

Resumable (the last indexed block is stored), idempotent (a log is keyed by block hash, tx hash
and log index, and re-indexing a range replaces it), and safe against reorganisations: only
blocks at least `confirmations` deep are indexed, and the hash of every indexed block that has
events (and of the last block of every batch) is kept. Before each sync the last indexed block's
hash is compared with the node's; where the node no longer has it (a reorg deeper than the
confirmations, a node rewound or restored from an older state, a fresh node under an old index)
the index rolls back to the newest block both still agree on and re-indexes from there, so a read
is never answered from a block the node does not have. Each rollback advances `epoch()`, which
tells holders of anything folded from the index (chain/catalogue.py) to fold again.
The database is SQLite (a file, the default) or PostgreSQL (`HERITAGE_INDEX_URL`), one code path
over both (chain/indexdb.py). One indexer writes: `sync` (and the rollback in it) runs under the
database's "indexer" lock, so of several processes sharing the index (the API's workers, a CLI
beside them) one indexes at a time; everything else here only reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hexbytes import HexBytes
from sqlalchemy import Connection, delete, insert, select
from web3 import Web3
from web3.contract import Contract
from web3.types import RPCEndpoint

from chain.abi import EventDecoder
from chain.indexdb import DbLock, blocks, database_url, events, meta, migrate, open_engine
from core.errors import ChainError

REWIND_PAGE = 64
"""Indexed blocks read at a time while looking for the newest one the node still has."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _set(db: Connection, key: str, value: object) -> None:
    db.execute(delete(meta).where(meta.c.key == key))
    db.execute(insert(meta).values(key=key, value=str(value)))


class Index:
    """The index in the database at `target`: a SQLite file's path or a database URL. With
    `deployment`, the database must hold that deployment's index (or none yet)."""

    def __init__(self, target: Path | str, *, deployment: str | None = None) -> None:
        self.url = database_url(target)
        self.engine = open_engine(self.url)
        migrate(self.engine)
        self.writer = DbLock(self.engine, "indexer")
        if deployment is not None:
            with self.writer, self.tx() as db:
                held = db.execute(select(meta.c.value).where(meta.c.key == "deployment")).scalar()
                if held is None:
                    _set(db, "deployment", deployment)
                elif held != deployment:
                    raise ChainError(f"the index database {self.engine.url.render_as_string()} holds the index of "
                                     f"deployment {held}, not {deployment}: give this deployment a database of its "
                                     "own (HERITAGE_INDEX_URL)")

    @property
    def backend(self) -> str:
        """"sqlite" or "postgresql"."""
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def tx(self) -> Iterator[Connection]:
        with self.engine.begin() as db:
            yield db

    def _meta(self, key: str) -> str | None:
        with self.engine.connect() as db:
            return db.execute(select(meta.c.value).where(meta.c.key == key)).scalar()

    def last_block(self) -> int:
        value = self._meta("last_block")
        return int(value) if value is not None else -1

    def position(self) -> tuple[int, int]:
        """(last_block, epoch) in one read: what a folded catalogue compares itself with."""
        with self.engine.connect() as db:
            found = {str(k): v for k, v in db.execute(select(meta.c.key, meta.c.value)
                                                       .where(meta.c.key.in_(("last_block", "epoch"))))}
        return int(found.get("last_block", -1)), int(found.get("epoch", 0))

    def epoch(self) -> int:
        """How many times the index has rolled back (see the module's doc)."""
        value = self._meta("epoch")
        return int(value) if value is not None else 0

    def rewind(self, w3: Web3, *, start: int) -> int | None:
        """Roll back to the newest indexed block the node still has (its hash unchanged); the
        block rolled back to, or None when nothing had to change. The indexer's: call under
        `self.writer` (sync does)."""
        last = self.last_block()
        if last < 0:
            return None
        head = int(w3.eth.block_number)
        ancestor = start - 1
        for number, block_hash in self._known_blocks(last):
            if number <= head and HexBytes(w3.eth.get_block(number)["hash"]).to_0x_hex() == block_hash:
                ancestor = number
                break
        if ancestor >= last:
            return None
        epoch = self.epoch()
        with self.tx() as db:
            db.execute(delete(events).where(events.c.block > ancestor))
            db.execute(delete(blocks).where(blocks.c.number > ancestor))
            _set(db, "last_block", ancestor)
            _set(db, "epoch", epoch + 1)
        return ancestor

    def _known_blocks(self, last: int) -> Iterator[tuple[int, str]]:
        """The indexed blocks' (number, hash) up to `last`, newest first, read `REWIND_PAGE` at a
        time: a sync usually needs only the newest, and the index keeps a row per block with
        events (reading them all made every sync cost as much as the chain is long)."""
        while True:
            with self.engine.connect() as db:
                rows = db.execute(select(blocks.c.number, blocks.c.hash).where(blocks.c.number <= last)
                                  .order_by(blocks.c.number.desc()).limit(REWIND_PAGE)).all()
            yield from ((int(n), str(h)) for n, h in rows)
            if len(rows) < REWIND_PAGE:
                return
            last = int(rows[-1][0]) - 1

    def block_hashes(self) -> dict[int, str]:
        with self.engine.connect() as db:
            return {int(n): str(h) for n, h in db.execute(select(blocks.c.number, blocks.c.hash))}

    def events(self, name: str | None = None, work_id: int | None = None, *, after_block: int = -1,
               upto_block: int | None = None) -> list[dict[str, Any]]:
        """Indexed events in chain order, filtered by name, work and `after_block < block <= upto_block`."""
        cols = ("block", "tx", "log_index", "timestamp", "contract", "name", "work_id", "args")
        query = select(*(events.c[c] for c in cols)).where(events.c.block > after_block)
        if upto_block is not None:
            query = query.where(events.c.block <= upto_block)
        if name is not None:
            query = query.where(events.c.name == name)
        if work_id is not None:
            query = query.where(events.c.work_id == work_id)
        with self.engine.connect() as db:
            rows = db.execute(query.order_by(events.c.block, events.c.log_index)).all()
        return [dict(zip(cols, (*row[:-1], json.loads(row[-1])), strict=True)) for row in rows]

    def sync(self, w3: Web3, contracts: dict[str, Contract], *, start: int, confirmations: int = 0,
             batch: int = 2_000, wait: bool = True) -> int:
        """Index from the last indexed block (or `start`) up to head − confirmations; returns
        the number of events stored. Under the indexer lock: when another process holds it,
        waits for it, or with `wait=False` returns 0 at once (that process is indexing)."""
        if not self.writer.acquire(wait=wait):
            return 0
        try:
            return self._sync(w3, contracts, start=start, confirmations=confirmations, batch=batch)
        finally:
            self.writer.release()

    def _sync(self, w3: Web3, contracts: dict[str, Contract], *, start: int, confirmations: int, batch: int) -> int:
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
                if block not in times:  # anvil and geth ≥ 1.16 put the block's time in the log
                    stamp = log.get("blockTimestamp")
                    times[block] = int(stamp, 16) if stamp is not None else int(w3.eth.get_block(block)["timestamp"])
                args = _jsonable(raw_args)
                work = args.get("workId", args.get("tokenId"))
                rows.append({"block": block, "block_hash": log["blockHash"], "tx": log["transactionHash"],
                             "log_index": int(log["logIndex"], 16), "timestamp": times[block],
                             "contract": contract_name, "name": event,
                             "work_id": int(work) if work is not None else None, "args": json.dumps(args)})
            with self.tx() as db:
                db.execute(delete(events).where(events.c.block.between(lo, hi)))
                if rows:
                    db.execute(insert(events), rows)
                db.execute(delete(blocks).where(blocks.c.number.between(lo, hi)))
                db.execute(insert(blocks), [{"number": n, "hash": h} for n, h in sorted(hashes.items())])
                _set(db, "last_block", hi)
            stored += len(rows)
        return stored


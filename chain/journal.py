"""The transaction journal: every transaction the platform sends or relays, as signed bytes, in
order, written and fsync'd to the data directory *before* it reaches the node, then marked with
its receipt's position (block number, transaction index).

Why: the embedded anvil dumps its state to disk only every few seconds, so a `kill -9` (or a
power cut) loses the last blocks, and with them writes the service had already acknowledged. On
the next start the node comes back from the older state; `replay` then sends the transactions the
node no longer knows, in their original order (recorded block and index, then journal order), so
every acknowledged write is back with the same ids before anything else is served.

An external node (`HERITAGE_RPC_URL`) is trusted for durability; there the journal makes a
resubmission after a lost answer safe: a transaction whose hash is in the journal is sent again
as the same bytes, never signed a second time (`Journal.pending_like`).

Format: JSON lines, one record per line, appended with a single `write` under an exclusive
`flock` (several processes may share one data directory: the API and a CLI attached to its node)
and fsync'd before the transaction is sent:
  {"tx": hash, "raw": hex, "from": address, "nonce": n, "intent": hash of (to, data, value)}
  {"mined": hash, "block": n, "index": i}
  {"dropped": hash, "why": text}          the node refused it: it never existed
Compaction happens when the owner of the embedded node starts it: entries the node already holds
(its saved state has them) are dropped, the rest are kept with their new positions.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound

from core.durable import replace_durably
from core.errors import ChainError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    seq: int
    tx_hash: str
    raw: bytes
    sender: str
    nonce: int
    intent: str
    block: int | None = None
    index: int | None = None
    dropped: bool = False

    @property
    def mined(self) -> bool:
        return self.block is not None


@dataclass(frozen=True)
class Replay:
    """What `Journal.replay` found and did."""

    present: int
    replayed: int
    lost: tuple[str, ...]
    seconds: float


def intent_of(to: str | bytes | None, data: bytes | str, value: int) -> str:
    """A transaction's effect, whatever its nonce and fees: the same call twice has one intent."""
    payload = (bytes(HexBytes(to)) if to else b"") + bytes(HexBytes(data)) + value.to_bytes(32, "big")
    return "0x" + keccak(payload).hex()


def tx_hash_of(raw: bytes) -> str:
    return "0x" + keccak(raw).hex()


class Journal:
    """The journal of one chain in one data directory (see the module's doc)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        self._cache: dict[str, Entry] = {}
        self._offset = 0
        self._lines = 0
        self._inode: int | None = None

    @classmethod
    def for_chain(cls, data_dir: Path, chain_id: int) -> Journal:
        return cls(data_dir / "journal" / f"{chain_id}.jsonl")

    # ------------------------------------------------------------------ locking
    @contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive between threads and processes: whoever holds it signs, journals and sends,
        so a nonce read from the node under it is not taken by anyone else meanwhile."""
        with self._thread_lock:
            if self._depth == 0:
                self._fd = os.open(self.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o644)
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._fd is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
                    os.close(self._fd)
                    self._fd = None

    def _write(self, records: Sequence[dict[str, Any]], *, sync: bool = True) -> None:
        if not records:
            return
        line = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records).encode()
        with self.locked():
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    line = b"\n" + line  # a line torn by a crash: end it, so that it cannot swallow this record
                os.write(fd, line)
                if sync:
                    os.fsync(fd)
            finally:
                os.close(fd)

    # ------------------------------------------------------------------ records
    def append(self, raw: bytes, *, sender: str, nonce: int, intent: str) -> str:
        """Journal a signed transaction (durably) before it is sent; its hash."""
        return self.append_many([(raw, sender, nonce, intent)])[0]

    def append_many(self, txs: Sequence[tuple[bytes, str, int, str]]) -> list[str]:
        """Journal signed transactions, each (raw, sender, nonce, intent), with one write and one
        fsync, before any is sent; their hashes."""
        hashes = [tx_hash_of(raw) for raw, *_ in txs]
        self._write([{"tx": h, "raw": "0x" + raw.hex(), "from": sender.lower(), "nonce": nonce, "intent": intent}
                     for h, (raw, sender, nonce, intent) in zip(hashes, txs, strict=True)])
        return hashes

    def mark(self, tx_hash: str, block: int, index: int) -> None:
        """The transaction is in `block` at `index` (not fsync'd: the receipt is on the node, and a
        lost mark only makes the next replay look the transaction up)."""
        self._write([{"mined": tx_hash.lower(), "block": block, "index": index}], sync=False)

    def drop(self, tx_hash: str, why: str) -> None:
        """The node refused the transaction: it never existed and is never replayed."""
        self._write([{"dropped": tx_hash.lower(), "why": why[:300]}])

    def entries(self) -> list[Entry]:
        """Every journalled transaction in journal order, with its last known position. Read
        incrementally: only what was appended since the last call (by any process) is parsed."""
        with self.locked():
            try:
                st = os.stat(self.path)
            except FileNotFoundError:
                self._cache, self._offset, self._lines, self._inode = {}, 0, 0, None
                return []
            if st.st_ino != self._inode or st.st_size < self._offset:  # rewritten (compacted) meanwhile
                self._cache, self._offset, self._lines, self._inode = {}, 0, 0, st.st_ino
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                chunk = f.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]  # a line still being written is read next time
            for n, line in enumerate(complete.decode(errors="replace").splitlines()):
                self._fold(self._lines + n, line)
            self._lines += complete.count(b"\n")
            self._offset += len(complete)
            return sorted(self._cache.values(), key=lambda e: e.seq)

    def _fold(self, n: int, line: str) -> None:
        by_hash = self._cache
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            log.warning("journal %s: line %d is torn (a crash while writing it); skipped", self.path, n + 1)
            return
        if "tx" in r:
            if r["tx"] in by_hash:  # sent again after a refusal: live again
                by_hash[r["tx"]] = replace(by_hash[r["tx"]], dropped=False)
            else:
                by_hash[r["tx"]] = Entry(n, r["tx"], bytes(HexBytes(r["raw"])), r["from"], int(r["nonce"]), r["intent"])
        elif "mined" in r and r["mined"] in by_hash:
            by_hash[r["mined"]] = replace(by_hash[r["mined"]], block=int(r["block"]), index=int(r["index"]))
        elif "dropped" in r and r["dropped"] in by_hash:
            by_hash[r["dropped"]] = replace(by_hash[r["dropped"]], dropped=True)

    def find(self, tx_hash: str) -> Entry | None:
        return next((e for e in self.entries() if e.tx_hash == tx_hash.lower()), None)

    def pending_like(self, sender: str, intent: str) -> Entry | None:
        """A journalled, unmined, not-dropped transaction of `sender` with this intent: a retry
        after a lost answer sends it again instead of signing a second one."""
        for e in reversed(self.entries()):
            if e.sender == sender.lower() and e.intent == intent and not e.mined and not e.dropped:
                return e
        return None

    # ------------------------------------------------------------------ sending
    def send(self, w3: Web3, raw: bytes, *, sender: str, nonce: int, intent: str, journalled: bool = False) -> str:
        """Journal `raw` (unless `journalled` already), then send it; a refusal by the node is
        marked so it is never replayed, and raised as it came. Call under `locked()` when the
        nonce was read from the node."""
        with self.locked():
            h = tx_hash_of(raw) if journalled else self.append(raw, sender=sender, nonce=nonce, intent=intent)
            try:
                w3.eth.send_raw_transaction(raw)
            except ChainError:
                raise  # the node went away: the entry stays, the next start replays it if it was not mined
            except Exception as err:
                if not _already_known(err):
                    self.drop(h, str(err))
                    raise
        return h

    def await_receipt(self, w3: Web3, tx_hash: str, *, timeout: float) -> Any:
        receipt = w3.eth.wait_for_transaction_receipt(HexBytes(tx_hash), timeout=timeout)
        self.mark(tx_hash, int(receipt["blockNumber"]), int(receipt["transactionIndex"]))
        return receipt

    def transact(self, w3: Web3, account: LocalAccount, to: str, data: bytes | str, *, gas: int, value: int = 0,
                 timeout: float = 60.0) -> Any:
        """Sign (once) and send a call from `account`, journalled; its receipt."""
        from chain.sender import Fees

        intent = intent_of(to, data, value)
        with self.locked():
            again = self.pending_like(account.address, intent)
            if again is not None:
                if _receipt(w3, again.tx_hash) is not None or _known(w3, again.tx_hash):
                    h = again.tx_hash  # it reached the node after all: wait for it, sign nothing
                    return self.await_receipt(w3, h, timeout=timeout)
                if int(w3.eth.get_transaction_count(account.address, "pending")) <= again.nonce:
                    h = self.send(w3, again.raw, sender=account.address, nonce=again.nonce, intent=intent, journalled=True)
                    return self.await_receipt(w3, h, timeout=timeout)
                self.drop(again.tx_hash, "its nonce was taken by another transaction")
            nonce = int(w3.eth.get_transaction_count(account.address, "pending"))
            fees = Fees.current(w3)
            tx: dict[str, Any] = {
                "type": 2, "chainId": int(w3.eth.chain_id), "nonce": nonce, "to": to, "value": value, "data": data,
                "gas": gas, "maxFeePerGas": fees.max_fee_per_gas, "maxPriorityFeePerGas": fees.max_priority_fee_per_gas}
            raw = bytes(account.sign_transaction(tx).raw_transaction)
            h = self.send(w3, raw, sender=account.address, nonce=nonce, intent=intent)
        return self.await_receipt(w3, h, timeout=timeout)

    # ------------------------------------------------------------------ recovery
    def replay(self, w3: Web3, *, timeout: float = 60.0) -> Replay:
        """Send every journalled transaction the node does not have, in order (recorded block
        and index, then journal order), and compact the journal to the ones the node's saved
        state may still lack. Run by the owner of the embedded node before it serves anything."""
        import time

        started = time.monotonic()
        with self.locked():
            live = [e for e in self.entries() if not e.dropped]
            present = {e.tx_hash for e in live if _receipt(w3, e.tx_hash) is not None}
            missing = sorted((e for e in live if e.tx_hash not in present),
                             key=lambda e: (0, e.block, e.index, e.seq) if e.mined else (1, 0, 0, e.seq))
            replayed: list[Entry] = []
            lost: list[Entry] = []
            progress = True
            while missing and progress:  # a transaction whose nonce is not yet due waits for a later pass
                progress, later = False, []
                for e in missing:
                    if int(w3.eth.get_transaction_count(Web3.to_checksum_address(e.sender), "latest")) != e.nonce:
                        later.append(e)  # its nonce is taken by another transaction, or one before it is missing
                        continue
                    try:
                        w3.eth.send_raw_transaction(e.raw)
                        receipt = w3.eth.wait_for_transaction_receipt(HexBytes(e.tx_hash), timeout=timeout)
                    except ChainError:
                        raise
                    except Exception as err:
                        log.error("journal %s: replaying %s failed: %s", self.path, e.tx_hash, err)
                        lost.append(e)
                        continue
                    replayed.append(replace(e, block=int(receipt["blockNumber"]), index=int(receipt["transactionIndex"])))
                    progress = True
                missing = later
            lost += missing
            if lost:
                self._keep_lost(lost)
            self._rewrite(replayed)
        if replayed or lost:
            log.warning("journal %s: %d transactions replayed, %d could not be (see %s)", self.path, len(replayed), len(lost),
                        self.path.with_suffix(".lost.jsonl"))
        return Replay(len(present), len(replayed), tuple(e.tx_hash for e in lost), time.monotonic() - started)

    def compact(self, w3: Web3, *, depth: int = 64) -> int:
        """Drop what no replay or retry needs any more: transactions the node refused, and those
        the node holds at least `depth` blocks deep (for a node trusted for durability: an
        external one). The number of transactions dropped."""
        with self.locked():
            entries = self.entries()
            head = int(w3.eth.block_number)
            keep = [e for e in entries if not e.dropped and not (e.mined and e.block is not None and e.block <= head - depth
                                                                 and _receipt(w3, e.tx_hash) is not None)]
            if len(keep) < len(entries):
                self._rewrite(keep)
            return len(entries) - len(keep)

    def _keep_lost(self, lost: Sequence[Entry]) -> None:
        with open(self.path.with_suffix(".lost.jsonl"), "a") as f:
            for e in lost:
                f.write(json.dumps({"tx": e.tx_hash, "raw": "0x" + e.raw.hex(), "from": e.sender, "nonce": e.nonce}) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def _rewrite(self, keep: Sequence[Entry]) -> None:
        """Atomically replace the journal by `keep` (with their positions)."""
        lines = []
        for e in keep:
            lines.append(json.dumps({"tx": e.tx_hash, "raw": "0x" + e.raw.hex(), "from": e.sender, "nonce": e.nonce,
                                     "intent": e.intent}) + "\n")
            if e.mined:
                lines.append(json.dumps({"mined": e.tx_hash, "block": e.block, "index": e.index}) + "\n")
        replace_durably(self.path, "".join(lines))


def _receipt(w3: Web3, tx_hash: str) -> Any:
    try:
        return w3.eth.get_transaction_receipt(HexBytes(tx_hash))
    except TransactionNotFound:
        return None


def _known(w3: Web3, tx_hash: str) -> bool:
    try:
        return w3.eth.get_transaction(HexBytes(tx_hash)) is not None
    except TransactionNotFound:
        return False


def _already_known(err: Exception) -> bool:
    text = str(err).lower()
    return "already known" in text or "already imported" in text or "transaction already exists" in text


class NodeRefusal(ChainError):
    """The node refused a transaction before it existed; `code` names why (for the API's 4xx)."""

    def __init__(self, code: str, detail: str) -> None:
        self.code = code
        super().__init__(detail)


_REFUSALS = (
    ("nonce too low", "nonce-too-low", "the sender's nonce is used already: this transaction, or another with the same "
     "nonce, is on chain; sign a new one with the current nonce"),
    ("insufficient funds", "insufficient-funds", "the sender cannot pay the value plus gas: fund the account or send less"),
    ("base fee", "fee-too-low", "the max fee per gas is below the current base fee: ask for a new draft and sign it"),
    ("intrinsic gas too low", "gas-too-low", "the gas limit is below what the transaction needs: sign it with more gas"),
    ("gas limit", "gas-too-high", "the gas limit is above the block's: sign it with less gas"),
    ("nonce too high", "nonce-too-high", "the nonce is ahead of the sender's: sign it with the current nonce"),
    ("overflow", "amount-out-of-range", "a number in the transaction is out of range"),
    ("out of range", "amount-out-of-range", "a number in the transaction is out of range"),
)


def refusal_of(err: Exception) -> NodeRefusal:
    """What a node's refusal (web3 8 raises `Web3RPCError`; older ones `ValueError`) means."""
    text = str(err)
    low = text.lower()
    for needle, code, advice in _REFUSALS:
        if needle in low:
            return NodeRefusal(code, f"{advice} (the node said: {text[:300]})")
    return NodeRefusal("transaction-refused", f"the node refused the transaction: {text[:300]}")


_relay_slots: dict[tuple[str, int], threading.BoundedSemaphore] = {}
_relay_slots_lock = threading.Lock()


def _slot(sender: str, window: int) -> threading.BoundedSemaphore:
    """The sender's relay slots for a window of this size (keyed by both: a semaphore made for
    another window size must not stand in for this one)."""
    with _relay_slots_lock:
        return _relay_slots.setdefault((sender.lower(), window), threading.BoundedSemaphore(window))


def relay(journal: Journal, w3: Web3, raw: bytes, *, timeout: float, window: int = 16) -> Any:
    """Journal and send a user's signed transaction as it is, and await its receipt. A
    transaction already on chain (sent twice) is a `transaction-replayed` refusal; one journalled
    but unanswered (the service lost the node's answer) is sent again as the same bytes. At most
    `window` relays of one sender are in flight at once (the send window of chain/window.py; a
    node keeps only so many per account): a further one waits for a slot, and is refused as
    `too-many-in-flight` if none frees within `timeout`. (A user's transaction cannot be replaced
    here: the service does not hold the user's key.)"""
    from eth_account import Account
    from eth_account.typed_transactions.typed_transaction import TypedTransaction

    h = tx_hash_of(raw)
    if _receipt(w3, h) is not None:
        raise NodeRefusal("transaction-replayed", f"transaction {h} is on chain already: it was relayed before, and "
                          "nothing was done twice; sign a new transaction for a new action")
    sender = str(Account.recover_transaction(raw))
    if raw[0] < 0x7F:  # EIP-2718 typed
        tx = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
        nonce, to, data, value = int(tx["nonce"]), tx.get("to"), tx.get("data", b""), int(tx.get("value", 0))
    else:  # legacy: nonce, gas price, gas, to, value, data, v, r, s
        import rlp  # type: ignore[import-untyped]

        fields = rlp.decode(raw)
        nonce, to, value, data = int.from_bytes(fields[0], "big"), fields[3], int.from_bytes(fields[4], "big"), fields[5]
    known = journal.find(h)
    slot = _slot(sender, window)
    if not slot.acquire(timeout=timeout):
        raise NodeRefusal("too-many-in-flight", f"{sender} has {window} transactions in flight already (the node keeps "
                          "only so many per account): wait for their receipts, then send this one again")
    try:
        try:
            journal.send(w3, raw, sender=sender, nonce=nonce, intent=intent_of(to, data, value),
                         journalled=known is not None and not known.dropped)
        except ChainError:
            raise
        except Exception as err:
            raise refusal_of(err) from err
        return journal.await_receipt(w3, h, timeout=timeout)
    finally:
        slot.release()

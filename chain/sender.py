"""Signed transactions from local keys: a nonce manager, EIP-1559 fees and batched raw sends.

`Chain.send` uses the node's unlocked accounts (anvil's development accounts) and is the simple
path. A node reached through an RPC URL (geth, reth, an L2, a testnet) has no unlocked accounts:
`Sender` signs locally with a key and sends raw transactions, with EIP-1559 fees (max fee =
2 × base fee + tip, so that a transaction survives a few blocks of rising base fee), receipts
awaited with a time-out and an optional confirmation depth.

Many callers may send from one account at once: `NonceManager` hands out each nonce exactly once
under a lock, starting from the node's pending count. A transaction the node refuses gives its
nonce back only if it was the last one handed out; otherwise the manager resyncs from the node,
so no nonce is lost (a gap would stall every later transaction) or used twice.

Batched sends put many `eth_sendRawTransaction` calls into one JSON-RPC batch request; web3.py 8
refuses to batch sends, so this speaks JSON-RPC over HTTP itself.

A node's pool is not a queue of unlimited length: geth keeps 16 executable transactions per
account by default (`--txpool.accountslots`) and anvil, handed thousands at once, stalls. So
`Sender.submit` (and `transact_many`, which builds on it) keeps at most `window` transactions of
its account in flight and sends the next as receipts arrive (chain/window.py). It also repairs
what a real node does to transactions: one not mined within `stuck_s` is replaced (same nonce,
fees raised by 12.5 %), one the node forgot is sent again, and a nonce gap is named.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_account.typed_transactions.typed_transaction import TypedTransaction
from hexbytes import HexBytes
from web3 import Web3

from core.errors import ChainError, NodeUnavailable

if TYPE_CHECKING:
    from chain.journal import Journal
    from chain.window import Outcome

ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
"""The public development mnemonic anvil funds by default: for the embedded node only."""


def dev_account(index: int) -> LocalAccount:
    """Anvil's development account `index` (the same accounts `eth_accounts` lists)."""
    Account.enable_unaudited_hdwallet_features()
    account: LocalAccount = Account.from_mnemonic(ANVIL_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    return account


class NonceManager:
    """Thread-safe nonces per account, each handed out once."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self._lock = threading.Lock()
        self._next: dict[str, int] = {}
        self._flying: dict[str, set[int]] = {}

    def flying(self, address: str, nonce: int, *, done: bool = False) -> None:
        """Note a nonce sent and not yet mined (or, `done`, mined), whichever submit sent it."""
        with self._lock:
            nonces = self._flying.setdefault(address, set())
            (nonces.discard if done else nonces.add)(nonce)

    def in_flight(self, address: str) -> frozenset[int]:
        """The account's nonces sent by any submit of this process and not yet mined."""
        with self._lock:
            return frozenset(self._flying.get(address, ()))

    def take(self, address: str, count: int = 1) -> int:
        """Reserve `count` consecutive nonces and return the first."""
        with self._lock:
            if address not in self._next:
                self._next[address] = int(self.w3.eth.get_transaction_count(address, "pending"))  # type: ignore[arg-type]
            first = self._next[address]
            self._next[address] = first + count
            return first

    def resync(self, address: str, pending: int | None = None) -> None:
        """Forget the account's next nonce: the next `take` asks the node (after a nonce-too-low);
        or start it at `pending`, the node's pending count the caller has just read."""
        with self._lock:
            if pending is None:
                self._next.pop(address, None)
            else:
                self._next[address] = pending

    def failed(self, address: str, nonce: int) -> None:
        """A transaction with `nonce` was refused by the node (never entered its pool)."""
        with self._lock:
            if self._next.get(address) == nonce + 1:
                self._next[address] = nonce  # the last one handed out: give it back
            else:
                self._next.pop(address, None)  # later nonces are out: ask the node again next time


def fee_cap(base_fee: int, tip: int) -> int:
    """The platform's one fee rule: a max fee of 2 × base fee + tip, which stays valid through
    six full blocks of base-fee rises (12.5 % each)."""
    return 2 * base_fee + tip


@dataclass(frozen=True)
class Fees:
    max_fee_per_gas: int
    max_priority_fee_per_gas: int

    @classmethod
    def current(cls, w3: Web3, *, tip: int | None = None) -> Fees:
        base = int(w3.eth.get_block("latest").get("baseFeePerGas", 0))
        if tip is None:
            try:
                tip = int(w3.eth.max_priority_fee)
            except Exception:  # a node without eth_maxPriorityFeePerGas
                tip = DEFAULT_TIP
        return cls.of(base, tip)

    @classmethod
    def of(cls, base_fee: int, tip: int) -> Fees:
        """The fees for a latest block's `base_fee` and a `tip` (`fee_cap`)."""
        return cls(max_fee_per_gas=fee_cap(base_fee, tip), max_priority_fee_per_gas=tip)


DEFAULT_TIP = 10**9
"""The tip, in wei, on a node that does not suggest one (no eth_maxPriorityFeePerGas)."""


DEFAULT_WINDOW = 16
"""Transactions in flight per account: geth's default executable slots per account; anvil mines
a window of this size in one block without stalling."""


class Sender:
    """Signs with `account` and sends through the node at `url`."""

    def __init__(self, w3: Web3, url: str, account: LocalAccount, *, nonces: NonceManager | None = None,
                 timeout_s: float = 60.0, confirmations: int = 0, journal: Journal | None = None,
                 window: int = DEFAULT_WINDOW, stuck_s: float | None = None) -> None:
        if window < 1:
            raise ChainError(f"a transaction window of {window} sends nothing: set HERITAGE_TX_WINDOW to 1 or more")
        self.w3 = w3
        self.url = url
        self.account = account
        self.nonces = nonces or NonceManager(w3)
        self.chain_id = int(w3.eth.chain_id)
        self.timeout_s = timeout_s
        self.confirmations = confirmations
        self._ids = itertools.count(1)
        self._http = requests.Session()
        self.journal = journal
        """With a journal, every signed transaction is journalled before it is sent (chain/journal.py)."""
        self.window = window
        """At most this many of the account's transactions in flight in `submit`."""
        self.stuck_s = stuck_s if stuck_s is not None else min(30.0, timeout_s / 4)
        """A transaction not mined this long is looked at: replaced, re-sent or reported (chain/window.py)."""
        self.last_outcome: Outcome | None = None
        """What the last `submit` did: sent, replaced, re-sent, the most in flight at once."""

    # ------------------------------------------------------------------ building
    def sign(self, to: str | None, data: bytes | str, *, gas: int, value: int = 0, nonce: int, fees: Fees) -> bytes:
        """A signed type-2 transaction; `to=None` creates a contract from `data`."""
        tx: dict[str, Any] = {
            "type": 2, "chainId": self.chain_id, "nonce": nonce, "to": to, "value": value, "data": data,
            "gas": gas, "maxFeePerGas": fees.max_fee_per_gas, "maxPriorityFeePerGas": fees.max_priority_fee_per_gas,
        }
        if to is None:
            del tx["to"]
        return self.sign_dict(tx)

    def sign_dict(self, tx: dict[str, Any]) -> bytes:
        return bytes(self.account.sign_transaction(tx).raw_transaction)

    # ------------------------------------------------------------------ JSON-RPC
    def rpc_answers(self, calls: Sequence[tuple[str, list[Any]]]) -> list[dict[str, Any] | None]:
        """One HTTP request with many JSON-RPC calls; each call's answer object (with `result` or
        `error`; None if the node gave none), in call order."""
        if not calls:
            return []
        ids = [next(self._ids) for _ in calls]
        body: list[dict[str, Any]] = [
            {"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in zip(ids, calls, strict=True)
        ]
        try:
            response = self._http.post(self.url, json=body, timeout=self.timeout_s)
            response.raise_for_status()
        except requests.RequestException as exc:
            raise NodeUnavailable(f"the node at {self.url} did not answer ({exc}); is it running? `heritage chain status`") from exc
        answer = response.json()
        if isinstance(answer, dict):  # a node that refuses the whole batch answers with one error object
            raise ChainError(f"the node at {self.url} refused a JSON-RPC batch: {answer.get('error', answer)}")
        by_id = {item.get("id"): item for item in answer}
        return [by_id.get(i) for i in ids]

    def rpc_batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        """One HTTP request with many JSON-RPC calls; results in call order. An error in any
        call raises ChainError naming it (the others have been processed by the node)."""
        out = []
        for (method, _), item in zip(calls, self.rpc_answers(calls), strict=True):
            if item is None:
                raise NodeUnavailable(f"{method} failed: no answer from the node at {self.url}; is it running?")
            if "error" in item:
                raise ChainError(f"{method} failed: {item['error']}")
            out.append(item["result"])
        return out

    def send_raw(self, raws: Sequence[bytes], *, first_nonce: int | None = None, batch: int = 500) -> list[str]:
        """Send signed transactions in JSON-RPC batches; returns their hashes."""
        hashes: list[str] = []
        if self.journal is not None:
            from chain.journal import intent_of

            for raw in raws:
                tx = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
                self.journal.append(raw, sender=self.account.address, nonce=int(tx["nonce"]),
                                    intent=intent_of(tx.get("to"), tx.get("data", b""), int(tx.get("value", 0))))
        for lo in range(0, len(raws), batch):
            chunk = raws[lo:lo + batch]
            try:
                hashes += self.rpc_batch([("eth_sendRawTransaction", ["0x" + r.hex()]) for r in chunk])
            except ChainError:
                if first_nonce is not None:
                    self.nonces.failed(self.account.address, first_nonce + lo + len(chunk) - 1)
                raise
        return hashes

    def wait(self, hashes: Sequence[str], *, poll_s: float = 0.05, batch: int = 500) -> list[dict[str, Any]]:
        """Receipts for all `hashes`, `confirmations` deep, within the time-out. A reverted
        transaction raises ChainError with its hash."""
        deadline = time.monotonic() + self.timeout_s
        receipts: dict[str, dict[str, Any]] = {}
        pending = list(hashes)
        while pending:
            for lo in range(0, len(pending), batch):
                chunk = pending[lo:lo + batch]
                answers = self.rpc_batch([("eth_getTransactionReceipt", [h]) for h in chunk])
                receipts.update({h: r for h, r in zip(chunk, answers, strict=True) if r is not None})
            pending = [h for h in pending if h not in receipts]
            if pending:
                if time.monotonic() > deadline:
                    raise ChainError(f"{len(pending)} transactions not mined within {self.timeout_s} s "
                                     f"(first {pending[0]}); raise HERITAGE_TX_TIMEOUT_S or check the node")
                time.sleep(poll_s)
        if self.confirmations:
            last = max(int(r["blockNumber"], 16) for r in receipts.values())
            while int(self.w3.eth.block_number) < last + self.confirmations:
                if time.monotonic() > deadline:
                    raise ChainError(f"block {last} not {self.confirmations} deep within {self.timeout_s} s")
                time.sleep(poll_s)
        out = [receipts[h] for h in hashes]
        if self.journal is not None:
            for h, r in zip(hashes, out, strict=True):
                self.journal.mark(h, int(r["blockNumber"], 16), int(r["transactionIndex"], 16))
        for h, r in zip(hashes, out, strict=True):
            if int(r["status"], 16) != 1:
                raise ChainError(f"transaction {h} reverted; replay it with `cast run {h}` to see why")
        return out

    def submit(self, raws: Iterable[bytes], *, reverts: bool = False, poll_s: float = 0.05) -> list[dict[str, Any]]:
        """Send signed transactions of this account through the window (at most `window` in
        flight, the next sent as receipts arrive; stuck ones replaced, dropped ones re-sent) and
        return their receipts in order. `raws` may be a generator: it is drawn as the window opens.
        A reverted one raises ChainError, unless `reverts` (then its receipt says status 0).
        `poll_s`: how often receipts are asked for."""
        from chain.window import run_window

        return run_window(self, raws, reverts=reverts, poll_s=poll_s)

    def transact_many(self, to: str | None, datas: Iterable[bytes | str], *, gas: int, value: int = 0) -> list[dict[str, Any]]:
        """Sign, send through the window and await one transaction per `datas` entry. Nonces are
        taken as each is signed (`datas` may be a generator that is still producing)."""
        fees = Fees.current(self.w3)

        def signed() -> Iterator[bytes]:
            for d in datas:
                nonce = self.nonces.take(self.account.address)
                yield self.sign(to, d, gas=gas, value=value, nonce=nonce, fees=fees)

        return self.submit(signed())

"""The send window: at most `Sender.window` transactions of one account in flight, stuck ones
replaced, dropped ones re-sent, nonce gaps named.

One loop, run by `Sender.submit`:
- fill: draw signed transactions until `window` are in flight; journal them (when the sender has
  a journal) and send them in one JSON-RPC batch;
- poll: one batch of `eth_getTransactionReceipt` for every hash in flight (a replaced transaction
  has two or more: whichever is mined is the outcome, the others are journalled as dropped);
- repair, for a transaction not mined within `stuck_s` of its last send (one batch of look-ups):
  * its nonce is used on chain but by none of its hashes: `NonceGap` (another signer used the key);
  * the node knows none of its hashes: it was dropped from the pool; the same bytes are sent again
    (they are in the journal already);
  * the node waits for an earlier nonce that nothing in flight carries: `NonceGap` (a hole below);
  * otherwise it is underpriced for the current blocks: replaced with the same nonce and both
    `maxFeePerGas` and `maxPriorityFeePerGas` raised by 12.5 % (geth and anvil refuse a
    replacement below +10 %), the max fee at least 2 × base fee + tip; the replacement is
    journalled before it is sent.
A transaction not mined within `timeout_s` of its first send is a ChainError.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from eth_account.typed_transactions.typed_transaction import TypedTransaction
from hexbytes import HexBytes

from chain.sender import fee_cap
from core.errors import ChainError

if TYPE_CHECKING:
    from chain.sender import Sender

log = logging.getLogger(__name__)

BUMP_NUM, BUMP_DEN = 9, 8
"""Fee raise of a replacement: +12.5 %, above the +10 % geth, anvil and Hardhat require."""


class NonceGap(ChainError):
    """The node's nonce for the account is not what the sender expects."""

    def __init__(self, account: str, node_nonce: int, nonce: int, detail: str) -> None:
        self.account, self.node_nonce, self.nonce = account, node_nonce, nonce
        super().__init__(detail)


@dataclass(frozen=True)
class Flight:
    """One nonce in flight: every version sent (the last is the live one)."""

    index: int
    nonce: int
    raws: tuple[bytes, ...]
    hashes: tuple[str, ...]
    first_sent: float
    last_sent: float

    @property
    def raw(self) -> bytes:
        return self.raws[-1]


@dataclass(frozen=True)
class Outcome:
    """What one `submit` did besides sending: for logs, tests and benchmarks."""

    sent: int
    replaced: int
    resent: int
    max_in_flight: int


def tx_hash(raw: bytes) -> str:
    from chain.journal import tx_hash_of

    return tx_hash_of(raw)


def decode(raw: bytes) -> dict[str, Any]:
    tx = dict(TypedTransaction.from_bytes(HexBytes(raw)).as_dict())
    for k in ("v", "r", "s"):
        tx.pop(k, None)
    if not tx.get("to"):
        tx.pop("to", None)
    return tx


def bumped(tx: dict[str, Any], base_fee: int) -> dict[str, Any]:
    """`tx` with both fees raised by 12.5 % (rounded up, at least +1 wei), covering `base_fee` twice."""
    tip = max(-(-int(tx["maxPriorityFeePerGas"]) * BUMP_NUM // BUMP_DEN), int(tx["maxPriorityFeePerGas"]) + 1)
    cap = max(-(-int(tx["maxFeePerGas"]) * BUMP_NUM // BUMP_DEN), int(tx["maxFeePerGas"]) + 1, fee_cap(base_fee, tip))
    return {**tx, "maxPriorityFeePerGas": tip, "maxFeePerGas": cap}


def _journal(sender: Sender, raws: Sequence[bytes]) -> None:
    if sender.journal is None:
        return
    from chain.journal import intent_of

    txs = [(raw, decode(raw)) for raw in raws]
    sender.journal.append_many([(raw, sender.account.address, int(tx["nonce"]),
                                 intent_of(tx.get("to"), tx.get("data", b""), int(tx.get("value", 0)))) for raw, tx in txs])


def _known_error(error: Any) -> bool:
    text = str(error).lower()
    return "already known" in text or "already imported" in text or "transaction already exists" in text


def _send(sender: Sender, flights: Sequence[Flight], *, journalled: bool = False) -> list[Flight]:
    """Journal, then send in one batch; the flights to send again. A nonce-too-high refusal while
    an earlier nonce of ours is in flight is one: Hardhat's automining node handles a batch's
    calls concurrently and refuses to queue a nonce whose predecessor it has not seen yet. Any
    other refusal drops its journal entry, gives back its nonce and is raised (the others were
    sent and stay in flight on the node)."""
    raws = [f.raw for f in flights]
    if not journalled:
        _journal(sender, raws)
    answers = sender.rpc_answers([("eth_sendRawTransaction", ["0x" + r.hex()]) for r in raws])
    again: list[Flight] = []
    for f, item in zip(flights, answers, strict=True):
        if item is None or "error" not in item or _known_error(item["error"]):
            continue
        from chain.journal import refusal_of

        refusal = refusal_of(Exception(str(item["error"].get("message", item["error"]))))
        ahead = any(g.nonce < f.nonce for g in flights) or any(n < f.nonce for n in sender.nonces.in_flight(
            sender.account.address) - {g.nonce for g in flights})
        if refusal.code == "nonce-too-high" and ahead:
            again.append(f)
            continue
        if sender.journal is not None:
            sender.journal.drop(f.hashes[-1], str(item["error"]))
        if refusal.code == "nonce-too-high":  # a node that queues nothing (Hardhat's automine) names the hole at once
            sender.nonces.resync(sender.account.address)
            raise NonceGap(sender.account.address, -1, f.nonce, (
                f"nonce gap for {sender.account.address}: the node refuses nonce {f.nonce} as ahead of the account's, "
                f"and no earlier nonce of this sender is in flight (handed out, then never sent); send the missing "
                f"ones from the journal (`Journal.replay`), or send again: the nonce manager asks the node ({refusal})"))
        if refusal.code != "nonce-too-low":
            sender.nonces.failed(sender.account.address, f.nonce)
        else:
            sender.nonces.resync(sender.account.address)
            raise NonceGap(sender.account.address, -1, f.nonce, f"nonce {f.nonce} of {sender.account.address} is used "
                           f"already: another signer is sending with this key, or a transaction of this one was "
                           f"mined unseen; the nonce manager asks the node again on the next send ({refusal})")
        raise ChainError(f"eth_sendRawTransaction failed: {item['error']} ({refusal})")
    return again


def _send_in_order(sender: Sender, flights: Sequence[Flight]) -> list[Flight]:
    """Send refused-as-early transactions one request each, lowest nonce first; those still early."""
    again: list[Flight] = []
    for f in sorted(flights, key=lambda f: f.nonce):
        again += _send(sender, [f], journalled=True)
    return again


def run_window(sender: Sender, raws: Iterable[bytes], *, poll_s: float = 0.05, reverts: bool = False) -> list[dict[str, Any]]:
    """`Sender.submit`'s loop (the module's doc); with `reverts`, a reverted transaction's receipt is
    returned like any other, for the caller to name (else it raises ChainError)."""
    source = iter(raws)
    address = sender.account.address
    live: list[Flight] = []
    receipts: dict[int, dict[str, Any]] = {}
    count = sent = replaced = resent = peak = 0
    exhausted = False
    early: list[Flight] = []  # refused as nonce-too-high behind our own earlier nonces: sent again next round
    try:
        while True:
            if early:
                early = _send_in_order(sender, early)
            fresh: list[Flight] = []
            while not early and not exhausted and len(live) + len(fresh) < sender.window:
                try:
                    raw = next(source)
                except StopIteration:
                    exhausted = True
                    break
                now = time.monotonic()
                fresh.append(Flight(count, int(decode(raw)["nonce"]), (raw,), (tx_hash(raw),), now, now))
                count += 1
            if fresh:
                for f in fresh:
                    sender.nonces.flying(address, f.nonce)
                live += fresh
                early += _send(sender, fresh)
                sent += len(fresh)
                peak = max(peak, len(live))
            if not live:
                break
            hashes = [(f, h) for f in live for h in f.hashes]
            answers = sender.rpc_batch([("eth_getTransactionReceipt", [h]) for _, h in hashes])
            for (f, h), r in zip(hashes, answers, strict=True):
                if r is not None and f.index not in receipts:
                    receipts[f.index] = r
                    sender.nonces.flying(address, f.nonce, done=True)
                    if sender.journal is not None:
                        sender.journal.mark(h, int(r["blockNumber"], 16), int(r["transactionIndex"], 16))
                        for other in f.hashes:
                            if other != h:
                                sender.journal.drop(other, f"replaced by {h}, which was mined")
            before = len(live)
            live = [f for f in live if f.index not in receipts]
            if len(live) < before:
                continue  # the window opened: fill it before looking at anything else
            now = time.monotonic()
            late = [f for f in live if now - f.first_sent > sender.timeout_s]
            if late:
                raise ChainError(f"{len(late)} transactions not mined within {sender.timeout_s} s (first {late[0].hashes[-1]}, "
                                 f"nonce {late[0].nonce}); raise HERITAGE_TX_TIMEOUT_S or check the node")
            stuck = [f for f in live if now - f.last_sent > sender.stuck_s]
            if stuck:
                repaired = _repair(sender, live, stuck)
                replaced += sum(1 for kind, _ in repaired if kind == "replaced")
                resent += sum(1 for kind, _ in repaired if kind == "resent")
                by_index = {f.index: f for _, f in repaired}
                live = [by_index.get(f.index, f) for f in live]
            time.sleep(poll_s)
    finally:
        for f in live:  # stopped by an error: what is still in flight is nobody's any more
            sender.nonces.flying(address, f.nonce, done=True)
    sender.last_outcome = Outcome(sent, replaced, resent, peak)
    if replaced or resent:
        log.warning("%s: %d transactions replaced with higher fees, %d re-sent after the node dropped them",
                    address, replaced, resent)
    out = [receipts[i] for i in range(count)]
    _confirm(sender, out)
    for r in out if not reverts else ():
        if int(r["status"], 16) != 1:
            h = r["transactionHash"]
            raise ChainError(f"transaction {h} reverted; replay it with `cast run {h}` to see why")
    return out


def _confirm(sender: Sender, receipts: Sequence[dict[str, Any]], *, poll_s: float = 0.05) -> None:
    if not sender.confirmations or not receipts:
        return
    deadline = time.monotonic() + sender.timeout_s
    last = max(int(r["blockNumber"], 16) for r in receipts)
    while int(sender.w3.eth.block_number) < last + sender.confirmations:
        if time.monotonic() > deadline:
            raise ChainError(f"block {last} not {sender.confirmations} deep within {sender.timeout_s} s")
        time.sleep(poll_s)


def _repair(sender: Sender, live: Sequence[Flight], stuck: Sequence[Flight]) -> list[tuple[str, Flight]]:
    """Look at stuck transactions and replace, re-send or report them; (what was done, the flight after) of each."""
    address = sender.account.address
    lookups = [(f, h) for f in stuck for h in f.hashes]
    calls: list[tuple[str, list[Any]]] = [("eth_getTransactionCount", [address, "latest"]),
                                          ("eth_getBlockByNumber", ["latest", False])]
    calls += [("eth_getTransactionByHash", [h]) for _, h in lookups]
    calls += [("eth_getTransactionReceipt", [h]) for _, h in lookups]
    answers = sender.rpc_batch(calls)
    mined_nonce = int(answers[0], 16)
    base_fee = int(answers[1].get("baseFeePerGas", "0x0"), 16)
    n = len(lookups)
    known = {h for (_, h), a in zip(lookups, answers[2:2 + n], strict=True) if a is not None}
    have_receipt = {h for (_, h), a in zip(lookups, answers[2 + n:], strict=True) if a is not None}
    in_flight = {f.nonce for f in live} | sender.nonces.in_flight(address)
    acted: list[tuple[str, Flight]] = []
    for f in stuck:
        if have_receipt & set(f.hashes):
            continue  # mined meanwhile: the next poll collects it
        now = time.monotonic()
        if mined_nonce > f.nonce:
            sender.nonces.resync(address)
            raise NonceGap(address, mined_nonce, f.nonce, (
                f"nonce {f.nonce} of {address} was used on chain by a transaction this sender did not send (the node's "
                f"next nonce is {mined_nonce}): another signer uses this key; give each process its own key, or let "
                f"one process send (the journal's lock), then send again"))
        if not known & set(f.hashes):
            sender.rpc_answers([("eth_sendRawTransaction", ["0x" + f.raw.hex()])])  # the journal has these bytes
            log.warning("%s: nonce %d was dropped by the node; sent again as %s", address, f.nonce, f.hashes[-1])
            acted.append(("resent", replace(f, last_sent=now)))
            continue
        if mined_nonce < f.nonce:
            if any(mined_nonce <= n2 < f.nonce for n2 in in_flight):
                continue  # an earlier one of ours holds it back: that one is repaired
            sender.nonces.resync(address)
            raise NonceGap(address, mined_nonce, f.nonce, (
                f"nonce gap for {address}: the node's next nonce is {mined_nonce} but this transaction has nonce "
                f"{f.nonce}, and nonces {mined_nonce}..{f.nonce - 1} are nowhere in flight (dropped, or refused after "
                f"their nonces were handed out); send them again from the journal (`Journal.replay`) or send "
                f"{f.nonce - mined_nonce} transactions to fill the gap, then resend"))
        new_raw = sender.sign_dict(bumped(decode(f.raw), base_fee))
        new = replace(f, raws=(*f.raws, new_raw), hashes=(*f.hashes, tx_hash(new_raw)), last_sent=now)
        _journal(sender, [new_raw])  # journalled before it is sent: whichever version is mined is known
        item = sender.rpc_answers([("eth_sendRawTransaction", ["0x" + new_raw.hex()])])[0]
        if item is not None and "error" in item and not _known_error(item["error"]):
            if sender.journal is not None:
                sender.journal.drop(new.hashes[-1], str(item["error"]))
            log.warning("%s: replacing nonce %d was refused (%s); the original stays in flight", address, f.nonce,
                        item["error"])
            acted.append(("refused", replace(f, last_sent=now)))
            continue
        log.warning("%s: nonce %d not mined within %.1f s; replaced by %s with fees +12.5 %%", address, f.nonce,
                    sender.stuck_s, new.hashes[-1])
        acted.append(("replaced", new))
    return acted

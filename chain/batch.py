"""Many calls from one account at once, each with its own outcome.

`send_many` estimates every call in one JSON-RPC batch (a call that would revert is named then,
and left out: it costs nothing), signs the others with consecutive nonces of the account, and
sends them through the send window (chain/window.py: journalled first, then one JSON-RPC flush
of up to `tx_window` transactions; anvil mines them in consecutive blocks, a real node many per
block). Each call answers its own receipt, or its own named refusal; one that reverts on chain
all the same (the state moved between its estimate and its block) fails alone, and its receipt
says so.

The API's batched relays (api/batches.py) send steward-signed actions this way; everything else
keeps sending one transaction at a time (chain/client.py `Chain.send`).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode

from chain import calls
from chain.abi import abi_type
from chain.client import Chain
from chain.journal import refusal_of
from chain.sender import DEFAULT_TIP, Fees, Sender
from chain.types import Sent
from core.errors import ChainError

GAS_MARGIN_NUM, GAS_MARGIN_DEN, GAS_EXTRA = 6, 5, 20_000
"""Gas limit of a batched call: its estimate × 1.2 + 20,000, as `Chain.send` allows a single one."""


POLL_S = 0.005
"""How often a batch's receipts are asked for: its requests wait for them."""


@dataclass(frozen=True)
class Landed:
    """A call that was mined: its receipt, and whether it succeeded (`ok`) or reverted."""

    sent: Sent
    ok: bool


def send_many(chain: Chain, batch: Sequence[calls.Call], sender: str) -> list[Landed | ChainError]:
    """Each call of `batch` from `sender` (the signing key's or a development account), in order:
    what was mined, or the named error (`chain.errors.ContractRevert`, or the node's refusal) that
    kept it from being sent."""
    if not batch:
        return []
    signer = chain.local_sender(sender)
    if signer is None:  # the node's unlocked accounts: nothing to sign here, so one at a time
        return [_send_one(chain, call, sender) for call in batch]
    lock: AbstractContextManager[Any] = chain.journal.locked() if chain.journal is not None else nullcontext()
    with lock:  # the nonce read and the sends must not interleave with another sender of this account
        address = signer.account.address
        estimates, pending, fees = _estimates(chain, signer, batch)
        outcomes: list[Landed | ChainError | int] = list(estimates)
        ready = [(i, gas) for i, gas in enumerate(outcomes) if isinstance(gas, int)]
        signer.nonces.resync(address, pending)
        first = signer.nonces.take(address, len(ready)) if ready else 0
        raws = [signer.sign(batch[i].to, batch[i].data, gas=gas, value=int(batch[i].value), nonce=first + k, fees=fees)
                for k, (i, gas) in enumerate(ready)]
        receipts = signer.submit(raws, reverts=True, poll_s=POLL_S) if raws else []
    for (i, _), receipt in zip(ready, receipts, strict=True):
        outcomes[i] = Landed(calls.sent(chain, receipt), int(receipt["status"], 16) == 1)
    return [o for o in outcomes if not isinstance(o, int)]


def read_many(chain: Chain, reads: Sequence[calls.Call], sender: str) -> tuple[int, list[tuple[Any, ...]]]:
    """The latest block's timestamp and each view call's outputs (a tuple each), read in one
    JSON-RPC batch (through `sender`'s connection; one call at a time without a local key)."""
    signer = chain.local_sender(sender)
    if signer is None:
        outs = [r.fn.call() for r in reads]
        return int(chain.w3.eth.get_block("latest")["timestamp"]), [o if isinstance(o, tuple) else (o,) for o in outs]
    requests: list[tuple[str, list[Any]]] = [("eth_getBlockByNumber", ["latest", False])]
    requests += [("eth_call", [{"to": r.to, "data": r.data}, "latest"]) for r in reads]
    block, *answers = signer.rpc_batch(requests)
    return int(block["timestamp"], 16), [tuple(decode([abi_type(o) for o in r.fn.abi["outputs"]], bytes.fromhex(a[2:])))
                                         for r, a in zip(reads, answers, strict=True)]


def _estimates(chain: Chain, signer: Sender, batch: Sequence[calls.Call]) -> tuple[list[int | ChainError], int, Fees]:
    """Each call's gas limit (against the pending block), or why it would revert; the account's
    pending nonce count and the fees to pay (`Fees.current`'s rule): all in one JSON-RPC batch."""
    address = signer.account.address
    requests: list[tuple[str, list[Any]]] = [
        ("eth_estimateGas", [{"from": address, "to": c.to, "data": c.data, "value": hex(int(c.value))}, "pending"])
        for c in batch]
    requests += [("eth_getTransactionCount", [address, "pending"]), ("eth_getBlockByNumber", ["latest", False]),
                 ("eth_maxPriorityFeePerGas", [])]
    *answers, count, block, tip = signer.rpc_answers(requests)
    if count is None or "result" not in count or block is None or "result" not in block:
        raise ChainError(f"the node gave no nonce or latest block for {address} ({count}, {block}); is it running?")
    base = int(block["result"].get("baseFeePerGas", "0x0"), 16)
    fees = Fees.of(base, int(tip["result"], 16) if tip is not None and "result" in tip else DEFAULT_TIP)
    out: list[int | ChainError] = []
    for call, item in zip(batch, answers, strict=True):
        if item is None:
            out.append(ChainError(f"the node gave no gas estimate for {call.name}; is it running?"))
        elif "error" in item:
            out.append(_refusal(chain, item["error"]))
        else:
            out.append(int(item["result"], 16) * GAS_MARGIN_NUM // GAS_MARGIN_DEN + GAS_EXTRA)
    return out, int(count["result"], 16), fees


def _refusal(chain: Chain, error: dict[str, Any]) -> ChainError:
    """A JSON-RPC error as the contract's named error (its revert data), else the node's refusal."""
    data = error.get("data")
    if isinstance(data, dict):  # some nodes nest the revert data one level deeper
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x") and len(data) >= 10:
        try:
            named = chain.decoder.decode(data)
        except ValueError:
            named = None
        if named is not None:
            return named
    return refusal_of(Exception(str(error.get("message", error))))


def _send_one(chain: Chain, call: calls.Call, sender: str) -> Landed | ChainError:
    try:
        return Landed(calls.send(chain, call, sender), True)
    except ChainError as err:
        return err

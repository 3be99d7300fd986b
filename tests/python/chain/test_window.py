"""The send window against a real anvil: never more than `window` in flight (geth's per-account
slots imitated), a stuck transaction replaced with higher fees, a dropped one re-sent, nonce gaps
named. Each test on its own node: they switch automine off and empty its pool. The repairs run on
anvil and Hardhat's node; the pool-limit and relay tests on anvil (Hardhat has no txpool_status)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound

from chain.anvil import Anvil
from chain.hardhat import Hardhat
from chain.journal import Journal
from chain.sender import Sender, dev_account
from chain.window import NonceGap, bumped, decode


@pytest.fixture()
def node() -> Iterator[tuple[Anvil, Web3]]:
    with Anvil() as anvil:
        yield anvil, Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 30}))


DROP = {"anvil": "anvil_dropTransaction", "hardhat": "hardhat_dropTransaction"}


@pytest.fixture(params=["anvil", "hardhat"])
def any_node(request: pytest.FixtureRequest) -> Iterator[tuple[str, Anvil | Hardhat, Web3]]:
    with (Anvil() if request.param == "anvil" else Hardhat()) as n:
        yield request.param, n, Web3(Web3.HTTPProvider(n.url, request_kwargs={"timeout": 30}))


def rpc(w3: Web3, method: str, *params: Any) -> Any:
    answer = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    assert "error" not in answer, answer
    return answer["result"]


class PoolLimited(Sender):
    """Refuses to send (fails the test) when the node's pool would hold more than `window` of
    this account's transactions: geth's `--txpool.accountslots` imitated."""

    most = 0

    def rpc_answers(self, calls: Sequence[tuple[str, list[Any]]]) -> list[dict[str, Any] | None]:
        sends = sum(1 for m, _ in calls if m == "eth_sendRawTransaction")
        if sends:
            pending = int(rpc(self.w3, "txpool_status")["pending"], 16)
            self.most = max(self.most, pending + sends)
            assert pending + sends <= self.window, f"{pending} pending + {sends} sent exceeds the window {self.window}"
        return super().rpc_answers(calls)


def test_the_window_bounds_what_is_in_flight_and_keeps_the_order(node: tuple[Anvil, Web3]) -> None:
    anvil, w3 = node
    rpc(w3, "evm_setAutomine", False)
    rpc(w3, "evm_setIntervalMining", 1)  # blocks every second: transactions wait in the pool meanwhile
    sender = PoolLimited(w3, anvil.url, dev_account(1), window=4, timeout_s=60)
    receiver = dev_account(2).address
    before = int(w3.eth.get_balance(receiver))
    receipts = sender.transact_many(receiver, [b""] * 12, gas=21_000, value=3)
    assert len(receipts) == 12 and sender.most == 4
    assert sender.last_outcome is not None and sender.last_outcome.max_in_flight == 4
    assert int(w3.eth.get_balance(receiver)) == before + 36
    nonces = [int(w3.eth.get_transaction(r["transactionHash"])["nonce"]) for r in receipts]
    assert nonces == list(range(12))  # receipts in the order of the calls


def test_a_generator_is_drawn_as_the_window_opens(node: tuple[Anvil, Web3]) -> None:
    anvil, w3 = node
    sender = Sender(w3, anvil.url, dev_account(3), window=2)
    drawn: list[int] = []

    def datas() -> Iterator[bytes]:
        for i in range(6):
            drawn.append(i)
            yield b""

    assert len(sender.transact_many(dev_account(4).address, datas(), gas=21_000)) == 6 and drawn == list(range(6))


def test_a_window_below_one_is_refused(node: tuple[Anvil, Web3]) -> None:
    anvil, w3 = node
    with pytest.raises(Exception, match="HERITAGE_TX_WINDOW"):
        Sender(w3, anvil.url, dev_account(3), window=0)


def test_a_replacement_raises_both_fees_by_more_than_ten_percent() -> None:
    for tip, cap in ((1, 1), (7, 10), (10**9, 3 * 10**9), (15, 16)):
        new = bumped({"maxPriorityFeePerGas": tip, "maxFeePerGas": cap}, base_fee=0)
        assert new["maxPriorityFeePerGas"] * 10 >= tip * 11 and new["maxFeePerGas"] * 10 >= cap * 11
        assert new["maxFeePerGas"] >= new["maxPriorityFeePerGas"]
    assert bumped({"maxPriorityFeePerGas": 1, "maxFeePerGas": 10}, base_fee=100)["maxFeePerGas"] >= 200


def _in_thread(fn: Any) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except Exception as exc:  # handed to the test
            out["error"] = exc

    t = threading.Thread(target=run)
    t.start()
    return t, out


def _known(w3: Web3, tx_hash: str) -> bool:
    """Whether the node has the transaction (pending or mined)."""
    try:
        return w3.eth.get_transaction(HexBytes(tx_hash)) is not None
    except TransactionNotFound:
        return False


def _until(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_a_stuck_transaction_is_replaced_with_higher_fees_and_journalled_first(
        any_node: tuple[str, Anvil | Hardhat, Web3], tmp_path: Path) -> None:
    _, anvil, w3 = any_node
    rpc(w3, "evm_setAutomine", False)  # nothing is mined: the transaction is stuck
    journal = Journal(tmp_path / "journal.jsonl")
    sender = Sender(w3, anvil.url, dev_account(5), journal=journal, stuck_s=0.5, timeout_s=30)
    t, out = _in_thread(lambda: sender.transact_many(dev_account(6).address, [b""], gas=21_000, value=1))
    _until(lambda: len(journal.entries()) >= 2)  # the replacement is journalled before it is sent
    _until(lambda: _known(w3, journal.entries()[1].tx_hash))  # and then reaches the node
    rpc(w3, "evm_mine")
    t.join(30)
    assert "error" not in out, out
    original, replacement = journal.entries()[:2]
    assert original.nonce == replacement.nonce
    receipt = out["value"][0]
    assert receipt["transactionHash"] in {e.tx_hash for e in journal.entries()[1:]}  # a replacement was mined
    old, new = decode(original.raw), decode(replacement.raw)
    assert new["maxPriorityFeePerGas"] * 10 >= old["maxPriorityFeePerGas"] * 11
    assert new["maxFeePerGas"] * 10 >= old["maxFeePerGas"] * 11
    entries = {e.tx_hash: e for e in journal.entries()}
    assert entries[receipt["transactionHash"]].mined and entries[original.tx_hash].dropped  # never replayed
    assert sender.last_outcome is not None and sender.last_outcome.replaced >= 1


def test_a_dropped_transaction_is_sent_again_from_the_journal(any_node: tuple[str, Anvil | Hardhat, Web3],
                                                              tmp_path: Path) -> None:
    kind, anvil, w3 = any_node
    rpc(w3, "evm_setAutomine", False)
    journal = Journal(tmp_path / "journal.jsonl")
    sender = Sender(w3, anvil.url, dev_account(7), journal=journal, stuck_s=0.5, timeout_s=30)
    t, out = _in_thread(lambda: sender.transact_many(dev_account(6).address, [b""], gas=21_000, value=1))
    _until(lambda: len(journal.entries()) == 1)
    h = journal.entries()[0].tx_hash
    _until(lambda: _known(w3, h))  # journalled before it is sent: the node may not have it yet
    rpc(w3, DROP[kind], h)  # the node forgets it, as a pool does under pressure

    def back() -> bool:
        try:
            return w3.eth.get_transaction(HexBytes(h)) is not None
        except Exception:
            return False
    _until(back)
    rpc(w3, "evm_mine")
    t.join(30)
    assert "error" not in out, out
    assert out["value"][0]["transactionHash"] == h  # the same bytes, not a new signature
    assert sender.last_outcome is not None and sender.last_outcome.resent >= 1


def test_a_nonce_hole_below_is_named(any_node: tuple[str, Anvil | Hardhat, Web3]) -> None:
    """anvil queues the transaction and the window finds the hole when it sticks; Hardhat's automine
    refuses it at once as nonce-too-high: both are a NonceGap naming the hole."""
    _, anvil, w3 = any_node
    account = dev_account(8)
    sender = Sender(w3, anvil.url, account, stuck_s=0.3, timeout_s=20)
    sender.nonces.take(account.address, 2)  # two nonces handed out and never sent: a hole
    with pytest.raises(NonceGap, match=r"nonce gap for 0x[0-9a-fA-F]{40}: the node.* nonce 2") as gap:
        sender.transact_many(account.address, [b""], gas=21_000)
    assert gap.value.nonce == 2
    assert len(sender.transact_many(account.address, [b""], gas=21_000)) == 1  # resynced from the node


def test_a_nonce_used_by_another_signer_is_named(any_node: tuple[str, Anvil | Hardhat, Web3]) -> None:
    _, anvil, w3 = any_node
    account = dev_account(9)
    ours = Sender(w3, anvil.url, account)
    ours.nonces.take(account.address)  # reads the node's count (0) before the other signer sends
    ours.nonces.failed(account.address, 0)
    Sender(w3, anvil.url, account).transact_many(account.address, [b""], gas=21_000)  # another process, same key
    with pytest.raises(NonceGap, match="another signer is sending with this key"):
        ours.transact_many(account.address, [b""], gas=21_000)
    assert len(ours.transact_many(account.address, [b""], gas=21_000)) == 1  # resynced from the node


def test_relays_of_one_sender_wait_for_a_slot_in_the_window(node: tuple[Anvil, Web3], tmp_path: Path) -> None:
    from chain.journal import NodeRefusal, _slot, relay

    anvil, w3 = node
    user = dev_account(4)
    sender = Sender(w3, anvil.url, user)
    nonce = sender.nonces.take(user.address)
    from chain.sender import Fees

    raw = sender.sign(user.address, b"", gas=21_000, nonce=nonce, fees=Fees.current(w3))
    journal = Journal(tmp_path / "journal.jsonl")
    slot = _slot(user.address, 1)
    assert slot.acquire(timeout=1)  # one relay of this user is in flight: the window of 1 is full
    try:
        with pytest.raises(NodeRefusal, match="transactions in flight already") as refused:
            relay(journal, w3, raw, timeout=0.3, window=1)
        assert refused.value.code == "too-many-in-flight" and journal.entries() == []  # nothing sent
    finally:
        slot.release()
    assert relay(journal, w3, raw, timeout=10, window=1)["status"] == 1  # the slot is free again


def test_a_refused_replacement_keeps_the_original_in_flight(node: tuple[Anvil, Web3], tmp_path: Path) -> None:
    """A node may refuse a replacement (underpriced by its own rule): the original stays the one in
    flight, the refused bytes are journalled as dropped, and the next look tries again (signing is
    deterministic: the same bytes, live again in the journal once the node takes them)."""
    anvil, w3 = node
    refusals: list[str] = []

    class Picky(Sender):
        def rpc_answers(self, calls: Sequence[tuple[str, list[Any]]]) -> list[dict[str, Any] | None]:
            if journal.entries() and len(journal.entries()) == 2 and not refusals and calls[0][0] == "eth_sendRawTransaction":
                refusals.append(calls[0][1][0])
                return [{"id": 0, "error": {"code": -32000, "message": "replacement transaction underpriced"}}]
            return super().rpc_answers(calls)

    rpc(w3, "evm_setAutomine", False)
    journal = Journal(tmp_path / "journal.jsonl")
    sender = Picky(w3, anvil.url, dev_account(5), journal=journal, stuck_s=0.4, timeout_s=30)
    t, out = _in_thread(lambda: sender.transact_many(dev_account(6).address, [b""], gas=21_000, value=1))
    _until(lambda: len(journal.entries()) >= 3)  # refused once, then a second replacement
    # A replacement after the refused one is in the pool (on a loaded machine the sender may have
    # replaced that one again already: any later version will do).
    _until(lambda: any(_known(w3, e.tx_hash) for e in journal.entries()[2:]))
    rpc(w3, "evm_mine")
    t.join(30)
    assert "error" not in out, out
    first, refused, accepted = journal.entries()[:3]
    assert refused.dropped and first.nonce == refused.nonce == accepted.nonce
    assert out["value"][0]["transactionHash"] in {e.tx_hash for e in journal.entries()[2:]}

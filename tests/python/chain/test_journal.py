"""The journal on its own: written before sending, read incrementally by several readers, torn
lines skipped, replayed in recorded order onto a node that lost its blocks, compacted."""

from __future__ import annotations

import json
from pathlib import Path

from web3 import Web3

from chain.anvil import Anvil
from chain.journal import Journal, intent_of, tx_hash_of
from chain.sender import dev_account


def _transfer(w3: Web3, journal: Journal, index: int, nonce: int, value: int) -> str:
    account = dev_account(index)
    to = dev_account(9).address
    tx = {"type": 2, "chainId": 31337, "nonce": nonce, "to": to, "value": value, "gas": 21_000,
          "maxFeePerGas": 10 * 10**9, "maxPriorityFeePerGas": 10**9}
    raw = bytes(account.sign_transaction(tx).raw_transaction)
    h = journal.send(w3, raw, sender=account.address, nonce=nonce, intent=intent_of(to, b"", value))
    journal.await_receipt(w3, h, timeout=20)
    return h


def test_torn_lines_are_skipped_and_readers_see_each_others_appends(tmp_path: Path) -> None:
    a, b = Journal(tmp_path / "j.jsonl"), Journal(tmp_path / "j.jsonl")
    a.append(b"\x02\x01", sender="0xAB", nonce=0, intent="0x1")
    assert [e.tx_hash for e in b.entries()] == [tx_hash_of(b"\x02\x01")]
    with open(tmp_path / "j.jsonl", "a") as f:
        f.write('{"tx": "0xdead", "raw": "0x02')  # a crash in the middle of a line
    assert len(b.entries()) == 1
    b.append(b"\x02\x02", sender="0xAB", nonce=1, intent="0x2")
    assert [e.nonce for e in a.entries()] == [0, 1]
    a.mark(tx_hash_of(b"\x02\x02"), 7, 0)
    assert b.find(tx_hash_of(b"\x02\x02")) is not None and b.find(tx_hash_of(b"\x02\x02")).block == 7  # type: ignore[union-attr]


def test_replay_restores_missing_transactions_in_recorded_order(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    with Anvil() as first:
        w3 = Web3(Web3.HTTPProvider(first.url))
        hashes = [_transfer(w3, journal, 1, n, 1000 + n) for n in range(3)] + [_transfer(w3, journal, 2, 0, 5)]
        positions = {e.tx_hash: (e.block, e.index) for e in journal.entries()}
    # Journalled in another order than mined (two writers): the receipt marks decide.
    lines = (tmp_path / "j.jsonl").read_text().splitlines()
    txs, marks = [x for x in lines if '"tx"' in x], [x for x in lines if '"mined"' in x]
    (tmp_path / "j.jsonl").write_text("\n".join([*reversed(txs), *marks]) + "\n")
    with Anvil() as fresh:  # a node that lost every block
        w3 = Web3(Web3.HTTPProvider(fresh.url))
        result = Journal(tmp_path / "j.jsonl").replay(w3, timeout=20)
        assert result.replayed == 4 and not result.lost
        for h in hashes:
            r = w3.eth.get_transaction_receipt(h)
            assert (r["blockNumber"], r["transactionIndex"]) == positions[h]
        again = Journal(tmp_path / "j.jsonl").replay(w3, timeout=20)  # idempotent: nothing is sent twice
        assert again.replayed == 0 and again.present == 4


def test_a_transaction_whose_nonce_was_taken_is_kept_aside_not_forced(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    with Anvil() as first:
        _transfer(Web3(Web3.HTTPProvider(first.url)), journal, 3, 0, 1)
    with Anvil() as other:
        w3 = Web3(Web3.HTTPProvider(other.url))
        _transfer(w3, Journal(tmp_path / "other.jsonl"), 3, 0, 2)  # another transaction took nonce 0
        result = journal.replay(w3, timeout=20)
        assert result.replayed == 0 and len(result.lost) == 1
        kept = [json.loads(line) for line in (tmp_path / "j.lost.jsonl").read_text().splitlines()]
        assert kept[0]["tx"] == result.lost[0]


def test_compaction_keeps_only_what_may_need_a_resend(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    with Anvil() as node:
        w3 = Web3(Web3.HTTPProvider(node.url))
        for n in range(3):
            _transfer(w3, journal, 4, n, 1)
        journal.append(b"\x02\xff", sender=dev_account(4).address, nonce=99, intent="0x0")  # never answered
        assert journal.compact(w3, depth=1) == 2  # the newest mined one is not yet deep enough
        left = journal.entries()
        assert [e.nonce for e in left] == [2, 99]

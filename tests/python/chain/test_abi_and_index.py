"""The fast ABI encoder and event decoder agree with web3.py; the index is resumable,
idempotent and waits for confirmations."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from web3 import Web3

from chain.abi import Encoder, EventDecoder
from chain.anvil import Anvil
from chain.compile import Artifact
from chain.deploy import contract
from chain.indexer import Index
from tests.python.chain.v2 import GAS, commit, deploy_dev, protocol

OPEN = protocol()


def cid(i: int) -> bytes:
    return bytes([0x01, 0x55, 0x12, 0x20]) + i.to_bytes(32, "big")


def test_calldata_matches_web3(artifacts: dict[str, Artifact], w3: Web3) -> None:
    registry = w3.eth.contract(abi=artifacts["HeritageRegistry"].abi)
    batch = [(1, cid(i), cid(1000 + i), OPEN, [("0x" + "ab" * 20, 700_000), ("0x" + "cd" * 20, 300_000)], b"\7" * 32)
             for i in range(3)]
    batch = [(c, a, m, p, [(Web3.to_checksum_address(r), s) for r, s in split], salt) for c, a, m, p, split, salt in batch]
    ours = Encoder(artifacts["HeritageRegistry"].abi).calldata("registerHeritageWorks", batch)
    assert "0x" + ours.hex() == registry.encode_abi("registerHeritageWorks", args=[batch])


def test_index_is_resumable_idempotent_and_waits_for_confirmations(
        artifacts: dict[str, Artifact], tmp_path: Path) -> None:
    with Anvil() as node:
        w3 = Web3(Web3.HTTPProvider(node.url))
        dep = deploy_dev(w3, artifacts)
        registry = contract(w3, artifacts["HeritageRegistry"], dep.registry)
        router = contract(w3, artifacts["RoyaltyRouter"], dep.router)
        contracts = {"HeritageRegistry": registry, "RoyaltyRouter": router}
        acc = w3.eth.accounts

        def send(fn, value: int = 0) -> None:  # type: ignore[no-untyped-def]
            w3.eth.wait_for_transaction_receipt(fn.transact({"from": acc[1], "value": value, "gas": GAS}))

        send(registry.functions.registerCommunity("Singers", [acc[1]], 1, acc[2]))
        salt = commit(w3, registry, acc[1], cid(1))
        send(registry.functions.registerHeritageWork((1, cid(1), cid(2), OPEN, [(acc[2], 1_000_000)], salt)))
        index = Index(tmp_path / "index.sqlite")
        stored = index.sync(w3, contracts, start=dep.block, confirmations=1)
        assert index.last_block() == int(w3.eth.block_number) - 1
        assert not index.events("Paid")
        send(router.functions.pay(1, b"\x01" * 32, 7), value=10**15)
        assert index.sync(w3, contracts, start=dep.block, confirmations=1) > 0  # the work's last block
        assert not index.events("Paid"), "the payment is not yet 1 block deep"
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        index.sync(w3, contracts, start=dep.block, confirmations=1)
        paid = index.events("Paid")
        assert len(paid) == 1 and paid[0]["work_id"] == 1
        assert paid[0]["args"]["amount"] == 10**15 and paid[0]["args"]["usageTime"] == 7
        assert paid[0]["args"]["usageRef"] == "0x" + "01" * 32
        assert paid[0]["timestamp"] == w3.eth.get_block(paid[0]["block"])["timestamp"]
        everything = index.events()

        # Re-indexing from scratch into the same database changes nothing (idempotent).
        with index.tx() as db:
            db.execute(text("DELETE FROM meta"))
        index.sync(w3, contracts, start=dep.block, confirmations=1)
        assert index.events() == everything
        # A new process resumes from the stored block.
        again = Index(tmp_path / "index.sqlite")
        assert again.last_block() == index.last_block()
        assert again.sync(w3, contracts, start=dep.block, confirmations=1) == 0
        names = {e["name"] for e in everything}
        assert {"CommunityRegistered", "Transfer", "WorkConfigured", "Paid"} <= names, names
        assert stored > 0


def test_event_decoder_matches_web3_process_log(artifacts: dict[str, Artifact], w3: Web3) -> None:
    dep = deploy_dev(w3, artifacts)
    registry = contract(w3, artifacts["HeritageRegistry"], dep.registry)
    acc = w3.eth.accounts
    tx = registry.functions.registerCommunity("Decoders", [acc[3], acc[4]], 2, acc[5]).transact({"from": acc[3]})
    receipt = w3.eth.wait_for_transaction_receipt(tx)
    decoder = EventDecoder(artifacts["HeritageRegistry"].abi)
    for log in receipt["logs"]:
        name, args = decoder.decode(log["topics"], log["data"])  # type: ignore[misc]
        theirs = getattr(registry.events, name)().process_log(log)
        assert dict(theirs["args"]) == args

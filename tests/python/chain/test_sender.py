"""Locally signed, batched sends against a real anvil: nonces under concurrency, EIP-1559 fees,
receipts, reverts and a node that is gone."""

from __future__ import annotations

import threading
import time

import pytest
from web3 import Web3

from chain.anvil import Anvil
from chain.sender import Fees, NonceManager, Sender, dev_account
from core.errors import ChainError


def test_dev_accounts_are_the_nodes_accounts(w3: Web3) -> None:
    assert [dev_account(i).address for i in range(3)] == list(w3.eth.accounts[:3])


def test_concurrent_senders_lose_and_duplicate_no_nonce(w3: Web3, anvil: Anvil) -> None:
    account = dev_account(11 % 10)  # anvil funds ten accounts
    nonces = NonceManager(w3)
    start = int(w3.eth.get_transaction_count(account.address))
    receiver = dev_account(3).address
    before = int(w3.eth.get_balance(receiver))
    hashes: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        sender = Sender(w3, anvil.url, account, nonces=nonces)
        fees = Fees.current(w3)
        for _ in range(10):
            nonce = nonces.take(account.address)
            raw = sender.sign(receiver, b"", gas=21_000, value=7, nonce=nonce, fees=fees)
            sent = sender.send_raw([raw], first_nonce=nonce)
            with lock:
                hashes.extend(sent)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    receipts = Sender(w3, anvil.url, account, nonces=nonces).wait(hashes)
    assert len(receipts) == 80 and all(int(r["status"], 16) == 1 for r in receipts)
    assert int(w3.eth.get_transaction_count(account.address)) == start + 80
    assert int(w3.eth.get_balance(receiver)) == before + 80 * 7
    used = sorted(int(w3.eth.get_transaction(h)["nonce"]) for h in hashes)
    assert used == list(range(start, start + 80))


def test_eip1559_fees_cover_the_base_fee(w3: Web3) -> None:
    fees = Fees.current(w3)
    base = int(w3.eth.get_block("latest")["baseFeePerGas"])
    assert fees.max_fee_per_gas == 2 * base + fees.max_priority_fee_per_gas
    assert fees.max_priority_fee_per_gas > 0


def test_a_refused_transaction_gives_its_nonce_back(w3: Web3, anvil: Anvil) -> None:
    account = dev_account(4)
    sender = Sender(w3, anvil.url, account)
    fees = Fees.current(w3)
    nonce = sender.nonces.take(account.address)
    too_little_gas = sender.sign(account.address, b"", gas=20_000, nonce=nonce, fees=fees)  # below 21,000
    with pytest.raises(ChainError, match="eth_sendRawTransaction failed"):
        sender.send_raw([too_little_gas], first_nonce=nonce)
    assert sender.nonces.take(account.address) == nonce  # reused, no gap
    ok = sender.sign(account.address, b"", gas=21_000, nonce=nonce, fees=fees)
    assert sender.wait(sender.send_raw([ok]))[0]["status"] == "0x1"


def test_a_reverted_transaction_is_reported_with_its_hash(w3: Web3, anvil: Anvil, artifacts: dict) -> None:  # type: ignore[type-arg]
    from tests.python.chain.v2 import deploy_dev

    dep = deploy_dev(w3, artifacts)
    sender = Sender(w3, anvil.url, dev_account(5))
    # pay(0, …) with value 0 reverts in the router; sent with fixed gas so the node accepts it.
    data = w3.eth.contract(abi=artifacts["RoyaltyRouter"].abi).encode_abi("pay", args=[0, b"\0" * 32, 0])
    with pytest.raises(ChainError, match="reverted; replay it with `cast run 0x"):
        sender.transact_many(dep.router, [data], gas=200_000)


def test_a_node_that_is_gone_is_a_clear_error(w3: Web3) -> None:
    with Anvil() as node:
        sender = Sender(Web3(Web3.HTTPProvider(node.url)), node.url, dev_account(6))
    with pytest.raises(ChainError, match=r"did not answer .* is it running"):
        sender.rpc_batch([("eth_blockNumber", [])])


def test_connect_with_a_key_deploys_and_sends_signed_transactions(anvil: Anvil, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """With HERITAGE_RPC_URL and HERITAGE_PRIVATE_KEY, nothing relies on unlocked accounts."""
    from pydantic import SecretStr

    from chain.client import connect
    from core.config import Settings

    key = dev_account(7)
    settings = Settings(data_dir=tmp_path, deployments_dir=tmp_path / "deployments", rpc_url=anvil.url,
                        private_key=SecretStr("0x" + bytes(key.key).hex()))
    chain = connect(settings)
    assert chain.accounts() == [key.address]
    before = int(chain.w3.eth.get_transaction_count(key.address))
    receipt = chain.send(chain.registry.functions.registerCommunity("Signed", [key.address], 1, key.address), key.address)
    assert receipt["status"] == "0x1"
    assert int(chain.w3.eth.get_transaction_count(key.address)) == before + 1
    assert chain.registry.functions.communityOf(chain.registry.functions.communityCount().call()).call()[0] == "Signed"
    tx = chain.w3.eth.get_transaction(receipt["transactionHash"])
    assert tx["type"] == 2 and tx["maxFeePerGas"] >= tx["maxPriorityFeePerGas"] > 0
    with pytest.raises(ChainError, match="cannot sign here"):
        chain.send(chain.registry.functions.registerCommunity("Other", [key.address], 1, key.address),
                   dev_account(8).address)


def test_wait_holds_until_the_receipt_is_confirmations_deep(w3: Web3, anvil: Anvil) -> None:
    sender = Sender(w3, anvil.url, dev_account(9), confirmations=2, timeout_s=20)
    fees = Fees.current(w3)
    nonce = sender.nonces.take(sender.account.address)
    hashes = sender.send_raw([sender.sign(sender.account.address, b"", gas=21_000, nonce=nonce, fees=fees)])

    def miner() -> None:
        import time

        time.sleep(0.5)
        for _ in range(2):
            w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    t = threading.Thread(target=miner)
    t.start()
    receipt = sender.wait(hashes)[0]
    t.join()
    # wait() returned only once two blocks lay above the receipt's (without the miner it times out)
    assert int(w3.eth.block_number) >= int(receipt["blockNumber"], 16) + 2


@pytest.mark.parametrize("block_time_s", [None, 0.5])
def test_the_embedded_node_mines_on_a_clock_with_a_block_time(block_time_s: float | None) -> None:
    """`HERITAGE_ANVIL_BLOCK_TIME_S` (chain/anvil.py `block_time_s`): a block every so often with
    every pending transaction, as a real chain; without it, a block only when a transaction comes."""
    with Anvil(block_time_s=block_time_s) as node:
        w3 = Web3(Web3.HTTPProvider(node.url))
        time.sleep(1.3)
        idle = int(w3.eth.block_number)
        receipts = Sender(w3, node.url, dev_account(0)).transact_many(dev_account(1).address, [b""] * 4, gas=30_000)
    assert idle == (0 if block_time_s is None else pytest.approx(1.3 / block_time_s, abs=1))
    assert [int(r["status"], 16) for r in receipts] == [1] * 4

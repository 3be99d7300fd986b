"""The chain layer on two independent nodes, anvil and Hardhat's, reached as any external node is:
`chain.client.connect` with HERITAGE_RPC_URL and HERITAGE_PRIVATE_KEY (nothing relies on unlocked
accounts). Deploy, register a community and heritage works, a derivative, pay, withdraw, index,
audit, and a batch through the send window. Written through chain.gateway with chain.types'
parameters, so a contract version changes them in one place."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from web3 import Web3

from chain import gateway as gw
from chain.anvil import Anvil
from chain.audit import audit_work
from chain.client import Chain, connect
from chain.errors import ContractRevert
from chain.hardhat import Hardhat
from chain.indexaudit import audit_index
from chain.sender import dev_account
from chain.types import OPEN, DerivativeParams, HeritageParams, cid_bytes, everything_to
from core.blockstore import BlockStore
from core.config import Settings
from core.types import Ppm, Wei


@pytest.fixture(scope="module", params=["anvil", "hardhat"])
def node(request: pytest.FixtureRequest) -> Iterator[Anvil | Hardhat]:
    """A node of its own per kind (the session's anvil is shared with tests that need unlocked
    accounts and a known deployment; this module deploys through a key)."""
    if request.param == "hardhat":
        yield request.getfixturevalue("hardhat")
        return
    with Anvil() as n:
        yield n


@pytest.fixture(scope="module")
def chain(node: Anvil | Hardhat, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    tmp = tmp_path_factory.mktemp("node")
    key = dev_account(0)  # the first development account: anvil and Hardhat fund the same mnemonic
    settings = Settings(data_dir=tmp, deployments_dir=tmp / "deployments", rpc_url=node.url,
                        private_key=SecretStr("0x" + bytes(key.key).hex()), tx_timeout_s=60)
    c = connect(settings)
    yield c
    c.close()


def _work(store: BlockStore, text: str) -> bytes:
    return cid_bytes(store.put_bytes(text.encode()))


def test_the_chain_layer_runs_end_to_end(chain: Chain, tmp_path: Path) -> None:
    me = dev_account(0).address
    assert chain.accounts() == [me]
    store = BlockStore(tmp_path / "blocks")
    community = gw.register_community(chain, name="Singers", stewards=[me], threshold=1, treasury=me, sender=me)
    work = gw.register_heritage(chain, HeritageParams(community, _work(store, "X:1\nT:Air\n"), b"", OPEN,
                                                      everything_to(me)), sender=me)
    batch = gw.register_heritage_batch(chain, [HeritageParams(community, _work(store, f"X:{i}\n"), b"", OPEN,
                                                              everything_to(me)) for i in range(2, 5)], sender=me)
    assert batch == [work + 1, work + 2, work + 3]
    derived = gw.register_derivative(chain, DerivativeParams(_work(store, "X:9\nT:Air, reworked\n"), b"", (work,),
                                                             (Ppm(200_000),), everything_to(me)), sender=me)
    assert [(p.work, p.ppm) for p in gw.parents_of(chain, derived)] == [(work, 200_000)]
    usage_time = int(chain.w3.eth.get_block("latest")["timestamp"])
    gw.pay(chain, derived, Wei(10**15), usage_ref=b"\x01" * 32, usage_time=usage_time, sender=me)
    assert gw.balance_of(chain, me) == 10**15  # both the derivative and its root pay `me`
    assert gw.withdraw(chain, sender=me) == 10**15 and gw.balance_of(chain, me) == 0
    assert chain.index().last_block() >= 0
    index_audit = audit_index(chain)
    assert index_audit.ok, index_audit.to_json()
    for w in (work, derived):
        audited = audit_work(chain, store, w)
        assert audited.ok, audited.to_json()


def test_a_batch_goes_through_the_window_on_this_node(chain: Chain) -> None:
    signer = chain.signer
    assert signer is not None and signer.window == 16
    receiver = dev_account(1).address
    before = int(chain.w3.eth.get_balance(receiver))
    receipts = signer.transact_many(receiver, [b""] * 40, gas=21_000, value=1)
    assert len(receipts) == 40 and all(r["status"] == "0x1" for r in receipts)
    assert int(chain.w3.eth.get_balance(receiver)) == before + 40
    assert signer.last_outcome is not None and signer.last_outcome.max_in_flight <= 16


def test_node_differences_the_sender_relies_on(node: Anvil | Hardhat) -> None:
    """What README's table says differs between the nodes, checked."""
    w3 = Web3(Web3.HTTPProvider(node.url))
    answer: Any = w3.provider.make_request("eth_feeHistory", [4, "latest", [50]])  # type: ignore[arg-type]
    assert "result" in answer and "baseFeePerGas" in answer["result"]
    version = str(w3.client_version).lower()
    assert ("anvil" in version) if isinstance(node, Anvil) else ("hardhat" in version)


def test_a_refusal_is_the_contracts_named_error_on_this_node(chain: Chain, tmp_path: Path) -> None:
    """Hardhat words a custom-error revert differently from anvil ("reverted with an unrecognized
    custom error", the revert data inside the JSON-RPC error object); both decode to the named error."""
    me, other = dev_account(0).address, dev_account(1).address
    store = BlockStore(tmp_path / "blocks")
    community = gw.register_community(chain, name="Others", stewards=[other], threshold=1, treasury=other, sender=me)
    with pytest.raises(ContractRevert) as refused:
        gw.register_heritage(chain, HeritageParams(community, _work(store, "X:1\nT:Not mine\n"), b"", OPEN,
                                                   everything_to(me)), sender=me)
    assert refused.value.name == "RegistryNotSteward"

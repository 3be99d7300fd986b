"""The contracts compiled by py-solc-x through the solc-js wrapper, on a real anvil node."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError

from chain.anvil import Anvil
from chain.compile import Artifact
from chain.deploy import contract
from chain.routing import Node, route
from core.types import PPM
from tests.python.chain.v2 import GAS, commit, deploy_dev, protocol

ETH = "0x0000000000000000000000000000000000000000"


def raw_cid(data: bytes) -> bytes:
    """Binary CIDv1 (raw codec, sha2-256) of a single-block file."""
    return bytes([0x01, 0x55, 0x12, 0x20]) + hashlib.sha256(data).digest()


def send(w3: Web3, fn: Any, sender: str, value: int = 0) -> Any:
    receipt = w3.eth.wait_for_transaction_receipt(fn.transact({"from": sender, "value": value, "gas": GAS}))
    assert receipt["status"] == 1
    return receipt


def setup_contracts(w3: Web3, artifacts: dict[str, Artifact]) -> tuple[Contract, Contract, list[str]]:
    accounts = w3.eth.accounts
    d = deploy_dev(w3, artifacts)
    registry = contract(w3, artifacts["HeritageRegistry"], d.registry)
    router = contract(w3, artifacts["RoyaltyRouter"], d.router)
    send(w3, registry.functions.registerCommunity("Shaanxi singers", [accounts[1], accounts[2]], 1, accounts[3]), accounts[0])
    return registry, router, accounts


def test_wrapper_compiles_deployable_contracts(artifacts: dict[str, Artifact]) -> None:
    for name in ("RoyaltyRouter", "HeritageRegistry"):
        size = (len(artifacts[name].deployed_bytecode) - 2) // 2
        assert 0 < size <= 24_576, f"{name} is {size} bytes, over the EIP-170 limit"


def test_register_pay_withdraw_on_anvil(w3: Web3, artifacts: dict[str, Artifact]) -> None:
    registry, router, acc = setup_contracts(w3, artifacts)
    split = [(acc[3], 600_000), (acc[4], 300_000), (acc[5], 100_000)]
    cid = raw_cid(b"Xiaodiao from Shaanxi")
    params = (1, cid, b"", protocol(), split, commit(w3, registry, acc[1], cid))
    send(w3, registry.functions.registerHeritageWork(params), acc[1])
    heritage = registry.functions.workCount().call()
    remix = raw_cid(b"remix")
    derivative = (remix, b"", [heritage], [200_000], [(acc[6], PPM)], b"", b"\0" * 32, False, commit(w3, registry, acc[6], remix))
    send(w3, registry.functions.registerDerivative(derivative), acc[6])
    work = registry.functions.workCount().call()

    before = {a: router.functions.balanceOf(ETH, a).call() for a in acc[3:7]}
    send(w3, router.functions.pay(work, b"\x01" * 32, 1_700_000_000), acc[7], value=10**18 + 7)
    gained = {a: router.functions.balanceOf(ETH, a).call() - before[a] for a in acc[3:7]}
    assert sum(gained.values()) == 10**18 + 7
    assert gained[acc[6]] == 10**18 + 7 - (10**18 + 7) * 200_000 // PPM

    balance = w3.eth.get_balance(acc[6])
    receipt = send(w3, router.functions.withdraw(ETH), acc[6])
    fee = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert w3.eth.get_balance(acc[6]) == balance - fee + before[acc[6]] + gained[acc[6]]
    assert router.functions.balanceOf(ETH, acc[6]).call() == 0


def test_duplicate_content_reverts_with_named_error(w3: Web3, artifacts: dict[str, Artifact]) -> None:
    registry, _, acc = setup_contracts(w3, artifacts)
    cid = raw_cid(b"the same song")
    params = (1, cid, b"", protocol(), [(acc[3], PPM)], commit(w3, registry, acc[1], cid))
    send(w3, registry.functions.registerHeritageWork(params), acc[1])
    selector = Web3.keccak(text="RegistryContentAlreadyRegistered(bytes32,uint256)")[:4]
    try:
        registry.functions.registerHeritageWork(params).call({"from": acc[1]})
    except ContractCustomError as err:
        assert bytes.fromhex(str(err.data)[2:10]) == selector
    else:
        raise AssertionError("a second registration of the same content did not revert")


def test_state_survives_restart(artifacts: dict[str, Artifact], tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with Anvil(state_file=state) as node:
        w3 = Web3(Web3.HTTPProvider(node.url))
        registry, _, _acc = setup_contracts(w3, artifacts)
        address = registry.address
    assert state.exists()
    with Anvil(state_file=state) as node:
        w3 = Web3(Web3.HTTPProvider(node.url))
        registry = contract(w3, artifacts["HeritageRegistry"], address)
        assert registry.functions.communityCount().call() == 1


@st.composite
def lineages(draw: st.DrawFn) -> tuple[list[list[int]], list[list[int]], list[list[int]], int]:
    """Random DAGs of up to 6 works: parents of work i among works < i, their ppms, splits."""
    n = draw(st.integers(2, 6))
    parents: list[list[int]] = [[]]
    ppms: list[list[int]] = [[]]
    for i in range(1, n):
        ps = draw(st.lists(st.integers(0, i - 1), min_size=1, max_size=3, unique=True))
        shares = [draw(st.integers(1, PPM // 4)) for _ in ps]
        parents.append(ps)
        ppms.append(shares)
    splits = []
    for _ in range(n):
        k = draw(st.integers(1, 5))
        cuts = sorted(draw(st.lists(st.integers(1, PPM - 1), min_size=k - 1, max_size=k - 1, unique=True)))
        bounds = [0, *cuts, PPM]
        splits.append([b - a for a, b in itertools.pairwise(bounds)])
    amount = draw(st.integers(1, 10**21))  # anvil accounts hold 10,000 ETH
    return parents, ppms, splits, amount


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lineages())
def test_python_model_credits_what_the_contracts_credit(
    w3: Web3, artifacts: dict[str, Artifact], case: tuple[list[list[int]], list[list[int]], list[list[int]], int]
) -> None:
    parents, ppms, splits, amount = case
    registry, router, acc = setup_contracts(w3, artifacts)
    holders = [Web3.to_checksum_address("0x" + hashlib.sha256(f"{i}".encode()).hexdigest()[:40]) for i in range(40)]
    ids: list[int] = []
    nodes: dict[int, Node] = {}
    for i, (ps, shares, split) in enumerate(zip(parents, ppms, splits, strict=False)):
        recipients = [(holders[(7 * i + j) % 40], s) for j, s in enumerate(split)]
        cid = raw_cid(f"{registry.address}-{i}".encode())
        if not ps:
            salt = commit(w3, registry, acc[1], cid)
            send(w3, registry.functions.registerHeritageWork((1, cid, b"", protocol(0), recipients, salt)), acc[1])
        else:
            parent_ids = [ids[p] for p in ps]
            salt = commit(w3, registry, acc[6], cid)
            send(w3, registry.functions.registerDerivative(
                (cid, b"", parent_ids, shares, recipients, b"", b"\0" * 32, False, salt)), acc[6])
        ids.append(registry.functions.workCount().call())
        nodes[ids[-1]] = Node(parents=tuple(zip([ids[p] for p in ps], shares, strict=False)), split=tuple(recipients))
    before = {h: router.functions.balanceOf(ETH, h).call() for h in holders}
    send(w3, router.functions.pay(ids[-1], b"\0" * 32, 0), acc[0], value=amount)
    expected = route(nodes, ids[-1], amount)
    for h in holders:
        assert router.functions.balanceOf(ETH, h).call() - before[h] == expected.balances.get(h, 0)
    assert expected.total() == amount

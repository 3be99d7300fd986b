"""Paying a work in an ERC-20 from a wallet, on a real anvil with a real token (PlainERC20): the
router's approval drafted, signed and relayed, then payToken; the community's treasury withdraws
the token. Attacked: an approval of another spender, a transaction to another contract, an
address that is no token, a payment beyond the allowance."""

from __future__ import annotations

import os

import pytest

from tests.python.api.conftest import Api
from tests.python.api.test_writes import _register
from tests.python.erc20 import artifact, deploy_token

UNIT = 10**18


@pytest.fixture(scope="module")
def token(api: Api) -> str:
    return deploy_token(api.state.chain.w3, api.keys[0].address, mint={api.keys[5].address: 10 * UNIT})


def test_a_listener_approves_the_router_then_pays_in_the_token(api: Api, token: str) -> None:
    work = _register(api, os.urandom(512))
    payer, treasury = api.keys[5], api.keys[2]
    held = api.client.get(f"/tokens/{token}", params={"account": payer.address}).json()
    assert (held["symbol"], held["decimals"], held["balance"], held["allowance"]) == ("MOCK", 18, str(10 * UNIT), "0")

    beyond = api.client.post("/payments/drafts", json={"payer": payer.address, "work_id": work, "amount_wei": 2 * UNIT,
                                                        "token": token})
    assert beyond.status_code in (400, 409), beyond.text  # nothing allowed yet: the dry run names the refusal

    draft = api.client.post(f"/tokens/{token}/approvals/drafts", json={"owner": payer.address, "amount": 2 * UNIT}).json()
    r = api.client.post(f"/tokens/{token}/approvals", json={"raw": api.sign_tx(payer, draft["transaction"])})
    assert r.status_code == 201 and r.json()["allowance"] == str(2 * UNIT), r.text

    draft = api.client.post("/payments/drafts", json={"payer": payer.address, "work_id": work, "amount_wei": 2 * UNIT,
                                                       "token": token}).json()
    paid = api.client.post("/transactions", json={"raw": api.sign_tx(payer, draft["transaction"])})
    assert paid.status_code == 201, paid.text
    owed = int(api.client.get(f"/balances/{treasury.address}", params={"token": token}).json()["amount"])
    assert owed == 2 * UNIT  # everything to the treasury (the work's default split)

    draft = api.client.post("/withdrawals/drafts", json={"account": treasury.address, "token": token}).json()
    assert api.client.post("/transactions", json={"raw": api.sign_tx(treasury, draft["transaction"])}).status_code == 201
    assert api.client.get(f"/tokens/{token}", params={"account": treasury.address}).json()["balance"] == str(2 * UNIT)


def test_only_the_routers_approval_of_a_real_token_is_relayed(api: Api, token: str) -> None:
    payer, w3 = api.keys[5], api.state.chain.w3
    erc20 = w3.eth.contract(address=w3.to_checksum_address(token), abi=artifact()[0])
    other = erc20.functions.approve(api.keys[4].address, UNIT).build_transaction({
        "from": payer.address, "nonce": w3.eth.get_transaction_count(payer.address), "chainId": 31337, "gas": 100_000})
    r = api.client.post(f"/tokens/{token}/approvals", json={"raw": api.sign_tx(payer, dict(other))})
    assert r.status_code == 403 and r.json()["code"] == "not-relayable"
    assert erc20.functions.allowance(payer.address, api.keys[4].address).call() == 0

    draft = api.client.post(f"/tokens/{token}/approvals/drafts", json={"owner": payer.address, "amount": UNIT}).json()
    elsewhere = api.client.post(f"/tokens/{api.state.chain.router.address}/approvals",
                                json={"raw": api.sign_tx(payer, draft["transaction"])})
    assert elsewhere.status_code == 400 and elsewhere.json()["code"] == "not-a-token"
    nobody = api.client.get(f"/tokens/{api.keys[3].address}", params={"account": payer.address})
    assert nobody.status_code == 400 and nobody.json()["code"] == "not-a-token"
    empty = api.client.post(f"/tokens/{token}/approvals", json={})
    assert empty.status_code == 400 and empty.json()["code"] == "nothing-sent"
    bad = api.client.post(f"/tokens/{token}/approvals/drafts", json={"owner": payer.address, "amount": 0})
    assert bad.status_code == 422

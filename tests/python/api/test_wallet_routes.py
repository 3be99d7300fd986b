"""What the browser wallet uses beyond the first drafts (api/routes/drafts.py, session.py), on a real
anvil: the chain to switch to, a steward's signed refusal and protocol change, the receipt of a
draft the wallet sent itself, and Sign-In with Ethereum — each attacked (other key, replay,
tampering, expiry, another chain)."""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from api.siwe import SessionRefused, Sessions
from chain.signatures import sign
from tests.python.api.conftest import Api
from tests.python.api.test_writes import _register


def _signed(draft: dict[str, Any], key: Any) -> dict[str, Any]:
    return {"typed_data": draft["typed_data"], "signer": key.address, "signature": "0x" + sign(draft["typed_data"], key.key).hex()}


def _pending_derivative(api: Api, parent: int | None = None) -> int:
    """A derivative awaiting consent, of `parent` (default: a new heritage work of the test community)."""
    parent = parent or _register(api, os.urandom(640), protocol={"consent_required": True})
    creator = api.keys[4]
    draft = api.client.post("/derivatives/drafts", json={
        "creator": creator.address, "content_cid": api.upload(os.urandom(800)), "title": "Awaiting consent",
        "parents": [{"work_id": parent, "ppm": 300_000}]}).json()
    r = api.client.post("/transactions", json={"raw": api.sign_tx(creator, draft["transaction"])})
    assert r.status_code == 201 and r.json()["status"] == "pending", r.text
    return int(r.json()["work_id"])


def test_the_chain_a_wallet_must_be_on_answers_at_its_rpc_url(api: Api) -> None:
    chain = api.client.get("/wallet/chain").json()
    assert chain["chain_id"] == 31337 == api.state.domain.chain_id
    answer = httpx.post(chain["rpc_url"], json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).json()
    assert int(answer["result"], 16) == 31337


def test_a_steward_refuses_a_derivative_once_and_nobody_else_can(api: Api) -> None:
    child = _pending_derivative(api)
    path = f"/derivatives/{child}/rejections"
    outsider = api.client.post(f"{path}/drafts", json={"community_id": api.community, "steward": api.keys[3].address})
    assert outsider.status_code == 403 and outsider.json()["code"] == "not-a-steward"
    draft = api.client.post(f"{path}/drafts", json={"community_id": api.community, "steward": api.keys[1].address}).json()
    forged = _signed(draft, api.keys[3]) | {"signer": api.keys[1].address}
    assert api.client.post(path, json=forged).json()["code"] == "signature-invalid"
    wrong_work = api.client.post(f"/derivatives/{child + 1000}/rejections", json=_signed(draft, api.keys[1]))
    assert wrong_work.status_code in (400, 404)
    body = _signed(draft, api.keys[1])
    r = api.client.post(path, json=body)
    assert r.status_code == 201 and r.json()["status"] == "rejected", r.text
    assert api.client.post(path, json=body).json()["code"] == "signature-replayed"
    again = api.client.post(f"{path}/drafts", json={"community_id": api.community, "steward": api.keys[1].address})
    assert again.status_code == 409 and again.json()["code"] == "not-pending"


def test_a_steward_tightens_a_protocol_by_signature(api: Api) -> None:
    work = _register(api, os.urandom(660))
    assert api.client.get(f"/works/{work}/protocol").json()[0]["commercial_allowed"] is True
    body = {"community_id": api.community, "steward": api.keys[1].address,
            "protocol": {"commercial_allowed": False, "floor_ppm": 200_000}}
    draft = api.client.post(f"/works/{work}/protocol/drafts", json=body).json()
    assert draft["typed_data"]["message"]["protocol"]["commercialAllowed"] is False
    tampered = _signed(draft, api.keys[1])
    tampered["typed_data"] = {**draft["typed_data"], "message": {**draft["typed_data"]["message"], "workId": work + 1}}
    assert api.client.post(f"/works/{work}/protocol", json=tampered).status_code in (400, 401)
    r = api.client.post(f"/works/{work}/protocol", json=_signed(draft, api.keys[1]))
    assert r.status_code == 201, r.text
    after = api.client.get(f"/works/{work}/protocol").json()[0]
    assert after["commercial_allowed"] is False and after["floor_ppm"] == 200_000
    assert api.client.post(f"/works/{work}/protocol/drafts",
                           json=body | {"steward": api.keys[3].address}).json()["code"] == "not-a-steward"


def test_the_receipt_of_a_draft_the_wallet_sent_itself(api: Api) -> None:
    payer, w3 = api.keys[5], api.state.chain.w3
    pay = api.client.post("/payments/drafts", json={"payer": payer.address, "work_id": 1, "amount_wei": 10**14}).json()
    tx_hash = w3.eth.send_raw_transaction(bytes.fromhex(api.sign_tx(payer, pay["transaction"])[2:]))
    r = api.client.post("/transactions/receipts", json={"tx": tx_hash.to_0x_hex()})
    assert r.status_code == 201 and r.json()["tx"] == tx_hash.to_0x_hex(), r.text
    plain = w3.eth.send_raw_transaction(payer.sign_transaction({
        "to": api.keys[0].address, "value": 1, "gas": 21_000, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9,
        "nonce": w3.eth.get_transaction_count(payer.address, "pending"), "chainId": 31337}).raw_transaction)
    assert api.client.post("/transactions/receipts", json={"tx": plain.to_0x_hex()}).json()["code"] == "not-relayable"
    assert api.client.post("/transactions/receipts", json={"tx": "0x" + "ab" * 32}).status_code == 404
    assert api.client.post("/transactions/receipts", json={"tx": "0x12"}).status_code == 422


def _sign_in(api: Api, key: Any) -> tuple[str, str]:
    message = api.client.post("/session/challenge", json={"address": key.address, "domain": "dashboard.test"}).json()["message"]
    signature = Account.sign_message(encode_defunct(text=message), key.key).signature.to_0x_hex()
    return message, signature


def test_sign_in_with_ethereum_then_my_account(api: Api) -> None:
    key = api.keys[1]
    message, signature = _sign_in(api, key)
    assert message.startswith(f"dashboard.test wants you to sign in with your Ethereum account:\n{key.address}\n")
    assert "Chain ID: 31337" in message
    api.client.cookies.clear()
    assert api.client.get("/session").json()["code"] == "not-signed-in"
    r = api.client.post("/session", json={"message": message, "signature": signature})
    assert r.status_code == 201 and r.json()["address"] == key.address, r.text
    assert "httponly" in r.headers["set-cookie"].lower() and "max-age" in r.headers["set-cookie"].lower()
    me = api.client.get("/session/me").json()  # the cookie
    assert me["address"] == key.address and api.community in me["steward_of"] and int(me["balance_wei"]) >= 0
    bearer = httpx.Headers({"Authorization": f"Bearer {r.json()['token']}"})
    api.client.cookies.clear()
    assert api.client.get("/session", headers=bearer).json()["address"] == key.address
    replay = api.client.post("/session", json={"message": message, "signature": signature})
    assert replay.status_code == 401 and "used already" in replay.json()["detail"]
    forged = api.client.post("/session/me", headers={"Authorization": "Bearer " + r.json()["token"][:-4] + "0000"})
    assert forged.status_code == 405
    tampered = api.client.get("/session/me", headers={"Authorization": "Bearer " + r.json()["token"][:-4] + "0000"})
    assert tampered.status_code == 401


@pytest.mark.parametrize("change", ["other-key", "edited", "foreign"])
def test_sign_in_refusals(api: Api, change: str) -> None:
    message, signature = _sign_in(api, api.keys[2])
    if change == "other-key":
        signature = Account.sign_message(encode_defunct(text=message), api.keys[3].key).signature.to_0x_hex()
    elif change == "edited":
        message = message.replace(api.keys[2].address, api.keys[3].address)
        signature = Account.sign_message(encode_defunct(text=message), api.keys[3].key).signature.to_0x_hex()
    else:
        message = message.replace("Nonce: ", "Nonce: 00")
    r = api.client.post("/session", json={"message": message, "signature": signature})
    assert r.status_code == 401 and r.json()["code"] == "sign-in-refused", r.text


def test_sessions_expire_and_are_bound_to_the_chain(tmp_path: Any) -> None:
    here, there = Sessions.in_dir(tmp_path, 31337), Sessions.in_dir(tmp_path, 1)
    assert here.secret == there.secret  # one secret per data dir: every worker accepts the others' tokens
    key = Account.create()
    message, _ = here.challenge(key.address, domain="x.test", uri="http://x.test", now=1_000_000)
    sig = Account.sign_message(encode_defunct(text=message), key.key).signature.to_0x_hex()
    with pytest.raises(SessionRefused, match="expired"):
        here.sign_in(message, sig, now=1_000_000 + 601)
    with pytest.raises(SessionRefused, match="chain"):
        there.sign_in(message, sig, now=1_000_001)
    address, token, until = here.sign_in(message, sig, now=1_000_001)
    assert here.holder(token, now=until)[0] == address == key.address
    with pytest.raises(SessionRefused, match="expired"):
        here.holder(token, now=until + 1)
    with pytest.raises(SessionRefused):
        here.challenge(key.address, domain="evil.test\nURI: x", uri="u")


def test_steward_changes_count_toward_the_threshold(api: Api) -> None:
    steward, second, third = api.keys[1], api.keys[3], api.keys[5]
    new = {"stewards": [steward.address, second.address], "threshold": 2, "treasury": api.keys[2].address}
    refused = api.client.post(f"/communities/{api.community}/changes/drafts", json={"steward": third.address, **new})
    assert refused.status_code == 403 and refused.json()["code"] == "not-a-steward"
    bad = api.client.post(f"/communities/{api.community}/changes/drafts",
                          json={"steward": steward.address, **new, "stewards": ["0x12"]})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid-address"
    draft = api.client.post(f"/communities/{api.community}/changes/drafts", json={"steward": steward.address, **new}).json()
    assert (draft["approvals"], draft["threshold"]) == (0, 1)
    assert api.client.post("/transactions", json={"raw": api.sign_tx(steward, draft["transaction"])}).status_code == 201
    got = api.client.get(f"/communities/{api.community}").json()
    assert got["stewards"] == [steward.address, second.address] and got["threshold"] == 2
    # Back to one steward: now it takes both.
    back = {"stewards": [steward.address], "threshold": 1, "treasury": api.keys[2].address}
    first = api.client.post(f"/communities/{api.community}/changes/drafts", json={"steward": steward.address, **back}).json()
    assert api.client.post("/transactions", json={"raw": api.sign_tx(steward, first["transaction"])}).status_code == 201
    assert api.client.get(f"/communities/{api.community}").json()["threshold"] == 2
    again = api.client.post(f"/communities/{api.community}/changes/drafts", json={"steward": steward.address, **back})
    assert again.status_code == 409, again.text  # RegistryAlreadyApproved: one approval per steward
    other = api.client.post(f"/communities/{api.community}/changes/drafts", json={"steward": second.address, **back}).json()
    assert (other["approvals"], other["threshold"]) == (1, 2)
    assert api.client.post("/transactions", json={"raw": api.sign_tx(second, other["transaction"])}).status_code == 201
    assert api.client.get(f"/communities/{api.community}").json()["stewards"] == [steward.address]


def test_a_restricted_work_publishes_only_its_commitment_and_reserves_its_bytes(api: Api) -> None:
    steward = api.keys[1]
    secret = os.urandom(900)
    cid = api.upload(secret)  # uploaded here only to try the public registration below
    commitment = "0x" + os.urandom(32).hex()
    body = {"steward": steward.address, "community_id": api.community, "commitment": commitment, "reserved_cids": [cid]}
    assert api.client.post("/works/restricted/drafts", json=body | {"steward": api.keys[3].address}).status_code == 403
    assert api.client.post("/works/restricted/drafts", json=body | {"reserved_cids": ["not-a-cid"]}).json()["code"] == "invalid-cid"
    assert api.client.post("/works/restricted/drafts", json=body | {"reserved_cids": [cid] * 9}).status_code == 422
    draft = api.client.post("/works/restricted/drafts", json=body).json()
    r = api.client.post("/transactions", json={"raw": api.sign_tx(steward, draft["transaction"])})
    assert r.status_code == 201 and r.json()["status"] == "restricted", r.text
    work = api.client.get(f"/works/{r.json()['work_id']}").json()
    assert work["kind"] == "restricted" and work["content_cid"] is None and work["manifest"] is None
    public = api.client.post("/works/drafts", json={"community_id": api.community, "steward": steward.address,
                                                    "content_cid": cid, "title": "The same bytes"})
    assert public.status_code == 409 and public.json()["code"] == "already-registered"


def test_a_files_cid_without_storing_it(api: Api) -> None:
    data = bytes(range(256)) * 1500  # 384 KiB: two chunks, past the JSON body limit
    unknown = api.client.post("/content/cid", files={"file": ("x.bin", data, "application/octet-stream")})
    assert unknown.status_code == 415 and unknown.json()["code"] == "unsupported-media-type"
    r = api.client.post("/content/cid", files={"file": ("x.wav", data, "audio/wav")})
    assert r.status_code == 200, r.text
    assert api.client.get(f"/content/{r.json()['cid']}").status_code == 404  # nothing stored
    assert api.upload(data, media="audio/wav") == r.json()["cid"]  # the store's CID of the same bytes
    assert r.json()["cid_hex"].startswith("0x01") and r.json()["size"] == len(data)

"""Stewards' signatures gathered toward a 2-of-2 community's threshold (POST/GET /approvals), on a
real anvil: the first is stored and nothing is sent; the second, drafted from the pending action,
relays both and the action applies. Attacked: an outsider, another key, the same signature twice,
a signature made stale by the steward's next one, an action that is not gathered, an unknown key."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from chain.signatures import sign
from tests.python.api.conftest import Api
from tests.python.api.test_wallet_routes import _pending_derivative, _sign_in


def _signed(draft: dict[str, Any], key: Any) -> dict[str, Any]:
    return {"typed_data": draft["typed_data"], "signer": key.address, "signature": "0x" + sign(draft["typed_data"], key.key).hex()}


@pytest.fixture(scope="module")
def pair(api: Api) -> int:
    """A community of two stewards (accounts 1 and 3), both needed; treasury account 2."""
    reg = api.state.chain.registry.functions
    keys = api.keys
    r = api.send(keys[0], reg.registerCommunity("Two keepers", [keys[1].address, keys[3].address], 2, keys[2].address))
    assert r.status_code == 201, r.text
    return int(reg.communityCount().call())


def _heritage_draft(api: Api, community: int, steward: Any, *, to_treasury: bool = False, **protocol: Any) -> dict[str, Any]:
    """A registration whose split shares the income (k of n), or gives it all to the treasury (applies at once)."""
    split = [] if to_treasury else [{"account": api.keys[2].address, "ppm": 600_000},
                                    {"account": api.keys[1].address, "ppm": 400_000}]
    r = api.client.post("/works/drafts", json={
        "community_id": community, "steward": steward.address, "content_cid": api.upload(os.urandom(700)),
        "title": "Two keepers' song", "protocol": protocol, "split": split})
    assert r.status_code == 200, r.text
    draft: dict[str, Any] = r.json()
    return draft


def _second(api: Api, key: str, steward: Any) -> dict[str, Any]:
    r = api.client.post(f"/approvals/{key}/drafts", json={"steward": steward.address})
    assert r.status_code == 200, r.text
    return _signed(r.json(), steward)


def _awaiting_consent(api: Api, pair: int) -> int:
    """A derivative awaiting the pair's consent, of a heritage work both stewards registered."""
    first = api.client.post("/approvals", json=_signed(_heritage_draft(api, pair, api.keys[1], consent_required=True),
                                                       api.keys[1])).json()
    return _pending_derivative(api, api.client.post("/approvals", json=_second(api, first["key"], api.keys[3])).json()["work_id"])


def test_a_heritage_work_registers_once_both_stewards_signed(api: Api, pair: int) -> None:
    works = int(api.state.chain.registry.functions.workCount().call())
    first = api.client.post("/approvals", json=_signed(_heritage_draft(api, pair, api.keys[1]), api.keys[1]))
    assert first.status_code == 201, first.text
    out = first.json()
    assert (out["status"], out["approvals"], out["needed"], out["relayed"]) == ("pending", 1, 2, [])
    assert int(api.state.chain.registry.functions.workCount().call()) == works  # nothing sent yet
    listed = api.client.get("/approvals", params={"community_id": pair}).json()
    assert [(p["key"], p["signers"]) for p in listed] == [(out["key"], [api.keys[1].address])]

    outsider = api.client.post(f"/approvals/{out['key']}/drafts", json={"steward": api.keys[4].address})
    assert outsider.status_code == 403 and outsider.json()["code"] == "not-a-steward"
    body = _second(api, out["key"], api.keys[3])
    forged = body | {"signer": api.keys[1].address}
    assert api.client.post("/approvals", json=forged).json()["code"] == "signature-invalid"
    done = api.client.post("/approvals", json=body)
    assert done.status_code == 201, done.text
    applied = done.json()
    assert applied["status"] == "applied" and applied["approvals"] == 2 and len(applied["relayed"]) == 2
    assert applied["work_id"] == works + 1 and api.client.get(f"/works/{works + 1}").json()["status"] == "active"
    assert all(api.keys[4].address not in p["signers"] + p["stale"] for p in api.client.get("/approvals").json())
    again = api.client.post("/approvals", json=body)
    assert again.json()["code"] == "signature-replayed"


def test_consent_to_a_derivative_needs_both_and_one_signature_counts_once(api: Api, pair: int) -> None:
    child = _awaiting_consent(api, pair)

    consent = api.client.post(f"/derivatives/{child}/approvals/drafts", json={"community_id": pair,
                                                                             "steward": api.keys[1].address}).json()
    body = _signed(consent, api.keys[1])
    stored = api.client.post("/approvals", json=body).json()
    assert (stored["status"], stored["approvals"], stored["work_id"]) == ("pending", 1, child)
    assert api.client.post("/approvals", json=body).json()["code"] == "already-signed"
    assert [p["approvals"] for p in api.client.get("/approvals", params={"work_id": child}).json()] == [1]
    assert api.client.get(f"/works/{child}").json()["status"] == "pending"
    for key, awaits in ((api.keys[3], True), (api.keys[1], False)):  # the signed-in stewards' own view
        message, signature = _sign_in(api, key)
        token = api.client.post("/session", json={"message": message, "signature": signature}).json()["token"]
        me = api.client.get("/session/me", headers={"Authorization": f"Bearer {token}"}).json()
        assert (stored["key"] in [a["key"] for a in me["awaiting_my_signature"]]) is awaits
    api.client.cookies.clear()
    done = api.client.post("/approvals", json=_second(api, stored["key"], api.keys[3])).json()
    assert done["status"] == "applied" and api.client.get(f"/works/{child}").json()["status"] == "active"


def test_a_tightening_applies_on_one_signature_and_a_used_nonce_makes_a_stored_one_stale(api: Api, pair: int) -> None:
    first = api.client.post("/approvals", json=_signed(_heritage_draft(api, pair, api.keys[1]), api.keys[1])).json()
    work = api.client.post("/approvals", json=_second(api, first["key"], api.keys[3])).json()["work_id"]
    now = api.client.get(f"/works/{work}/protocol").json()[0]
    loosen = {k: now[k] for k in ("derivatives_allowed", "consent_required", "commercial_allowed", "ml_allowed",
                                  "attribution_required", "labels", "labels_version")} | {"floor_ppm": 0}
    path = f"/works/{work}/protocol/drafts"
    draft = api.client.post(path, json={"community_id": pair, "steward": api.keys[1].address, "protocol": loosen}).json()
    stored = api.client.post("/approvals", json=_signed(draft, api.keys[1])).json()
    assert stored["status"] == "pending"  # a lower floor loosens: both stewards

    tighten = loosen | {"floor_ppm": now["floor_ppm"], "commercial_allowed": False}
    draft = api.client.post(path, json={"community_id": pair, "steward": api.keys[1].address, "protocol": tighten}).json()
    alone = api.client.post("/approvals", json=_signed(draft, api.keys[1])).json()
    assert alone["status"] == "applied" and len(alone["relayed"]) == 1
    assert api.client.get(f"/works/{work}/protocol").json()[0]["commercial_allowed"] is False

    # Steward 1's nonce moved on: their stored loosening no longer counts, and says so.
    waiting = next(p for p in api.client.get("/approvals", params={"work_id": work}).json() if p["key"] == stored["key"])
    assert (waiting["approvals"], waiting["stale"]) == (0, [api.keys[1].address])


def test_a_registration_of_everything_to_the_treasury_applies_on_one_signature(api: Api, pair: int) -> None:
    out = api.client.post("/approvals", json=_signed(_heritage_draft(api, pair, api.keys[3], to_treasury=True), api.keys[3]))
    assert out.status_code == 201, out.text
    assert out.json()["status"] == "applied" and len(out.json()["relayed"]) == 1
    assert api.client.get(f"/works/{out.json()['work_id']}").json()["status"] == "active"


def test_what_is_not_gathered_or_not_pending_is_refused(api: Api, pair: int) -> None:
    unknown = api.client.post(f"/approvals/0x{'ab' * 32}/drafts", json={"steward": api.keys[1].address})
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown-approval"
    bad_key = api.client.post("/approvals/not-a-key/drafts", json={"steward": api.keys[1].address})
    assert bad_key.status_code == 422
    draft = _heritage_draft(api, pair, api.keys[1])
    other = _signed(draft, api.keys[1])
    other["typed_data"] = {**other["typed_data"], "primaryType": "WithdrawClaim"}
    r = api.client.post("/approvals", json=other)
    assert r.status_code == 400 and r.json()["code"] == "not-gathered"
    claimed = api.client.post("/approvals", json=_signed(draft, api.keys[1]) | {"signer": api.keys[4].address})
    assert claimed.status_code == 401 and claimed.json()["code"] == "signature-invalid"
    outsider = api.client.post("/approvals", json=_signed(draft, api.keys[4]))  # a valid signature, not a steward's
    assert outsider.status_code == 403 and outsider.json()["code"] == "not-a-steward"
    assert all(api.keys[4].address not in p["signers"] + p["stale"] for p in api.client.get("/approvals").json())


def test_two_stewards_signing_at_once_apply_it_once(api: Api, pair: int) -> None:
    """Both signatures arrive together: the relay lock orders them, one is stored, the other relays both."""
    child = _awaiting_consent(api, pair)
    bodies = [_signed(api.client.post(f"/derivatives/{child}/approvals/drafts", json={
        "community_id": pair, "steward": key.address}).json(), key) for key in (api.keys[1], api.keys[3])]
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda body: api.client.post("/approvals", json=body), bodies))
    assert sorted(r.json()["status"] for r in answers) == ["applied", "pending"], [r.text for r in answers]
    assert api.client.get(f"/works/{child}").json()["status"] == "active"
    assert api.client.get("/approvals", params={"work_id": child}).json() == []

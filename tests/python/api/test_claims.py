"""Claims through the API: a steward's claim with its bond and the committee's votes as drafted
wallet transactions, withdrawals on WithdrawClaim signatures, and the removed dispute endpoints."""

from __future__ import annotations

import os

from eth_account.signers.local import LocalAccount

from chain import disputes
from chain.sender import dev_account
from chain.signatures import sign
from tests.python.api.conftest import Api


def _relay_tx(api: Api, key: LocalAccount, tx: dict[str, object]) -> dict[str, object]:
    r = api.client.post("/transactions", json={"raw": api.sign_tx(key, tx)})
    assert r.status_code == 201, r.text
    out: dict[str, object] = r.json()
    return out


def _work(api: Api) -> int:
    steward, creator = api.keys[1], api.keys[5]
    draft = api.heritage_draft(api.upload(os.urandom(200)), steward.address)
    r = api.client.post("/works", json={"typed_data": draft["typed_data"], "signer": steward.address,
                                        "signature": "0x" + sign(draft["typed_data"], steward.key).hex()})
    assert r.status_code == 201, r.text
    root = int(r.json()["work_id"])
    d = api.client.post("/derivatives/drafts", json={"creator": creator.address, "content_cid": api.upload(os.urandom(99)),
                                                     "title": "A cover", "parents": [{"work_id": root, "ppm": 200_000}]})
    assert d.status_code == 200, d.text
    return int(_relay_tx(api, creator, d.json()["transaction"])["work_id"])  # type: ignore[call-overload]


def _claim(api: Api, work: int) -> int:
    r = api.client.post("/claims/drafts", json={"work_id": work, "community_id": api.community,
                                                "claimant": api.keys[1].address})
    assert r.status_code == 200, r.text
    tx = r.json()["transaction"]
    assert tx["value"] == disputes.claim_bond(api.state.chain)
    _relay_tx(api, api.keys[1], tx)
    return disputes.dispute_count(api.state.chain)


def test_a_claim_raised_with_its_bond_and_dismissed_by_the_committee(api: Api) -> None:
    work = _work(api)
    claim = _claim(api, work)
    shown = api.client.get(f"/claims/{claim}").json()
    assert (shown["work_id"], shown["status"], shown["kind"]) == (work, "open", "lineage")
    assert api.client.get(f"/works/{work}").json()["claim"] == claim
    for member in (dev_account(10), dev_account(11)):
        r = api.client.post(f"/claims/{claim}/votes/drafts", json={"member": member.address, "uphold": False})
        assert r.status_code == 200, r.text
        _relay_tx(api, member, r.json()["transaction"])
    assert api.client.get(f"/claims/{claim}").json()["status"] == "dismissed"
    r = api.client.post(f"/claims/{claim}/votes/drafts", json={"member": dev_account(12).address, "uphold": True})
    assert (r.status_code, r.json()["code"]) == (409, "claim-closed")
    assert api.client.get("/claims/999").json()["code"] == "unknown-claim"


def test_a_withdrawal_signature_is_relayed_once_and_only_for_its_claim(api: Api) -> None:
    first, second = _claim(api, _work(api)), _claim(api, _work(api))
    steward = api.keys[1]
    r = api.client.post(f"/claims/{first}/withdrawals/drafts", json={"steward": steward.address})
    assert r.status_code == 200, r.text
    doc = r.json()["typed_data"]
    assert doc["domain"]["name"] == "HeritageDisputes"
    body = {"typed_data": doc, "signer": steward.address, "signature": "0x" + sign(doc, steward.key).hex()}
    stale = api.client.post(f"/claims/{second}/withdrawals", json=body)
    assert (stale.status_code, stale.json()["code"]) == (400, "wrong-claim")
    done = api.client.post(f"/claims/{first}/withdrawals", json=body)
    assert done.status_code == 201 and done.json()["status"] == "withdrawn", done.text
    again = api.client.post(f"/claims/{first}/withdrawals", json=body)
    assert again.status_code in (409,) and again.json()["code"] in ("signature-replayed", "claim-closed")
    for member in (dev_account(10), dev_account(11)):  # close the other one
        r = api.client.post(f"/claims/{second}/votes/drafts", json={"member": member.address, "uphold": False})
        _relay_tx(api, member, r.json()["transaction"])


def test_the_removed_dispute_endpoints_answer_a_named_problem(api: Api) -> None:
    for path in ("/disputes/1/resolutions/drafts", "/disputes/1/resolutions"):
        r = api.client.post(path, json={})
        assert (r.status_code, r.json()["code"]) == (410, "dispute-resolution-removed")
        assert "/claims/drafts" in r.json()["detail"]

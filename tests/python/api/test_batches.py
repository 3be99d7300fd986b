"""Steward-signed relays in batches (api/batches.py, chain/batch.py) on a real anvil: requests
queued while the relay lock is held go on chain together, each answered with its own work (read
from its own receipt's events) or its own named refusal; a replay in the same batch is refused."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chain import gateway as gw
from chain.signatures import sign, typed_data
from core.cid import from_text
from tests.python.api.conftest import Api

STEWARDS = (1, 3, 4, 5)
"""Development accounts, each the one steward of a community of its own (account 1's is the fixture's)."""


@pytest.fixture(scope="module")
def communities(api: Api) -> dict[int, int]:
    """Steward account → its community id."""
    reg = api.state.chain.registry.functions
    out = {1: api.community}
    for k in STEWARDS[1:]:
        r = api.send(api.keys[0], reg.registerCommunity(f"Batch community {k}", [api.keys[k].address], 1, api.keys[2].address))
        assert r.status_code == 201, r.text
        out[k] = int(reg.communityCount().call())
    return out


def _signed(api: Api, steward: int, community: int, cid: str, *, nonce_ahead: int = 0, **protocol: Any) -> dict[str, Any]:
    """A heritage registration of `cid` signed by development account `steward` (its draft's
    nonce plus `nonce_ahead`, protocol fields overridden by `protocol`)."""
    key = api.keys[steward]
    r = api.client.post("/works/drafts", json={"community_id": community, "steward": key.address, "content_cid": cid,
                                               "title": "A batched song"})
    assert r.status_code == 200, r.text
    doc = r.json()["typed_data"]
    message = {**doc["message"], "nonce": doc["message"]["nonce"] + nonce_ahead}
    if protocol:
        message["protocol"] = {**message["protocol"], **protocol}
    doc = typed_data(api.state.domain, "RegisterHeritageWork", message)
    return {"typed_data": doc, "signer": key.address, "signature": "0x" + sign(doc, key.key).hex()}


def _post_while_locked(api: Api, bodies: list[dict[str, Any]]) -> Iterator[httpx.Response]:
    """POST every body at once while the test holds the relay lock, so that all are queued before
    the first batch is taken; the answers in the bodies' order."""
    answers: list[httpx.Response | None] = [None] * len(bodies)

    def post(i: int) -> None:
        answers[i] = api.client.post("/works", json=bodies[i])

    queue = api.state.relays
    before = len(queue.sizes)
    with api.state.write_lock:
        threads = [threading.Thread(target=post, args=(i,)) for i in range(len(bodies))]
        for t in threads:
            t.start()
        for _ in range(600):
            if queue.waiting() == len(bodies):
                break
            threading.Event().wait(0.05)
        assert queue.waiting() == len(bodies)
    for t in threads:
        t.join(120)
    assert len(queue.sizes) > before
    for a in answers:
        assert a is not None
        yield a


def test_concurrent_registrations_are_batched_each_answered_with_its_own_work(api: Api, communities: dict[int, int]) -> None:
    cids = {k: [api.upload(os.urandom(500)) for _ in range(2)] for k in STEWARDS}
    # each steward's second registration is signed with its next nonce: it waits for the next batch
    bodies = [_signed(api, k, communities[k], cids[k][n], nonce_ahead=n) for n in range(2) for k in STEWARDS]
    before = len(api.state.relays.sizes)
    answers = list(_post_while_locked(api, bodies))
    assert [a.status_code for a in answers] == [201] * len(bodies), [a.text[:300] for a in answers if a.status_code != 201]
    assert list(api.state.relays.sizes)[before:] == [len(STEWARDS), len(STEWARDS)]  # one per signer and batch
    works = [int(a.json()["work_id"]) for a in answers]
    assert len(set(works)) == len(works)
    for body, work in zip(bodies, works, strict=True):  # each answer names the work its own request registered
        content = gw.work(api.state.chain, work).content
        assert content == bytes.fromhex(body["typed_data"]["message"]["contentCid"][2:])
        assert gw.work_by_content(api.state.chain, content) == work
        assert api.client.get(f"/works/{work}").status_code == 200  # indexed before the answer


def test_a_refused_action_refuses_only_itself_and_a_replay_is_refused(api: Api, communities: dict[int, int]) -> None:
    taken = api.upload(os.urandom(500))
    late = _signed(api, 3, communities[3], taken)  # signed before the content is taken by account 1's registration
    first = _signed(api, 1, communities[1], taken)
    assert api.client.post("/works", json=first).status_code == 201
    good = _signed(api, 4, communities[4], api.upload(os.urandom(500)))
    bad_floor = _signed(api, 5, communities[5], api.upload(os.urandom(500)), floorPpm=2_000_000)
    replayed = {**good}
    answers = list(_post_while_locked(api, [late, good, bad_floor, replayed]))
    codes = [(a.status_code, a.json().get("code")) for a in answers]
    assert codes[0] == (409, "already-registered"), answers[0].text
    assert sorted([codes[1], codes[3]], key=str) == [(201, None), (409, "signature-replayed")]  # whichever queued first
    assert codes[2] == (409, "contract-refused") and answers[2].json()["contract_error"] == "RegistryInvalidFloor"
    assert gw.work_by_content(api.state.chain, from_text(taken)) is not None
    again = api.client.post("/works", json=good)  # a later replay, in a batch of its own
    assert (again.status_code, again.json()["code"]) == (409, "signature-replayed")

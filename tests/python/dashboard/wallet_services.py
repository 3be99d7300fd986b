"""A fresh API for the wallet's tests (its own anvil, nothing registered), and what the tests put
in it through the API's drafts, signed here with anvil's development keys as a wallet would."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chain.sender import dev_account
from chain.signatures import sign
from tests.python.dashboard.services import heritage_api

KEYS = [dev_account(i) for i in range(6)]
"""anvil's development keys (its public test mnemonic): the test wallet's accounts."""


@pytest.fixture(scope="module")
def fresh_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`heritage api` over a new data dir: its own anvil, the contracts deployed, nothing registered."""
    with heritage_api(tmp_path_factory.mktemp("wallet")) as url:
        yield url


def send(http: httpx.Client, key: Any, draft: dict[str, Any]) -> dict[str, Any]:
    """Sign a transaction draft with `key` and relay it."""
    raw = key.sign_transaction(draft["transaction"]).raw_transaction.to_0x_hex()
    r = http.post("/transactions", json={"raw": raw})
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def signed(draft: dict[str, Any], key: Any) -> dict[str, Any]:
    return {"typed_data": draft["typed_data"], "signer": key.address, "signature": "0x" + sign(draft["typed_data"], key.key).hex()}


def community(http: httpx.Client, *, steward: Any, treasury: Any, name: str = "Han folk singers",
              stewards: list[Any] | None = None, threshold: int = 1) -> int:
    """A community registered by `steward` (its only steward unless `stewards` are given)."""
    draft = http.post("/communities/drafts", json={"sender": steward.address, "name": name, "threshold": threshold,
                                                  "stewards": [s.address for s in stewards or [steward]],
                                                  "treasury": treasury.address}).json()
    send(http, steward, draft)
    return int(http.get("/communities").json()["total"])


def heritage_draft(http: httpx.Client, community_id: int, steward: Any, *, split_to: list[Any] | None = None,
                   **protocol: Any) -> dict[str, Any]:
    """A heritage registration's draft for `steward` (income split equally to `split_to`, else all to the treasury)."""
    cid = http.post("/content", files={"file": ("song.abc", b"X:1\nT:t\nK:G\n" + os.urandom(64).hex().encode(),
                                                 "text/vnd.abc")}).json()["cid"]
    split = [{"account": a.address, "ppm": 1_000_000 // len(split_to)} for a in split_to] if split_to else []
    draft: dict[str, Any] = http.post("/works/drafts", json={
        "community_id": community_id, "steward": steward.address, "content_cid": cid, "title": "Walking the west pass",
        "protocol": protocol, "split": split}).json()
    return draft


def heritage(http: httpx.Client, community_id: int, steward: Any, **protocol: Any) -> int:
    r = http.post("/works", json=signed(heritage_draft(http, community_id, steward, **protocol), steward))
    assert r.status_code == 201, r.text
    return int(r.json()["work_id"])


def derivative(http: httpx.Client, parent: int, creator: Any) -> int:
    cid = http.post("/content", files={"file": ("d.abc", b"X:2\nT:d\nK:D\n" + os.urandom(64).hex().encode(),
                                                 "text/vnd.abc")}).json()["cid"]
    draft = http.post("/derivatives/drafts", json={"creator": creator.address, "content_cid": cid, "title": "Two fiddles",
                                                   "parents": [{"work_id": parent, "ppm": 200_000}]}).json()
    return int(send(http, creator, draft)["work_id"])

"""`heritage api --workers 2`: two real uvicorn worker processes behind one port, on the SQLite
index and on PostgreSQL. Stewards register works at once through both: every request answered
201, every work registered once (nothing lost, nothing duplicated), every signature's nonce used
once (the same signed registration sent twice at once: one 201, one 409), the relay account's
nonces contiguous on chain; writes are limited per client across workers, and X-Forwarded-For is
not believed from a peer that is not a configured proxy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from api.workers import proxy_options
from chain.anvil import free_port, stop_process
from chain.sender import dev_account
from chain.signatures import sign
from core.config import Settings
from core.paths import REPO_ROOT
from tests.python.index.conftest import pg  # noqa: F401  (the PostgreSQL cluster fixture)
from tests.python.postgres import Cluster
from tests.python.services import answers_health

STEWARDS, EACH, LIMIT = 4, 3, 120


def _workers(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(c) for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


@pytest.fixture(params=["sqlite", "postgresql"])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    # The relay account signs with a key of its own (HERITAGE_PRIVATE_KEY): the path where each
    # process keeps a nonce cache, which the workers' shared relay lock must keep from colliding.
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HERITAGE_API_WRITES_PER_MINUTE": str(LIMIT),
           "HERITAGE_PRIVATE_KEY": dev_account(6).key.hex()}
    env.pop("HERITAGE_INDEX_URL", None)
    if request.param == "postgresql":
        cluster: Cluster = request.getfixturevalue("pg")
        env["HERITAGE_INDEX_URL"] = cluster.new_database()
    port = free_port()
    log = open(tmp_path / "api.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "api", "--workers", "2", "--demo", "--port", str(port),
                             "--data-dir", str(tmp_path / "data")], cwd=REPO_ROOT, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        assert answers_health(url, timeout=120, proc=proc), (tmp_path / "api.log").read_text()[-3000:]
        yield url, proc, tmp_path / "data"
    finally:
        stop_process(proc, timeout=30)
        log.close()


def _community(c: httpx.Client, steward: LocalAccount, n: int) -> int:
    funder = dev_account(0)
    draft = c.post("/communities/drafts", json={"sender": funder.address, "name": f"Workers {n}",
                                                "stewards": [steward.address], "threshold": 1, "treasury": steward.address})
    raw = funder.sign_transaction(draft.json()["transaction"]).raw_transaction.to_0x_hex()
    assert (sent := c.post("/transactions", json={"raw": raw})).status_code == 201, sent.text
    return int(c.get("/communities").json()["total"])  # read your write, from either worker


def _signed(c: httpx.Client, steward: LocalAccount, community: int, tag: str) -> tuple[str, dict[str, Any]]:
    cid = c.post("/content", files={"file": (f"{tag}.wav", f"workers {tag} {os.urandom(8).hex()}".encode() * 40,
                                             "audio/wav")}).json()["cid"]
    draft = c.post("/works/drafts", json={"community_id": community, "steward": steward.address, "content_cid": cid,
                                          "title": tag})
    assert draft.status_code == 200, draft.text
    typed = draft.json()["typed_data"]
    return cid, {"typed_data": typed, "signer": steward.address, "signature": "0x" + sign(typed, steward.key).hex()}


def test_two_workers_share_nonces_index_and_limits(service: tuple[str, subprocess.Popen[bytes], Path]) -> None:
    url, proc, data = service
    assert len(_workers(proc.pid)) == 2, "two uvicorn worker processes"
    stewards = [Account.create() for _ in range(STEWARDS)]
    with httpx.Client(base_url=url, timeout=60) as c:
        communities = [_community(c, s, i) for i, s in enumerate(stewards)]
    answers: list[int] = []
    cids: list[str] = []
    blocks: list[int] = []

    def steward(i: int) -> None:
        # A new connection for every request: the kernel hands each to either worker.
        with httpx.Client(base_url=url, timeout=60, limits=httpx.Limits(max_keepalive_connections=0)) as c:
            for n in range(EACH):
                cid, body = _signed(c, stewards[i], communities[i], f"{i}-{n}")
                cids.append(cid)
                r = c.post("/works", json=body)
                answers.append(r.status_code)
                assert r.status_code == 201, r.text
                blocks.append(int(r.json().get("block") or 0))

    with ThreadPoolExecutor(STEWARDS) as pool:
        list(pool.map(steward, range(STEWARDS)))
    assert answers == [201] * STEWARDS * EACH

    # The same signed registration sent twice at once, on separate connections: used once.
    with httpx.Client(base_url=url, timeout=60) as c:
        cid, body = _signed(c, stewards[0], communities[0], "twice")
    cids.append(cid)

    def post(_: int) -> int:
        with httpx.Client(base_url=url, timeout=60) as c:
            r = c.post("/works", json=body)
            blocks.append(int(r.json().get("block") or 0))
            return r.status_code

    with ThreadPoolExecutor(2) as pool:
        assert sorted(pool.map(post, range(2))) == [201, 409]

    with httpx.Client(base_url=url, timeout=60) as c:
        # Whichever worker answers, it has folded every write answered before the read.
        page = c.get("/works", params={"limit": 500}).json()
        assert page["index_block"] >= max(blocks)
        works = page["items"]
        seen = [w["content_cid"] for w in works]
        assert sorted(seen) == sorted(cids), "every registration once: none lost, none duplicated"
        relayer = c.get("/health").json()["relayer"]
        # Every POST so far counted for 127.0.0.1 in both workers together; forged forwarded
        # addresses are not believed (no trusted proxy), so the rest of the minute's writes are refused.
        refused = [c.post("/works/drafts", json={}, headers={"X-Forwarded-For": f"198.51.100.{i}"}) for i in range(LIMIT)]
    limited = [r for r in refused if r.status_code == 429]
    assert limited, "the limit holds across workers and forged X-Forwarded-For"
    assert "from 127.0.0.1" in limited[0].json()["detail"]

    w3 = Web3(Web3.HTTPProvider(json.loads((data / "node.json").read_text())["url"]))
    nonces = [int(tx["nonce"]) for n in range(int(w3.eth.block_number) + 1)
              for tx in w3.eth.get_block(n, full_transactions=True)["transactions"]
              if str(tx["from"]).lower() == relayer.lower()]  # type: ignore[index]
    assert relayer == dev_account(6).address
    assert nonces == list(range(len(nonces))), "the relay account's nonces: each used once, none skipped"


def test_forwarded_headers_only_from_configured_proxies() -> None:
    assert proxy_options(Settings()) == {"proxy_headers": False, "forwarded_allow_ips": None}
    assert proxy_options(Settings(trusted_proxies=" 10.0.0.5, 10.1.0.0/16 ,")) == {
        "proxy_headers": True, "forwarded_allow_ips": ["10.0.0.5", "10.1.0.0/16"]}

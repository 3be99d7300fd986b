"""Usage statements over HTTP, on the API's own embedded anvil (demo mode): submit, read, a line's
proof and settlement, the community statement and the ledger; every refusal a 4xx problem."""

from __future__ import annotations

import pytest

from chain import gateway as gw
from core.cid import to_text
from tests.python.api.conftest import Api
from tests.python.economy.statements_env import Env, fresh_cid, usage_file

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def env(api: Api) -> Env:
    return Env(api.state.chain)


def _post(api: Api, data: bytes) -> tuple[int, dict[str, object]]:
    r = api.client.post("/statements", files={"file": ("usage.tsv", data, "text/tab-separated-values")})
    return r.status_code, r.json()


def test_submit_read_and_check_a_line(api: Api, env: Env) -> None:
    work, cid = env.heritage()
    child = env.derivative(work, 250_000)
    data = usage_file([(str(work), 40), (cid, 60), (str(child), 400), (to_text(fresh_cid()), 5)], service="Api")
    status, body = _post(api, data)
    assert status == 201, body
    sid = int(str(body["statement_id"]))
    assert body["settled_wei"] == "500" and body["held_wei"] == "5" and body["warning"]

    r = api.client.get(f"/statements/{sid}")
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["root"] == body["root"] and view["lines"] == 4 and view["suspense_wei"] == "5"
    assert sorted(p["work_id"] for p in view["payments"]) == sorted([work, child])

    line = api.client.get(f"/statements/{sid}/lines/3").json()
    assert line["proof_ok"] and line["contract_ok"] and line["status"] == "settled"
    assert line["credit"]["work_id"] == work and line["credit"]["amount_wei"] == "100"
    assert line["credit"]["tx"] in list(body["settle_txs"]) and line["latency_s"] is not None  # type: ignore[call-overload]
    assert api.client.get(f"/statements/{sid}/lines/5").json()["status"] == "held"

    rows = api.client.get(f"/statements/communities/{env.community}").json()
    assert rows["statements_wei"] == rows["balance_wei"] == "200" and rows["other_income_wei"] == "0"
    csv = api.client.get(f"/statements/communities/{env.community}", params={"format": "csv"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("statement_id,")

    ledger = api.client.get("/statements/ledger").json()
    assert ledger["periods"] and ledger["median_s"] is not None and len(ledger["latencies_s"]) >= 3
    period = ledger["periods"][0]
    assert 0 <= period["gini"] < 1 and 0 < period["jain"] <= 1 and period["theil_t"] >= 0
    assert gw.balance_of(api.state.chain, env.treasury) == 200


@pytest.mark.parametrize(("path", "status", "code"), [
    ("/statements/999", 404, "unknown-statement"),
    ("/statements/1/lines/999", 404, "unknown-line"),
    ("/statements/abc", 422, "invalid-request"),
    (f"/statements/{2**70}", 422, "invalid-request"),
    ("/statements/1/lines/1", 422, "invalid-request"),
    ("/statements/communities/999", 404, "unknown-community"),
])
def test_reads_refuse_with_problems(api: Api, env: Env, path: str, status: int, code: str) -> None:
    if path.startswith("/statements/1/"):
        work, _ = env.heritage()
        assert _post(api, usage_file([(str(work), 1)], service=f"Read {path}"))[0] == 201
    r = api.client.get(path)
    assert (r.status_code, r.headers["content-type"], r.json()["code"]) == (status, PROBLEM, code), r.text


def test_submissions_refuse_with_problems(api: Api, env: Env) -> None:
    work, _ = env.heritage()
    good = usage_file([(str(work), 7)], service="Twice")
    assert _post(api, good)[0] == 201
    head = api.state.chain.w3.eth.block_number
    status, body = _post(api, good)
    assert (status, body["code"]) == (409, "statement-already-submitted") and body["statement_id"]
    status, body = _post(api, good.replace(b"\t7\n", b"\t-7\n"))
    assert (status, body["code"], body["line"]) == (422, "statement-invalid", 2)
    status, body = _post(api, b"")
    assert (status, body["code"]) == (422, "statement-invalid")
    status, body = _post(api, usage_file([(str(work), 2**90)], service="Too rich"))  # more than the account holds
    assert (status, body["code"]) == (409, "insufficient-funds")
    status, body = _post(api, b"\x00" * (2 * 2**20))  # above the body limit: refused before it is read
    assert status == 413
    assert api.state.chain.w3.eth.block_number == head  # nothing was sent

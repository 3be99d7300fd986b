"""The wallet's pages, run by Streamlit's AppTest against a fresh API on its own anvil. The wallet
component's answer is set as its widget value (what the browser component would report); the
signatures in it are made here with anvil's development keys, as the wallet would make them. So
each page runs draft → words → wallet → relay → new state, and the paths where nothing is sent
(no wallet, wrong chain, a refusal in the wallet, a signature by another key)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account.messages import encode_defunct
from streamlit.testing.v1 import AppTest
from web3 import Web3

from chain.signatures import sign
from tests.python.dashboard.services import free_port
from tests.python.dashboard.wallet_services import KEYS, community, derivative, heritage, heritage_draft, signed
from tests.python.dashboard.wallet_services import fresh_api as fresh_api
from tests.python.erc20 import deploy_token

APP = Path(__file__).resolve().parents[3] / "dashboard" / "app.py"
STEWARD, TREASURY, CREATOR, LISTENER = KEYS[1], KEYS[2], KEYS[4], KEYS[5]


@pytest.fixture(scope="module")
def seeded(fresh_api: str) -> Iterator[dict[str, int]]:
    """A community (steward 1, treasury 2), a heritage work needing consent, a pending derivative."""
    with httpx.Client(base_url=fresh_api, timeout=60) as http:
        c = community(http, steward=STEWARD, treasury=TREASURY)
        work = heritage(http, c, STEWARD, consent_required=True)
        yield {"community": c, "work": work, "pending": derivative(http, work, CREATOR)}


@pytest.fixture()
def http(fresh_api: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fresh_api, timeout=60) as client:
        yield client


def page(fresh_api: str, monkeypatch: pytest.MonkeyPatch, path: str) -> AppTest:
    monkeypatch.setenv("HERITAGE_API_URL", fresh_api)
    at = AppTest.from_file(APP, default_timeout=60).run()
    return at.switch_page(path).run()


def say(at: AppTest, name: str, key: Any | None, *, chain: int = 31337, result: dict[str, Any] | None = None) -> AppTest:
    """What the wallet component reports: `key`'s account on `chain`, and the answer to a request."""
    at.session_state[f"wallet-{name}"] = {"account": key.address if key else None, "chainId": chain, "result": result}
    return at.run()


def pending(at: AppTest, name: str) -> Any:
    return at.session_state[f"{name}:pending"]


def texts(at: AppTest) -> str:
    kinds = (at.title, at.subheader, at.markdown, at.caption, at.info, at.success, at.warning, at.error)
    return "\n".join(str(e.value) for kind in kinds for e in kind)


def sign_tx(at: AppTest, name: str, key: Any) -> dict[str, Any]:
    p = pending(at, name)
    raw = key.sign_transaction(p.payload["transaction"]).raw_transaction.to_0x_hex()
    return {"id": p.id, "ok": True, "kind": "raw", "value": raw}


def sign_typed(at: AppTest, name: str, key: Any) -> dict[str, Any]:
    p = pending(at, name)
    return {"id": p.id, "ok": True, "kind": "signature", "value": "0x" + sign(p.payload["typed_data"], key.key).hex()}


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


@pytest.mark.parametrize("wallet", ["none", "wrong-chain"])
def test_nothing_can_be_prepared_without_a_wallet_on_the_chain(fresh_api: str, monkeypatch: pytest.MonkeyPatch,
                                                               wallet: str) -> None:
    at = page(fresh_api, monkeypatch, "views/act_community.py")
    at = say(at, "community", None if wallet == "none" else STEWARD, chain=1)
    assert not at.text_input and not at.button
    assert ("Connect your wallet" if wallet == "none" else "Switch your wallet to chain 31337") in texts(at)


def test_register_a_community_rejected_then_confirmed(fresh_api: str, monkeypatch: pytest.MonkeyPatch, http: httpx.Client,
                                                      seeded: dict[str, int]) -> None:
    before = http.get("/communities").json()["total"]
    at = say(page(fresh_api, monkeypatch, "views/act_community.py"), "community", KEYS[3])
    at.text_input[0].set_value("Shaanxi shawm players")
    at.button[0].click().run()
    words = texts(ok(at))
    assert "What will happen" in words and "Register the community «Shaanxi shawm players» with 1 steward(s)" in words
    assert f"A transaction from {KEYS[3].address} on chain 31337" in words
    rejected = {"id": pending(at, "community").id, "ok": False, "code": 4001, "error": "User rejected the request."}
    at = say(at, "community", KEYS[3], result=rejected)
    assert "You rejected the request in your wallet. Nothing was signed and nothing was sent." in texts(at)
    assert http.get("/communities").json()["total"] == before
    at.button[0].click().run()
    at = ok(say(at, "community", KEYS[3], result=sign_tx(at, "community", KEYS[3])))
    assert "Done: transaction" in texts(at) and f"Community #{before + 1}: Shaanxi shawm players" in texts(at)
    assert http.get("/communities").json()["total"] == before + 1


def test_a_signature_by_another_key_is_refused_by_the_api(fresh_api: str, monkeypatch: pytest.MonkeyPatch,
                                                          http: httpx.Client, seeded: dict[str, int]) -> None:
    at = say(page(fresh_api, monkeypatch, "views/act_steward.py"), "steward", STEWARD)
    at.button(key=f"ok-{seeded['pending']}").click().run()
    at = say(at, "steward", STEWARD, result=sign_typed(at, "steward", KEYS[3]))
    assert any("The API refused to relay it" in e.value and "signature-invalid" in e.value for e in at.error)
    assert http.get(f"/works/{seeded['pending']}").json()["status"] == "pending"


def test_the_work_page_is_for_stewards(fresh_api: str, monkeypatch: pytest.MonkeyPatch, seeded: dict[str, int]) -> None:
    at = say(page(fresh_api, monkeypatch, "views/act_work.py"), "work", LISTENER)
    assert any("is not a steward of any community" in w.value for w in at.warning)
    at = ok(say(at, "work", STEWARD))
    assert [c.label for c in at.checkbox][:2] == ["Derivatives allowed", "Each derivative needs the stewards' consent"]
    assert at.selectbox[0].options[0] == f"#{seeded['community']} Han folk singers"


def test_the_derivative_page_says_whose_consent_is_needed(fresh_api: str, monkeypatch: pytest.MonkeyPatch,
                                                          seeded: dict[str, int]) -> None:
    at = ok(say(page(fresh_api, monkeypatch, "views/act_derivative.py"), "derivative", CREATOR))
    at.multiselect[0].select(next(o for o in at.multiselect[0].options if o.startswith(f"#{seeded['work']} "))).run()
    assert f"Needs consent from work #{seeded['work']}'s community" in texts(ok(at))
    assert [n.label for n in at.number_input] == [f"Share to #{seeded['work']} (%)"]


def test_the_steward_approves_from_the_queue_then_a_listener_pays_and_the_treasury_withdraws(
        fresh_api: str, monkeypatch: pytest.MonkeyPatch, http: httpx.Client, seeded: dict[str, int]) -> None:
    child = seeded["pending"]
    at = ok(say(page(fresh_api, monkeypatch, "views/act_steward.py"), "steward", STEWARD))
    assert f"#{child} Two fiddles" in texts(at)
    at.button(key=f"ok-{child}").click().run()
    assert f"You consent to, for Han folk singers (community #{seeded['community']}), derivative work #{child}" in texts(at)
    at = ok(say(at, "steward", STEWARD, result=sign_typed(at, "steward", STEWARD)))
    assert f"Derivative #{child} is now **active**" in texts(at)
    assert "Nothing awaits your consent." in texts(at)

    at = ok(say(page(fresh_api, monkeypatch, "views/act_pay.py"), "pay", LISTENER))
    at.selectbox[0].select_index(next(i for i, o in enumerate(at.selectbox[0].options) if o.startswith(f"#{child} ")))
    at.text_input[0].set_value("0.5")
    at.button[0].click().run()
    assert f"Pay 0.5 ETH to work #{child}" in texts(ok(at)) and "It sends 0.5 ETH from your account" in texts(at)
    at = ok(say(at, "pay", LISTENER, result=sign_tx(at, "pay", LISTENER)))
    assert "Done: transaction" in texts(at)
    assert int(http.get(f"/balances/{TREASURY.address}").json()["amount"]) == 10**17  # 20 % of 0.5 ETH

    at = ok(say(page(fresh_api, monkeypatch, "views/act_pay.py"), "pay", TREASURY))
    assert at.metric[0].value == "0.1 ETH"
    next(b for b in at.button if b.label == "Prepare a withdrawal").click().run()
    assert "Withdraw your whole balance, 0.1 ETH" in texts(ok(at))
    at = ok(say(at, "pay", TREASURY, result=sign_tx(at, "pay", TREASURY)))
    assert http.get(f"/balances/{TREASURY.address}").json()["amount"] == "0"


def test_sign_in_with_ethereum_shows_my_account(fresh_api: str, monkeypatch: pytest.MonkeyPatch, seeded: dict[str, int]) -> None:
    at = ok(say(page(fresh_api, monkeypatch, "views/account.py"), "account", STEWARD))
    assert not at.metric
    at.button[0].click().run()
    p = pending(at, "account")
    assert p.kind == "message" and "wants you to sign in with your Ethereum account" in p.payload["message"]
    signature = STEWARD.sign_message(encode_defunct(text=p.payload["message"])).signature.to_0x_hex()
    at = ok(say(at, "account", STEWARD, result={"id": p.id, "ok": True, "kind": "signature", "value": signature}))
    assert f"Signed in as {STEWARD.address}" in texts(at)
    assert [m.label for m in at.metric] == ["Balance to withdraw", "Works registered", "Awaiting my consent"]
    assert at.metric[1].value == "1"
    at = ok(say(at, "account", KEYS[3]))  # another account in the wallet: the session is not theirs
    assert not at.metric and "Sign in with your wallet" in texts(at)


def test_a_steward_tightens_a_protocol_from_the_queue_page(fresh_api: str, monkeypatch: pytest.MonkeyPatch,
                                                           http: httpx.Client, seeded: dict[str, int]) -> None:
    at = ok(say(page(fresh_api, monkeypatch, "views/act_steward.py"), "steward", STEWARD))
    at.checkbox(key="p-commercial_allowed").uncheck()
    next(b for b in at.button if b.label == "Prepare the change").click().run()
    words = texts(ok(at))
    assert f"a new protocol for work #{seeded['work']}" in words and "no commercial use" in words
    at = ok(say(at, "steward", STEWARD, result=sign_typed(at, "steward", STEWARD)))
    assert "Done: transaction" in texts(at) and "Approvals 1 of 1, the threshold, reached" in texts(at)
    assert http.get(f"/works/{seeded['work']}/protocol").json()[0]["commercial_allowed"] is False


def test_a_steward_raises_a_claim_with_evidence_in_words(fresh_api: str, monkeypatch: pytest.MonkeyPatch,
                                                         http: httpx.Client, seeded: dict[str, int]) -> None:
    with httpx.Client(base_url=fresh_api, timeout=60) as client:
        other = community(client, steward=KEYS[3], treasury=KEYS[3], name="Hubei balladeers")
        target = derivative(client, heritage(client, other, KEYS[3]), CREATOR)
    at = ok(say(page(fresh_api, monkeypatch, "views/act_claim.py"), "claim", STEWARD))
    at.selectbox[1].select_index(next(i for i, o in enumerate(at.selectbox[1].options) if o.startswith(f"#{target} ")))
    at.number_input[0].set_value(seeded["work"])
    at.number_input[1].set_value(10.0)
    at.text_area[0].set_value("Recorded in Yulin in 1953; the melody is ours.")
    next(b for b in at.button if b.label == "Prepare the claim").click().run()
    words = texts(ok(at))
    assert f"leaves your heritage work #{seeded['work']} out of its lineage on work #{target}" in words
    assert "with the evidence stored as bafk" in words and "Your bond of" in words
    at = ok(say(at, "claim", STEWARD, result=sign_tx(at, "claim", STEWARD)))
    work = http.get(f"/works/{target}").json()
    assert work["disputed"] and work["claim"] is not None
    assert f"Claim #{work['claim']} on work #{target}" in texts(at)


def test_check_a_file_by_its_cid(fresh_api: str, monkeypatch: pytest.MonkeyPatch, http: httpx.Client,
                                 seeded: dict[str, int]) -> None:
    data = b"X:9\nT:checked\nK:A\n" + bytes(range(256)) * 2000  # > 256 KiB: more than one chunk
    stored = http.post("/content", files={"file": ("c.abc", data, "text/vnd.abc")}).json()["cid"]
    at = ok(page(fresh_api, monkeypatch, "views/check_file.py"))
    at.text_input[0].set_value(http.get(f"/works/{seeded['work']}").json()["content_cid"]).run()
    assert f"Work #{seeded['work']}: Walking the west pass" in texts(ok(at)) and at.success[0].value == "Audit passed"
    at.text_input[0].set_value(stored).run()
    assert "No work on this platform has this content" in texts(at)


@pytest.mark.parametrize("path", ["views/act_community.py", "views/act_work.py", "views/act_steward.py",
                                  "views/act_derivative.py", "views/act_pay.py", "views/act_claim.py", "views/account.py",
                                  "views/act_restricted.py"])
def test_an_unreachable_api_is_a_message_not_a_traceback(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERITAGE_API_URL", f"http://127.0.0.1:{free_port()}")
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page(path).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Cannot reach the Heritage Ledger API" in e.value for e in at.error)


def test_a_steward_changes_the_stewards(fresh_api: str, monkeypatch: pytest.MonkeyPatch, http: httpx.Client,
                                        seeded: dict[str, int]) -> None:
    with httpx.Client(base_url=fresh_api, timeout=60) as client:
        gansu = community(client, steward=KEYS[0], treasury=KEYS[0], name="Gansu hua'er singers")
    at = ok(say(page(fresh_api, monkeypatch, "views/act_community.py"), "community", KEYS[0]))
    at.selectbox[0].select_index(next(i for i, o in enumerate(at.selectbox[0].options) if o.startswith(f"#{gansu} "))).run()
    change = next(t for t in at.text_area if t.label.startswith("New stewards"))
    change.set_value(f"{KEYS[0].address}\n{KEYS[2].address}")
    next(n for n in at.number_input if n.label == "New approvals needed").set_value(2)
    next(b for b in at.button if b.label == "Prepare my approval").click().run()
    assert "this approval applies it" in texts(ok(at)) and "2 of their 2 approvals govern it" in texts(at)
    at = ok(say(at, "community", KEYS[0], result=sign_tx(at, "community", KEYS[0])))
    assert f"Community #{gansu}: Gansu hua'er singers" in texts(at) and "threshold 2 of 2" in texts(at)
    assert http.get(f"/communities/{gansu}").json()["stewards"] == [KEYS[0].address, KEYS[2].address]


def test_the_restricted_page_is_for_stewards_and_uploads_nothing(fresh_api: str, monkeypatch: pytest.MonkeyPatch,
                                                                seeded: dict[str, int]) -> None:
    at = say(page(fresh_api, monkeypatch, "views/act_restricted.py"), "restricted", LISTENER)
    assert any("is not a steward of any community" in w.value for w in at.warning)
    at = ok(say(at, "restricted", STEWARD))
    assert at.checkbox[0].value is True and at.checkbox[0].label.startswith("Reserve these bytes")
    next(b for b in at.button if b.label == "Prepare the registration").click().run()
    assert [e.value for e in at.error] == ["Choose the file."] and "restricted:pending" not in at.session_state


def test_two_stewards_gather_their_consent_from_two_accounts(fresh_api: str, monkeypatch: pytest.MonkeyPatch,
                                                             http: httpx.Client) -> None:
    """A 2-of-2 community: its heritage work proposed by one steward and co-signed by the other on the
    queue page; a derivative's consent signed by the first (stored, nothing sent), then the second."""
    first, second = KEYS[1], KEYS[3]
    c = community(http, steward=first, treasury=TREASURY, name="Two keepers", stewards=[first, second], threshold=2)
    proposed = http.post("/approvals", json=signed(heritage_draft(http, c, first, consent_required=True,
                                                                  split_to=[TREASURY, first]), first)).json()
    assert (proposed["status"], proposed["approvals"], proposed["needed"]) == ("pending", 1, 2)

    at = ok(say(page(fresh_api, monkeypatch, "views/act_steward.py"), "steward", second))
    assert "Register a heritage work" in texts(at) and "approvals 1 of 2" in texts(at)
    at.button(key=f"cosign-{proposed['key']}").click().run()
    assert "You co-sign, as a steward of Two keepers, the registration of a heritage work" in texts(ok(at))
    assert "Approvals 1 of 2 so far; with yours 2 of 2." in texts(at)
    at = ok(say(at, "steward", second, result=sign_typed(at, "steward", second)))
    assert "Approvals 2 of 2, the threshold, reached" in texts(at)
    work = int(at.session_state["steward:outcome"]["relayed"]["work_id"])
    assert http.get(f"/works/{work}").json()["status"] == "active"

    child = derivative(http, work, CREATOR)
    at = ok(say(page(fresh_api, monkeypatch, "views/act_steward.py"), "steward", first))
    assert "Consent: approvals 0 of 2" in texts(at)
    at.button(key=f"ok-{child}").click().run()
    at = ok(say(at, "steward", first, result=sign_typed(at, "steward", first)))
    assert "Your signature is stored: approvals 1 of 2" in texts(at) and "Consent: approvals 1 of 2 (you signed)" in texts(at)
    assert http.get(f"/works/{child}").json()["status"] == "pending"

    at = ok(say(page(fresh_api, monkeypatch, "views/act_steward.py"), "steward", second))
    assert "Consent: approvals 1 of 2" in texts(at)
    at.button(key=f"ok-{child}").click().run()
    at = ok(say(at, "steward", second, result=sign_typed(at, "steward", second)))
    assert f"Derivative #{child} is now **active**" in texts(at)
    assert http.get("/approvals", params={"community_id": c}).json() == []


def test_a_listener_pays_in_an_erc20_token_in_two_steps(fresh_api: str, monkeypatch: pytest.MonkeyPatch,
                                                        http: httpx.Client, seeded: dict[str, int]) -> None:
    w3 = Web3(Web3.HTTPProvider(http.get("/wallet/chain").json()["rpc_url"]))
    token = deploy_token(w3, KEYS[0].address, mint={LISTENER.address: 10 * 10**18})
    at = ok(say(page(fresh_api, monkeypatch, "views/act_pay.py"), "pay", LISTENER))
    at.radio[0].set_value("An ERC-20 token").run()
    at.text_input[0].set_value(token).run()
    assert "You hold 10 MOCK; the router may take 0 MOCK of it." in texts(ok(at))
    at.selectbox[0].select_index(next(i for i, o in enumerate(at.selectbox[0].options) if o.startswith(f"#{seeded['work']} ")))
    at.text_input[1].set_value("1.5")
    next(b for b in at.button if b.label == "Prepare the payment").click().run()
    assert "Step 1 of 2: allow the royalty router to take 1.5 MOCK" in texts(ok(at))
    at = ok(say(at, "pay", LISTENER, result=sign_tx(at, "pay", LISTENER)))
    assert "The router may now take 1.5 MOCK" in texts(at)
    next(b for b in at.button if b.label == "Prepare the payment").click().run()
    assert f"Pay 1.5 MOCK to work #{seeded['work']}" in texts(ok(at))
    at = ok(say(at, "pay", LISTENER, result=sign_tx(at, "pay", LISTENER)))
    assert "Done: transaction" in texts(at)
    owed = http.get(f"/balances/{TREASURY.address}", params={"token": token}).json()["amount"]
    assert owed == str(15 * 10**17)
    bogus = ok(say(page(fresh_api, monkeypatch, "views/act_pay.py"), "pay", LISTENER))
    bogus.radio[0].set_value("An ERC-20 token").run()
    bogus.text_input[0].set_value(KEYS[3].address).run()
    assert any("not-a-token" in e.value or "holds no contract" in e.value for e in bogus.error)

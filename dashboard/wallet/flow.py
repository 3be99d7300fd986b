"""Draft → sign in the wallet → relay → receipt, the same on every action page.

A page asks the API for a draft and hands it to `ask` with the words that say what will happen;
`step` renders the wallet (with the pending request, if any), and once the wallet answers relays
what it signed through the API and keeps the outcome for the page to show. A refusal in the
wallet (EIP-1193 error 4001) is a message and nothing is sent.
"""

from __future__ import annotations

import mimetypes
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

import httpx
import streamlit as st

from dashboard.client import ApiClient, ApiError, _problem, api_url
from dashboard.schema import Community, WorkDetail
from dashboard.ui import refusals_shown
from dashboard.wallet import words
from dashboard.wallet.component import ChainInfo, Wallet, wallet

USER_REJECTED = 4001
SCORE_TYPES = {"abc": "text/vnd.abc", "krn": "text/plain", "musicxml": "application/vnd.recordare.musicxml+xml",
               "mxl": "application/vnd.recordare.musicxml+xml", "xml": "application/xml", "mid": "audio/midi",
               "midi": "audio/midi"}


def media_of(name: str, media_type: str | None) -> str:
    """The media type the browser gave, else one from the file's name (browsers give none for ABC,
    kern and MusicXML)."""
    if media_type and media_type != "application/octet-stream":
        return media_type
    suffix = name.rsplit(".", 1)[-1].lower()
    return SCORE_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


class ActionClient(ApiClient):
    """The API client with the write calls the action pages make."""

    def get(self, path: str, **params: Any) -> Any:
        return self._send("GET", path, params=params).json()

    def post(self, path: str, body: Any, *, token: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        return self._send("POST", path, json=body, headers=headers, timeout=120).json()

    def get_as(self, path: str, token: str) -> Any:
        return self._send("GET", path, headers={"Authorization": f"Bearer {token}"}).json()

    def upload(self, name: str, data: bytes, media_type: str | None) -> dict[str, Any]:
        """POST /content: the stored file's CID, size and media type."""
        return self._file("/content", name, data, media_type)

    def cid(self, name: str, data: bytes, media_type: str | None) -> dict[str, Any]:
        """POST /content/cid: the file's CID (and its binary form, `cid_hex`); nothing is stored."""
        return self._file("/content/cid", name, data, media_type)

    def _file(self, path: str, name: str, data: bytes, media_type: str | None) -> dict[str, Any]:
        try:
            response = self._http.post(path, files={"file": (name, data, media_of(name, media_type))}, timeout=120)
        except httpx.HTTPError as err:
            raise ApiError(f"the file did not reach the API ({type(err).__name__}); try again") from err
        if not response.is_success:
            raise _problem("POST", path, response)
        return cast(dict[str, Any], response.json())

    def chain(self) -> ChainInfo:
        return cast(ChainInfo, self.get("/wallet/chain"))


@contextmanager
def session() -> Iterator[ActionClient]:
    """`dashboard.ui.api_session` for the action pages: a refusal is a message, never a traceback."""
    with refusals_shown(), ActionClient(api_url()) as api:
        yield api


@dataclass(frozen=True)
class Pending:
    """A request waiting for the wallet: what to ask, the words shown, and where to relay the answer."""

    id: str
    kind: str  # sign (EIP-712) | send (a transaction draft) | message (EIP-4361)
    payload: dict[str, Any]
    summary: str
    label: str
    relay: str | None = None  # `sign`: the endpoint taking {typed_data, signer, signature}; `send`: {raw} or {tx} (default
    # POST /transactions, /transactions/receipts)

    def request(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "label": self.label, **self.payload}


def ask(page: str, kind: str, payload: dict[str, Any], summary: str, *, label: str, relay: str | None = None) -> None:
    """Make `payload` the page's pending request (the previous outcome is cleared) and rerun."""
    st.session_state[f"{page}:pending"] = Pending(uuid.uuid4().hex, kind, payload, summary, label, relay)
    st.session_state.pop(f"{page}:outcome", None)
    st.rerun()


def relay(api: ActionClient, pending: Pending, account: str, result: dict[str, Any]) -> dict[str, Any]:
    """Send what the wallet gave to the API: a signature to the action's endpoint, a signed
    transaction to POST /transactions, the hash of one the wallet sent to /transactions/receipts."""
    value = str(result["value"])
    if pending.kind == "message":
        return cast(dict[str, Any], api.post("/session", {"message": pending.payload["message"], "signature": value}))
    if result.get("kind") == "signature":
        assert pending.relay is not None
        return cast(dict[str, Any], api.post(pending.relay, {"typed_data": pending.payload["typed_data"], "signer": account,
                                                             "signature": value}))
    if result.get("kind") == "raw":
        return cast(dict[str, Any], api.post(pending.relay or "/transactions", {"raw": value}))
    return cast(dict[str, Any], api.post(pending.relay or "/transactions/receipts", {"tx": value}))


def step(api: ActionClient, page: str) -> tuple[ChainInfo, Wallet]:
    """Render the wallet with the page's pending request; settle the request once the wallet answered."""
    chain = api.chain()
    pending: Pending | None = st.session_state.get(f"{page}:pending")
    words = st.container()  # above the wallet, filled once it is known whether the request is still pending
    w = wallet(chain, pending.request() if pending else None, key=f"wallet-{page}")
    result = w.result
    if pending is not None and result is not None and result.get("id") == pending.id and w.account:
        del st.session_state[f"{page}:pending"]
        if not result.get("ok"):
            rejected = result.get("code") == USER_REJECTED
            st.session_state[f"{page}:outcome"] = {"error": str(result.get("error")), "rejected": rejected}
        else:
            try:
                st.session_state[f"{page}:outcome"] = {"relayed": relay(api, pending, w.account, result)}
            except ApiError as err:
                st.session_state[f"{page}:outcome"] = {"error": f"The API refused to relay it. {err}", "rejected": False}
    elif pending is not None:
        words.info(f"**What will happen**\n\n{pending.summary}", icon=":material/draw:")
    return chain, w


def outcome(page: str) -> dict[str, Any] | None:
    """The last request's outcome on `page`, shown: the receipt, or why nothing was sent."""
    out: dict[str, Any] | None = st.session_state.get(f"{page}:outcome")
    if out is None:
        return None
    if "error" in out:
        if out["rejected"]:
            st.warning("You rejected the request in your wallet. Nothing was signed and nothing was sent.",
                       icon=":material/block:")
        else:
            st.error(out["error"], icon=":material/error:")
        return None
    relayed: dict[str, Any] = out["relayed"]
    if "needed" in relayed:  # a steward's signature toward the community's threshold (POST /approvals)
        if relayed["status"] == "applied":
            last = relayed["relayed"][-1]
            st.success(f"Done: transaction `{last['tx']}` in block {last['block']}. Approvals {relayed['approvals']} of "
                       f"{relayed['needed']}, the threshold, reached: {len(relayed['relayed'])} signature(s) relayed.",
                       icon=":material/task_alt:")
        else:
            st.info(f"Your signature is stored: approvals {relayed['approvals']} of {relayed['needed']}. Nothing is sent "
                    f"until {relayed['needed']} stewards have signed; the others find it in the steward's queue.",
                    icon=":material/how_to_vote:")
    elif "tx" in relayed:
        work = f" · work #{relayed['work_id']}" if relayed.get("work_id") else ""
        status = f" · status {relayed['status']}" if relayed.get("status") else ""
        st.success(f"Done: transaction `{relayed['tx']}` in block {relayed['block']} (gas {relayed['gas_used']:,})"
                   f"{work}{status}", icon=":material/task_alt:")
    return relayed


@dataclass(frozen=True)
class Page:
    """One action page's run: its API client, the chain, what the wallet reported and the last
    request's outcome (shown already), with the page's name bound into `ask`."""

    name: str
    api: ActionClient
    chain: ChainInfo
    wallet: Wallet
    relayed: dict[str, Any] | None

    def account(self) -> str | None:
        """The connected account when the page can go on; otherwise None, with the hint shown."""
        return self.wallet.account if connect_hint(self.chain, self.wallet) else None

    def ask(self, kind: str, payload: dict[str, Any], summary: str, *, label: str, relay: str | None = None) -> None:
        ask(self.name, kind, payload, summary, label=label, relay=relay)

    def send(self, transaction: dict[str, Any], what: str, *, relay: str | None = None) -> None:
        """Ask the wallet to sign (or send) a transaction draft, `what` it does said first."""
        assert self.wallet.account is not None
        self.ask("send", {"transaction": transaction}, words.transaction(transaction, what, account=self.wallet.account),
                 label="Confirm in wallet", relay=relay)

    def sign(self, typed_data: dict[str, Any], summary: str, *, relay: str) -> None:
        """Ask the wallet for a steward's EIP-712 signature, relayed to `relay`."""
        self.ask("sign", {"typed_data": typed_data}, summary, label="Sign in wallet", relay=relay)

    def relayed_work(self) -> WorkDetail | None:
        """The work the last outcome names (registered, approved, claimed), as it is now."""
        work = (self.relayed or {}).get("work_id")
        return self.api.work(int(work)) if work else None

    def stewarded(self) -> list[Community]:
        """The communities the connected account is a steward of."""
        me = (self.wallet.account or "").lower()
        return [c for c in self.api.communities() if me in (s.lower() for s in c["stewards"])]


@contextmanager
def page(name: str, title: str, caption: str | None = None) -> Iterator[Page]:
    """An action page's preamble: its title, the API session, the wallet with the pending request,
    and the last outcome shown."""
    st.title(title)
    if caption:
        st.caption(caption)
    with session() as api:
        chain, w = step(api, name)
        yield Page(name, api, chain, w, outcome(name))


def connect_hint(chain: ChainInfo, w: Wallet) -> bool:
    """Whether the page can go on; otherwise says what to do in the wallet box above."""
    if w.account is None:
        st.caption("Connect your wallet above to go on. Nothing is signed without your confirmation in the wallet.")
        return False
    if w.chain_id != chain["chain_id"]:
        st.caption(f"Switch your wallet to chain {chain['chain_id']} above to go on.")
        return False
    return True

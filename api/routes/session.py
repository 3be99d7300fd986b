"""Sign-In with Ethereum (api/siwe.py) and what a signed-in account sees: its works, balance,
payouts and the approvals awaiting it. The session is a cookie (`heritage_session`, HttpOnly,
SameSite=Lax) with an expiry; the same token is accepted as `Authorization: Bearer` for clients
that call the API from a server (the dashboard)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api import approvals
from api.deps import State
from api.models import Address
from api.problems import Problem
from api.shared import UsedNonces
from api.siwe import SESSION_TTL_S, SessionRefused, Sessions
from api.state import ApiState
from chain import gateway as gw

router = APIRouter(tags=["session"])
COOKIE = "heritage_session"


class ChallengeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: str = Address
    domain: str | None = Field(default=None, max_length=253, description="The site asking (default: this API's host).")
    uri: str | None = Field(default=None, max_length=500)


class ChallengeOut(BaseModel):
    message: str = Field(description="EIP-4361 text for the wallet's personal_sign.")
    expires: int


class SignInIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str = Field(max_length=2_000)
    signature: str = Field(pattern="^0x[0-9a-fA-F]{130}$")


class SessionOut(BaseModel):
    address: str
    expires: int
    token: str | None = Field(default=None, description="Also set as the cookie; for server-side clients.")


def _sessions(request: Request, state: ApiState) -> Sessions:
    found: Sessions | None = getattr(request.app.state, "sessions", None)
    if found is None:
        spent = UsedNonces(state.index.engine)  # shared by every worker (heritage api --workers N)
        found = request.app.state.sessions = Sessions.in_dir(state.settings.data_dir, state.domain.chain_id, spent.spend)
    return found


def _holder(request: Request, state: ApiState, cookie: str | None, authorization: str | None) -> tuple[str, int]:
    token = cookie
    if authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    try:
        return _sessions(request, state).holder(token)
    except SessionRefused as err:
        raise Problem(401, "not-signed-in", str(err)) from err


CookieIn = Annotated[str | None, Cookie(alias=COOKIE)]
AuthIn = Annotated[str | None, Header()]


@router.post("/session/challenge", response_model=ChallengeOut, summary="A Sign-In with Ethereum message to sign")
def challenge(state: State, request: Request, body: ChallengeIn) -> ChallengeOut:
    host = request.url.netloc
    try:
        text, expires = _sessions(request, state).challenge(body.address, domain=body.domain or host,
                                                            uri=body.uri or str(request.base_url))
    except SessionRefused as err:
        raise Problem(400, "invalid-sign-in-request", str(err)) from err
    return ChallengeOut(message=text, expires=expires)


@router.post("/session", status_code=201, response_model=SessionOut, summary="Sign in: a signed challenge → a session cookie")
def sign_in(state: State, request: Request, response: Response, body: SignInIn) -> SessionOut:
    try:
        address, token, until = _sessions(request, state).sign_in(body.message, body.signature)
    except SessionRefused as err:
        raise Problem(401, "sign-in-refused", str(err)) from err
    response.set_cookie(COOKIE, token, max_age=SESSION_TTL_S, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")
    return SessionOut(address=address, expires=until, token=token)


@router.get("/session", response_model=SessionOut, summary="Who is signed in, until when")
def current(state: State, request: Request, heritage_session: CookieIn = None, authorization: AuthIn = None) -> SessionOut:
    address, until = _holder(request, state, heritage_session, authorization)
    return SessionOut(address=address, expires=until)


@router.delete("/session", status_code=204, summary="Sign out (the cookie is cleared)")
def sign_out(response: Response) -> None:
    response.delete_cookie(COOKIE)


@router.get("/session/me", summary="The signed-in account's works, balance, payouts and pending approvals")
def me(state: State, request: Request, heritage_session: CookieIn = None, authorization: AuthIn = None) -> dict[str, Any]:
    address, until = _holder(request, state, heritage_session, authorization)
    cat = state.catalogue()
    mine = address.lower()
    works = [w.to_json() for w in cat.works.values() if w.registrant.lower() == mine]
    stewarded = [c.community_id for c in cat.communities.values() if mine in (s.lower() for s in c.stewards)]
    treasuries = [c.community_id for c in cat.communities.values() if c.treasury.lower() == mine]
    pending = [w.to_json() for w in cat.works.values() if w.kind == "derivative" and w.status == "pending"
               and cat.communities_of(w.work_id) & set(stewarded)]
    awaiting = [a.model_dump() for c in stewarded for a in approvals.pending(state, community_id=c) if address not in a.signers]
    payouts = [{"block": e["block"], "tx": e["tx"], "amount_wei": str(e["args"]["amount"]), "token": e["args"]["token"]}  # type: ignore[index]
               for e in state.events(name="Withdrawn") if str(e["args"]["account"]).lower() == mine]  # type: ignore[index]
    return {"address": address, "expires": until, "balance_wei": str(int(gw.balance_of(state.chain, address))),
            "works": works, "steward_of": stewarded, "treasury_of": treasuries, "pending_approvals": pending,
            "awaiting_my_signature": awaiting, "withdrawals": payouts}

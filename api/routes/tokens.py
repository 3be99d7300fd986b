"""ERC-20 payments from a wallet: the token and the payer's holding, the router's approval to sign,
and that approval relayed (api/tokens.py); the payment itself is POST /payments/drafts with `token`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api import tokens
from api.deps import State
from api.relay import wallet_transaction
from api.routes.transactions import TxDraft
from api.tokens import ApprovalDraftIn, ApprovalSentIn, ApprovedOut, TokenOut
from chain import tokens as chain_tokens

router = APIRouter(tags=["tokens"])
TokenPath = Annotated[str, Path(pattern="^0x[0-9a-fA-F]{40}$", description="The ERC-20 token's address.")]


@router.get("/tokens/{token}", response_model=TokenOut, summary="An ERC-20 token, an account's balance and router allowance")
def token(state: State, token: TokenPath, account: Annotated[str, Query(pattern="^0x[0-9a-fA-F]{40}$")]) -> TokenOut:
    return tokens.token_out(state, token, account)


@router.post("/tokens/{token}/approvals/drafts", response_model=TxDraft,
             summary="The token's approve(router, amount), for the payer's wallet to sign before paying in it")
def approval_draft(state: State, token: TokenPath, body: ApprovalDraftIn) -> TxDraft:
    tokens.holding(state, token, body.owner)
    return TxDraft(transaction=wallet_transaction(state, chain_tokens.approve_router(state.chain, token, body.amount),
                                                  body.owner))


@router.post("/tokens/{token}/approvals", status_code=201, response_model=ApprovedOut,
             summary="Relay the payer's signed approval of the router (or follow the one their wallet sent)")
def approved(state: State, token: TokenPath, body: ApprovalSentIn) -> ApprovedOut:
    return tokens.approved(state, token, body)

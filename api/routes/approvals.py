"""Stewards' approvals gathered toward their community's threshold (k of n): a steward's signed
action stored as pending, the pending ones listed, another steward's draft of the same decision;
relayed once the threshold is reached (api/approvals.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict

from api import approvals
from api.approvals import ApprovalOut
from api.deps import State
from api.models import Address, Draft, SignedAction

router = APIRouter(tags=["approvals"])
KeyPath = Annotated[str, Path(pattern="^0x[0-9a-f]{64}$", description="A pending action's key (GET /approvals).")]


class CoSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    steward: str = Address


@router.post("/approvals", status_code=201, response_model=ApprovalOut,
             summary="Add a steward's signed action toward the threshold; relayed when it is reached")
def add(state: State, body: SignedAction) -> ApprovalOut:
    return approvals.add(state, body)


@router.get("/approvals", response_model=list[ApprovalOut], summary="Actions awaiting stewards' signatures, k of n")
def pending(state: State, community_id: Annotated[int | None, Query(ge=1)] = None,
            work_id: Annotated[int | None, Query(ge=1)] = None) -> list[ApprovalOut]:
    return approvals.pending(state, community_id=community_id, work_id=work_id)


@router.post("/approvals/{key}/drafts", response_model=Draft, summary="The same pending action, for another steward to sign")
def cosign_draft(state: State, key: KeyPath, body: CoSignIn) -> Draft:
    return approvals.draft_for(state, key, body.steward)

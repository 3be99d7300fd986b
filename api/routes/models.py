"""Reads of a model's training set (contracts/TrainingSets.sol): a member's Merkle proof, checked
by the contract, so anyone can verify that a work taught the model (issue 23)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from api.deps import State
from api.limits import UINT256_MAX
from api.problems import Problem
from chain import trainingsets as ts

router = APIRouter(tags=["models"])

Id = Annotated[int, Path(ge=1, le=UINT256_MAX, description="A work id.")]


class MembershipOut(BaseModel):
    model: int
    work: int
    cid: str
    root: str
    proof: list[str]
    verified: bool
    """The contract's `isMember` accepted the proof."""


@router.get("/models/{model}/training-set/members/{work}", response_model=MembershipOut,
            summary="Prove that a work is in a model's training set (Merkle proof, checked on chain)")
def membership(model: Id, work: Id, state: State) -> MembershipOut:
    try:
        p = ts.prove(state.chain, state.store, model, work)
    except ts.NotMember as err:
        raise Problem(404, "not-a-member", f"{err}: list its members with the model's published member list") from err
    return MembershipOut(model=model, work=work, cid=p.cid, root="0x" + p.root.hex(),
                         proof=["0x" + h.hex() for h in p.proof], verified=p.verified)

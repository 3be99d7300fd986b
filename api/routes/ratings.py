"""A rater's side of a listening study: the next piece to rate (blind: no labels) and the
ratings of one piece, all stored or none. The rater's token is the invitation link's."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.routes.study_common import CriterionOut, Secret, StoreDep, Token, criterion_out
from listening.studies import PieceView, Studies

router = APIRouter(tags=["studies"])


class PieceViewOut(BaseModel):
    cid: str
    work_id: int | None = Field(description="Null in a blind study.")
    condition: str | None = Field(description="Null in a blind study.")


class NextOut(BaseModel):
    study_id: str
    title: str
    instructions: str
    done: int = Field(description="Pieces this rater has rated on every criterion.")
    total: int
    position: int | None = Field(description="The next piece's place in this rater's order (1-based); null when done.")
    piece: PieceViewOut | None
    criteria: list[CriterionOut] = Field(description="Criteria still to rate on this piece.")
    references: list[PieceViewOut]


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    piece: str = Field(description="CID of the piece rated.")
    values: dict[str, int | float] = Field(description="{criterion: whole number on its scale}.")


class RatingsStored(BaseModel):
    study_id: str
    piece: str
    values: dict[str, int]
    rated_at: datetime



def _view(p: PieceView) -> PieceViewOut:
    return PieceViewOut(cid=p.cid, work_id=p.work_id, condition=p.condition)


# ---------------------------------------------------------------------- the rater
@router.get("/studies/{study_id}/next", response_model=NextOut, summary="A rater's next piece (blind: no labels)")
def next_piece(store: StoreDep, secret: Secret, token: Token, study_id: str) -> NextOut:
    studies = Studies(store)
    rater = studies.rater_of(study_id, token, secret=secret)
    study = studies.get(study_id)
    p = studies.progress(study_id, rater)
    n = p.next
    return NextOut(study_id=study_id, title=study.title, instructions=study.instructions, done=p.done, total=p.total,
                   position=None if n is None else n.position, piece=None if n is None else _view(n.piece),
                   criteria=[] if n is None else [criterion_out(c) for c in n.criteria],
                   references=[] if n is None else [_view(r) for r in n.references])


@router.post("/studies/{study_id}/ratings", status_code=201, response_model=RatingsStored,
             summary="A rater's ratings of one piece: all stored, or none")
def rate(store: StoreDep, secret: Secret, token: Token, study_id: str, body: RatingIn) -> RatingsStored:
    studies = Studies(store)
    rater = studies.rater_of(study_id, token, secret=secret)
    stored = studies.submit(study_id, rater, body.piece, body.values)
    return RatingsStored(study_id=study_id, piece=body.piece, values={r.criterion: r.value for r in stored},
                         rated_at=stored[0].rated_at)


"""Listening studies over HTTP, the researcher's side: create a study, add pieces and criteria,
open and close it, invite raters, read and store its results and the seed studies' tables (the
rules live in `listening/`; what the route files share is api/routes/study_common.py).

- creating a study answers its researcher token: it builds, opens and closes the study, invites
  raters and reads results;
- an invitation answers a rater token (a link) bound to the study, the rater and an expiry;
- a member token (`role` member, scope "communities", issued by the operator with
  `listening.invites.issue`) shows ratings of restricted works of its communities in results,
  sent as `X-Heritage-Membership`; without it those pieces are left out of every figure.

`router` also carries the listening room's other route files — the raters' (ratings.py), the
attestation on chain (attestations.py) and ontology review (ontology.py) — so one include serves
the whole room.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Header, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import State
from api.routes import attestations, ontology, ratings
from api.routes.study_common import DAY, CriterionOut, ScaleIn, Secret, StoreDep, Token, criterion_out, membership, researcher
from core.cid import bytes_cid
from core.types import Cid, CommunityId, WorkId
from listening import tables
from listening.analysis import analyse, piece_rows, summary_for_attestation
from listening.model import Criterion, Piece, Scale, Study
from listening.store import Store
from listening.studies import Studies

router = APIRouter(tags=["studies"])


# ---------------------------------------------------------------------- bodies
class CriterionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern="^[A-Za-z0-9_.-]{1,40}$", description="Short key, e.g. 'authenticity'.")
    prompt: str = Field(default="", max_length=2000, description="The question as raters read it.")
    scale: ScaleIn
    approval_threshold: int | None = Field(default=None, description="Lowest rating counted as approval (Likert questions).")



class PieceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cid: str = Field(description="CIDv1 (base32) of the piece's content, uploaded with POST /content.")
    condition: str = Field(min_length=1, max_length=200, description="Condition or model label; hidden from raters when blind.")
    work_id: int | None = Field(default=None, description="The registered work, if any.")
    reference: bool = Field(default=False, description="Played for comparison, not rated.")
    restricted_community_id: int | None = Field(default=None, description="Community whose members alone see its ratings.")


class StudyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=300)
    instructions: str = Field(default="", max_length=10_000)
    blind: bool = Field(default=True, description="Hide works and condition/model labels from raters.")
    randomise: bool = Field(default=True, description="Each rater hears the pieces in their own fixed random order.")


class StudyOut(BaseModel):
    study_id: str
    title: str
    instructions: str
    blind: bool
    randomise: bool
    state: Literal["draft", "open", "closed"]
    created_at: datetime
    pieces: list[PieceIn]
    criteria: list[CriterionOut]
    raters: int
    ratings: int


class StudyCreated(StudyOut):
    researcher_token: str = Field(description="Keep it: it alone manages this study and reads its results.")


class InviteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account: str | None = Field(default=None, min_length=1, max_length=200,
                                description="An account to give the rater role; omit for an anonymous link.")
    valid_for_s: int = Field(default=14 * DAY, gt=0, le=365 * DAY)


class InvitationOut(BaseModel):
    study_id: str
    rater_id: str
    kind: Literal["link", "account"]
    token: str
    link: str = Field(description="Path of the rater's next piece with the token; prefix the service's address.")
    expires: datetime



class PieceRowOut(BaseModel):
    cid: str
    work_id: int | None
    condition: str
    criterion: str
    n: int
    mean: float | None
    sd: float | None
    approval: float | None


class ResultsOut(BaseModel):
    analysis: dict[str, Any] = Field(description="listening.analysis.StudyAnalysis as JSON.")
    cid: str = Field(description="CID the analysis's canonical JSON has (stored only by POST …/results).")
    pieces: list[PieceRowOut]
    withheld_pieces: int = Field(description="Pieces of restricted works left out: membership not shown.")


class SnapshotOut(BaseModel):
    cid: str = Field(description="CID of the stored analysis (public: restricted works are left out).")
    size: int
    attestation: dict[str, Any] = Field(description="listening.analysis.summary_for_attestation, to anchor with the CID.")


class TableOut(BaseModel):
    title: str
    columns: list[str]
    rows: list[list[str]]
    note: str
    markdown: str



def _study_out(store: Store, study: Study) -> StudyOut:
    return StudyOut(study_id=study.study_id, title=study.title, instructions=study.instructions, blind=study.blind,
                    randomise=study.randomise, state=study.state.value, created_at=study.created_at,
                    pieces=[PieceIn(cid=p.cid, condition=p.condition, work_id=p.work_id, reference=p.reference,
                                    restricted_community_id=p.restricted_community_id) for p in study.pieces],
                    criteria=[criterion_out(c) for c in study.criteria], raters=len(store.raters(study.study_id)),
                    ratings=len(store.ratings(study.study_id)))




# ---------------------------------------------------------------------- the researcher
@router.post("/studies", status_code=201, response_model=StudyCreated, summary="Create a listening study (a draft)")
def create_study(store: StoreDep, secret: Secret, body: StudyIn) -> StudyCreated:
    studies = Studies(store)
    study = studies.create(title=body.title, instructions=body.instructions, blind=body.blind, randomise=body.randomise)
    token = studies.researcher_token(study.study_id, secret=secret)
    return StudyCreated(**_study_out(store, study).model_dump(), researcher_token=token)


@router.get("/studies/{study_id}", response_model=StudyOut, summary="A study as its researcher sees it")
def get_study(store: StoreDep, secret: Secret, token: Token, study_id: str) -> StudyOut:
    return _study_out(store, researcher(store, study_id, token, secret).get(study_id))


@router.post("/studies/{study_id}/pieces", status_code=201, response_model=StudyOut, summary="Add a piece to a draft study")
def add_piece(store: StoreDep, secret: Secret, token: Token, study_id: str, body: PieceIn) -> StudyOut:
    piece = Piece(cid=Cid(body.cid), condition=body.condition, reference=body.reference,
                  work_id=None if body.work_id is None else WorkId(body.work_id),
                  restricted_community_id=None if body.restricted_community_id is None else CommunityId(body.restricted_community_id))
    return _study_out(store, researcher(store, study_id, token, secret).add_piece(study_id, piece))


@router.post("/studies/{study_id}/criteria", status_code=201, response_model=StudyOut, summary="Add a criterion to a draft study")
def add_criterion(store: StoreDep, secret: Secret, token: Token, study_id: str, body: CriterionIn) -> StudyOut:
    studies = researcher(store, study_id, token, secret)
    criterion = Criterion(name=body.name, prompt=body.prompt, approval_threshold=body.approval_threshold,
                          scale=Scale(body.scale.min, body.scale.max, tuple(body.scale.labels)))
    return _study_out(store, studies.add_criterion(study_id, criterion))


@router.post("/studies/{study_id}/open", response_model=StudyOut, summary="Open a draft study for ratings")
def open_study(store: StoreDep, secret: Secret, token: Token, study_id: str) -> StudyOut:
    return _study_out(store, researcher(store, study_id, token, secret).open(study_id))


@router.post("/studies/{study_id}/close", response_model=StudyOut, summary="Close an open study: no more ratings")
def close_study(store: StoreDep, secret: Secret, token: Token, study_id: str) -> StudyOut:
    return _study_out(store, researcher(store, study_id, token, secret).close(study_id))


@router.post("/studies/{study_id}/invitations", status_code=201, response_model=InvitationOut,
             summary="Invite a rater: a signed link, or an account given the rater role")
def invite(store: StoreDep, secret: Secret, token: Token, study_id: str, body: InviteIn) -> InvitationOut:
    inv = researcher(store, study_id, token, secret).invite(study_id, secret=secret, rater_id=body.account,
                                                             valid_for=timedelta(seconds=body.valid_for_s))
    return InvitationOut(study_id=study_id, rater_id=inv.rater.rater_id, kind=inv.rater.kind, token=inv.token,
                         link=f"/studies/{quote(study_id)}/next?token={quote(inv.token)}", expires=inv.expires)


@router.get("/studies/{study_id}/results", response_model=ResultsOut,
            summary="Results: per criterion and condition n, mean ± SD, approval, ICC(2,1)/ICC(2,k) with 95% CI")
def results(store: StoreDep, secret: Secret, token: Token, study_id: str,
            x_heritage_membership: Annotated[str | None, Header(description="A member token (restricted works).")] = None
            ) -> ResultsOut:
    studies = researcher(store, study_id, token, secret)
    member_of = membership(x_heritage_membership, secret)
    study, ratings = studies.get(study_id), studies.ratings(study_id)
    result = analyse(study, ratings, member_of=member_of)
    rows = piece_rows(study, ratings, member_of=member_of)
    return ResultsOut(analysis=result.to_dict(), cid=bytes_cid(result.to_json()), withheld_pieces=rows.withheld_pieces,
                      pieces=[PieceRowOut(cid=r.cid, work_id=r.work_id, condition=r.condition, criterion=r.criterion,
                                          n=r.summary.n, mean=r.summary.mean, sd=r.summary.sd, approval=r.summary.approval)
                              for r in rows.rows])


@router.post("/studies/{study_id}/results", status_code=201, response_model=SnapshotOut,
             summary="Store the public analysis by CID and answer the summary to attest on chain")
def store_results(state: State, store: StoreDep, secret: Secret, token: Token, study_id: str) -> SnapshotOut:
    studies = researcher(store, study_id, token, secret)
    result = analyse(studies.get(study_id), studies.ratings(study_id))  # no membership: the stored copy is public
    data = result.to_json()
    cid = state.store.put_bytes(data)
    return SnapshotOut(cid=cid, size=len(data), attestation=json.loads(summary_for_attestation(result)))


@router.get("/studies/{study_id}/tables/{layout}", response_model=TableOut,
            summary="A seed study's table rebuilt from this study (authenticity | criteria | satisfaction)")
def table(store: StoreDep, secret: Secret, token: Token, study_id: str, layout: Literal["authenticity", "criteria", "satisfaction"],
          criteria: Annotated[list[str] | None, Query(description="Criterion names, when the study's differ.")] = None,
          x_heritage_membership: Annotated[str | None, Header()] = None) -> TableOut:
    studies = researcher(store, study_id, token, secret)
    result = analyse(studies.get(study_id), studies.ratings(study_id), member_of=membership(x_heritage_membership, secret))
    if layout == "authenticity":
        t = tables.authenticity_table(result, **({"criterion": criteria[0]} if criteria else {}))
    elif layout == "criteria":
        t = tables.criteria_table(result, **({"criteria": tuple(criteria)} if criteria else {}))
    else:
        t = tables.satisfaction_table(result, **({"questions": tuple(criteria)} if criteria else {}))
    return TableOut(title=t.title, columns=list(t.columns), rows=[list(r) for r in t.rows], note=t.note, markdown=t.to_markdown())



# The listening room's other resources, in their own route files.
router.include_router(ratings.router)
router.include_router(attestations.router)
router.include_router(ontology.router)

"""Ontology review over HTTP: a curator token seeds labels, opens and closes rounds and issues
reviewer tokens; a reviewer or curator token reviews (the rules live in `listening/ontology.py`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from api.problems import Problem
from api.routes.study_common import DAY, Secret, StoreDep, Token, claims
from listening.invites import ONTOLOGY_SCOPE, Claims, issue, require
from listening.model import utc_now
from listening.ontology import Change, Ontology, Round, RoundMetrics, WorkLabels, round_metrics

router = APIRouter(tags=["ontology"])


# ---------------------------------------------------------------------- ontology review
class ReviewerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reviewer: str = Field(min_length=1, max_length=200)
    valid_for_s: int = Field(default=30 * DAY, gt=0, le=365 * DAY)


class TokenOut(BaseModel):
    role: str
    subject: str
    token: str
    expires: datetime | None


class LabelsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    work_id: int = Field(ge=1)
    tags: list[str] = Field(description="Tradition tags, as the catalogue or a classifier gave them.")
    cluster: str | None = Field(default=None, description="The work's cluster on the embedding map.")


class LabelsOut(BaseModel):
    work_id: int
    tags: list[str]
    cluster: str | None


class RoundOut(BaseModel):
    round: int
    opened_at: datetime
    closed_at: datetime | None


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    work_id: int
    target: Literal["tag", "cluster"]
    action: Literal["accept", "reject", "correct"]
    old: str | None = Field(default=None, description="The tag or cluster reviewed, as it is now (None: add a tag).")
    new: str | None = Field(default=None, description="The correction.")


class ChangeOut(BaseModel):
    seq: int
    round: int
    reviewer: str
    work_id: int
    target: str
    action: str
    old: str | None
    new: str | None
    at: datetime


class MetricsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    work_ids: list[int] = Field(min_length=2)
    embeddings: list[list[float]] = Field(description="One row per work id, every row the same length.")
    metric: Literal["cosine", "euclidean"] = "cosine"


def _curator(token: str, secret: bytes) -> Claims:
    return require(claims(token, secret), "curator", scope=ONTOLOGY_SCOPE)


def _labels_out(w: WorkLabels) -> LabelsOut:
    return LabelsOut(work_id=w.work_id, tags=sorted(w.tags), cluster=w.cluster)


def _round_out(r: Round) -> RoundOut:
    return RoundOut(round=r.number, opened_at=r.opened_at, closed_at=r.closed_at)


def _change_out(c: Change) -> ChangeOut:
    return ChangeOut(seq=c.seq, round=c.round, reviewer=c.reviewer, work_id=c.work_id, target=c.target, action=c.action,
                     old=c.old, new=c.new, at=c.at)


@router.post("/ontology/reviewers", status_code=201, response_model=TokenOut, tags=["ontology"],
             summary="Issue an expert's reviewer token (curator)")
def add_reviewer(secret: Secret, token: Token, body: ReviewerIn) -> TokenOut:
    _curator(token, secret)
    expires = (utc_now() + timedelta(seconds=body.valid_for_s)).replace(microsecond=0)
    claims = Claims(role="reviewer", subject=body.reviewer, scope=ONTOLOGY_SCOPE, expires=expires)
    return TokenOut(role="reviewer", subject=body.reviewer, token=issue(claims, secret=secret), expires=expires)


@router.post("/ontology/labels", status_code=201, response_model=LabelsOut, tags=["ontology"],
             summary="A work's baseline tags and cluster, before review (curator)")
def seed_labels(store: StoreDep, secret: Secret, token: Token, body: LabelsIn) -> LabelsOut:
    _curator(token, secret)
    return _labels_out(Ontology(store).seed(body.work_id, tags=body.tags, cluster=body.cluster))


@router.get("/ontology/labels", response_model=list[LabelsOut], tags=["ontology"], summary="Every work's labels after a round")
def labels(store: StoreDep, round: Annotated[int | None, Query(ge=0, description="0: the baseline; default: now.")] = None
           ) -> list[LabelsOut]:
    onto = Ontology(store)
    if round is None:
        rounds = onto.rounds()
        round = rounds[-1].number if rounds else 0
    return [_labels_out(w) for w in onto.labels_after(round).values()]


@router.post("/ontology/rounds", status_code=201, response_model=RoundOut, tags=["ontology"],
             summary="Open the next review round (curator)")
def open_round(store: StoreDep, secret: Secret, token: Token) -> RoundOut:
    _curator(token, secret)
    return _round_out(Ontology(store).open_round())


@router.post("/ontology/rounds/close", response_model=RoundOut, tags=["ontology"], summary="Close the open round (curator)")
def close_round(store: StoreDep, secret: Secret, token: Token) -> RoundOut:
    _curator(token, secret)
    return _round_out(Ontology(store).close_round())


@router.get("/ontology/rounds", response_model=list[RoundOut], tags=["ontology"], summary="Review rounds so far")
def rounds(store: StoreDep) -> list[RoundOut]:
    return [_round_out(r) for r in Ontology(store).rounds()]


@router.post("/ontology/reviews", status_code=201, response_model=ChangeOut, tags=["ontology"],
             summary="Accept, reject or correct a work's tag or cluster in the open round (reviewer)")
def review(store: StoreDep, secret: Secret, token: Token, body: ReviewIn) -> ChangeOut:
    who = require(claims(token, secret), "reviewer", "curator", scope=ONTOLOGY_SCOPE).subject
    change = Ontology(store).review(reviewer=who, work_id=body.work_id, target=body.target, action=body.action,
                                    old=body.old, new=body.new)
    return _change_out(change)


@router.get("/ontology/changes", response_model=list[ChangeOut], tags=["ontology"], summary="Who changed what, oldest first")
def changes(store: StoreDep, round: Annotated[int | None, Query(ge=1)] = None,
            work_id: Annotated[int | None, Query(ge=1)] = None) -> list[ChangeOut]:
    return [_change_out(c) for c in Ontology(store).changes(round=round, work_id=work_id)]


@router.post("/ontology/metrics", response_model=list[RoundMetrics], tags=["ontology"],
             summary="Silhouette and AMI of given embeddings under each round's labels")
def metrics(store: StoreDep, body: MetricsIn) -> list[RoundMetrics]:
    widths = {len(row) for row in body.embeddings}
    if len(widths) != 1 or 0 in widths:
        raise Problem(400, "invalid-input", "every embedding row must have the same, non-zero length")
    out: tuple[RoundMetrics, ...] = round_metrics(Ontology(store).labels_by_round(), body.work_ids,
                                                  np.asarray(body.embeddings, dtype=np.float64), metric=body.metric)
    return list(out)  # listening.ontology.RoundMetrics, a frozen dataclass: FastAPI answers its fields

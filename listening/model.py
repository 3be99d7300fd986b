"""The listening room's words: studies, their pieces and criteria, raters and ratings.

A study goes draft → open → closed. In a draft the researcher adds pieces and criteria; while
open, invited raters rate; once closed, nothing changes. Identifiers are distinct types:
`StudyId`, `RaterId`; a piece is identified within its study by its content CID.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal, NewType, TypeGuard

from core.errors import InputError
from core.types import Cid, CommunityId, WorkId
from listening.errors import UnknownCriterion, UnknownPiece

StudyId = NewType("StudyId", str)
RaterId = NewType("RaterId", str)
RaterKind = Literal["link", "account"]
"""How a rater was invited: by a signed link, or as an account given the rater role."""


def utc_now() -> datetime:
    """The current time, timezone-aware UTC (what every stored time is)."""
    return datetime.now(UTC)


class StudyState(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class Scale:
    """Whole-number ratings from `minimum` to `maximum`, inclusive; `labels`, when given, name
    every point in order (e.g. 1 = "not at all authentic" … 5 = "fully authentic")."""

    minimum: int
    maximum: int
    labels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.maximum <= self.minimum:
            raise InputError(f"a scale runs from a minimum up to a larger maximum; got {self.minimum}..{self.maximum}")
        if self.labels and len(self.labels) != self.points:
            raise InputError(f"a {self.minimum}..{self.maximum} scale has {self.points} points, so give {self.points} "
                             f"labels or none; got {len(self.labels)}")

    @property
    def points(self) -> int:
        return self.maximum - self.minimum + 1

    def contains(self, value: object) -> TypeGuard[int]:
        """True for a whole number (not a bool) within the scale."""
        return isinstance(value, int) and not isinstance(value, bool) and self.minimum <= value <= self.maximum


@dataclass(frozen=True)
class Criterion:
    """A question asked of every rated piece. `approval_threshold`, for Likert questions, is the
    lowest rating that counts as approval (e.g. 3 on a 4-point satisfaction scale)."""

    name: str
    prompt: str
    scale: Scale
    approval_threshold: int | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InputError("a criterion needs a name (e.g. 'authenticity')")
        if self.approval_threshold is not None and not self.scale.contains(self.approval_threshold):
            raise InputError(f"approval threshold {self.approval_threshold} of {self.name!r} is outside its scale "
                             f"{self.scale.minimum}..{self.scale.maximum}")


@dataclass(frozen=True)
class Piece:
    """A piece in a study: its content CID, the work it is registered as (if any), and the
    condition or model label that blind studies hide from raters. Reference pieces are played
    for comparison and not rated. A piece of a restricted work carries its community's id: its
    own ratings are shown only to members of that community."""

    cid: Cid
    condition: str
    work_id: WorkId | None = None
    reference: bool = False
    restricted_community_id: CommunityId | None = None


@dataclass(frozen=True)
class Study:
    study_id: StudyId
    title: str
    instructions: str
    blind: bool
    randomise: bool
    state: StudyState
    created_at: datetime
    pieces: tuple[Piece, ...] = ()
    criteria: tuple[Criterion, ...] = ()

    @property
    def rated_pieces(self) -> tuple[Piece, ...]:
        """The pieces raters rate, in the order they were added (reference pieces left out)."""
        return tuple(p for p in self.pieces if not p.reference)

    @property
    def references(self) -> tuple[Piece, ...]:
        return tuple(p for p in self.pieces if p.reference)

    def piece(self, cid: str) -> Piece:
        """The rateable piece with this CID; `UnknownPiece` otherwise."""
        for p in self.pieces:
            if p.cid == cid:
                if p.reference:
                    raise UnknownPiece(f"piece {cid} is a reference of study {self.study_id}: it is listened to for "
                                       "comparison, not rated; rate the piece the study hands you next")
                return p
        raise UnknownPiece(f"study {self.study_id} has no piece {cid}; rate the piece the study hands you next")

    def criterion(self, name: str) -> Criterion:
        for c in self.criteria:
            if c.name == name:
                return c
        names = ", ".join(c.name for c in self.criteria) or "none yet"
        raise UnknownCriterion(f"study {self.study_id} has no criterion {name!r}; its criteria: {names}")


@dataclass(frozen=True)
class Rater:
    study_id: StudyId
    rater_id: RaterId
    kind: RaterKind
    invited_at: datetime


@dataclass(frozen=True)
class Rating:
    """One answer: a rater's value for one piece on one criterion, with the UTC time it was stored."""

    study_id: StudyId
    rater_id: RaterId
    piece_cid: Cid
    criterion: str
    value: int
    rated_at: datetime

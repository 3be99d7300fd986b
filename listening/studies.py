"""Listening studies: a researcher builds a study, invites raters, opens it, raters rate, it closes.

Every refusal is a named error raised before anything is written, so a refused request leaves
the store as it was: an unknown study (`UnknownStudy`), a study not open (`StudyNotOpen`), a
rater outside the study or a bad or expired invitation (`NotARater`, `InvalidToken`,
`TokenExpired`), an unknown piece or criterion, a rating off the scale (`OffScale`), a second
rating of the same piece and criterion (`AlreadyRated`).

Raters see pieces in their own order: randomised per rater, deterministically from the study id
and the rater id (so a reload shows the same order), or in the study's order when it is not
randomised. In a blind study the next piece carries only its CID, never its work or its
condition/model label. Nothing here hands a rater anyone's ratings but their own.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.cid import from_text
from core.errors import InputError
from core.types import Cid, WorkId
from listening.errors import NotARater, OffScale, StudyNotOpen, StudyStateError
from listening.invites import Claims, issue, require, verify
from listening.model import Criterion, Piece, Rater, RaterId, RaterKind, Rating, Study, StudyId, StudyState, utc_now
from listening.store import Store


@dataclass(frozen=True)
class PieceView:
    """A piece as a rater sees it: in a blind study, `work_id` and `condition` are None."""

    cid: Cid
    work_id: WorkId | None
    condition: str | None


@dataclass(frozen=True)
class NextPiece:
    """The rater's next piece (position counts from 1 in the rater's own order of `total`), the
    criteria still to rate on it, and the reference pieces to compare with."""

    study_id: StudyId
    position: int
    total: int
    piece: PieceView
    criteria: tuple[Criterion, ...]
    references: tuple[PieceView, ...]


@dataclass(frozen=True)
class Progress:
    """How far a rater is: pieces fully rated of the total, and the next piece (None when done)."""

    done: int
    total: int
    next: NextPiece | None


@dataclass(frozen=True)
class Invitation:
    rater: Rater
    token: str
    expires: datetime


def rater_order(study_id: str, rater_id: str, pieces: Sequence[Piece]) -> tuple[Piece, ...]:
    """`pieces` sorted by SHA-256 of (study id, rater id, CID): a permutation that is the same on
    every call for one rater, independent across raters, and free of Python's `random` (whose
    streams are not promised to stay the same across versions)."""
    def key(p: Piece) -> bytes:
        return hashlib.sha256(f"{study_id}\x1f{rater_id}\x1f{p.cid}".encode()).digest()

    return tuple(sorted(pieces, key=key))


def _view(study: Study, piece: Piece) -> PieceView:
    if study.blind:
        return PieceView(cid=piece.cid, work_id=None, condition=None)
    return PieceView(cid=piece.cid, work_id=piece.work_id, condition=piece.condition)


class Studies:
    """The studies in one store. `clock` gives the current UTC time (tests pass a fixed one)."""

    def __init__(self, store: Store, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.store = store
        self.clock = clock

    # ------------------------------------------------------------------ the researcher
    def create(self, *, title: str, instructions: str, blind: bool = True, randomise: bool = True,
               study_id: str | None = None) -> Study:
        """A new draft study (its id random unless given)."""
        if not title.strip():
            raise InputError("a study needs a title")
        study = Study(study_id=StudyId(study_id or "s-" + secrets.token_hex(8)), title=title, instructions=instructions,
                      blind=blind, randomise=randomise, state=StudyState.DRAFT, created_at=self.clock())
        self.store.insert_study(study)
        return study

    def get(self, study_id: str) -> Study:
        return self.store.study(study_id)

    def _draft(self, study_id: str, what: str) -> Study:
        study = self.store.study(study_id)
        if study.state is not StudyState.DRAFT:
            raise StudyStateError(f"study {study_id} is {study.state.value}: {what} only while it is a draft, so that "
                                  "every rater answers the same study; create a new study instead")
        return study

    def add_piece(self, study_id: str, piece: Piece) -> Study:
        self._draft(study_id, "pieces are added")
        try:
            from_text(piece.cid)
        except (InputError, ValueError) as err:
            raise InputError(f"{piece.cid!r} is not a CIDv1 in base32 ({err}); upload the piece first and use its CID") from err
        if not piece.condition.strip():
            raise InputError(f"piece {piece.cid} needs a condition or model label (e.g. 'baseline', 'model A', 'original')")
        self.store.insert_piece(study_id, piece)
        return self.store.study(study_id)

    def add_criterion(self, study_id: str, criterion: Criterion) -> Study:
        self._draft(study_id, "criteria are added")
        self.store.insert_criterion(study_id, criterion)
        return self.store.study(study_id)

    def open(self, study_id: str) -> Study:
        study = self._draft(study_id, "it can be opened")
        if not study.rated_pieces or not study.criteria:
            raise StudyStateError(f"study {study_id} has {len(study.rated_pieces)} piece(s) to rate and {len(study.criteria)} "
                                  "criteria: add at least one of each before opening it")
        self.store.set_state(study_id, StudyState.OPEN)
        return self.store.study(study_id)

    def close(self, study_id: str) -> Study:
        study = self.store.study(study_id)
        if study.state is not StudyState.OPEN:
            raise StudyStateError(f"study {study_id} is {study.state.value}; only an open study can be closed")
        self.store.set_state(study_id, StudyState.CLOSED)
        return self.store.study(study_id)

    def enrol(self, study_id: str, rater_id: str, *, kind: RaterKind) -> Rater:
        """Make `rater_id` a rater of the study (an account given the rater role, or a link's rater)."""
        study = self.store.study(study_id)
        if study.state is StudyState.CLOSED:
            raise StudyStateError(f"study {study_id} is closed: it takes no new raters")
        if not rater_id.strip():
            raise InputError("a rater needs an id (an account, or leave it out to have one made for a link)")
        rater = Rater(study_id=study.study_id, rater_id=RaterId(rater_id), kind=kind, invited_at=self.clock())
        self.store.insert_rater(rater)
        return rater

    def invite(self, study_id: str, *, secret: bytes, valid_for: timedelta, rater_id: str | None = None) -> Invitation:
        """Enrol a rater and sign their invitation: a new anonymous rater for a link, or the
        account `rater_id` (kind "account"). The token expires after `valid_for`."""
        if valid_for <= timedelta(0):
            raise InputError(f"an invitation must be valid for some time; got {valid_for}")
        kind: RaterKind = "link" if rater_id is None else "account"
        rater = self.enrol(study_id, rater_id or "r-" + secrets.token_hex(6), kind=kind)
        expires = (rater.invited_at + valid_for).replace(microsecond=0)
        token = issue(Claims(role="rater", subject=rater.rater_id, scope=study_id, expires=expires), secret=secret)
        return Invitation(rater=rater, token=token, expires=expires)

    def researcher_token(self, study_id: str, *, secret: bytes) -> str:
        """The study owner's credential (no expiry): it adds pieces, invites, opens, closes, reads results."""
        study = self.store.study(study_id)
        return issue(Claims(role="researcher", subject=study.study_id, scope=study.study_id), secret=secret)

    def ratings(self, study_id: str) -> list[Rating]:
        """Every rating of the study, for its researcher: callers must have checked who asks."""
        self.store.study(study_id)
        return self.store.ratings(study_id)

    # ------------------------------------------------------------------ the rater
    def rater_of(self, study_id: str, token: str, *, secret: bytes) -> RaterId:
        """The rater a token speaks for in this study; refused unless the study exists, the token
        is valid and unexpired, it is a rater token for this study, and the rater is enrolled."""
        study = self.store.study(study_id)
        claims = verify(token, secret=secret, now=self.clock())
        if claims.role == "rater" and claims.scope != study.study_id:
            raise NotARater(f"this invitation is for study {claims.scope}, not {study_id}: open the link you were given")
        require(claims, "rater", scope=study.study_id)
        return self.member(study_id, claims.subject)

    def member(self, study_id: str, rater_id: str) -> RaterId:
        """`rater_id` when it is enrolled in the study; `NotARater` otherwise (for accounts the
        caller has authenticated itself)."""
        if self.store.rater(study_id, rater_id) is None:
            raise NotARater(f"{rater_id} is not a rater of study {study_id}: ask its researcher for an invitation")
        return RaterId(rater_id)

    def _open(self, study_id: str, rater_id: str) -> Study:
        study = self.store.study(study_id)
        if study.state is not StudyState.OPEN:
            hint = "it opens once the researcher has set it up" if study.state is StudyState.DRAFT else \
                "it takes no more ratings; thank you for taking part"
            raise StudyNotOpen(f"study {study_id} is {study.state.value}: {hint}")
        self.member(study_id, rater_id)
        return study

    def order(self, study: Study, rater_id: str) -> tuple[Piece, ...]:
        """The rated pieces in the order `rater_id` hears them."""
        return rater_order(study.study_id, rater_id, study.rated_pieces) if study.randomise else study.rated_pieces

    def progress(self, study_id: str, rater_id: str) -> Progress:
        """The rater's next piece and how far they are; refused unless the study is open and the
        rater enrolled."""
        study = self._open(study_id, rater_id)
        rated: dict[str, set[str]] = {}
        for r in self.store.ratings(study_id, rater_id):
            rated.setdefault(r.piece_cid, set()).add(r.criterion)
        order = self.order(study, rater_id)
        done = sum(1 for p in order if all(c.name in rated.get(p.cid, ()) for c in study.criteria))
        for i, piece in enumerate(order, 1):
            left = tuple(c for c in study.criteria if c.name not in rated.get(piece.cid, ()))
            if left:
                nxt = NextPiece(study_id=study.study_id, position=i, total=len(order), piece=_view(study, piece), criteria=left,
                                references=tuple(_view(study, p) for p in study.references))
                return Progress(done=done, total=len(order), next=nxt)
        return Progress(done=done, total=len(order), next=None)

    def submit(self, study_id: str, rater_id: str, piece_cid: str, values: Mapping[str, object]) -> tuple[Rating, ...]:
        """Store the rater's ratings of one piece, {criterion: value}: all of them, or (on any
        refusal) none."""
        study = self._open(study_id, rater_id)
        piece = study.piece(piece_cid)
        if not values:
            raise InputError(f"no ratings given for {piece_cid}; rate it on: {', '.join(c.name for c in study.criteria)}")
        at = self.clock()
        out = []
        for name, value in values.items():
            criterion = study.criterion(name)
            if not criterion.scale.contains(value):
                s = criterion.scale
                raise OffScale(f"{value!r} is off the {name!r} scale: give a whole number from {s.minimum} to {s.maximum}; "
                               "nothing of this submission was stored")
            out.append(Rating(study_id=study.study_id, rater_id=RaterId(rater_id), piece_cid=piece.cid, criterion=name,
                              value=value, rated_at=at))
        self.store.insert_ratings(out)
        return tuple(out)

"""Listening studies: building one, inviting raters, blind per-rater order, rating, and every
refusal side by side with its good twin, the store left exactly as it was after a refusal."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.cid import bytes_cid
from core.errors import InputError
from core.types import Cid, CommunityId, WorkId
from listening.errors import (
    AlreadyInStudy,
    AlreadyRated,
    InvalidToken,
    NotARater,
    NotPermitted,
    OffScale,
    StudyNotOpen,
    StudyStateError,
    TokenExpired,
    UnknownCriterion,
    UnknownPiece,
    UnknownStudy,
)
from listening.invites import Claims, issue, load_or_create_secret, verify
from listening.model import Criterion, Piece, Scale, StudyState
from listening.store import Store, connect
from listening.studies import Studies, rater_order

SECRET = b"test-secret-of-32-bytes-exactly!"
STUDY = "s-test"


class Clock:
    """A clock the tests move by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def piece(i: int, condition: str = "model A", *, reference: bool = False, community: int | None = None) -> Piece:
    return Piece(cid=bytes_cid(f"piece {i}".encode()), condition=condition, work_id=WorkId(100 + i), reference=reference,
                 restricted_community_id=None if community is None else CommunityId(community))


def cid(i: int) -> Cid:
    return piece(i).cid


AUTHENTICITY = Criterion("authenticity", "How authentic is this to the tradition?", Scale(1, 5), 4)
SATISFACTION = Criterion("satisfaction", "How satisfied are you with the performance?", Scale(1, 4), 3)


@dataclass
class World:
    store: Store
    studies: Studies
    clock: Clock
    tokens: dict[str, str]  # rater id → invitation token


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    with connect(tmp_path / "listening" / "studies.sqlite") as s:
        yield s


@pytest.fixture()
def world(store: Store) -> World:
    """An open blind study: pieces 0, 1 (model A) and 2 (model B, restricted to community 7) to
    rate, piece 9 a reference; raters "ana" and "ben" invited for 7 days; ana has rated piece 0
    on authenticity (4). Also a draft study "s-draft" and a closed one "s-closed" where ana rates."""
    clock = Clock()
    studies = Studies(store, clock=clock)
    studies.create(title="Authenticity of generated songs", instructions="Listen, then rate.", study_id=STUDY)
    for p in (piece(0), piece(1), piece(2, "model B", community=7), piece(9, "original", reference=True)):
        studies.add_piece(STUDY, p)
    studies.add_criterion(STUDY, AUTHENTICITY)
    studies.add_criterion(STUDY, SATISFACTION)
    tokens = {r: studies.invite(STUDY, secret=SECRET, valid_for=timedelta(days=7), rater_id=r).token for r in ("ana", "ben")}
    studies.open(STUDY)
    studies.submit(STUDY, "ana", cid(0), {"authenticity": 4})
    for other in ("s-draft", "s-closed"):
        studies.create(title=other, instructions="", study_id=other)
        studies.add_piece(other, piece(0))
        studies.add_criterion(other, AUTHENTICITY)
        studies.enrol(other, "ana", kind="account")
    studies.open("s-closed")
    studies.close("s-closed")
    return World(store, studies, clock, tokens)


# ---------------------------------------------------------------------- building a study
def test_a_study_goes_draft_open_closed(store: Store) -> None:
    studies = Studies(store)
    s = studies.create(title="Daur songs", instructions="Rate each piece on five criteria.", blind=False)
    assert s.state is StudyState.DRAFT and s.study_id.startswith("s-") and s.created_at.tzinfo is not None
    studies.add_piece(s.study_id, piece(1))
    studies.add_piece(s.study_id, piece(2, "original", reference=True))
    studies.add_criterion(s.study_id, AUTHENTICITY)
    got = studies.open(s.study_id)
    assert got.state is StudyState.OPEN and got.rated_pieces == (piece(1),)
    assert got.references == (piece(2, "original", reference=True),)
    assert got.criteria == (AUTHENTICITY,)
    assert studies.close(s.study_id).state is StudyState.CLOSED
    assert studies.get(s.study_id).state is StudyState.CLOSED


@pytest.mark.parametrize(("action", "expect"), [
    (lambda s: s.add_piece("s-draft", piece(5)), nullcontext()),
    (lambda s: s.add_piece(STUDY, piece(5)), pytest.raises(StudyStateError, match="only while it is a draft")),
    (lambda s: s.add_piece("s-draft", piece(0)), pytest.raises(AlreadyInStudy, match="in study s-draft already")),
    (lambda s: s.add_piece("s-draft", Piece(cid=Cid("not-a-cid"), condition="x")), pytest.raises(InputError, match="not a CIDv1")),
    (lambda s: s.add_piece("s-draft", Piece(cid=cid(5), condition=" ")), pytest.raises(InputError, match="condition")),
    (lambda s: s.add_piece("s-nope", piece(5)), pytest.raises(UnknownStudy, match="no study 's-nope'")),
    (lambda s: s.add_criterion("s-draft", SATISFACTION), nullcontext()),
    (lambda s: s.add_criterion("s-draft", AUTHENTICITY), pytest.raises(AlreadyInStudy, match="criterion 'authenticity'")),
    (lambda s: s.add_criterion("s-closed", SATISFACTION), pytest.raises(StudyStateError, match="s-closed is closed")),
    (lambda s: s.open("s-draft"), nullcontext()),
    (lambda s: s.open(STUDY), pytest.raises(StudyStateError, match="is open")),
    (lambda s: s.close(STUDY), nullcontext()),
    (lambda s: s.close("s-draft"), pytest.raises(StudyStateError, match="only an open study can be closed")),
    (lambda s: s.enrol("s-draft", "cai", kind="account"), nullcontext()),
    (lambda s: s.enrol(STUDY, "ana", kind="account"), pytest.raises(AlreadyInStudy, match="ana is a rater")),
    (lambda s: s.enrol("s-closed", "cai", kind="account"), pytest.raises(StudyStateError, match="takes no new raters")),
    (lambda s: s.invite("s-draft", secret=SECRET, valid_for=timedelta(0)), pytest.raises(InputError, match="valid for")),
])
def test_building_a_study(world: World, action: Callable[[Studies], object], expect: AbstractContextManager[object]) -> None:
    before = world.store.dump()
    with expect:
        action(world.studies)
    if not isinstance(expect, nullcontext):
        assert world.store.dump() == before


def test_an_empty_study_cannot_open(store: Store) -> None:
    studies = Studies(store)
    s = studies.create(title="Nothing yet", instructions="")
    studies.add_piece(s.study_id, piece(1, reference=True))
    with pytest.raises(StudyStateError, match="0 piece"):
        studies.open(s.study_id)


@pytest.mark.parametrize(("scale", "expect"), [
    (lambda: Scale(1, 4, ("no", "rather not", "rather", "yes")), nullcontext()),
    (lambda: Scale(3, 3), pytest.raises(InputError, match="larger maximum")),
    (lambda: Scale(1, 5, ("a", "b")), pytest.raises(InputError, match="give 5 labels")),
    (lambda: Criterion("q", "?", Scale(1, 4), approval_threshold=5), pytest.raises(InputError, match="outside its scale")),
    (lambda: Criterion(" ", "?", Scale(1, 4)), pytest.raises(InputError, match="needs a name")),
])
def test_scales(scale: Callable[[], object], expect: AbstractContextManager[object]) -> None:
    with expect:
        scale()


# ---------------------------------------------------------------------- rating, and every refusal
RATINGS: list[tuple[str, str, str, Callable[[], Cid], dict[str, object], AbstractContextManager[object]]] = [
    # (what, study, rater, piece, values, expect)
    ("good", STUDY, "ana", lambda: cid(1), {"authenticity": 5, "satisfaction": 1}, nullcontext()),
    ("good, the rest of a piece", STUDY, "ana", lambda: cid(0), {"satisfaction": 4}, nullcontext()),
    ("good, another rater", STUDY, "ben", lambda: cid(0), {"authenticity": 4}, nullcontext()),
    ("unknown study", "s-nope", "ana", lambda: cid(1), {"authenticity": 3}, pytest.raises(UnknownStudy, match="no study")),
    ("draft study", "s-draft", "ana", lambda: cid(0), {"authenticity": 3}, pytest.raises(StudyNotOpen, match="s-draft is draft")),
    ("closed study", "s-closed", "ana", lambda: cid(0), {"authenticity": 3}, pytest.raises(StudyNotOpen, match="closed")),
    ("rater not in the study", STUDY, "eve", lambda: cid(1), {"authenticity": 3}, pytest.raises(NotARater, match="eve is not")),
    ("unknown piece", STUDY, "ana", lambda: cid(7), {"authenticity": 3}, pytest.raises(UnknownPiece, match="has no piece")),
    ("reference piece", STUDY, "ana", lambda: cid(9), {"authenticity": 3}, pytest.raises(UnknownPiece, match="is a reference")),
    ("unknown criterion", STUDY, "ana", lambda: cid(1), {"authenticity": 3, "valence": 2},
     pytest.raises(UnknownCriterion, match="no criterion 'valence'")),
    ("above the scale", STUDY, "ana", lambda: cid(1), {"authenticity": 6}, pytest.raises(OffScale, match="from 1 to 5")),
    ("below the scale", STUDY, "ana", lambda: cid(1), {"satisfaction": 0}, pytest.raises(OffScale, match="from 1 to 4")),
    ("a fraction", STUDY, "ana", lambda: cid(1), {"authenticity": 3.5}, pytest.raises(OffScale, match="whole number")),
    ("a whole float", STUDY, "ana", lambda: cid(1), {"authenticity": 3.0}, pytest.raises(OffScale)),
    ("a bool", STUDY, "ana", lambda: cid(1), {"authenticity": True}, pytest.raises(OffScale)),
    ("a string", STUDY, "ana", lambda: cid(1), {"authenticity": "3"}, pytest.raises(OffScale)),
    ("second rating", STUDY, "ana", lambda: cid(0), {"authenticity": 2}, pytest.raises(AlreadyRated, match="already")),
    ("second rating beside a first one", STUDY, "ana", lambda: cid(0), {"satisfaction": 3, "authenticity": 2},
     pytest.raises(AlreadyRated, match="nothing of this submission was stored")),
    ("nothing to store", STUDY, "ana", lambda: cid(1), {}, pytest.raises(InputError, match="no ratings given")),
]


@pytest.mark.parametrize(("what", "study", "rater", "piece_cid", "values", "expect"), RATINGS, ids=[r[0] for r in RATINGS])
def test_rating(world: World, what: str, study: str, rater: str, piece_cid: Callable[[], Cid], values: dict[str, object],
                expect: AbstractContextManager[object]) -> None:
    before = world.store.dump()
    with expect:
        stored = world.studies.submit(study, rater, piece_cid(), values)
        assert {r.criterion: r.value for r in stored} == values
        assert all(r.rater_id == rater and r.piece_cid == piece_cid() and r.rated_at == world.clock.now for r in stored)
        assert len(world.store.ratings(study)) == len(before["ratings"]) + len(values)
    if not isinstance(expect, nullcontext):
        assert world.store.dump() == before, f"{what}: a refused rating changed the store"


def test_ratings_are_stored_with_rater_utc_time_and_piece_cid(world: World) -> None:
    (r,) = world.store.ratings(STUDY)
    assert (r.study_id, r.rater_id, r.piece_cid, r.criterion, r.value) == (STUDY, "ana", cid(0), "authenticity", 4)
    assert r.rated_at == world.clock.now and r.rated_at.utcoffset() == timedelta(0)


# ---------------------------------------------------------------------- invitations
def _other_secret_token() -> str:
    return issue(Claims(role="rater", subject="ana", scope=STUDY), secret=b"another-secret-of-32-bytes-long!")


TOKENS: list[tuple[str, str, Callable[[World], str], AbstractContextManager[object]]] = [
    ("good", STUDY, lambda w: w.tokens["ana"], nullcontext()),
    ("garbage", STUDY, lambda w: "not a token", pytest.raises(InvalidToken)),
    ("another key", STUDY, lambda w: _other_secret_token(), pytest.raises(InvalidToken, match="not one this service signed")),
    ("altered claims", STUDY, lambda w: issue(Claims("rater", "ben", STUDY), secret=SECRET).split(".")[0] + "."
     + w.tokens["ana"].split(".")[1], pytest.raises(InvalidToken)),
    ("for another study", "s-closed", lambda w: w.tokens["ana"], pytest.raises(NotARater, match="is for study s-test")),
    ("researcher's token", STUDY, lambda w: w.studies.researcher_token(STUDY, secret=SECRET), pytest.raises(NotPermitted)),
    ("rater not enrolled", STUDY, lambda w: issue(Claims("rater", "eve", STUDY), secret=SECRET), pytest.raises(NotARater)),
    ("unknown study", "s-nope", lambda w: w.tokens["ana"], pytest.raises(UnknownStudy)),
]


@pytest.mark.parametrize(("what", "study", "token", "expect"), TOKENS, ids=[t[0] for t in TOKENS])
def test_invitation_tokens(world: World, what: str, study: str, token: Callable[[World], str],
                           expect: AbstractContextManager[object]) -> None:
    with expect:
        assert world.studies.rater_of(study, token(world), secret=SECRET) == "ana"


@pytest.mark.parametrize(("days", "expect"), [(6.9, nullcontext()), (7, pytest.raises(TokenExpired, match="expired")),
                                              (30, pytest.raises(TokenExpired))])
def test_an_invitation_expires(world: World, days: float, expect: AbstractContextManager[object]) -> None:
    world.clock.now += timedelta(days=days)
    with expect:
        world.studies.rater_of(STUDY, world.tokens["ben"], secret=SECRET)


def test_link_invitations_make_anonymous_raters_and_account_invitations_keep_the_account(world: World) -> None:
    link = world.studies.invite(STUDY, secret=SECRET, valid_for=timedelta(hours=1))
    account = world.studies.invite(STUDY, secret=SECRET, valid_for=timedelta(hours=1), rater_id="0xAbC")
    assert link.rater.kind == "link" and link.rater.rater_id.startswith("r-")
    assert account.rater.kind == "account" and account.rater.rater_id == "0xAbC"
    assert world.studies.rater_of(STUDY, link.token, secret=SECRET) == link.rater.rater_id
    assert link.expires == (world.clock.now + timedelta(hours=1)).replace(microsecond=0)
    assert world.studies.member(STUDY, "0xAbC") == "0xAbC"


def test_tokens_round_trip_and_refuse_a_short_secret(tmp_path: Path) -> None:
    claims = Claims(role="member", subject="steward", scope="communities", communities=(3, 7),
                    expires=datetime(2030, 1, 1, tzinfo=UTC))
    assert verify(issue(claims, secret=SECRET), secret=SECRET, now=datetime(2029, 1, 1, tzinfo=UTC)) == claims
    with pytest.raises(InputError, match="at least 16"):
        issue(claims, secret=b"short")
    key = tmp_path / "keys" / "secret"
    first = load_or_create_secret(key)
    assert len(first) == 32 and load_or_create_secret(key) == first
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600


# ---------------------------------------------------------------------- what a rater sees
def test_blind_order_is_fixed_per_rater_and_differs_across_raters(store: Store) -> None:
    studies = Studies(store)
    studies.create(title="Order", instructions="", study_id="s-order")
    pieces = [piece(i, f"model {i % 3}") for i in range(12)]
    for p in pieces:
        studies.add_piece("s-order", p)
    study = studies.get("s-order")
    orders = {r: studies.order(study, r) for r in ("ana", "ben", "cai")}
    assert all(sorted(o, key=lambda p: p.cid) == sorted(pieces, key=lambda p: p.cid) for o in orders.values())
    assert Studies(store).order(studies.get("s-order"), "ana") == orders["ana"]  # a reload: the same order
    assert rater_order("s-order", "ana", pieces[::-1]) == orders["ana"]  # whatever order the pieces are stored in
    assert len({o for o in orders.values()}) == 3
    assert rater_order("s-other", "ana", pieces) != orders["ana"]  # another study, another order


def test_without_randomising_every_rater_hears_the_study_order(store: Store) -> None:
    studies = Studies(store)
    studies.create(title="Fixed", instructions="", study_id="s-fixed", randomise=False)
    for i in range(5):
        studies.add_piece("s-fixed", piece(i))
    study = studies.get("s-fixed")
    assert studies.order(study, "ana") == studies.order(study, "ben") == study.rated_pieces


def test_blind_next_piece_shows_no_labels_and_follows_the_raters_order(world: World) -> None:
    study = world.studies.get(STUDY)
    order = world.studies.order(study, "ben")
    p = world.studies.progress(STUDY, "ben")
    assert (p.done, p.total) == (0, 3) and p.next is not None
    assert p.next.piece.cid == order[0].cid and p.next.position == 1
    assert (p.next.piece.work_id, p.next.piece.condition) == (None, None)
    assert [(r.cid, r.work_id, r.condition) for r in p.next.references] == [(cid(9), None, None)]
    assert [c.name for c in p.next.criteria] == ["authenticity", "satisfaction"]


def test_next_piece_goes_on_until_every_piece_is_rated(world: World) -> None:
    order = world.studies.order(world.studies.get(STUDY), "ana")
    seen = []
    while (nxt := world.studies.progress(STUDY, "ana").next) is not None:
        seen.append(nxt.piece.cid)
        world.studies.submit(STUDY, "ana", nxt.piece.cid, {c.name: c.scale.minimum for c in nxt.criteria})
    assert seen == [p.cid for p in order]
    done = world.studies.progress(STUDY, "ana")
    assert (done.done, done.total, done.next) == (3, 3, None)
    assert world.studies.progress(STUDY, "ben").done == 0  # another rater's ratings are not this rater's


def test_a_partly_rated_piece_comes_back_with_the_criteria_left(world: World) -> None:
    order = world.studies.order(world.studies.get(STUDY), "ben")
    world.studies.submit(STUDY, "ben", order[0].cid, {"satisfaction": 2})
    nxt = world.studies.progress(STUDY, "ben").next
    assert nxt is not None and nxt.piece.cid == order[0].cid and [c.name for c in nxt.criteria] == ["authenticity"]


def test_an_open_study_shows_labels(store: Store) -> None:
    studies = Studies(store)
    studies.create(title="Not blind", instructions="", blind=False, study_id="s-open")
    studies.add_piece("s-open", piece(1, "model B"))
    studies.add_criterion("s-open", AUTHENTICITY)
    studies.enrol("s-open", "ana", kind="link")
    studies.open("s-open")
    nxt = studies.progress("s-open", "ana").next
    assert nxt is not None and (nxt.piece.work_id, nxt.piece.condition) == (101, "model B")


@pytest.mark.parametrize(("study", "rater", "expect"), [
    (STUDY, "ana", nullcontext()),
    ("s-draft", "ana", pytest.raises(StudyNotOpen)),
    ("s-closed", "ana", pytest.raises(StudyNotOpen)),
    (STUDY, "eve", pytest.raises(NotARater)),
    ("s-nope", "ana", pytest.raises(UnknownStudy)),
])
def test_next_piece_refusals(world: World, study: str, rater: str, expect: AbstractContextManager[object]) -> None:
    with expect:
        world.studies.progress(study, rater)

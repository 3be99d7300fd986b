"""Ontology review rounds: decisions applied round by round, every change recorded, refusals
leaving the record as it was, and silhouette and AMI per round."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from core.errors import InputError
from listening.errors import ReviewConflict, RoundStateError, UnknownWorkLabels
from listening.ontology import Ontology, WorkLabels, round_metrics
from listening.store import Store, connect


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    with connect(tmp_path / "studies.sqlite") as s:
        yield s


@pytest.fixture()
def onto(store: Store) -> Ontology:
    """Works 1-3 seeded; round 1 open."""
    o = Ontology(store, clock=Clock())
    o.seed(1, tags=["Han folk song"], cluster="c1")
    o.seed(2, tags=["Daur", "Mongolian long song"], cluster="c2")
    o.seed(3, tags=["Han folk song"], cluster="c2")
    o.open_round()
    return o


def labels(tags: set[str], cluster: str | None, work: int) -> WorkLabels:
    return WorkLabels(work_id=work, tags=frozenset(tags), cluster=cluster)  # type: ignore[arg-type]


def test_rounds_record_every_change_and_the_labels_after_each(onto: Ontology) -> None:
    baseline = onto.labels_after(0)
    onto.review(reviewer="ana", work_id=1, target="tag", action="accept", old="Han folk song")
    onto.review(reviewer="ben", work_id=2, target="tag", action="correct", old="Mongolian long song", new="Daur long song")
    onto.review(reviewer="ana", work_id=3, target="cluster", action="correct", old="c2", new="c1")
    onto.close_round()
    onto.open_round()
    onto.review(reviewer="cai", work_id=2, target="tag", action="reject", old="Daur")
    onto.review(reviewer="cai", work_id=1, target="tag", action="correct", new="Shaanxi")  # no old: a tag added
    onto.review(reviewer="ben", work_id=3, target="cluster", action="reject", old="c1")

    assert baseline == {1: labels({"Han folk song"}, "c1", 1), 2: labels({"Daur", "Mongolian long song"}, "c2", 2),
                        3: labels({"Han folk song"}, "c2", 3)}
    assert onto.labels_after(1) == {1: labels({"Han folk song"}, "c1", 1), 2: labels({"Daur", "Daur long song"}, "c2", 2),
                                    3: labels({"Han folk song"}, "c1", 3)}
    assert onto.labels_after(2) == {1: labels({"Han folk song", "Shaanxi"}, "c1", 1), 2: labels({"Daur long song"}, "c2", 2),
                                    3: labels({"Han folk song"}, None, 3)}
    assert onto.labels_by_round() == {0: baseline, 1: onto.labels_after(1), 2: onto.labels_after(2)}

    changes = onto.changes()
    assert [(c.round, c.reviewer, c.work_id, c.target, c.action, c.old, c.new) for c in changes] == [
        (1, "ana", 1, "tag", "accept", "Han folk song", "Han folk song"),
        (1, "ben", 2, "tag", "correct", "Mongolian long song", "Daur long song"),
        (1, "ana", 3, "cluster", "correct", "c2", "c1"),
        (2, "cai", 2, "tag", "reject", "Daur", None),
        (2, "cai", 1, "tag", "correct", None, "Shaanxi"),
        (2, "ben", 3, "cluster", "reject", "c1", None),
    ]
    assert [c.seq for c in changes] == sorted(c.seq for c in changes)
    assert all(a.at < b.at for a, b in itertools.pairwise(changes)) and changes[0].at.tzinfo is not None
    assert [c.seq for c in onto.changes(round=2, work_id=3)] == [changes[5].seq]
    assert [r.number for r in onto.rounds()] == [1, 2] and onto.rounds()[0].closed_at is not None
    assert onto.current_round() is not None


REVIEWS: list[tuple[str, dict[str, object], AbstractContextManager[object]]] = [
    ("accept a tag", {"work_id": 1, "target": "tag", "action": "accept", "old": "Han folk song"}, nullcontext()),
    ("correct a cluster", {"work_id": 1, "target": "cluster", "action": "correct", "old": "c1", "new": "c3"}, nullcontext()),
    ("unknown work", {"work_id": 9, "target": "tag", "action": "accept", "old": "x"}, pytest.raises(UnknownWorkLabels)),
    ("a tag it does not have", {"work_id": 1, "target": "tag", "action": "reject", "old": "Daur"},
     pytest.raises(ReviewConflict, match="no tag 'Daur'")),
    ("a stale cluster", {"work_id": 1, "target": "cluster", "action": "accept", "old": "c2"},
     pytest.raises(ReviewConflict, match="cluster is 'c1'")),
    ("moved to its own cluster", {"work_id": 1, "target": "cluster", "action": "correct", "old": "c1", "new": "c1"},
     pytest.raises(ReviewConflict, match="accept it instead")),
    ("corrected to a tag it has", {"work_id": 2, "target": "tag", "action": "correct", "old": "Daur", "new": "Mongolian long song"},
     pytest.raises(ReviewConflict, match="has the tag")),
    ("accept with a new value", {"work_id": 1, "target": "tag", "action": "accept", "old": "Han folk song", "new": "x"},
     pytest.raises(InputError, match="takes no new value")),
    ("correct without a new value", {"work_id": 1, "target": "tag", "action": "correct", "old": "Han folk song"},
     pytest.raises(InputError, match="needs the new value")),
    ("reject no tag", {"work_id": 1, "target": "tag", "action": "reject"}, pytest.raises(InputError, match="say which tag")),
    ("unknown target", {"work_id": 1, "target": "genre", "action": "accept", "old": "x"}, pytest.raises(InputError)),
    ("unknown action", {"work_id": 1, "target": "tag", "action": "delete", "old": "x"}, pytest.raises(InputError)),
]


@pytest.mark.parametrize(("what", "review", "expect"), REVIEWS, ids=[r[0] for r in REVIEWS])
def test_reviews(onto: Ontology, store: Store, what: str, review: dict[str, object],
                 expect: AbstractContextManager[object]) -> None:
    before = store.dump()
    with expect:
        change = onto.review(reviewer="ana", **review)  # type: ignore[arg-type]
        assert change.round == 1 and change.reviewer == "ana"
    if not isinstance(expect, nullcontext):
        assert store.dump() == before


@pytest.mark.parametrize(("action", "expect"), [
    (lambda o: o.close_round(), nullcontext()),
    (lambda o: o.open_round(), pytest.raises(RoundStateError, match="round 1 is open")),
    (lambda o: (o.close_round(), o.close_round()), pytest.raises(RoundStateError, match="nothing to close")),
    (lambda o: (o.close_round(), o.review(reviewer="ana", work_id=1, target="tag", action="accept", old="Han folk song")),
     pytest.raises(RoundStateError, match="no review round is open")),
    (lambda o: o.seed(1, tags=["x"], cluster=None), pytest.raises(ReviewConflict, match="baseline labels already")),
    (lambda o: o.labels_after(5), pytest.raises(RoundStateError, match="no round 5")),
    (lambda o: o.review(reviewer=" ", work_id=1, target="tag", action="accept", old="Han folk song"),
     pytest.raises(InputError, match="reviewer")),
])
def test_round_refusals(onto: Ontology, action: Callable[[Ontology], object], expect: AbstractContextManager[object]) -> None:
    with expect:
        action(onto)


def _blobs(n_per: int = 10, seed: int = 0) -> tuple[list[int], np.ndarray]:
    """Three well-separated clusters in 8-D, works 1..3n in blob order."""
    rng = np.random.default_rng(seed)
    centres = np.eye(8)[:3] * 10
    x = np.concatenate([c + rng.normal(scale=0.3, size=(n_per, 8)) for c in centres])
    return list(range(1, 3 * n_per + 1)), x


def test_metrics_per_round_improve_as_experts_fix_the_labels(store: Store) -> None:
    from sklearn.metrics import adjusted_mutual_info_score, silhouette_score

    ids, x = _blobs()
    onto = Ontology(store, clock=Clock())
    truth = {w: ["Han", "Daur", "Uyghur"][(w - 1) // 10] for w in ids}
    for w in ids:
        wrong = w % 5 == 0  # a fifth of the works carry the next tradition's tag at first
        tag = ["Han", "Daur", "Uyghur"][((w - 1) // 10 + wrong) % 3]
        onto.seed(w, tags=[tag], cluster=f"k{(w - 1) // 10}")
    onto.open_round()
    for w in ids:
        if w % 5 == 0:
            old = next(iter(onto.labels_after(0)[w].tags))  # type: ignore[index]
            onto.review(reviewer="ana", work_id=w, target="tag", action="correct", old=old, new=truth[w])
    onto.close_round()
    onto.open_round()
    onto.review(reviewer="ben", work_id=1, target="tag", action="reject", old="Han")  # work 1 now has no tag: left out
    m0, m1, m2 = round_metrics(onto.labels_by_round(), ids, x)
    assert (m0.round, m1.round, m2.round) == (0, 1, 2)
    assert m1.silhouette_tags is not None and m0.silhouette_tags is not None and m1.silhouette_tags > m0.silhouette_tags
    assert m1.ami_tags_clusters == pytest.approx(1.0) and m0.ami_tags_clusters is not None and m0.ami_tags_clusters < 0.9
    assert (m1.items, m1.excluded, m2.items, m2.excluded) == (30, 0, 29, 1)
    z = x / np.linalg.norm(x, axis=1, keepdims=True)
    seeded = [next(iter(onto.labels_after(0)[w].tags)) for w in ids]  # type: ignore[index]
    assert m0.silhouette_tags == pytest.approx(silhouette_score(z, seeded, metric="cosine"))
    assert m0.ami_tags_clusters == pytest.approx(adjusted_mutual_info_score(seeded, [f"k{(w - 1) // 10}" for w in ids]))
    assert m0.silhouette_clusters == pytest.approx(m1.silhouette_clusters)  # the clusters were not changed


def test_metrics_refuse_mismatched_embeddings_and_say_when_a_silhouette_is_undefined() -> None:
    ids, x = _blobs(2)
    one_label = {0: {w: WorkLabels(w, frozenset({"Han"}), "k0") for w in ids}}  # type: ignore[arg-type]
    (m,) = round_metrics(one_label, ids, x)  # type: ignore[arg-type]
    assert m.silhouette_tags is None and m.silhouette_clusters is None and "at least two labels" in m.note
    with pytest.raises(InputError, match="one embedding row per work id"):
        round_metrics(one_label, ids[:-1], x)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="NaN"):
        round_metrics(one_label, ids, np.full_like(x, np.nan))  # type: ignore[arg-type]

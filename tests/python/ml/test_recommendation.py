"""ml.recommendation: metrics by hand, top-k, the baselines on planted structure, exposure re-ranking, bad input."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np
import pytest
from scipy import sparse

from economy.indices import gini
from ml.recommendation import (
    ContentScorer,
    ImplicitALS,
    Popularity,
    bottom_share,
    coverage_at_k,
    exposure,
    exposure_by_group,
    exposure_rerank,
    ndcg_at_k,
    top_k,
)

LOG3 = math.log2(3)


def _reference_top_k(scores: np.ndarray, k: int, exclude: np.ndarray | None = None) -> np.ndarray:
    """Full sort by (score descending, item id ascending): what top_k must agree with."""
    table = scores if exclude is None else np.where(exclude, -np.inf, scores)
    return np.argsort(-table, axis=1, kind="stable")[:, :k]


def _planted(seed: int) -> tuple[sparse.csr_matrix, list[set[int]]]:
    """Two user clusters × two item clusters: users play their own cluster's items (popular ones more).

    Returns the training counts (160 users × 60 items) and each user's three held-out items.
    """
    rng = np.random.default_rng(seed)
    n_users, n_items, half = 160, 60, 30
    within = 1.0 / np.arange(1, half + 1) ** 0.7  # Zipf popularity inside a cluster
    within /= within.sum()
    rows, cols, held = [], [], []
    for u in range(n_users):
        offset = 0 if u < n_users // 2 else half
        items = offset + rng.choice(half, size=11, replace=False, p=within)
        held.append(set(items[:3].tolist()))
        rows += [u] * 8
        cols += items[3:].tolist()
    counts = rng.integers(1, 6, size=len(rows)).astype(float)
    train = sparse.csr_matrix((counts, (rows, cols)), shape=(n_users, n_items))
    return train, held


# ---------------------------------------------------------------------------- metrics


def test_ndcg_at_k_hand_computed() -> None:
    ranked = np.array([[0, 1, 2], [2, 0, 1], [1, 2, 0]])
    relevant = [{1}, {1, 2}, set()]  # the third user has nothing relevant and is left out of the mean
    # k=2: user 0 hits at rank 1 (IDCG 1); user 1 hits at rank 0 only (IDCG 1 + 1/log2 3)
    at2 = (1 / LOG3 + 1 / (1 + 1 / LOG3)) / 2
    # k=3: user 1 also hits at rank 2
    at3 = (1 / LOG3 + (1 + 1 / math.log2(4)) / (1 + 1 / LOG3)) / 2
    assert ndcg_at_k(ranked, relevant, 2) == pytest.approx(at2)
    assert ndcg_at_k(ranked, relevant, 3) == pytest.approx(at3)
    matrix = sparse.csr_matrix(([1.0, 1.0, 1.0], ([0, 1, 1], [1, 1, 2])), shape=(3, 4))
    assert ndcg_at_k(ranked, matrix, 2) == pytest.approx(at2)
    assert ndcg_at_k(ranked, [{0, 1}, {2, 0}, {1}], 2) == pytest.approx(1.0)
    assert ndcg_at_k(ranked, [{3}, {3}, {3}], 3) == 0.0


def test_coverage_at_k_and_bottom_share_hand_computed() -> None:
    ranked = np.array([[0, 1], [1, 2]])
    assert coverage_at_k(ranked, 1, np.array([1, 3])) == 0.5  # top-1 shows {0, 1}
    assert coverage_at_k(ranked, 1, np.array([2, 3])) == 0.0
    assert coverage_at_k(ranked, 2, np.array([2, 3])) == 0.5  # top-2 shows {0, 1, 2}
    assert coverage_at_k(ranked, 2, np.array([0, 1, 2])) == 1.0
    popularity = np.array([5, 1, 1, 3, 0, 1])
    assert bottom_share(popularity, 0.5).tolist() == [4, 1, 2]  # ties at 1: lower ids first
    assert bottom_share(popularity, 0.4).tolist() == [4, 1, 2]  # ⌈2.4⌉ = 3
    assert bottom_share(popularity, 0.1).tolist() == [4]  # at least one item
    assert bottom_share(np.arange(2000)[::-1], 0.10).size == 200  # 0.1 · 2000 is 200, not 201


def test_exposure_hand_computed() -> None:
    ranked = np.array([[0, 1], [1, 2]])
    expected = [1.0, 1 / LOG3 + 1.0, 1 / LOG3, 0.0]
    assert exposure(ranked, 2, 4) == pytest.approx(expected)
    assert exposure(ranked, 1, 4) == pytest.approx([1.0, 1.0, 0.0, 0.0])
    assert exposure_by_group(ranked, 2, np.array([0, 0, 2, 2])) == pytest.approx([expected[0] + expected[1], 0.0, expected[2]])


# ---------------------------------------------------------------------------- top_k


def test_top_k_orders_best_first_and_breaks_ties_by_item_id() -> None:
    scores = np.array([[1.0, 3.0, 3.0, 0.0, 3.0], [0.0, 0.0, 0.0, 0.0, 0.0]])
    assert top_k(scores, 2).tolist() == [[1, 2], [0, 1]]
    assert top_k(scores, 4).tolist() == [[1, 2, 4, 0], [0, 1, 2, 3]]
    rng = np.random.default_rng(1)
    tied = rng.integers(0, 4, size=(50, 30)).astype(float)  # many ties at every cut
    for k in (1, 7, 30):
        assert np.array_equal(top_k(tied, k), _reference_top_k(tied, k))


def test_top_k_never_returns_excluded_items() -> None:
    rng = np.random.default_rng(2)
    scores = rng.standard_normal((40, 25))
    played = rng.random((40, 25)) < 0.5
    played[:, :3] = False  # every row keeps at least 3 items
    lists = top_k(scores, 3, exclude=sparse.csr_matrix(played))
    assert not np.any(np.take_along_axis(played, lists, axis=1))
    assert np.array_equal(lists, _reference_top_k(scores, 3, played))
    assert np.any(np.take_along_axis(played, top_k(scores, 3), axis=1))  # without exclude, played items do come up


# ---------------------------------------------------------------------------- baselines


def test_popularity_scores_are_total_counts_for_every_user() -> None:
    x = sparse.csr_matrix(np.array([[1, 0, 2], [0, 0, 5], [3, 0, 0]]))
    scores = Popularity().fit(x).scores(np.array([2, 0]))
    assert scores.dtype == np.float64
    assert scores.tolist() == [[4.0, 0.0, 7.0], [4.0, 0.0, 7.0]]


def test_als_beats_popularity_on_planted_clusters() -> None:
    train, held = _planted(seed=3)
    played = train  # recommend only what the user has not played
    users = np.arange(train.shape[0])
    k = 10
    als = ImplicitALS(factors=2, iterations=10, seed=0).fit(train)  # the planted rank
    pop = Popularity().fit(train)
    als_ndcg = ndcg_at_k(top_k(als.scores(users), k, exclude=played), held, k)
    pop_ndcg = ndcg_at_k(top_k(pop.scores(users), k, exclude=played), held, k)
    assert als_ndcg > 0.5
    assert als_ndcg > pop_ndcg + 0.2
    # what ALS learnt: every user's top 10 stays in the user's own item cluster
    cluster_of_item = np.arange(train.shape[1]) >= 30
    cluster_of_user = users >= 80
    assert np.all(cluster_of_item[top_k(als.scores(users), k, exclude=played)] == cluster_of_user[:, None])


def test_als_is_deterministic_for_a_seed() -> None:
    train, _ = _planted(seed=4)
    a = ImplicitALS(factors=6, iterations=3, seed=7).fit(train)
    b = ImplicitALS(factors=6, iterations=3, seed=7).fit(train)
    c = ImplicitALS(factors=6, iterations=3, seed=8).fit(train)
    assert np.array_equal(a.user_factors, b.user_factors) and np.array_equal(a.item_factors, b.item_factors)
    assert not np.allclose(a.item_factors, c.item_factors)


def test_als_loss_never_rises_over_iterations() -> None:
    train, _ = _planted(seed=5)
    losses = [ImplicitALS(factors=6, iterations=n, seed=0).fit(train).loss(train) for n in range(1, 7)]
    assert all(later <= earlier * (1 + 1e-12) for earlier, later in itertools.pairwise(losses))
    assert losses[-1] < 0.9 * losses[0]


def test_als_item_factors_solve_the_dense_normal_equations() -> None:
    rng = np.random.default_rng(6)
    counts = rng.integers(0, 4, size=(12, 9)) * (rng.random((12, 9)) < 0.4)
    counts[:, 4] = 0  # an item nobody played
    counts[3] = 0  # a user who played nothing
    model = ImplicitALS(factors=3, iterations=4, regularization=0.1, alpha=2.0, seed=1).fit(sparse.csr_matrix(counts))
    users, items = model.user_factors, model.item_factors
    for i in range(counts.shape[1]):
        confidence = 1 + 2.0 * counts[:, i]
        preference = (counts[:, i] > 0).astype(float)
        lhs = users.T @ (confidence[:, None] * users) + 0.1 * np.eye(3)
        assert items[i] == pytest.approx(np.linalg.solve(lhs, users.T @ (confidence * preference)), abs=1e-10)
    assert np.all(items[4] == 0) and np.all(users[3] == 0)
    assert np.all(np.isfinite(model.scores(np.arange(12))))


def test_content_scorer_is_cosine_to_the_play_weighted_mean() -> None:
    embeddings = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    x = sparse.csr_matrix(np.array([[2, 1, 0, 0], [0, 0, 0, 0]]))
    scores = ContentScorer(embeddings).fit(x).scores(np.array([0, 1]))
    root5 = math.sqrt(5)
    assert scores[0] == pytest.approx([2 / root5, 1 / root5, 3 / (root5 * math.sqrt(2)), 0.0])
    assert scores[1] == pytest.approx([0.0, 0.0, 0.0, 0.0])  # no plays, no profile


# ---------------------------------------------------------------------------- re-ranking


def _skewed(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """300 users × 90 items in 3 communities of 30; community 0 scores highest, community 2 lowest."""
    rng = np.random.default_rng(seed)
    group = np.repeat(np.arange(3), 30)
    scores = np.array([2.0, 1.0, 0.0])[group] + rng.standard_normal((300, 90))
    return scores, group


def test_exposure_rerank_at_strength_zero_is_top_k() -> None:
    scores, group = _skewed(seed=7)
    played = sparse.csr_matrix(np.random.default_rng(8).random(scores.shape) < 0.2)
    assert np.array_equal(exposure_rerank(scores, 10, group, strength=0.0), top_k(scores, 10))
    assert np.array_equal(exposure_rerank(scores, 10, group, strength=0.0, exclude=played), top_k(scores, 10, exclude=played))
    # the greedy path itself (strength > 0) gives back the relevance order when fairness barely counts
    assert np.array_equal(exposure_rerank(scores, 10, group, strength=1e-12), top_k(scores, 10))


def test_exposure_rerank_trades_relevance_for_even_community_exposure() -> None:
    scores, group = _skewed(seed=9)
    k = 10
    relevant = [set(row.tolist()) for row in top_k(scores, k)]  # the scores are the truth here
    ginis, ndcgs = [], []
    for strength in (0.0, 0.25, 0.5, 1.0):
        lists = exposure_rerank(scores, k, group, strength=strength, candidates=60)
        assert all(len(set(row)) == k for row in lists.tolist())
        ginis.append(gini(exposure_by_group(lists, k, group)))
        ndcgs.append(ndcg_at_k(lists, relevant, k))
    assert ginis[0] > 0.3  # plain relevance shows mostly community 0
    assert all(b < a for a, b in itertools.pairwise(ginis))
    assert ginis[-1] < 0.01  # every user's candidates hold all three communities: exposure evens out
    assert ndcgs[0] == pytest.approx(1.0)
    assert all(b < a for a, b in itertools.pairwise(ndcgs))
    assert ndcgs[1] > 0.8  # a little fairness costs a little relevance


def test_exposure_rerank_amortises_exposure_across_users() -> None:
    # Two communities of one item each; every user prefers item 1 (community 1).
    scores = np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
    group = np.array([0, 1])
    lists = exposure_rerank(scores, 1, group, strength=1.0)
    # user 0: no exposure yet, the tie goes to relevance; user 1: community 0 has had none, so it comes first;
    # user 2: both have had 1, the tie goes to relevance again
    assert lists[:, 0].tolist() == [1, 0, 1]
    assert top_k(scores, 1)[:, 0].tolist() == [1, 1, 1]


def test_exposure_rerank_long_tail_bonus_raises_tail_exposure() -> None:
    scores, group = _skewed(seed=10)
    tail = np.zeros(90, dtype=bool)
    tail[np.argsort(scores.sum(axis=0))[:9]] = True  # the nine least-scored items
    plain = exposure_rerank(scores, 10, group, strength=0.5)
    with_tail = exposure_rerank(scores, 10, group, strength=0.5, long_tail=tail)
    assert exposure(with_tail, 10, 90)[tail].sum() > 2 * exposure(plain, 10, 90)[tail].sum()


# ---------------------------------------------------------------------------- bad input

SCORES = np.arange(12, dtype=float).reshape(3, 4)
GROUP = np.array([0, 0, 1, 1])
X = sparse.csr_matrix(np.array([[1, 0, 2, 0], [0, 3, 0, 0], [0, 0, 0, 1]]))
OK: AbstractContextManager[Any] = nullcontext()


def _raises() -> AbstractContextManager[Any]:
    return pytest.raises(ValueError, match="pass")


@pytest.mark.parametrize(
    ("call", "expect"),
    [
        (lambda: top_k(SCORES, 4), OK),
        (lambda: top_k(SCORES, 5), _raises()),
        (lambda: top_k(SCORES, 0), _raises()),
        (lambda: top_k(np.array([[0.0, np.nan]]), 1), _raises()),
        (lambda: top_k(SCORES, 2, exclude=sparse.csr_matrix((3, 5))), _raises()),
        (lambda: top_k(SCORES, 2, exclude=sparse.csr_matrix(np.array([[1, 1, 1, 0]] * 3))), _raises()),
        (lambda: exposure_rerank(SCORES, 2, GROUP, strength=0.3), OK),
        (lambda: exposure_rerank(SCORES, 2, GROUP, strength=-0.1), _raises()),
        (lambda: exposure_rerank(SCORES, 2, GROUP, strength=1.5), _raises()),
        (lambda: exposure_rerank(SCORES, 5, GROUP, strength=0.5), _raises()),
        (lambda: exposure_rerank(SCORES, 2, GROUP[:3], strength=0.5), _raises()),
        (lambda: exposure_rerank(SCORES, 2, GROUP, strength=0.5, long_tail=np.ones(5, dtype=bool)), _raises()),
        (lambda: exposure_rerank(SCORES, 2, GROUP, strength=0.5, candidates=0), _raises()),
        (lambda: ndcg_at_k(np.array([[0, 1]]), [{1}], 2), OK),
        (lambda: ndcg_at_k(np.array([[0, 1]]), [{1}, {0}], 2), _raises()),
        (lambda: ndcg_at_k(np.array([[0, 1]]), [{1}], 3), _raises()),
        (lambda: ndcg_at_k(np.array([[0, 0]]), [{0}], 2), _raises()),
        (lambda: ndcg_at_k(np.array([[0, 1]]), [set()], 2), _raises()),
        (lambda: ndcg_at_k(np.array([[0, 1]]), sparse.csr_matrix((2, 4)), 2), _raises()),
        (lambda: coverage_at_k(np.array([[0, 1]]), 2, np.array([], dtype=int)), _raises()),
        (lambda: bottom_share(np.array([1.0, 2.0]), 0.0), _raises()),
        (lambda: exposure(np.array([[0, 4]]), 2, 4), _raises()),
        (lambda: exposure_by_group(np.array([[0, 1]]), 2, np.array([0.5, 1.0])), _raises()),
        (lambda: Popularity().fit(X).scores(np.array([0, 2])), OK),
        (lambda: Popularity().fit(X).scores(np.array([3])), _raises()),
        (lambda: Popularity().fit(X.toarray()), _raises()),  # type: ignore[arg-type]
        (lambda: Popularity().fit(sparse.csr_matrix(np.array([[1.0, -1.0]]))), _raises()),
        (lambda: ImplicitALS(factors=2, iterations=1).fit(X).scores(np.array([[0]])), _raises()),
        (lambda: ImplicitALS(factors=0), _raises()),
        (lambda: ImplicitALS(regularization=0.0), _raises()),
        (lambda: ImplicitALS(factors=2, iterations=1).fit(X).loss(X[:2]), _raises()),
        (lambda: ContentScorer(np.ones((4, 2))).fit(X), OK),
        (lambda: ContentScorer(np.ones((5, 2))).fit(X), _raises()),
        (lambda: ContentScorer(np.ones(4)), _raises()),
    ],
)
def test_inputs_good_and_bad(call: Callable[[], object], expect: AbstractContextManager[Any]) -> None:
    with expect:
        call()


def test_popularity_blend_goes_from_the_model_to_popularity() -> None:
    from ml.recommendation import PopularityBlend

    train, _ = _planted(seed=3)
    als = ImplicitALS(factors=2, seed=0).fit(train)
    users = np.arange(train.shape[0])
    plain = PopularityBlend(ImplicitALS(factors=2, seed=0), 0.0).fit(train)
    assert (top_k(plain.scores(users), 5) == top_k(als.scores(users), 5)).all()  # weight 0: the model's order
    heavy = plain.with_weight(1e6)
    popular = top_k(Popularity().fit(train).scores(users), 5)
    assert (top_k(heavy.scores(users), 5) == popular).mean() > 0.95  # a huge weight: popularity's order
    with pytest.raises(ValueError, match="pass a weight"):
        PopularityBlend(als, -1.0)


def test_tail_candidates_let_the_rerank_reach_items_relevance_never_ranks() -> None:
    rng = np.random.default_rng(0)
    n_users, n_items, k = 50, 300, 10
    scores = rng.random((n_users, n_items)) + np.linspace(2, 0, n_items)[None, :]  # the last items always score lowest
    tail = np.zeros(n_items, dtype=bool)
    tail[-30:] = True
    group = np.arange(n_items) % 3
    reach = exposure_rerank(scores, k, group, strength=0.8, long_tail=tail, candidates=50)
    blind = exposure_rerank(scores, k, group, strength=0.8, long_tail=tail, candidates=50, tail_candidates=0)
    assert not tail[blind].any()  # outside the 50 best candidates: never reached without the tail candidates
    assert tail[reach].mean() > 0.2  # the tail term now serves them
    assert coverage_at_k(reach, k, np.flatnonzero(tail)) > 0.5
    for row in reach:
        assert len(set(row.tolist())) == k  # no item twice in a list

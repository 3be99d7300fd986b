"""Ranking metrics over top-k lists: accuracy (NDCG), long-tail coverage and exposure.

A ranked array is int (n_users, ≥ k), one list of item ids per row, best first. The position
discount is DCG's: the item at 0-based rank r weighs 1 / log2(r + 2). Inequality indices (Gini,
Theil, Jain) live in `economy.indices`: ml does not import economy, the caller applies them.
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet

import numpy as np
import numpy.typing as npt
from scipy import sparse

from ml.recommendation.baselines import FloatArray, IntArray, RecommendationInputError

__all__ = ["bottom_share", "coverage_at_k", "exposure", "exposure_by_group", "ndcg_at_k"]


def _ranked(ranked: npt.ArrayLike, k: int) -> IntArray:
    """The first k columns of a checked (n_users, ≥ k) integer array."""
    lists = np.asarray(ranked)
    if lists.ndim != 2 or (lists.size and not np.issubdtype(lists.dtype, np.integer)):
        raise RecommendationInputError(f"ranked has shape {lists.shape}, {lists.dtype}; pass a 2-D int array (n_users, k) of item ids")
    if not 1 <= k <= lists.shape[1]:
        raise RecommendationInputError(f"k={k} but the lists have {lists.shape[1]} columns; pass 1 ≤ k ≤ {lists.shape[1]}")
    head = lists[:, :k].astype(np.int64)
    if head.size and head.min() < 0:
        raise RecommendationInputError(f"ranked holds a negative item id ({head.min()}); pass item indices ≥ 0")
    ordered = np.sort(head, axis=1)
    if np.any(ordered[:, 1:] == ordered[:, :-1]):
        row = int(np.flatnonzero(np.any(ordered[:, 1:] == ordered[:, :-1], axis=1))[0])
        raise RecommendationInputError(f"list {row} repeats an item in its top {k}; pass lists of distinct items")
    return head


def _discount(k: int) -> FloatArray:
    return 1.0 / np.log2(np.arange(k, dtype=np.float64) + 2.0)  # (k,)


def ndcg_at_k(ranked: npt.ArrayLike, relevant: sparse.csr_matrix | Sequence[AbstractSet[int]], k: int) -> float:
    """Mean NDCG@k with binary relevance, over the users that have at least one relevant item.

    For user u with relevant set R_u and list (i_0, i_1, …):
        DCG_u  = Σ_{r<k} [i_r ∈ R_u] / log2(r + 2)
        IDCG_u = Σ_{r<min(k, |R_u|)} 1 / log2(r + 2)
        NDCG@k = mean over {u : |R_u| > 0} of DCG_u / IDCG_u
    `relevant` is a (n_users, n_items) sparse matrix (stored nonzeros are relevant) or one set
    of item ids per user. Raises if no user has a relevant item (the mean would be undefined).
    """
    head = _ranked(ranked, k)
    n_users = head.shape[0]
    discount = _discount(k)
    if sparse.issparse(relevant):
        truth = sparse.csr_matrix(relevant, copy=True)
        if truth.shape[0] != n_users or (head.size and head.max() >= truth.shape[1]):
            raise RecommendationInputError(
                f"relevant has shape {truth.shape} but ranked has {n_users} rows and item ids up to {head.max(initial=0)}; "
                "pass one row per list and a column per item"
            )
        truth.eliminate_zeros()
        sizes = np.diff(truth.indptr)  # (n_users,)
        rows = np.repeat(np.arange(n_users), k)
        hit = (np.asarray(truth[rows, head.ravel()]).ravel() != 0).reshape(n_users, k)
    else:
        if len(relevant) != n_users:
            raise RecommendationInputError(f"relevant has {len(relevant)} sets but ranked has {n_users} rows; pass one set per list")
        sizes = np.array([len(items) for items in relevant], dtype=np.int64)
        hit = np.array([[item in items for item in row] for row, items in zip(head.tolist(), relevant, strict=True)], dtype=bool)
        hit = hit.reshape(n_users, k)
    judged = sizes > 0
    if not np.any(judged):
        raise RecommendationInputError("no user has a relevant item, so NDCG is undefined; pass at least one non-empty relevant set")
    ideal = np.concatenate([[0.0], np.cumsum(discount)])[np.minimum(sizes[judged], k)]  # (n_judged,)
    dcg = hit[judged] @ discount
    return float(np.mean(dcg / ideal))


def coverage_at_k(ranked: npt.ArrayLike, k: int, subset: npt.ArrayLike) -> float:
    """Share of `subset` (item ids) shown in at least one user's top k.

        coverage = |{i ∈ S : ∃u, r < k with ranked[u, r] = i}| / |S|

    With S = `bottom_share(popularity)` this is long-tail coverage.
    """
    head = _ranked(ranked, k)
    items = np.unique(np.asarray(subset, dtype=np.int64))
    if items.size == 0:
        raise RecommendationInputError("subset is empty, so coverage is undefined; pass the item ids to cover")
    return float(np.isin(items, head).sum() / items.size)


def bottom_share(popularity: npt.ArrayLike, share: float = 0.10) -> IntArray:
    """Item ids of the least popular `share` of the catalogue, least popular first.

    Takes n = ⌈share · n_items⌉ items (at least one), ordered by popularity ascending; items of
    equal popularity are ordered by id, so the lower id is taken first at the cut.
    """
    counts = np.asarray(popularity, dtype=np.float64)
    if counts.ndim != 1 or counts.size == 0:
        raise RecommendationInputError(f"popularity has shape {counts.shape}; pass a non-empty 1-D array, one value per item")
    if not 0.0 < share <= 1.0:
        raise RecommendationInputError(f"share={share} is outside (0, 1]; pass a fraction such as 0.10")
    n = max(1, int(np.ceil(share * counts.size - 1e-9)))  # the tolerance keeps 0.1 · 2000 at 200
    return np.argsort(counts, kind="stable")[:n].astype(np.int64)


def exposure(ranked: npt.ArrayLike, k: int, n_items: int) -> FloatArray:
    """Position-discounted exposure per item, float64 (n_items,).

        e_i = Σ_u Σ_{r<k} [ranked[u, r] = i] / log2(r + 2)

    An item nobody was shown gets 0.
    """
    head = _ranked(ranked, k)
    if head.size and head.max() >= n_items:
        raise RecommendationInputError(f"ranked holds item id {head.max()} but n_items={n_items}; pass the catalogue size")
    weights = np.broadcast_to(_discount(k), head.shape)
    return np.bincount(head.ravel(), weights=weights.ravel(), minlength=n_items).astype(np.float64)


def exposure_by_group(ranked: npt.ArrayLike, k: int, item_group: npt.ArrayLike) -> FloatArray:
    """Position-discounted exposure per group, float64 (max group id + 1,).

        E_g = Σ_{i : group(i) = g} e_i      (e_i as in `exposure`)
    Groups are non-negative integer ids; ids with no item get 0.
    """
    group = np.asarray(item_group)
    if group.ndim != 1 or group.size == 0 or not np.issubdtype(group.dtype, np.integer) or group.min() < 0:
        raise RecommendationInputError(f"item_group has shape {group.shape}, {group.dtype}; pass integer group ids ≥ 0, one per item")
    per_item = exposure(ranked, k, group.size)
    return np.bincount(group, weights=per_item, minlength=int(group.max()) + 1).astype(np.float64)

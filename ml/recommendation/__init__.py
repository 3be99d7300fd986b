"""Recommendation for the economy simulation: baselines, fairness-aware re-ranking, ranking metrics.

- `baselines`: `Popularity`, `ImplicitALS`, `PopularityBlend`, `ContentScorer` (the `Recommender` protocol:
  `fit(interactions)` then `scores(users)`), and `top_k`.
- `rerank`: `exposure_rerank`, greedy re-ranking towards equal exposure across communities (and
  the long tail), amortised across the users of a call, with its strength as a parameter.
- `metrics`: `ndcg_at_k`, `coverage_at_k`, `bottom_share`, `exposure`, `exposure_by_group`
  (inequality indices over exposure: `economy.indices`).
"""

from ml.recommendation.baselines import (
    ContentScorer,
    ImplicitALS,
    Popularity,
    PopularityBlend,
    RecommendationInputError,
    Recommender,
    top_k,
)
from ml.recommendation.metrics import bottom_share, coverage_at_k, exposure, exposure_by_group, ndcg_at_k
from ml.recommendation.rerank import exposure_rerank

__all__ = [
    "ContentScorer",
    "ImplicitALS",
    "Popularity",
    "PopularityBlend",
    "RecommendationInputError",
    "Recommender",
    "bottom_share",
    "coverage_at_k",
    "exposure",
    "exposure_by_group",
    "exposure_rerank",
    "ndcg_at_k",
    "top_k",
]

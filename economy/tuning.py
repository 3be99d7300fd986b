"""The recommender's side of the value chain tuned on a Pareto front (`heritage tune economy`).

The seed's objective J(θ) = α·L_percept + β·L_fair − γ·U_engage weighs fairness against
engagement with fixed weights; here the weights are not chosen in advance: a multi-objective
search (Optuna's NSGA-II, or its multi-objective TPE) looks for the re-ranking settings on the
front of three objectives, and a stated rule picks one point of it afterwards.

- **Parameters** (the scenario's `recommender` fields): `fair_strength` [0, 1], `candidates`
  [50, 400], `tail_candidates` [0, 60], `popularity_blend` [0, 4] and `familiarity_tilt` [−1, 1]
  (a per-listener strength: stronger for listeners familiar with heritage music when > 0).
- **Objectives**, each from the "ours" arm of the simulation (economy/simulate.listen) on one
  seed-fixed world, catalogue and warm-up built once per study:
  Jain's index of the communities' payouts (max), NDCG@20 against the hidden taste model (max),
  and the Cox hazard ratio of session abandonment against the unconditioned arm (min).
- **Held-out listeners**: the listeners are split in two by a seeded draw. The search sees only
  the tuning half's figures; every trial's figures on the other half are stored beside them and
  the chosen point is judged on those.
- **Payouts** are computed off chain with the router's own rule (chain/routing.route over the
  lineage and splits the router holds, read once per study), so a trial needs no transactions:
  one stream pays its price to the item, which routes it to its heritage roots' communities.

A study is stored in `DATA_DIR/tuning/economy.db` (SQLite, Optuna's RDB storage) under a name
derived from the scenario, so a rerun with more `--trials` resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from chain.client import Chain
from chain.routing import Node, route
from core import studies
from core.blockstore import ContentStore
from core.types import Progress
from economy import catalogue as catalogue_mod
from economy.indices import jain, theil_t
from economy.listeners import World, make_world
from economy.scenario import Scenario
from economy.simulate import (
    ArmRun,
    cox_abandonment,
    listen,
    ranker,
    reranking,
    truly_relevant,
    tune_als,
    warm_up,
)
from economy.statements.community import lineage_nodes
from ml.recommendation.metrics import ndcg_at_k

OBJECTIVES = ("jain", "ndcg@20", "abandonment_hr")
DIRECTIONS: tuple[Literal["maximize", "minimize"], ...] = ("maximize", "maximize", "minimize")
UNIT = 10**18  # wei routed per item to read its communities' shares


@dataclass
class Stage:
    """What every trial of a study shares: the world, the catalogue's routing, the warm-up, the
    collaborative model's settings and the unconditioned arm (the hazard ratio's reference)."""

    scenario: Scenario
    world: World
    group: np.ndarray  # (items,) community index per item
    shares: np.ndarray  # (items, communities) share of one stream's money each community receives
    history: pd.DataFrame
    x0: Any
    long_tail: np.ndarray
    k: int
    t0: float
    als: dict[str, float]
    heldout: np.ndarray  # (listeners,) bool: True for the held-out half
    baseline: ArmRun


def community_shares(chain: Chain, cat: catalogue_mod.SimulatedCatalogue) -> np.ndarray:
    """Per item, the share of a payment to it that ends with each community's treasury (the
    router's rule over the recorded lineage; the rest goes to creators)."""
    index = {t.lower(): i for i, t in enumerate(cat.treasuries)}
    nodes: dict[int, Node] = {}
    out = np.zeros((len(cat.items), len(cat.treasuries)))
    for row, item in enumerate(cat.items):
        lineage_nodes(chain, item.work_id, nodes)

        def credit(via: int, account: str, amount: int, row: int = row) -> None:
            c = index.get(account.lower())
            if c is not None:
                out[row, c] += amount / UNIT
        route(nodes, item.work_id, UNIT, on_credit=credit)
    return out


def stage(scenario: Scenario, chain: Chain, store: ContentStore, say: Progress) -> Stage:
    """Register the scenario's catalogue, build its listeners, warm up, choose the collaborative
    model's settings and run the unconditioned arm: everything a trial does not change."""
    say("registering the catalogue on the chain", 0, 1)
    cat = catalogue_mod.build(chain, store, scenario.catalogue, scenario.seed)
    say("registering the catalogue on the chain", 1, 1)
    group, n_items, spec = cat.item_group, len(cat.items), scenario.listeners
    world = make_world(spec, group, cat.is_heritage, scenario.seed)
    t0 = float(chain.w3.eth.get_block("latest")["timestamp"]) + 3600
    k = min(spec.list_length, n_items)
    history, x0, long_tail = warm_up(world, scenario, n_items, k, t0, say)
    als, _ = tune_als(history, spec.count, n_items, scenario.seed)
    say("reading the routing of every item", 0, 1)
    shares = community_shares(chain, cat)
    say("reading the routing of every item", 1, 1)
    heldout = np.random.default_rng([scenario.seed, 26]).random(spec.count) < 0.5
    baseline = listen("unconditioned", world, scenario, history, x0, long_tail, group, k, t0, say, als)
    return Stage(scenario, world, group, shares, history, x0, long_tail, k, t0, als, heldout, baseline)


def with_params(scenario: Scenario, params: dict[str, Any]) -> Scenario:
    return scenario.model_copy(update={"recommender": scenario.recommender.model_copy(update=params)})


def measure(st: Stage, arm: ArmRun, scenario: Scenario, listeners: np.ndarray) -> dict[str, float]:
    """One arm's objectives over some listeners: Jain and Theil of the communities' payouts from
    their streams, NDCG@20 of their lists against the hidden taste, the abandonment hazard ratio
    against the unconditioned arm's sessions of the same listeners."""
    sessions, _, streams = arm.log.frames()
    mine = streams[np.isin(streams["listener"].to_numpy(), listeners)]
    plays = np.bincount(mine["item"].to_numpy(), minlength=st.group.size).astype(float)
    paid = plays @ st.shares
    rng = np.random.default_rng([scenario.seed, 5])
    sample = np.sort(rng.choice(listeners, size=min(listeners.size, 500), replace=False))
    k100 = min(100, st.group.size)
    rank = ranker(arm.model, k100, st.group, rerank=reranking(scenario, arm.name),
                   familiarity=st.world.population.familiarity, long_tail=st.long_tail, rng=rng)
    lists, _ = rank(sample)
    ndcg = ndcg_at_k(lists, truly_relevant(st.world, sample, st.group.size), min(20, st.group.size))
    base_sessions = st.baseline.log.frames()[0]
    cox = cox_abandonment(base_sessions[np.isin(base_sessions["listener"].to_numpy(), listeners)],
                          sessions[np.isin(sessions["listener"].to_numpy(), listeners)])
    return {"jain": jain(paid), "theil_t": theil_t(paid), "ndcg@20": ndcg, "abandonment_hr": cox["hazard_ratio"],
            "hr_ci_low": cox["ci_low"], "hr_ci_high": cox["ci_high"], "streams": float(plays.sum())}


def evaluate(st: Stage, params: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Run the "ours" arm with `params` and measure it on both halves of the listeners."""
    scenario = with_params(st.scenario, params)
    arm = listen("ours", st.world, scenario, st.history, st.x0, st.long_tail, st.group, st.k, st.t0,
                 lambda *_: None, st.als)
    ids = np.arange(st.heldout.size)
    return {"tuning": measure(st, arm, scenario, ids[~st.heldout]), "heldout": measure(st, arm, scenario, ids[st.heldout])}


def reference(st: Stage) -> dict[str, dict[str, float]]:
    """The unconditioned arm measured like a trial: the point every trial is compared with."""
    ids = np.arange(st.heldout.size)
    return {half: measure(st, st.baseline, st.scenario, ids[mask]) for half, mask in
            (("tuning", ~st.heldout), ("heldout", st.heldout))}


def study_name(scenario: Scenario) -> str:
    digest = hashlib.sha256(json.dumps(scenario.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()[:12]
    return f"economy-{scenario.name}-{digest}"


def suggest(trial: Any) -> dict[str, Any]:
    return {"fair_strength": trial.suggest_float("fair_strength", 0.0, 1.0),
            "candidates": trial.suggest_int("candidates", 50, 400, step=50),
            "tail_candidates": trial.suggest_int("tail_candidates", 0, 60),
            "popularity_blend": trial.suggest_float("popularity_blend", 0.0, 4.0),
            "familiarity_tilt": trial.suggest_float("familiarity_tilt", -1.0, 1.0)}


def run_study(st: Stage, trials: int, storage: Path, *, sampler: str = "nsga2", seed: int = 0,
              on_trial: Callable[[int, int], None] | None = None) -> Any:
    """Run (or resume) the study until it holds `trials` finished trials; returns the study.
    The scenario's own settings are enqueued first so the front is read beside today's default."""
    r = st.scenario.recommender
    first = {"fair_strength": r.fair_strength, "candidates": r.candidates, "tail_candidates": r.tail_candidates,
             "popularity_blend": r.popularity_blend if r.popularity_blend is not None else st.als["blend"],
             "familiarity_tilt": r.familiarity_tilt}

    def objective(trial: Any) -> tuple[float, ...]:
        figures = evaluate(st, suggest(trial))
        trial.set_user_attr("heldout", figures["heldout"])
        trial.set_user_attr("tuning", figures["tuning"])
        return tuple(figures["tuning"][o] for o in OBJECTIVES)

    return studies.run_study(study_name(st.scenario), storage, DIRECTIONS, trials, objective, first=first, sampler=sampler,
                             seed=seed, on_trial=on_trial)


@dataclass(frozen=True)
class Front:
    rows: list[dict[str, Any]]  # every finished trial: number, params, tuning and held-out figures, on_front
    baseline: dict[str, dict[str, float]]
    chosen: dict[str, Any] | None
    rule: str
    both_better: list[int]  # trials whose held-out Jain beats the baseline's while abandonment falls significantly


RULE = ("the fairest front point on the held-out listeners (highest Jain) whose held-out NDCG@20 is at least 99 % "
        "of the unconditioned arm's and whose abandonment hazard ratio's 95 % interval reaches 1 or below "
        "(no significant rise in abandonment)")


def front(study: Any, baseline: dict[str, dict[str, float]]) -> Front:
    """The Pareto front (on the tuning half), every trial's figures, and the point the rule picks."""
    import optuna

    on_front = {t.number for t in study.best_trials}
    rows = [{"trial": t.number, **t.params, "on_front": t.number in on_front, "seconds": t.user_attrs.get("seconds"),
             **{f"tuning {k}": v for k, v in t.user_attrs["tuning"].items()},
             **{f"heldout {k}": v for k, v in t.user_attrs["heldout"].items()}}
            for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    base = baseline["heldout"]
    ok = [r for r in rows if r["on_front"] and r["heldout ndcg@20"] >= 0.99 * base["ndcg@20"]
          and r["heldout hr_ci_low"] <= 1.0]
    chosen = max(ok, key=lambda r: r["heldout jain"]) if ok else None
    both = [r["trial"] for r in rows if r["heldout jain"] > base["jain"] and r["heldout hr_ci_high"] < 1.0]
    return Front(rows, baseline, chosen, RULE, both)

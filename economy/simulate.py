"""`heritage simulate`: one scenario, three arms, one results folder.

Arms (the three columns of the seed study's Table 2):
- archive: popularity recommendation, manual/archive settlement;
- unconditioned: the collaborative recommender without re-ranking, settled on-chain;
- ours: the same recommender with fairness-aware re-ranking (exposure across communities and
  the long tail), settled on-chain.

All arms share the catalogue (registered on the node), the listeners and the warm-up history, and
draw their sessions from the same random streams, so differences come from the arm. The results
folder holds tables (parquet and CSV), `summary.json`, `table2.csv` and plots.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from chain.client import Chain
from core.blockstore import ContentStore
from core.types import Progress
from economy import catalogue as catalogue_mod
from economy.indices import gini, jain, theil_t
from economy.listeners import DAY, Log, World, interactions, make_world, simulate_day
from economy.scenario import RecommenderSpec, Scenario
from economy.settlement import Settled, settle_manual, settle_onchain
from ml.recommendation.baselines import ImplicitALS, Popularity, PopularityBlend, Recommender, top_k
from ml.recommendation.metrics import bottom_share, coverage_at_k, ndcg_at_k
from ml.recommendation.rerank import exposure_rerank

ARMS = ("archive", "unconditioned", "ours")


@dataclass
class ArmRun:
    name: str
    log: Log
    model: Recommender
    settled: Settled | None = None


def reranking(scenario: Scenario, arm: str) -> RecommenderSpec:
    """How an arm re-ranks: the scenario's re-ranking for 'ours', none (strength 0) for the others."""
    r = scenario.recommender
    return r if arm == "ours" else r.model_copy(update={"fair_strength": 0.0})


def listener_strength(rerank: RecommenderSpec, familiarity: np.ndarray) -> np.ndarray:
    """Each listener's re-ranking strength: strength × (1 + tilt × (2 × familiarity − 1)), in [0, 1]."""
    return np.clip(rerank.fair_strength * (1.0 + rerank.familiarity_tilt * (2.0 * familiarity - 1.0)), 0.0, 1.0)


def ranker(model: Recommender, k: int, group: np.ndarray, *, rerank: RecommenderSpec, familiarity: np.ndarray,
            long_tail: np.ndarray | None, rng: np.random.Generator) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    def rank(users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        uniq, inverse = np.unique(users, return_inverse=True)
        scores = np.asarray(model.scores(uniq), dtype=np.float64)
        # Break ties at random: top_k breaks them by item id, and ids follow the communities order.
        scores = scores + rng.gumbel(0, 1e-3, size=scores.shape)
        if rerank.fair_strength > 0:
            lists = exposure_rerank(scores, k, group, strength=listener_strength(rerank, familiarity[uniq]), long_tail=long_tail,
                                    candidates=rerank.candidates, tail_candidates=rerank.tail_candidates)
        else:
            lists = top_k(scores, k)
        lists = np.asarray(lists)[inverse]
        return lists, np.take_along_axis(scores[inverse], lists, axis=1)
    return rank


ALS_GRID = tuple({"factors": f, "regularization": r, "alpha": a} for f in (8, 32) for r in (0.1, 10.0) for a in (2.0, 20.0))
"""Hyper-parameters tried for ALS on the warm-up history; the best on its held-out last fifth is used."""
BLEND_WEIGHTS = (0.0, 0.5, 1.0, 2.0, 4.0)
"""Weights of standardised popularity added to the ALS scores, tried with every ALS setting."""


def _fit(kind: str, x: Any, seed: int, als: dict[str, float] | None = None) -> Recommender:
    if kind != "als":
        return Popularity().fit(x)
    params = als or {**ALS_GRID[0], "blend": 0.0}
    model = ImplicitALS(factors=int(params["factors"]), regularization=params["regularization"], alpha=params["alpha"],
                        iterations=8, seed=seed)
    return PopularityBlend(model, params.get("blend", 0.0)).fit(x)


def tune_als(history: pd.DataFrame, listeners: int, n_items: int, seed: int,
             k: int = 20) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """Choose ALS hyper-parameters and the popularity blend weight by NDCG@k on the last fifth of
    the warm-up (by time), training on the first four fifths; popularity alone is scored beside
    them for reference."""
    split = float(np.quantile(history["time"], 0.8)) if len(history) else 0.0
    train, valid = history[history["time"] < split], history[history["time"] >= split]
    x = interactions(train, listeners, n_items)
    users = np.unique(valid["listener"].to_numpy())
    if users.size == 0:
        return {**ALS_GRID[0], "blend": 0.0}, []
    relevant = [set(g) for _, g in valid.groupby("listener")["item"]]
    k = min(k, n_items)
    table: list[dict[str, Any]] = [{"model": "popularity",
                                    "ndcg": ndcg_at_k(top_k(Popularity().fit(x).scores(users), k), relevant, k)}]
    for params in ALS_GRID:
        fitted = _fit("als", x, seed, {**params, "blend": 0.0})
        assert isinstance(fitted, PopularityBlend)
        for weight in BLEND_WEIGHTS:
            lists = top_k(fitted.with_weight(weight).scores(users), k)
            table.append({"model": "als", **params, "blend": weight, "ndcg": ndcg_at_k(lists, relevant, k)})
    best = max(table[1:], key=lambda row: row["ndcg"])
    return {key: float(best[key]) for key in ("factors", "regularization", "alpha", "blend")}, table


def warm_up(world: World, scenario: Scenario, n_items: int, k: int, t0: float,
            say: Progress) -> tuple[pd.DataFrame, Any, np.ndarray]:
    """The warm-up history (the catalogue browsed at random, before t0), its interaction matrix,
    and the long tail: the bottom 10 % of items by warm-up streams."""
    spec = scenario.listeners
    warm = Log()
    warm_days = int(np.ceil(spec.warmup_days))
    rng_warm = np.random.default_rng([scenario.seed, 3])

    def browse(users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lists = np.argsort(rng_warm.random((users.size, n_items)), axis=1)[:, :k]
        return lists, np.zeros(lists.shape)
    for day in range(warm_days):
        simulate_day(world, day, browse, rng_warm, warm, t0=t0 - warm_days * DAY)
        say("warm-up listening", day + 1, warm_days)
    history = warm.frames()[2]
    x0 = interactions(history, spec.count, n_items)
    long_tail = np.zeros(n_items, dtype=bool)
    long_tail[bottom_share(np.asarray(x0.sum(axis=0)).ravel(), 0.10)] = True
    return history, x0, long_tail


def listen(name: str, world: World, scenario: Scenario, history: pd.DataFrame, x0: Any, long_tail: np.ndarray,
           group: np.ndarray, k: int, t0: float, say: Progress, als: dict[str, float] | None = None) -> ArmRun:
    """One arm's listening from t0 on: its recommender fitted on the warm-up and refitted monthly
    on everything the arm has seen; the same random stream as every other arm."""
    spec = scenario.listeners
    n_items = group.size
    kind = "popularity" if name == "archive" else scenario.recommender.kind
    rerank = reranking(scenario, name)
    if name == "ours" and als is not None and scenario.recommender.popularity_blend is not None:
        als = {**als, "blend": scenario.recommender.popularity_blend}
    rng = np.random.default_rng([scenario.seed, 4])
    model = _fit(kind, x0, scenario.seed, als)
    arm = ArmRun(name, Log(), model)
    days = int(np.ceil(spec.days))
    for day in range(days):
        if day and day % 30 == 0:
            streams = pd.concat([history, *arm.log.streams], ignore_index=True)
            arm.model = model = _fit(kind, interactions(streams, spec.count, n_items), scenario.seed, als)
        simulate_day(world, day, ranker(model, k, group, rerank=rerank, familiarity=world.population.familiarity,
                                         long_tail=long_tail, rng=rng), rng, arm.log, t0=t0)
        say(f"listening ({name})", day + 1, days)
    return arm


def run(scenario: Scenario, chain: Chain, store: ContentStore, out: Path, progress: Progress | None = None) -> dict[str, Any]:
    started = time.monotonic()
    say = progress or (lambda stage, done, total: None)
    out.mkdir(parents=True, exist_ok=True)
    say("registering the catalogue on the chain", 0, 1)
    cat = catalogue_mod.build(chain, store, scenario.catalogue, scenario.seed)
    say("registering the catalogue on the chain", 1, 1)
    group, heritage = cat.item_group, cat.is_heritage
    n_items, spec = len(cat.items), scenario.listeners
    world = make_world(spec, group, heritage, scenario.seed)
    t0 = float(chain.w3.eth.get_block("latest")["timestamp"]) + 3600
    k = min(spec.list_length, n_items)

    history, x0, long_tail = warm_up(world, scenario, n_items, k, t0, say)
    say("choosing ALS hyper-parameters on the warm-up", 0, 1)
    als, tuning = tune_als(history, spec.count, n_items, scenario.seed)
    say("choosing ALS hyper-parameters on the warm-up", 1, 1)
    arms = {name: listen(name, world, scenario, history, x0, long_tail, group, k, t0, say, als) for name in ARMS}

    # Settlement: the archive arm by the manual regime, the others on the node.
    for name, arm in arms.items():
        streams = arm.log.frames()[2]
        if name == "archive":
            arm.settled = settle_manual(streams, cat, scenario.manual, scenario.price_wei, t0=t0,
                                        epoch_days=scenario.epoch_days, seed=scenario.seed)
        else:
            arm_t0 = float(chain.w3.eth.get_block("latest")["timestamp"]) + 3600
            shifted = streams.assign(time=streams["time"] - t0 + arm_t0)
            total, done = len(shifted), [0]

            def tick(n: int, name: str = name, total: int = total, done: list[int] = done) -> None:
                done[0] += n
                say(f"settling on chain ({name})", done[0], total)
            arm.settled = settle_onchain(shifted, cat, chain, scenario.onchain, scenario.price_wei, t0=arm_t0,
                                         epoch_days=scenario.epoch_days, progress=tick)
    summary = _report(scenario, cat, world, arms, long_tail, out)
    summary["als"] = {"chosen": als, "validation_ndcg@20": tuning}
    summary["seconds"] = round(time.monotonic() - started, 1)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float))
    return summary


# ---------------------------------------------------------------------- report
def _fairness(payouts: pd.DataFrame, communities: int) -> pd.DataFrame:
    """Gini, Theil T and Jain over the communities' payouts, per epoch and over the whole run."""
    rows = []
    com = payouts[payouts["kind"] == "community"]
    for epoch, part in [*com.groupby("epoch"), ("all", com)]:
        x = np.zeros(communities)
        sums = part.groupby("index")["wei"].sum()
        x[sums.index.to_numpy(dtype=int)] = sums.to_numpy()
        rows.append({"epoch": epoch, "gini": gini(x), "theil_t": theil_t(x), "jain": jain(x), "paid_wei": float(x.sum())})
    return pd.DataFrame(rows)


def _engagement(world: World, arms: dict[str, ArmRun], long_tail: np.ndarray, group: np.ndarray,
                scenario: Scenario) -> dict[str, dict[str, float]]:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng([scenario.seed, 5])
    n_users = world.population.taste.shape[0]
    sample = np.sort(rng.choice(n_users, size=min(n_users, 1_000), replace=False))
    n_items = group.size
    relevant = truly_relevant(world, sample, n_items)
    out: dict[str, dict[str, float]] = {}
    k100 = min(100, n_items)
    for name, arm in arms.items():
        rank = ranker(arm.model, k100, group, rerank=reranking(scenario, name), familiarity=world.population.familiarity,
                       long_tail=long_tail, rng=rng)
        lists, _ = rank(sample)
        _, impressions, streams = arm.log.frames()
        stream = impressions["dwell"].to_numpy() >= 30.0
        shown = np.bincount(impressions["item"].to_numpy(), minlength=n_items).astype(float)
        out[name] = {
            "ndcg@20": ndcg_at_k(lists, relevant, min(20, n_items)),
            "ndcg@100": ndcg_at_k(lists, relevant, k100),
            "coverage@100_bottom10": coverage_at_k(lists, k100, np.flatnonzero(long_tail)),
            "exposure_gini_items": gini(shown),
            "exposure_gini_communities": gini(np.bincount(group[impressions["item"].to_numpy()], minlength=int(group.max()) + 1)),
            "dwell_auc": float(roc_auc_score(stream, impressions["score"].to_numpy())) if 0 < stream.mean() < 1 else float("nan"),
            "streams": float(len(streams)),
            "streams_per_session": float(len(streams) / max(len(arm.log.frames()[0]), 1)),
        }
    return out


def truly_relevant(world: World, users: np.ndarray, n_items: int) -> list[set[int]]:
    """Per user, the items the hidden taste model ranks in its top 5 %: what NDCG is scored against."""
    truth = world.utility(users, np.tile(np.arange(n_items), (users.size, 1)))
    return [set(np.argsort(-row)[: max(1, n_items // 20)].tolist()) for row in truth]


def _cox(arms: dict[str, ArmRun]) -> dict[str, float]:
    return cox_abandonment(arms["unconditioned"].log.frames()[0], arms["ours"].log.frames()[0])


def cox_abandonment(unconditioned: pd.DataFrame, ours: pd.DataFrame) -> dict[str, float]:
    """Cox proportional hazards of session abandonment: ours vs unconditioned (two session
    tables), adjusted for familiarity and device; time is the number of items reached."""
    from lifelines import CoxPHFitter

    frames = []
    for name, s in (("unconditioned", unconditioned), ("ours", ours)):
        frames.append(pd.DataFrame({"duration": s["items_reached"].clip(lower=1), "event": s["abandoned"].astype(int),
                                    "ours": int(name == "ours"), "familiarity": s["familiarity"],
                                    **{f"device_{d}": (s["device"] == d).astype(int) for d in sorted(s["device"].unique())[1:]}}))
    data = pd.concat(frames, ignore_index=True)
    fitter = CoxPHFitter().fit(data, duration_col="duration", event_col="event")
    summary = fitter.summary.loc["ours"]
    return {"hazard_ratio": float(summary["exp(coef)"]), "ci_low": float(summary["exp(coef) lower 95%"]),
            "ci_high": float(summary["exp(coef) upper 95%"]), "p": float(summary["p"]), "sessions": float(len(data))}


def _retention_brier(arms: dict[str, ArmRun], days: int, seed: int) -> dict[str, float]:
    """Brier score of a logistic model predicting whether a listener is active in the last quarter
    of the run from the first half (sessions, streams, familiarity); fit on half the listeners."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import brier_score_loss

    out = {}
    for name, arm in arms.items():
        sessions, _, _ = arm.log.frames()
        first = sessions[sessions["day"] < days / 2].groupby("listener").agg(n=("session", "size"), reached=("items_reached", "mean"),
                                                                             fam=("familiarity", "first"))
        late = set(sessions.loc[sessions["day"] >= 0.75 * days, "listener"])
        if len(first) < 20:
            continue
        y = np.array([lid in late for lid in first.index])
        if y.all() or not y.any():
            continue
        rng = np.random.default_rng([seed, 6])
        train = rng.random(len(first)) < 0.5
        model = LogisticRegression().fit(first[train].to_numpy(), y[train])
        out[name] = float(brier_score_loss(y[~train], model.predict_proba(first[~train].to_numpy())[:, 1]))
    return out


def _report(scenario: Scenario, cat: catalogue_mod.SimulatedCatalogue, world: World, arms: dict[str, ArmRun],
            long_tail: np.ndarray, out: Path) -> dict[str, Any]:
    group = cat.item_group
    n_comm = len(cat.communities)
    fairness = {}
    latency = {}
    for name, arm in arms.items():
        assert arm.settled is not None
        s = arm.settled
        f = _fairness(s.payouts, n_comm)
        f.insert(0, "arm", name)
        fairness[name] = f
        latency[name] = s.latency_days
        s.payouts.assign(arm=name).to_parquet(out / f"payouts_{name}.parquet")
        sessions, _, streams = arm.log.frames()
        streams.to_parquet(out / f"streams_{name}.parquet")
        sessions.to_parquet(out / f"sessions_{name}.parquet")
    fair = pd.concat(fairness.values(), ignore_index=True)
    fair.to_csv(out / "fairness_per_epoch.csv", index=False)
    pd.concat([pd.DataFrame({"arm": name, "latency_days": lat}) for name, lat in latency.items()],
              ignore_index=True).to_parquet(out / "latency.parquet")  # one row per settled usage event
    engagement = _engagement(world, arms, long_tail, group, scenario)
    cox = _cox(arms)
    brier = _retention_brier(arms, int(np.ceil(scenario.listeners.days)), scenario.seed)

    def total(name: str, col: str) -> float:
        row = fairness[name][fairness[name]["epoch"] == "all"]
        return float(row[col].iloc[0])

    table: dict[str, dict[str, float]] = {}
    for name, arm in arms.items():
        assert arm.settled is not None
        s = arm.settled
        table[name] = {
            "median settlement days": float(np.median(s.latency_days)) if s.latency_days.size else float("nan"),
            "p90 settlement days": float(np.percentile(s.latency_days, 90)) if s.latency_days.size else float("nan"),
            "Jain (communities)": total(name, "jain"),
            "Theil T (communities)": total(name, "theil_t"),
            "Gini (communities)": total(name, "gini"),
            "provenance traceability": s.traceable,
            "on-chain failure rate": float(s.extra.get("failure_rate", float("nan"))),
            "gas per usage event": float(s.extra.get("gas_per_event", float("nan"))),
            **engagement[name],
            "retention Brier": brier.get(name, float("nan")),
        }
    t2 = pd.DataFrame(table)
    t2.to_csv(out / "table2.csv", index_label="measure")
    _plots(out, latency, fair, arms, cat)
    summary = {
        "scenario": scenario.model_dump(mode="json"),
        "catalogue": {"communities": n_comm, "works": len(cat.items), "heritage": int(cat.is_heritage.sum())},
        "table2": table,
        "cox_abandonment_ours_vs_unconditioned": cox,
        "settlement": {name: {"events": a.settled.events, "unsettled": a.settled.unsettled, **a.settled.extra}
                       for name, a in arms.items() if a.settled is not None},
    }
    return summary


def _plots(out: Path, latency: dict[str, np.ndarray], fair: pd.DataFrame, arms: dict[str, ArmRun],
           cat: catalogue_mod.SimulatedCatalogue) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, lat in latency.items():
        if lat.size:
            ax.hist(lat, bins=60, alpha=0.6, label=f"{name} (median {np.median(lat):.2f} d)", density=True)
    ax.set_xlabel("days from usage to credit")
    ax.set_ylabel("density")
    ax.set_title("Settlement latency per regime")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "latency.png", dpi=120)
    plt.close(fig)

    per_epoch = fair[fair["epoch"] != "all"]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    for ax, col in zip(axes, ("gini", "theil_t", "jain"), strict=True):
        for arm_name, part in per_epoch.groupby("arm"):
            ax.plot(part["epoch"].astype(int), part[col], marker="o", label=str(arm_name))
        ax.set_title(col)
        ax.set_xlabel("epoch")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(out / "indices_per_epoch.png", dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.8 / len(arms)
    x = np.arange(len(cat.communities))
    for j, (name, arm) in enumerate(arms.items()):
        _, impressions, _ = arm.log.frames()
        shown = np.bincount(cat.item_group[impressions["item"].to_numpy()], minlength=len(cat.communities))
        ax.bar(x + j * width, shown / max(shown.sum(), 1), width, label=name)
    ax.set_xticks(x + 0.4 - width / 2, cat.communities, rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("share of impressions")
    ax.set_title("Exposure per community")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "exposure_per_community.png", dpi=120)
    plt.close(fig)

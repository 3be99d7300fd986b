"""The economy's Pareto tuning: per-listener re-ranking strength, the study on a real anvil
(stored, resumed, the scenario's default first), payouts routed by the router's rule, the
chosen-point rule and the report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import optuna
import pytest
from typer.testing import CliRunner

from chain.client import connect
from cli.main import app
from core.blockstore import open_store
from economy import tuning, tuning_report
from economy.scenario import RecommenderSpec
from economy.simulate import listener_strength
from ml.recommendation.baselines import RecommendationInputError, top_k
from ml.recommendation.rerank import exposure_rerank
from tests.python.economy.scenarios import scenario_in

TINY = """
name: tune-test
seed: 5
catalogue: {communities: 3, max_works_per_community: 6, derivative_share: 0.5}
listeners: {count: 80, days: 6, warmup_days: 4, sessions_per_week: 5}
"""


def _scores(users: int = 40, items: int = 60) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return rng.standard_normal((users, items)), rng.integers(0, 4, items)


def test_one_strength_per_user_equals_the_same_number_for_all() -> None:
    scores, group = _scores()
    one = exposure_rerank(scores, 10, group, strength=0.4, candidates=30)
    each = exposure_rerank(scores, 10, group, strength=np.full(scores.shape[0], 0.4), candidates=30)
    assert np.array_equal(one, each)


def test_a_user_with_strength_zero_gets_plain_relevance_among_reranked_users() -> None:
    scores, group = _scores()
    strength = np.where(np.arange(scores.shape[0]) % 2 == 0, 0.0, 0.9)
    lists = exposure_rerank(scores, 10, group, strength=strength, candidates=30)
    plain = top_k(scores, 10)
    assert np.array_equal(lists[::2], plain[::2])
    assert not np.array_equal(lists[1::2], plain[1::2])  # the others were re-ranked


@pytest.mark.parametrize("strength", [1.5, -0.1, float("nan")])
def test_a_strength_outside_0_1_is_named(strength: float) -> None:
    scores, group = _scores()
    with pytest.raises(RecommendationInputError, match="outside"):
        exposure_rerank(scores, 10, group, strength=np.full(scores.shape[0], strength))
    with pytest.raises(RecommendationInputError, match="one per user"):
        exposure_rerank(scores, 10, group, strength=np.zeros(3))


def test_familiarity_tilt() -> None:
    fam = np.array([0.0, 0.5, 1.0])

    def tilt(strength: float, tilt: float) -> np.ndarray:
        return listener_strength(RecommenderSpec(fair_strength=strength, familiarity_tilt=tilt), fam)
    assert np.allclose(tilt(0.5, 1.0), [0.0, 0.5, 1.0])
    assert np.allclose(tilt(0.5, -1.0), [1.0, 0.5, 0.0])
    assert np.allclose(tilt(0.8, 1.0), [0.0, 0.8, 1.0])  # clipped
    assert np.allclose(tilt(0.3, 0.0), 0.3)


def _trial(number: int, jain: float, ndcg: float, hr: float, lo: float, hi: float) -> optuna.trial.FrozenTrial:
    figures = {"jain": jain, "theil_t": 0.1, "ndcg@20": ndcg, "abandonment_hr": hr, "hr_ci_low": lo, "hr_ci_high": hi,
               "streams": 1.0}
    fd, idist = optuna.distributions.FloatDistribution, optuna.distributions.IntDistribution
    params = {"fair_strength": 0.1 * number, "candidates": 200, "tail_candidates": 20, "popularity_blend": 1.0,
              "familiarity_tilt": 0.0}
    distributions = {"fair_strength": fd(0, 1), "candidates": idist(50, 400, step=50), "tail_candidates": idist(0, 60),
                     "popularity_blend": fd(0, 4), "familiarity_tilt": fd(-1, 1)}
    return optuna.trial.create_trial(params=params, distributions=distributions, values=[jain, ndcg, hr],
                                     user_attrs={"tuning": figures, "heldout": figures, "seconds": 1.0})


def front_of_four() -> tuning.Front:
    """A front over four made-up trials against a baseline of Jain 0.5 and NDCG@20 0.60."""
    study = optuna.create_study(directions=list(tuning.DIRECTIONS))
    base = {"jain": 0.5, "ndcg@20": 0.60, "abandonment_hr": 1.0, "hr_ci_low": 0.9, "hr_ci_high": 1.1, "theil_t": 0.3}
    study.add_trials([
        _trial(0, 0.70, 0.61, 1.02, 0.95, 1.10),  # keeps NDCG, no significant rise: eligible
        _trial(1, 0.80, 0.60, 0.98, 0.90, 1.05),  # fairer, NDCG within 1 %: eligible, chosen
        _trial(2, 0.95, 0.40, 1.90, 1.70, 2.10),  # fairest, but costs listeners
        _trial(3, 0.60, 0.65, 0.70, 0.60, 0.80),  # fairer than the baseline and fewer abandon
    ])
    return tuning.front(study, {"tuning": base, "heldout": base})


def test_the_rule_picks_the_fairest_point_that_keeps_listeners() -> None:
    fr = front_of_four()
    assert fr.chosen is not None and fr.chosen["trial"] == 1
    assert fr.both_better == [3]
    text = tuning_report.markdown(fr, {"command": "x", "trials": 4, "sampler": "nsga2", "seed": 0, "scenario": "s",
                                       "seconds": 4.0, "seconds_per_trial": 1.0, "when": "now", "optuna": optuna.__version__})
    assert "trials 3" in text and "| 1 | 0.10 |" in text


def test_study_on_anvil_is_stored_resumed_and_starts_from_the_scenarios_settings(tmp_path: Path) -> None:
    scenario, settings = scenario_in(tmp_path, TINY)
    chain = connect(settings)
    try:
        st = tuning.stage(scenario, chain, open_store(settings), lambda *_: None)
    finally:
        chain.close()
    # The router's rule: every item's money reaches some community, never more than it was paid.
    assert st.shares.shape == (st.group.size, 3)
    assert (st.shares.sum(axis=1) > 0).all() and (st.shares.sum(axis=1) <= 1 + 1e-12).all()
    heritage = st.world.heritage
    assert (st.shares[heritage].argmax(axis=1) == st.group[heritage]).all()  # a heritage work pays its own community
    assert 0.3 < st.heldout.mean() < 0.7

    db = tmp_path / "study.db"
    study = tuning.run_study(st, 2, db, seed=1)
    first = study.trials[0]
    assert first.params["fair_strength"] == scenario.recommender.fair_strength
    assert first.params["popularity_blend"] == st.als["blend"]
    again = tuning.run_study(st, 3, db, seed=1)
    assert len(again.trials) == 3 and again.trials[0].values == first.values  # resumed, not restarted
    for t in again.trials:
        assert set(t.user_attrs["heldout"]) >= {"jain", "ndcg@20", "abandonment_hr"}
        assert 0 < t.user_attrs["heldout"]["jain"] <= 1
    # Strength 0 for everyone is the unconditioned arm itself: hazard ratio 1, the same payouts.
    same = tuning.evaluate(st, {"fair_strength": 0.0, "popularity_blend": st.als["blend"]})
    ref = tuning.reference(st)
    assert same["heldout"]["jain"] == pytest.approx(ref["heldout"]["jain"])
    assert same["heldout"]["abandonment_hr"] == pytest.approx(1.0, abs=1e-6)


def test_cli_refuses_an_unknown_sampler_and_writes_the_report(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(app, ["tune", "economy", "--sampler", "grid", "--data-dir", str(tmp_path / "d")])
    assert bad.exit_code != 0 and "nsga2 or tpe" in bad.output
    f = tmp_path / "s.yaml"
    f.write_text(TINY)
    ok = runner.invoke(app, ["tune", "economy", "--trials", "2", "--config", str(f), "--data-dir", str(tmp_path / "d"),
                             "--out", str(tmp_path / "r"), "--json"])
    assert ok.exit_code == 0, ok.output
    report = json.loads((tmp_path / "r" / "tuning_economy.json").read_text())
    assert len(report["trials"]) == 2 and report["rule"] == tuning.RULE
    assert (tmp_path / "r" / "tuning_economy.png").stat().st_size > 1000
    assert "Pareto front" in (tmp_path / "r" / "tuning.md").read_text()


def test_the_latest_front_is_the_data_directorys_then_the_shipped_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tuning_report, "SHIPPED", tmp_path / "none.json")
    assert tuning_report.latest(tmp_path) is None
    tuning_report.remember(front_of_four(), {"trials": 4}, tmp_path)
    found = tuning_report.latest(tmp_path)
    assert found is not None and found["source"] == "this data directory" and len(found["trials"]) == 4

"""The DNN-HMM hybrid on synthetic sequences, and its Viterbi against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from core.errors import InputError
from ml.recognition.dnn_hmm import DnnHmmClassifier, DnnHmmConfig, viterbi
from ml.recognition.gmm_hmm import GmmHmmClassifier, GmmHmmConfig
from tests.python.ml.recognition.test_gmm_hmm import _sequences


def test_viterbi_equals_the_best_of_all_paths() -> None:
    rng = np.random.default_rng(1)
    s, t = 3, 5
    log_start = np.log(rng.dirichlet(np.ones(s)))
    log_trans = np.log(rng.dirichlet(np.ones(s), size=s))
    log_emit = rng.normal(size=(t, s))
    best = max(log_start[p[0]] + log_emit[0, p[0]] + sum(log_trans[p[i - 1], p[i]] + log_emit[i, p[i]] for i in range(1, t))
               for p in itertools.product(range(s), repeat=t))
    assert viterbi(log_start, log_trans, log_emit) == pytest.approx(best)


def test_hybrid_learns_the_baselines_states_and_classifies() -> None:
    rng = np.random.default_rng(0)
    train, y = _sequences(rng, 40)
    test, y_test = _sequences(rng, 20)
    base = GmmHmmClassifier(GmmHmmConfig(n_states=3, n_mix=1, n_iter=10)).fit(train, y)
    hybrid = DnnHmmClassifier(base, DnnHmmConfig(hidden=(32, 32), epochs=15)).fit(train, y)
    accuracy = np.mean([p == t for p, t in zip(hybrid.predict(test), y_test, strict=True)])
    assert accuracy >= 0.95
    assert np.isclose(np.exp(hybrid.log_prior).sum(), 1.0)


def test_hybrid_needs_a_trained_baseline() -> None:
    with pytest.raises(InputError, match="baseline first"):
        DnnHmmClassifier(GmmHmmClassifier())


def test_batched_viterbi_equals_one_hmm_at_a_time() -> None:
    from ml.recognition.dnn_hmm import viterbi_batch

    rng = np.random.default_rng(2)
    n_hmms, s, t = 4, 3, 30
    log_start = np.log(rng.dirichlet(np.ones(s), size=n_hmms))
    log_trans = np.log(rng.dirichlet(np.ones(s), size=(n_hmms, s)))
    log_trans[0, 1, 0] = -np.inf  # a forbidden transition, as in left-to-right HMMs
    log_emit = rng.normal(size=(t, n_hmms, s))
    batched = viterbi_batch(log_start, log_trans, log_emit)
    one_by_one = [viterbi(log_start[i], log_trans[i], log_emit[:, i]) for i in range(n_hmms)]
    assert np.allclose(batched, one_by_one)

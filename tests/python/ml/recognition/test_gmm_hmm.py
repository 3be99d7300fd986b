"""The GMM-HMM baseline separates classes it can separate, on synthetic frame sequences."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InputError
from ml.recognition.gmm_hmm import GmmHmmClassifier, GmmHmmConfig, left_to_right


def _sequences(rng: np.random.Generator, n: int) -> tuple[list[np.ndarray], list[str]]:
    """Two 'instruments': frames drift through three regimes, at different means per class."""
    seqs, labels = [], []
    for i in range(n):
        lab = "a" if i % 2 == 0 else "b"
        offset = 0.0 if lab == "a" else 1.5
        parts = [rng.normal(offset + k, 1.0, size=(20, 6)) for k in range(3)]
        seqs.append(np.concatenate(parts))
        labels.append(lab)
    return seqs, labels


def test_separates_two_classes_and_aligns_states() -> None:
    rng = np.random.default_rng(0)
    train, y = _sequences(rng, 40)
    test, y_test = _sequences(rng, 20)
    clf = GmmHmmClassifier(GmmHmmConfig(n_states=3, n_mix=1, n_iter=10)).fit(train, y)
    accuracy = np.mean([p == t for p, t in zip(clf.predict(test), y_test, strict=True)])
    assert accuracy >= 0.95
    path = clf.states(test[0], "a")
    assert path[0] == 0 and np.all(np.diff(path) >= 0) and path[-1] == 2  # left to right through all states


def test_left_to_right_topology() -> None:
    start, trans = left_to_right(3)
    assert start.tolist() == [1, 0, 0] and np.allclose(trans.sum(axis=1), 1) and trans[2, 2] == 1 and trans[1, 0] == 0


def test_untrained_and_mismatched_input_are_clear_errors() -> None:
    with pytest.raises(InputError, match="not trained"):
        GmmHmmClassifier().log_likelihoods(np.zeros((5, 3)))
    with pytest.raises(InputError, match="one label per sequence"):
        GmmHmmClassifier().fit([np.zeros((5, 3))], ["a", "b"])

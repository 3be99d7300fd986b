"""The GMM-HMM baseline of timbre recognition: one left-to-right HMM with Gaussian-mixture
emissions per instrument, over standardised feature frames; a segment goes to the instrument
whose HMM gives it the highest log-likelihood (`hmmlearn`).

The DNN-HMM hybrid (`dnn_hmm.py`) reuses these HMMs' topology, transitions and Viterbi state
alignments, and replaces the mixtures by a network's state posteriors divided by state priors.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.errors import InputError
from ml.config import JsonConfig


@dataclass(frozen=True)
class GmmHmmConfig(JsonConfig):
    """States of each instrument's left-to-right HMM; emissions are diagonal-covariance Gaussian
    mixtures of `n_mix` components, trained by `n_iter` EM steps."""

    n_states: int = 3
    n_mix: int = 4
    n_iter: int = 15
    seed: int = 0



class Standardiser:
    """Per-dimension mean and scale from the training frames (a zero scale becomes 1)."""

    def __init__(self, frames: np.ndarray) -> None:
        self.mean = frames.mean(axis=0)
        std = frames.std(axis=0)
        self.scale = np.where(std > 1e-8, std, 1.0)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.asarray((x - self.mean) / self.scale, dtype=np.float64)


def left_to_right(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Start probabilities (shape (n,)) and a left-to-right transition matrix (n, n): stay or
    move one state on; the last state stays."""
    start = np.zeros(n)
    start[0] = 1.0
    trans = np.zeros((n, n))
    for i in range(n):
        if i + 1 < n:
            trans[i, i], trans[i, i + 1] = 0.5, 0.5
        else:
            trans[i, i] = 1.0
    return start, trans


class GmmHmmClassifier:
    def __init__(self, cfg: GmmHmmConfig = GmmHmmConfig()) -> None:
        self.cfg = cfg
        self.labels: list[str] = []
        self.models: dict[str, Any] = {}
        """hmmlearn GMMHMMs after `fit`; `SavedHmm`s (same attributes, hmmlearn imported on first use) after loading."""
        self.standardise: Standardiser | None = None

    def fit(self, sequences: Sequence[np.ndarray], labels: Sequence[str]) -> GmmHmmClassifier:
        """Train one HMM per label on its sequences (each shape (frames, dims))."""
        from hmmlearn.hmm import GMMHMM  # here, not at import: it pulls in scikit-learn (~1 s), which inference never needs

        if len(sequences) != len(labels) or not sequences:
            raise InputError("give one label per sequence, and at least one sequence")
        self.standardise = Standardiser(np.concatenate(sequences))
        self.labels = sorted(set(labels))
        for lab in self.labels:
            mine = [self.standardise(s) for s, y in zip(sequences, labels, strict=True) if y == lab]
            start, trans = left_to_right(self.cfg.n_states)
            model = GMMHMM(n_components=self.cfg.n_states, n_mix=self.cfg.n_mix, covariance_type="diag",
                           n_iter=self.cfg.n_iter, random_state=self.cfg.seed, init_params="", params="tmcw")
            model.startprob_, model.transmat_ = start, trans
            model.means_, model.covars_, model.weights_ = self._flat_start(mine)
            with warnings.catch_warnings():  # hmmlearn warns when an EM step's likelihood dips by rounding
                warnings.simplefilter("ignore")
                model.fit(np.concatenate(mine), lengths=[len(s) for s in mine])
            # A state no training sequence left has an all-zero row after EM: make it absorbing.
            trans = model.transmat_.copy()
            for i in np.flatnonzero(trans.sum(axis=1) < 0.5):
                trans[i, i] = 1.0
            model.transmat_ = trans
            self.models[lab] = model
        return self

    def _flat_start(self, sequences: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Initial emissions from a uniform segmentation: state k starts from the k-th of
        n_states equal chunks of every sequence, its mixtures spread by the chunk's deviation,
        so EM begins left to right instead of wherever k-means puts the states."""
        n, m = self.cfg.n_states, self.cfg.n_mix
        rng = np.random.default_rng(self.cfg.seed)
        chunks = [np.concatenate([np.array_split(s, n)[k] for s in sequences]) for k in range(n)]
        dims = sequences[0].shape[1]
        means = np.zeros((n, m, dims))
        covars = np.zeros((n, m, dims))
        for k, frames in enumerate(chunks):
            mu, sd = frames.mean(axis=0), frames.std(axis=0) + 1e-3
            means[k] = mu + 0.5 * sd * rng.standard_normal((m, dims)) * (m > 1)
            covars[k] = sd**2
        return means, covars, np.full((n, m), 1.0 / m)

    def log_likelihoods(self, sequence: np.ndarray) -> np.ndarray:
        """Log-likelihood of `sequence` (frames, dims) under each label's HMM: shape (labels,)."""
        if self.standardise is None:
            raise InputError("the classifier is not trained: call fit first")
        x = self.standardise(sequence)
        return np.array([self.models[lab].score(x) for lab in self.labels])

    def predict(self, sequences: Sequence[np.ndarray]) -> list[str]:
        return [self.labels[int(np.argmax(self.log_likelihoods(s)))] for s in sequences]

    def states(self, sequence: np.ndarray, label: str) -> np.ndarray:
        """The Viterbi state path of `sequence` through `label`'s HMM: shape (frames,), ints."""
        assert self.standardise is not None
        _, path = self.models[label].decode(self.standardise(sequence), algorithm="viterbi")
        return np.asarray(path, dtype=np.int64)


@dataclass
class SavedHmm:
    """A trained GMM-HMM's parameters as read from a model file, with hmmlearn's attribute names.
    The DNN-HMM needs only `startprob_` and `transmat_`; `score` and `decode` build the hmmlearn
    model on first use, so answering with a saved DNN-HMM never imports hmmlearn and scikit-learn."""

    n_states: int
    n_mix: int
    startprob_: np.ndarray
    transmat_: np.ndarray
    means_: np.ndarray
    covars_: np.ndarray
    weights_: np.ndarray
    _model: Any = None

    def hmmlearn(self) -> Any:
        if self._model is None:
            from hmmlearn.hmm import GMMHMM

            m = GMMHMM(n_components=self.n_states, n_mix=self.n_mix, covariance_type="diag", init_params="", params="")
            m.startprob_, m.transmat_ = self.startprob_, self.transmat_
            m.means_, m.covars_, m.weights_ = self.means_, self.covars_, self.weights_
            m.n_features = self.means_.shape[-1]
            self._model = m
        return self._model

    def score(self, x: np.ndarray) -> float:
        return float(self.hmmlearn().score(x))

    def decode(self, x: np.ndarray, algorithm: str = "viterbi") -> tuple[float, np.ndarray]:
        logprob, path = self.hmmlearn().decode(x, algorithm=algorithm)
        return float(logprob), np.asarray(path)

"""The DNN-HMM hybrid: a network's state posteriors, divided by the state priors, as the HMMs'
emission scores, decoded with Viterbi.

Training follows the classic hybrid recipe: the GMM-HMM baseline aligns every training frame to
a state of its instrument's HMM (Viterbi); a feed-forward network (the seed's 5 × 1,024 hidden
layers by default) learns those states with a softmax over all instruments' states; at test time
log p(state | frame) − log p(state) is a scaled log-likelihood, and each instrument's HMM (its
transitions from the baseline) scores the segment by Viterbi. The segment goes to the best.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from core.errors import InputError
from ml.config import JsonConfig
from ml.recognition.gmm_hmm import GmmHmmClassifier
from ml.runtime import seeded
from ml.training_loop import fit


@dataclass(frozen=True)
class DnnHmmConfig(JsonConfig):
    hidden: tuple[int, ...] = field(default=(1024,) * 5)
    """Hidden layer widths: the seed's 5 × 1,024 by default."""
    epochs: int = 8
    batch: int = 256
    lr: float = 1e-3
    dropout: float = 0.1
    seed: int = 0



def state_network(dims: int, states: int, hidden: Sequence[int], dropout: float) -> nn.Sequential:
    """Frames (B, dims) → state logits (B, states): Linear-ReLU-Dropout blocks, then a linear layer."""
    layers: list[nn.Module] = []
    width = dims
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(dropout)]
        width = h
    layers.append(nn.Linear(width, states))
    return nn.Sequential(*layers)


def viterbi(log_start: np.ndarray, log_trans: np.ndarray, log_emit: np.ndarray) -> float:
    """Best path log-score: log_start (S,), log_trans (S, S), log_emit (T, S) → float."""
    score = log_start + log_emit[0]
    for t in range(1, log_emit.shape[0]):
        score = np.max(score[:, None] + log_trans, axis=0) + log_emit[t]
    return float(np.max(score))


def viterbi_batch(log_start: np.ndarray, log_trans: np.ndarray, log_emit: np.ndarray) -> np.ndarray:
    """`viterbi` for L independent HMMs of S states at once, one pass over the frames:
    log_start (L, S), log_trans (L, S, S), log_emit (T, L, S) → best path log-scores (L,)."""
    score = log_start + log_emit[0]  # (L, S)
    for t in range(1, log_emit.shape[0]):
        score = np.max(score[:, :, None] + log_trans, axis=1) + log_emit[t]
    return np.asarray(score.max(axis=1))


class DnnHmmClassifier:
    def __init__(self, baseline: GmmHmmClassifier, cfg: DnnHmmConfig = DnnHmmConfig()) -> None:
        if baseline.standardise is None:
            raise InputError("train the GMM-HMM baseline first: the hybrid learns its state alignments")
        self.baseline, self.cfg = baseline, cfg
        self.n = baseline.cfg.n_states
        self.labels = baseline.labels
        self.net: nn.Sequential | None = None
        self.log_prior = np.zeros(self.n * len(self.labels))
        self._hmm_logs: tuple[np.ndarray, np.ndarray] | None = None

    def fit(self, sequences: Sequence[np.ndarray], labels: Sequence[str]) -> DnnHmmClassifier:
        """Align each (frames, dims) sequence with the baseline, then train the network on the states."""
        assert self.baseline.standardise is not None
        index = {lab: i for i, lab in enumerate(self.labels)}
        frames = np.concatenate([self.baseline.standardise(s) for s in sequences]).astype(np.float32)  # (N, D)
        targets = np.concatenate([index[y] * self.n + self.baseline.states(s, y) for s, y in zip(sequences, labels, strict=True)])
        counts = np.bincount(targets, minlength=self.n * len(self.labels)) + 1.0  # add-one: no state has prior 0
        self.log_prior = np.log(counts / counts.sum())
        gen = seeded(self.cfg.seed)
        net = state_network(frames.shape[1], self.n * len(self.labels), self.cfg.hidden, self.cfg.dropout)
        opt = torch.optim.Adam(net.parameters(), lr=self.cfg.lr)
        x, y = torch.from_numpy(frames), torch.from_numpy(targets.astype(np.int64))
        fit(net, lambda b: (nn.functional.cross_entropy(net(x[b]), y[b]), len(b)),  # (B, S) logits vs (B,)
            items=len(x), epochs=self.cfg.epochs, batch_size=self.cfg.batch, opt=opt, gen=gen)
        self.net = net
        return self

    def scores(self, sequence: np.ndarray) -> np.ndarray:
        """Viterbi log-score of `sequence` (frames, dims) under each instrument: shape (labels,)."""
        if self.net is None or self.baseline.standardise is None:
            raise InputError("the hybrid is not trained: call fit first")
        with torch.inference_mode():
            x = torch.from_numpy(self.baseline.standardise(sequence).astype(np.float32))
            log_post = torch.log_softmax(self.net(x), dim=1).numpy()  # (T, L·S)
        scaled = log_post - self.log_prior  # log p(frame | state) up to a per-frame constant
        log_start, log_trans = self._logs()
        return viterbi_batch(log_start, log_trans, scaled.reshape(len(scaled), len(self.labels), self.n))

    def _logs(self) -> tuple[np.ndarray, np.ndarray]:
        """Every instrument's log start (L, S) and log transitions (L, S, S), computed once."""
        if self._hmm_logs is None:
            models = [self.baseline.models[lab] for lab in self.labels]
            with np.errstate(divide="ignore"):
                self._hmm_logs = (np.log(np.stack([m.startprob_ for m in models])), np.log(np.stack([m.transmat_ for m in models])))
        return self._hmm_logs

    def predict(self, sequences: Sequence[np.ndarray]) -> list[str]:
        return [self.labels[int(np.argmax(self.scores(s)))] for s in sequences]

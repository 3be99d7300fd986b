"""Synthetic 'instruments' and tiny models trained on them in seconds, for the invariance and
robustness tests: a reed (odd harmonics, steady) and a pluck (every harmonic, decaying notes)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ml.data.preprocess import prepare
from ml.recognition.dnn_hmm import DnnHmmClassifier, DnnHmmConfig
from ml.recognition.features import FeatureConfig, mfcc_context
from ml.recognition.gmm_hmm import GmmHmmClassifier, GmmHmmConfig
from ml.recognition.model import Recogniser, load, save

SR = 22_050
INSTRUMENTS = ("pluck", "reed")


def melody(instrument: str, *, seconds: float = 9.5, sr: int = SR, seed: int = 0) -> np.ndarray:
    """Notes of 0.25–0.5 s on random pitches (110–440 Hz): (n,) float32, peak 0.5."""
    rng = np.random.default_rng(seed)
    n = round(seconds * sr)
    y = np.zeros(n)
    t0 = 0
    while t0 < n:
        length = int(rng.uniform(0.25, 0.5) * sr)
        f = 110 * 2 ** (rng.integers(0, 24) / 12)
        t = np.arange(min(length, n - t0)) / sr
        if instrument == "reed":
            note = sum(np.sin(2 * np.pi * f * h * t) / h for h in (1, 3, 5, 7, 9)) * np.minimum(1, t / 0.03)
        else:
            note = sum(np.sin(2 * np.pi * f * h * t) / h**0.5 for h in range(1, 9)) * np.exp(-t * 6)
        y[t0: t0 + len(t)] += note
        t0 += length
    y += 0.003 * rng.standard_normal(n)
    return np.asarray(0.5 * y / np.max(np.abs(y)), dtype=np.float32)


def train_tiny_recogniser(path: Path, *, clips: int = 3, seed: int = 0) -> Recogniser:
    """A DNN-HMM (one hidden layer of 16) on `clips` melodies per instrument, saved at `path` and
    read back as `heritage recognize` reads it. About a second on one core."""
    cfg = FeatureConfig()
    seqs, labels = [], []
    for lab in INSTRUMENTS:
        for i in range(clips):
            for seg in prepare(melody(lab, seed=100 * seed + i), sample_rate=SR, cfg=cfg.preprocess()).voiced:
                seqs.append(mfcc_context(seg, cfg=cfg))
                labels.append(lab)
    gmm = GmmHmmClassifier(GmmHmmConfig(n_states=2, n_mix=1, n_iter=3, seed=seed)).fit(seqs, labels)
    dnn = DnnHmmClassifier(gmm, DnnHmmConfig(hidden=(16,), epochs=2, seed=seed)).fit(seqs, labels)
    save(dnn, path, learned_from=[])
    return load(path)


@contextmanager
def one_thread() -> Iterator[None]:
    """`ml.runtime.reproducible(threads=1)` for a test module, the previous torch settings restored after
    (one thread: the tiny models are 10× faster on a shared 2-core machine than with two)."""
    import torch

    from ml.runtime import reproducible

    before = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    reproducible(threads=1)
    try:
        yield
    finally:
        torch.set_num_threads(before[0])
        torch.use_deterministic_algorithms(before[1])

"""Deep autoencoder features: reconstruction training, supervised fine-tuning, the codes."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InputError
from ml.recognition.autoencoder import AutoencoderConfig, AutoencoderFeatures, logmel_context


def _two_timbres(n: int, rng: np.random.Generator) -> tuple[list[np.ndarray], list[str]]:
    """Sequences of 40-dim frames: class a has energy in the low half, class b in the high."""
    seqs, labels = [], []
    for i in range(n):
        x = rng.normal(0, 0.3, size=(60, 40)).astype(np.float32)
        x[:, :20 if i % 2 == 0 else 40][:, (0 if i % 2 == 0 else 20):] += 2.0
        seqs.append(x)
        labels.append("a" if i % 2 == 0 else "b")
    return seqs, labels


def test_pretraining_learns_to_reconstruct_and_finetuning_separates_the_codes() -> None:
    rng = np.random.default_rng(0)
    seqs, labels = _two_timbres(20, rng)
    cfg = AutoencoderConfig(hidden=(32,), bottleneck=4, pretrain_epochs=6, finetune_epochs=4, batch=64)
    ae = AutoencoderFeatures(cfg)
    with pytest.raises(InputError, match="pre-train"):
        ae.finetune(seqs, labels)
    ae.pretrain(seqs, labels)
    assert ae.stage == "unsupervised"
    pre = ae.losses["pretrain"]
    assert pre[-1] < 0.6 * pre[0]
    codes = ae.encode(seqs[0])
    assert codes.shape == (60, 4) and codes.dtype == np.float32
    ae.finetune(seqs, labels)
    assert ae.stage == "supervised"
    a = np.concatenate([ae.encode(s) for s, y in zip(seqs, labels, strict=True) if y == "a"]).mean(axis=0)
    b = np.concatenate([ae.encode(s) for s, y in zip(seqs, labels, strict=True) if y == "b"]).mean(axis=0)
    spread = np.concatenate([ae.encode(s) for s in seqs]).std(axis=0).mean()
    assert np.linalg.norm(a - b) > spread  # the classes' codes lie apart
    assert ae.reconstruction_error(seqs[0]) < 1.0


def test_logmel_context_stacks_neighbours() -> None:
    y = np.sin(2 * np.pi * 440 * np.arange(22_050) / 22_050).astype(np.float32)
    x = logmel_context(y, context=2)
    assert x.shape[1] == 128 * 5
    assert np.array_equal(x[10, 2 * 128: 3 * 128], x[9, 3 * 128: 4 * 128])  # frame t sits at the centre of row t


def test_untrained_encoder_refuses() -> None:
    with pytest.raises(InputError, match="not trained"):
        AutoencoderFeatures().encode(np.zeros((3, 640), dtype=np.float32))

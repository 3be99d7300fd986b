"""Tiny models for the Studio's tests, trained in seconds and named as ml/defaults.py names them, so a
test points HERITAGE_MODELS_DIR at their folder: recognition and classification on synthetic
instruments, a score reader whose every frame is one note, a generator fitted on three Han songs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ml import defaults
from tests.python.ml.synthetic import INSTRUMENTS, SR, melody, train_tiny_recogniser

HAN = "chinese_pentatonic"


def tiny_models(folder: Path) -> list[str]:
    """Tiny recognition, classification, score-reading and generation models in `folder`, as
    ml/defaults.py names them; the ABC of the three songs the generator learned from."""
    from ml.classification.audio import AudioModelConfig, train_model
    from ml.classification.saved import prepared_patches, save
    from ml.data.corpora import essen
    from ml.data.preprocess import prepare
    from ml.generation.encoding import encode_content
    from ml.generation.model import ModelSize
    from ml.generation.piece import SmallModel, fit_on_works
    from ml.generation.train import TrainConfig
    from ml.omr.model import OmrConfig, SeedOmr, TrainedOmr
    from ml.omr.saved import save as save_omr
    from ml.omr.tokens import VOCABULARY
    from ml.tradition import load_tradition

    train_tiny_recogniser(folder / defaults.FILES["recognition"])
    x = [prepared_patches(prepare(melody(lab, seed=i), sample_rate=SR)) for lab in INSTRUMENTS for i in range(2)]
    y = [lab for lab, p in zip([lab for lab in INSTRUMENTS for _ in range(2)], x, strict=True) for _ in range(len(p))]
    save(folder / defaults.FILES["classification/tradition"], "tradition",
         [train_model("cnn", np.concatenate(x), y, AudioModelConfig(cnn_channels=(4, 4, 4, 4), embed=8, epochs=1, batch=4))],
         learned_from=[])
    cfg = OmrConfig(channels=(4, 8), hidden=8, layers=1)
    net = SeedOmr(cfg)
    with torch.no_grad():  # a reader whose every frame is one note: about the job, not the reader's accuracy
        net.out.weight.zero_()
        net.out.bias.zero_()
        net.out.bias[VOCABULARY.ids["note-A4-whole"]] = 10.0
    save_omr(folder / defaults.FILES["omr"], TrainedOmr("seed", net, cfg), learned_from=[], metrics={"clean_symbol_error_rate": 0.5})
    songs = sorted(essen(("Chinese Han",)), key=lambda p: p.cid)[:3]
    t = load_tradition(HAN)
    small = SmallModel(ModelSize(n_layer=1, n_head=2, n_embd=16, block_size=64, dropout=0.0), TrainConfig(epochs=2))
    fit_on_works([encode_content(s.abc.encode(), tradition=t, cid=s.cid) for s in songs], tradition=t,
                 size=small, path=folder / defaults.FILES["generation"])
    return [s.abc for s in songs]

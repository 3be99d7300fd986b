"""A trained timbre recogniser on disk, and recognition of a recording with it.

The file holds the GMM-HMMs (start, transitions, mixtures), the feature standardiser, the
DNN-HMM's network weights and state priors, the labels and the feature settings, as tensors and
plain values (`torch.load(weights_only=True)` reads it: no pickled code). Its CID (`file_cid`)
is the model's identity in manifests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.cid import file_cid
from core.errors import InputError, ModelError
from ml.data.preprocess import SILENCE, Prepared, PreprocessConfig, prepare, prepare_file
from ml.recognition.dnn_hmm import DnnHmmClassifier, DnnHmmConfig, state_network
from ml.recognition.features import FeatureConfig, mfcc_context
from ml.recognition.gmm_hmm import GmmHmmClassifier, GmmHmmConfig, SavedHmm, Standardiser
from ml.saved import cached, read_saved, write_saved

FORMAT = "heritage-ledger/timbre-dnn-hmm/1"


def save(dnn: DnnHmmClassifier, path: Path, *, learned_from: list[str], preprocess: PreprocessConfig | None = None) -> None:
    """Write the hybrid (and its baseline) to `path`, with the preprocessing it was trained through
    (default: `FeatureConfig().preprocess()`), which `load` repeats at inference."""
    base = dnn.baseline
    if dnn.net is None or base.standardise is None:
        raise ModelError("the model is not trained: nothing to save")
    hmms = {lab: {k: torch.from_numpy(np.asarray(getattr(m, k + "_"), dtype=np.float64))
                  for k in ("startprob", "transmat", "means", "covars", "weights")} for lab, m in base.models.items()}
    write_saved({"format": FORMAT, "labels": base.labels, "features": FeatureConfig().to_json(), "gmm": base.cfg.to_json(),
                "dnn": {**dnn.cfg.to_json(), "hidden": list(dnn.cfg.hidden)}, "hmms": hmms,
                "mean": torch.from_numpy(base.standardise.mean), "scale": torch.from_numpy(base.standardise.scale),
                "log_prior": torch.from_numpy(dnn.log_prior), "net": dnn.net.state_dict(), "learned_from": learned_from,
                "preprocess": (preprocess or FeatureConfig().preprocess()).to_json()}, path)


@dataclass
class Recogniser:
    dnn: DnnHmmClassifier
    features: FeatureConfig
    learned_from: list[str]
    preprocess: PreprocessConfig

    @property
    def labels(self) -> list[str]:
        return self.dnn.labels

    def recognise(self, y: np.ndarray, *, sample_rate: int) -> list[dict[str, float]]:
        """Instrument probabilities for each 3-s segment of y ((n,) or (n, channels) at sample_rate
        Hz), after the model's own preprocessing (`ml.data.preprocess`); a silent segment is
        {"silence": 1.0}.

        The probabilities are a softmax over each instrument's Viterbi score per frame: a ranking
        with a confidence, not a calibrated probability."""
        return self.recognise_prepared(prepare(y, sample_rate=sample_rate, cfg=self.preprocess))

    def recognise_file(self, path: Path) -> list[dict[str, float]]:
        """`recognise` of a recording on disk (WAV, FLAC, OGG, MP3, AIFF)."""
        return self.recognise_prepared(prepare_file(path, cfg=self.preprocess))

    def recognise_prepared(self, prepared: Prepared) -> list[dict[str, float]]:
        out: list[dict[str, float]] = []
        for seg, silent in zip(prepared.segments, prepared.silent, strict=True):
            if silent:
                out.append({SILENCE: 1.0})
                continue
            x = mfcc_context(seg, cfg=self.features)  # (frames, 143)
            s = self.dnn.scores(x) / len(x)
            p = np.exp(s - s.max())
            p /= p.sum()
            out.append({lab: float(v) for lab, v in zip(self.labels, p, strict=True)})
        return out


def load(path: Path) -> Recogniser:
    """Read a model `save` wrote; a missing or foreign file is an InputError saying what to do."""
    d = read_saved(path, what="recognition model", formats=(FORMAT,), command="heritage recognition evaluate")
    gcfg = GmmHmmConfig(**d["gmm"])
    base = GmmHmmClassifier(gcfg)
    base.labels = list(d["labels"])
    base.standardise = Standardiser(np.zeros((1, 1)))
    base.standardise.mean, base.standardise.scale = d["mean"].numpy(), d["scale"].numpy()
    for lab, h in d["hmms"].items():
        base.models[lab] = SavedHmm(gcfg.n_states, gcfg.n_mix, *(h[k].numpy() for k in ("startprob", "transmat", "means", "covars",
                                                                                           "weights")))
    dcfg = DnnHmmConfig(**{**d["dnn"], "hidden": tuple(d["dnn"]["hidden"])})
    dnn = DnnHmmClassifier(base, dcfg)
    dnn.log_prior = d["log_prior"].numpy()
    net = state_network(len(base.standardise.mean), len(base.labels) * gcfg.n_states, dcfg.hidden, dcfg.dropout)
    net.load_state_dict(d["net"])
    net.eval()
    dnn.net = net
    features = FeatureConfig(**d["features"])
    pre = PreprocessConfig.from_json(d.get("preprocess"), sample_rate=features.sample_rate, segment_s=features.segment_s)
    return Recogniser(dnn, features, list(d["learned_from"]), pre)


def load_once(path: Path) -> Recogniser:
    """`load`, kept in memory for the life of the process (the API's workers call this): a file
    changed on disk (size or modification time) is read again."""
    return cached(path, load)


@dataclass(frozen=True)
class ModelFacts:
    """What a manifest says about a saved model: its architecture (the file's format tag), the
    content CIDs it learned from, and its settings as JSON values."""

    architecture: str
    learned_from: list[str]
    parameters: dict[str, Any]


def describe(path: Path) -> ModelFacts:
    """Read the manifest facts of a DNN-HMM (`save`) or transfer-CNN (`transfer.SourceModel.save`)
    file; anything else is an InputError."""
    from ml.recognition.transfer import FORMAT as CNN_FORMAT

    d = read_saved(path, what="saved model", formats=(FORMAT, CNN_FORMAT), command="heritage recognition evaluate")
    fmt = d["format"]
    if "learned_from" not in d:
        raise InputError(f"{path} does not say what the model learned from: give a file `heritage recognition evaluate` wrote")
    if fmt == FORMAT:
        params = {"labels": list(d["labels"]), "features": d["features"], "gmm": d["gmm"], "dnn": d["dnn"]}
    else:
        params = {"source_labels": list(d["labels"]), "cnn": d["cnn"], "source_instruments": list(d.get("source_instruments", []))}
    return ModelFacts(str(fmt), [str(c) for c in d["learned_from"]], params)


REPORT_KEYS = {"timbre-dnn-hmm": ("model", "DNN-HMM"), "transfer-cnn": ("cnn_model", "CNN-transfer (mid+high) + SVM")}
"""Architecture name (after "recognition/") → (the report's key of the saved model, its results' variant)."""


def report_metrics(report: Path, *, model: Path, architecture: str) -> dict[str, float]:
    """The cross-family error rates `heritage recognition evaluate`'s report (recognition.json) gives
    the saved `model` (of `architecture`, as `describe` reads it), for its manifest; empty when the
    report is missing, is of another model file, or has no cross-family result."""
    if not report.exists():
        return {}
    r = json.loads(report.read_text())
    where, variant = REPORT_KEYS[architecture.split("/")[1]]
    other = r.get("results", {}).get(variant, {}).get("test, other family (TimGM6mb)")
    if r.get(where, {}).get("cid") != file_cid(model) or not other:
        return {}
    return {"cross_family_segment_error_rate": other["segment_error_rate"],
            "cross_family_clip_error_rate": other["clip_error_rate"]}

"""A trained timbre recogniser on disk, and recognition of a recording with it.

The file holds the GMM-HMMs (start, transitions, mixtures), the feature standardiser, the
DNN-HMM's network weights and state priors, the labels and the feature settings, as tensors and
plain values (`torch.load(weights_only=True)` reads it: no pickled code). Its CID (`file_cid`)
is the model's identity in manifests.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hmmlearn.hmm import GMMHMM

from core.errors import InputError, ModelError
from ml.recognition.dnn_hmm import DnnHmmClassifier, DnnHmmConfig, state_network
from ml.recognition.features import FeatureConfig, mfcc_context, segments
from ml.recognition.gmm_hmm import GmmHmmClassifier, GmmHmmConfig, Standardiser
from ml.saved import read_saved

FORMAT = "heritage-ledger/timbre-dnn-hmm/1"


def save(dnn: DnnHmmClassifier, path: Path, *, learned_from: list[str]) -> None:
    """Write the hybrid (and its baseline) to `path`."""
    base = dnn.baseline
    if dnn.net is None or base.standardise is None:
        raise ModelError("the model is not trained: nothing to save")
    hmms = {lab: {k: torch.from_numpy(np.asarray(getattr(m, k + "_"), dtype=np.float64))
                  for k in ("startprob", "transmat", "means", "covars", "weights")} for lab, m in base.models.items()}
    torch.save({"format": FORMAT, "labels": base.labels, "features": FeatureConfig().to_json(), "gmm": base.cfg.to_json(),
                "dnn": {**dnn.cfg.to_json(), "hidden": list(dnn.cfg.hidden)}, "hmms": hmms,
                "mean": torch.from_numpy(base.standardise.mean), "scale": torch.from_numpy(base.standardise.scale),
                "log_prior": torch.from_numpy(dnn.log_prior), "net": dnn.net.state_dict(), "learned_from": learned_from}, path)


@dataclass
class Recogniser:
    dnn: DnnHmmClassifier
    features: FeatureConfig
    learned_from: list[str]

    @property
    def labels(self) -> list[str]:
        return self.dnn.labels

    def recognise(self, y: np.ndarray) -> list[dict[str, float]]:
        """Instrument probabilities for each 3-s segment of mono `y` (shape (n,), at 22,050 Hz).

        The probabilities are a softmax over each instrument's Viterbi score per frame: a ranking
        with a confidence, not a calibrated probability."""
        out = []
        for seg in segments(y, cfg=self.features):
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
        m = GMMHMM(n_components=gcfg.n_states, n_mix=gcfg.n_mix, covariance_type="diag", init_params="", params="")
        m.startprob_, m.transmat_ = h["startprob"].numpy(), h["transmat"].numpy()
        m.means_, m.covars_, m.weights_ = h["means"].numpy(), h["covars"].numpy(), h["weights"].numpy()
        m.n_features = m.means_.shape[-1]
        base.models[lab] = m
    dcfg = DnnHmmConfig(**{**d["dnn"], "hidden": tuple(d["dnn"]["hidden"])})
    dnn = DnnHmmClassifier(base, dcfg)
    dnn.log_prior = d["log_prior"].numpy()
    net = state_network(len(base.standardise.mean), len(base.labels) * gcfg.n_states, dcfg.hidden, dcfg.dropout)
    net.load_state_dict(d["net"])
    net.eval()
    dnn.net = net
    return Recogniser(dnn, FeatureConfig(**d["features"]), list(d["learned_from"]))


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

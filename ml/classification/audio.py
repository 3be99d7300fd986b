"""Audio folk-song classification (style, region, …) from log-mel spectrograms: the audio path of issue 7.

The seed study (GTZAN) combined a CNN, an RNN and an LSTM, and fed CNN features to an SVM
(CNN 84.27 % → CNN+SVM 87.21 %). Here, on the same kinds of task and string labels as
`ml.classification.symbolic` so the two paths can be set side by side:

- Inputs: log-mel patches from `ml.recognition.features` (22,050 Hz, FFT 1,024, hop 512,
  128 mel bands, dB), shape (N, n_mels, T frames); `logmel_patches` gives T = 128 per 3-s segment.
  Each model standardises its input by one mean and one deviation of its training set (as
  `transfer.py` does): a per-band deviation would blow the noise of near-silent bands up to the
  scale of the music.
- Models (`KINDS`), each (B, n_mels, T) → logits (B, classes): `MelCnn` (2-D convolutions over
  mel × time), `MelRnn` (a plain `nn.RNN` over frames), `MelLstm`, and `GluCrnn` (residual GLU
  1-D convolutions over time with mel bands as channels, squeeze-and-excitation, a bidirectional
  GRU and attention pooling). `cnn_svm` puts an RBF SVM on the CNN's (or CRNN's) embedding.
- Ensembles (`Ensemble`): soft voting, the mean of the members' class probabilities; stacking, a
  multinomial logistic regression on the members' probabilities concatenated, fitted on a
  validation set only — never on the members' own training predictions, which are over-confident.
- Augmentation lives in `ml.classification.mel_augment` (on log-mel, so it runs on cached features):
  same-class overlay, time stretch, pitch shift approximated by a mel-axis shift, band emphasis.
- `evaluate`: accuracy, macro-F1, recall per class and confusion (the fields of
  `symbolic.evaluate_task`'s "test"), and for an ensemble whether it beats its best member.
- A clip longer than one segment is scored by the mean of its segments' probabilities (`clip_proba`).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import torch
from torch import nn

from core.errors import InputError
from ml.layers import conv_pool_blocks
from ml.recognition.features import FeatureConfig
from ml.runtime import seeded
from ml.training_loop import fit

Kind = Literal["cnn", "rnn", "lstm", "crnn"]
KINDS: tuple[Kind, ...] = ("cnn", "rnn", "lstm", "crnn")


@dataclass(frozen=True)
class AudioModelConfig:
    """Training and size settings of every audio model; the defaults suit 128 × 128 patches."""

    n_mels: int = FeatureConfig().n_mels
    epochs: int = 20
    batch: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    dropout: float = 0.3
    clip_grad: float = 5.0
    """Gradients are clipped to this global norm, a guard against the plain RNN's exploding gradients."""
    balanced: bool = True
    """Weight the loss by inverse class frequency, as the symbolic models weight classes."""
    seed: int = 0
    cnn_channels: tuple[int, ...] = (16, 32, 64, 128)
    """One Conv2d-BN-ReLU-MaxPool(2) block each: inputs need at least 2**len frames and mel bands."""
    embed: int = 128
    """Width of the CNN's embedding (the SVM's features)."""
    rnn_hidden: int = 128
    rnn_layers: int = 2
    crnn_channels: int = 128
    crnn_blocks: int = 3
    crnn_kernel: int = 3
    crnn_pool: int = 2
    """Time pooling after each GLU block: inputs need at least crnn_pool**crnn_blocks frames."""
    se_reduction: int = 8
    gru_hidden: int = 64
    attention: int = 64

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "cnn_channels": list(self.cnn_channels)}

    def min_frames(self, kind: Kind) -> int:
        if kind == "cnn":
            return int(2 ** len(self.cnn_channels))
        return int(self.crnn_pool**self.crnn_blocks) if kind == "crnn" else 1


# ----------------------------------------------------------------------------------------------
# Models: (B, n_mels, T) → logits (B, classes)
# ----------------------------------------------------------------------------------------------

class MelCnn(nn.Module):
    """2-D CNN over (mel, time): k Conv2d(3 × 3)-BN-ReLU-MaxPool(2) blocks → (B, C, n_mels / 2^k, T / 2^k);
    mean- and max-pooled over time only, so the register (which bands) survives → (B, 2·C·n_mels / 2^k);
    a ReLU layer to the embedding (B, embed); a linear output. Any T ≥ 2^k frames."""

    def __init__(self, classes: int, cfg: AudioModelConfig = AudioModelConfig()) -> None:
        super().__init__()
        self.blocks = nn.Sequential(*conv_pool_blocks(cfg.cnn_channels))
        width = cfg.cnn_channels[-1] if cfg.cnn_channels else 1
        bands = cfg.n_mels // 2 ** len(cfg.cnn_channels)
        self.project = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(2 * width * bands, cfg.embed), nn.ReLU())
        self.out = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(cfg.embed, classes))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """(B, n_mels, T) → (B, embed)."""
        h = self.blocks(x[:, None])  # (B, C, n_mels / 2^k, T / 2^k)
        pooled = torch.cat([h.mean(dim=3), h.amax(dim=3)], dim=1)  # (B, 2C, n_mels / 2^k)
        return self.project(pooled.flatten(1))  # type: ignore[no-any-return]  # (B, 2C · n_mels / 2^k) → (B, embed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.embed(x))  # type: ignore[no-any-return]


class _Recurrent(nn.Module):
    """A recurrent net over mel frames (B, T, n_mels); the readout joins the top layer's last output
    and its mean over time (B, 2·hidden), then a linear output."""

    def __init__(self, rnn: nn.RNNBase, classes: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.rnn = rnn
        self.out = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * hidden, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.rnn(x.transpose(1, 2))  # (B, T, hidden)
        return self.out(torch.cat([h[:, -1], h.mean(dim=1)], dim=1))  # type: ignore[no-any-return]


class MelRnn(_Recurrent):
    """Plain (Elman, tanh) `nn.RNN` of rnn_layers × rnn_hidden over frames: (B, n_mels, T) → (B, classes)."""

    def __init__(self, classes: int, cfg: AudioModelConfig = AudioModelConfig()) -> None:
        rnn = nn.RNN(cfg.n_mels, cfg.rnn_hidden, cfg.rnn_layers, batch_first=True, dropout=cfg.dropout if cfg.rnn_layers > 1 else 0.0)
        super().__init__(rnn, classes, cfg.rnn_hidden, cfg.dropout)


class MelLstm(_Recurrent):
    """`nn.LSTM` of rnn_layers × rnn_hidden over frames: (B, n_mels, T) → (B, classes)."""

    def __init__(self, classes: int, cfg: AudioModelConfig = AudioModelConfig()) -> None:
        rnn = nn.LSTM(cfg.n_mels, cfg.rnn_hidden, cfg.rnn_layers, batch_first=True, dropout=cfg.dropout if cfg.rnn_layers > 1 else 0.0)
        super().__init__(rnn, classes, cfg.rnn_hidden, cfg.dropout)


class SqueezeExcite(nn.Module):
    """Channel gates from the time-mean: (B, C, T) → (B, C, T), each channel scaled by a sigmoid in (0, 1)."""

    def __init__(self, channels: int, reduction: int) -> None:
        super().__init__()
        inner = max(1, channels // reduction)
        self.gate = nn.Sequential(nn.Linear(channels, inner), nn.ReLU(), nn.Linear(inner, channels), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gates: torch.Tensor = self.gate(x.mean(dim=2))  # (B, C)
        return x * gates[:, :, None]  # (B, C, T)


class GluBlock(nn.Module):
    """Residual gated linear unit: x + SE(GLU(Conv1d(BN(x)))), scaled by √½; (B, C, T) → (B, C, T)."""

    def __init__(self, channels: int, kernel: int, reduction: int, dropout: float) -> None:
        super().__init__()
        self.norm = nn.BatchNorm1d(channels)
        self.conv = nn.Conv1d(channels, 2 * channels, kernel, padding=kernel // 2)
        self.se = SqueezeExcite(channels, reduction)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = nn.functional.glu(self.conv(self.norm(x)), dim=1)  # (B, 2C, T) → (B, C, T)
        gated: torch.Tensor = self.drop(self.se(h))  # (B, C, T)
        return (x + gated) * math.sqrt(0.5)


class GluCrnn(nn.Module):
    """Mel bands as channels: a 1 × 1 Conv1d (B, n_mels, T) → (B, C, T); crnn_blocks × (GluBlock,
    MaxPool1d(crnn_pool)) → (B, C, T′), T′ = T / crnn_pool^blocks; a bidirectional GRU → (B, T′, 2H);
    attention pooling (a_t = softmax_t wᵀ tanh(W h_t)) → the embedding (B, 2H); a linear output."""

    def __init__(self, classes: int, cfg: AudioModelConfig = AudioModelConfig()) -> None:
        super().__init__()
        c = cfg.crnn_channels
        self.inp = nn.Conv1d(cfg.n_mels, c, 1)
        self.blocks = nn.ModuleList(GluBlock(c, cfg.crnn_kernel, cfg.se_reduction, cfg.dropout) for _ in range(cfg.crnn_blocks))
        self.pool = nn.MaxPool1d(cfg.crnn_pool)
        self.gru = nn.GRU(c, cfg.gru_hidden, batch_first=True, bidirectional=True)
        self.score = nn.Sequential(nn.Linear(2 * cfg.gru_hidden, cfg.attention), nn.Tanh(), nn.Linear(cfg.attention, 1, bias=False))
        self.out = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(2 * cfg.gru_hidden, classes))

    def attend(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, n_mels, T) → (embedding (B, 2H), attention weights over the pooled frames (B, T′), rows sum to 1)."""
        h = self.inp(x)  # (B, C, T)
        for block in self.blocks:
            h = self.pool(block(h))  # (B, C, T / pool)
        seq, _ = self.gru(h.transpose(1, 2))  # (B, T′, 2H)
        weights = torch.softmax(self.score(seq).squeeze(2), dim=1)  # (B, T′)
        return (weights[:, :, None] * seq).sum(dim=1), weights  # (B, 2H), (B, T′)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """(B, n_mels, T) → (B, 2·gru_hidden)."""
        return self.attend(x)[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.embed(x))  # type: ignore[no-any-return]


_NETS: dict[str, Callable[[int, AudioModelConfig], nn.Module]] = {"cnn": MelCnn, "rnn": MelRnn, "lstm": MelLstm, "crnn": GluCrnn}


# ----------------------------------------------------------------------------------------------
# Training and inference
# ----------------------------------------------------------------------------------------------

class Member(Protocol):
    """Anything an ensemble can hold: a name, its class names (sorted), and probabilities (N, classes)."""

    @property
    def name(self) -> str: ...

    @property
    def labels(self) -> list[str]: ...

    def proba(self, x: np.ndarray) -> np.ndarray: ...


@dataclass
class Trained:
    """A trained model with its input standardisation (mean and std of the training log-mels, dB) and
    sorted class names."""

    kind: Kind
    net: nn.Module
    cfg: AudioModelConfig
    labels: list[str]
    mean: float
    std: float
    train_seconds: float = 0.0
    losses: tuple[float, ...] = ()

    @property
    def name(self) -> str:
        return self.kind

    def proba(self, x: np.ndarray) -> np.ndarray:
        """Log-mel x (N, n_mels, T) in dB → class probabilities (N, classes), columns in `labels` order."""
        return np.asarray(torch.softmax(self._run(x, self.net), dim=1).numpy(), dtype=np.float64)

    def embed(self, x: np.ndarray) -> np.ndarray:
        """Log-mel x (N, n_mels, T) → embeddings (N, d): d = cfg.embed (cnn) or 2·cfg.gru_hidden (crnn)."""
        net = self.net
        if not isinstance(net, MelCnn | GluCrnn):
            raise InputError(f"a {self.kind} model has no embedding: train a 'cnn' or 'crnn' model for SVM features")
        return np.asarray(self._run(x, net.embed).numpy(), dtype=np.float64)

    def _run(self, x: np.ndarray, fn: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
        _check_x(x, self.cfg, self.kind)
        self.net.eval()
        step = 4 * self.cfg.batch
        with torch.inference_mode():
            out = [fn(self._tensor(x[i: i + step])) for i in range(0, len(x), step)]
        return torch.cat(out)

    def _tensor(self, x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(((x - self.mean) / self.std).astype(np.float32))  # (B, n_mels, T)


def train_model(kind: str, x: np.ndarray, y: Sequence[str], cfg: AudioModelConfig = AudioModelConfig(),
                progress: Callable[[int, int], None] | None = None) -> Trained:
    """Train a `kind` model ("cnn", "rnn", "lstm" or "crnn") on log-mel x (N, n_mels, T) in dB, one
    string label each (at least two classes), with Adam and cross-entropy for cfg.epochs epochs.

    progress(epoch, epochs) is called after each epoch. Augment beforehand (`augment`) if wanted.
    Raises InputError for an unknown kind, a malformed x, or labels that do not match it.
    """
    if kind not in KINDS:
        raise InputError(f"unknown model kind {kind!r}; choose one of {', '.join(KINDS)}")
    if cfg.n_mels < 2 ** len(cfg.cnn_channels) and kind == "cnn":
        raise InputError(f"{cfg.n_mels} mel bands are too few for {len(cfg.cnn_channels)} pooling blocks: "
                         f"use fewer cnn_channels or at least {2 ** len(cfg.cnn_channels)} bands")
    _check_x(x, cfg, kind)
    labels = check_labels(y, len(x))
    names = sorted(set(labels))
    if len(names) < 2:
        raise InputError(f"only one class ({names[0]!r}) in the training labels: give examples of at least two")
    mean = float(x.mean(dtype=np.float64))
    std = float(x.std(dtype=np.float64)) or 1.0
    gen = seeded(cfg.seed)
    trained = Trained(kind, _NETS[kind](len(names), cfg), cfg, names, mean, std)
    xt = trained._tensor(x)  # (N, n_mels, T)
    index = {lab: i for i, lab in enumerate(names)}
    yt = torch.tensor([index[lab] for lab in labels])  # (N,)
    counts = torch.bincount(yt, minlength=len(names)).double()
    weight = (len(yt) / (len(names) * counts)).float() if cfg.balanced else None  # (classes,)
    opt = torch.optim.Adam(trained.net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)

    def batch_loss(b: torch.Tensor) -> tuple[torch.Tensor, float] | None:
        if len(b) < 2:
            return None  # BatchNorm cannot train on a batch of one: a lone last item sits this epoch out
        return nn.functional.cross_entropy(trained.net(xt[b]), yt[b], weight=weight), len(b)

    fitted = fit(trained.net, batch_loss, items=len(xt), epochs=cfg.epochs, batch_size=cfg.batch, opt=opt, gen=gen,
                 clip_grad=cfg.clip_grad, mean_over=len(xt), progress=progress)
    trained.train_seconds = fitted.seconds
    trained.losses = fitted.losses
    return trained


@dataclass
class SvmMember:
    """An RBF SVM (transfer.svm: standardised features, C = 10) on a trained CNN's or CRNN's embedding,
    its decision values mapped to probabilities by Platt (sigmoid) calibration over cross-validation folds."""

    embedder: Trained
    classifier: Any
    labels: list[str]

    @property
    def name(self) -> str:
        return f"{self.embedder.kind}_svm"

    def proba(self, x: np.ndarray) -> np.ndarray:
        """Log-mel x (N, n_mels, T) → probabilities (N, classes) in `labels` order."""
        return _aligned(self.classifier.predict_proba(self.embedder.embed(x)), list(self.classifier.classes_), self.labels)


def cnn_svm(trained_cnn: Trained, x: np.ndarray, y: Sequence[str], *, folds: int = 5) -> SvmMember:
    """Fit the seed's CNN+SVM: the SVM on `trained_cnn.embed(x)` (N, d), one label each. x may be the
    CNN's own training set (the seed's recipe) or a held-out one. Every class needs at least two
    examples, for the calibration folds (at most `folds`)."""
    from sklearn.calibration import CalibratedClassifierCV

    from ml.recognition.transfer import svm  # here: scikit-learn (and pandas) cost ~1 s that a saved model's answer never needs

    labels = check_labels(y, len(x))
    fewest = min(Counter(labels).values())
    if fewest < 2 or len(set(labels)) < 2:
        raise InputError(f"the SVM needs two classes with at least two examples each (counts {dict(Counter(labels))}): "
                         "give more labelled examples")
    if unknown := sorted(set(labels) - set(trained_cnn.labels)):
        raise InputError(f"labels {unknown} are not classes of the {trained_cnn.kind} model: give labels it was trained on")
    classifier = CalibratedClassifierCV(svm(), method="sigmoid", cv=min(folds, fewest), ensemble=False)
    classifier.fit(trained_cnn.embed(x), np.array(labels))
    return SvmMember(trained_cnn, classifier, list(trained_cnn.labels))


def clip_proba(member: Member, clips: Sequence[np.ndarray]) -> np.ndarray:
    """Each clip's probabilities, the mean over its segments: clips[i] is (k_i ≥ 1, n_mels, T), as
    `logmel_patches` cuts a recording into 3-s segments → (len(clips), classes)."""
    if not clips or any(np.ndim(c) != 3 or len(c) == 0 for c in clips):
        raise InputError("give one (segments, n_mels, frames) array per clip, each with at least one segment "
                         "(ml.recognition.features.logmel_patches makes them)")
    p = member.proba(np.concatenate(list(clips)))  # (Σk, classes)
    bounds = np.cumsum([0, *(len(c) for c in clips)])
    return np.stack([p[a:b].mean(axis=0) for a, b in itertools.pairwise(bounds)])


# ----------------------------------------------------------------------------------------------
# Ensembles
# ----------------------------------------------------------------------------------------------

@dataclass
class Ensemble:
    """Members' probabilities combined. Soft vote: their mean. Stack: a multinomial logistic regression
    (`stacker`) on their concatenated probabilities (N, members · classes), fitted on a validation set."""

    members: tuple[Member, ...]
    rule: Literal["soft_vote", "stack"]
    labels: list[str]
    stacker: Any = None
    fitted_on: dict[str, Any] = field(default_factory=dict)
    """For a stack: what the stacker saw ({"split": "validation", "n": …})."""

    @property
    def name(self) -> str:
        return f"{self.rule}({'+'.join(m.name for m in self.members)})"

    @classmethod
    def soft_vote(cls, members: Sequence[Member]) -> Ensemble:
        return cls(tuple(members), "soft_vote", _shared_labels(members))

    @classmethod
    def stack(cls, members: Sequence[Member], x_val: np.ndarray, y_val: Sequence[str], *, c: float = 1.0) -> Ensemble:
        """Fit the stacker on the members' probabilities for x_val (N, n_mels, T) and its labels: a split
        none of the members trained on (their training predictions are over-confident, and a stacker
        fitted on them learns to trust whichever member overfits most). Score the result on test."""
        from sklearn.linear_model import LogisticRegression

        labels = _shared_labels(members)
        y = check_labels(y_val, len(x_val))
        if unknown := sorted(set(y) - set(labels)):
            raise InputError(f"validation labels {unknown} are not the members' classes: give labels they were trained on")
        if len(set(y)) < 2:
            raise InputError("the validation set has one class: the stacker needs at least two; use a stratified split")
        ensemble = cls(tuple(members), "stack", labels, fitted_on={"split": "validation", "n": len(y)})
        ensemble.stacker = LogisticRegression(C=c, max_iter=5000).fit(ensemble._features(x_val), np.array(y))
        return ensemble

    def proba(self, x: np.ndarray) -> np.ndarray:
        """Log-mel x (N, n_mels, T) → probabilities (N, classes) in `labels` order."""
        if self.rule == "soft_vote":
            return np.asarray(np.mean([m.proba(x) for m in self.members], axis=0), dtype=np.float64)
        return _aligned(self.stacker.predict_proba(self._features(x)), list(self.stacker.classes_), self.labels)

    def _features(self, x: np.ndarray) -> np.ndarray:
        return np.concatenate([m.proba(x) for m in self.members], axis=1)  # (N, members · classes)


def _shared_labels(members: Sequence[Member]) -> list[str]:
    if not members:
        raise InputError("an ensemble needs at least one member: train some models first")
    labels = list(members[0].labels)
    if any(list(m.labels) != labels for m in members):
        raise InputError(f"members have different classes ({[m.labels for m in members]}): train every member on the same labels")
    return labels


def _aligned(p: np.ndarray, classes: list[str], labels: list[str]) -> np.ndarray:
    """Columns of p (N, len(classes)) placed in `labels` order; a class the estimator never saw gets 0."""
    out = np.zeros((len(p), len(labels)))
    for j, c in enumerate(classes):
        out[:, labels.index(c)] = p[:, j]
    return out


# ----------------------------------------------------------------------------------------------
# Evaluation
# ----------------------------------------------------------------------------------------------

def evaluate(proba: np.ndarray, y_true: Sequence[str], labels: Sequence[str], *,
             members: Sequence[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Score probabilities (N, classes; columns in `labels` order; prediction = the arg-max) against
    the true labels: accuracy, macro_f1 (over all `labels`, 0 for a class never predicted or present),
    recall per class (None without support), confusion (rows true, columns predicted, `labels` order),
    n. With `members` (their `evaluate` results), adds best_member_macro_f1 and beats_best_member:
    whether this (ensemble) result's macro-F1 is strictly above every member's."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    classes = list(labels)
    y = check_labels(y_true, None)
    if np.ndim(proba) != 2 or np.shape(proba) != (len(y), len(classes)):
        raise InputError(f"probabilities of shape {np.shape(proba)}: give one row per true label and one column per class "
                         f"({len(y)}, {len(classes)})")
    if unknown := sorted(set(y) - set(classes)):
        raise InputError(f"true labels {unknown} are not among the classes {classes}: pass every class in `labels`")
    predicted = [classes[i] for i in np.asarray(proba).argmax(axis=1)]
    confusion = confusion_matrix(y, predicted, labels=classes)
    support = confusion.sum(axis=1)
    out: dict[str, Any] = {
        "classes": classes, "n": len(y),
        "accuracy": float(accuracy_score(y, predicted)),
        "macro_f1": float(f1_score(y, predicted, average="macro", labels=classes, zero_division=0)),
        "recall": {c: (float(confusion[i, i] / support[i]) if support[i] else None) for i, c in enumerate(classes)},
        "confusion": confusion.tolist(),
    }
    if members is not None:
        if not members:
            raise InputError("no member results to compare with: pass the members' `evaluate` results")
        out["best_member_macro_f1"] = max(float(m["macro_f1"]) for m in members)
        out["beats_best_member"] = out["macro_f1"] > out["best_member_macro_f1"]
    return out


# ----------------------------------------------------------------------------------------------
# Input checks
# ----------------------------------------------------------------------------------------------

def _check_x(x: np.ndarray, cfg: AudioModelConfig, kind: Kind) -> None:
    if not isinstance(x, np.ndarray) or x.ndim != 3:
        raise InputError(f"log-mel input of shape {np.shape(x)}: give an array (examples, n_mels, frames), "
                         "e.g. ml.recognition.features.logmel_patches of a recording")
    if len(x) == 0:
        raise InputError("no examples (an empty array): give at least one log-mel patch")
    if x.shape[1] != cfg.n_mels:
        raise InputError(f"{x.shape[1]} mel bands, but the model takes {cfg.n_mels}: compute features with "
                         f"FeatureConfig(n_mels={cfg.n_mels}) or set AudioModelConfig.n_mels")
    if x.shape[2] < cfg.min_frames(kind):
        raise InputError(f"{x.shape[2]} frames are too few for the {kind} model's pooling: give patches of at least "
                         f"{cfg.min_frames(kind)} frames (a 3-s segment has 128)")
    if not np.isfinite(x).all():
        raise InputError("the log-mel input holds NaN or infinite values: compute it with ml.recognition.features.logmel, "
                         "which floors silence at -100 dB")


def check_labels(y: Sequence[str], n: int | None) -> list[str]:
    """The labels as strings; InputError unless there are some and, with `n`, exactly n."""
    labels = [str(lab) for lab in y]
    if n is not None and len(labels) != n:
        raise InputError(f"{len(labels)} labels for {n} examples: give exactly one label per example")
    if not labels:
        raise InputError("no labels: give at least one labelled example")
    return labels

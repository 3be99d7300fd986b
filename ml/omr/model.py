"""Score recognition (optical music recognition) models: a staff-line image → its token sequence, by CTC.

Two models (`KINDS`), both images (B, 1, H, W) (ink 1, paper 0; `images_tensor` makes them from
`ml.omr.data` staff images) → log-probabilities (T, B, vocab) over `VOCABULARY` with the CTC
blank at id 0, T = W / 2**len(cfg.channels) (W / 4 by default), ready for
`nn.functional.ctc_loss`:

- `SeedOmr` ("seed"), after the seed study "AI-assisted cross-cultural delivery of traditional
  musical art forms": per stage a Haar-wavelet downsampling (`haar_downsample`: the four
  sub-bands of the orthonormal 2-D Haar transform stacked as channels, halving height and width
  exactly, no weights, nothing thrown away) → 3×3 convolution, batch norm, ReLU → a contour
  refinement layer (`ContourRefine`: parallel 1×k and k×1 convolutions, added, residual). The
  columns (channels × remaining rows) are projected to cfg.hidden and read by a bidirectional,
  multi-layer Simple Recurrent Unit (`Sru`, Lei et al. 2018), trained with focal CTC
  (`focal_ctc_loss`, cfg.gamma).
- `PlainCrnn` ("crnn"), the baseline: per stage 3×3 convolution, batch norm, ReLU, 2×2 max
  pooling; the same column projection; a bidirectional LSTM; plain CTC (γ = 0 whatever cfg.gamma).

`train` fits either; `TrainedOmr.predict` decodes greedily (`greedy_decode`: best class per
frame, repeats merged, blanks dropped). Metrics: `symbol_error_rate` and `note_scores`.
A batch's images are padded on the right with paper to its widest (rounded up to a multiple of
2**stages); the padding frames are not counted in a line's CTC input length, but the backward
recurrent direction does read them (as it reads a line's blank right margin).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from core.errors import InputError
from ml.omr.tokens import VOCABULARY
from ml.runtime import seeded
from ml.training_loop import fit

Kind = Literal["seed", "crnn"]
KINDS: tuple[Kind, ...] = ("seed", "crnn")


@dataclass(frozen=True)
class OmrConfig:
    """Sizes and training settings of both models; the defaults are small enough to train on a CPU."""

    height: int = 128
    """Image height in pixels; must be divisible by 2**len(channels)."""
    channels: tuple[int, ...] = (16, 32)
    """Output channels per downsampling stage; each stage halves height and width."""
    contour_kernel: int = 5
    """k of ContourRefine's 1×k and k×1 convolutions (odd)."""
    hidden: int = 64
    """Recurrent units per direction (and the size of the column projection)."""
    layers: int = 2
    dropout: float = 0.1
    vocab_size: int = len(VOCABULARY)
    gamma: float = 2.0
    """Focal CTC exponent of the seed model; 0 is plain CTC."""
    epochs: int = 30
    batch: int = 8
    lr: float = 1e-3
    weight_decay: float = 0.0
    clip_grad: float = 5.0
    seed: int = 0

    @property
    def reduction(self) -> int:
        """Width (and height) in pixels per output frame: 2**len(channels)."""
        return int(2 ** len(self.channels))


# ---------------------------------------------------------------- building blocks


def haar_downsample(x: torch.Tensor) -> torch.Tensor:
    """One level of the orthonormal 2-D Haar transform: (B, C, H, W) → (B, 4C, H/2, W/2).

    For each 2×2 block [[a, b], [c, d]]: LL = (a+b+c+d)/2, LH = (a+b−c−d)/2 (rows differ),
    HL = (a−b+c−d)/2 (columns differ), HH = (a−b−c+d)/2; channels ordered [LL of all C, LH…, HL…,
    HH…]. Orthonormal, so the energy (sum of squares) is kept and `haar_upsample` inverts it.
    H and W must be even.
    """
    if x.ndim != 4 or x.shape[2] % 2 or x.shape[3] % 2:
        raise InputError(f"haar_downsample takes (B, C, H, W) with even H and W, got {tuple(x.shape)}: pad or crop by one pixel")
    a, b = x[:, :, 0::2, 0::2], x[:, :, 0::2, 1::2]  # (B, C, H/2, W/2) each
    c, d = x[:, :, 1::2, 0::2], x[:, :, 1::2, 1::2]
    return torch.cat([a + b + c + d, a + b - c - d, a - b + c - d, a - b - c + d], dim=1) / 2  # (B, 4C, H/2, W/2)


def haar_upsample(y: torch.Tensor) -> torch.Tensor:
    """Inverse of `haar_downsample`: (B, 4C, H/2, W/2) → (B, C, H, W)."""
    if y.ndim != 4 or y.shape[1] % 4:
        raise InputError(f"haar_upsample takes (B, 4C, H/2, W/2), got {tuple(y.shape)}: give the output of haar_downsample")
    ll, lh, hl, hh = y.chunk(4, dim=1)  # (B, C, H/2, W/2) each
    b, ch, h, w = ll.shape
    x = y.new_empty(b, ch, 2 * h, 2 * w)
    x[:, :, 0::2, 0::2] = (ll + lh + hl + hh) / 2
    x[:, :, 0::2, 1::2] = (ll + lh - hl - hh) / 2
    x[:, :, 1::2, 0::2] = (ll - lh + hl - hh) / 2
    x[:, :, 1::2, 1::2] = (ll - lh - hl + hh) / 2
    return x


class ContourRefine(nn.Module):
    """relu(x + bn(conv_1×k(x) + conv_k×1(x))): horizontal strokes (staff lines, beams) and
    vertical ones (stems, barlines) each get a long thin kernel. (B, C, H, W) → same shape."""

    def __init__(self, channels: int, k: int) -> None:
        super().__init__()
        if k < 1 or k % 2 == 0:
            raise InputError(f"contour_kernel is {k}: give an odd size ≥ 1 (e.g. 5) so the shape is kept")
        self.wide = nn.Conv2d(channels, channels, (1, k), padding=(0, k // 2), bias=False)
        self.tall = nn.Conv2d(channels, channels, (k, 1), padding=(k // 2, 0), bias=False)
        self.norm = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.norm(self.wide(x) + self.tall(x)))  # (B, C, H, W)


class SruLayer(nn.Module):
    """One direction of a Simple Recurrent Unit layer (Lei et al. 2018), over (T, B, n_in) → (T, B, hidden):

        x̃_t = W x_t,  f_t = σ(W_f x_t + v_f ⊙ c_{t−1} + b_f),  r_t = σ(W_r x_t + v_r ⊙ c_{t−1} + b_r)
        c_t = f_t ⊙ c_{t−1} + (1 − f_t) ⊙ x̃_t,   h_t = r_t ⊙ c_t + (1 − r_t) ⊙ P x_t,   c_0 = 0

    The matrix products are done for all steps at once; only element-wise work is sequential.
    `weight` (n_in, k·hidden) holds [W | W_f | W_r] and, when n_in ≠ hidden, the projection P (k = 4);
    otherwise P is the identity (k = 3). `v` is (2, hidden) = [v_f; v_r], `bias` (2, hidden) = [b_f; b_r].
    """

    def __init__(self, n_in: int, hidden: int) -> None:
        super().__init__()
        self.hidden = hidden
        self.project = n_in != hidden
        k = 4 if self.project else 3
        self.weight = nn.Parameter(torch.empty(n_in, k * hidden))
        self.v = nn.Parameter(torch.empty(2, hidden))
        self.bias = nn.Parameter(torch.zeros(2, hidden))
        nn.init.xavier_uniform_(self.weight)
        nn.init.uniform_(self.v, -0.5, 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u = (x @ self.weight).chunk(4 if self.project else 3, dim=-1)  # each (T, B, hidden)
        x_tilde, uf, ur = u[0], u[1] + self.bias[0], u[2] + self.bias[1]
        skip = u[3] if self.project else x
        c = x.new_zeros(x.shape[1], self.hidden)  # (B, hidden)
        out = []
        for t in range(x.shape[0]):
            f = torch.sigmoid(uf[t] + self.v[0] * c)
            r = torch.sigmoid(ur[t] + self.v[1] * c)
            c = f * c + (1 - f) * x_tilde[t]
            out.append(r * c + (1 - r) * skip[t])
        return torch.stack(out)  # (T, B, hidden)


class Sru(nn.Module):
    """Bidirectional multi-layer SRU: (T, B, n_in) → (T, B, 2·hidden), the forward and backward
    directions concatenated; dropout between layers."""

    def __init__(self, n_in: int, hidden: int, layers: int, dropout: float = 0.0) -> None:
        super().__init__()
        if layers < 1:
            raise InputError(f"an SRU needs at least one layer, got {layers}")
        sizes = [n_in] + [2 * hidden] * (layers - 1)
        self.forward_layers = nn.ModuleList(SruLayer(n, hidden) for n in sizes)
        self.backward_layers = nn.ModuleList(SruLayer(n, hidden) for n in sizes)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, (fwd, bwd) in enumerate(zip(self.forward_layers, self.backward_layers, strict=True)):
            if i:
                x = self.dropout(x)
            x = torch.cat([fwd(x), bwd(x.flip(0)).flip(0)], dim=-1)  # (T, B, 2·hidden)
        return x


# ---------------------------------------------------------------- the two models


class _LineModel(nn.Module):
    """Shared frame: convolution stages, columns → cfg.hidden, a bidirectional recurrent layer, output."""

    def __init__(self, cfg: OmrConfig, stages: nn.Sequential, recurrent: nn.Module) -> None:
        super().__init__()
        if cfg.height % cfg.reduction:
            raise InputError(f"image height {cfg.height} is not divisible by {cfg.reduction} (2 per stage of {cfg.channels}): "
                             "choose a height that is, e.g. 128")
        self.stages = stages
        self.columns = nn.Linear(cfg.channels[-1] * (cfg.height // cfg.reduction), cfg.hidden)
        self.recurrent = recurrent
        self.dropout = nn.Dropout(cfg.dropout)
        self.out = nn.Linear(2 * cfg.hidden, cfg.vocab_size)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """images (B, 1, height, W), W divisible by cfg.reduction → log-probs (T, B, vocab), T = W / reduction."""
        f = self.stages(images)  # (B, C, H', T)
        b, c, h, t = f.shape
        seq = self.columns(f.permute(3, 0, 1, 2).reshape(t, b, c * h))  # (T, B, hidden)
        seq = self.recurrent(torch.relu(seq))  # (T, B, 2·hidden)
        return torch.log_softmax(self.out(self.dropout(seq)), dim=-1)  # (T, B, vocab)


class SeedOmr(_LineModel):
    """Haar downsampling + contour refinement stages, bidirectional SRU (module doc)."""

    def __init__(self, cfg: OmrConfig) -> None:
        blocks: list[nn.Module] = []
        c_in = 1
        for c_out in cfg.channels:
            blocks += [_Haar(), nn.Conv2d(4 * c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
                       ContourRefine(c_out, cfg.contour_kernel)]
            c_in = c_out
        super().__init__(cfg, nn.Sequential(*blocks), Sru(cfg.hidden, cfg.hidden, cfg.layers, cfg.dropout))


class PlainCrnn(_LineModel):
    """Convolution + max-pool stages, bidirectional LSTM (module doc)."""

    def __init__(self, cfg: OmrConfig) -> None:
        blocks: list[nn.Module] = []
        c_in = 1
        for c_out in cfg.channels:
            blocks += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]
            c_in = c_out
        super().__init__(cfg, nn.Sequential(*blocks), _BiLstm(cfg))


class _Haar(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return haar_downsample(x)


class _BiLstm(nn.Module):
    def __init__(self, cfg: OmrConfig) -> None:
        super().__init__()
        self.lstm = nn.LSTM(cfg.hidden, cfg.hidden, cfg.layers, dropout=cfg.dropout if cfg.layers > 1 else 0.0,
                            bidirectional=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lstm(x)[0]  # type: ignore[no-any-return]  # (T, B, 2·hidden)


_NETS: dict[Kind, Callable[[OmrConfig], _LineModel]] = {"seed": SeedOmr, "crnn": PlainCrnn}


# ---------------------------------------------------------------- loss and decoding


def focal_ctc_loss(log_probs: torch.Tensor, targets: torch.Tensor, input_lengths: torch.Tensor, target_lengths: torch.Tensor, *,
                   gamma: float) -> torch.Tensor:
    """Focal CTC: the batch mean of (1 − exp(−ℓ))^γ · ℓ, ℓ each sequence's CTC loss (−log p(target),
    summed over its frames, not divided by its length). γ = 0 is plain CTC; a larger γ lowers the
    weight of lines already read well (p near 1).

    log_probs (T, B, vocab), blank 0; targets (B, S) padded or (ΣS,) concatenated; lengths (B,).
    Impossible alignments (a line too long for its frames) count 0 (`zero_infinity`).
    """
    if gamma < 0:
        raise InputError(f"focal CTC gamma is {gamma}: give 0 (plain CTC) or more (2 is usual)")
    ctc = nn.functional.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="none",
                                 zero_infinity=True)  # (B,)
    if gamma == 0:
        return ctc.mean()
    return ((1 - torch.exp(-ctc)).clamp(min=0) ** gamma * ctc).mean()


def greedy_decode(log_probs: torch.Tensor, lengths: Sequence[int] | None = None) -> list[list[int]]:
    """Best path: log_probs (T, B, vocab) → per line the ids of the arg-max frames (the first
    lengths[b] of them), repeats merged and blanks (0) dropped."""
    best = log_probs.argmax(dim=-1).T.tolist()  # (B, T)
    out = []
    for b, path in enumerate(best):
        ids, previous = [], 0
        for i in path[: len(path) if lengths is None else lengths[b]]:
            if i != previous and i != 0:
                ids.append(int(i))
            previous = i
        out.append(ids)
    return out


# ---------------------------------------------------------------- training


def images_tensor(images: Sequence[NDArray[np.uint8]], cfg: OmrConfig) -> tuple[torch.Tensor, list[int]]:
    """Staff images (uint8 (height, W_i), 255 paper) → (B, 1, height, W) float, ink 1 and paper 0,
    padded on the right with paper to the widest rounded up to cfg.reduction; and each line's
    frame count ceil(W_i / reduction)."""
    for i, im in enumerate(images):
        if im.ndim != 2 or im.dtype != np.uint8 or im.shape[0] != cfg.height or im.shape[1] < 1:
            raise InputError(f"image {i} is {im.dtype} {im.shape}; the model takes grayscale uint8 (H, W) with H = cfg.height = "
                             f"{cfg.height}: render at that height or resize")
    r = cfg.reduction
    frames = [math.ceil(im.shape[1] / r) for im in images]
    x = torch.zeros(len(images), 1, cfg.height, max(frames, default=0) * r)
    for i, im in enumerate(images):
        x[i, 0, :, : im.shape[1]] = torch.from_numpy(1.0 - im.astype(np.float32) / 255.0)
    return x, frames


@dataclass
class TrainedOmr:
    """A trained model with its settings; `losses` holds each epoch's mean training loss, the first
    measured on the initial weights only when one batch covers the set."""

    kind: Kind
    net: _LineModel
    cfg: OmrConfig
    losses: tuple[float, ...] = ()
    train_seconds: float = 0.0

    def log_probs(self, images: Sequence[NDArray[np.uint8]]) -> tuple[torch.Tensor, list[int]]:
        """Log-probs (T, B, vocab) of staff images (uint8 (height, W_i)), with each line's frame count."""
        x, frames = images_tensor(images, self.cfg)
        self.net.eval()
        with torch.inference_mode():
            return self.net(x), frames

    def predict(self, images: Sequence[NDArray[np.uint8]]) -> list[list[int]]:
        """Greedy CTC decoding: token ids per image (`VOCABULARY.decode` gives the tokens)."""
        lp, frames = self.log_probs(images)
        return greedy_decode(lp, frames)


def train(kind: str, images: Sequence[NDArray[np.uint8]], token_ids: Sequence[Sequence[int]], cfg: OmrConfig = OmrConfig(),
          progress: Callable[[int, int], None] | None = None) -> TrainedOmr:
    """Train a `kind` model ("seed" or "crnn") on staff images (uint8 (cfg.height, W_i), widths may
    differ) and their token ids (`VOCABULARY.encode`, never the blank 0), with Adam for cfg.epochs
    epochs: focal CTC at cfg.gamma for "seed", plain CTC for "crnn". progress(epoch, epochs) is
    called after each epoch. Raises InputError for an unknown kind, malformed images or ids, or a
    line with more tokens than its image has frames for.
    """
    if kind not in KINDS:
        raise InputError(f"unknown OMR model kind {kind!r}; choose one of {', '.join(KINDS)}")
    if len(images) != len(token_ids) or not images:
        raise InputError(f"{len(images)} images and {len(token_ids)} token sequences: give one non-empty sequence per image")
    x, frames = images_tensor(images, cfg)
    for i, (ids, n) in enumerate(zip(token_ids, frames, strict=True)):
        if not ids or not all(0 < t < cfg.vocab_size for t in ids):
            raise InputError(f"line {i} has token ids {list(ids)[:5]}…: give non-empty ids in 1–{cfg.vocab_size - 1} "
                             "(VOCABULARY.encode)")
        needed = len(ids) + sum(a == b for a, b in itertools.pairwise(ids))  # a repeat needs a blank between
        if needed > n:
            raise InputError(f"line {i} has {len(ids)} tokens but its image gives only {n} frames (width / {cfg.reduction}): "
                             "render it wider or cut it shorter")
    gen = seeded(cfg.seed)
    trained = TrainedOmr(kind, _NETS[kind](cfg), cfg)
    gamma = cfg.gamma if kind == "seed" else 0.0
    opt = torch.optim.Adam(trained.net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    lengths = torch.tensor(frames)  # (N,)

    def batch_loss(batch: torch.Tensor) -> tuple[torch.Tensor, float]:
        b = batch.tolist()
        width = max(frames[j] for j in b) * cfg.reduction
        targets = torch.tensor([t for j in b for t in token_ids[j]])  # (ΣS,)
        target_lengths = torch.tensor([len(token_ids[j]) for j in b])  # (B,)
        lp = trained.net(x[b, :, :, :width])  # (T, B, vocab)
        return focal_ctc_loss(lp, targets, lengths[b], target_lengths, gamma=gamma), len(b)

    fitted = fit(trained.net, batch_loss, items=len(x), epochs=cfg.epochs, batch_size=cfg.batch, opt=opt, gen=gen,
                 clip_grad=cfg.clip_grad, progress=progress)
    trained.train_seconds = fitted.seconds
    trained.losses = fitted.losses
    return trained


# ---------------------------------------------------------------- metrics


def edit_distance(a: Sequence[str], b: Sequence[str]) -> int:
    """Levenshtein distance: the fewest insertions, deletions and substitutions turning a into b."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        diagonal, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (x != y))
    return row[-1]


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of a and b."""
    row = [0] * (len(b) + 1)
    for x in a:
        diagonal = 0
        for j, y in enumerate(b, 1):
            diagonal, row[j] = row[j], diagonal + 1 if x == y else max(row[j], row[j - 1])
    return row[-1]


def _check_pairs(pred: Sequence[Sequence[str]], truth: Sequence[Sequence[str]]) -> None:
    if len(pred) != len(truth):
        raise InputError(f"{len(pred)} predicted lines and {len(truth)} true ones: give one prediction per line")


def symbol_error_rate(pred: Sequence[Sequence[str]], truth: Sequence[Sequence[str]]) -> float:
    """Σ edit_distance(pred line, true line) / Σ len(true line), over lines (one token list per line)."""
    _check_pairs(pred, truth)
    total = sum(len(t) for t in truth)
    if total == 0:
        raise InputError("the true lines hold no tokens: the symbol error rate needs at least one")
    return sum(edit_distance(p, t) for p, t in zip(pred, truth, strict=True)) / total


@dataclass(frozen=True)
class NoteScores:
    """Note-level agreement: matched notes out of predicted and true ones, and P, R, F1 from them."""

    matched: int
    predicted: int
    true: int
    precision: float
    recall: float
    f1: float


def note_scores(pred: Sequence[Sequence[str]], truth: Sequence[Sequence[str]]) -> NoteScores:
    """Per line, the note tokens (`note-…`, pitch and duration) of prediction and truth, other
    tokens ignored, are aligned as sequences: the matched notes are their longest common
    subsequence, so a note counts where it is equal and in order, whatever its position (an
    inserted or missed token elsewhere does not shift the rest). Summed over lines:
    P = matched / predicted, R = matched / true, F1 = 2PR / (P + R); each 0 where its denominator is.
    """
    _check_pairs(pred, truth)
    matched = predicted = true = 0
    for p, t in zip(pred, truth, strict=True):
        pn, tn = [s for s in p if s.startswith("note-")], [s for s in t if s.startswith("note-")]
        matched += _lcs(pn, tn)
        predicted += len(pn)
        true += len(tn)
    precision = matched / predicted if predicted else 0.0
    recall = matched / true if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return NoteScores(matched, predicted, true, precision, recall, f1)
